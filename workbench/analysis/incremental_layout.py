"""Net change planning, the row layout (:mod:`workbench.analysis.incremental`): a replan that
adds, drops or moves rows lays the plan's arrays out again in level then key order, as a full
plan does — without touching the rows that stay where they are more than once.

The new layout is given as ``src``: row ``j`` of the result is the previous plan's row
``src[j]`` when ``src[j] >= 0`` (a row kept, or a row whose item changed level: same values,
new place), else row ``-1 - src[j]`` of ``fresh`` (a row the replan added). Kept rows keep their
order, so the copy is a few long runs:

* a matrix that keeps only its non-zero rows (:class:`workbench.analysis.rowmatrix.RowMatrix`:
  a ``slot`` per row naming where its values are stored, ``n_stored`` the all-zero row) is
  laid out again by its slots alone (an int32 per row, a shallow copy sharing the stored
  values); the added rows are written through it, so only their non-zero ones are stored;
* a dense array is copied run by run (``out[a:b] = old[c:d]``, memcpy speed) — a boolean-mask
  gather and scatter of the 550k x 26 matrices of the large demo took ~0.25 s each; runs of a
  few rows (many rows changing level) go through one fancy-index copy instead of a Python loop.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from workbench.analysis.ranges import concat_ranges

#: runs shorter than this are copied by one gather, longer ones slice by slice
_SHORT_RUN = 64


def relaid(array: Any, src: np.ndarray, fresh: np.ndarray) -> Any:
    """``array``'s rows in the layout ``src`` (module doc); ``fresh``: the added rows' values.
    A RowMatrix result shares the stored rows of ``array`` (copy it first to keep the old)."""
    old = src >= 0
    new_at = np.flatnonzero(~old)
    if _is_row_matrix(array):
        # a shallow copy sharing the stored rows, with the slots laid out anew; a zero row's
        # slot is the all-zero row ``n_stored`` names
        slot = np.full(len(src), array.n_stored, array.slot.dtype)
        slot[old] = array.slot[src[old]]
        out = copy.copy(array)
        out.slot = slot
        if len(new_at):
            out[new_at] = fresh[-1 - src[new_at]]
        return out
    out_array = np.empty((len(src),) + array.shape[1:], array.dtype)
    if array.ndim == 1:
        out_array[old] = array[src[old]]
    else:
        _copy_runs(out_array, array, src)
    if len(new_at):
        out_array[new_at] = fresh[-1 - src[new_at]]
    return out_array


def _is_row_matrix(array: Any) -> bool:
    return all(hasattr(array, name) for name in ("slot", "n_stored")) and \
        not isinstance(array, np.ndarray)


def _copy_runs(out: np.ndarray, array: np.ndarray, src: np.ndarray) -> None:
    """``out[j] = array[src[j]]`` for every ``src[j] >= 0``, by runs of consecutive sources."""
    at = np.flatnonzero(src >= 0)
    if len(at) == 0:
        return
    s = src[at]
    brk = np.flatnonzero((np.diff(at) != 1) | (np.diff(s) != 1)) + 1
    starts = np.concatenate([[0], brk])
    ends = np.concatenate([brk, [len(at)]])
    long = (ends - starts) >= _SHORT_RUN
    for a, b in zip(starts[long].tolist(), ends[long].tolist()):
        d, o = int(at[a]), int(s[a])
        out[d:d + b - a] = array[o:o + b - a]
    short = ~long
    if short.any():
        lengths = (ends - starts)[short]
        idx = concat_ranges(starts[short], lengths)
        out[at[idx]] = array[s[idx]]
