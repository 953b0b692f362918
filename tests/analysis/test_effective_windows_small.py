"""The revision windows of a few revisions, worked out row by row (the fast path a what-if or an
impact takes), are the frame-wide answer: on random revision sets with open and missing dates,
equal starts, overridden and resuming revisions, drafts filtered out."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from workbench.analysis.bom import OPEN_END, effective_windows


def _revisions(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for p in range(int(rng.integers(1, 5))):
        for r in range(int(rng.integers(1, 5))):
            start = None if rng.random() < 0.3 else dt.date(2025, 1, 1) + dt.timedelta(
                days=int(rng.integers(0, 6)) * 10)
            end = None if rng.random() < 0.4 else dt.date(2025, 1, 1) + dt.timedelta(
                days=int(rng.integers(0, 8)) * 10)
            rows.append({"parent": f"P{p}", "revision": "ABCD"[r],
                         "status": "released" if rng.random() < 0.8 else "draft",
                         "effective_from": pd.Timestamp(start) if start else pd.NaT,
                         "effective_to": pd.Timestamp(end) if end else pd.NaT})
    return pd.DataFrame(rows).sample(frac=1.0, random_state=int(rng.integers(0, 1000)))


@pytest.mark.parametrize("seed", range(200))
def test_row_by_row_windows_equal_the_frame_wide_ones(seed: int) -> None:
    revisions = _revisions(np.random.default_rng(seed))
    for statuses in (("released",), ("released", "draft")):
        fast = effective_windows(revisions, statuses)
        wide = effective_windows(revisions, statuses, small=0)
        # the frame-wide path carries the open end through a float column (NaN of shift), so it
        # comes back as OPEN_END + 1; both lie beyond any day (``day < win_to``)
        wide["win_to"] = wide["win_to"].clip(upper=OPEN_END)
        assert (fast["win_to"] <= OPEN_END).all()
        pd.testing.assert_frame_equal(fast, wide, check_dtype=True)


def test_a_short_lived_revision_inside_a_long_one_by_hand() -> None:
    """A from day d0 open-ended, B from d10 to d19: A governs [d0, d10) and again from d20."""
    d = dt.date(2025, 1, 1)
    revisions = pd.DataFrame({
        "parent": ["P", "P"], "revision": ["A", "B"], "status": ["released"] * 2,
        "effective_from": [pd.Timestamp(d), pd.Timestamp(d + dt.timedelta(days=10))],
        "effective_to": [pd.NaT, pd.Timestamp(d + dt.timedelta(days=19))]})
    win = effective_windows(revisions)
    day0 = int(win["win_from"].min())
    assert [(r, f - day0) for r, f in zip(win["revision"], win["win_from"], strict=True)] == \
        [("A", 0), ("B", 10), ("A", 20)]
    assert list(win["win_to"] - day0)[:2] == [10, 20]
