"""Exception messages, hand-computed: one small plant holding a case for every kind.

Planning day Monday 2025-03-03, weekly buckets (bucket b starts on 03-03 + 7 b). Each test
asserts the exact messages of one kind, so removing that rule fails it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest

from tests.analysis.builders import TODAY, data, demand, item, line, po_line, revision, stock
from tests.analysis.builders import week as wk
from workbench.analysis.calendar import Calendar
from workbench.analysis.elements import element_list
from workbench.analysis.exceptions import KINDS, ExceptionSettings, compute_exceptions
from workbench.analysis.netting import plan

D = dt.date


def _plant() -> Any:
    items = [item(c) for c in ("X", "Y", "W", "U", "T", "R", "C", "C2", "P", "S")]
    items += [item("Z", lead_time_days=14), item("V", lead_time_days=14, safety_stock=10),
              item("Q", make_buy="make")]
    return data(
        items=items,
        demands=[demand("DX1", "X", 10, wk(1)), demand("DX2", "X", 20, wk(4)),
                 demand("DY", "Y", 50, wk(2)), demand("SO-9", "Z", 10, wk(1)),
                 demand("DU", "U", 10, wk(2)), demand("DT1", "T", 10, wk(2)),
                 demand("DT2", "T", 10, wk(3)), demand("DR", "R", 100, wk(1)),
                 demand("DQ", "Q", 5, wk(1))],
        inventory=[stock("V", 4)],
        purchase_orders=[{"code": "PO-6", "supplier": "SUP", "site": "S1",
                          "order_date": D(2025, 2, 20)}],
        purchase_order_lines=[
            po_line("PO-1", 1, "X", 10, wk(2)), po_line("PO-2", 1, "X", 30, wk(3)),
            po_line("PO-3", 1, "X", 5, wk(5)), po_line("PO-4", 1, "Y", 30, wk(2)),
            po_line("PO-5", 1, "W", 8, D(2025, 2, 24)), po_line("PO-6", 1, "U", 10, wk(2)),
            po_line("PO-7", 1, "T", 10, wk(2), requested_date=wk(1), ack_status="accepted"),
            po_line("PO-7", 2, "T", 10, wk(3), ack_status="rejected"),
            po_line("PO-8", 1, "R", 100, wk(1), asn_quantity=80, asn_date=D(2025, 3, 12)),
            po_line("PO-9", 1, "C", 5, wk(2)),
            po_line("PO-10", 1, "S", 5, wk(1), quantity_received=7),
        ],
        bom_revisions=[revision("P", "A", effective_to=D(2025, 2, 28)),
                       revision("P", "B", effective_from=D(2025, 3, 1)),
                       revision("Q", "A"), revision("Q", "B", status="draft")],
        bom_lines=[line("P", "C", 1, revision="A"), line("P", "C2", 1, revision="B")],
        work_orders=[{"code": "WO-1", "item": "Q", "site": "S1", "quantity": 5,
                      "start_date": wk(0), "due_date": wk(1), "status": "released",
                      "bom_revision": "A"}],
    )


@pytest.fixture(scope="module")
def messages() -> pd.DataFrame:
    d = _plant()
    p = plan(d, Calendar.weekly(TODAY, 8))
    return compute_exceptions(d, p, settings=ExceptionSettings(
        reschedule_out_tolerance_days=3), site_names={"S1": "Plant One"}).messages


def _of(messages: pd.DataFrame, kind: str, *columns: str) -> list[tuple[Any, ...]]:
    sel = messages[messages["kind"] == kind].sort_values("element")
    out = []
    for r in sel.to_dict("records"):
        row = []
        for c in ("element", *columns):
            v = r[c]
            if isinstance(v, pd.Timestamp):
                v = v.date()
            elif isinstance(v, float) and pd.isna(v):
                v = None
            row.append(v)
        out.append(tuple(row))
    return out


def test_reschedule_in_to_the_first_need(messages: pd.DataFrame) -> None:
    # PO-1/1 (10, due 03-17) comes first: on hand 0, so it serves DX1 (10 on 03-10): 7 days late
    assert _of(messages, "reschedule_in", "code", "suggested_date", "days", "role") == [
        ("PO-1/1", "E01", D(2025, 3, 10), 7.0, "buyer")]
    row = messages[messages["element"] == "PO-1/1"].iloc[0]
    assert row["endangers"] == [{"peg": "DX1", "due_date": D(2025, 3, 10), "quantity": 10.0}]
    assert (row["site_name"], row["supplier"]) == ("Plant One", "SUP")


def test_reschedule_out_beyond_the_tolerance(messages: pd.DataFrame) -> None:
    # PO-2/1 (due 03-24): before it 10 (PO-1); first cumulative requirement above 10 is DX2
    # (10 + 20 = 30, on 03-31): 7 days early > 3
    assert _of(messages, "reschedule_out", "suggested_date", "days") == [
        ("PO-2/1", D(2025, 3, 31), 7.0)]


def test_cancel_supply_nobody_needs(messages: pd.DataFrame) -> None:
    # PO-3/1: before it 10 + 30 = 40 >= every requirement of X (30); PO-5/1 (W), PO-9/1 (C):
    # no requirement at all
    assert _of(messages, "cancel", "suggested_quantity", "quantity") == [
        ("PO-3/1", 0.0, 5.0), ("PO-5/1", 0.0, 8.0), ("PO-9/1", 0.0, 5.0)]


def test_reduce_to_what_is_needed(messages: pd.DataFrame) -> None:
    # PO-2/1 holds 30, needed = 30 - 10 = 20
    assert _of(messages, "reduce", "quantity", "suggested_quantity") == [("PO-2/1", 30.0, 20.0)]


def test_increase_when_the_plan_orders_in_its_bucket(messages: pd.DataFrame) -> None:
    # Y: 50 needed on 03-17, PO-4/1 brings 30 that week: planned receipt 20 in bucket 2
    assert _of(messages, "increase", "quantity", "suggested_quantity") == [("PO-4/1", 30.0, 50.0)]


def test_release_past_due(messages: pd.DataFrame) -> None:
    # Z: 10 needed in bucket 1 (03-10), lead time 14 d: release 02-24, 7 days ago.
    # V: safety stock 10, on hand 4: 6 planned in bucket 0, release 03-03 - 14 = 02-17
    assert _of(messages, "release_past_due", "quantity", "need_date", "days", "role") == [
        ("planned:V@S1", 6.0, D(2025, 3, 3), 14.0, "buyer"),
        ("planned:Z@S1", 10.0, D(2025, 3, 10), 7.0, "buyer")]


def test_order_past_due(messages: pd.DataFrame) -> None:
    assert _of(messages, "order_past_due", "due_date", "days", "quantity") == [
        ("PO-5/1", D(2025, 2, 24), 7.0, 8.0)]


def test_below_safety_stock_within_lead_time(messages: pd.DataFrame) -> None:
    # V: firm projection 4 < 10 in bucket 0 (inside today + 14 d): short by 6
    assert _of(messages, "below_safety_stock", "need_date", "quantity") == [
        ("V@S1", D(2025, 3, 3), 6.0)]


def test_demand_late_by_how_much(messages: pd.DataFrame) -> None:
    # SO-9 pegs to Z's planned receipt: released today it arrives 03-17, needed 03-10
    assert _of(messages, "demand_late", "need_date", "days", "quantity", "item") == [
        ("SO-9", D(2025, 3, 10), 7.0, 10.0, "Z")]


def test_confirmation_missing(messages: pd.DataFrame) -> None:
    # PO-6 ordered 02-20, sent, no acknowledgement 11 days later (> 5); other orders have no
    # header order date and are not judged
    assert _of(messages, "confirmation_missing", "days") == [("PO-6/1", 11.0)]


def test_confirmation_differs(messages: pd.DataFrame) -> None:
    assert _of(messages, "confirmation_differs", "days", "suggested_date", "severity") == [
        ("PO-7/1", 7.0, D(2025, 3, 10), "medium"), ("PO-7/2", 0.0, D(2025, 3, 24), "high")]


def test_ship_notice_mismatch(messages: pd.DataFrame) -> None:
    assert _of(messages, "ship_notice_mismatch", "suggested_quantity", "days") == [
        ("PO-8/1", 80.0, 2.0)]


def test_revision_conflict(messages: pd.DataFrame) -> None:
    # C is used only by P's revision A, which ended 02-28; B (in force on 03-17) uses C2
    assert _of(messages, "revision_conflict", "item", "role") == [("PO-9/1", "C", "engineering")]


def test_draft_revision_pending(messages: pd.DataFrame) -> None:
    assert _of(messages, "draft_revision_pending", "item", "quantity") == [
        ("revision:Q/B", "Q", 5.0)]


def test_data_problem(messages: pd.DataFrame) -> None:
    assert _of(messages, "data_problem", "reason", "role") == [
        ("purchase_order_lines:PO-10/1", "received more than ordered", "data_steward")]


def test_every_kind_has_a_case(messages: pd.DataFrame) -> None:
    assert set(messages["kind"]) == set(KINDS)
    assert messages["key"].is_unique


def test_element_list_runs_available_in_date_order() -> None:
    d = _plant()
    p = plan(d, Calendar.weekly(TODAY, 8))
    el = element_list(p, d, "X", "S1", "week", {"PO-1/1": "E01"})
    got = [(r["date"], r["type"], r["element"], r["receipt"], r["requirement"], r["available"],
            r["exception"]) for r in el.lines.to_dict("records")]
    # stock 0; planned 10 on 03-10 (bucket 1 is short 10 before PO-1 arrives), DX1 10;
    # PO-1 +10, PO-2 +30, DX2 -20, PO-3 +5
    assert got == [
        (D(2025, 3, 3), "stock", "", 0.0, 0.0, 0.0, ""),
        (D(2025, 3, 10), "planned_order", "planned:X@S1", 10.0, 0.0, 10.0, ""),
        (D(2025, 3, 10), "demand", "DX1", 0.0, 10.0, 0.0, ""),
        (D(2025, 3, 17), "purchase_order", "PO-1/1", 10.0, 0.0, 10.0, "E01"),
        (D(2025, 3, 24), "purchase_order", "PO-2/1", 30.0, 0.0, 40.0, ""),
        (D(2025, 3, 31), "demand", "DX2", 0.0, 20.0, 20.0, ""),
        (D(2025, 4, 7), "purchase_order", "PO-3/1", 5.0, 0.0, 25.0, ""),
    ]
    weeks = [(r["period"], r["receipts"], r["requirements"], r["available"])
             for r in el.totals.to_dict("records")]
    assert weeks == [(D(2025, 3, 3), 0.0, 0.0, 0.0), (D(2025, 3, 10), 10.0, 10.0, 0.0),
                     (D(2025, 3, 17), 10.0, 0.0, 10.0), (D(2025, 3, 24), 30.0, 0.0, 40.0),
                     (D(2025, 3, 31), 0.0, 20.0, 20.0), (D(2025, 4, 7), 5.0, 0.0, 25.0)]
