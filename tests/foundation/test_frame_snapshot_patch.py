"""A sync brings the frame snapshot up to date with the rows it wrote (issue 16 §1), and a snapshot
is never used for a state it does not reflect: failed or cancelled syncs, a crash between the
cache's commit and the snapshot's write, a write after the sync. Real caches, real syncs."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine

from tests.fixtures_connector import MemoryConnector
from tests.foundation.plant import tiny_plant
from tests.foundation.test_frame_snapshot import WANTED, _assert_same_frames, _copy
from workbench.analysis.calendar import Calendar
from workbench.analysis.data import PlanningData
from workbench.analysis.session import PlanningSession
from workbench.cache import snapshot, snapshot_patch
from workbench.cache.db import open_cache
from workbench.domain.enums import SyncRunStatus
from workbench.services import frame_patch, planning
from workbench.services.sources import demo_connector
from workbench.services.sync import run_sync


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("patch-demo") / "cache.sqlite"
    engine = open_cache(path)
    result = run_sync(engine, demo_connector(scale="small"))
    assert result.status == SyncRunStatus.SUCCEEDED, result.error
    engine.dispose()
    return path


@pytest.fixture
def demo(demo_template: Path, tmp_path: Path) -> Iterator[Engine]:
    engine = open_cache(_copy(demo_template, tmp_path / "cache.sqlite"))
    yield engine
    snapshot.wait_for_writes(60)
    engine.dispose()


@pytest.fixture
def tiny(tmp_path: Path) -> Iterator[Engine]:
    engine = open_cache(tmp_path / "tiny.sqlite")
    assert run_sync(engine, MemoryConnector(tiny_plant())).ok
    yield engine
    snapshot.wait_for_writes(60)
    engine.dispose()


def _path(engine: Engine) -> Path:
    path = snapshot.snapshot_path(engine)
    assert path is not None
    return path


def _snapshot_now(engine: Engine) -> int:
    """A snapshot of the current state (through a planning load); its stamp."""
    _path(engine).unlink(missing_ok=True)
    planning.read_planning_frames(engine, WANTED)
    assert snapshot.wait_for_writes(60)
    stamp = snapshot.snapshot_stamp(_path(engine))
    assert stamp is not None and stamp == snapshot.read_stamp(engine)
    return stamp


def _saved(engine: Engine) -> snapshot.Snapshot | None:
    stamp = snapshot.read_stamp(engine)
    assert stamp is not None
    return snapshot.read_snapshot(_path(engine), stamp, planning.frame_snapshot_layout(),
                                  rowids=True)


def _assert_patched_equals_sqlite(engine: Engine) -> snapshot.Snapshot:
    """The snapshot on disk is the cache's current state, frame by frame, and so are its rowids."""
    saved = _saved(engine)
    assert saved is not None, "the snapshot was not brought up to date"
    fresh, _ = planning.read_planning_frames(engine, WANTED, snapshot=False)
    _assert_same_frames(saved.frames, fresh)
    con = sqlite3.connect(engine.url.database or "")
    for entity in WANTED:
        ids = [r[0] for r in con.execute(
            f"SELECT rowid FROM {entity} WHERE deleted_at IS NULL ORDER BY rowid")]
        assert saved.rowids[entity].tolist() == ids, entity
    con.close()
    return saved


# --- the patch itself, by hand ------------------------------------------------------------------

def test_patch_frame_replaces_touched_rows_in_rowid_order() -> None:
    frame = pd.DataFrame({"key": ["a", "b", "c", "e"], "qty": [1.0, 2.0, 3.0, 5.0]})
    rowids = np.array([1, 2, 3, 5], dtype=np.int64)
    # the write touched rowids 2 (updated), 5 (marked deleted) and 7 (inserted); "c" was deleted
    # and inserted again under rowid 8 (the promise-history trigger does that)
    written = np.array([2, 5, 7, 8], dtype=np.int64)
    rows = pd.DataFrame({"key": ["b", "g", "c"], "qty": [20.0, 7.0, 30.0]})
    out, ids = snapshot_patch.patch_frame(frame, rowids, written, rows, np.array([2, 7, 8]), ("key",))
    expected = pd.DataFrame({"key": ["a", "b", "g", "c"], "qty": [1.0, 20.0, 7.0, 30.0]})
    pd.testing.assert_frame_equal(out, expected)
    assert ids.tolist() == [1, 2, 7, 8]
    # nothing live touched: the frame comes back as it was
    same, same_ids = snapshot_patch.patch_frame(frame, rowids, np.array([9]), rows.iloc[:0],
                                          np.zeros(0, np.int64), ("key",))
    assert same is frame and same_ids is rowids


# --- syncs that change rows: patched, equal to SQLite -------------------------------------------

def test_a_sync_updating_inserting_and_deleting_rows_patches_the_snapshot(tiny: Engine) -> None:
    plant = tiny_plant()
    before = _snapshot_now(tiny)
    bolt = dict(next(r for r in plant["items"] if r["code"] == "BOLT"), safety_stock=77.0,
                source_version="2")
    nut = dict(bolt, code="NUT", description="a new item")
    result = run_sync(tiny, MemoryConnector({"items": [bolt, nut]}))
    assert result.counts["items"]["changed"] == 2
    saved = _assert_patched_equals_sqlite(tiny)
    assert saved.stamp != before
    items = saved.frames["items"].set_index("code")
    assert items.loc["BOLT", "safety_stock"] == 77.0 and "NUT" in items.index


def test_a_row_deleted_and_sent_again_comes_back_at_its_place(tiny: Engine) -> None:
    """A revived row keeps its rowid: in the middle of the frame, as a full read orders it."""
    first = tiny_plant()["items"][0]
    assert run_sync(tiny, _Deleting("items", [(first["code"],)])).ok
    _snapshot_now(tiny)
    again = dict(first, source_version="3")
    assert run_sync(tiny, MemoryConnector({"items": [again]})).counts["items"]["changed"] == 1
    saved = _assert_patched_equals_sqlite(tiny)
    assert saved.frames["items"]["code"].iloc[0] == first["code"]


def test_a_promise_observed_twice_the_same_day_patches_its_history(tiny: Engine) -> None:
    """The history trigger deletes the day's observation and inserts it again (new rowid)."""
    import datetime as dt

    line = dict(tiny_plant()["purchase_order_lines"][0])
    day = dt.datetime(2026, 12, 1, 8, 0)
    line.update(promised_date="2026-12-20", source_version="2")
    assert run_sync(tiny, MemoryConnector({"purchase_order_lines": [line]}), now=day).ok
    _snapshot_now(tiny)
    line.update(promised_date="2026-12-27", source_version="3")
    assert run_sync(tiny, MemoryConnector({"purchase_order_lines": [line]}), now=day).ok
    saved = _assert_patched_equals_sqlite(tiny)
    history = saved.frames["promise_changes"]
    today = history[history["changed_at"] == pd.Timestamp(day)]
    assert today["promised_date"].tolist() == [pd.Timestamp("2026-12-27")]


def test_the_demo_a_week_later_plans_the_same_through_the_patched_snapshot(demo: Engine) -> None:
    _snapshot_now(demo)
    result = run_sync(demo, demo_connector(scale="small", day=7))
    assert result.status == SyncRunStatus.SUCCEEDED, result.error
    assert result.total("changed") > 0
    _assert_patched_equals_sqlite(demo)
    via_patch = planning.load_planning_data(demo)
    frames, _ = planning.read_planning_frames(demo, WANTED, snapshot=False)
    via_sqlite = PlanningData(**frames)
    planning.prepare_planning_data(via_sqlite)
    day = planning.planning_day(via_sqlite)
    cal = Calendar.parse(day, "26w", "week")
    a = planning.shortages(PlanningSession(via_patch, cal), risk_adjusted=True).to_json()
    b = planning.shortages(PlanningSession(via_sqlite, cal), risk_adjusted=True).to_json()
    assert a["rows_total"] > 0
    assert a["rows"] == b["rows"] and a["differences"] == b["differences"]


# --- never advanced for a state it does not reflect ---------------------------------------------

class _Deleting(MemoryConnector):
    def __init__(self, entity: str, keys: list[tuple[Any, ...]]) -> None:
        super().__init__({entity: []})
        self.keys = keys

    def pull(self, entity: str, since: str | None) -> Iterator[Any]:
        from workbench.connect.port import Batch

        yield Batch(entity, [], deleted_keys=self.keys)


def test_a_failed_sync_leaves_the_snapshot_where_it_was(tiny: Engine) -> None:
    stamp = _snapshot_now(tiny)
    good = dict(tiny_plant()["items"][0], safety_stock=5.0, source_version="2")
    connector = MemoryConnector({"items": [good], "bom_lines": []})
    connector.fail_on = "items"  # after the item's row went into the transaction
    result = run_sync(tiny, connector)
    assert result.status == SyncRunStatus.FAILED
    assert snapshot.read_stamp(tiny) == stamp == snapshot.snapshot_stamp(_path(tiny))
    _assert_patched_equals_sqlite(tiny)  # still the (unchanged) state


def test_a_sync_with_rejected_rows_leaves_the_snapshot_where_it_was(tiny: Engine) -> None:
    stamp = _snapshot_now(tiny)
    bad = dict(tiny_plant()["bom_lines"][0], component="NO-SUCH-ITEM", source_version="2")
    ok = dict(tiny_plant()["items"][0], safety_stock=9.0, source_version="2")
    result = run_sync(tiny, MemoryConnector({"items": [ok], "bom_lines": [bad]}))
    assert result.status == SyncRunStatus.FAILED and result.rejected
    assert snapshot.read_stamp(tiny) == stamp == snapshot.snapshot_stamp(_path(tiny))
    _assert_patched_equals_sqlite(tiny)


def test_a_crash_between_commit_and_snapshot_write_never_leaves_a_stale_snapshot_used(
        tiny: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    old = _snapshot_now(tiny)

    def crash(*args: Any, **kwargs: Any) -> int:
        raise OSError("the process died before the rename")

    monkeypatch.setattr(snapshot_patch, "rewrite_snapshot", crash)
    changed = dict(tiny_plant()["items"][0], safety_stock=11.0, source_version="2")
    result = run_sync(tiny, MemoryConnector({"items": [changed]}))
    assert result.status == SyncRunStatus.SUCCEEDED  # the cache committed
    new = snapshot.read_stamp(tiny)
    assert new != old and snapshot.snapshot_stamp(_path(tiny)) == old
    assert _saved(tiny) is None  # the old snapshot never loads for the new state
    loaded, _ = planning.read_planning_frames(tiny, WANTED)
    assert loaded["items"].set_index("code").loc[changed["code"], "safety_stock"] == 11.0


def test_a_process_killed_right_after_the_commit_leaves_the_snapshot_unused(
        tiny: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    old = _snapshot_now(tiny)
    monkeypatch.setattr(frame_patch, "patch_after_sync",
                        lambda *a, **k: frame_patch.PatchResult(False, "killed"))
    changed = dict(tiny_plant()["items"][0], safety_stock=12.0, source_version="2")
    assert run_sync(tiny, MemoryConnector({"items": [changed]})).ok
    assert snapshot.snapshot_stamp(_path(tiny)) == old != snapshot.read_stamp(tiny)
    assert _saved(tiny) is None


def test_a_write_after_the_sync_stops_the_patch(tiny: Engine,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The patch reads the run's rows only while the cache still shows the sync's stamp."""
    _snapshot_now(tiny)
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(frame_patch, "patch_after_sync", lambda *a: calls.append(a[:4]))
    changed = dict(tiny_plant()["items"][0], safety_stock=13.0, source_version="2")
    assert run_sync(tiny, MemoryConnector({"items": [changed]})).ok
    (engine, run_id, before, after), = calls
    assert snapshot.read_stamp(tiny) == after
    con = sqlite3.connect(tiny.url.database or "")
    con.execute("UPDATE inventory SET quantity = quantity + 1")  # e.g. the sqlite3 shell
    con.commit()
    con.close()
    monkeypatch.undo()
    result = frame_patch.patch_after_sync(engine, run_id, before, after)
    assert not result.patched and "written again" in result.reason
    assert _saved(tiny) is None


def test_a_sync_of_a_cache_whose_snapshot_was_stale_does_not_patch_it(tiny: Engine) -> None:
    old = _snapshot_now(tiny)
    con = sqlite3.connect(tiny.url.database or "")
    con.execute("UPDATE inventory SET quantity = quantity + 1")
    con.commit()
    con.close()
    changed = dict(tiny_plant()["items"][0], safety_stock=14.0, source_version="2")
    assert run_sync(tiny, MemoryConnector({"items": [changed]})).ok
    assert snapshot.snapshot_stamp(_path(tiny)) == old  # not patched from a wrong base
    assert _saved(tiny) is None


def test_every_trigger_writing_a_planning_table_is_known_to_the_patch(tiny: Engine) -> None:
    """The patch searches only the tables a run counted as written and those their triggers
    write: a new trigger writing a planning table must be listed, or its rows would be missed."""
    import re

    from workbench.analysis.data import PLANNING_ENTITIES

    con = sqlite3.connect(tiny.url.database or "")
    triggers = con.execute("SELECT name, tbl_name, sql FROM sqlite_master "
                           "WHERE type = 'trigger'").fetchall()
    con.close()
    found: dict[str, set[str]] = {}
    for _name, table, sql in triggers:
        body = sql[sql.upper().index("BEGIN"):]
        for target in re.findall(r"(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(\w+)", body, re.I):
            if target in PLANNING_ENTITIES and target != table:
                found.setdefault(table, set()).add(target)
    assert found == {k: set(v) for k, v in frame_patch.WRITTEN_BY_TRIGGERS.items()}
    assert len(triggers) > 30  # the stamp triggers of every entity table were read too
