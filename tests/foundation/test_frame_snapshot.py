"""The planning frame snapshot beside the cache: same frames as SQLite, never stale, never trusted
when damaged. Real caches (the small demo, the tiny plant), real syncs, real files."""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from planner_connectors.files import FilesConnector
from sqlalchemy import Engine, text

from tests.fixtures_connector import MemoryConnector
from tests.foundation.plant import tiny_plant
from workbench.analysis.data import CODE_COLUMNS, PLANNING_ENTITIES, column_codes
from workbench.cache import snapshot
from workbench.cache.db import open_cache
from workbench.cache.schema import ENTITY_TABLES
from workbench.connect.port import Batch
from workbench.domain.enums import SyncRunStatus
from workbench.services import planning
from workbench.services.packages import export_package
from workbench.services.sources import demo_connector
from workbench.services.sync import run_sync

WANTED = list(PLANNING_ENTITIES)


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("snap-demo") / "cache.sqlite"
    engine = open_cache(path)
    result = run_sync(engine, demo_connector(scale="small"))
    assert result.status == SyncRunStatus.SUCCEEDED, result.error
    engine.dispose()
    return path


def _copy(template: Path, target: Path) -> Path:
    src, dst = sqlite3.connect(template), sqlite3.connect(target)
    src.backup(dst)  # a consistent copy, WAL included
    src.close()
    dst.close()
    return target


@pytest.fixture
def demo(demo_template: Path, tmp_path: Path) -> Iterator[Engine]:
    engine = open_cache(_copy(demo_template, tmp_path / "cache.sqlite"))
    yield engine
    snapshot.wait_for_writes(60)
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def tiny(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """The tiny plant synced into a cache on each engine (a PostgreSQL cache keeps its snapshot
    in its local folder under the user data dir)."""
    engine = open_cache(request.getfixturevalue("pg_cache_url") if request.param == "postgresql"
                        else tmp_path / "tiny.sqlite")
    assert run_sync(engine, MemoryConnector(tiny_plant())).ok
    yield engine
    snapshot.wait_for_writes(60)
    engine.dispose()


def _outside(engine: Engine) -> Any:
    """A DB-API connection to the cache that is not the application's (a shell, another
    process): sqlite3 on the file, psycopg on the database."""
    if engine.dialect.name == "postgresql":
        import psycopg

        return psycopg.connect(engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False))
    return sqlite3.connect(engine.url.database or "")


def _path(engine: Engine) -> Path:
    path = snapshot.snapshot_path(engine)
    assert path is not None
    return path


def _snapshotted(engine: Engine) -> dict[str, pd.DataFrame]:
    """Load once through the service (from SQLite, writing the snapshot), wait for the write,
    and return the frames SQLite gave."""
    _path(engine).unlink(missing_ok=True)
    frames, _ = planning.read_planning_frames(engine, WANTED)
    assert snapshot.wait_for_writes(60)
    assert _path(engine).exists()
    return frames


def _from_snapshot(engine: Engine) -> snapshot.Snapshot | None:
    stamp = snapshot.read_stamp(engine)
    assert stamp is not None
    return snapshot.read_snapshot(_path(engine), stamp, planning.frame_snapshot_layout())


def _assert_same_frames(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    assert list(a) == list(b)
    for entity in a:
        assert list(a[entity].columns) == list(b[entity].columns), entity
        assert a[entity].dtypes.to_dict() == b[entity].dtypes.to_dict(), entity
        pd.testing.assert_frame_equal(a[entity], b[entity], check_exact=True)


def _assert_loads_current_state(engine: Engine) -> dict[str, pd.DataFrame]:
    """The service's load (whatever path it takes) equals a fresh read of SQLite."""
    loaded, _ = planning.read_planning_frames(engine, WANTED)
    fresh, _ = planning.read_planning_frames(engine, WANTED, snapshot=False)
    _assert_same_frames(loaded, fresh)
    return loaded


# --- same frames --------------------------------------------------------------------------------

def test_the_snapshot_gives_every_frame_of_the_sqlite_load(
        demo: Engine, caplog: pytest.LogCaptureFixture) -> None:
    from_sqlite = _snapshotted(demo)
    saved = _from_snapshot(demo)
    assert saved is not None
    _assert_same_frames(saved.frames, from_sqlite)
    assert sum(len(f) for f in from_sqlite.values()) > 3000  # the small demo, not an empty cache
    # and the service takes that path now: no SQLite read is reported
    caplog.set_level(logging.DEBUG, logger="workbench.cache.snapshot")
    statuses: list[str] = []

    class State:
        def set_progress(self, done: int, total: int) -> None: ...
        def set_status(self, status: str) -> None: statuses.append(status)
        def is_cancelled(self) -> bool: return False

    loaded, _ = planning.read_planning_frames(demo, WANTED, State())
    assert statuses == ["reading the planning frame snapshot"]
    _assert_same_frames(loaded, from_sqlite)


def test_planning_data_and_answers_are_the_same_through_the_snapshot(demo: Engine) -> None:
    _path(demo).unlink(missing_ok=True)
    via_sqlite = planning.load_planning_data(demo)
    assert snapshot.wait_for_writes(60)
    assert _path(demo).exists()
    via_snapshot = planning.load_planning_data(demo)
    for entity, column in CODE_COLUMNS:  # the item numbering seeded from either load
        ids_a, codes_a = column_codes(via_sqlite, entity, column)
        ids_b, codes_b = column_codes(via_snapshot, entity, column)
        assert np.array_equal(ids_a, ids_b), (entity, column)
        assert list(codes_a) == list(codes_b), (entity, column)
    session_a = planning.open_session(demo)  # from the snapshot too: compare with SQLite's data
    day = planning.planning_day(via_sqlite)
    assert session_a.today == day
    from workbench.analysis.calendar import Calendar
    from workbench.analysis.session import PlanningSession

    session_b = PlanningSession(via_sqlite, Calendar.parse(day, "26w", "week"))
    a = planning.shortages(session_a, risk_adjusted=True).to_json()
    b = planning.shortages(session_b, risk_adjusted=True).to_json()
    assert a["rows_total"] > 0
    assert a["rows"] == b["rows"] and a["differences"] == b["differences"]


def test_text_with_the_separator_non_ascii_and_empty_frames_round_trip(tiny: Engine) -> None:
    with tiny.begin() as con:
        con.execute(text("UPDATE items SET description = 'left\x1fright' WHERE code = 'BIKE'"))
        con.execute(text("UPDATE items SET description = 'Schraube Ø8 — long and longer than "
                         "32 characters' WHERE code = 'BOLT'"))
        con.execute(text("UPDATE items SET planner = NULL"))
    from_sqlite = _snapshotted(tiny)
    assert len(from_sqlite["requisitions"]) == 0  # an empty frame round trips too
    saved = _from_snapshot(tiny)
    assert saved is not None
    _assert_same_frames(saved.frames, from_sqlite)
    items = saved.frames["items"].set_index("code")
    assert items.loc["BIKE", "description"] == "left\x1fright"
    assert items.loc["BOLT", "description"].startswith("Schraube Ø8 —")


# --- never stale: every writer of the entity tables moves the stamp ------------------------------

def _changed_after(engine: Engine, write: Any, *, patched: bool = True) -> dict[str, pd.DataFrame]:
    """Snapshot, write, and check the stamp moved and the next load is the new state.

    ``patched``: the write was a sync, which brings the snapshot up to date with the rows it
    wrote (workbench/services/frame_patch.py): the snapshot then carries the new stamp and
    equals a fresh read of SQLite frame by frame. Any other write leaves the old snapshot,
    which no longer loads."""
    _snapshotted(engine)
    before = snapshot.read_stamp(engine)
    write()
    after = snapshot.read_stamp(engine)
    assert after != before
    saved = _from_snapshot(engine)
    if patched:
        assert saved is not None and saved.stamp == after
        fresh, _ = planning.read_planning_frames(engine, WANTED, snapshot=False)
        _assert_same_frames(saved.frames, fresh)
    else:
        assert saved is None  # the old snapshot is stale now
    return _assert_loads_current_state(engine)


def test_a_sync_that_changes_one_row_invalidates_the_snapshot(tiny: Engine) -> None:
    plant = tiny_plant()
    bolt = next(r for r in plant["items"] if r["code"] == "BOLT")
    bolt.update(safety_stock=123.0, source_version="2")

    def sync() -> None:
        result = run_sync(tiny, MemoryConnector({"items": [bolt]}))
        assert result.counts["items"]["changed"] == 1

    frames = _changed_after(tiny, sync)
    assert frames["items"].set_index("code").loc["BOLT", "safety_stock"] == 123.0


def test_a_sync_that_changes_nothing_keeps_the_snapshot(tiny: Engine) -> None:
    _snapshotted(tiny)
    before = snapshot.read_stamp(tiny)
    result = run_sync(tiny, MemoryConnector(tiny_plant()))
    assert result.ok and all(c["changed"] == 0 for c in result.counts.values())
    assert snapshot.read_stamp(tiny) == before
    assert _from_snapshot(tiny) is not None


class _Deleting(MemoryConnector):
    """A source reporting that it no longer has some keys."""

    def __init__(self, entity: str, keys: list[tuple[Any, ...]]) -> None:
        super().__init__({entity: []})
        self.keys = keys

    def pull(self, entity: str, since: str | None) -> Iterator[Batch]:
        yield Batch(entity, [], deleted_keys=self.keys)


class _Complete(MemoryConnector):
    """A source sending its complete set (keys it does not send are deletions)."""

    def pull(self, entity: str, since: str | None) -> Iterator[Batch]:
        yield Batch(entity, self.data[entity], complete=True)


def test_deletions_a_source_reports_invalidate_the_snapshot(tiny: Engine) -> None:
    def sync() -> None:
        result = run_sync(tiny, _Deleting("purchase_order_lines", [("PO1", 1)]))
        assert result.counts["purchase_order_lines"]["deleted"] == 1

    assert len(_snapshotted(tiny)["purchase_order_lines"]) == 1
    frames = _changed_after(tiny, sync)
    assert len(frames["purchase_order_lines"]) == 0


def test_rows_missing_from_a_complete_set_invalidate_the_snapshot(tiny: Engine) -> None:
    kept = [r for r in tiny_plant()["bom_lines"] if r["component"] != "PAINT"]

    def sync() -> None:
        result = run_sync(tiny, _Complete({"bom_lines": kept}))
        assert result.counts["bom_lines"]["deleted"] == 1

    frames = _changed_after(tiny, sync)
    assert "PAINT" not in set(frames["bom_lines"]["component"])


def test_a_promise_moved_by_a_sync_and_its_history_invalidate_the_snapshot(tiny: Engine) -> None:
    line = dict(tiny_plant()["purchase_order_lines"][0])
    line.update(promised_date="2026-12-24", source_version="2")

    def sync() -> None:
        assert run_sync(tiny, MemoryConnector({"purchase_order_lines": [line]})).ok

    frames = _changed_after(tiny, sync)
    promised = frames["purchase_order_lines"]["promised_date"]
    assert pd.Timestamp("2026-12-24") in set(promised)
    assert pd.Timestamp("2026-12-24") in set(frames["promise_changes"]["promised_date"])


def test_a_package_import_invalidates_the_snapshot(tiny: Engine, tmp_path: Path) -> None:
    export_package(tiny, tmp_path / "pkg")
    items = tmp_path / "pkg" / "items.csv"
    items.write_text(items.read_text().replace("Bike,", "Bicycle,"))

    def sync() -> None:
        result = run_sync(tiny, FilesConnector(tmp_path / "pkg"))
        assert result.status == SyncRunStatus.SUCCEEDED, result.error
        assert result.counts["items"]["changed"] == 1

    frames = _changed_after(tiny, sync)
    assert frames["items"].set_index("code").loc["BIKE", "description"] == "Bicycle"


def test_the_demo_a_week_later_invalidates_the_snapshot(demo: Engine) -> None:
    def sync() -> None:
        result = run_sync(demo, demo_connector(scale="small", day=7))
        assert result.status == SyncRunStatus.SUCCEEDED, result.error

    day0 = _snapshotted(demo)
    frames = _changed_after(demo, sync)
    assert not frames["purchase_order_lines"].equals(day0["purchase_order_lines"])


def test_a_hand_edit_of_the_cache_invalidates_the_snapshot(tiny: Engine) -> None:
    _changed_after(tiny, lambda: _hand_edit(tiny), patched=False)  # e.g. the sqlite3 shell


def _hand_edit(engine: Engine) -> int | None:
    con = _outside(engine)
    con.execute("UPDATE inventory SET quantity = quantity + 1")
    con.commit()
    con.close()
    return snapshot.read_stamp(engine)


def test_a_sync_that_adds_a_row_invalidates_the_snapshot(tiny: Engine) -> None:
    plant = tiny_plant()
    new = dict(next(r for r in plant["items"] if r["code"] == "BOLT"), code="NUT",
               description="a new item", source_version="2")

    def sync() -> None:
        result = run_sync(tiny, MemoryConnector({"items": [new]}))
        assert result.counts["items"]["changed"] == 1

    frames = _changed_after(tiny, sync)
    assert "NUT" in set(frames["items"]["code"])


def test_a_new_stamp_is_drawn_once_after_each_observation(tiny: Engine) -> None:
    """Drawing at every row written cost a full sync of the large demo 90 s: after an
    observation the first write draws a new stamp, later ones only read the flag."""
    seen = snapshot.observe_stamp(tiny)
    first = _hand_edit(tiny)
    assert first != seen
    assert _hand_edit(tiny) == first  # not observed since: no new draw needed
    assert snapshot.observe_stamp(tiny) == first
    assert _hand_edit(tiny) != first


def test_a_writer_holding_the_lock_leaves_the_load_unsnapshotted(tiny: Engine) -> None:
    """The stamp cannot be observed while a sync holds the write lock: the load reads SQLite at
    once (no waiting for the sync) and makes no snapshot; the next load does."""
    _path(tiny).unlink(missing_ok=True)
    if tiny.dialect.name == "postgresql":
        # PostgreSQL locks rows: a load observes the committed stamp beside a running sync
        # (its frames are the committed state) unless the sync holds the stamp's row, as its
        # seal does at its end when the stamp moved (observed = 0 committed by a hand edit)
        _hand_edit(tiny)
    sync = _outside(tiny)
    if tiny.dialect.name == "postgresql":
        sync.execute("UPDATE entity_stamp SET observed = 1 WHERE id = 1 AND observed = 0")
    else:
        sync.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        _assert_loads_current_state(tiny)
        assert time.monotonic() - started < 5
        assert snapshot.wait_for_writes(60)
        assert not _path(tiny).exists()
    finally:
        sync.rollback()
        sync.close()
    planning.read_planning_frames(tiny, WANTED)
    assert snapshot.wait_for_writes(60)
    assert _from_snapshot(tiny) is not None


def test_every_entity_table_has_the_stamp_triggers(tiny: Engine) -> None:
    """The guard for a later migration adding an entity table: it must add the triggers too."""
    with tiny.connect() as con:
        if tiny.dialect.name == "postgresql":  # statement triggers calling the stamp function
            triggers = {(r[0], r[1]) for r in con.execute(text(
                "SELECT event_object_table, event_manipulation FROM information_schema.triggers "
                "WHERE action_statement LIKE '%pwb_entity_stamp_changed()%'"))}
        else:
            triggers = {(r.tbl_name, r.sql.split(" AFTER ")[1].split()[0]) for r in con.execute(text(
                "SELECT tbl_name, sql FROM sqlite_master WHERE type = 'trigger' "
                "AND sql LIKE '%UPDATE entity_stamp SET stamp = random()%'"))}
    # inserts are stamped by the sync (a trigger per inserted row costs a full sync 90 s)
    assert triggers == {(t, e) for t in ENTITY_TABLES for e in ("UPDATE", "DELETE")}


def test_a_new_cache_never_takes_an_old_snapshot_at_its_path(tmp_path: Path) -> None:
    engine = open_cache(tmp_path / "c.sqlite")
    assert run_sync(engine, MemoryConnector(tiny_plant())).ok
    _snapshotted(engine)
    engine.dispose()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{tmp_path / 'c.sqlite'}{suffix}").unlink(missing_ok=True)
    engine = open_cache(tmp_path / "c.sqlite")  # same path, new cache: a new random stamp
    plant = tiny_plant()
    plant["items"][0]["description"] = "another plant"
    assert run_sync(engine, MemoryConnector(plant)).ok
    assert _from_snapshot(engine) is None
    frames = _assert_loads_current_state(engine)
    assert "another plant" in set(frames["items"]["description"])
    snapshot.wait_for_writes(60)
    engine.dispose()


# --- never trusted when damaged ------------------------------------------------------------------

def test_a_truncated_snapshot_falls_back_to_sqlite_with_a_log_line(
        tiny: Engine, caplog: pytest.LogCaptureFixture) -> None:
    from_sqlite = _snapshotted(tiny)
    path = _path(tiny)
    size = path.stat().st_size
    with open(path, "r+b") as fh:
        fh.truncate(size // 2)
    with caplog.at_level(logging.WARNING, logger="workbench.cache.snapshot"):
        loaded, _ = planning.read_planning_frames(tiny, WANTED)
    _assert_same_frames(loaded, from_sqlite)
    assert any("unreadable" in r.getMessage() for r in caplog.records)
    assert snapshot.wait_for_writes(60)  # and the load wrote a good one again
    assert path.stat().st_size == size and _from_snapshot(tiny) is not None


def test_a_snapshot_with_a_flipped_byte_falls_back(tiny: Engine,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    from_sqlite = _snapshotted(tiny)
    path = _path(tiny)
    data = bytearray(path.read_bytes())
    start = data.index(b"\x93NUMPY", data.index(b"items/3/text"))  # in the item codes' text
    data[start + 130] ^= 0x01
    path.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="workbench.cache.snapshot"):
        assert _from_snapshot(tiny) is None
        loaded, _ = planning.read_planning_frames(tiny, WANTED)
    _assert_same_frames(loaded, from_sqlite)
    assert any("unreadable" in r.getMessage() for r in caplog.records)


def test_a_snapshot_for_another_layout_is_not_used(tiny: Engine) -> None:
    frames = _snapshotted(tiny)
    stamp = snapshot.read_stamp(tiny)
    assert stamp is not None
    assert snapshot.read_snapshot(_path(tiny), stamp, "another layout") is None
    other = {**frames, "items": frames["items"].assign(safety_stock=999.0)}
    snapshot.write_snapshot(_path(tiny), stamp, "another layout", other)
    _assert_loads_current_state(tiny)  # not the 999s


def test_a_failed_write_leaves_the_old_snapshot_and_no_file_under_its_name(
        tiny: Engine, tmp_path: Path) -> None:
    frames = _snapshotted(tiny)
    path = _path(tiny)
    good = path.read_bytes()
    stamp = snapshot.read_stamp(tiny)
    assert stamp is not None
    bad = {**frames, "items": frames["items"].assign(code=frames["items"]["code"].astype(object))}
    bad["items"].loc[0, "code"] = 42  # not text: cannot be stored exactly
    with pytest.raises(snapshot.SnapshotError):
        snapshot.write_snapshot(path, stamp, planning.frame_snapshot_layout(), bad)
    assert path.read_bytes() == good
    assert list(path.parent.glob(f"{path.name}.tmp-*")) == []
    # a crashed write's leftover temporary file is never read, and goes once an hour old
    leftover = path.with_name(f"{path.name}.tmp-99999-1")
    leftover.write_bytes(good[: len(good) // 3])
    old = time.time() - 2 * 3600
    os.utime(leftover, (old, old))
    path.unlink()
    loaded, _ = planning.read_planning_frames(tiny, WANTED)  # SQLite, then a new snapshot
    _assert_same_frames(loaded, frames)
    assert snapshot.wait_for_writes(60)
    assert not leftover.exists() and _from_snapshot(tiny) is not None


def test_a_snapshot_is_only_for_the_whole_set_of_planning_frames(tiny: Engine) -> None:
    _path(tiny).unlink(missing_ok=True)
    frames, _ = planning.read_planning_frames(tiny, ["items", "bom_lines"])
    assert snapshot.wait_for_writes(60)
    assert list(frames) == ["items", "bom_lines"] and not _path(tiny).exists()


def test_deleting_the_snapshot_is_always_safe(tiny: Engine) -> None:
    frames = _snapshotted(tiny)
    _path(tiny).unlink()
    loaded, _ = planning.read_planning_frames(tiny, WANTED)
    _assert_same_frames(loaded, frames)


def test_a_write_landing_during_the_sqlite_read_leaves_no_snapshot(tiny: Engine) -> None:
    """Another process syncs while this one reads SQLite: the frames may mix both states, so
    they are returned (as any read would) but not snapshotted; the next load sees the write."""
    _path(tiny).unlink(missing_ok=True)

    class SyncMidway:
        def set_progress(self, done: int, total: int) -> None: ...
        def is_cancelled(self) -> bool: return False

        def set_status(self, status: str) -> None:
            if status == "reading inventory":  # items and BOM already read
                con = _outside(tiny)
                con.execute("UPDATE items SET safety_stock = 77 WHERE code = 'BIKE'")
                con.commit()
                con.close()

    planning.read_planning_frames(tiny, WANTED, SyncMidway())
    assert snapshot.wait_for_writes(60)
    assert not _path(tiny).exists()
    frames = _assert_loads_current_state(tiny)
    assert frames["items"].set_index("code").loc["BIKE", "safety_stock"] == 77.0
