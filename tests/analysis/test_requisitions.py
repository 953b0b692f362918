"""Requisition re-evaluation: one hand-made case per recommended action."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.analysis.builders import data, demand, item, po_line, stock, week, weekly
from workbench.analysis.session import PlanningSession


def req(code: str, item_: str, qty: float, need: dt.date, supplier: str = "") -> dict:
    return {"code": code, "item": item_, "site": "S1", "quantity": qty, "need_date": need,
            "suggested_supplier": supplier, "source_version": f"v-{code}"}


def history(supplier: str, item_: str, slip_days: int, n: int = 5) -> list[dict]:
    return [po_line(f"H-{supplier}-{i}", 1, item_, 1, week(-20), supplier=supplier,
                    status="received", quantity_received=1,
                    received_date=week(-20) + dt.timedelta(days=slip_days)) for i in range(n)]


def session() -> PlanningSession:
    d = data(
        items=[item(c) for c in ("X", "Y", "Z", "C", "I", "SW", "FAR")]
        + [item("M", min_order_qty=12)],
        suppliers=[{"code": c} for c in ("SUP", "SLOW", "FAST")],
        inventory=[stock("C", 100)],
        demands=[demand("DX1", "X", 10, week(1)), demand("DX3", "X", 20, week(3)),
                 demand("DY", "Y", 10, week(2)), demand("DZ", "Z", 10, week(4)),
                 demand("DC", "C", 10, week(2)), demand("DI", "I", 30, week(2)),
                 demand("DSW", "SW", 10, week(2)), demand("DM", "M", 3, week(1))],
        purchase_order_lines=[po_line("PX", 1, "X", 10, week(1))]
        + history("SLOW", "SW", 14) + history("FAST", "SW", 0),
        requisitions=[req("R1", "X", 15, week(3)), req("R2", "X", 10, week(4)),
                      req("R3", "Y", 10, week(4)), req("R4", "Z", 10, week(1)),
                      req("R5", "C", 10, week(2)), req("R6", "I", 10, week(2)),
                      req("R7", "SW", 10, week(2), "SLOW"), req("R8", "FAR", 5, week(10)),
                      req("R9", "M", 20, week(1)),
                      {**req("R0", "X", 99, week(1)), "status": "ordered"}],
    )
    return PlanningSession(d, weekly(6))


def recommendations() -> dict:
    from workbench.analysis.requisitions import reevaluate

    s = session()
    slip = dict(zip(s.slippage.suppliers["supplier"], s.slippage.suppliers["expected_slip_days"]))
    recs = reevaluate(s.data, s.plan(), slip, s.peg_summary)
    return {r["requisition"]: r for r in recs.to_dict("records")}


def test_each_action_with_its_quantity_date_and_evidence() -> None:
    r = recommendations()
    assert "R0" not in r  # ordered requisitions are not re-evaluated
    # X: PO covers week 1; week 3 needs 20: R1 covers 15, R2 the other 5
    assert (r["R1"]["action"], r["R1"]["proposed_quantity"]) == ("keep", 15)
    assert r["R1"]["evidence"]["pegged_demands"] == [{"peg": "DX3", "quantity": 20}]
    assert (r["R2"]["action"], r["R2"]["proposed_quantity"], r["R2"]["proposed_date"]) == \
        ("reduce", 5, week(3))
    assert r["R2"]["evidence"]["excess"] == 5 and r["R2"]["evidence"]["on_order"] == 10
    assert (r["R3"]["action"], r["R3"]["proposed_date"]) == ("expedite", week(2))
    assert (r["R4"]["action"], r["R4"]["proposed_date"]) == ("defer", week(4))
    assert (r["R5"]["action"], r["R5"]["proposed_quantity"]) == ("cancel", 0)
    assert "would create 10 excess" in r["R5"]["reason"]
    assert (r["R6"]["action"], r["R6"]["proposed_quantity"]) == ("increase", 30)
    assert (r["R7"]["action"], r["R7"]["proposed_supplier"]) == ("switch_source", "FAST")
    assert r["R7"]["evidence"]["supplier_expected_slip_days"] == pytest.approx(7)
    assert r["R8"]["action"] == "keep" and "beyond the planning horizon" in r["R8"]["reason"]
    # M: 3 needed, minimum 12 -> reduce 20 to 12
    assert (r["R9"]["action"], r["R9"]["proposed_quantity"]) == ("reduce", 12)
    assert r["R1"]["base_version"] == "v-R1"


def test_deterministic() -> None:
    a, b = recommendations(), recommendations()
    assert [(k, v["action"], v["reason"]) for k, v in a.items()] == \
        [(k, v["action"], v["reason"]) for k, v in b.items()]
