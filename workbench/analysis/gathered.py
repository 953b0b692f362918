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
        if name.startswith("__") or name in ("base", "rows", "scrap", "n"):
            raise AttributeError(name)
        return getattr(np.asarray(self), name)

    def __getstate__(self) -> tuple[Any, np.ndarray]:
        return self.base, self.rows

    def __setstate__(self, state: tuple[Any, np.ndarray]) -> None:
        self.base, self.rows = state

    def __repr__(self) -> str:
        return f"Gathered({np.asarray(self)!r})"


class Extended(Gathered):
    """A BOM line's quantity per parent unit with scrap, ``quantity_per × (1 + scrap_pct /
    100)``, worked out for the rows read (the same float operations, so the same values as
    the whole array): the coded lines kept 2M of them (15 MiB on the large demo)."""

    __slots__ = ("scrap",)

    def __init__(self, quantity_per: np.ndarray, scrap_pct: np.ndarray):
        super().__init__(quantity_per, np.arange(0))
        self.scrap = scrap_pct

    def __getitem__(self, key: Any) -> Any:
        return self.base[key] * (1.0 + np.asarray(self.scrap[key], dtype=float) / 100.0)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = np.asarray(self[slice(None)])
        return out if dtype is None else out.astype(dtype, copy=False)

    def __len__(self) -> int:
        return len(self.base)

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.base),)

    @property
    def size(self) -> int:
        return len(self.base)

    @property
    def dtype(self) -> np.dtype[Any]:
        return np.dtype(np.float64)

    @property
    def nbytes(self) -> int:
        return 0

    def __getstate__(self) -> tuple[Any, np.ndarray]:
        return self.base, self.scrap

    def __setstate__(self, state: tuple[Any, np.ndarray]) -> None:
        self.base, self.scrap = state
        self.rows = np.arange(0)


class PairKey(Extended):
    """``first × n + second`` as int64, worked out for the rows read: the coded lines'
    (parent, revision) key without an array of 2M keys of its own (8 MiB on the large demo)."""

    __slots__ = ("n",)

    def __init__(self, first: np.ndarray, second: np.ndarray, n: int):
        super().__init__(first, second)
        self.n = n

    def __getitem__(self, key: Any) -> Any:
        out = np.asarray(self.base[key]).astype(np.int64)
        out *= self.n
        out += self.scrap[key]
        return out if np.ndim(out) else np.int64(out)

    @property
    def dtype(self) -> np.dtype[Any]:
        return np.dtype(np.int64)

    def __getstate__(self) -> tuple[Any, np.ndarray, int]:  # type: ignore[override]
        return self.base, self.scrap, self.n

    def __setstate__(self, state: tuple[Any, np.ndarray, int]) -> None:  # type: ignore[override]
        self.base, self.scrap, self.n = state
        self.rows = np.arange(0)
