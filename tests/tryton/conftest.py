"""A real trytond for the Tryton tests: initialised once per session, a fresh copy per test.

- ``tryton_template`` (session): creates the SQLite database with the modules activated (about a
  minute), seeds the test plant over JSON-RPC, and keeps the file as the template.
  Set ``PWB_TRYTON_TEMPLATE_DIR`` to a folder to keep the template between local runs (it is
  rebuilt when the seed code or the day changed).
- ``tryton_shared`` (session): one server on a copy, for tests that only read.
- ``tryton_fresh``: a server on a fresh copy of the seeded template, for tests that change data;
  stopped when the test ends, whatever happens. Starting trytond takes a few seconds, so the
  next fresh server is already being started in the background while a test runs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import itertools
import json
import os
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("trytond.modules.production", reason="needs the test extra (trytond modules)")

from planner_connectors.tryton import TrytonConnector
from planner_connectors.tryton.rpc import TrytonRPC

from tests.support.tryton import seed as seed_module
from tests.support.tryton.devserver import (
    ADMIN_PASSWORD,
    DATABASE,
    TrytonServer,
    checkpoint,
    init_database,
    server_on_copy,
)
from tests.support.tryton.seed import PlantSize, SeedResult, seed_plant

pytestmark = pytest.mark.tryton


@dataclasses.dataclass(frozen=True)
class Template:
    db_file: Path
    seed: SeedResult
    today: dt.date


def _fingerprint() -> str:
    here = Path(seed_module.__file__).parent
    code = b"".join(
        (here / name).read_bytes() for name in ("seed.py", "seed_stock.py", "plant_spec.py")
    )
    return hashlib.sha256(code + dt.date.today().isoformat().encode()).hexdigest()[:16]


def _build(folder: Path) -> Template:
    folder.mkdir(parents=True, exist_ok=True)
    init_database(folder)
    server = TrytonServer(folder)
    server.start()
    try:
        rpc = TrytonRPC(server.url, DATABASE, "admin", ADMIN_PASSWORD, timeout=300)
        try:
            result = seed_plant(rpc, PlantSize())
        finally:
            rpc.close()
    finally:
        server.stop()
    checkpoint(server.db_file)
    seeded = folder / "seeded.sqlite"
    shutil.copyfile(server.db_file, seeded)
    meta = {
        "fingerprint": _fingerprint(),
        "seed": dataclasses.asdict(result),
        "today": dt.date.today().isoformat(),
    }
    (folder / "seeded.json").write_text(json.dumps(meta), encoding="utf-8")
    return Template(seeded, result, dt.date.today())


def _reuse(folder: Path) -> Template | None:
    meta_file = folder / "seeded.json"
    if not meta_file.exists() or not (folder / "seeded.sqlite").exists():
        return None
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    if meta.get("fingerprint") != _fingerprint():
        return None
    return Template(
        folder / "seeded.sqlite", SeedResult(**meta["seed"]), dt.date.fromisoformat(meta["today"])
    )


@pytest.fixture(scope="session")
def tryton_template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    keep = os.environ.get("PWB_TRYTON_TEMPLATE_DIR")
    if keep:
        folder = Path(keep)
        found = _reuse(folder)
        if found:
            return found
        shutil.rmtree(folder, ignore_errors=True)
        return _build(folder)
    return _build(tmp_path_factory.mktemp("tryton-template"))


@pytest.fixture(scope="session")
def tryton_shared(
    tryton_template: Template, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TrytonServer]:
    server = server_on_copy(tryton_template.db_file, tmp_path_factory.mktemp("tryton-shared"))
    try:
        yield server
    finally:
        server.stop()


class _Spares:
    """Servers on fresh copies, one always starting in the background."""

    def __init__(self, template: Path, root: Path) -> None:
        self.template, self.root = template, root
        self.numbers = itertools.count(1)
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="tryton-spare")
        self.spare: Future[TrytonServer] | None = None

    def _start(self) -> TrytonServer:
        return server_on_copy(self.template, self.root / f"fresh{next(self.numbers)}")

    def take(self) -> TrytonServer:
        spare = self.spare or self.pool.submit(self._start)
        self.spare = self.pool.submit(self._start)
        return spare.result()

    def close(self) -> None:
        if self.spare is not None:
            try:
                self.spare.result().stop()
            except Exception:  # noqa: BLE001 - a spare that failed to start has nothing to stop
                pass
        self.pool.shutdown()


@pytest.fixture(scope="session")
def _spares(
    tryton_template: Template, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[_Spares]:
    spares = _Spares(tryton_template.db_file, tmp_path_factory.mktemp("tryton-fresh"))
    try:
        yield spares
    finally:
        spares.close()


@pytest.fixture
def tryton_fresh(_spares: _Spares) -> Iterator[TrytonServer]:
    server = _spares.take()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def seeded(tryton_template: Template) -> SeedResult:
    return tryton_template.seed


@pytest.fixture
def make_connector() -> Iterator[Callable[..., TrytonConnector]]:
    """Build connectors on a server; all are closed after the test."""
    made: list[TrytonConnector] = []

    def make(server: TrytonServer, **kw: Any) -> TrytonConnector:
        kw.setdefault("password", ADMIN_PASSWORD)
        connector = TrytonConnector(server.url, DATABASE, "admin", **kw)
        made.append(connector)
        return connector

    yield make
    for c in made:
        c.close()


@pytest.fixture
def admin_rpc() -> Iterator[Callable[[TrytonServer], TrytonRPC]]:
    """A second, independent Tryton session: "another user" changing data, or a neutral reader."""
    made: list[TrytonRPC] = []

    def make(server: TrytonServer) -> TrytonRPC:
        rpc = TrytonRPC(server.url, DATABASE, "admin", ADMIN_PASSWORD)
        made.append(rpc)
        return rpc

    yield make
    for r in made:
        r.close()


@pytest.fixture
def cache(tmp_path: Path):  # type: ignore[no-untyped-def]
    from workbench.cache.db import open_cache

    engine = open_cache(tmp_path / "cache.sqlite")
    yield engine
    engine.dispose()
