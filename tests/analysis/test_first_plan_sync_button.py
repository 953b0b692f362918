"""The Sync button's day move (issue 16 §1): the planner process cannot replan a sync that moves
the planning day by net change (too many rows to record, every bucket moved), so the syncing
worker plans it and stores it (app.sync.sync -> plan_store.plan_after_sync, unless_recorded):
the planner then answers the stored plan, equal to a full plan of the new day. A small sync
the planner replans itself is not planned by the worker (no work twice on 2 cores)."""

from __future__ import annotations

from pathlib import Path

from tests.analysis.test_first_plan_store import (
    _assert_same_plan,
    _copy,
    _full_at,
    _moved_promises,
    _planning_day,
)
from workbench.cache import plan_store as plan_files
from workbench.cache import snapshot
from workbench.cache.db import open_cache
from workbench.services import plan_store
from workbench.services.lazy_frames import LazyPlanningData
from workbench.services.sync import run_sync
from workbench.services.tasks import SimpleState


def test_the_sync_buttons_day_move_is_planned_by_the_syncing_worker(
        template: Path, tmp_path: Path) -> None:
    from workbench.app.sync import demo_source, sync

    path = tmp_path / "cache.sqlite"
    engine = _copy(template, path)
    session = plan_store.open_planned_session(engine)  # the planner process's session, stored
    assert session.how == "full"
    assert snapshot.wait_for_writes(60)
    writer = open_cache(path)  # the writer process
    outcome = sync(writer, [demo_source("small", 7)], state=SimpleState())
    assert outcome.changes.data
    writer.dispose()
    stamp = snapshot.read_stamp(engine)
    folder = plan_store.folder_of(engine)
    assert folder is not None and plan_files.stored_stamps(folder) == [stamp]
    # the planner: no net change possible (nothing recorded), opened again: the stored plan
    assert plan_store.refresh_after_sync(engine, session) is None
    fresh = plan_store.open_planned_session(engine, store=False)
    assert fresh.how == "stored" and isinstance(fresh.data, LazyPlanningData)
    day = _planning_day(engine)
    assert fresh.today == day != session.today
    _assert_same_plan(fresh.plan(), _full_at(engine, day))
    snapshot.wait_for_writes(60)
    engine.dispose()


def test_a_small_sync_is_left_to_the_planners_net_change(template: Path, tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    engine = _copy(template, path)
    assert plan_store.open_planned_session(engine).how == "full"
    assert snapshot.wait_for_writes(60)
    assert run_sync(engine, _moved_promises(5)).ok
    assert plan_store.plan_after_sync(engine, unless_recorded=True) is None
    assert plan_store.plan_after_sync(engine) == "incremental"  # `workbench sync` plans it
    snapshot.wait_for_writes(60)
    engine.dispose()
