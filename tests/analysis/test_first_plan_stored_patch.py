"""A net change from a stored plan whose sources were not read yet (issue 16 review, §1): the
stored sources are a previous net change's patched sources behind a lazy object
(services.plan_parts.LazySources); patched again without being read first, they must still hold
every item's rows — the sources frames and the exception messages equal a full plan's, after a
chain of `workbench sync`-style processes (run_sync, then plan_after_sync on a fresh engine)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from tests.analysis.test_first_plan_store import _assert_same_plan, _copy, _full_at
from tests.fixtures_connector import MemoryConnector
from workbench.analysis.exceptions import compute_exceptions
from workbench.analysis.netting import Plan
from workbench.cache import snapshot
from workbench.cache.db import open_cache
from workbench.services import plan_store
from workbench.services.plan_parts import sources_read
from workbench.services.planning_data import load_planning_data, planning_day
from workbench.services.sources import demo_connector
from workbench.services.sync import run_sync


def _moved(first: int, count: int, days: int, tag: int) -> MemoryConnector:
    """PO lines ``first:first+count`` of the small demo (with a promise) promised ``days``
    later, as a new version of the source."""
    demo = demo_connector(scale="small")
    lines = [r for b in demo.pull("purchase_order_lines", None) for r in b.records
             if r.get("promised_date")][first:first + count]
    out = []
    for r in lines:
        day = r["promised_date"]
        day = dt.date.fromisoformat(day) if isinstance(day, str) else day
        out.append(dict(r, promised_date=(day + dt.timedelta(days=days)).isoformat(),
                        source_version=f"zz{tag}"))
    return MemoryConnector({"purchase_order_lines": out})


def _rows(frame: pd.DataFrame, columns: list[str]) -> list[tuple[str, ...]]:
    return sorted(map(tuple, frame[columns].astype(str).to_numpy().tolist()))


def _assert_same_sources(got: Plan, want: Plan) -> None:
    for name in ("on_hand", "receipts", "requirements", "planned", "allocations"):
        a, b = getattr(got.sources, name), getattr(want.sources, name)
        columns = [c for c in b.columns if c in a.columns]
        assert len(a) == len(b), name
        assert _rows(a, columns) == _rows(b, columns), name


def test_a_chain_of_syncs_each_netting_the_stored_unread_sources_equals_a_full_plan(
        template: Path, tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    engine = _copy(template, path)
    assert plan_store.open_planned_session(engine).how == "full"
    assert snapshot.wait_for_writes(60)
    engine.dispose()
    for step, (first, count, days) in enumerate([(0, 3, 5), (20, 4, 9), (40, 5, -6)]):
        engine = open_cache(path)  # the scheduled `workbench sync` process
        assert run_sync(engine, _moved(first, count, days, step)).ok
        assert plan_store.plan_after_sync(engine) == "incremental"
        assert snapshot.wait_for_writes(60)
        engine.dispose()
        engine = open_cache(path)  # the planner started afterwards
        session = plan_store.open_planned_session(engine, store=False)
        assert session.how == "stored"
        assert not sources_read(session.plan().sources)
        day = planning_day(load_planning_data(engine, prepare=False))
        want = _full_at(engine, day)
        _assert_same_plan(session.plan(), want)
        _assert_same_sources(session.plan(), want)
        got_messages = compute_exceptions(session.data, session.plan()).messages
        want_messages = compute_exceptions(load_planning_data(engine), want).messages
        assert len(got_messages) == len(want_messages), step
        assert sorted(got_messages["key"]) == sorted(want_messages["key"]), step
        assert snapshot.wait_for_writes(60)
        engine.dispose()


def test_decisions_in_fresh_planner_processes_before_the_read_ahead_equal_a_full_plan(
        template: Path, tmp_path: Path) -> None:
    """The planner process (app.processes._Session) opens the stored plan — from the second
    process on, a net change's patched sources, not read — and a decision comes before its idle
    read-ahead: replanned by net change from the unread sources, stored, and so on twice."""
    from tests.analysis.test_first_plan_lazy import _decide_move
    from workbench.app.processes import _Session
    from workbench.services.settings import PlanningDefaults
    from workbench.services.tasks import SimpleState

    path = tmp_path / "cache.sqlite"
    engine = _copy(template, path)
    first = plan_store.open_planned_session(engine)
    assert first.how == "full"
    assert snapshot.wait_for_writes(60)
    day = first.today
    lines = first.data.purchase_order_lines
    candidates = lines[lines["promised_date"].notna() & (lines["status"] == "acknowledged")]
    engine.dispose()
    for step in range(3):
        engine = open_cache(path)
        sessions = _Session(engine)
        defaults = PlanningDefaults()
        opened = sessions.get(0, defaults, SimpleState())
        assert opened.how == "stored" and not sources_read(opened.plan().sources)
        _decide_move(engine, candidates.iloc[step * 7], dt.timedelta(days=-21))
        decided = sessions.get(1, defaults, SimpleState())
        assert decided.how == "incremental", step
        want = _full_at(engine, day)
        _assert_same_plan(decided.plan(), want)
        _assert_same_sources(decided.plan(), want)
        got_messages = compute_exceptions(decided.data, decided.plan()).messages
        want_messages = compute_exceptions(load_planning_data(engine), want).messages
        assert sorted(got_messages["key"]) == sorted(want_messages["key"]), step
        sessions.store()
        assert snapshot.wait_for_writes(60)
        engine.dispose()
