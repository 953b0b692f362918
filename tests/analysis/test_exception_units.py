"""E04 reduce and E05 increase suggest quantities a buyer can place, hand-computed.

Planning day Monday 2025-03-03, weekly buckets (bucket b starts on 03-03 + 7 b), no stock on
hand, no lead time, no lot rules unless a case names them. Each item is one case; every
requirement is one demand, every receipt one PO line or work order, so a receipt's ``needed``
is ``min(quantity, demand - receipts before it)`` and E04's suggestion is ``lot_size(needed)``
rounded up to whole units of the unit the receipt is placed in (docs/exceptions.md, E04/E05).
A line's unit is its ``orig_uom``; one of it holds ``quantity_ordered / orig_quantity_ordered``
stock units. Items are in EA (a count unit) unless a case says otherwise.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from tests.analysis.builders import TODAY, data, demand, item, po_line
from tests.analysis.builders import week as wk
from workbench.analysis.calendar import Calendar
from workbench.analysis.exceptions import compute_exceptions
from workbench.analysis.netting import plan


def _plant() -> Any:
    return data(
        items=[item("A"), item("B"), item("C", order_multiple=20), item("K", stock_uom="KG"),
               item("G", stock_uom="KG"), item("W", make_buy="make"),
               item("WK", stock_uom="KG", make_buy="make"), item("Y"), item("Z"),
               item("H", stock_uom="BAG"), item("R"), item("E")],
        demands=[demand("DA", "A", 352.7, wk(2)), demand("DB", "B", 456.5, wk(2)),
                 demand("DC", "C", 1010, wk(2)), demand("DK", "K", 12.345, wk(2)),
                 demand("DG", "G", 60, wk(2)), demand("DW", "W", 37.5, wk(2)),
                 demand("DWK", "WK", 7.25, wk(2)), demand("DY", "Y", 50.5, wk(2)),
                 demand("DZ", "Z", 50, wk(3)), demand("DH", "H", 2.5, wk(2)),
                 demand("DR", "R", 500, wk(2)), demand("DE", "E", 352.7, wk(2))],
        purchase_order_lines=[
            # in the stock unit (no orig_uom: the stock unit, EA)
            po_line("PO-A", 1, "A", 457, wk(1)), po_line("PO-B", 1, "B", 457, wk(1)),
            # 30 BOX of 50 EA = 1,500 EA
            po_line("PO-C", 1, "C", 1500, wk(1), orig_uom="BOX", orig_quantity_ordered=30),
            po_line("PO-K", 1, "K", 20, wk(1), orig_uom="KG", orig_quantity_ordered=20),
            # a KG item bought in bags counted as EA: 4 EA of 25 KG = 100 KG
            po_line("PO-G", 1, "G", 100, wk(1), orig_uom="EA", orig_quantity_ordered=4),
            po_line("PO-Y", 1, "Y", 30, wk(2)),
            # 2 BOX of 12 EA = 24 EA
            po_line("PO-Z", 1, "Z", 24, wk(3), orig_uom="BOX", orig_quantity_ordered=2),
            po_line("PO-H", 1, "H", 4, wk(1)),
            # 30 BOX of 50 EA = 1,500 EA, 130 EA (2.6 BOX) received: open 1,370 EA
            po_line("PO-R", 1, "R", 1500, wk(1), orig_uom="BOX", orig_quantity_ordered=30,
                    quantity_received=130),
            # an EA item bought by weight: 914 KG for 457 EA (KG is no count unit)
            po_line("PO-E", 1, "E", 457, wk(1), orig_uom="KG", orig_quantity_ordered=914),
        ],
        work_orders=[{"code": "WO-W", "item": "W", "site": "S1", "quantity": 100,
                      "start_date": wk(0), "due_date": wk(1), "status": "released"},
                     {"code": "WO-WK", "item": "WK", "site": "S1", "quantity": 10,
                      "start_date": wk(0), "due_date": wk(1), "status": "released"}],
    )


@pytest.fixture(scope="module")
def messages() -> pd.DataFrame:
    d = _plant()
    return compute_exceptions(d, plan(d, Calendar.weekly(TODAY, 8))).messages


def _suggested(messages: pd.DataFrame, kind: str, *elements: str) -> dict[str, Any]:
    """Element -> (quantity, suggested quantity) of the messages of ``kind`` on ``elements``."""
    sel = messages[(messages["kind"] == kind) & messages["element"].isin(elements)]
    return {str(r["element"]): (float(r["quantity"]), float(r["suggested_quantity"]))
            for r in sel.to_dict("records")}


def test_a_count_unit_line_is_reduced_to_whole_units(messages: pd.DataFrame) -> None:
    # PO-A/1 457 EA, needed min(457, 352.7 - 0) = 352.7; no lot rules: lot_size 352.7;
    # EA is counted: ceil(352.7) = 353 < 457 -> reduce to 353 (not 352.7)
    assert _suggested(messages, "reduce", "PO-A/1") == {"PO-A/1": (457.0, 353.0)}


def test_whole_units_remove_a_reduce_that_is_no_reduction(messages: pd.DataFrame) -> None:
    # PO-B/1 457 EA, needed 456.5: whole EA ceil(456.5) = 457, not below the open 457: no
    # message (it would have said "reduce 457 to 456.5")
    assert _suggested(messages, "reduce", "PO-B/1") == {}
    assert "PO-B/1" not in set(messages["element"])


def test_a_line_in_boxes_is_reduced_to_whole_boxes(messages: pd.DataFrame) -> None:
    # PO-C/1 1,500 EA ordered as 30 BOX: one BOX = 1,500 / 30 = 50 EA. needed 1,010; order
    # multiple 20: lot_size ceil(1,010 / 20) * 20 = 1,020 EA = 20.4 BOX -> 21 BOX = 1,050 EA
    assert _suggested(messages, "reduce", "PO-C/1") == {"PO-C/1": (1500.0, 1050.0)}


def test_a_line_in_a_measured_unit_is_not_rounded(messages: pd.DataFrame) -> None:
    # PO-K/1 20 KG (KG is no count unit): needed 12.345 KG stays 12.345;
    # WO-WK 10 KG of a KG item: needed 7.25 stays 7.25;
    # PO-G/1 100 KG of a KG item ordered as 4 EA (bags): one EA = 100 / 4 = 25 KG, needed
    # 60 KG = 2.4 EA -> 3 EA = 75 KG < 100: the unit it is placed in counts, not the stock unit
    assert _suggested(messages, "reduce", "PO-K/1", "WO-WK", "PO-G/1") == {
        "PO-K/1": (20.0, 12.345), "WO-WK": (10.0, 7.25), "PO-G/1": (100.0, 75.0)}


def test_a_work_order_is_reduced_to_whole_stock_units(messages: pd.DataFrame) -> None:
    # WO-W 100 EA (released, nothing completed), needed 37.5 -> 38 EA < 100
    assert _suggested(messages, "reduce", "WO-W") == {"WO-W": (100.0, 38.0)}
    assert messages.loc[messages["element"] == "WO-W", "role"].tolist() == ["planner"]


def test_increase_to_whole_units(messages: pd.DataFrame) -> None:
    # Y: 50.5 needed in bucket 2 (03-17), PO-Y/1 brings 30 that week: planned 20.5 there;
    # 30 + 20.5 = 50.5 EA -> 51 EA.
    # Z: 50 needed in bucket 3, PO-Z/1 brings 24 EA (2 BOX of 24 / 2 = 12 EA) that week:
    # planned 26; 24 + 26 = 50 EA = 4.17 BOX -> 5 BOX = 60 EA
    assert _suggested(messages, "increase", "PO-Y/1", "PO-Z/1") == {
        "PO-Y/1": (30.0, 51.0), "PO-Z/1": (24.0, 60.0)}


def test_count_units_come_from_the_units_table() -> None:
    # H is kept in BAG, not one of the usual count codes: PO-H/1 4 BAG, needed 2.5 -> 2.5 by
    # default; with a units table naming BAG a count unit -> ceil(2.5) = 3 BAG < 4. The usual
    # EA is then a count unit only if the table says so: PO-A/1 (needed 352.7) stays 352.7
    d = _plant()
    p = plan(d, Calendar.weekly(TODAY, 8))
    usual = compute_exceptions(d, p, endangers=False).messages
    table = compute_exceptions(d, p, endangers=False, count_units=frozenset({"BAG"})).messages
    assert _suggested(usual, "reduce", "PO-H/1", "PO-A/1") == {
        "PO-H/1": (4.0, 2.5), "PO-A/1": (457.0, 353.0)}
    assert _suggested(table, "reduce", "PO-H/1", "PO-A/1") == {
        "PO-H/1": (4.0, 3.0), "PO-A/1": (457.0, 352.7)}


def test_a_partly_received_line_is_ordered_in_whole_boxes(messages: pd.DataFrame) -> None:
    # PO-R/1 30 BOX of 1,500 / 30 = 50 EA, 130 EA received, open 1,370; needed 500. The line's
    # new ordered quantity (received + open) is what the source gets, in BOX: 130 + 500 = 630 EA
    # = 12.6 BOX -> 13 BOX = 650 EA ordered, so the open quantity is 650 - 130 = 520 EA
    assert _suggested(messages, "reduce", "PO-R/1") == {"PO-R/1": (1370.0, 520.0)}


def test_a_count_item_bought_in_a_measured_unit_is_whole_in_its_stock_unit(
        messages: pd.DataFrame) -> None:
    # PO-E/1 457 EA bought as 914 KG: KG is no count unit, but E is kept in EA, which is
    # (as requisition advice rounds a count stock unit): needed 352.7 -> 353 EA < 457
    assert _suggested(messages, "reduce", "PO-E/1") == {"PO-E/1": (457.0, 353.0)}


def test_without_an_item_master_nothing_is_rounded_and_nothing_breaks() -> None:
    # no item rows: the stock unit is unknown, so neither receipt is rounded (PO-U/1 500,
    # needed 352.7; WO-U 100, needed 37.5), as before the rounding existed
    d = data(demands=[demand("DU", "U", 352.7, wk(2)), demand("DV", "V", 37.5, wk(2))],
             purchase_order_lines=[po_line("PO-U", 1, "U", 500, wk(1))],
             work_orders=[{"code": "WO-U", "item": "V", "site": "S1", "quantity": 100,
                           "start_date": wk(0), "due_date": wk(1), "status": "released"}])
    assert not len(d.items)
    got = compute_exceptions(d, plan(d, Calendar.weekly(TODAY, 8))).messages
    assert _suggested(got, "reduce", "PO-U/1", "WO-U") == {
        "PO-U/1": (500.0, 352.7), "WO-U": (100.0, 37.5)}
