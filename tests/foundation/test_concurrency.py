"""Readers and writers of one cache in real processes: a long write (a sync, the GUI's writer)
holds the write lock while each read command runs; the reads answer at once from the last
committed state, a writer waits with a visible message and fails with one line naming the
holder; a planning load reads one state, never half of a sync."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures_connector import MemoryConnector
from tests.foundation.clirun import REPO, cli
from tests.foundation.plant import tiny_plant
from workbench.analysis.data import PLANNING_ENTITIES
from workbench.cache import snapshot
from workbench.cache.db import open_cache
from workbench.services import planning
from workbench.services.sources import demo_connector
from workbench.services.sync import run_sync

#: a writer that changes what every read command shows, then holds its transaction open until
#: told to commit: a sync in the middle of its one transaction, as far as other processes see
HOLDER = """
import sys
from workbench.cache import db
db.activity = "a sync"
engine = db.open_cache(sys.argv[1])
with engine.begin() as conn:
    conn.exec_driver_sql("UPDATE requisitions SET deleted_at = '2026-11-02T00:00:00' "
                         "WHERE deleted_at IS NULL")
    conn.exec_driver_sql("UPDATE items SET safety_stock = safety_stock + 1000")
    conn.exec_driver_sql("DELETE FROM inventory")
    print("holding", flush=True)
    sys.stdin.readline()
print("committed", flush=True)
"""

READS = (("status", "--json"), ("shortages", "--json"), ("decisions", "--json"),
         ("outbox", "--json"), ("outbox", "--audit", "--json"))


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    path = tmp_path / "cache.sqlite"
    engine = open_cache(path)
    assert run_sync(engine, demo_connector(scale="small", cache=path)).ok
    engine.dispose()
    return path


@pytest.fixture
def holder(demo: Path) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(demo)], cwd=REPO, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.readline() == "holding\n"
    yield proc
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def _release(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("commit\n")
    proc.stdin.close()
    assert proc.stdout.readline() == "committed\n"
    assert proc.wait(timeout=30) == 0


def _requisitions(status_json: str) -> int:
    return sum(json.loads(status_json)["entities"]["requisitions"].values())


def test_read_commands_answer_from_the_last_committed_state_while_a_sync_writes(
        demo: Path, holder: subprocess.Popen[str]) -> None:
    """Before: every read began with BEGIN IMMEDIATE, so each waited 10 s for the lock and then
    died with a 60-line 'database is locked' traceback."""
    before = {" ".join(args): cli(*args, "--cache", demo).stdout for args in READS}
    assert _requisitions(before["status --json"]) == 40
    for args in READS:
        started = time.monotonic()
        run = cli(*args, "--cache", demo, env={"PLANNER_WORKBENCH_BUSY_WAIT_S": "60"})
        took = time.monotonic() - started
        assert run.returncode == 0 and run.stderr == "", (args, run.stderr)
        assert run.stdout == before[" ".join(args)], args  # the committed state, not the sync's
        assert took < 30, (args, took)  # never the writer's 60 s: no wait at all
    _release(holder)
    after = cli("status", "--json", "--cache", demo)
    assert _requisitions(after.stdout) == 0  # the sync's state, once committed
    shortages = cli("shortages", "--json", "--cache", demo)
    assert shortages.returncode == 0 and shortages.stdout != before["shortages --json"]


def test_a_writer_waits_visibly_then_fails_in_one_line_naming_the_holder(
        demo: Path, holder: subprocess.Popen[str]) -> None:
    run = cli("reevaluate", "--cache", demo, env={"PLANNER_WORKBENCH_BUSY_WAIT_S": "2"})
    assert run.returncode == 3 and "Traceback" not in run.stderr, run.stderr
    waiting, failed = run.stderr.strip().splitlines()
    assert waiting.startswith(
        f"waiting up to 2 s for the cache: a sync by PID {holder.pid} since "), waiting
    assert failed.startswith(
        f"workbench reevaluate: the cache is busy: a sync by PID {holder.pid} since "), failed
    assert failed.endswith("; try again when it has finished")
    _release(holder)
    assert cli("reevaluate", "--cache", demo).returncode == 0  # the lock is free again


def test_a_writer_that_gets_the_lock_while_waiting_goes_on(
        demo: Path, holder: subprocess.Popen[str]) -> None:
    waiting = subprocess.Popen(
        [sys.executable, str(REPO / "main.py"), "reevaluate", "--json", "--cache", str(demo)],
        cwd=REPO, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "PLANNER_WORKBENCH_BUSY_WAIT_S": "60"})
    assert waiting.stderr is not None
    line = waiting.stderr.readline()
    assert line.startswith(f"waiting up to 60 s for the cache: a sync by PID {holder.pid}")
    _release(holder)
    out, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, err
    result = json.loads(out)
    assert result["stored"] == len(result["recommendations"]) > 0


def test_a_busy_cache_is_never_migrated_under_a_reader(demo: Path) -> None:
    """Opening a current cache starts no write transaction: with another process holding the
    write lock, opening and reading take no wait at all."""
    sync = sqlite3.connect(demo, timeout=0)
    sync.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        line = cli("status", "--cache", demo, env={"PLANNER_WORKBENCH_BUSY_WAIT_S": "60"})
        assert line.returncode == 0, line.stderr
        assert time.monotonic() - started < 30
    finally:
        sync.rollback()
        sync.close()


# --- one planning load, one state ------------------------------------------------------------

@pytest.fixture
def tiny(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "tiny.sqlite"
    engine = open_cache(path)
    assert run_sync(engine, MemoryConnector(tiny_plant())).ok
    engine.dispose()
    yield path


def test_a_planning_load_never_reads_half_of_a_sync(tiny: Path) -> None:
    """A sync commits items and inventory together while the load has read items but not yet
    inventory: the load shows neither change (before: the old items with the new inventory, a
    state the cache never held)."""
    engine = open_cache(tiny)
    snapshot.snapshot_path(engine).unlink(missing_ok=True)  # type: ignore[union-attr]

    class SyncMidway:
        def set_progress(self, done: int, total: int) -> None: ...
        def is_cancelled(self) -> bool: return False

        def set_status(self, status: str) -> None:
            if status == "reading inventory":  # items and BOM already read
                con = sqlite3.connect(tiny)
                con.execute("UPDATE items SET safety_stock = 77 WHERE code = 'BOLT'")
                con.execute("UPDATE inventory SET quantity = 99 WHERE item = 'BOLT'")
                con.commit()
                con.close()

    frames, _ = planning.read_planning_frames(engine, list(PLANNING_ENTITIES), SyncMidway())
    items = frames["items"].set_index("code")
    inventory = frames["inventory"].set_index("item")
    assert items.loc["BOLT", "safety_stock"] != 77
    assert inventory.loc["BOLT", "quantity"] != 99 * 1.0
    fresh, _ = planning.read_planning_frames(engine, list(PLANNING_ENTITIES), snapshot=False)
    assert fresh["items"].set_index("code").loc["BOLT", "safety_stock"] == 77
    assert snapshot.wait_for_writes(60)
    engine.dispose()
