"""The row layout of a replan (:func:`workbench.analysis.incremental_layout.relaid`): rows kept,
moved, dropped and added, for a dense matrix (copied run by run), a vector, and a matrix that
keeps only its non-zero rows (laid out by its slots) — hand-written expected rows."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.analysis import incremental_layout
from workbench.analysis.incremental_layout import relaid
from workbench.analysis.rowmatrix import RowMatrix

OLD = np.array([[1.0, 0.0], [2.0, 0.0], [0.0, 0.0], [4.0, 4.0], [5.0, 0.0]])
FRESH = np.array([[7.0, 7.0], [0.0, 0.0]])
# new layout: old 0, fresh 0, old 2, old 1 (moved after its neighbour), fresh 1, old 4; old 3
# dropped
SRC = np.array([0, -1, 2, 1, -2, 4])
WANT = np.array([[1.0, 0.0], [7.0, 7.0], [0.0, 0.0], [2.0, 0.0], [0.0, 0.0], [5.0, 0.0]])


@pytest.mark.parametrize("short_run", [1, 64])
def test_a_dense_matrix_is_laid_out_by_runs(short_run: int, monkeypatch: pytest.MonkeyPatch
                                             ) -> None:
    monkeypatch.setattr(incremental_layout, "_SHORT_RUN", short_run)  # slices, then one gather
    got = relaid(OLD, SRC, FRESH)
    assert isinstance(got, np.ndarray)
    assert got.tolist() == WANT.tolist()


def test_a_long_run_is_copied_whole() -> None:
    old = np.arange(400.0).reshape(200, 2)
    src = np.concatenate([np.arange(0, 100), [-1], np.arange(101, 200)])
    got = relaid(old, src, np.array([[-1.0, -1.0]]))
    want = old.copy()
    want[100] = -1.0
    assert got.tolist() == want.tolist()


def test_a_vector_is_laid_out_like_the_rows() -> None:
    got = relaid(np.array([10.0, 20.0, 30.0, 40.0, 50.0]), SRC, np.array([70.0, 0.0]))
    assert got.tolist() == [10.0, 70.0, 30.0, 20.0, 0.0, 50.0]


def test_a_matrix_of_non_zero_rows_is_laid_out_by_its_slots() -> None:
    old = RowMatrix.of(OLD)
    got = relaid(old, SRC, FRESH)
    assert isinstance(got, RowMatrix)
    assert np.asarray(got).tolist() == WANT.tolist()
    assert np.asarray(old).tolist() == OLD.tolist()  # the old layout still reads the same
