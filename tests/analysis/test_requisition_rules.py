"""Recommendations a buyer can act on: unit and lot rules, lead-time feasibility, the evidence
table. Hand-computed; weekly buckets from Monday 2025-03-03 (week b starts TODAY + 7 b)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from tests.analysis.builders import data, demand, item, po_line, stock, week, weekly
from workbench.analysis.lots import OrderRules, Pack, order_quantity, pack_sizes
from workbench.analysis.requisitions import UnitFacts, reevaluate
from workbench.analysis.session import PlanningSession

COUNTS = frozenset({"EA", "BOX"})


def req(code: str, item_: str, qty: float, need: Any, supplier: str = "SUP") -> dict:
    return {"code": code, "item": item_, "site": "S1", "quantity": qty, "need_date": need,
            "suggested_supplier": supplier, "source_version": f"v-{code}"}


def run(d: Any, units: UnitFacts | None = None, weeks: int = 6) -> dict[str, dict]:
    s = PlanningSession(d, weekly(weeks))
    frame = reevaluate(s.data, s.plan(), {}, units=units)
    return {r["requisition"]: r for r in frame.to_dict("records")}


# --- quantities -------------------------------------------------------------------------------

def test_order_quantity_rounds_whole_then_minimum_then_multiple_then_pack() -> None:
    # 7 -> minimum 25 -> multiple of 10: 30 -> boxes of 12: 36 (pack first would give 30)
    r = order_quantity(7, OrderRules("EA", True, 25, 10, Pack("BOX", 12)))
    assert r.quantity == 36
    assert r.steps == ["minimum order quantity 25 EA", "order multiple 10 EA",
                       "whole BOX of 12 EA (the supplier's pack)"]
    # a count unit: 311.08 -> 312, nothing else to do
    r = order_quantity(311.08, OrderRules("EA", True))
    assert (r.quantity, r.note()) == (312, "311.08 needed, rounded up to 312: whole EA "
                                           "(EA is counted)")
    # a mass unit keeps its fraction; no rounding, no note
    r = order_quantity(311.08, OrderRules("KG", False))
    assert (r.quantity, r.steps, r.note()) == (311.08, [], "")
    # a fractional multiple of a count unit is made whole at the end: 0.4 x 3 = 1.2 -> 2
    assert order_quantity(1.1, OrderRules("EA", True, 0, 0.4)).quantity == 2


def test_reduce_and_increase_propose_quantities_a_buyer_can_order() -> None:
    """Each item needs what its demand says in week 1 (nothing in stock, no POs):

    * EA 311.08 (counted): requisition 400 -> reduce to 312 (not 311.08).
    * KG 311.08 (mass): requisition 400 -> reduce to 311.08.
    * MM 33 EA, minimum 50, multiple 20: 33 -> 50 -> 60; requisition 100 -> reduce to 60.
    * PK 30 EA, SUP sells it in BOX of 12: 30 -> 36; requisition 50 -> reduce to 36.
    * IN 30 EA, multiple 25: requisition 10 -> increase by the 20 uncovered: 30 -> 50.
    """
    d = data(
        items=[item("EA1"), item("KG1", stock_uom="KG"),
               item("MM", min_order_qty=50, order_multiple=20), item("PK"),
               item("IN", order_multiple=25)],
        suppliers=[{"code": "SUP"}],
        demands=[demand("D1", "EA1", 311.08, week(1)), demand("D2", "KG1", 311.08, week(1)),
                 demand("D3", "MM", 33, week(1)), demand("D4", "PK", 30, week(1)),
                 demand("D5", "IN", 30, week(1))],
        requisitions=[req("R1", "EA1", 400, week(1)), req("R2", "KG1", 400, week(1)),
                      req("R3", "MM", 100, week(1)), req("R4", "PK", 50, week(1)),
                      req("R5", "IN", 10, week(1))],
    )
    units = UnitFacts(COUNTS, {("PK", "SUP"): Pack("BOX", 12)})
    r = run(d, units)
    got = {k: (v["action"], v["proposed_quantity"]) for k, v in r.items()}
    assert got == {"R1": ("reduce", 312), "R2": ("reduce", pytest.approx(311.08)),
                   "R3": ("reduce", 60), "R4": ("reduce", 36), "R5": ("increase", 50)}
    assert "Reduce to 312 EA:" in r["R1"]["reason"]
    assert "Order quantity: 311.08 needed, rounded up to 312: whole EA" in r["R1"]["reason"]
    assert "rounded" not in r["R2"]["reason"]
    assert ("Order quantity: 33 needed, rounded up to 60: minimum order quantity 50 EA; "
            "order multiple 20 EA.") in r["R3"]["reason"]
    assert "whole BOX of 12 EA (the supplier's pack)" in r["R4"]["reason"]
    assert r["R4"]["evidence"]["order_quantity"] == {
        "needed": 30, "quantity": 36, "rounded_for": ["whole BOX of 12 EA (the supplier's pack)"]}
    assert "30 needed, rounded up to 50: order multiple 25 EA" in r["R5"]["reason"]
    # without a units table the usual count codes are counted: EA1 still 312
    assert run(d)["R1"]["proposed_quantity"] == 312


def test_a_supplier_pack_is_known_from_its_orders_in_a_pack_unit() -> None:
    lines = pd.DataFrame([
        {"purchase_order": "P1", "line": 1, "item": "A", "supplier": "S", "orig_uom": "EA"},
        {"purchase_order": "P2", "line": 1, "item": "A", "supplier": "S", "orig_uom": "BOX"},
        {"purchase_order": "P1", "line": 2, "item": "A", "supplier": "T", "orig_uom": "EA"},
        {"purchase_order": "P3", "line": 1, "item": "B", "supplier": "S", "orig_uom": "KG"},
        {"purchase_order": "P4", "line": 1, "item": "C", "supplier": "S", "orig_uom": "BOX"},
    ])
    conversions = pd.DataFrame([
        {"item": "A", "from_uom": "BOX", "to_uom": "EA", "factor": 12.0},
        {"item": "", "from_uom": "KG", "to_uom": "G", "factor": 1000.0},  # global: no pack
    ])
    # A from S: its latest order is in BOX, 1 BOX of A = 12 EA. A from T: in EA, no pack.
    # B: KG is no count unit. C: BOX without an item-specific conversion of C.
    items = pd.DataFrame({"code": ["A", "B", "C"], "stock_uom": ["EA", "G", "EA"]})
    assert pack_sizes(lines, conversions, COUNTS, items) == {("A", "S"): Pack("BOX", 12.0)}


# --- dates and lead time ------------------------------------------------------------------------

def lead_time_plant() -> Any:
    """FAR (lead 21 days) and NEAR (lead 5 days) suppliers; today Monday 2025-03-03.

    * X needs 10 on 2025-03-10, requisitioned from FAR for 2025-03-31 -> expedite to 03-10,
      but ordered today FAR delivers 03-24: needs FAR's confirmation.
    * Y the same from NEAR: earliest 03-08, so 03-10 is feasible.
    * Z needs 6 on 03-10, requisitioned 10 from FAR for 03-17: reduce to 6 AND pull in to
      03-10, which is inside FAR's lead time.
    * W needs 4 on 03-24, requisitioned 10 from FAR for 03-10: reduce to 4 and defer to 03-24
      (no confirmation needed for a later date).
    """
    return data(
        items=[item(c) for c in ("X", "Y", "Z", "W")],
        suppliers=[{"code": "FAR", "lead_time_days": 21}, {"code": "NEAR", "lead_time_days": 5}],
        demands=[demand("DX", "X", 10, week(1)), demand("DY", "Y", 10, week(1)),
                 demand("DZ", "Z", 6, week(1)), demand("DW", "W", 4, week(3))],
        requisitions=[req("RX", "X", 10, week(4), "FAR"), req("RY", "Y", 10, week(4), "NEAR"),
                      req("RZ", "Z", 10, week(2), "FAR"), req("RW", "W", 10, week(1), "FAR")],
    )


def test_a_pull_in_inside_the_suppliers_lead_time_needs_its_confirmation() -> None:
    r = run(lead_time_plant())
    assert (r["RX"]["action"], str(r["RX"]["proposed_date"])) == ("expedite", "2025-03-10")
    assert r["RX"]["evidence"]["needs_supplier_confirmation"] is True
    assert r["RX"]["evidence"]["lead_time"] == {"days": 21, "of": "FAR's lead time",
                                                "earliest": week(3)}
    assert r["RX"]["reason"].endswith(
        "Needs FAR's confirmation: the pull-in to 2025-03-10 is inside FAR's lead time of 21 "
        "days (ordered today it arrives 2025-03-24).")
    assert r["RY"]["action"] == "expedite"
    assert r["RY"]["evidence"]["needs_supplier_confirmation"] is False
    assert "confirmation" not in r["RY"]["reason"]


def test_a_reduce_that_also_moves_the_date_says_both() -> None:
    r = run(lead_time_plant())
    rz = r["RZ"]
    assert (rz["action"], rz["proposed_quantity"], rz["proposed_date"]) == \
        ("reduce", 6, week(1))
    assert rz["reason"].startswith("Reduce to 6 EA and pull in from 2025-03-17 to 2025-03-10:")
    assert rz["evidence"]["date_change"] == {"kind": "pull_in", "from": week(2), "to": week(1),
                                             "days": -7}
    assert rz["evidence"]["needs_supplier_confirmation"] is True
    assert "Needs FAR's confirmation: the pull-in to 2025-03-10" in rz["reason"]
    rw = r["RW"]
    assert (rw["action"], rw["proposed_quantity"], rw["proposed_date"]) == \
        ("reduce", 4, week(3))
    assert rw["reason"].startswith("Reduce to 4 EA and defer from 2025-03-10 to 2025-03-24:")
    assert rw["evidence"]["date_change"]["kind"] == "defer"
    assert "needs_supplier_confirmation" not in rw["evidence"]


# --- the evidence table -------------------------------------------------------------------------

def test_the_evidence_table_adds_up() -> None:
    """C: 30 on hand, safety stock 5, a PO of 20 in week 2; needs 20 (week 1), 25 (week 2),
    15 (week 3), 8 (week 5). First in, first out: stock keeps the safety stock (5) and covers
    week 1 (20) and 5 of week 2, the PO the other 20; week 3 (15) and week 5 (8) are net.
    R1 (10, week 2) takes 10 of week 3 -> defer to week 3; R2 (30, week 3) takes the other 5
    of week 3 and week 5's 8 -> reduce to 13."""
    d = data(
        items=[item("C", description="Cover plate", safety_stock=5)],
        suppliers=[{"code": "SUP", "name": "Sheet Metal Ltd"}],
        inventory=[stock("C", 30)],
        purchase_order_lines=[po_line("PO1", 1, "C", 20, week(2))],
        demands=[demand("D1", "C", 20, week(1)), demand("D2", "C", 25, week(2)),
                 demand("D3", "C", 15, week(3)), demand("D5", "C", 8, week(5))],
        requisitions=[req("R1", "C", 10, week(2)), req("R2", "C", 30, week(3))],
    )
    r = run(d)
    assert (r["R1"]["action"], r["R1"]["proposed_date"]) == ("defer", week(3))
    assert (r["R2"]["action"], r["R2"]["proposed_quantity"]) == ("reduce", 13)
    cols = ("period", "required", "from_stock", "from_open_orders",
            "from_earlier_requisitions", "from_this_requisition", "still_short")

    def rows(code: str) -> list[tuple]:
        return [tuple(line[c] for c in cols) for line in r[code]["evidence"]["coverage"]]

    assert rows("R1") == [
        ("safety stock", 5, 5, 0, 0, 0, 0),
        (week(1), 20, 20, 0, 0, 0, 0),
        (week(2), 25, 5, 20, 0, 0, 0),
        (week(3), 15, 0, 0, 0, 10, 5),  # R2 takes the other 5
        ("2025-04-07 to 2025-04-14", 8, 0, 0, 0, 0, 8),
        ("total", 73, 30, 20, 0, 10, 13),
    ]
    assert rows("R2") == [
        ("safety stock", 5, 5, 0, 0, 0, 0),
        (week(1), 20, 20, 0, 0, 0, 0),
        (week(2), 25, 5, 20, 0, 0, 0),
        (week(3), 15, 0, 0, 10, 5, 0),
        (week(5), 8, 0, 0, 0, 8, 0),
        ("total", 73, 30, 20, 10, 13, 0),
    ]
    for code in ("R1", "R2"):
        for line in r[code]["evidence"]["coverage"]:
            assert line["required"] == pytest.approx(sum(line[c] for c in cols[2:]))
    ev = r["R2"]["evidence"]
    assert (ev["unit"], ev["description"], ev["supplier_name"], ev["excess"]) == \
        ("EA", "Cover plate", "Sheet Metal Ltd", 17)
    from workbench.services.approvals import evidence_facts

    assert evidence_facts(ev)[:2] == [
        "Requisition: 30 EA needed 2025-03-24, supplier SUP Sheet Metal Ltd.",
        "It covers 13 EA of the net requirement; 17 EA of it would be excess."]
