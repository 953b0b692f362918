"""Requisition re-evaluation: one hand-made case per recommended action."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.analysis.builders import (
    data,
    demand,
    item,
    line,
    po_line,
    revision,
    stock,
    week,
    weekly,
)
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


def recommendations_frame():  # type: ignore[no-untyped-def]
    from workbench.analysis.requisitions import reevaluate

    s = session()
    slip = dict(zip(s.slippage.suppliers["supplier"], s.slippage.suppliers["expected_slip_days"]))
    return reevaluate(s.data, s.plan(), slip, s.peg_summary)


def recommendations() -> dict:
    return {r["requisition"]: r for r in recommendations_frame().to_dict("records")}


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


def grouped(parent: str, component: str, qty: float, position: int, group: str,
            priority: int) -> dict:
    return line(parent, component, qty, position, alternate_group=group,
                alternate_priority=priority)


def alternates_session() -> PlanningSession:
    """Four requisitions of preferred components of alternate groups (weekly buckets 0-5).

    * P (lead 7 days) needs 10 in week 3, released in week 2: X needs 2 x 10 = 20 in week 2,
      5 on hand, short 15. Group G1 of P rev A: X 2 per P, alternate Y 3 per P (1.5 Y per X).
    * Q (lead 0) needs 8 in week 1: K short 8 in week 1. Group G2: K 1, V 2 (priority 1),
      W 2 (priority 2); V has 2 on hand, W 50.
    * R (lead 0) needs 20 in week 3: ZL short 20. Group G3: ZL 1, Y 1.
    * S (lead 0) needs 3 in week 1 and IND has its own demand of 5: IND short 8 in week 1.
      Group G4: IND 1, W 1.
    * Y: 30 on hand, its own demand 4 in week 4: firm projected 30 30 30 30 26 26.
    """
    d = data(
        items=[item(c, make_buy="make", lead_time_days=7 if c == "P" else 0)
               for c in ("P", "Q", "R", "S")]
        + [item(c) for c in ("X", "Y", "K", "V", "W", "ZL", "IND")],
        bom_revisions=[revision(p) for p in ("P", "Q", "R", "S")],
        bom_lines=[grouped("P", "X", 2, 10, "G1", 0), grouped("P", "Y", 3, 20, "G1", 1),
                   grouped("Q", "K", 1, 10, "G2", 0), grouped("Q", "V", 2, 20, "G2", 1),
                   grouped("Q", "W", 2, 30, "G2", 2),
                   grouped("R", "ZL", 1, 10, "G3", 0), grouped("R", "Y", 1, 20, "G3", 1),
                   grouped("S", "IND", 1, 10, "G4", 0), grouped("S", "W", 1, 20, "G4", 1)],
        inventory=[stock("X", 5), stock("Y", 30), stock("V", 2), stock("W", 50)],
        demands=[demand("DP", "P", 10, week(3)), demand("DQ", "Q", 8, week(1)),
                 demand("DR", "R", 20, week(3)), demand("DS", "S", 3, week(1)),
                 demand("DI", "IND", 5, week(1)), demand("DY", "Y", 4, week(4))],
        requisitions=[req("RX", "X", 25, week(2)), req("RK", "K", 8, week(1)),
                      req("RZ", "ZL", 20, week(3)), req("RI", "IND", 8, week(1))],
    )
    return PlanningSession(d, weekly(6))


def test_switch_to_an_alternate_component_with_free_stock() -> None:
    from workbench.analysis.requisitions import reevaluate

    s = alternates_session()
    recs = reevaluate(s.data, s.plan(), {}).set_index("requisition")
    rows = recs[["item", "action", "proposed_item", "proposed_quantity", "proposed_date",
                 "proposed_supplier"]].to_dict("index")
    # Judged in item order IND, K, X, ZL:
    # IND: S's demand is only 3 of the 8 needed in week 1; W may not take the other 5 -> keep.
    # K: V would need 8 x 2 = 16 but has 2 free; W (priority 2) has 50 free -> W 16.
    # X: 15 needed in week 2 (the other 10 requisitioned are excess): 15 x 1.5 = 22.5 Y;
    #    Y is kept in EA (the model's default unit, a count unit): whole units, 23;
    #    Y free from week 2 = min(30, 30, 26, 26) = 26 -> Y 23, leaving 7 7 3 3.
    # ZL: 20 Y needed from week 3, free min(7, 3, 3) = 3 -> keep.
    assert rows == {
        "RI": {"item": "IND", "action": "keep", "proposed_item": "", "proposed_quantity": 8,
               "proposed_date": week(1), "proposed_supplier": ""},
        "RK": {"item": "K", "action": "switch_source", "proposed_item": "W",
               "proposed_quantity": 16, "proposed_date": week(1), "proposed_supplier": ""},
        "RX": {"item": "X", "action": "switch_source", "proposed_item": "Y",
               "proposed_quantity": 23, "proposed_date": week(2), "proposed_supplier": ""},
        "RZ": {"item": "ZL", "action": "keep", "proposed_item": "", "proposed_quantity": 20,
               "proposed_date": week(3), "proposed_supplier": ""},
    }
    rx = recs.loc["RX"]
    assert rx["reason"] == (
        "Switch to alternate Y: 15 of X at S1 is still needed from 2025-03-17 for P (revision A, "
        "alternate group G1, 1.5 Y per X), where Y may replace X; Y has 26 free at S1 by "
        "2025-03-17 (stock and open receipts its own requirements do not need), enough for the "
        "23 Y needed, so nothing has to be bought; the other 10 requisitioned is not needed; "
        "Y is taken in whole units: 22.5 rounded up to 23.")
    assert rx["evidence"]["alternate"] == {
        "item": "Y", "quantity": 23.0, "converted_quantity": 22.5, "replaces_quantity": 15.0,
        "free_quantity": 26.0,
        "free_by": week(2), "lines": [{"parent": "P", "revision": "A", "group": "G1",
                                       "quantity": 15.0, "alternate_quantity": 22.5,
                                       "ratio": 1.5}]}
    assert recs.loc["RK", "evidence"]["alternates_checked"] == [
        {"item": "V", "reason": "not enough free stock", "free_quantity": 2.0,
         "quantity_needed": 16.0}]
    assert recs.loc["RZ", "evidence"]["alternates_checked"] == [
        {"item": "Y", "reason": "not enough free stock", "free_quantity": 3.0,
         "quantity_needed": 20.0}]
    assert recs.loc["RI", "evidence"]["alternates_checked"] == [
        {"item": "W", "reason": "only part of the need is demand of parents it may serve",
         "switchable_quantity": 3.0}]
    assert "alternate" not in recs.loc["RZ", "evidence"]


def test_alternate_switches_are_deterministic_and_leave_the_other_rules_alone() -> None:
    from workbench.analysis.requisitions import reevaluate

    s = alternates_session()
    a = reevaluate(s.data, s.plan(), {})
    b = reevaluate(alternates_session().data, alternates_session().plan(), {})
    assert a[["requisition", "action", "proposed_item", "proposed_quantity", "reason"]].equals(
        b[["requisition", "action", "proposed_item", "proposed_quantity", "reason"]])
    # without alternate groups nothing is switched to another item
    assert (recommendations_frame()["proposed_item"] == "").all()


def alternate_plant() -> dict[str, list[dict]]:
    """P needs 10 in week 3 (lead 7 days): X short 20 - 5 = 15 in week 2; Y (1.5 per X) has 30."""
    iso = dt.date.isoformat
    return {
        "uoms": [{"code": "EA"}],
        "sites": [{"code": "S1"}],
        "suppliers": [{"code": "SUP", "name": "Supplier"}],
        "items": [{"code": "P", "make_buy": "make", "lead_time_days": 7},
                  {"code": "X", "default_supplier": "SUP"}, {"code": "Y"}],
        "bom_revisions": [{"parent": "P", "revision": "A", "status": "released"}],
        "bom_lines": [grouped("P", "X", 2, 10, "G1", 0), grouped("P", "Y", 3, 20, "G1", 1)],
        "inventory": [{"item": "X", "site": "S1", "quantity": 5, "as_of": iso(week(0))},
                      {"item": "Y", "site": "S1", "quantity": 30, "as_of": iso(week(0))}],
        "demands": [{"code": "DP", "item": "P", "site": "S1", "quantity": 10,
                     "due_date": iso(week(3))}],
        "requisitions": [{"code": "RX", "item": "X", "site": "S1", "quantity": 15,
                          "need_date": iso(week(2)), "source_key": "purchase.request,7",
                          "source_version": "v1"}],
    }


def test_alternate_switch_is_stored_and_decided_with_its_item(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    import json

    from sqlalchemy import text

    from tests.fixtures_connector import MemoryConnector
    from workbench.cache.db import open_cache
    from workbench.cli import main
    from workbench.services.sync import run_sync

    path = tmp_path / "cache.sqlite"
    assert run_sync(open_cache(path), MemoryConnector(alternate_plant(), batch_size=50)).ok

    def cli(*args: str) -> Any:
        assert main([*args, "--cache", str(path), "--json"]) == 0
        return json.loads(capsys.readouterr().out)

    (rec,) = cli("reevaluate")["recommendations"]
    assert (rec["requisition"], rec["action"], rec["proposed_item"], rec["proposed_quantity"],
            rec["proposed_date"], rec["proposed_supplier"]) == \
        ("RX", "switch_source", "Y", 23, week(2).isoformat(), "")  # 22.5 EA -> whole EA
    engine = open_cache(path)
    with engine.connect() as conn:
        rec_id, stored_item, supplier = conn.execute(text(
            "SELECT id, proposed_item, proposed_supplier FROM recommendations")).one()
    assert (stored_item, supplier) == ("Y", None)

    out = cli("decisions", "record", "RX", "--verdict", "approve",
              "--recommendation", str(rec_id), "--by", "buyer")
    with engine.connect() as conn:
        payload = json.loads(conn.execute(text("SELECT payload FROM outbox WHERE id = :i"),
                                          {"i": out["outbox"]}).scalar_one())
    assert payload == {"idempotency_key": out["idempotency_key"], "action": "switch_source",
                       "target": "purchase.request,7", "base_version": "v1", "quantity": 23,
                       "date": week(2).isoformat(), "supplier": None, "comment": "",
                       "item": "Y"}
    (decided,) = cli("decisions", "list")
    assert (decided["action"], decided["item"], decided["quantity"]) == \
        ("switch_source", "Y", 23)
    # the item is part of what was decided: the same switch to another item is another key
    other = cli("decisions", "record", "RX", "--verdict", "modify", "--action", "switch_source",
                "--item", "P", "--quantity", "22.5", "--date", week(2).isoformat(),
                "--by", "buyer")
    assert other["idempotency_key"] != out["idempotency_key"] and not other["duplicate"]
    # only a switch of source may change the item
    assert main(["decisions", "record", "RX", "--verdict", "modify", "--action", "reduce",
                 "--item", "Y", "--quantity", "5", "--cache", str(path)]) == 2
    assert "only switch_source changes the item" in capsys.readouterr().err


def test_a_parent_requirement_is_switched_once() -> None:
    """X needs 30 in week 2: 20 for P (group G1, Y 1.5 per X) and 10 of its own demand. R1 (20)
    takes P's 20 -> Y 30 of Y's 100; R2 (10) covers X's own demand, which Y may not replace."""
    from workbench.analysis.requisitions import reevaluate

    d = data(
        items=[item("P", make_buy="make", lead_time_days=7), item("X"), item("Y")],
        bom_revisions=[revision("P")],
        bom_lines=[grouped("P", "X", 2, 10, "G1", 0), grouped("P", "Y", 3, 20, "G1", 1)],
        inventory=[stock("Y", 100)],
        demands=[demand("DP", "P", 10, week(3)), demand("DX", "X", 10, week(2))],
        requisitions=[req("R1", "X", 20, week(2)), req("R2", "X", 10, week(2))],
    )
    s = PlanningSession(d, weekly(6))
    recs = reevaluate(s.data, s.plan(), {}).set_index("requisition")
    assert recs[["action", "proposed_item", "proposed_quantity"]].to_dict("index") == {
        "R1": {"action": "switch_source", "proposed_item": "Y", "proposed_quantity": 30},
        "R2": {"action": "keep", "proposed_item": "", "proposed_quantity": 10},
    }
    assert recs.loc["R2", "evidence"]["alternates_checked"] == [
        {"item": "Y", "reason": "the need is not demand of parents it may serve",
         "switchable_quantity": 0.0}]
