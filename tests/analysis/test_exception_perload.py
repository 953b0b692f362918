"""The rules that read the data only (E07, E10-E15) are judged once per data load
(:mod:`workbench.analysis.exceptions.perload`): a second plan of the same frames reuses them,
a new frame, another planning day or other settings judge them again, and the messages are the
same either way."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest

from tests.analysis.test_exceptions import _of, _plant
from workbench.analysis.calendar import Calendar
from workbench.analysis.exceptions import ExceptionSettings, compute_exceptions, records
from workbench.analysis.netting import plan

D = dt.date
TODAY = D(2025, 3, 3)


@pytest.fixture
def judged(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the data rules' runs (E15's rule counts them)."""
    runs: list[str] = []
    original = records.data_problems

    def counted(data: Any, *args: Any) -> pd.DataFrame:
        runs.append("E15")
        return original(data, *args)

    monkeypatch.setattr(records, "data_problems", counted)
    return runs


def test_a_second_plan_of_the_same_data_reuses_the_data_rules(judged: list[str]) -> None:
    d = _plant()
    first = compute_exceptions(d, plan(d, Calendar.weekly(TODAY, 8))).messages
    second = compute_exceptions(d, plan(d, Calendar.weekly(TODAY, 8))).messages
    assert judged == ["E15"]  # judged once: the old code judged them with every plan (2)
    pd.testing.assert_frame_equal(first, second)
    # hand-computed (tests/analysis/test_exceptions.py): PO-6 unacknowledged 11 days
    assert _of(second, "confirmation_missing", "days") == [("PO-6/1", 11.0)]


def test_a_new_frame_day_or_setting_judges_them_again(judged: list[str]) -> None:
    d = _plant()
    for _ in range(2):  # judged once (the old code: twice)
        compute_exceptions(d, plan(d, Calendar.weekly(TODAY, 8)))
    # a later planning day: PO-6 (ordered 02-20) is unacknowledged 18 days
    later = compute_exceptions(d, plan(d, Calendar.weekly(D(2025, 3, 10), 8))).messages
    assert _of(later, "confirmation_missing", "days") == [("PO-6/1", 18.0)]
    # another tolerance: 11 days late is within 12
    calm = compute_exceptions(d, plan(d, Calendar.weekly(TODAY, 8)),
                              settings=ExceptionSettings(confirmation_days=12)).messages
    assert _of(calm, "confirmation_missing", "days") == []
    # a new PO line frame (a sync): PO-6's line acknowledged, no message left
    lines = d.purchase_order_lines.copy()
    lines.loc[lines["purchase_order"] == "PO-6", "ack_status"] = "accepted"
    synced = d.replace(purchase_order_lines=lines)
    acked = compute_exceptions(synced, plan(synced, Calendar.weekly(TODAY, 8))).messages
    assert _of(acked, "confirmation_missing", "days") == []
    assert len(judged) == 4  # once for the data, then once per day, setting and frame


def test_one_entry_per_data_whatever_the_days_and_settings(judged: list[str]) -> None:
    """Each day or setting replaces the kept rules instead of adding an entry beside them (an
    entry is ~49 MiB on the large demo and keeps the frames it was judged from alive); going
    back to the first setting judges again and gives the first answer."""
    d = _plant()
    for days in (12, 5, 3):
        compute_exceptions(d, plan(d, Calendar.weekly(TODAY, 8)),
                           settings=ExceptionSettings(confirmation_days=days))
    assert [k for k in d._derived if k.startswith("exceptions.data_rules")] == \
        ["exceptions.data_rules"]  # the old code kept three
    assert judged == ["E15"] * 3
    again = compute_exceptions(d, plan(d, Calendar.weekly(TODAY, 8)),
                               settings=ExceptionSettings(confirmation_days=12)).messages
    assert judged == ["E15"] * 4
    assert _of(again, "confirmation_missing", "days") == []  # 11 days late is within 12


def test_the_rules_frames_in_message_order_go_with_their_entry() -> None:
    """The per-load rules' frames kept in message order (and their item rows) belong to the
    rules' entry: judged again (another setting), the old ones are dropped, not kept beside
    (the review found +20 MiB per switch between the normal and the risk-adjusted plan on the
    large demo while they were kept per data up to 64 frames)."""
    d = _plant()
    compute_exceptions(d, plan(d, Calendar.weekly(TODAY, 8)))
    pieces = d._derived["exceptions.pieces"][1]
    items = d._derived["exceptions.item_rows"][1]
    counts = len(pieces), len(items)
    assert counts[0] >= 4  # E07, E10-E12, E13/E14, E15: one entry per frame
    for days in (12, 5, 3):
        compute_exceptions(d, plan(d, Calendar.weekly(TODAY, 8)),
                           settings=ExceptionSettings(confirmation_days=days))
    pieces = d._derived["exceptions.pieces"][1]
    items = d._derived["exceptions.item_rows"][1]
    assert (len(pieces), len(items)) == counts  # the old code: 4 times as many
    rules = d._derived["exceptions.data_rules"][1]["rules"][1]
    kept = {id(f) for f in (rules.past_due, *rules.purchasing, *rules.engineering,
                            rules.records)}
    assert {id(part) for part, _ in pieces.values()} <= kept


def test_nothing_per_data_keeps_the_old_rules_frames_alive() -> None:
    """Judged again (other settings), the frames of the old judgement are freed: no cache kept
    per data (reference index, item rows, name tables) still holds them (the reference
    index kept its look-ups of up to 64 frames, and the frames with them)."""
    import gc
    import weakref

    d = _plant()
    compute_exceptions(d, plan(d, Calendar.weekly(TODAY, 8)))
    first = [weakref.ref(piece) for _, pieces in d._derived["exceptions.pieces"][1].values()
             for piece in pieces]
    assert first
    for days in (12, 5, 3):
        compute_exceptions(d, plan(d, Calendar.weekly(TODAY, 8)),
                           settings=ExceptionSettings(confirmation_days=days))
    gc.collect()
    assert [r for r in first if r() is not None] == []
