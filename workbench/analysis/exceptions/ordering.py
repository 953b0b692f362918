"""The stable order of rows by several integer keys, fast: what ``np.lexsort`` gives, from one
unstable argsort of one packed int64 key where the keys fit.

``np.lexsort`` makes one stable pass per key (the large demo's claims: 0.13-0.23 s for 900k
rows); a stable argsort of one packed key is one timsort (0.11 s); numpy's default argsort of
int64 is a vectorised quicksort (AVX-512 here: 0.04 s) but not stable. Stable does not matter
when no two packed keys are equal, so the row's own position is packed in as the last key when
it fits; otherwise the rows whose packed keys tie (few: the keys almost always tell rows
apart) are put in order by the remaining keys and their position afterwards.

Figures: 902,198 random rows, keys of 550,110 x 190 x 2 values, CPU time, minimum of 5
(docs/exceptions.md, Performance). tests/analysis/test_exception_ordering.py checks the order
against ``np.lexsort`` for keys that fit, need the tie pass, or fit not at all.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

LIMIT = 2**62  # packed keys stay below this (int64, with room)


def lex_order(keys: Sequence[np.ndarray]) -> np.ndarray:
    """The stable order by ``keys``, the major key first (``np.lexsort(keys[::-1])``); keys are
    integer (or bool) arrays of one length."""
    n = len(keys[0]) if len(keys) else 0
    if n == 0:
        return np.zeros(0, np.intp)
    shifted: list[np.ndarray] = []
    spans: list[int] = []
    for key in keys:
        arr = np.asarray(key).astype(np.int64, copy=False)
        lo = int(arr.min())
        shifted.append(arr - lo)
        spans.append(int(arr.max()) - lo + 1)
    used, span = 0, 1
    while used < len(keys) and span * spans[used] < LIMIT:
        span *= spans[used]
        used += 1
    if used == 0:
        return np.lexsort(list(keys)[::-1])
    packed = np.zeros(n, np.int64)
    for arr, width in zip(shifted[:used], spans[:used]):
        packed = packed * width + arr
    if used == len(keys) and span * n < LIMIT:  # unique with the position: any sort is stable
        return np.argsort(packed * n + np.arange(n, dtype=np.int64))
    order = np.argsort(packed)
    ranked = packed[order]
    tie = ranked[1:] == ranked[:-1]
    if not tie.any():
        return order
    member = np.zeros(n, bool)  # every row of a run of equal packed keys
    member[1:] |= tie
    member[:-1] |= tie
    at = np.flatnonzero(member)
    rows = order[at]
    # runs are contiguous in ``order``: sorting the members by (packed, the other keys,
    # position) puts each run in place
    rest = [arr[rows] for arr in shifted[used:]]
    sub = np.lexsort([rows, *rest[::-1], ranked[at]])
    order[at] = rows[sub]
    return order
