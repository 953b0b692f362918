"""A fresh process that finds the plan stored for the cache's very state answers it before
reading a frame (workbench/services/lazy_frames.py, issue 16 §1): the frames are read from the
held-open snapshot on first use — the item master alone first, then the rest — and equal a
whole load of that state, even after a sync replaced the snapshot; the pending decisions are
overlaid as a whole load does; an approval in that session is replanned by net change, and the
plan it makes is stored for the next process (app.processes._Session)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from tests.analysis.test_first_plan_store import (
    _assert_same_plan,
    _copy,
    _full_at,
    _moved_promises,
)
from workbench.analysis.bom import ItemIndex
from workbench.analysis.data import PLANNING_ENTITIES, column_codes
from workbench.cache import plan_store as plan_files
from workbench.cache import snapshot
from workbench.cache.db import open_cache
from workbench.services import plan_store, planning_data
from workbench.services.lazy_frames import LazyPlanningData
from workbench.services.plan_parts import LazySources, sources_read
from workbench.services.planning import shortages
from workbench.services.sync import run_sync


def _stored(template: Path, tmp_path: Path) -> tuple[Path, dt.date]:
    """A copy of the small demo planned in full and stored, its snapshot written; its day."""
    path = tmp_path / "cache.sqlite"
    engine = _copy(template, path)
    first = plan_store.open_planned_session(engine)  # the cache's own day, as the planner does
    assert first.how == "full"
    assert snapshot.wait_for_writes(60)
    day = first.today
    engine.dispose()
    return path, day


def test_the_stored_plan_is_answered_before_any_frame_is_read(
        template: Path, tmp_path: Path) -> None:
    """The plan stored for this state is the plan (equal to a full plan) with no frame read;
    the shortage table's item master is read alone; every frame, when read, equals a whole
    load of the state, the item numbering and sources are the stored plan's (not built again)
    and the code numbering seeded as a whole load seeds it."""
    path, day = _stored(template, tmp_path)
    folder = path.with_name(path.name + ".plan")
    [stamp] = plan_files.stored_stamps(folder)
    assert (plan_files.plan_params(folder, stamp) or {})["data_day"] == day.isoformat()
    engine = open_cache(path)
    fresh = plan_store.open_planned_session(engine)
    assert fresh.how == "stored"
    assert isinstance(fresh.data, LazyPlanningData)
    want = _full_at(engine, day)
    _assert_same_plan(fresh.plan(), want)
    assert fresh.data.frames_read() == []
    assert fresh.today == day
    sources = fresh.plan().sources
    assert isinstance(sources, LazySources) and not sources_read(sources)
    assert len(shortages(fresh).rows) > 0  # the shortage list: no frame, no source read
    assert len(fresh.data.items) > 10
    assert fresh.data.frames_read() == ["items"] and not sources_read(sources)
    for name in ("on_hand", "receipts", "requirements", "planned", "allocations"):
        pd.testing.assert_frame_equal(getattr(sources, name), getattr(want.sources, name))
    items, sites = fresh.plan().items, fresh.plan().sites
    assert sources._keys["requirements"][0] is items  # the row keys tied to the numbering again
    assert np.array_equal(sources.keys("requirements", items, sites),
                          want.sources.keys("requirements", want.items, want.sites))
    whole = planning_data.load_planning_data(engine, prepare=False)
    for entity in PLANNING_ENTITIES:
        pd.testing.assert_frame_equal(getattr(fresh.data, entity), getattr(whole, entity))
    assert fresh.data.frames_read() == list(PLANNING_ENTITIES)
    assert fresh.items is fresh.plan().items
    assert ItemIndex.build(fresh.data) is fresh.plan().items  # the seed: not numbered again
    ids, distinct = column_codes(fresh.data, "bom_lines", "component")
    want_ids, want_distinct = column_codes(whole, "bom_lines", "component")
    assert list(distinct[ids]) == list(want_distinct[want_ids])
    engine.dispose()


def test_frames_read_after_a_sync_replaced_the_snapshot_are_those_of_the_plans_state(
        template: Path, tmp_path: Path) -> None:
    """A sync by another process after the fresh process answered the stored plan patches the
    snapshot (a new file renamed over it): the frames the session reads afterwards are still
    those of the state its plan is of (the snapshot is held open), not the synced ones."""
    path, _ = _stored(template, tmp_path)
    engine = open_cache(path)
    before = planning_data.load_planning_data(engine, prepare=False)
    fresh = plan_store.open_planned_session(engine)
    assert fresh.how == "stored" and isinstance(fresh.data, LazyPlanningData)
    assert fresh.data.frames_read() == []
    writer = open_cache(path)
    assert run_sync(writer, _moved_promises(5)).ok
    writer.dispose()
    snapshot_path = snapshot.snapshot_path(engine)
    assert snapshot_path is not None
    assert snapshot.snapshot_stamp(snapshot_path) != fresh.stamp  # patched: another file
    after = planning_data.load_planning_data(engine, prepare=False)
    assert not after.purchase_order_lines.equals(before.purchase_order_lines)
    for entity in PLANNING_ENTITIES:
        pd.testing.assert_frame_equal(getattr(fresh.data, entity), getattr(before, entity))
    engine.dispose()


def test_an_approval_in_a_lazily_opened_session_is_replanned_and_stored(
        template: Path, tmp_path: Path) -> None:
    """The planner process (app.processes._Session) opened from the stored plan (frames not
    read): an approved decision is replanned by net change, equal to a full plan of the
    cache with that decision overlaid, and that plan is stored once the planner is idle: a
    fresh process with the same pending decisions answers it stored, without reading a frame."""
    from workbench.app.processes import _Session
    from workbench.services.overlay import pending_decisions
    from workbench.services.settings import PlanningDefaults
    from workbench.services.tasks import SimpleState

    path, day = _stored(template, tmp_path)
    engine = open_cache(path)
    sessions = _Session(engine)
    defaults = PlanningDefaults()
    first = sessions.get(0, defaults, SimpleState())
    assert first.how == "stored" and first.data.frames_read() == []
    assert not sessions.unstored and sessions.unread()
    sessions.warm()  # what the idle planner reads ahead (app.processes.READ_AHEAD_AFTER_S)
    assert not sessions.unread() and first.data.frames_read() == list(PLANNING_ENTITIES)
    assert sources_read(first.plan().sources)
    lines = first.data.purchase_order_lines
    line = lines[lines["promised_date"].notna() & (lines["status"] == "acknowledged")].iloc[0]
    _decide_move(engine, line, dt.timedelta(days=-14))
    assert len(pending_decisions(engine)) == 1
    second = sessions.get(1, defaults, SimpleState())
    assert second is not first and second.how == "incremental"
    want = _full_at(engine, day)
    _assert_same_plan(second.plan(), want)
    assert sessions.unstored  # an approval's plan: stored for the next process when idle
    sessions.store()
    assert not sessions.unstored
    snapshot.wait_for_writes(60)
    engine.dispose()
    engine = open_cache(path)
    fresh = plan_store.open_planned_session(engine)
    assert fresh.how == "stored" and isinstance(fresh.data, LazyPlanningData)
    _assert_same_plan(fresh.plan(), want)
    moved = fresh.data.purchase_order_lines  # overlaid as a whole load overlays it
    whole = planning_data.load_planning_data(engine, prepare=False)
    pd.testing.assert_frame_equal(moved, whole.purchase_order_lines)
    engine.dispose()


def _decide_move(engine: Engine, line: pd.Series, by: dt.timedelta) -> None:
    from workbench.services.message_decisions import record_line_decision

    record_line_decision(engine, f"{line['purchase_order']}/{line['line']}", "expedite",
                         "modify", decided_by="bea",
                         date=pd.Timestamp(line["promised_date"]).date() + by)


def test_sources_are_read_from_the_file_held_open_when_a_newer_plan_replaced_it(
        template: Path, tmp_path: Path) -> None:
    """A plan stored by another process (its folder replaced) after this one read the stored
    plan: the sources this process reads later are still those of its own plan."""
    path, _ = _stored(template, tmp_path)
    engine = open_cache(path)
    fresh = plan_store.open_planned_session(engine)
    sources = fresh.plan().sources
    assert isinstance(sources, LazySources) and not sources_read(sources)
    writer = open_cache(path)
    assert run_sync(writer, _moved_promises(5)).ok
    assert plan_store.plan_after_sync(writer) == "incremental"  # stored: the old folder removed
    writer.dispose()
    folder = path.with_name(path.name + ".plan")
    assert plan_files.stored_stamps(folder) == [snapshot.read_stamp(engine)] != [fresh.stamp]
    want = planning_data.load_planning_data(engine, prepare=False)  # (the new state's frames)
    assert len(sources.requirements) > 0 and sources_read(sources)
    pd.testing.assert_frame_equal(sources.receipts, fresh.plan().sources.receipts)
    assert not fresh.data.purchase_order_lines.equals(want.purchase_order_lines)
    # the plan the writer stored is a net change replan's (patched sources): read back whole
    again = plan_store.open_planned_session(engine, store=False)
    assert again.how == "stored"
    stored = again.plan().sources
    assert isinstance(stored, LazySources)
    full = _full_at(engine, again.today)
    _assert_same_plan(again.plan(), full)
    for name in ("on_hand", "receipts", "requirements", "planned", "allocations"):
        got, want_rows = getattr(stored, name), getattr(full.sources, name)  # (a replan's
        by = list(want_rows.columns)                                         # rows in another
        pd.testing.assert_frame_equal(                                      # order)
            got[by].sort_values(by, kind="stable").reset_index(drop=True),
            want_rows.sort_values(by, kind="stable").reset_index(drop=True),
            check_dtype=False)  # (a replan's text columns: object, as concatenated)
    items, sites = again.plan().items, again.plan().sites
    assert np.array_equal(np.sort(stored.keys("requirements", items, sites)),
                          np.sort(full.sources.keys("requirements", full.items, full.sites)))
    snapshot.wait_for_writes(60)
    engine.dispose()


def test_no_lazy_answer_without_the_planning_day_or_for_another_calendar(
        template: Path, tmp_path: Path) -> None:
    """A plan stored without the data's planning day (by an older version) is found only after
    the frames are read (a whole load); a calendar other than the stored plan's is not answered
    from it as it is."""
    path, day = _stored(template, tmp_path)
    folder = path.with_name(path.name + ".plan")
    [stamp] = plan_files.stored_stamps(folder)
    engine = open_cache(path)
    fresh_net = np.asarray(plan_store.open_planned_session(engine, store=False).plan().net)
    other = plan_store.open_planned_session(engine, today=day + dt.timedelta(days=7),
                                            store=False)
    assert other.how == "prepared" and not isinstance(other.data, LazyPlanningData)
    meta = folder / f"s{stamp}" / "meta.json"
    text = meta.read_text()
    meta.write_text(text.replace('"data_day"', '"no_day"'))
    again = plan_store.open_planned_session(engine, store=False)
    assert again.how == "stored" and not isinstance(again.data, LazyPlanningData)
    assert np.array_equal(np.asarray(again.plan().net), np.asarray(fresh_net))
    engine.dispose()
