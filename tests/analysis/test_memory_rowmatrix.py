"""The plan's matrices keep only their non-zero rows (issue 16 §3, docs/memory.md) and read like
the dense arrays they replace: every index form, write, reduction and operator the planning
code uses gives what the dense array gives, value for value."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path

import numpy as np
import pytest

from workbench.analysis.calendar import Calendar
from workbench.analysis.netting import EPS, plan
from workbench.analysis.rowmatrix import RowMatrix, RowMatrixBuilder
from workbench.cache.db import open_cache
from workbench.services.planning import load_planning_data, planning_day
from workbench.services.sources import demo_connector
from workbench.services.sync import run_sync


def _dense(seed: int = 3, n: int = 40, width: int = 6) -> np.ndarray:
    rng = np.random.default_rng(seed)
    m = np.where(rng.random((n, width)) < 0.3, rng.normal(size=(n, width)), 0.0)
    m[rng.random(n) < 0.6] = 0.0  # mostly zero rows, as a plan's
    m[0] = 0.0
    m[1, 2] = -0.0  # a negative zero is kept as it is
    return m


def test_hand_example_holds_only_nonzero_values() -> None:
    dense = np.array([[0.0, 0.0], [1.5, 0.0], [0.0, 0.0], [0.0, -2.0]])
    m = RowMatrix.of(dense)
    assert m.stored_rows.tolist() == [1, 3]
    assert m.ptr.tolist() == [0, 1, 2] and m.col.tolist() == [0, 1]  # the values' buckets
    assert m.val.tolist() == [1.5, -2.0]  # only the non-zero values are held
    assert m.shape == (4, 2) and len(m) == 4 and m.ndim == 2 and m.dtype == np.float64
    assert m[1].tolist() == [1.5, 0.0]
    assert m[2].tolist() == [0.0, 0.0]
    assert m[3, 1] == -2.0
    assert m[[3, 0, 1]].tolist() == [[0.0, -2.0], [0.0, 0.0], [1.5, 0.0]]
    assert m.sum(axis=1).tolist() == [0.0, 1.5, 0.0, -2.0]


INDEXES = [
    5, -1, 0, slice(None), slice(3, 17), slice(None, None, 3), [4, 4, 0, 39],
    np.array([7, 2, 2, 30]), np.arange(40) % 3 == 0, (5, 2), (-1, -1),
    (np.array([1, 4, 9]), 3), (np.array([1, 4, 9]), np.array([0, 5, 2])),
    (np.array([1, 4, 9]), slice(None, 4)), (slice(2, 9), np.array([0, 3])),
    (slice(None), 0), (np.arange(40) % 2 == 0, slice(1, 3)), (7, slice(None)),
    (np.array([[1, 2], [3, 4]]),), (np.array([[1], [2]]), np.array([[0, 1]])),
]


@pytest.mark.parametrize("index", INDEXES, ids=[repr(i)[:40] for i in INDEXES])
def test_reads_equal_the_dense_array(index: object) -> None:
    dense = _dense()
    m = RowMatrix.of(dense)
    got, want = m[index], dense[index]
    assert np.shape(got) == np.shape(want)
    assert np.asarray(got).dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))  # -0.0 stays -0.0


def test_reads_are_copies_the_zero_row_stays_zero() -> None:
    m = RowMatrix.of(_dense())
    row = m[0]
    row[:] = 9.0
    m[[0, 2]][:] = 9.0
    assert not np.asarray(m)[0].any() and not m[2].any()


WRITES = [
    (np.array([0, 3, 5]), 1.25), (np.array([2, 2]), np.arange(6.0)), (0, np.arange(6.0)),
    (np.arange(40) % 5 == 0, 0.0), ((4, 3), 7.0), ((np.array([0, 8]), np.array([1, 2])), -3.0),
    ((slice(0, 6), np.array([0, 5])), 2.0), (slice(10, 14), np.ones((4, 6))),
]


@pytest.mark.parametrize("index,value", WRITES, ids=[repr(w[0])[:40] for w in WRITES])
def test_writes_equal_the_dense_array(index: object, value: object) -> None:
    dense = _dense()
    m = RowMatrix.of(dense)
    before = m.copy()
    m[index] = value  # type: ignore[index]
    dense[index] = value  # type: ignore[index]
    np.testing.assert_array_equal(np.asarray(m), dense)
    np.testing.assert_array_equal(np.asarray(before), _dense())  # copies are independent
    zero = ~dense.any(axis=1) & ~_dense().any(axis=1) & ~np.signbit(_dense()).any(axis=1)
    assert (m.slot[zero] == m.n_stored).all()  # rows zero before and after share one row ...
    assert not m.block[m.n_stored].any()  # ... which stays zero
    np.testing.assert_array_equal(np.signbit(np.asarray(m)), np.signbit(dense))


def test_zero_values_written_to_zero_rows_store_nothing() -> None:
    dense = _dense()
    m = RowMatrix.of(dense)
    zero_rows = np.flatnonzero(~dense.any(axis=1) & ~np.signbit(dense).any(axis=1))
    m[zero_rows] = np.zeros((len(zero_rows), 6))
    assert m.n_stored == 0  # no row needed a dense slot
    m[[zero_rows[0], 3]] = 1.0  # a zero row and a compressed one written: two dense rows
    assert m.n_stored == 2
    dense[[zero_rows[0], 3]] = 1.0
    np.testing.assert_array_equal(np.asarray(m), dense)


def test_reductions_operators_and_numpy_functions_equal_the_dense_array() -> None:
    dense = _dense()
    m = RowMatrix.of(dense)
    for name in ("sum", "any", "all", "max", "min"):
        np.testing.assert_array_equal(getattr(m, name)(axis=1), getattr(dense, name)(axis=1))
        np.testing.assert_array_equal(getattr(m, name)(axis=-1), getattr(dense, name)(axis=-1))
        assert getattr(m, name)() == getattr(dense, name)()
        np.testing.assert_array_equal(getattr(m, name)(axis=0), getattr(dense, name)(axis=0))
    np.testing.assert_array_equal(m > EPS, dense > EPS)
    np.testing.assert_array_equal(np.abs(m), np.abs(dense))
    np.testing.assert_array_equal(m * 2 - 1, dense * 2 - 1)
    np.testing.assert_array_equal(m - m, dense - dense)
    np.testing.assert_array_equal(dense + m, dense + dense)
    np.testing.assert_array_equal(np.cumsum(m, axis=1), np.cumsum(dense, axis=1))
    np.testing.assert_array_equal(np.nonzero(m > EPS)[0], np.nonzero(dense > EPS)[0])
    np.testing.assert_array_equal(np.where(m > 0, m, 0.0), np.where(dense > 0, dense, 0.0))
    assert np.array_equal(m, dense)
    assert [r.tolist() for r in m] == dense.tolist()
    assert m.ravel().tolist() == dense.ravel().tolist()
    assert m.T.shape == (6, 40)
    with pytest.raises(TypeError):
        np.add(dense, 1.0, out=m)  # type: ignore[call-overload]


def test_pickle_and_copy() -> None:
    m = RowMatrix.of(_dense())
    for other in (pickle.loads(pickle.dumps(m)), copy.deepcopy(m), copy.copy(m)):
        assert isinstance(other, RowMatrix)
        np.testing.assert_array_equal(np.asarray(other), _dense())


def test_builder_appends_blocks_of_rows() -> None:
    dense = _dense(n=300)
    b = RowMatrixBuilder(6, capacity=4)
    for start in range(0, 300, 37):
        b.append(dense[start:start + 37])
    m = b.finish()
    np.testing.assert_array_equal(np.asarray(m), dense)
    assert len(m.ptr) - 1 == int(((dense != 0) | np.signbit(dense)).any(axis=1).sum())
    assert len(m.val) == int(((dense != 0) | np.signbit(dense)).sum())


def test_the_plans_matrices_hold_only_nonzero_values(tmp_path: Path) -> None:
    engine = open_cache(tmp_path / "cache.sqlite")
    try:
        run_sync(engine, demo_connector(scale="small"))  # the small demo plant: 541 rows
        data = load_planning_data(engine)
    finally:
        engine.dispose()
    p = plan(data, Calendar.parse(planning_day(data), "26w", "week"))
    for name in ("gross", "scheduled", "net", "planned"):
        m = getattr(p, name)
        dense = np.asarray(m)
        rows = int(dense.any(axis=1).sum())
        values = int((dense != 0).sum())
        assert rows < len(dense)  # the demo has zero rows in each
        # what is held: each non-zero value (8 bytes) with its bucket (2), where each non-zero
        # row's values start (8), a 4-byte slot per row and one zero row
        assert m.nbytes == values * 10 + (rows + 1) * 8 + 4 * len(dense) + dense.shape[1] * 8, \
            name
