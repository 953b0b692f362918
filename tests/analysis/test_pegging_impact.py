"""Pegging, what-if and revision impact, hand-computed on small products."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest

from tests.analysis.builders import (
    data,
    demand,
    item,
    line,
    po_line,
    record,
    revision,
    stock,
    week,
    weekly,
)
from workbench.analysis.data import PlanningData
from workbench.analysis.netting import plan, with_revision_released
from workbench.analysis.pegging import Pegging
from workbench.analysis.revisions import revision_diff
from workbench.analysis.scenario import replan, summary_frame
from workbench.analysis.session import PlanningSession


def three_level():
    return data(
        items=[item("FG", make_buy="make", lead_time_days=7),
               item("SUB", make_buy="make", lead_time_days=14),
               item("RAW", lead_time_days=7, safety_stock=0)],
        bom_revisions=[revision("FG"), revision("SUB")],
        bom_lines=[line("FG", "SUB", 2, 10), line("FG", "RAW", 1, 20, scrap_pct=10),
                   line("SUB", "RAW", 3, 10)],
        inventory=[stock("FG", 10), stock("SUB", 5), stock("RAW", 30)],
        demands=[demand("D1", "FG", 40, week(3, 4)), demand("D2", "FG", 20, week(5))],
    )


def test_pegs_follow_requirements_to_top_level_demands() -> None:
    p = plan(three_level(), weekly(8))
    peg = Pegging(p)
    fg = peg.order_pegs(p.row("FG", "S1"))
    # on hand 10 goes to D1 first; the week-3 order covers D1's other 30, week 5's D2
    assert fg == {3: {"D1": pytest.approx(30)}, 5: {"D2": pytest.approx(20)}}
    sub = peg.requirements(p.row("SUB", "S1"))
    assert [(r.bucket, r.quantity, r.pegs) for r in sub] == [
        (2, 60, {"D1": 60}), (4, 40, {"D2": 40})]
    # SUB's 5 on hand serve the first 5 of the 60; its week-2 order serves D1's other 55
    assert peg.order_pegs(p.row("SUB", "S1"))[2] == {"D1": pytest.approx(55)}
    raw = {(r.bucket, r.ref): r for r in peg.requirements(p.row("RAW", "S1"))}
    assert raw[(0, "SUB")].quantity == pytest.approx(165)
    assert raw[(0, "SUB")].pegs == {"D1": pytest.approx(165)}
    assert raw[(2, "FG")].pegs == {"D1": pytest.approx(33)}
    assert raw[(2, "SUB")].pegs == {"D2": pytest.approx(120)}


def test_lot_size_and_safety_stock_have_their_own_pegs() -> None:
    d = data(items=[item("L", min_order_qty=50, safety_stock=5)],
             demands=[demand("D1", "L", 10, week(1))])
    p = plan(d, weekly(2))
    pegs = Pegging(p).order_pegs(p.row("L", "S1"))
    # one order of 50 in week 0: 5 keep safety stock, 10 serve D1 in week 1, 35 are lot size
    assert pegs == {0: {"safety_stock:L@S1": pytest.approx(5), "D1": pytest.approx(10),
                        "lot_size:L@S1": pytest.approx(35)}}


def change_data(*more_demands: dict[str, Any]) -> PlanningData:
    # P (LT 0) rev A: 2 x OLD + 1 x KEEP; rev B (draft): 3 x KEEP + 1 x NEW.
    return data(
        items=[item("P", make_buy="make"), item("OLD", standard_cost=4.0),
               item("KEEP", standard_cost=1.0), item("NEW", lead_time_days=14),
               item("TOP", make_buy="make")],
        bom_revisions=[revision("TOP"), revision("P", "A"),
                       revision("P", "B", status="draft")],
        bom_lines=[line("TOP", "P", 1), line("P", "OLD", 2, 10, revision="A"),
                   line("P", "KEEP", 1, 20, revision="A"),
                   line("P", "KEEP", 3, 20, revision="B", orig_uom="EA"),
                   line("P", "NEW", 1, 30, revision="B")],
        demands=[demand("D1", "P", 10, week(1)), demand("D2", "P", 10, week(3)), *more_demands],
        inventory=[stock("OLD", 15), stock("KEEP", 40)],
        purchase_order_lines=[po_line("PO1", 1, "OLD", 30, week(2))],
        requisitions=[{"code": "R1", "item": "OLD", "site": "S1", "quantity": 5,
                       "need_date": week(4)}],
    )


def test_impact_lists_each_demand_with_what_the_plan_counts_of_it() -> None:
    # F3 (forecast 25, week 3) is consumed by D2 (sales order 10, week 3, 30 days back): 15 left;
    # F4 (forecast 5, week 4) lies after D2 and forward consumption is 0 days: planned in full
    s = PlanningSession(change_data(demand("F3", "P", 25, week(3), kind="forecast"),
                                    demand("F4", "P", 5, week(4), kind="forecast")), weekly(6))
    result = s.impact("P", "A", "B", week(2))
    got = {x["code"]: (x["quantity"], x["planned_quantity"]) for x in result["demands"]}
    assert got == {"D2": (10, 10), "F3": (25, 15), "F4": (5, 5)}


def test_revision_diff_lists_added_removed_changed_with_before_and_after() -> None:
    diff = revision_diff(change_data(), "P", "A", "B").set_index("component")
    assert diff.loc["OLD", "change"] == "removed" and diff.loc["OLD", "before_quantity_per"] == 2
    assert diff.loc["NEW", "change"] == "added" and diff.loc["NEW", "after_quantity_per"] == 1
    assert diff.loc["KEEP", "change"] == "changed"
    assert diff.loc["KEEP", "changed_fields"] == ["quantity_per", "orig_uom"]
    assert (diff.loc["KEEP", "before_quantity_per"], diff.loc["KEEP", "after_quantity_per"]) == (1, 3)


def test_impact_of_switching_on_a_date() -> None:
    # Switch on week 2's Monday: D1 (week 1) still uses A, D2 (week 3) uses B.
    s = PlanningSession(change_data(), weekly(6))
    result = s.impact("P", "A", "B", week(2))
    assert [a["item"] for a in result["assemblies_above"]] == ["TOP"]
    assert [d["code"] for d in result["demands"]] == ["D2"]
    # OLD: needs 20 + 20 under A, 20 under B; supply 15 on hand, 30 on PO1 (week 2), R1 5.
    # Under A: 40 of 50 used -> R1 (5) and 5 of PO1 excess; under B: 20 used -> 25 of PO1 excess.
    excess = {(e["item"], e["kind"], e["ref"]): e for e in result["excess"]}
    assert excess[("OLD", "purchase_order", "PO1/1")]["quantity"] == pytest.approx(20)
    assert excess[("OLD", "purchase_order", "PO1/1")]["value"] == pytest.approx(80)
    assert ("OLD", "requisition", "R1") not in excess  # already excess before the change
    new = {r["item"]: r for r in result["new_requirements"]}
    # NEW: 10 x 1 in week 3; KEEP: 30 instead of 10 in week 3 -> 40 on hand covers 10 + 30
    assert new["NEW"]["new_net_requirement"] == pytest.approx(10)
    assert new["NEW"]["first_shortage_date"] == week(3)
    assert "KEEP" not in new


def test_what_if_side_by_side_leaves_the_data_untouched() -> None:
    d = change_data()
    before = d.bom_revisions.copy()
    base = plan(d, weekly(6))
    scen = replan(base, with_revision_released(d, "P", "B", week(2)), ["P"])
    side = summary_frame(scen).set_index("item")
    assert side.loc["OLD", "gross_base"] == pytest.approx(40)
    assert side.loc["OLD", "gross"] == pytest.approx(20)
    assert side.loc["NEW", "gross_base"] == 0 and side.loc["NEW", "gross"] == pytest.approx(10)
    assert d.bom_revisions.equals(before)
    # the what-if equals a full re-plan of the changed data
    full = plan(with_revision_released(d, "P", "B", week(2)), weekly(6))
    for code in ("OLD", "KEEP", "NEW"):
        row = list(scen.item_codes).index(code)
        assert record(full, code)["gross_requirements"] == pytest.approx(list(scen.gross[row]))
        assert record(full, code)["planned_receipts"] == pytest.approx(list(scen.planned[row]))


def test_risk_adjusted_plan_moves_po_lines_by_the_expected_slip() -> None:
    received = [po_line(f"H{i}", 1, "R", 1, week(-10), status="received",
                        received_date=week(-10) + dt.timedelta(days=14), quantity_received=1)
                for i in range(5)]
    d = data(items=[item("R")],
             purchase_order_lines=received + [po_line("PO", 1, "R", 10, week(1))],
             demands=[demand("D", "R", 10, week(1))])
    s = PlanningSession(d, weekly(4))
    # five slips of 14 days: 80th percentile 14, shrunk by 5/(5+5) -> 7 days
    assert s.slippage.slip_days() == {"SUP": 7}
    diff = s.risk_differences().set_index("item")
    assert diff.loc["R", "first_shortage_date_risk_adjusted"] == pd.Timestamp(week(1))
    assert diff.loc["R", "first_shortage_quantity_risk_adjusted"] == 10
    assert diff.loc["R", "total_net_requirements"] == 0


def work_order_data() -> PlanningData:
    """P (LT 0) rev A: 2 x OLD + 1 x KEEP; rev B (draft): 3 x KEEP + 1 x NEW. No demand for P:
    its open work orders alone need components, each with its own list (made under A)."""
    def wo(code: str, status: str, start: dt.date, qty: float) -> dict[str, Any]:
        return {"code": code, "item": "P", "site": "S1", "quantity": qty, "start_date": start,
                "due_date": start, "status": status, "bom_revision": "A"}

    def comp(order: str, pos: int, component: str, qty: float, day: dt.date) -> dict[str, Any]:
        return {"work_order": order, "position": pos, "component": component,
                "required_quantity": qty, "required_date": day}

    orders = [("W0", "released", week(0)), ("W1", "released", week(2)),
              ("W2", "planned", week(3)), ("W3", "in_progress", week(4))]
    return data(
        items=[item("P", make_buy="make"), item("OLD", standard_cost=4.0),
               item("KEEP", standard_cost=1.0), item("NEW", lead_time_days=14)],
        bom_revisions=[revision("P", "A"), revision("P", "B", status="draft")],
        bom_lines=[line("P", "OLD", 2, 10, revision="A"), line("P", "KEEP", 1, 20, revision="A"),
                   line("P", "KEEP", 3, 20, revision="B"), line("P", "NEW", 1, 30, revision="B")],
        inventory=[stock("OLD", 100), stock("KEEP", 40)],
        work_orders=[wo(code, status, start, 10) for code, status, start in orders],
        work_order_components=[c for code, _s, start in orders
                               for c in (comp(code, 10, "OLD", 20, start),
                                         comp(code, 20, "KEEP", 10, start))],
    )


def test_released_work_orders_keep_their_components_planned_ones_follow_the_new_revision() -> None:
    s = PlanningSession(work_order_data(), weekly(6))
    result = s.impact("P", "A", "B", week(2))
    # W0 starts before the switch: built to A either way, not listed
    fates = {w["code"]: (w["status"], w["fate"]) for w in result["work_orders"]}
    assert fates == {"W1": ("released", "keeps"), "W2": ("planned", "follows"),
                     "W3": ("in_progress", "keeps")}
    after = {w["code"]: w["after_change"] for w in result["work_orders"]}
    assert after["W1"] == "keeps the components of A (released)"
    assert after["W2"] == "follows B (not released yet)"
    # Before: OLD 20 in weeks 0, 2, 3, 4 (80); KEEP 10 in each (40 = the 40 on hand).
    # After: W2 (planned, week 3) drops its own list (OLD 20, KEEP 10) and takes B's lines for
    # its 10: KEEP 30 and NEW 10 in week 3. OLD 60; KEEP 10 + 10 + 30 + 10 = 60.
    rows = {r["item"]: r for r in result["affected_rows"]}
    assert set(rows) == {"OLD", "KEEP", "NEW"}
    assert (rows["OLD"]["gross_a"], rows["OLD"]["gross_b"]) == (80, 60)
    assert (rows["KEEP"]["gross_a"], rows["KEEP"]["gross_b"]) == (40, 60)
    assert (rows["NEW"]["gross_a"], rows["NEW"]["gross_b"]) == (0, 10)
    # KEEP: 40 on hand - 10 (wk 0) - 10 (wk 2) = 20 left for week 3's 30: short 10 in week 3,
    # then W3's 10 in week 4: short 10 more. NEW: nothing on hand, 10 short in week 3.
    new = {r["item"]: r for r in result["new_requirements"]}
    assert new["KEEP"]["new_net_requirement"] == pytest.approx(20)
    assert new["KEEP"]["first_shortage_date"] == week(3)
    assert new["KEEP"]["first_shortage_quantity"] == pytest.approx(10)
    assert new["NEW"]["new_net_requirement"] == pytest.approx(10)
    assert new["NEW"]["first_shortage_date"] == week(3)
    # OLD: 100 on hand, 80 needed before, 60 after: 20 more of the stock is excess, value 80
    assert result["excess"] == [{"item": "OLD", "site": "S1", "kind": "on_hand", "ref": "",
                                 "quantity": pytest.approx(20), "value": pytest.approx(80)}]
    # week by week: KEEP's projected available before planned orders goes below zero from
    # week 3 after the change (20 left - 30 = -10, then W3's 10: -20)
    weeks = {r["item"]: r for r in result["weeks"]["rows"]}
    assert result["weeks"]["dates"] == [week(b) for b in range(6)]
    assert list(weeks["KEEP"]["projected_a"]) == [30, 30, 20, 10, 0, 0]
    assert list(weeks["KEEP"]["projected_b"]) == [30, 30, 20, -10, -20, -20]
    assert list(weeks["KEEP"]["net_b"]) == [0, 0, 0, 10, 10, 0]
    assert list(weeks["NEW"]["net_b"]) == [0, 0, 0, 10, 0, 0]
    summary = result["summary"]
    assert (summary["work_orders_keep"], summary["work_orders_follow"]) == (2, 1)
    assert (summary["new_shortage_rows"], summary["changed_rows"]) == (2, 3)
    assert summary["nothing_changes_because"] is None
    assert "2 row(s) with new shortages; 3 row(s) change in the plan" in summary["text"]


def test_planned_orders_starting_from_the_switch_follow_the_new_revision() -> None:
    # P has a lead time of one week: D1 (week 1) -> order starting week 0, D2 (week 3) -> week 2
    d = change_data()
    d = d.replace(items=d.items.assign(lead_time_days=d.items["code"].map({"P": 7}).fillna(
        d.items["lead_time_days"])))
    s = PlanningSession(d, weekly(6))
    result = s.impact("P", "A", "B", week(2))
    got = [(o["start_date"], o["due_date"], o["quantity"], o["fate"])
           for o in result["planned_orders"]]
    assert got == [(week(0), week(1), 10, "untouched"), (week(2), week(3), 10, "follows")]
    assert result["planned_orders"][0]["after_change"] == f"stays on A (starts before {week(2)})"
    # only the week-2 order explodes through B: NEW 10 x 1 needed in week 2
    new = {r["item"]: r for r in result["new_requirements"]}
    assert new["NEW"]["first_shortage_date"] == week(2)
    assert result["summary"]["planned_orders_follow"] == 1


def _nothing(result: dict[str, Any]) -> str:
    assert result["affected_rows"] == [] and result["weeks"]["rows"] == []
    reason = result["summary"]["nothing_changes_because"]
    assert result["summary"]["text"].endswith(f" Nothing changes in the horizon, because {reason}")
    assert "0 row(s) with new shortages; 0 row(s) change in the plan." in result["summary"]["text"]
    return str(reason)


def test_a_change_that_changes_nothing_in_the_horizon_says_why() -> None:
    d = change_data()
    same = d.replace(bom_lines=pd.concat([d.bom_lines[d.bom_lines["revision"] == "A"],
                                          d.bom_lines[d.bom_lines["revision"] == "A"]
                                          .assign(revision="C")], ignore_index=True),
                     bom_revisions=pd.concat([d.bom_revisions, d.bom_revisions.iloc[[2]]
                                              .assign(revision="C")], ignore_index=True))
    s = PlanningSession(same, weekly(6))
    assert _nothing(s.impact("P", "A", "C", week(2))) == \
        "P revisions A and C have the same lines (components and quantities)."
    # horizon of 6 weeks: 3 Mar to 13 Apr 2025; a switch on 5 May is beyond it
    s = PlanningSession(change_data(), weekly(6))
    assert _nothing(s.impact("P", "A", "B", week(9))) == \
        f"{week(9)} is after the planning horizon, which ends on {week(5, 6)}."
    # the last demand of P is D2 in week 3: no order of P starts from week 4 on
    assert _nothing(s.impact("P", "A", "B", week(4))) == (
        f"no planned order or planned work order of P starts on or after {week(4)} within the "
        f"horizon (to {week(5, 6)}).")
    # a unit change only (2 x OLD in EA vs 2,000 x OLD in "G" that converts to the same 2)
    unit = d.replace(bom_lines=pd.concat([d.bom_lines[d.bom_lines["revision"] == "A"],
                                          d.bom_lines[d.bom_lines["revision"] == "A"]
                                          .assign(revision="C", orig_uom="G")],
                                         ignore_index=True),
                     bom_revisions=pd.concat([d.bom_revisions, d.bom_revisions.iloc[[2]]
                                              .assign(revision="C")], ignore_index=True))
    s = PlanningSession(unit, weekly(6))
    assert _nothing(s.impact("P", "A", "C", week(2))) == \
        "the lines of A and C differ only in orig uom, not in the quantity per stock unit."


def test_scenario_b_equals_a_full_plan_with_the_planned_work_order_rebuilt() -> None:
    """Scenario B of the impact is what a full plan gives when B is in force from the date and
    the planned work order W2 carries B's component list instead of its own."""
    d = work_order_data()
    s = PlanningSession(d, weekly(6))
    result = s.impact("P", "A", "B", week(2))
    revs = d.bom_revisions.copy()
    revs.loc[revs["revision"] == "A", "effective_to"] = pd.Timestamp(week(2) - dt.timedelta(1))
    woc = d.work_order_components
    rebuilt = pd.concat([woc[woc["work_order"] != "W2"], data(work_order_components=[
        {"work_order": "W2", "position": 20, "component": "KEEP", "required_quantity": 30,
         "required_date": week(3)},
        {"work_order": "W2", "position": 30, "component": "NEW", "required_quantity": 10,
         "required_date": week(3)}]).work_order_components], ignore_index=True)
    full = plan(with_revision_released(d.replace(bom_revisions=revs,
                                                 work_order_components=rebuilt),
                                       "P", "B", week(2)), weekly(6))
    for r in result["affected_rows"]:
        got = record(full, r["item"])
        assert sum(got["gross_requirements"]) == pytest.approx(r["gross_b"]), r["item"]
        assert sum(got["net_requirements"]) == pytest.approx(r["net_b"]), r["item"]
    weeks = {r["item"]: r for r in result["weeks"]["rows"]}
    assert list(weeks["NEW"]["net_b"]) == record(full, "NEW")["net_requirements"]


def test_released_work_orders_alone_change_nothing_and_the_reason_says_so() -> None:
    # work_order_data with W2 released too: every order of P from week 2 on keeps its own
    # components, P has no demand (so no planned order): nothing below P moves
    d = work_order_data()
    d = d.replace(work_orders=d.work_orders.assign(status=d.work_orders["status"].replace(
        {"planned": "released"})))
    result = PlanningSession(d, weekly(6)).impact("P", "A", "B", week(2))
    assert [(w["code"], w["fate"]) for w in result["work_orders"]] == [
        ("W1", "keeps"), ("W2", "keeps"), ("W3", "keeps")]
    assert result["planned_orders"] == []
    assert _nothing(result) == (
        f"no planned order or planned work order of P starts on or after {week(2)} within the "
        f"horizon (to {week(5, 6)}); 3 released work order(s) keep their components.")
    assert (result["summary"]["work_orders_keep"], result["summary"]["work_orders_follow"]) == (3, 0)
