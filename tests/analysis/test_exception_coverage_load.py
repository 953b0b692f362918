"""Firm coverage keeps what it reads of the sources, the calendar and the row numbering
(the receipts' order, their cumulative quantities, the rows' independent requirements) with the
data (:func:`workbench.analysis.exceptions.coverage.firm_coverage` given ``data``): a second
plan of the same data reuses it, another calendar makes it again, and the coverage is the one
made from scratch either way (hand-computed messages of tests/analysis/test_exceptions.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest

from tests.analysis.test_exceptions import _of, _plant
from workbench.analysis.calendar import Calendar
from workbench.analysis.exceptions import ExceptionSettings, compute_exceptions, coverage
from workbench.analysis.netting import plan

D = dt.date
TODAY = D(2025, 3, 3)


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The calendars' bucket counts of every layout made."""
    runs: list[int] = []
    original = coverage._layout

    def counted(p: Any, kinds: tuple[str, ...]) -> Any:
        runs.append(p.calendar.n_buckets)
        return original(p, kinds)

    monkeypatch.setattr(coverage, "_layout", counted)
    return runs


def test_a_second_plan_reuses_the_layout_and_another_calendar_makes_it_again(
        made: list[int]) -> None:
    d = _plant()
    first, second = (plan(d, Calendar.weekly(TODAY, 8)) for _ in range(2))
    kept = coverage.firm_coverage(first, data=d)
    again = coverage.firm_coverage(second, data=d)
    assert made == [8]  # made once for the data (the old code: with every plan)
    scratch = coverage.firm_coverage(second)
    assert made == [8, 8]
    pd.testing.assert_frame_equal(kept, scratch)
    pd.testing.assert_frame_equal(again, scratch)
    shorter = plan(d, Calendar.weekly(TODAY, 6))
    pd.testing.assert_frame_equal(coverage.firm_coverage(shorter, data=d),
                                  coverage.firm_coverage(shorter))
    assert made == [8, 8, 6, 6]  # another calendar: made again, not reused
    assert len(kept) > 3


def test_messages_of_a_reused_layout_are_the_hand_computed_ones(made: list[int]) -> None:
    d = _plant()
    settings = ExceptionSettings(reschedule_out_tolerance_days=3)
    for _ in range(2):
        messages = compute_exceptions(d, plan(d, Calendar.weekly(TODAY, 8)),
                                      settings=settings).messages
    assert made == [8]
    # hand-computed (tests/analysis/test_exceptions.py)
    assert _of(messages, "reschedule_in", "code", "suggested_date", "days", "role") == [
        ("PO-1/1", "E01", D(2025, 3, 10), 7.0, "buyer")]
    assert _of(messages, "reschedule_out", "suggested_date", "days") == [
        ("PO-2/1", D(2025, 3, 31), 7.0)]
    assert _of(messages, "cancel", "suggested_quantity", "quantity") == [
        ("PO-3/1", 0.0, 5.0), ("PO-5/1", 0.0, 8.0), ("PO-9/1", 0.0, 5.0)]
    assert _of(messages, "reduce", "quantity", "suggested_quantity") == [("PO-2/1", 30.0, 20.0)]
    row = messages[messages["element"] == "PO-1/1"].iloc[0]
    assert row["endangers"] == [{"peg": "DX1", "due_date": D(2025, 3, 10), "quantity": 10.0}]
