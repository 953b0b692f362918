"""Row look-ups for the questions a planner asks one item at a time (a revision impact, a
what-if): the rows of a large frame or array that belong to a few codes or keys, found through
an index built once and kept with the plan or the data, instead of comparing every row's code
at every question (on the large demo a comparison over 100,000-1,000,000 rows of text cost
5-100 ms; the look-up costs microseconds).

Rows always come back in ascending order: what a boolean mask over the frame selects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from workbench.analysis.ranges import concat_ranges

T = TypeVar("T")


def rows_by_code(column: pd.Series | np.ndarray) -> dict[Any, np.ndarray]:
    """Row positions of each value of ``column`` (ascending); missing values are left out."""
    number, values = pd.factorize(np.asarray(column, dtype=object))
    if not len(values):
        return {}
    order = np.argsort(number, kind="stable")
    order = order[number[order] >= 0]
    bounds = np.cumsum(np.bincount(number[number >= 0], minlength=len(values)))[:-1]
    return dict(zip(values.tolist(), np.split(order, bounds), strict=True))


def rows_of_codes(index: dict[Any, np.ndarray], codes: Iterable[Any]) -> np.ndarray:
    """The rows of ``codes`` in an index of :func:`rows_by_code`, ascending, each row once."""
    found = [index[c] for c in set(codes) if c in index]
    if not found:
        return np.zeros(0, np.int64)
    return np.sort(np.concatenate(found))


class KeyIndex:
    """The rows of an integer key array, by key: one stable sort, then a binary search per
    asked key."""

    def __init__(self, keys: np.ndarray) -> None:
        self.order = np.argsort(keys, kind="stable")
        self.sorted = np.asarray(keys)[self.order]

    def rows(self, wanted: np.ndarray) -> np.ndarray:
        """Rows whose key is one of ``wanted`` (as ``np.flatnonzero(np.isin(keys, wanted))``)."""
        wanted = np.unique(np.asarray(wanted))
        lo = np.searchsorted(self.sorted, wanted, "left")
        count = np.searchsorted(self.sorted, wanted, "right") - lo
        total = int(count.sum())
        if total == 0:
            return np.zeros(0, np.int64)
        return np.sort(self.order[concat_ranges(lo, count)])


def kept_with(owner: object, name: str, source: object, build: Callable[[], T]) -> T:
    """``build()``, kept in ``owner``'s attributes under ``name`` while ``source`` (the frame
    or array it was built from) is the very same object."""
    memo = vars(owner)
    hit = memo.get(name)
    if hit is not None and hit[0] is source:
        return hit[1]
    value = build()
    memo[name] = (source, value)
    return value
