"""Firm coverage's requirement events of a plan (:func:`workbench.analysis.exceptions.coverage.
_events`): the independent events kept in event order per data load and the plan's own
(dependent requirements read from the gross requirements' stored values, safety stock) merged
in, against one sort of every event (:func:`~workbench.analysis.exceptions.coverage.
_events_sorted`, the code before) on random plants; a hand-computed tie order; and
:meth:`~workbench.analysis.rowmatrix.RowMatrix.entries` (the stored values of some rows)
against the dense matrix."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.analysis.builders import TODAY, data, demand, item, line, po_line, revision
from tests.analysis.builders import week as wk
from tests.analysis.test_exception_pegmatrix import plants
from tests.analysis.test_rowmatrix_reads import _matrix
from workbench.analysis.calendar import Calendar
from workbench.analysis.exceptions import coverage
from workbench.analysis.netting import plan
from workbench.analysis.rowmatrix import RowMatrix

KINDS = ("purchase_order", "work_order")


def _same(got: tuple[np.ndarray, ...], want: tuple[np.ndarray, ...]) -> None:
    for x, y in zip(got, want, strict=True):
        assert x.dtype == y.dtype and np.array_equal(x, y)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plants(), st.sampled_from([6, 8]))
def test_merged_events_are_one_sort_of_every_event(d: Any, weeks: int) -> None:
    p = plan(d, Calendar.weekly(TODAY, weeks))
    lay = coverage._layout(p, KINDS)
    assert lay.event_key is not None and not lay.negative
    want = coverage._events_sorted(p, lay)
    _same(coverage._events(p, lay), want)
    dense = dataclasses.replace(p, gross=np.asarray(p.gross))  # a plain matrix: its non-zeros
    _same(coverage._events(dense, lay), want)


def test_safety_stock_then_independent_then_dependent_on_one_day() -> None:
    """Hand-computed: C (safety stock 5) is needed in week 1 by the demand DC (10, on week 1's
    Monday) and by N's planned order (10 N released in week 1 for DN in week 2, lead time 7
    days, 2 C each: 20 on week 1's start). Events of C's row: safety stock on the planning
    day, then on week 1's Monday the independent demand before the dependent requirement:
    cumulative 5, 15, 35. A PO line of C (3 in week 3) puts the row in the coverage."""
    d = data(items=[item("N", make_buy="make", lead_time_days=7), item("C", safety_stock=5)],
             bom_revisions=[revision("N")], bom_lines=[line("N", "C", 2)],
             demands=[demand("DN", "N", 10, wk(2)), demand("DC", "C", 10, wk(1))],
             purchase_order_lines=[po_line("PO-1", 1, "C", 3, wk(3))])
    p = plan(d, Calendar.weekly(TODAY, 8))
    lay = coverage._layout(p, KINDS)
    ev_row, ev_day, cumulative = coverage._events(p, lay)
    epoch = dt.date(1970, 1, 1)
    assert ev_day.tolist() == [(TODAY - epoch).days] + [(wk(1) - epoch).days] * 2
    assert cumulative.tolist() == [5.0, 15.0, 35.0]
    assert len(set(ev_row.tolist())) == 1
    _same((ev_row, ev_day, cumulative), coverage._events_sorted(p, lay))


def test_entries_of_a_hand_matrix() -> None:
    m = RowMatrix.of(np.array([[0.0, 1.5, 0.0], [0.0, 0.0, 0.0], [2.0, 0.0, -1.0]]))
    owner, col, val = m.entries(np.array([2, 1, 0]))
    assert (owner.tolist(), col.tolist(), val.tolist()) == ([0, 0, 2], [0, 2, 1],
                                                             [2.0, -1.0, 1.5])
    m[np.array([1])] = np.array([[0.0, 4.0, 0.5]])  # a written (dense) row
    owner, col, val = m.entries(np.array([1, 2]))
    assert (owner.tolist(), col.tolist(), val.tolist()) == ([0, 0, 1, 1], [1, 2, 0, 2],
                                                             [4.0, 0.5, 2.0, -1.0])


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**31), st.integers(0, 30), st.integers(1, 6), st.integers(0, 3),
       st.integers(0, 40))
def test_entries_are_the_nonzero_values_of_the_rows(seed: int, n: int, width: int,
                                                     written: int, k: int) -> None:
    m, dense = _matrix(seed, max(n, 1), width, written)
    rows = np.random.default_rng(seed + 1).integers(0, len(dense), k)  # duplicates too
    owner, col, val = m.entries(rows)
    want = dense[rows]
    flat = owner * width + col
    assert np.all(np.diff(flat) > 0)  # by position, then bucket
    np.testing.assert_array_equal(val, want[owner, col])
    listed = np.zeros(want.shape, bool)
    listed[owner, col] = True
    assert not want[~listed].any()  # every value not listed is 0


def test_a_daily_calendar_keeps_one_byte_per_cell() -> None:
    """The cells hold k, the position of a sum among its row's sums other than 0: their type
    follows the most sums a row has (here 2: the demands DC on day 3 and day 150), not the
    number of buckets (182 days: the review found int32 cells, 80 MiB on the large demo).
    Events still as one sort of every event."""
    d = data(items=[item("N", make_buy="make", lead_time_days=7), item("C", safety_stock=5)],
             bom_revisions=[revision("N")], bom_lines=[line("N", "C", 2)],
             demands=[demand("DN", "N", 10, wk(2)), demand("DC", "C", 10, wk(1)),
                      demand("DC2", "C", 4, TODAY + dt.timedelta(days=150))],
             purchase_order_lines=[po_line("PO-1", 1, "C", 3, wk(3))])
    p = plan(d, Calendar.daily(TODAY, 182))
    lay = coverage._layout(p, KINDS)
    assert lay.cells.dtype == np.int8
    assert lay.cells.size == len(lay.rows) * 182
    assert sorted(lay.cells[lay.cells >= 0].tolist()) == [0, 1]  # C's two independent sums
    _same(coverage._events(p, lay), coverage._events_sorted(p, lay))
