"""Pegging inside a bucket follows due date, then priority, then code (hand-computed, and a
property on generated demands)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.analysis.builders import data, demand, item, stock, week, weekly
from workbench.analysis.netting import plan
from workbench.analysis.pegging import Pegging


def test_the_order_due_monday_gets_the_stock_before_the_one_due_friday() -> None:
    """X: 10 on hand, lot-for-lot, lead time 0. Week 1 holds AA due Friday (10) and ZZ due
    Monday (10). The 10 on hand serve ZZ (due first); the planned order of week 1 (10) serves
    AA. By code, AA would have taken the stock and ZZ waited for new supply."""
    d = data(items=[item("X")], inventory=[stock("X", 10)],
             demands=[demand("AA", "X", 10, week(1, 4)), demand("ZZ", "X", 10, week(1, 0))])
    p = plan(d, weekly(3))
    peg = Pegging(p)
    row = p.row("X", "S1")
    assert row is not None
    assert [r.ref for r in peg.requirements(row)] == ["ZZ", "AA"]
    assert peg.order_pegs(row) == {1: {"AA": 10.0}}


def test_same_due_date_lower_priority_number_first_then_code() -> None:
    """Y: 12 on hand; three orders due Wednesday of week 0, 6 each: C1 priority 2, B1 priority 1,
    A1 priority 2. Served B1 (priority 1), then A1 (priority 2, code A1 < C1): the stock covers
    B1 and A1, the planned order of week 0 is C1's 6."""
    d = data(items=[item("Y")], inventory=[stock("Y", 12)],
             demands=[demand("C1", "Y", 6, week(0, 2), priority=2),
                      demand("B1", "Y", 6, week(0, 2), priority=1),
                      demand("A1", "Y", 6, week(0, 2), priority=2)])
    p = plan(d, weekly(2))
    peg = Pegging(p)
    row = p.row("Y", "S1")
    assert row is not None
    assert [r.ref for r in peg.requirements(row)] == ["B1", "A1", "C1"]
    assert peg.order_pegs(row) == {0: {"C1": 6.0}}


def test_dependent_requirement_is_due_at_its_bucket_start() -> None:
    """P (make, lead 0) uses 1 C; C has 5 on hand. Week 1: demand P1 of P due Thursday (5),
    which makes a planned order of P in week 1 and a dependent requirement of C (5) due Monday of
    week 1; a demand CD of C itself is due Friday of week 1 (5). The dependent requirement is
    due first: C's 5 on hand peg to P1, C's planned order of week 1 to CD."""
    from tests.analysis.builders import line, revision

    d = data(items=[item("P", make_buy="make"), item("C")],
             bom_revisions=[revision("P")], bom_lines=[line("P", "C", 1)],
             inventory=[stock("C", 5)],
             demands=[demand("P1", "P", 5, week(1, 3)), demand("CD", "C", 5, week(1, 4))])
    p = plan(d, weekly(3))
    peg = Pegging(p)
    row = p.row("C", "S1")
    assert row is not None
    assert [(r.kind, r.ref) for r in peg.requirements(row)] == [("dependent", "P"),
                                                                ("demand", "CD")]
    assert peg.order_pegs(row) == {1: {"CD": 5.0}}


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 13), st.integers(0, 3), st.integers(1, 9)),
                min_size=1, max_size=7),
       st.integers(0, 40))
def test_stock_serves_demands_in_due_date_priority_code_order(
        orders: list[tuple[int, int, int]], on_hand: int) -> None:
    """Whatever the demands, the stock on hand (served first) goes to them in (due date,
    priority, code) order: walking that order, each demand takes min(its quantity, what is
    left), and the planned orders carry exactly the rest of each demand."""
    demands = [demand(f"D{k}", "X", qty, week(0) + _days(day), priority=prio)
               for k, (day, prio, qty) in enumerate(orders)]
    d = data(items=[item("X")], inventory=[stock("X", on_hand)] if on_hand else [],
             demands=demands)
    p = plan(d, weekly(3))
    peg = Pegging(p)
    row = p.row("X", "S1")
    assert row is not None
    ranked = sorted(((day, prio, f"D{k}", qty) for k, (day, prio, qty) in enumerate(orders)))
    assert [r.ref for r in peg.requirements(row)] == [code for _, _, code, _ in ranked]
    left = float(on_hand)
    expected: dict[str, float] = {}
    for _, _, code, qty in ranked:
        from_stock = min(float(qty), left)
        left -= from_stock
        if qty - from_stock > 0:
            expected[code] = qty - from_stock
    pegged: dict[str, float] = {}
    for pegs in peg.order_pegs(row).values():
        for k, v in pegs.items():
            pegged[k] = pegged.get(k, 0.0) + v
    assert pegged.keys() == expected.keys()
    for code, rest in expected.items():
        assert abs(pegged[code] - rest) < 1e-9


def _days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)
