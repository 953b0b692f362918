"""The first plan of a fresh process from the plan stored beside the cache (issue 16 §1): after a
changing sync it is the stored plan replanned by net change from the rows the sync wrote, equal
to a full plan array by array; a stored plan of another stamp or calendar is never used. Real
caches, real syncs of the demo plant."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine

from tests.fixtures_connector import MemoryConnector
from workbench.analysis.calendar import Calendar
from workbench.analysis.incremental import plan_fields
from workbench.analysis.netting import Plan
from workbench.cache import plan_store as plan_files
from workbench.cache import snapshot
from workbench.cache.db import open_cache
from workbench.services import plan_store
from workbench.services.sources import demo_connector
from workbench.services.sync import run_sync

#: one planning day for every session of a test: the demo's day 7 moves the cache's as-of day
#: (a new calendar is planned in full, see the module doc of workbench.services.plan_store)
TODAY = dt.date(2026, 3, 2)


def _copy(template: Path, target: Path) -> Engine:
    src, dst = sqlite3.connect(template), sqlite3.connect(target)
    src.backup(dst)
    src.close()
    dst.close()
    return open_cache(target)


def _full(engine: Engine) -> Plan:
    return _full_at(engine, TODAY)


def _full_at(engine: Engine, today: dt.date) -> Plan:
    """The reference: frames read from SQLite (snapshot and stored plan moved away), planned in
    full."""
    base = Path(str(engine.url.database))
    hidden = base.with_name("hidden")
    hidden.mkdir()
    for path in (snapshot.snapshot_path(engine), plan_store.folder_of(engine)):
        assert path is not None
        if path.exists():
            shutil.move(str(path), hidden / path.name)
    session = plan_store.open_planned_session(engine, today=today, store=False)
    snapshot.wait_for_writes(60)
    assert session.how == "full"
    for path in hidden.iterdir():
        target = base.with_name(path.name)
        shutil.rmtree(target, ignore_errors=True) if target.is_dir() else target.unlink(True)
        shutil.move(str(path), target)
    hidden.rmdir()
    return session.plan()


def _assert_same_plan(got: Plan, want: Plan) -> None:
    assert len(want.key) > 100
    assert list(got.items.codes) == list(want.items.codes)
    assert list(got.sites) == list(want.sites)
    for name in plan_fields():
        a, b = getattr(got, name), getattr(want, name)
        assert (a is None) == (b is None), name
        if a is None:
            continue
        assert a.shape == b.shape, name
        if a.dtype.kind == "f":
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-9, err_msg=name)
        else:
            np.testing.assert_array_equal(a, b, err_msg=name)


def test_first_plan_after_a_changing_sync_is_the_stored_plan_replanned(
        template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plan_store, "MAX_CHANGED_SHARE", 1.0)  # day 7 changes many items
    engine = _copy(template, tmp_path / "cache.sqlite")
    first = plan_store.open_planned_session(engine, today=TODAY)  # full, stored, snapshotted
    assert first.how == "full"
    assert snapshot.wait_for_writes(60)
    stamp = snapshot.read_stamp(engine)
    folder = plan_store.folder_of(engine)
    assert folder is not None and plan_files.stored_stamps(folder) == [stamp]
    engine.dispose()

    # a fresh engine (as a new process opens it) on the unchanged cache: the stored plan itself
    engine = open_cache(tmp_path / "cache.sqlite")
    same = plan_store.open_planned_session(engine, today=TODAY)
    assert same.how == "stored"
    _assert_same_plan(same.plan(), first.plan())

    result = run_sync(engine, demo_connector(scale="small", day=7))
    assert result.ok and result.total("changed") > 0
    after = snapshot.read_stamp(engine)
    assert after is not None and stamp is not None and after != stamp
    record = plan_files.read_change(folder, stamp, after)
    assert record is not None and record["items"] and not record["master"]
    engine.dispose()

    engine = open_cache(tmp_path / "cache.sqlite")
    fresh = plan_store.open_planned_session(engine, today=TODAY)
    assert fresh.how == "incremental"
    assert len(record["items"]) > 0.02 * len(fresh.data.items)  # see MAX_CHANGED_SHARE
    got = fresh.plan()
    want = _full(engine)
    _assert_same_plan(got, want)
    # the sync changed the plan: the stored one would be wrong
    assert not np.array_equal(np.asarray(first.plan().planned), np.asarray(want.planned)) or \
        not np.array_equal(first.plan().key, want.key)
    engine.dispose()


def test_a_sync_that_moves_the_planning_day_nets_from_the_stored_sources(
        template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A new calendar cannot reuse the stored netting, but the numbering and the sources (the
    changed items' collected again): the same plan as a full one. (The demo's day 7 changes a
    third of the small demo's items: more than a first plan splices, so the share is raised.)"""
    monkeypatch.setattr(plan_store, "MAX_CHANGED_SHARE", 1.0)
    engine = _copy(template, tmp_path / "cache.sqlite")
    assert plan_store.open_planned_session(engine, today=TODAY).how == "full"
    assert snapshot.wait_for_writes(60)
    assert run_sync(engine, demo_connector(scale="small", day=7)).ok
    engine.dispose()
    engine = open_cache(tmp_path / "cache.sqlite")
    later = TODAY + dt.timedelta(days=4)  # not a whole bucket later
    fresh = plan_store.open_planned_session(engine, today=later)
    assert fresh.how == "prepared"
    assert fresh.calendar.today == Calendar.weekly(later, 26).today
    got = fresh.plan()
    want = _full_at(engine, later)
    _assert_same_plan(got, want)
    engine.dispose()


def test_a_stored_plan_of_another_stamp_or_calendar_is_never_used_as_it_is(
        template: Path, tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    engine = _copy(template, path)
    stored = plan_store.open_planned_session(engine, today=TODAY)
    assert stored.how == "full"
    assert snapshot.wait_for_writes(60)
    # another calendar: not the stored netting (only its numbering and sources)
    week = TODAY + dt.timedelta(days=7)
    other = plan_store.open_planned_session(engine, today=week, store=False)
    assert other.how == "prepared"
    _assert_same_plan(other.plan(), _full_at(engine, week))
    # a write the application did not record (a hand edit): a new stamp, no recorded change
    with sqlite3.connect(path) as db:
        row = db.execute("SELECT rowid, quantity FROM inventory WHERE quantity > 0 "
                         "AND deleted_at IS NULL AND coalesce(allocated_to, '') = '' "
                         "ORDER BY rowid LIMIT 1").fetchone()
        db.execute("UPDATE inventory SET quantity = ? WHERE rowid = ?", (row[1] + 1000, row[0]))
    engine.dispose()
    engine = open_cache(path)
    fresh = plan_store.open_planned_session(engine, today=TODAY)
    assert fresh.how == "full"
    _assert_same_plan(fresh.plan(), _full(engine))
    # the edit moved the plan: the stored plan, had it been used, would be wrong
    assert not np.array_equal(fresh.plan().on_hand, stored.plan().on_hand)
    snapshot.wait_for_writes(60)
    engine.dispose()


def test_a_small_sync_is_replanned_and_a_large_one_planned_in_full(
        template: Path, tmp_path: Path) -> None:
    """With the default share: 5 PO lines promised a week later -> net change from the stored
    plan; then the demo's day 7 (a third of the items) -> a full plan. Both equal a full plan."""
    engine = _copy(template, tmp_path / "cache.sqlite")
    assert plan_store.open_planned_session(engine, today=TODAY).how == "full"
    assert snapshot.wait_for_writes(60)
    demo = demo_connector(scale="small")
    lines = [r for b in demo.pull("purchase_order_lines", None) for r in b.records
             if r.get("promised_date")][:5]
    moved = []
    for r in lines:
        day = r["promised_date"]
        day = dt.date.fromisoformat(day) if isinstance(day, str) else day
        moved.append(dict(r, promised_date=(day + dt.timedelta(days=7)).isoformat()))
    result = run_sync(engine, MemoryConnector({"purchase_order_lines": moved}))
    assert result.ok and result.total("changed") == 5
    engine.dispose()
    engine = open_cache(tmp_path / "cache.sqlite")
    fresh = plan_store.open_planned_session(engine, today=TODAY)  # stores its plan
    assert fresh.how == "incremental"
    _assert_same_plan(fresh.plan(), _full(engine))
    before = snapshot.read_stamp(engine)
    assert run_sync(engine, demo_connector(scale="small", day=7)).ok
    after = snapshot.read_stamp(engine)
    folder = plan_store.folder_of(engine)
    assert folder is not None and before is not None and after is not None
    # too many rows written to be worth comparing (MAX_RECORDED_ROWS): no record, a full plan
    assert plan_files.read_change(folder, before, after) is None
    engine.dispose()
    engine = open_cache(tmp_path / "cache.sqlite")
    again = plan_store.open_planned_session(engine, today=TODAY)
    assert again.how == "full"
    _assert_same_plan(again.plan(), _full(engine))
    snapshot.wait_for_writes(60)
    engine.dispose()


def test_a_stored_plan_anyone_else_could_write_is_never_unpickled(tmp_path: Path) -> None:
    """The stored plan's objects are a pickle: read only when this user owns the file and no one
    else may write it (a group-writable one reads as "no stored plan": plan in full)."""
    import os

    from workbench.cache import plan_store as store

    folder = tmp_path / "cache.sqlite.plan"
    written = store.write_plan(folder, 7, "k", {"net": np.arange(6.0).reshape(2, 3)}, {"a": 1})
    read = store.read_plan(folder, 7, "k")
    assert read is not None and read[1] == {"a": 1} and read[2] is True
    os.chmod(written / "objects.pickle", 0o666)
    assert store.read_plan(folder, 7, "k") is None


# --- the planner process after a sync, and the sync planning for the next process ----------------

def _moved_promises(n: int, days: int = 7) -> MemoryConnector:
    """A source sending ``n`` PO lines of the small demo with their promise ``days`` later."""
    demo = demo_connector(scale="small")
    lines = [r for b in demo.pull("purchase_order_lines", None) for r in b.records
             if r.get("promised_date")][:n]
    moved = []
    for r in lines:
        day = r["promised_date"]
        day = dt.date.fromisoformat(day) if isinstance(day, str) else day
        moved.append(dict(r, promised_date=(day + dt.timedelta(days=days)).isoformat()))
    return MemoryConnector({"purchase_order_lines": moved})


def _planning_day(engine: Engine) -> dt.date:
    from workbench.services.planning_data import load_planning_data, planning_day

    return planning_day(load_planning_data(engine, prepare=False))


def test_the_planner_session_is_replanned_by_net_change_after_a_small_sync(
        template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The planner process keeps its session across a sync made by the writer (another engine):
    brought up to the synced state by net change from the changes the sync recorded — reading
    only the frames the sync changed from the patched snapshot — it equals a full plan of that
    state element by element; a hand edit recorded nothing: reopen."""
    from workbench.services import planning_data
    path = tmp_path / "cache.sqlite"
    engine = _copy(template, path)
    session = plan_store.open_planned_session(engine)  # as the planner process opens it
    assert session.how == "full"
    assert snapshot.wait_for_writes(60)
    old_scheduled = np.array(session.plan().scheduled)
    writer = open_cache(path)
    result = run_sync(writer, _moved_promises(5))
    assert result.ok and result.total("changed") == 5
    writer.dispose()
    day = _planning_day(engine)
    folder = plan_store.folder_of(engine)
    assert folder is not None
    [record] = plan_files.changes_to(folder, int(snapshot.read_stamp(engine) or 0))
    assert record["entities"] == ["promise_changes", "purchase_order_lines"]

    def no_full_read(*args: object, **kwargs: object) -> None:
        raise AssertionError("every frame read again")

    with monkeypatch.context() as m:
        m.setattr(planning_data, "load_planning_data", no_full_read)
        refreshed = plan_store.refresh_after_sync(engine, session)
    assert refreshed is not None and refreshed.how == "incremental"
    assert refreshed.stamp == snapshot.read_stamp(engine) != session.stamp
    assert refreshed.data.items is session.data.items  # a frame the sync left alone
    assert refreshed.calendar == Calendar.weekly(day, 26)
    want = _full_at(engine, day)
    _assert_same_plan(refreshed.plan(), want)
    assert not np.array_equal(old_scheduled, np.asarray(want.scheduled))  # receipts moved
    # nothing written since: nothing to bring up to date (the decisions' path handles that)
    assert plan_store.refresh_after_sync(engine, refreshed) is None
    with sqlite3.connect(path) as db:  # a write nobody recorded: the session is opened again
        db.execute("UPDATE inventory SET quantity = quantity + 5 WHERE rowid = "
                   "(SELECT min(rowid) FROM inventory WHERE deleted_at IS NULL)")
    assert plan_store.refresh_after_sync(engine, refreshed) is None
    assert refreshed.plan() is not None  # and the session it was given is left as it was
    snapshot.wait_for_writes(60)
    engine.dispose()


def test_the_planner_session_nets_the_new_planning_day_after_a_day_move(
        template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo's day 7 moves the cache's as-of day: the session's numbering and sources (the
    changed items' collected again) netted over the new calendar equal a full plan of it.
    (A third of the small demo's items change: the limits are raised so the change is recorded.)"""
    monkeypatch.setattr(plan_store, "MAX_CHANGED_SHARE", 1.0)
    path = tmp_path / "cache.sqlite"
    engine = _copy(template, path)
    session = plan_store.open_planned_session(engine)
    assert snapshot.wait_for_writes(60)
    before_day = session.calendar.today
    writer = open_cache(path)
    assert run_sync(writer, demo_connector(scale="small", day=7)).ok
    writer.dispose()
    day = _planning_day(engine)
    refreshed = plan_store.refresh_after_sync(engine, session)
    assert refreshed is not None and refreshed.how == "prepared"
    assert refreshed.calendar.today == Calendar.weekly(day, 26).today != before_day
    _assert_same_plan(refreshed.plan(), _full_at(engine, day))
    snapshot.wait_for_writes(60)
    engine.dispose()


def test_a_sync_outside_the_app_plans_the_new_state_for_the_next_process(
        template: Path, tmp_path: Path) -> None:
    """``workbench sync`` (app.sync.sync_source) of the demo's day 7 — too many rows to record
    a change — plans the synced state with the stored plan's parameters and stores it: a fresh
    process then answers the stored plan, equal to a full plan of the new day; a second
    planning finds nothing to do. Without a plan stored beside the cache nothing is planned."""
    from workbench.app.sync import demo_source, sync_source
    from workbench.services.tasks import SimpleState

    path = tmp_path / "cache.sqlite"
    engine = _copy(template, path)
    report = sync_source(engine, demo_source("small", 3), check=False, state=SimpleState())
    assert report.changes.data and report.value.plan is None  # nobody plans with this cache
    assert plan_store.open_planned_session(engine).how == "full"  # as the planner does
    assert snapshot.wait_for_writes(60)
    report = sync_source(engine, demo_source("small", 7), check=False, state=SimpleState())
    assert report.value.result.ok and report.value.plan in ("full", "prepared")
    assert plan_store.plan_after_sync(engine) is None  # already planned for this state
    engine.dispose()
    engine = open_cache(path)
    day = _planning_day(engine)
    fresh = plan_store.open_planned_session(engine)
    assert fresh.how == "stored"
    assert fresh.calendar == Calendar.weekly(day, 26)
    _assert_same_plan(fresh.plan(), _full_at(engine, day))
    snapshot.wait_for_writes(60)
    engine.dispose()


def test_storing_a_plan_keeps_its_parameters_and_only_the_changes_that_follow_it(
        tmp_path: Path) -> None:
    """Changes 1->2, 2->3 (before the plan of 3) and 3->4, 4->5 (after it), 9->-7 (elsewhere),
    all two days old: storing the plan of 3 keeps 3->4 and 4->5 only (recent records before it
    are kept a day: tests/analysis/test_plan_store_files.py); its parameters are read back."""
    import os
    import time

    folder = tmp_path / "cache.sqlite.plan"
    for before, after in ((1, 2), (2, 3), (3, 4), (4, 5), (9, -7)):
        plan_files.write_change(folder, before, after, {"items": [], "bom_parents": [],
                                                        "master": False})
        old = time.time() - 2 * 86400
        os.utime(folder / f"change_{before}_{after}.json", (old, old))
    plan_files.write_plan(folder, 3, "k", {"net": np.zeros((1, 2))}, {},
                          params={"bucket_days": 7, "n_buckets": 26, "consumption": [30, 0]})
    left = sorted(p.name for p in folder.glob("change_*.json"))
    assert left == ["change_3_4.json", "change_4_5.json"]
    assert plan_files.stored_params(folder) == (3, {"bucket_days": 7, "n_buckets": 26,
                                                    "consumption": [30, 0]})
    plan_files.write_plan(folder, -7, "k", {"net": np.zeros((1, 2))}, {})  # no parameters
    assert plan_files.stored_stamps(folder) == [-7]
    assert plan_files.stored_params(folder) is None
