"""Runs, intervals and plan-matrix reads on sorted arrays: the primitives the pegging matrix
(:mod:`.pegmatrix`), firm coverage (:mod:`.coverage`), the endangered demands
(:mod:`.endangers`) and their listing (:mod:`.listing`) share. Nothing here knows about
pegging: intervals ``(lo, hi]`` grouped by row and their overlaps, binary searches within runs
of a sorted array, cumulative operations within runs of equal groups, and the entries of a
plan matrix (:class:`~workbench.analysis.rowmatrix.RowMatrix` or dense) other than 0."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from workbench.analysis.ranges import concat_ranges
from workbench.analysis.rowmatrix import RowMatrix


def overlaps(a_row: np.ndarray, a_lo: np.ndarray, a_hi: np.ndarray, b_row: np.ndarray,
             b_lo: np.ndarray, b_hi: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The overlaps of two sets of intervals ``(lo, hi]`` grouped by row, each set's intervals
    disjoint within a row: (index into a, index into b, length) of every overlap longer than 0,
    in the order of their position (row, then start).

    Both callers give each set in order (rows ascending, within a row starts and ends
    ascending): then each b-interval's overlapping a-intervals are one run of the a-intervals
    of its row, found by binary search (:func:`_sorted_overlaps`). Cumulative positions summed
    in another order put an interval's start a rounding error before the previous one's end
    (thousands of times on the medium demo); the run still holds every overlap. The sort of
    every start and end (:func:`_sorted_pieces`, used before) took an interval as closed at the
    previous one's end there and lost its overlap: 3,448 of the medium demo's 24,511 messages
    missed endangered demands, 6 E09 messages were missing
    (tests/foundation/test_exception_medium.py). It is kept for sets out of order."""
    a = np.flatnonzero(a_hi - a_lo > 0)
    b = np.flatnonzero(b_hi - b_lo > 0)
    na, nb = len(a), len(b)
    if not na or not nb:
        empty = np.zeros(0, np.int64)
        return empty, empty, np.zeros(0)
    a_row, a_lo, a_hi = np.asarray(a_row, np.int64)[a], a_lo[a], a_hi[a]
    b_row, b_lo, b_hi = np.asarray(b_row, np.int64)[b], b_lo[b], b_hi[b]
    if _in_order(a_row, a_lo, a_hi) and _in_order(b_row, b_lo, b_hi):
        ai, bi, length = _sorted_overlaps(a_row, a_lo, a_hi, b_row, b_lo, b_hi)
        return a[ai], b[bi], length
    ai, bi, length = _sorted_pieces(a_row, a_lo, a_hi, b_row, b_lo, b_hi)
    return a[ai], b[bi], length


def _in_order(row: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> bool:
    """Rows ascending and, within a row, starts and ends both ascending (consecutive intervals
    may overlap by a rounding error: the cumulative positions are sums in another order)."""
    if len(row) < 2:
        return True
    step = np.diff(row)
    return bool((step >= 0).all() and ((step > 0) | ((lo[1:] >= lo[:-1])
                                                     & (hi[1:] >= hi[:-1]))).all())


def bisect_runs(values: np.ndarray, lo: np.ndarray, hi: np.ndarray, probe: np.ndarray,
            strict: bool) -> np.ndarray:
    """Per probe: the first position in ``[lo, hi)`` whose value is above (``strict``) or at
    least ``probe`` (``hi`` when none); ``values`` ascend within each range. All probes at once,
    one halving step per pass; once fewer than a quarter still search (most ranges are short,
    a few long), those go on alone (taking them out every pass costs more than it saves)."""
    lo, hi = lo.copy(), hi.copy()
    last = max(len(values) - 1, 0)
    active = lo < hi
    while True:
        searching = int(np.count_nonzero(active))
        if not searching:
            return lo
        if searching * 4 < len(lo):
            at = np.flatnonzero(active)
            lo[at] = bisect_runs(values, lo[at], hi[at], probe[at], strict)
            return lo
        mid = (lo + hi) >> 1  # positions are not negative: // 2, faster
        value = values[np.minimum(mid, last)]
        below = active & ((value <= probe) if strict else (value < probe))
        lo = np.where(below, mid + 1, lo)
        hi = np.where(active & ~below, mid, hi)
        active = lo < hi


def _sorted_overlaps(a_row: np.ndarray, a_lo: np.ndarray, a_hi: np.ndarray, b_row: np.ndarray,
                     b_lo: np.ndarray, b_hi: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`overlaps` of two sets in order (:func:`_in_order`, lengths above 0): per
    b-interval the a-intervals of its row ending after its start up to the first starting at or
    after its end; overlap ``min(hi) - max(lo)`` (the one elementary piece the sort finds: no
    other start or end lies inside it). Listed by b, then a: position order."""
    # each row's run of a-intervals (rows ascending, not negative): counted, not searched
    ptr = np.zeros(max(int(a_row[-1]), int(b_row[-1])) + 2, np.int64)
    np.cumsum(np.bincount(a_row, minlength=len(ptr) - 1), out=ptr[1:])
    start, end = ptr[b_row], ptr[b_row + 1]
    first = bisect_runs(a_hi, start, end, b_lo, strict=True)
    stop = bisect_runs(a_lo, first, end, b_hi, strict=False)
    bi, ai = expand(first, np.maximum(stop - first, 0))
    length = np.minimum(a_hi[ai], b_hi[bi]) - np.maximum(a_lo[ai], b_lo[bi])
    keep = length > 0
    return ai[keep], bi[keep], length[keep]


def _sorted_pieces(a_row: np.ndarray, a_lo: np.ndarray, a_hi: np.ndarray, b_row: np.ndarray,
                   b_lo: np.ndarray, b_hi: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`overlaps` by one sort of every start and end (any order of the intervals)."""
    na, nb = len(a_row), len(b_row)
    a, b = np.arange(na), np.arange(nb)
    row = np.concatenate([a_row, a_row, b_row, b_row]).astype(np.int64)
    pos = np.concatenate([a_lo, a_hi, b_lo, b_hi]).astype(float)
    # at one position ends come before starts; starts keep their own order
    start = np.concatenate([np.ones(na, np.int8), np.zeros(na, np.int8),
                            np.ones(nb, np.int8), np.zeros(nb, np.int8)])
    which = np.concatenate([np.zeros(2 * na, np.int8), np.ones(2 * nb, np.int8)])
    value = np.concatenate([a, np.full(na, -1), b, np.full(nb, -1)]).astype(np.int64)
    seq = np.concatenate([np.arange(na), np.arange(na), np.arange(nb), np.arange(nb)])
    # (start, seq) as one key: starts after ends, each in its own order
    order = np.lexsort((start.astype(np.int64) * (max(na, nb) + 1) + seq, pos, row))
    row, pos, which, value = row[order], pos[order], which[order], value[order]
    idx = np.arange(len(order))

    def state(kind: int) -> np.ndarray:
        last = np.maximum.accumulate(np.where(which == kind, idx, -1))
        out = np.where(last >= 0, value[np.maximum(last, 0)], -1)
        return np.where((last >= 0) & (row[np.maximum(last, 0)] == row), out, -1)

    in_a, in_b = state(0), state(1)
    length = np.zeros(len(order))
    length[:-1] = np.where(row[1:] == row[:-1], pos[1:] - pos[:-1], 0.0)
    keep = (length > 0) & (in_a >= 0) & (in_b >= 0)
    return in_a[keep], in_b[keep], length[keep]


def above(matrix: Any, limit: float) -> tuple[np.ndarray, np.ndarray]:
    """``np.nonzero(matrix > limit)`` (row-major) for a plan matrix: a
    :class:`~workbench.analysis.rowmatrix.RowMatrix` is read in the rows it stores only (the
    others are all zero), not compared and gathered over every row."""
    stored = getattr(matrix, "stored_rows", None)
    if stored is None or limit < 0:
        found = np.nonzero(np.asarray(matrix) > limit)
        return found[0], found[1]
    rows = np.asarray(stored, np.int64)
    r, b = np.nonzero(matrix[rows] > limit) if len(rows) else (rows, rows)
    return rows[r], b


def stored_entries(matrix: Any, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(position in ``rows``, bucket, value) of every value of ``matrix[rows]`` that may be
    other than 0, by position then bucket (:meth:`RowMatrix.entries`; a dense matrix: its
    non-zero values)."""
    if isinstance(matrix, RowMatrix):
        return matrix.entries(rows)
    dense = np.asarray(matrix)[rows]
    r, b = np.nonzero(dense)
    return r, b, dense[r, b]


def expand(starts: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(owner position, index) of ``range(starts[k], starts[k] + counts[k])`` for every k."""
    return np.repeat(np.arange(len(starts)), counts), concat_ranges(starts, counts)


def group_first(groups: np.ndarray) -> np.ndarray:
    """Index of the first element of each element's run of equal ``groups``."""
    n = len(groups)
    starts = np.ones(n, bool)
    if n > 1:
        starts[1:] = groups[1:] != groups[:-1]
    return np.maximum.accumulate(np.where(starts, np.arange(n), 0)) if n else \
        np.zeros(0, np.int64)


def group_cumsum(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Cumulative sum of ``values`` within runs of equal ``groups`` (sorted by group)."""
    total = np.cumsum(values)
    first = group_first(groups)
    return total - (total - values)[first] if len(values) else total


def group_cummin(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Running minimum of ``values`` within runs of equal ``groups`` (sorted by group)."""
    if not len(values):
        return values
    return pd.Series(values).groupby(groups, sort=False).cummin().to_numpy()


def group_shift(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """The previous value within the group (0 for each group's first)."""
    out = np.zeros(len(values))
    if len(values) > 1:
        out[1:] = np.where(groups[1:] == groups[:-1], values[:-1], 0.0)
    return out


class Merged:
    """The merge of two key-sorted sequences without sorting them again: ``b``'s elements go
    after every element of ``a`` with a key less than or equal to theirs (``a`` first on a
    tie, as a stable sort of ``a`` then ``b`` puts them). Called with a column of each, it
    returns the merged column."""

    def __init__(self, a_key: np.ndarray, b_key: np.ndarray) -> None:
        self.at = np.searchsorted(a_key, b_key, "right") + np.arange(len(b_key))
        self.n = len(a_key) + len(b_key)
        self.of_a = np.ones(self.n, bool)
        self.of_a[self.at] = False

    def __call__(self, a: np.ndarray, b: np.ndarray, dtype: Any = None) -> np.ndarray:
        out = np.empty(self.n, dtype if dtype is not None else np.result_type(a, b))
        out[self.of_a] = a
        out[self.at] = b
        return out
