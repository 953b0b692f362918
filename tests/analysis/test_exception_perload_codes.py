"""The per-load look-ups' shortcuts equal the plain computation (pegs.sorted_codes, runs)."""

import numpy as np
import pandas as pd
import pytest

from workbench.analysis.exceptions.pegs import runs, sorted_codes


def _same(values: np.ndarray) -> None:
    codes, distinct = sorted_codes(values)
    want_codes, want = pd.factorize(values, sort=True)
    np.testing.assert_array_equal(codes, want_codes)
    assert list(distinct) == list(want)


@pytest.mark.parametrize("seed", range(20))
def test_sorted_codes_equal_factorize_sorted(seed: int) -> None:
    rng = np.random.default_rng(seed)
    pool = np.array(["WO-1", "WO-10", "WO-2", "wo-1", "A", "", "Ä", "WO-1\x00", "z" * 30,
                     "work_order:WO-1", "B b"], dtype=object)
    n = int(rng.integers(0, 60))
    values = pool[rng.integers(0, len(pool), n)]
    values = np.repeat(values, rng.integers(1, 4, n)) if n else values  # runs
    if seed % 3 == 0 and len(values):
        values[rng.integers(0, len(values))] = np.nan  # missing: -1, as pandas
    _same(values)


def test_sorted_codes_falls_back_where_unicode_order_differs() -> None:
    _same(np.array(["b\x00", "b", "a"], dtype=object))  # trailing NUL: pandas decides
    _same(np.array([10, 9, 9, 100], dtype=object))  # numbers, not texts
    _same(np.array([], dtype=object))


def test_runs() -> None:
    heads, lengths = runs(np.array(["a", "a", "b", "a", np.nan, np.nan], dtype=object))
    assert heads.tolist() == [0, 2, 3, 4, 5] and lengths.tolist() == [2, 1, 1, 1, 1]
