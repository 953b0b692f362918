"""The stored plan and the frame snapshot are keyed by the code that made them (review finding:
the key hashed six modules; a change in lots.py, consumption.py, rowmatrix.py ... or any module in
a frozen build, where no source ships, left the key alone and a stale plan was answered)."""

from __future__ import annotations

import importlib.machinery
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

from workbench.cache import code_digest, snapshot
from workbench.cache.db import open_cache
from workbench.services import plan_store, planning_data
from workbench.services.sources import demo_connector
from workbench.services.sync import run_sync


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("code-key") / "cache.sqlite"
    engine = open_cache(path)
    assert run_sync(engine, demo_connector(scale="small")).ok
    engine.dispose()
    return path


def _copy(template: Path, target: Path) -> None:
    src, dst = sqlite3.connect(template), sqlite3.connect(target)
    src.backup(dst)
    src.close()
    dst.close()


def _forget_digests() -> None:
    plan_store._code_digest.cache_clear()
    planning_data.frame_snapshot_layout.cache_clear()


@pytest.fixture
def fresh_digests() -> Any:
    _forget_digests()
    yield
    _forget_digests()


def _edited(monkeypatch: pytest.MonkeyPatch, suffix: str) -> None:
    """Every read of a source file ending with ``suffix`` gives one more line (as an edit)."""
    read = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        out = read(self)
        return out + b"\n# edited\n" if str(self).endswith(suffix) else out

    monkeypatch.setattr(Path, "read_bytes", read_bytes)


@pytest.mark.parametrize("module", ["analysis/lots.py", "analysis/rowmatrix.py",
                                    "analysis/consumption.py", "domain/enums.py"])
def test_a_plan_stored_by_other_planning_code_is_not_used(
        template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_digests: Any,
        module: str) -> None:
    path = tmp_path / "cache.sqlite"
    _copy(template, path)
    engine = open_cache(path)
    first = plan_store.open_planned_session(engine)
    assert first.how == "full"
    snapshot.wait_for_writes(60)
    engine.dispose()
    engine = open_cache(path)
    assert plan_store.open_planned_session(engine, store=False).how == "stored"  # same code
    engine.dispose()

    _edited(monkeypatch, "workbench/" + module)  # the next process runs edited code
    _forget_digests()
    engine = open_cache(path)
    again = plan_store.open_planned_session(engine, store=False)
    assert again.how == "full"
    snapshot.wait_for_writes(60)
    engine.dispose()


def test_the_frame_snapshot_layout_follows_the_domain_and_the_snapshot_code(
        monkeypatch: pytest.MonkeyPatch, fresh_digests: Any) -> None:
    before = planning_data.frame_snapshot_layout()
    for module in ("domain/enums.py", "cache/snapshot.py", "services/frame_patch.py"):
        with monkeypatch.context() as patch:
            _edited(patch, "workbench/" + module)
            _forget_digests()
            assert planning_data.frame_snapshot_layout() != before, module
    _forget_digests()
    assert planning_data.frame_snapshot_layout() == before


def test_in_a_frozen_build_the_compiled_code_and_the_build_stamp_key_the_plan(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_digests: Any) -> None:
    """No source ships in a PyInstaller build: every source read fails; the compiled code (the
    loader's code objects) and the bundle's build.txt (date, commit) decide."""
    read = Path.read_bytes

    def no_sources(self: Path) -> bytes:
        if self.suffix == ".py" and "workbench" in self.parts:
            raise FileNotFoundError(self)
        return read(self)

    monkeypatch.setattr(Path, "read_bytes", no_sources)
    (tmp_path / "resources").mkdir()
    build = tmp_path / "resources" / "build.txt"
    build.write_text("2026-12-06 commit 1111111 glibc 2.31\n")
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    first = plan_store._code_digest()

    build.write_text("2026-12-06 commit 2222222 glibc 2.31\n")  # another build, same version
    _forget_digests()
    second = plan_store._code_digest()
    assert second != first

    # the same build stamp, one module compiled from other code: another key too
    get_code = importlib.machinery.SourceFileLoader.get_code

    def edited_code(self: Any, name: str) -> Any:
        if name == "workbench.analysis.lots":
            return compile("EDITED = 1\n", "lots.py", "exec")
        return get_code(self, name)

    monkeypatch.setattr(importlib.machinery.SourceFileLoader, "get_code", edited_code)
    _forget_digests()
    assert plan_store._code_digest() != second
    monkeypatch.setattr(importlib.machinery.SourceFileLoader, "get_code", get_code)
    _forget_digests()
    assert plan_store._code_digest() == second  # compiled code fingerprinted the same each time


def test_every_module_of_the_planning_packages_is_hashed() -> None:
    names = {name for name, _ in code_digest.module_specs(*plan_store.PLANNING_CODE)}
    analysis = Path(plan_store.__file__).parents[1] / "analysis"
    for source in analysis.rglob("*.py"):
        parts = source.relative_to(analysis.parent).with_suffix("").parts
        name = ".".join(("workbench", *parts)).removesuffix(".__init__")
        assert name in names, name
    assert {"workbench.domain.enums", "workbench.analysis.exceptions.coverage",
            "workbench.services.planning_data"} <= names
