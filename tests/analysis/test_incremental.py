"""Net change planning (:mod:`workbench.analysis.incremental`): the incremental plan equals a full
plan of the changed data on every array, after random small changes to hand-built plants and to
the small demo, and after a chain of them replanned in place."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.analysis.builders import data, demand, item, line, po_line, revision, stock, week, weekly
from tests.analysis.test_properties import plants
from workbench.analysis.calendar import Calendar
from workbench.analysis.data import PlanningData, column_codes
from workbench.analysis.incremental import Change, keep_codes, replan, replan_detail
from workbench.analysis.netting import Plan, plan, with_revision_released

ARRAYS = ("on_hand", "gross", "scheduled", "net", "planned")


def assert_same_plan(got: Plan, want: Plan) -> None:
    """Every row, level and mask exactly; every quantity to float noise (sums may be added in
    another order); the sources as sets of rows."""
    assert list(got.sites) == list(want.sites)
    assert np.array_equal(got.key, want.key), "rows differ"
    assert np.array_equal(got.level, want.level)
    assert got.planned_at is not None and want.planned_at is not None
    assert np.array_equal(got.planned_at, want.planned_at)
    assert got.llc is not None and want.llc is not None
    assert np.array_equal(got.llc, want.llc)
    assert got.cycles == want.cycles
    for name in ARRAYS:
        np.testing.assert_allclose(getattr(got, name), getattr(want, name), rtol=1e-12,
                                   atol=1e-9, err_msg=name)
    for name in ("on_hand", "receipts", "requirements", "planned", "allocations"):
        a, b = getattr(got.sources, name), getattr(want.sources, name)
        cols = list(b.columns)
        a = a[cols].sort_values(cols, kind="stable").reset_index(drop=True)
        b = b.sort_values(cols, kind="stable").reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b, check_dtype=False, obj=name)
    pd.testing.assert_frame_equal(got.summary().reset_index(drop=True),
                                  want.summary().reset_index(drop=True))


# --- a hand-computed case: a change at the top reaches a level-2 component -------------------

def _chain(po_quantity: float) -> PlanningData:
    return data(
        items=[item("A", make_buy="make", lead_time_days=7),
               item("B", make_buy="make", lead_time_days=7), item("C", lead_time_days=7),
               item("X", lead_time_days=7)],
        bom_revisions=[revision("A"), revision("B")],
        bom_lines=[line("A", "B", 2), line("B", "C", 3)],
        demands=[demand("D1", "A", 10, week(3)), demand("DX", "X", 4, week(2))],
        inventory=[stock("X", 2, site="S2")],
        purchase_order_lines=[po_line("P1", 1, "A", po_quantity, week(1))])


def test_a_po_quantity_of_the_top_item_reaches_its_level_2_component() -> None:
    """A needs 10 in week 3 and has 3 on order (week 1): it plans 7 in week 3, released a week
    earlier; B (2 per A) plans 14 in week 2; C (3 per B) plans 42 in week 1. The buyer's
    approved increase of the PO line to 7 leaves A 3 to plan: B needs 6, C 18."""
    cal = weekly(6)
    before = plan(_chain(3), cal)
    c_row = before.row("C", "S1")
    assert c_row is not None
    assert before.planned[c_row].tolist() == [0, 42, 0, 0, 0, 0]
    untouched = before.planned[before.row("X", "S1")].copy()
    after_data = _chain(7)
    change = Change.between(_chain(3), after_data)
    assert change == Change.of(items=["A"])
    result = replan_detail(before, after_data, change)
    assert result.how == "incremental"
    # A at both sites (its records may be anywhere), then B and C at S1 only; X not at all
    assert result.rows == 4 and result.levels == [0, 1, 2]
    got = result.plan
    assert got.planned[got.row("A", "S1")].tolist() == [0, 0, 0, 3, 0, 0]
    assert got.gross[got.row("B", "S1")].tolist() == [0, 0, 6, 0, 0, 0]
    assert got.gross[got.row("C", "S1")].tolist() == [0, 18, 0, 0, 0, 0]
    assert got.planned[got.row("C", "S1")].tolist() == [0, 18, 0, 0, 0, 0]
    assert got.planned[got.row("X", "S1")].tolist() == untouched.tolist()
    assert_same_plan(got, plan(after_data, cal))
    # the previous plan is left as it was unless asked to update in place
    assert before.planned[c_row].tolist() == [0, 42, 0, 0, 0, 0]


def test_a_new_item_site_and_a_vanished_one_rebuild_the_rows_in_level_order() -> None:
    """Demands of A and B at the second site add the rows A, B and C there; the X demand
    removed takes X's row at the first site away (X keeps its stock row at the second)."""
    cal = weekly(6)
    d = _chain(3)
    before = plan(d, cal)
    dem = pd.concat([d.demands[d.demands["code"] != "DX"],
                     data(demands=[demand("D2", "B", 5, week(4), site="S2"),
                                   demand("DY", "A", 1, week(5), site="S2")]).demands],
                     ignore_index=True)
    after = d.replace(demands=dem)
    result = replan_detail(before, after, Change.between(d, after))
    assert result.how == "incremental"
    assert result.plan.row("X", "S1") is None
    c2 = result.plan.row("C", "S2")
    assert c2 is not None and result.plan.gross[c2].sum() == pytest.approx(3 * (5 + 2 * 1))
    assert_same_plan(result.plan, plan(after, cal))


def test_a_released_revision_moving_a_low_level_code_moves_the_rows_to_their_level() -> None:
    """C is bought and sold (its own demand, 5 in week 4): level 0. Releasing revision B of
    B (from week 0), which uses 1 C per B, puts C below A (level 0) and B (level 1): level 2.
    A needs 10 in week 3 (lead time 1 week): B plans 10 for week 2, C then needs 10 in week 1
    besides its own 5 in week 4; its row moves to the end of the plan, at level 2."""
    cal = weekly(6)
    d = data(items=[item("A", make_buy="make", lead_time_days=7),
                    item("B", make_buy="make", lead_time_days=7), item("C", lead_time_days=7)],
             bom_revisions=[revision("A"), revision("B"), revision("B", "B", status="draft")],
             bom_lines=[line("A", "B", 1), line("B", "C", 1, revision="B")],
             demands=[demand("D1", "A", 10, week(3)), demand("DC", "C", 5, week(4))])
    before = plan(d, cal)
    assert before.level[before.row("C", "S1")] == 0
    after = with_revision_released(d, "B", "B", week(0))
    result = replan_detail(before, after, Change.of(bom_parents=["B"]))
    assert result.how == "incremental"
    got = result.plan
    c = got.row("C", "S1")
    assert c == len(got.key) - 1 and got.level[c] == 2
    assert got.gross[c].tolist() == [0, 10, 0, 0, 5, 0]
    assert_same_plan(got, plan(after, cal))


# --- random changes to hand-built plants ------------------------------------------------------

def _edit(frame: pd.DataFrame, row: int, **values: Any) -> pd.DataFrame:
    out = frame.copy()
    for column, value in values.items():
        out.iloc[row, out.columns.get_loc(column)] = value
    return out


Edit = Callable[[PlanningData], PlanningData]


@st.composite
def edits(draw: st.DrawFn, d: PlanningData) -> PlanningData:  # noqa: C901 - one per kind
    """``d`` after one small random change: a PO line's quantity or date (an approved decision),
    a demand's quantity, date or existence, a stock quantity, a BOM line's quantity, a work
    order's quantity or status, a draft revision released (a what-if)."""
    kinds = ["demand_qty", "demand_date", "demand_drop", "demand_new", "stock"]
    if len(d.purchase_order_lines):
        kinds += ["po_qty", "po_date", "po_cancel"]
    if len(d.bom_lines):
        kinds += ["bom_qty"]
    if len(d.work_orders):
        kinds += ["wo_qty", "wo_status"]
    drafts = d.bom_revisions[d.bom_revisions["status"] == "draft"]
    if len(drafts):
        kinds += ["release"]
    kind = draw(st.sampled_from(kinds))
    days = draw(st.integers(-40, 90))
    factor = draw(st.sampled_from([0.0, 0.5, 1.5, 3.0]))

    def pick(frame: pd.DataFrame) -> int:
        return draw(st.integers(0, len(frame) - 1))

    def moved(value: Any) -> Any:
        return value if pd.isna(value) else pd.Timestamp(value) + pd.Timedelta(days=days)

    if kind.startswith("demand") and len(d.demands) == 0:
        kind = "demand_new"
    if kind == "stock" and len(d.inventory) == 0:
        kind = "demand_new"
    if kind == "po_qty":
        r = pick(d.purchase_order_lines)
        pol = d.purchase_order_lines
        return d.replace(purchase_order_lines=_edit(
            pol, r, quantity_ordered=float(pol["quantity_ordered"].iat[r]) * factor + 1))
    if kind == "po_date":
        r = pick(d.purchase_order_lines)
        pol = d.purchase_order_lines
        return d.replace(purchase_order_lines=_edit(
            pol, r, promised_date=moved(pol["promised_date"].iat[r]),
            requested_date=moved(pol["requested_date"].iat[r])))
    if kind == "po_cancel":
        r = pick(d.purchase_order_lines)
        return d.replace(purchase_order_lines=_edit(d.purchase_order_lines, r,
                                                    status="cancelled"))
    if kind == "demand_qty":
        r = pick(d.demands)
        return d.replace(demands=_edit(d.demands, r,
                                       quantity=float(d.demands["quantity"].iat[r]) * factor))
    if kind == "demand_date":
        r = pick(d.demands)
        return d.replace(demands=_edit(d.demands, r, due_date=moved(d.demands["due_date"].iat[r])))
    if kind == "demand_drop":
        r = pick(d.demands)
        return d.replace(demands=d.demands.drop(index=d.demands.index[r]).reset_index(drop=True))
    if kind == "demand_new":
        codes = d.items["code"].tolist()
        sites = sorted(set(d.demands["site"]) | set(d.inventory["site"])) or ["S1"]
        new = data(demands=[demand("NEW-1", draw(st.sampled_from(codes)), 1 + days % 50,
                                   (pd.Timestamp(week(0)) + pd.Timedelta(days=abs(days))).date(),
                                   site=draw(st.sampled_from(sites)))]).demands
        return d.replace(demands=pd.concat([d.demands, new[list(d.demands.columns)]],
                                           ignore_index=True))
    if kind == "stock":
        r = pick(d.inventory)
        return d.replace(inventory=_edit(d.inventory, r,
                                         quantity=float(d.inventory["quantity"].iat[r]) * factor))
    if kind == "bom_qty":
        r = pick(d.bom_lines)
        return d.replace(bom_lines=_edit(
            d.bom_lines, r, quantity_per=float(d.bom_lines["quantity_per"].iat[r]) * factor))
    if kind == "wo_qty":
        r = pick(d.work_orders)
        return d.replace(work_orders=_edit(
            d.work_orders, r, quantity=float(d.work_orders["quantity"].iat[r]) * factor))
    if kind == "wo_status":
        r = pick(d.work_orders)
        return d.replace(work_orders=_edit(d.work_orders, r, status=draw(st.sampled_from(
            ["planned", "released", "completed", "cancelled"]))))
    r = pick(drafts)
    start = (pd.Timestamp(week(0)) + pd.Timedelta(days=abs(days))).date()
    return with_revision_released(d, str(drafts["parent"].iat[r]), str(drafts["revision"].iat[r]),
                                  start)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), plants())
def test_random_changes_to_small_plants_replan_like_a_full_plan(draw: st.DataObject,
                                                                d: PlanningData) -> None:
    cal = weekly(6)
    after = draw.draw(edits(d))
    result = replan_detail(plan(d, cal), after, Change.between(d, after))
    assert_same_plan(result.plan, plan(after, cal))


# --- random changes to the small demo ---------------------------------------------------------

@pytest.fixture(scope="module")
def demo() -> tuple[PlanningData, Calendar, Plan]:
    from workbench.cache.db import open_cache
    from workbench.services.planning import load_planning_data, planning_day
    from workbench.services.sources import demo_connector
    from workbench.services.sync import run_sync

    folder = Path(tempfile.mkdtemp(prefix="incremental-demo-"))
    engine = open_cache(folder / "cache.sqlite")
    try:
        run_sync(engine, demo_connector(scale="small"))
        d = load_planning_data(engine)
    finally:
        engine.dispose()
    cal = Calendar.parse(planning_day(d), "26w", "week")
    return d, cal, plan(d, cal)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.data())
def test_random_changes_to_the_small_demo_replan_like_a_full_plan(
        demo: tuple[PlanningData, Calendar, Plan], draw: st.DataObject) -> None:
    d, cal, base = demo
    after = draw.draw(edits(d))
    result = replan_detail(base, after, Change.between(d, after))
    assert result.how in ("incremental", "unchanged")
    assert_same_plan(result.plan, plan(after, cal))


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.data())
def test_a_chain_of_changes_replanned_in_place_stays_equal(
        demo: tuple[PlanningData, Calendar, Plan], draw: st.DataObject) -> None:
    d, cal, _ = demo
    current = plan(d, cal)
    for _ in range(4):
        after = draw.draw(edits(d))
        current = replan(current, after, Change.between(d, after), in_place=True)
        assert_same_plan(current, plan(after, cal))
        d = after


def test_the_demo_a_week_later_replans_like_a_full_plan(
        demo: tuple[PlanningData, Calendar, Plan]) -> None:
    """A sync of the demo's next day (hundreds of changed rows: demands, stock, receipts,
    orders) replanned from the day-0 plan on the same calendar."""
    from workbench.cache.db import open_cache
    from workbench.services.planning import load_planning_data
    from workbench.services.sources import demo_connector
    from workbench.services.sync import run_sync

    d, cal, base = demo
    folder = Path(tempfile.mkdtemp(prefix="incremental-day1-"))
    engine = open_cache(folder / "cache.sqlite")
    try:
        run_sync(engine, demo_connector(scale="small"))
        run_sync(engine, demo_connector(scale="small", day=1))
        later = load_planning_data(engine)
    finally:
        engine.dispose()
    change = Change.between(d, later)
    assert 0 < len(change.items)
    result = replan_detail(base, later, change)
    assert result.how == "incremental", result.how
    assert_same_plan(result.plan, plan(later, cal))


def test_a_what_if_release_replans_below_its_parent(
        demo: tuple[PlanningData, Calendar, Plan]) -> None:
    d, cal, base = demo
    drafts = d.bom_revisions[d.bom_revisions["status"] == "draft"]
    tried = 0
    for parent, rev in zip(drafts["parent"].head(10), drafts["revision"].head(10)):
        after = with_revision_released(d, str(parent), str(rev), cal.date(2))
        result = replan_detail(base, after, Change.of(bom_parents=[str(parent)]))
        assert_same_plan(result.plan, plan(after, cal))
        tried += result.how == "incremental"
    assert tried > 0


def test_the_item_master_changing_plans_in_full() -> None:
    d = _chain(3)
    items = d.items.copy()
    items.loc[items["code"] == "C", "lead_time_days"] = 14
    after = d.replace(items=items)
    result = replan_detail(plan(d, weekly(6)), after, Change.between(d, after))
    assert result.how == "full: item master changed"
    assert_same_plan(result.plan, plan(after, weekly(6)))


def test_change_between_names_the_orders_components_and_reservations() -> None:
    d = data(items=[item("A", make_buy="make"), item("B"), item("C")],
             work_orders=[{"code": "W1", "item": "A", "site": "S1", "quantity": 5,
                           "due_date": week(2), "status": "released"}],
             work_order_components=[{"work_order": "W1", "component": "B",
                                     "required_quantity": 5, "required_date": week(1)}],
             inventory=[stock("C", 3, status="allocated", allocated_to="W1")])
    wo = d.work_orders.copy()
    wo.loc[0, "status"] = "cancelled"
    change = Change.between(d, d.replace(work_orders=wo))
    assert change == Change.of(items=["A", "B", "C"])
    assert dt.date(2025, 3, 3) == week(0)


# --- the session after a decision: replanned by net change, equal to a new session's plan -----

def test_an_approved_decision_replans_the_planner_session_by_net_change(tmp_path: Path) -> None:
    """The plant of tests/foundation/test_exception_overlay.py: approving the reschedule-in of
    PO1/1 (week 5 -> week 2) moves X's firm projection in weeks 2-4 from -100 to 0. The planner
    process's session (:class:`workbench.app.processes._Session`) is not opened again: its plan
    is replanned from the overlay's change, equal to the plan of a newly opened session; a sync
    afterwards (the entity tables written) opens a new one."""
    from tests.fixtures_connector import MemoryConnector
    from tests.foundation.test_exception_overlay import _message, plant
    from workbench.app import exceptions as ops
    from workbench.app.processes import _Session
    from workbench.app.runner import InlineRunner
    from workbench.cache.db import open_cache
    from workbench.services import exceptions as svc
    from workbench.services.planning import open_session, shortages
    from workbench.services.settings import PlanningDefaults
    from workbench.services.sync import run_sync
    from workbench.services.tasks import SimpleState

    engine = open_cache(tmp_path / "cache.sqlite")
    try:
        assert run_sync(engine, MemoryConnector(plant())).ok
        svc.refresh_exceptions(engine, open_session(engine))
        sessions = _Session(engine)
        defaults = PlanningDefaults()
        first = sessions.get(0, defaults, SimpleState())
        row = first.plan().row("X", "P1")
        firm = first.plan().on_hand[row] + np.cumsum(first.plan().scheduled[row]
                                                      - first.plan().gross[row])
        assert firm[:9].tolist() == [0, 0, -100, -100, -100, 0, 0, -100, -100]
        msg = _message(engine, "reschedule_in", "PO1/1")
        InlineRunner(engine).run(ops.decide_message, msg.id, "approve", "bea")
        second = sessions.get(1, defaults, SimpleState())  # the runner's next generation
        assert second is not first and second.how == "incremental"
        p = second.plan()
        row = p.row("X", "P1")
        firm = p.on_hand[row] + np.cumsum(p.scheduled[row] - p.gross[row])
        assert firm[:9].tolist() == [0, 0, 0, 0, 0, 0, 0, -100, -100]
        assert_same_plan(p, open_session(engine).plan())
        assert shortages(second, item="X").rows.iloc[0]["first_shortage_date"] == \
            shortages(open_session(engine), item="X").rows.iloc[0]["first_shortage_date"]
        assert run_sync(engine, MemoryConnector(plant(line_version="2"))).ok
        third = sessions.get(2, defaults, SimpleState())
        assert third.how == "full"  # the entity tables were written: a new session
        assert_same_plan(third.plan(), open_session(engine).plan())
    finally:
        engine.dispose()


def test_keep_codes_numbers_a_copied_frame_like_hashing_it_again() -> None:
    d = data(items=[item("A"), item("B")],
             purchase_order_lines=[po_line("P1", 1, "A", 1, week(1)),
                                   po_line("P2", 1, "B", 1, week(1)),
                                   po_line("P3", 1, "A", 1, week(1))])
    column_codes(d, "purchase_order_lines", "item")
    lines = pd.concat([d.purchase_order_lines,
                       data(purchase_order_lines=[po_line("P4", 1, "C", 2, week(2)),
                                                  po_line("P5", 1, "B", 2, week(2))]
                            ).purchase_order_lines], ignore_index=True)
    lines.loc[0, "quantity_ordered"] = 5.0
    after = d.replace(purchase_order_lines=lines)
    keep_codes(d, after, "purchase_order_lines", "item")
    ids, distinct = column_codes(after, "purchase_order_lines", "item")
    assert list(np.asarray(distinct, object)[ids]) == ["A", "B", "A", "C", "B"]
    assert after._derived["codes:purchase_order_lines.item"][0][0] is lines


def test_a_refresh_without_any_change_keeps_the_plan_and_a_write_reopens(tmp_path: Path) -> None:
    """Nothing pending changed and no table written: the refreshed session is a new session with
    the very same plan (nothing re-netted); once the cache's planning tables are written (a sync),
    refresh_session says the session must be opened again."""
    from tests.fixtures_connector import MemoryConnector
    from tests.foundation.test_exception_overlay import plant
    from workbench.cache.db import open_cache
    from workbench.services.planning_data import open_session, refresh_session
    from workbench.services.sync import run_sync

    engine = open_cache(tmp_path / "cache.sqlite")
    try:
        assert run_sync(engine, MemoryConnector(plant())).ok
        session = open_session(engine)
        assert session.stamp is not None
        before = session.plan()
        same = refresh_session(engine, session)
        assert same is not None and same is not session and same.how == "unchanged"
        assert same.plan() is before
        assert run_sync(engine, MemoryConnector(plant(line_version="2", quantity_ordered=50))).ok
        assert refresh_session(engine, same) is None
    finally:
        engine.dispose()
