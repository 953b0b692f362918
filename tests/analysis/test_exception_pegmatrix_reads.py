"""The pegging matrix's reads (:mod:`workbench.analysis.exceptions.pegmatrix`): the planned
orders of a :class:`~workbench.analysis.rowmatrix.RowMatrix` read from its stored values
(``_orders``) equal the dense matrix's, and the binary search of many ranges at once
(``bisect_runs``, the few long ranges searched on alone) equals one search per range."""

from __future__ import annotations

import bisect

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.analysis.test_rowmatrix_reads import _matrix
from workbench.analysis.exceptions.intervals import bisect_runs
from workbench.analysis.exceptions.pegmatrix import _orders
from workbench.analysis.rowmatrix import RowMatrix


def test_orders_of_a_hand_matrix() -> None:
    """Rows 0 and 2 hold values above 0.5: (row, bucket, value) row-major and the rows; a
    written row (1) counts as any other."""
    m = RowMatrix.of(np.array([[0.0, 2.0, 0.25], [0.0, 0.0, 0.0], [1.0, 0.0, 3.0],
                               [0.5, 0.0, 0.0]]))
    rows, buckets, values, held = _orders(m, 0.5)
    assert (rows.tolist(), buckets.tolist(), values.tolist()) == ([0, 2, 2], [1, 0, 2],
                                                                   [2.0, 1.0, 3.0])
    assert held.tolist() == [0, 2]
    m[np.array([1])] = np.array([[0.0, 0.75, 0.0]])
    rows, buckets, values, held = _orders(m, 0.5)
    assert (rows.tolist(), buckets.tolist(), held.tolist()) == ([0, 1, 2, 2], [1, 1, 0, 2],
                                                                [0, 1, 2])


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**31), st.integers(1, 30), st.integers(1, 6), st.integers(0, 3),
       st.sampled_from([0.0, 1e-9, 0.5, 1.0]))
def test_orders_of_stored_values_are_the_dense_ones(seed: int, n: int, width: int,
                                                     written: int, limit: float) -> None:
    m, dense = _matrix(seed, n, width, written)
    got = _orders(m, limit)
    want = _orders(dense, limit)
    for x, y in zip(got, want, strict=True):
        assert x.shape == y.shape and x.dtype.kind == y.dtype.kind
        np.testing.assert_array_equal(x, y)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 40), min_size=1, max_size=60), st.integers(0, 2**31),
       st.booleans())
def test_bisect_of_many_ranges_is_one_search_per_range(lengths: list[int], seed: int,
                                                        strict: bool) -> None:
    rng = np.random.default_rng(seed)
    runs = [np.sort(rng.integers(0, 8, k)).astype(float) for k in lengths]
    values = np.concatenate(runs)
    hi = np.cumsum(lengths)
    lo = hi - np.array(lengths)
    probe = rng.integers(-1, 9, len(lengths)).astype(float)
    want = [int(a) + (bisect.bisect_right if strict else bisect.bisect_left)(
        run.tolist(), float(p)) for a, run, p in zip(lo, runs, probe, strict=True)]
    assert bisect_runs(values, lo, hi, probe, strict).tolist() == want


def test_bisect_goes_on_with_the_long_ranges_alone() -> None:
    """Eight ranges of one value and one of 64: after the first pass only the long one still
    searches (fewer than a quarter): it is searched alone, to the same answer."""
    values = np.r_[np.arange(8.0), np.arange(64.0)]
    lo = np.r_[np.arange(8), 8]
    hi = np.r_[np.arange(1, 9), 72]
    probe = np.r_[np.arange(8.0) - 1, 40.0]
    assert bisect_runs(values, lo, hi, probe, True).tolist() == [*range(8), 8 + 41]
    assert bisect_runs(values, lo, hi, probe, False).tolist() == [*range(8), 8 + 40]
