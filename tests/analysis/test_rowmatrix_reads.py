"""RowMatrix reads (the fast paths of ``m[rows]``, ``m[rows, a:b]``, ``m[rows, cols]``,
``m[i]``, ``m[i, j]``) against the dense matrix on random matrices: written (dense) rows, zero
rows, negative zeros, duplicates, empty selections, negative and out-of-range indices."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.analysis.rowmatrix import RowMatrix


def _same(got: Any, want: np.ndarray) -> None:
    assert np.shape(got) == np.shape(want)
    assert np.asarray(got).dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))


def _matrix(seed: int, n: int, width: int, written: int) -> tuple[RowMatrix, np.ndarray]:
    rng = np.random.default_rng(seed)
    dense = np.where(rng.random((n, width)) < 0.3, rng.integers(-3, 4, (n, width)) * 0.5, 0.0)
    dense[rng.random(n) < 0.4] = 0.0
    dense[rng.random((n, width)) < 0.05] = -0.0
    m = RowMatrix.of(dense)
    for _ in range(written):  # rows written after the netting get dense slots
        rows = rng.integers(0, n, rng.integers(1, 4))
        values = np.where(rng.random((len(rows), width)) < 0.5, rng.normal(size=(len(rows), width)),
                          0.0)
        m[rows] = values
        dense[rows] = values
    return m, dense


def _read(m: RowMatrix, dense: np.ndarray, index: Any) -> None:
    try:
        want = dense[index]
    except IndexError:
        with pytest.raises(IndexError):
            m[index]
        return
    got = m[index]
    _same(got, want)
    if isinstance(got, np.ndarray) and got.size:
        got[...] = 99.0  # a copy: the matrix is unchanged
        np.testing.assert_array_equal(np.asarray(m), dense)


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**31), n=st.integers(1, 30), width=st.integers(1, 9),
       written=st.integers(0, 3), data=st.data())
def test_every_read_form_equals_the_dense_array(seed: int, n: int, width: int, written: int,
                                                data: st.DataObject) -> None:
    m, dense = _matrix(seed, n, width, written)
    row = st.integers(-n - 2, n + 1)
    col = st.integers(-width - 2, width + 1)
    rows = data.draw(st.lists(st.integers(-n, n - 1), max_size=12)).copy()
    sorted_rows = sorted(set(r % n for r in rows))
    cols = data.draw(st.lists(col, min_size=len(rows), max_size=len(rows)))
    a = data.draw(st.integers(-width - 1, width + 1) | st.none())
    b = data.draw(st.integers(-width - 1, width + 1) | st.none())
    step = data.draw(st.sampled_from([None, 1, 2, -1, 3]))
    i, j = data.draw(row), data.draw(col)
    r_arr = np.asarray(rows, np.int64)
    for index in [
        i, (i, j), (i, slice(a, b, step)), r_arr, np.asarray(sorted_rows, np.int32),
        np.arange(n), (r_arr, slice(a, b, step)), (np.asarray(sorted_rows), slice(None, b)),
        (r_arr, np.asarray(cols, np.int64)), (r_arr.astype(np.int32), j),
        (r_arr, np.asarray(cols[:1], np.int64)), (r_arr[:, None], np.arange(width)[None, :]),
        (np.arange(n) % 2 == 0, j), (slice(None), j), (slice(1, None), slice(a, b)),
        r_arr.reshape(-1, 1), (np.zeros(0, np.int64), j), (np.zeros(0, np.int64), slice(None)),
        (r_arr, np.asarray(cols, np.uint8) if min(cols, default=0) >= 0 else j),
    ]:
        _read(m, dense, index)


def test_hand_pairs_and_slices() -> None:
    dense = np.array([[0.0, 2.0, 0.0, -0.0], [0.0, 0.0, 0.0, 0.0], [1.0, 0.0, 3.0, 4.0]])
    m = RowMatrix.of(dense)
    assert m[np.array([2, 2, 0, 1]), np.array([3, 0, 1, 2])].tolist() == [4.0, 1.0, 2.0, 0.0]
    assert np.signbit(m[0, 3]) and m[0, -3] == 2.0 and m[1, 2] == 0.0
    assert m[np.array([2, 0]), :2].tolist() == [[1.0, 0.0], [0.0, 2.0]]
    assert m[np.array([2]), 1::2].tolist() == [[0.0, 4.0]]
    with pytest.raises(IndexError):
        m[np.array([0]), np.array([4])]
    with pytest.raises(IndexError):
        m[3, 0]
