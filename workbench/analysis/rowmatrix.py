"""A float64 matrix that stores only its non-zero rows, read like a dense array.

The plan's four (item-site rows x buckets) matrices are mostly zero rows on a real plant: on
the large demo (550,111 rows x 26 buckets) net requirements and planned receipts are zero in
91 % of the rows, scheduled receipts in 78 %, gross requirements in 47 % (docs/memory.md). As
dense float64 they take 436 MiB; :class:`RowMatrix` keeps one dense float64 block of the rows
that are not all zero plus an int32 slot per row, ~110 MiB for the same four, every value
exactly as the dense matrix holds it.

Why an array-like and not an accessor: every reader of ``Plan.gross/scheduled/net/planned``
(pegging, elements, scenario, requisitions, alternates, the impact report, the exception
checks, the incremental replan, the stored plan) indexes them as dense arrays. A RowMatrix
answers those reads with numpy's own semantics, so they keep working unchanged:

* ``m[i]``, ``m[rows]``, ``m[mask]``, ``m[a:b]``, ``m[rows, j]``, ``m[rows, cols]`` (pairwise),
  ``m[rows, :w]``: the same values, shapes and dtypes a dense array gives (always a copy, never a
  view: nothing reads through a view of a plan matrix to write into it);
* ``m[rows] = values`` and the other writes of the incremental replan (a zero row that receives
  a non-zero value gets a slot; the block grows in place);
* ``shape``, ``dtype``, ``ndim``, ``size``, ``len()``, iteration, ``copy()``;
* row reductions (``m.sum(axis=1)``, ``any``, ``max``, ``min`` over axis 1) from the block;
* elementwise operators and ufuncs with scalars (``m > EPS``, ``m * 2``) computed on the block
  and gathered per row, without a dense float64 copy; anything else (``np.asarray(m)``,
  ``np.cumsum(m, axis=1)``, ``m.sum()``, operations between two matrices) goes through the dense
  matrix, built for that call (exact, at its memory cost).

Layout: ``block`` has one row per stored row plus a last all-zero row; ``slot[i]`` is row
``i``'s row in the block, the zero row's index for a row that is all zero. Reading rows is then
one gather ``block[slot[rows]]``, with numpy's indexing rules for every index form above.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

#: reductions answered per row from the block (axis 1 / -1 of a 2-D matrix)
_ROW_REDUCTIONS = ("sum", "any", "all", "max", "min")


class RowMatrix(NDArrayOperatorsMixin):
    """A (rows, width) float64 matrix keeping only its non-zero rows (module doc)."""

    __slots__ = ("block", "n_stored", "slot")

    def __init__(self, slot: np.ndarray, block: np.ndarray, n_stored: int):
        self.slot = slot  # int32 (rows,): row of each row in block, n_stored for a zero row
        self.block = block  # float64 (capacity + 1, width); block[n_stored] is all zero
        self.n_stored = n_stored

    # construction -----------------------------------------------------------------------

    @classmethod
    def of(cls, dense: np.ndarray) -> RowMatrix:
        """The non-zero rows of a dense 2-D matrix."""
        dense = np.asarray(dense, dtype=np.float64)
        keep = np.flatnonzero(dense.any(axis=1))
        block = np.zeros((len(keep) + 1, dense.shape[1]))
        block[:len(keep)] = dense[keep]
        slot = np.full(len(dense), len(keep), np.int32)
        slot[keep] = np.arange(len(keep), dtype=np.int32)
        return cls(slot, block, len(keep))

    @classmethod
    def zeros(cls, n_rows: int, width: int) -> RowMatrix:
        return cls(np.zeros(n_rows, np.int32), np.zeros((1, width)), 0)

    # the array protocol ---------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.slot), self.block.shape[1])

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.block.dtype

    ndim = 2

    @property
    def size(self) -> int:
        return len(self.slot) * self.block.shape[1]

    @property
    def nbytes(self) -> int:
        """Bytes held (the block and the slots), not the dense matrix's."""
        return int(self.block.nbytes + self.slot.nbytes)

    @property
    def stored_rows(self) -> np.ndarray:
        """The rows that may be non-zero (every other row is all zero), ascending."""
        return np.flatnonzero(self.slot != self.n_stored)

    def __len__(self) -> int:
        return len(self.slot)

    def __iter__(self) -> Iterator[np.ndarray]:
        for s in self.slot:
            yield self.block[s].copy()

    def __repr__(self) -> str:
        return f"RowMatrix(shape={self.shape}, stored rows={self.n_stored})"

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        dense = self.block[self.slot]
        return dense if dtype is None else dense.astype(dtype, copy=False)

    def toarray(self) -> np.ndarray:
        return self.block[self.slot]

    def copy(self) -> RowMatrix:
        return RowMatrix(self.slot.copy(), self.block[:self.n_stored + 1].copy(), self.n_stored)

    def __getattr__(self, name: str) -> Any:
        # what this class does not answer itself is answered by the dense matrix (exact, at
        # its memory cost); private and special names are never looked up this way (pickle
        # and copy probe them on instances not yet filled in)
        if name.startswith("_") or name in RowMatrix.__slots__:
            raise AttributeError(name)
        return getattr(self.toarray(), name)

    # reads -------------------------------------------------------------------------------

    def __getitem__(self, index: Any) -> Any:
        row, rest = (index[0], index[1:]) if isinstance(index, tuple) else (index, ())
        if row is Ellipsis or row is None:
            return self.toarray()[index]
        slots = self.slot[row]
        if np.ndim(slots) == 0:  # one row: a copy, never a view of the block (its zero row)
            return self.block[slots].copy()[rest]
        if isinstance(row, slice) and any(not isinstance(r, slice) for r in rest):
            # a slice of rows with an index array of columns is an outer selection in numpy;
            # a slot array with one is pairwise: take the rows first
            return self.block[slots][(slice(None), *rest)]
        return self.block[(slots, *rest)]

    def __setitem__(self, index: Any, value: Any) -> None:
        row, rest = (index[0], index[1:]) if isinstance(index, tuple) else (index, ())
        rows = np.arange(len(self.slot))[row]
        values = np.asarray(value, dtype=np.float64)
        if not rest and rows.ndim == 1:
            values = np.broadcast_to(values, (len(rows), self.block.shape[1]))
            needed = values.any(axis=1)
        else:
            needed = np.ones(np.shape(rows), bool)
        self._store(np.unique(rows[(self.slot[rows] == self.n_stored) & needed]))
        slots = self.slot[rows]
        if not rest and rows.ndim == 1:
            live = slots != self.n_stored  # zero rows set to zero stay unstored
            self.block[slots[live]] = values[live]
        elif isinstance(row, slice) and any(not isinstance(r, slice) for r in rest):
            sub = self.block[slots]
            sub[(slice(None), *rest)] = values
            self.block[slots] = sub
        else:
            self.block[(slots, *rest)] = values

    def _store(self, rows: np.ndarray) -> None:
        """Give the zero rows ``rows`` (unique) slots of their own, all zero."""
        if len(rows) == 0:
            return
        k, width = self.n_stored, self.block.shape[1]
        need = k + len(rows) + 1
        if need > len(self.block):
            grown = np.zeros((max(need, len(self.block) * 5 // 4), width))
            grown[:k] = self.block[:k]
            self.block = grown
        self.block[k:need] = 0.0
        self.slot[self.slot == k] = need - 1  # the zero row moves to the end
        self.slot[rows] = np.arange(k, k + len(rows), dtype=np.int32)
        self.n_stored = k + len(rows)

    # reductions and elementwise operations ----------------------------------------------------

    def _reduce(self, name: str, axis: Any = None, **kwargs: Any) -> Any:
        if axis in (1, -1) and not kwargs:
            return getattr(self.block, name)(axis=1)[self.slot]
        return getattr(self.toarray(), name)(axis=axis, **kwargs)

    def sum(self, axis: Any = None, **kwargs: Any) -> Any:
        return self._reduce("sum", axis, **kwargs)

    def any(self, axis: Any = None, **kwargs: Any) -> Any:
        return self._reduce("any", axis, **kwargs)

    def all(self, axis: Any = None, **kwargs: Any) -> Any:
        return self._reduce("all", axis, **kwargs)

    def max(self, axis: Any = None, **kwargs: Any) -> Any:
        return self._reduce("max", axis, **kwargs)

    def min(self, axis: Any = None, **kwargs: Any) -> Any:
        return self._reduce("min", axis, **kwargs)

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        scalars = all(x is self or np.ndim(x) == 0 for x in inputs)
        if method == "__call__" and not kwargs and scalars and ufunc.nout == 1:
            # the zero row goes through the same ufunc: its result is every zero row's
            block = self.block[:self.n_stored + 1]
            out = ufunc(*(block if x is self else x for x in inputs))
            return out[self.slot]
        if any(isinstance(x, RowMatrix) for x in kwargs.get("out", ())):
            raise TypeError("a RowMatrix cannot be a ufunc's output")
        dense = [x.toarray() if isinstance(x, RowMatrix) else x for x in inputs]
        return getattr(ufunc, method)(*dense, **kwargs)


class RowMatrixBuilder:
    """A RowMatrix appended block of rows by block (the netting's levels), the stored rows'
    block grown in place (``ndarray.resize`` moves large blocks by remapping, without a copy)."""

    def __init__(self, width: int, capacity: int = 1024):
        self.width = width
        self.block = np.zeros((max(capacity, 16), width))
        self.rows = np.zeros(max(capacity, 16), np.int64)
        self.n_stored = 0
        self.n_rows = 0

    def append(self, dense: np.ndarray) -> None:
        """Rows ``n_rows .. n_rows + len(dense)``: their non-zero ones are stored."""
        keep = np.flatnonzero(dense.any(axis=1))
        start, stop = self.n_stored, self.n_stored + len(keep)
        if stop + 1 > len(self.block):
            size = max(stop + 1, len(self.block) * 3 // 2)
            self.block.resize((size, self.width), refcheck=False)
            self.rows.resize(size, refcheck=False)
        self.block[start:stop] = dense[keep]
        self.rows[start:stop] = keep + self.n_rows
        self.n_stored = stop
        self.n_rows += len(dense)

    def finish(self) -> RowMatrix:
        k = self.n_stored
        self.block.resize((k + 1, self.width), refcheck=False)
        self.block[k] = 0.0
        slot = np.full(self.n_rows, k, np.int32)
        slot[self.rows[:k]] = np.arange(k, dtype=np.int32)
        out = RowMatrix(slot, self.block, k)
        self.block, self.rows = np.zeros((1, self.width)), np.zeros(1, np.int64)
        return out
