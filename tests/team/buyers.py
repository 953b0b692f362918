"""Helpers of the several-buyers tests (issue 17 §2): a plant of requisitions and PO lines, a
connector that records every push it is sent (to count sends), and a cache on either engine that
two "workstations" open with engines of their own."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from tests.fixtures_connector import MemoryConnector
from tests.foundation.plant import _v, tiny_plant
from workbench.cache.db import open_cache
from workbench.connect.port import Capability, PushRequest, PushResult
from workbench.services.sync import run_sync

#: the requisitions of the plant: REQ-01 .. REQ-12, 10 .. 120 bolts
REQUISITIONS = [f"REQ-{n:02d}" for n in range(1, 13)]


def plant() -> dict[str, list[dict[str, Any]]]:
    """The tiny plant with twelve open requisitions of bolts (REQ-nn: 10 * nn EA, needed
    2026-12-nn) and its PO line PO1/1."""
    data = tiny_plant()
    data["requisitions"] = [
        _v("1", code=code, item="BOLT", site="P1", quantity=10.0 * n,
           need_date=f"2026-12-{n:02d}", suggested_supplier="S1", source_key=code)
        for n, code in enumerate(REQUISITIONS, start=1)]
    return data


class RecordingConnector(MemoryConnector):
    """The memory plant that takes write-backs: every push is recorded (thread-safe) with
    the worker thread that sent it; ``pause`` seconds per push make sends overlap; the first
    push sets ``first_push`` (a test starts its second worker then)."""

    name: ClassVar[str] = "memory"
    capabilities: ClassVar[Capability] = (Capability.PULL | Capability.INCREMENTAL
                                          | Capability.PUSH)

    def __init__(self, data: dict[str, list[dict[str, Any]]], pause: float = 0.0) -> None:
        super().__init__(data, batch_size=100)
        self.pause = pause
        self.pushes: list[tuple[str, str]] = []  # (idempotency key, thread name)
        self.first_push = threading.Event()
        self._lock = threading.Lock()

    def push(self, request: PushRequest) -> PushResult:
        with self._lock:
            self.pushes.append((request.idempotency_key, threading.current_thread().name))
            n = len(self.pushes)
        self.first_push.set()
        time.sleep(self.pause)
        return PushResult(new_version=f"2.{n}")


@pytest.fixture(params=["sqlite", "postgresql"])
def team_cache(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Where the team cache is (a SQLite file, a PostgreSQL URL on the test server), loaded
    with :func:`plant` by the ordinary sync."""
    if request.param == "sqlite":
        where = str(tmp_path / "team.sqlite")
    else:
        where = str(request.getfixturevalue("pg_cache_url"))
    engine = open_cache(where)
    assert run_sync(engine, RecordingConnector(plant())).ok
    engine.dispose()
    yield where


def demo_team_file(tmp_path_factory: pytest.TempPathFactory, folder: str) -> Path:
    """A SQLite team cache holding the demo's load (its ledger beside it), made once per module
    by the offline-copy tests' fixtures and copied per test."""
    from workbench.services.sources import demo_connector

    path = tmp_path_factory.mktemp(folder) / "team.sqlite"
    engine = open_cache(path)
    assert run_sync(engine, demo_connector(cache=path)).ok
    engine.dispose()
    return path
