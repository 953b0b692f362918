"""E08 reads only the rows of the plan's matrices that may be non-zero (a RowMatrix's all-zero
rows are on hand in every bucket): the same messages as the dense matrices, read in full."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from tests.analysis.builders import TODAY, data, item, stock
from tests.analysis.test_exceptions import _plant
from workbench.analysis.calendar import Calendar
from workbench.analysis.exceptions import supply
from workbench.analysis.netting import plan
from workbench.analysis.rowmatrix import RowMatrix


def _both(p) -> tuple[pd.DataFrame, pd.DataFrame]:  # type: ignore[no-untyped-def]
    dense = dataclasses.replace(p, gross=np.asarray(p.gross), scheduled=np.asarray(p.scheduled))
    return supply.below_safety_stock(p), supply.below_safety_stock(dense)


def test_below_safety_stock_skips_zero_rows_with_the_same_messages() -> None:
    p = plan(_plant(), Calendar.weekly(TODAY, 8))
    assert isinstance(p.gross, RowMatrix) and isinstance(p.scheduled, RowMatrix)
    fast, full = _both(p)
    assert len(full)
    pd.testing.assert_frame_equal(fast, full)


def test_a_row_without_receipts_or_requirements_is_judged_on_its_on_hand() -> None:
    # two items with safety stock 10 and no requirement or receipt at all: on hand 4 is 6
    # short from bucket 0 on; on hand 12 is not short
    d = data(items=[item("S1", safety_stock=10.0, lead_time_days=14),
                    item("S2", safety_stock=10.0, lead_time_days=14)],
             inventory=[stock("S1", 4.0), stock("S2", 12.0)])
    p = plan(d, Calendar.weekly(TODAY, 8))
    assert isinstance(p.gross, RowMatrix)
    rows = np.flatnonzero(p.items.safety_stock[p.item] > 0)
    assert not (p.gross.slot[rows] != p.gross.n_stored).any()  # all-zero rows: skipped
    fast, full = _both(p)
    pd.testing.assert_frame_equal(fast, full)
    assert fast[["item", "quantity"]].values.tolist() == [["S1", 6.0]]
