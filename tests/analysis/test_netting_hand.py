"""Hand-computed MRP records: each table was worked out on paper from DESIGN.md's rules.

Weekly buckets from Monday 2025-03-03 (bucket b starts 3 March + 7b days). Rows of a table:
GR gross requirements, SR scheduled receipts, PA projected available, NR net requirements,
PR planned receipts, REL planned releases (a release before bucket 0 is shown in bucket 0).
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from tests.analysis.builders import (
    TODAY,
    assert_record,
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
from workbench.analysis.calendar import Calendar
from workbench.analysis.netting import plan


def test_single_item_fixed_order_quantity_lead_time_and_scheduled_receipt() -> None:
    # FOQ 50 = minimum 50 and multiple 50; lead time 14 days = 2 weekly buckets.
    gross = [10, 15, 20, 30, 0, 40, 25, 10]
    d = data(
        items=[item("A", lead_time_days=14, min_order_qty=50, order_multiple=50)],
        inventory=[stock("A", 20)],
        demands=[demand(f"D{b}", "A", q, week(b, 2)) for b, q in enumerate(gross) if q],
        purchase_order_lines=[po_line("P1", 1, "A", 50, week(2, 1))],
    )
    p = plan(d, weekly(8))
    assert_record(p, "A", """
        GR   10 15 20 30  0 40 25 10
        SR    0  0 50  0  0  0  0  0
        PA   10 45 75 45 45  5 30 20
        NR    0  5  0  0  0  0 20  0
        PR    0 50  0  0  0  0 50  0
        REL  50  0  0  0 50  0  0  0
    """)
    s = p.summary().iloc[0]
    assert s["first_shortage_date"] == np.datetime64("2025-03-10")
    assert s["first_shortage_quantity"] == 5
    assert s["past_due_release"] == 50  # the week-1 order should have been released last week


def test_three_level_product_shared_component_lead_time_offsets_on_hand_everywhere() -> None:
    # FG (LT 1 wk, OH 10) = 2 SUB + 1 RAW (10% scrap); SUB (LT 2 wk, OH 5) = 3 RAW;
    # RAW (LT 1 wk, OH 30) is used on two levels, so its low-level code is 2.
    d = data(
        items=[item("FG", make_buy="make", lead_time_days=7),
               item("SUB", make_buy="make", lead_time_days=14),
               item("RAW", lead_time_days=7)],
        bom_revisions=[revision("FG"), revision("SUB")],
        bom_lines=[line("FG", "SUB", 2, 10), line("FG", "RAW", 1, 20, scrap_pct=10),
                   line("SUB", "RAW", 3, 10)],
        inventory=[stock("FG", 10), stock("SUB", 5), stock("RAW", 30)],
        demands=[demand("D1", "FG", 40, week(3, 4)), demand("D2", "FG", 20, week(5))],
    )
    p = plan(d, weekly(8))
    assert_record(p, "FG", """
        GR    0  0  0 40  0 20  0  0
        PA   10 10 10  0  0  0  0  0
        NR    0  0  0 30  0 20  0  0
        PR    0  0  0 30  0 20  0  0
        REL   0  0 30  0 20  0  0  0
    """)
    assert_record(p, "SUB", """
        GR    0  0 60  0 40  0  0  0
        PA    5  5  0  0  0  0  0  0
        NR    0  0 55  0 40  0  0  0
        PR    0  0 55  0 40  0  0  0
        REL  55  0 40  0  0  0  0  0
    """)
    # RAW: 3 x 55 = 165 (wk 0) from SUB; 33 + 120 = 153 (wk 2); 22 (wk 4) from FG with scrap.
    assert_record(p, "RAW", """
        GR  165  0 153  0 22  0  0  0
        PA    0  0   0  0  0  0  0  0
        NR  135  0 153  0 22  0  0  0
        PR  135  0 153  0 22  0  0  0
        REL 135 153  0 22  0  0  0  0
    """)
    levels = dict(zip(p.items.codes[p.item], p.level))
    assert levels == {"FG": 0, "SUB": 1, "RAW": 2}
    s = p.summary().set_index("item")
    assert s.loc["RAW", "past_due_release"] == 135


def test_safety_stock_is_kept_and_replenished() -> None:
    d = data(
        items=[item("S", safety_stock=20), item("T", safety_stock=10)],
        inventory=[stock("S", 30), stock("T", 4)],
        demands=[demand("D1", "S", 15, week(1)), demand("D2", "S", 10, week(2, 3))],
    )
    p = plan(d, weekly(4))
    assert_record(p, "S", """
        GR   0 15 10  0
        PA  30 20 20 20
        NR   0  5 10  0
        PR   0  5 10  0
    """)
    assert_record(p, "T", """
        GR   0  0  0  0
        PA  10 10 10 10
        NR   6  0  0  0
        PR   6  0  0  0
    """)


def test_minimum_and_multiple_apply_to_the_bucket_total_not_each_demand() -> None:
    # Two demands (1 and 2) in week 0 make one net requirement of 3 -> one lot of 30
    # (minimum 25 rounded up to the multiple 10), not two lots.
    d = data(
        items=[item("M", min_order_qty=25, order_multiple=10), item("N", order_multiple=12)],
        demands=[demand("D1", "M", 1, week(0, 1)), demand("D2", "M", 2, week(0, 4)),
                 demand("D3", "M", 30, week(1)), demand("D4", "M", 12, week(2)),
                 demand("E1", "N", 13, week(0))],
    )
    p = plan(d, weekly(3))
    assert_record(p, "M", """
        GR   3 30 12
        PA  27 27 15
        NR   3  3  0
        PR  30 30  0
    """)
    assert_record(p, "N", """
        GR  13  0  0
        PA  11 11 11
        NR  13  0  0
        PR  24  0  0
    """)


def test_revision_change_at_effectivity_date_follows_the_order_start_date() -> None:
    # P (LT 7 days) uses 2 x C1 in revision A and 3 x C2 in revision B, effective 17 March.
    # A's end date overlaps B's start: the later start wins. A planned receipt due in week b
    # starts 7 days earlier (not before today): weeks 0-2 start 3, 3 and 10 March -> A;
    # week 3 starts 17 March -> B.
    d = data(
        items=[item("P", make_buy="make", lead_time_days=7), item("C1"), item("C2")],
        bom_revisions=[
            revision("P", "A", effective_from=dt.date(2024, 1, 1), effective_to=dt.date(2025, 3, 17)),
            revision("P", "B", effective_from=dt.date(2025, 3, 17)),
            revision("P", "C", status="draft"),
        ],
        bom_lines=[line("P", "C1", 2, revision="A"), line("P", "C2", 3, revision="B"),
                   line("P", "C1", 100, revision="C")],
        demands=[demand(f"D{b}", "P", 10, week(b)) for b in range(4)],
    )
    p = plan(d, weekly(4))
    assert_record(p, "P", """
        PR  10 10 10 10
        REL 20 10 10  0
    """)
    assert_record(p, "C1", """
        GR  40 20  0  0
    """)
    assert_record(p, "C2", """
        GR   0  0 30  0
    """)


def test_quality_hold_and_allocated_stock_are_not_available() -> None:
    d = data(
        items=[item("Q")],
        inventory=[stock("Q", 10), stock("Q", 50, status="quality_hold", lot="L9"),
                   stock("Q", 20, status="allocated")],
        demands=[demand("D1", "Q", 25, week(0, 2))],
    )
    p = plan(d, weekly(2))
    assert_record(p, "Q", """
        GR  25  0
        PA   0  0
        NR  15  0
        PR  15  0
    """)


def test_in_transit_arrives_on_its_expected_date_and_po_remaining_counts() -> None:
    d = data(
        items=[item("T")],
        inventory=[stock("T", 40, status="in_transit", expected_date=week(2, 2))],
        purchase_order_lines=[
            po_line("P1", 1, "T", 30, week(3), quantity_received=12, status="partially_received"),
            po_line("P2", 1, "T", 99, week(3), quantity_received=99, status="received"),
            po_line("P3", 1, "T", 77, week(1), status="cancelled"),
        ],
        demands=[demand("D1", "T", 10, week(1)), demand("D2", "T", 30, week(2)),
                 demand("D3", "T", 20, week(3))],
    )
    p = plan(d, weekly(4))
    assert_record(p, "T", """
        GR   0 10 30 20
        SR   0  0 40 18
        PA   0  0 10  8
        NR   0 10  0  0
        PR   0 10  0  0
    """)


def test_open_work_order_is_a_receipt_and_its_components_are_requirements() -> None:
    # The work order's own components count; the BOM is not exploded again for it.
    d = data(
        items=[item("W", make_buy="make"), item("K")],
        bom_revisions=[revision("W")],
        bom_lines=[line("W", "K", 5)],
        work_orders=[{"code": "WO1", "item": "W", "site": "S1", "quantity": 8,
                      "completed_quantity": 2, "start_date": week(1), "due_date": week(2),
                      "demand": "D1"}],
        work_order_components=[{"work_order": "WO1", "position": 1, "component": "K",
                                "required_quantity": 40, "issued_quantity": 10,
                                "required_date": week(1)}],
        demands=[demand("D1", "W", 6, week(2))],
    )
    p = plan(d, weekly(3))
    assert_record(p, "W", """
        GR   0  0  6
        SR   0  0  6
        NR   0  0  0
    """)
    assert_record(p, "K", """
        GR   0 30  0
        NR   0 30  0
    """)


def test_daily_buckets_offset_by_lead_time_in_days() -> None:
    d = data(
        items=[item("X", lead_time_days=3)],
        demands=[demand("D1", "X", 5, TODAY + dt.timedelta(days=4))],
    )
    p = plan(d, Calendar.daily(TODAY, 6))
    assert_record(p, "X", """
        PR   0  0  0  0  5  0
        REL  0  5  0  0  0  0
    """)


def test_demand_beyond_horizon_is_ignored_and_past_due_is_now() -> None:
    d = data(
        items=[item("Y")],
        demands=[demand("OLD", "Y", 4, TODAY - dt.timedelta(days=20)),
                 demand("FAR", "Y", 9, week(5))],
    )
    p = plan(d, weekly(3))
    assert_record(p, "Y", """
        GR   4  0  0
    """)


def test_sites_are_netted_separately() -> None:
    d = data(
        items=[item("Z")],
        inventory=[stock("Z", 10, site="S1")],
        demands=[demand("D1", "Z", 10, week(0), site="S1"),
                 demand("D2", "Z", 10, week(0), site="S2")],
    )
    p = plan(d, weekly(1))
    assert_record(p, "Z", "NR 0", site="S1")
    assert_record(p, "Z", "NR 10", site="S2")
