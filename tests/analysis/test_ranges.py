"""concat_ranges: the index ranges every CSR read and sorted-key lookup concatenates."""

from __future__ import annotations

import numpy as np

from workbench.analysis.ranges import concat_ranges


def test_ranges_end_to_end_with_empty_ones_skipped() -> None:
    got = concat_ranges(np.array([5, 0, 9, 2]), np.array([2, 0, 3, 1]))
    assert got.tolist() == [5, 6, 9, 10, 11, 2]
    assert got.dtype == np.int64


def test_no_ranges_and_int32_inputs() -> None:
    assert concat_ranges(np.zeros(0, np.int64), np.zeros(0, np.int64)).tolist() == []
    assert concat_ranges(np.array([3, 7], np.int32), np.array([0, 0], np.int32)).tolist() == []
    got = concat_ranges(np.array([2_000_000_000, 1], np.int32), np.array([2, 1], np.int32))
    assert got.tolist() == [2_000_000_000, 2_000_000_001, 1]
    # unsigned counts / starts: numpy would mix them with int64 into float64 or wrap around
    got = concat_ranges(np.array([7, 250], np.uint8), np.array([2, 3], np.uint32))
    assert got.dtype == np.int64 and got.tolist() == [7, 8, 250, 251, 252]


def test_same_as_a_loop_of_aranges_on_random_ranges() -> None:
    rng = np.random.default_rng(3)
    for _ in range(50):
        starts = rng.integers(0, 1000, 40)
        counts = rng.integers(0, 6, 40)
        loop = [i for s, c in zip(starts, counts) for i in range(s, s + c)]
        assert concat_ranges(starts, counts).tolist() == loop
