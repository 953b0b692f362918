"""What-ifs from the net change replan (:mod:`workbench.analysis.incremental_whatif`): the rows a
revision release reaches, beside the base plan's, are those of a full plan of the changed data;
every other row of that full plan is the base plan's. Hand-computed on a three-level chain, then
on the small demo's draft revisions (through the planning session and the app's what-if query,
the answer the what-if table and chart are drawn from)."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.analysis.builders import data, demand, item, line, revision, week, weekly
from workbench.analysis.calendar import Calendar
from workbench.analysis.data import PlanningData
from workbench.analysis.incremental_whatif import scenario, scenario_detail
from workbench.analysis.netting import Plan, plan, with_revision_released
from workbench.analysis.scenario import Scenario
from workbench.analysis.session import PlanningSession


def assert_scenario_is_the_full_plan(got: Scenario, base: Plan, full: Plan) -> None:
    """Each scenario row equals the full plan's row (absent: all zero); every row of the full
    plan outside the scenario equals the base plan's row; every base row outside it too."""
    width = base.calendar.n_buckets
    listed = set(got.key.tolist())
    for i, key in enumerate(got.key):
        row = full.rows_for_keys(np.array([key]))[0]
        for name in ("gross", "net", "planned"):
            want = np.asarray(getattr(full, name)[row]) if row >= 0 else np.zeros(width)
            np.testing.assert_allclose(getattr(got, name)[i], want, atol=1e-9, err_msg=name)
            was = base.rows_for_keys(np.array([key]))[0]
            want_base = np.asarray(getattr(base, name)[was]) if was >= 0 else np.zeros(width)
            np.testing.assert_allclose(getattr(got, f"{name}_base")[i], want_base, atol=1e-9)
    for keys in (full.key, base.key):
        outside = np.array([k for k in keys.tolist() if k not in listed], np.int64)
        a = full.rows_for_keys(outside)
        b = base.rows_for_keys(outside)
        both = (a >= 0) & (b >= 0)
        for name in ("gross", "net", "planned"):
            fa, fb = np.asarray(getattr(full, name)), np.asarray(getattr(base, name))
            np.testing.assert_allclose(fa[a[both]], fb[b[both]], atol=1e-9, err_msg=name)
            # a row only one of the plans has is all zero where the scenario does not list it
            assert not (np.abs(fa[a[(a >= 0) & (b < 0)]]) > 1e-9).any()
            assert not (np.abs(fb[b[(b >= 0) & (a < 0)]]) > 1e-9).any()


def _chain() -> tuple[PlanningData, Calendar]:
    cal = weekly(6)
    d = data(items=[item("A", make_buy="make", lead_time_days=7),
                    item("B", make_buy="make", lead_time_days=7), item("C", lead_time_days=7)],
             bom_revisions=[revision("A"), revision("B"), revision("B", "B", status="draft")],
             bom_lines=[line("A", "B", 1), line("B", "C", 1, revision="B")],
             demands=[demand("D1", "A", 10, week(3)), demand("DC", "C", 5, week(4))])
    return d, cal


def test_a_released_revision_adds_the_component_requirement_by_hand() -> None:
    """A needs 10 in week 3 (lead time 1 week): B plans 10 for week 2. Releasing revision B of
    B (1 C per B) from week 0 makes C need 10 in week 1 besides its own 5 in week 4 (C has no
    stock: net requirements follow gross); A and B do not change."""
    d, cal = _chain()
    base = plan(d, cal)
    after = with_revision_released(d, "B", "B", week(0))
    got, how = scenario_detail(base, after, ["B"])
    assert how == "incremental"
    assert got.item_codes.tolist() == ["C"]
    assert got.gross_base[0].tolist() == [0, 0, 0, 0, 5, 0]
    assert got.gross[0].tolist() == [0, 10, 0, 0, 5, 0]
    assert got.net[0].tolist() == [0, 10, 0, 0, 5, 0]
    assert_scenario_is_the_full_plan(got, base, plan(after, cal))


def test_only_the_parents_bom_rows_are_enough() -> None:
    d, cal = _chain()
    base = plan(d, cal)
    session = PlanningSession(d, cal)
    session._plans[False] = base
    small = with_revision_released(session.bom_of("B"), "B", "B", week(0))
    got = scenario(base, small, ["B"])
    assert got.item_codes.tolist() == ["C"]
    assert got.gross[0].tolist() == [0, 10, 0, 0, 5, 0]


def test_an_unchanged_bom_lists_no_row() -> None:
    d, cal = _chain()
    base = plan(d, cal)
    got, how = scenario_detail(base, d, ["B"])
    assert len(got.key) == 0 and how == "incremental"


# --- the small demo ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo() -> tuple[PlanningData, Calendar, Plan]:
    from workbench.cache.db import open_cache
    from workbench.services.planning import load_planning_data, planning_day
    from workbench.services.sources import demo_connector
    from workbench.services.sync import run_sync

    folder = Path(tempfile.mkdtemp(prefix="whatif-demo-"))
    engine = open_cache(folder / "cache.sqlite")
    try:
        run_sync(engine, demo_connector(scale="small"))
        d = load_planning_data(engine)
    finally:
        engine.dispose()
    cal = Calendar.parse(planning_day(d), "26w", "week")
    return d, cal, plan(d, cal)


def _drafts(d: PlanningData, n: int) -> list[tuple[str, str]]:
    drafts = d.bom_revisions[d.bom_revisions["status"] == "draft"]
    return [(str(p), str(r)) for p, r in zip(drafts["parent"].head(n), drafts["revision"].head(n))]


def test_demo_draft_releases_equal_a_full_plan_row_by_row(
        demo: tuple[PlanningData, Calendar, Plan]) -> None:
    d, cal, base = demo
    changed_rows = 0
    for k, (parent, rev) in enumerate(_drafts(d, 8)):
        after = with_revision_released(d, parent, rev, cal.date(k % 4))
        got, how = scenario_detail(base, after, [parent])
        assert how == "incremental", how
        assert_scenario_is_the_full_plan(got, base, plan(after, cal))
        changed_rows += len(got.key)
    assert changed_rows > 0


def test_the_what_if_query_answers_from_the_incremental_plan(
        demo: tuple[PlanningData, Calendar, Plan]) -> None:
    """The app's what-if query (the what-if table's rows): each row's totals and first shortage
    are those of a full plan of the data with the revision released; the rows are the ones a
    net change replan of the session's plan changes."""
    from workbench.analysis.incremental import Change, replan
    from workbench.app.planning import what_if

    d, cal, base = demo
    session = PlanningSession(d, cal)
    session._plans[False] = base
    on = cal.date(1)
    # the first draft whose release changes some row (most demo drafts change a few)
    parent, rev = next((p, r) for p, r in _drafts(d, 20)
                       if len(scenario(base, with_revision_released(d, p, r, on), [p]).key))
    answer = what_if(session, parent, rev, on)
    after = with_revision_released(d, parent, rev, on)
    full = plan(after, cal)
    incremental = replan(base, after, Change.of(bom_parents=[parent]))
    rows = answer.rows
    assert len(rows) > 0
    want = full.summary().set_index(["item", "site"])
    for r in rows.itertuples():
        key = (r.item, r.site)
        net_full = float(np.asarray(full.net[full.row(r.item, r.site)]).sum()) \
            if full.row(r.item, r.site) is not None else 0.0
        assert r.net == pytest.approx(net_full, abs=1e-9)
        at = incremental.row(r.item, r.site)
        assert r.gross == pytest.approx(
            float(np.asarray(incremental.gross[at]).sum()) if at is not None else 0.0, abs=1e-9)
        first = want.loc[key, "first_shortage_date"] if key in want.index else None
        got_first = r.first_shortage
        assert (pd.isna(first) and got_first is None) or \
            pd.Timestamp(got_first) == pd.Timestamp(first), (key, got_first, first)
    assert isinstance(answer.from_date, dt.date)
