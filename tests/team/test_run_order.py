"""Sync runs commit in the order of their ids on PostgreSQL too (a team copy pulls "rows of runs
after the last run it saw": a run committing after a later one would be skipped for good)."""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import select

from workbench.cache import runs
from workbench.cache.db import open_cache
from workbench.cache.schema import sync_runs


def test_a_run_starting_while_another_writes_waits_and_commits_after_it(pg_cache_url: str) -> None:
    engine = open_cache(pg_cache_url)
    try:
        slow = engine.connect()
        writing = slow.begin()  # run A: a long sync, its transaction open
        run_a = runs.start_run(slow, "demo", "2026-01-01T00:00:00", "running")
        got: dict[str, Any] = {}

        def run_b() -> None:  # run B: a short run (an EDI import) started meanwhile
            with engine.begin() as conn:
                got["id"] = runs.start_run(conn, "edi", "2026-01-01T00:00:01", "running")
                got["at"] = time.monotonic()

        other = threading.Thread(target=run_b)
        other.start()
        other.join(0.8)
        assert other.is_alive() and "id" not in got  # B waits for A's transaction
        committed = time.monotonic()
        writing.commit()
        slow.close()
        other.join(10)
        assert not other.is_alive()
        assert got["id"] > run_a and got["at"] >= committed  # B's id after A's, B after A
        with engine.connect() as conn:
            ids = list(conn.execute(select(sync_runs.c.id).order_by(sync_runs.c.id)).scalars())
        assert ids == [run_a, got["id"]]
    finally:
        engine.dispose()
