"""``base[rows]`` read like an array without being made: a column of a subset of rows.

The where-used graph holds 1.6M of the large demo's 1.95M BOM lines (every line of an allowed
revision, once per effectivity window); copying each line column it answers questions with
(quantities, scrap, revision codes, positions, windows) into arrays of its own took ~70 MiB of
the planner process (issue 16 §3, docs/memory.md). A :class:`Gathered` keeps the base column
(the BOM frame's own column, the coded lines' arrays, a small table of windows) and the int32
row numbers, and answers reads as the array ``base[rows]`` would:

* ``g[i]``, ``g[rows]``, ``g[mask]``, ``g[a:b]``: ``base[rows[key]]``, the same values, shapes
  and dtypes (a copy, never a view: nothing writes through them);
* ``len()``, ``shape``, ``dtype``, ``ndim``, ``size``, iteration, ``tolist()``, ``astype()``;
* operators and ufuncs (``g == x``, ``~g``, ``np.unique(g)``) and any other array method
  (``g.sum()``) through the whole array, made for that call (``np.asarray(g)``).

Bases may be Gathered themselves (the revision codes of the coded lines are the distinct codes
gathered by their numbers). Readers keep indexing them as arrays (``graph.quantity[lines]``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin


class Gathered(NDArrayOperatorsMixin):
    """``base[rows]``, gathered on each read (module doc)."""

    __slots__ = ("base", "rows")

    def __init__(self, base: Any, rows: np.ndarray):
        self.base = base
        self.rows = rows

    def __getitem__(self, key: Any) -> Any:
        return self.base[self.rows[key]]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = np.asarray(self.base[self.rows])
        return out if dtype is None else out.astype(dtype, copy=False)

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        args = [np.asarray(x) if isinstance(x, Gathered) else x for x in inputs]
        if "out" in kwargs:
            kwargs["out"] = tuple(np.asarray(x) if isinstance(x, Gathered) else x
                                  for x in kwargs["out"])
        return getattr(ufunc, method)(*args, **kwargs)

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[Any]:
        return iter(np.asarray(self))

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.rows),)

    @property
    def ndim(self) -> int:
        return 1

    @property
    def size(self) -> int:
        return len(self.rows)

    @property
    def dtype(self) -> np.dtype[Any]:
        return np.dtype(self.base.dtype)

    @property
    def nbytes(self) -> int:
        """What this column keeps of its own: the row numbers (the base is shared)."""
        return int(self.rows.nbytes)

    def astype(self, dtype: Any, copy: bool = True) -> np.ndarray:
        return np.asarray(self).astype(dtype)

    def tolist(self) -> list[Any]:
        return np.asarray(self).tolist()

    def copy(self) -> np.ndarray:
        return np.asarray(self).copy()

    def __getattr__(self, name: str) -> Any:
        """Any other array method or attribute (``sum``, ``max``...) of the whole array."""
        if name.startswith("__") or name in Gathered.__slots__:
            raise AttributeError(name)
        return getattr(np.asarray(self), name)

    def __getstate__(self) -> tuple[Any, np.ndarray]:
        return self.base, self.rows

    def __setstate__(self, state: tuple[Any, np.ndarray]) -> None:
        self.base, self.rows = state

    def __repr__(self) -> str:
        return f"Gathered({np.asarray(self)!r})"
