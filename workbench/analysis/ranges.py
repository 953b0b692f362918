"""Concatenated index ranges: the one numpy idiom every CSR read, sorted-key lookup and
row splice uses (``range(starts[k], starts[k] + counts[k])`` for every k, end to end)."""

from __future__ import annotations

import numpy as np


def concat_ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``np.concatenate([np.arange(s, s + c) for s, c in zip(starts, counts)])`` without a
    Python loop: int64, ``counts.sum()`` long, empty ranges (count 0) contribute nothing."""
    counts = np.asarray(counts, np.int64)  # unsigned or narrow inputs: no float, no wrap
    first = np.repeat(np.asarray(starts, np.int64) - np.cumsum(counts) + counts, counts)
    out: np.ndarray = first + np.arange(len(first))
    return out
