"""A float64 matrix that stores only its non-zero values, read like a dense array.

The plan's four (item-site rows x buckets) matrices are mostly zero rows on a real plant: on
the large demo (550,111 rows x 26 buckets) net requirements and planned receipts are zero in
91 % of the rows, scheduled receipts in 78 %, gross requirements in 47 % (docs/memory.md). As
dense float64 they take 436 MiB. The rows that are not all zero hold 1.3-2.8 non-zero buckets of
26: :class:`RowMatrix` keeps those values (float64, exactly as the dense matrix holds them) with
their bucket numbers, row by row (compressed sparse rows), plus an int32 slot per row: 20 MiB
for the same four. Rows written after the netting (the incremental replan) are kept dense.

Why an array-like and not an accessor: every reader of ``Plan.gross/scheduled/net/planned``
(pegging, elements, scenario, requisitions, alternates, the impact report, the exception
checks, the incremental replan, the stored plan) indexes them as dense arrays. A RowMatrix
answers those reads with numpy's own semantics, so they keep working unchanged:

* ``m[i]``, ``m[rows]``, ``m[mask]``, ``m[a:b]``, ``m[rows, j]``, ``m[rows, cols]`` (pairwise),
  ``m[rows, :w]``: the same values, shapes and dtypes a dense array gives (always a copy, never a
  view: nothing reads through a view of a plan matrix to write into it);
* ``m[rows] = values`` and the other writes of the incremental replan (a written row gets a
  dense slot unless it stays all zero; the dense block grows geometrically);
* ``shape``, ``dtype``, ``ndim``, ``size``, ``len()``, iteration, ``copy()``;
* row reductions (``m.sum(axis=1)``, ``any``, ``max``, ``min`` over axis 1) and elementwise
  operators and ufuncs with scalars (``m > EPS``, ``m * 2``) on 65,536 dense rows at a time,
  never the whole dense float64 matrix at once; anything else (``np.asarray(m)``,
  ``np.cumsum(m, axis=1)``, ``m.sum()``, operations between two matrices) goes through the dense
  matrix, built for that call (exact, at its memory cost).

Layout: ``slot[i] >= 0`` is row ``i``'s row in ``block`` (dense rows: written ones, plus a last
all-zero row every zero row points to); ``slot[i] < 0`` is its row ``-slot[i] - 1`` in the
compressed part (``ptr``, ``col``, ``val``; within a row, entries in bucket order). The reads
the plan's readers make are answered straight from the entries: ``m[rows]`` and ``m[rows, a:b]``
build only the rows and buckets asked into a zeroed array (no copy of the whole rows to slice
them), ``m[rows, cols]`` looks each bucket up among its row's entries, ``m[i]`` / ``m[i, j]``
read one row or value. Any other form builds the dense rows it names, once each (never the
whole matrix unless asked), then applies the index with numpy's own rules; every form gives
exactly what the dense array gives (tests/analysis/test_rowmatrix_reads.py). On the large demo
the reads of ``compute_exceptions`` (a later plan) took 0.057 s instead of 0.162 s
(cProfile cumulative, ``/tmp/lead/prof2.py second``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

from workbench.analysis.ranges import concat_ranges

#: reductions answered per row from the block (axis 1 / -1 of a 2-D matrix)
_ROW_REDUCTIONS = ("sum", "any", "all", "max", "min")


class RowMatrix(NDArrayOperatorsMixin):
    """A (rows, width) float64 matrix keeping only its non-zero values (module doc)."""

    __slots__ = ("block", "col", "n_stored", "ptr", "slot", "val")

    def __init__(self, slot: np.ndarray, block: np.ndarray, n_stored: int,
                 ptr: np.ndarray | None = None, col: np.ndarray | None = None,
                 val: np.ndarray | None = None):
        self.slot = slot  # int32 (rows,): >= 0 a row of block, < 0 a compressed row (module doc)
        self.block = block  # float64 (>= n_stored + 1, width); block[n_stored] is all zero
        self.n_stored = n_stored  # dense rows stored
        self.ptr = np.zeros(1, np.int64) if ptr is None else ptr  # compressed row r: entries
        self.col = np.zeros(0, np.int16) if col is None else col  # ptr[r]:ptr[r + 1], bucket
        self.val = np.zeros(0) if val is None else val  # and value of each entry

    # construction -----------------------------------------------------------------------

    @classmethod
    def of(cls, dense: np.ndarray) -> RowMatrix:
        """A dense 2-D matrix's non-zero values."""
        builder = RowMatrixBuilder(np.shape(dense)[1])
        builder.append(np.asarray(dense, dtype=np.float64))
        return builder.finish()

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
        """Bytes held (values, bucket numbers, slots), not the dense matrix's."""
        return int(self.block.nbytes + self.slot.nbytes + self.ptr.nbytes + self.col.nbytes
                   + self.val.nbytes)

    @property
    def stored_rows(self) -> np.ndarray:
        """The rows that may be non-zero (every other row is all zero), ascending."""
        return np.flatnonzero(self.slot != self.n_stored)

    def __len__(self) -> int:
        return len(self.slot)

    def __iter__(self) -> Iterator[np.ndarray]:
        for i in range(len(self.slot)):
            yield self[i]

    def __repr__(self) -> str:
        return (f"RowMatrix(shape={self.shape}, dense rows={self.n_stored}, "
                f"compressed rows={len(self.ptr) - 1}, values={len(self.val)})")

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        dense = self.toarray()
        return dense if dtype is None else dense.astype(dtype, copy=False)

    def toarray(self) -> np.ndarray:
        return self._rows(self.slot)

    def copy(self) -> RowMatrix:
        return RowMatrix(self.slot.copy(), self.block[:self.n_stored + 1].copy(), self.n_stored,
                         self.ptr.copy(), self.col.copy(), self.val.copy())

    def __getattr__(self, name: str) -> Any:
        # what this class does not answer itself is answered by the dense matrix (exact, at
        # its memory cost); private and special names are never looked up this way (pickle
        # and copy probe them on instances not yet filled in)
        if name.startswith("_") or name in RowMatrix.__slots__:
            raise AttributeError(name)
        return getattr(self.toarray(), name)

    def __getstate__(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in RowMatrix.__slots__}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)

    # reads -------------------------------------------------------------------------------

    def _rows(self, slots: np.ndarray, columns: slice | None = None) -> np.ndarray:
        """The dense rows of ``slots`` (any shape): shape ``slots.shape + (width,)``; with
        ``columns``, only those buckets of each (``m[rows, a:b]``), never the whole rows.

        Built straight into a zeroed array: the written rows copied from the block, each
        compressed row's entries scattered to their places (a run of consecutive compressed
        rows, as the stored rows of a plan matrix, reads its entries as one slice). A row named
        twice is built twice, as the dense array copies it twice."""
        slots = np.asarray(slots)
        flat = slots.ravel()
        width = self.block.shape[1]
        take = None if columns is None else np.arange(width)[columns]
        k = width if take is None else len(take)
        out = np.zeros((len(flat), k))
        if self.n_stored:  # written rows: copied from the block (the zero row stays zero)
            dense = np.flatnonzero((flat >= 0) & (flat != self.n_stored))
            if len(dense):
                rows = self.block[flat[dense]]
                out[dense] = rows if take is None else rows[:, take]
        at = np.flatnonzero(flat < 0)
        n = len(at)
        if n == 0 or k == 0:
            return out.reshape(slots.shape + (k,))
        every = n == len(flat)  # every row named is compressed: row i of the result is at[i]
        r = ~(flat if every else flat[at])  # the compressed rows (slot -1 - r)
        start = self.ptr[r]
        counts = self.ptr[r + 1] - start
        owner = np.repeat(np.arange(n), counts)  # each entry read: its place in ``at``
        if r[-1] - r[0] == n - 1 and (n == 1 or bool((np.diff(r) == 1).all())):
            entry: Any = slice(int(start[0]), int(start[0]) + len(owner))  # one slice
        else:
            entry = concat_ranges(start, counts)
        col = self.col[entry]
        if take is not None:  # only the buckets read: the others' entries dropped
            step = take[1] - take[0] if k > 1 else 1
            if step == 1:
                first = int(take[0])
                keep = (col >= first) & (col < first + k) if first else col < k
                col = col - first if first else col
            else:
                into = np.full(width, -1, np.int64)  # bucket -> column of the result
                into[take] = np.arange(k)
                col = into[col]
                keep = col >= 0
            sel = np.flatnonzero(keep)
            if len(sel) < len(keep):
                owner, col = owner[sel], col[sel]
                entry = sel + entry.start if isinstance(entry, slice) else entry[sel]
        place = owner * k if every else at[owner] * k
        place += col
        out.reshape(-1)[place] = self.val[entry]
        return out.reshape(slots.shape + (k,))

    def entries(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The values ``m[rows]`` may hold other than 0, without the dense rows: (position in
        ``rows``, bucket, value) of each, by position then bucket (``np.nonzero(m[rows])``'s
        order). Every value not listed is 0 (or -0.0); a listed one may be 0 too (a written row's
        non-zero values are listed, a compressed row's stored entries are)."""
        slots = self.slot[np.asarray(rows, np.int64)]
        at = np.flatnonzero(slots < 0)
        r = -1 - slots[at].astype(np.int64)
        start = self.ptr[r]
        counts = self.ptr[r + 1] - start
        owner = np.repeat(at, counts)
        entry = concat_ranges(start, counts)
        col, val = self.col[entry].astype(np.int64), self.val[entry]
        written = np.flatnonzero((slots >= 0) & (slots != self.n_stored)) if self.n_stored \
            else at[:0]
        if len(written):  # rows of the block: their non-zero values, merged in by position
            block = self.block[slots[written]]
            o, c = np.nonzero(block)
            owner = np.concatenate([owner, written[o]])
            col = np.concatenate([col, c.astype(np.int64)])
            val = np.concatenate([val, block[o, c]])
            order = np.argsort(owner * self.block.shape[1] + col, kind="stable")
            owner, col, val = owner[order], col[order], val[order]
        return owner, col, val

    def _row(self, s: int) -> np.ndarray:
        """The dense row of slot ``s`` (a fresh array, never a view of the block)."""
        if s >= 0:
            return self.block[s].copy()
        out = np.zeros(self.block.shape[1])
        a, b = self.ptr[-1 - s], self.ptr[-s]
        out[self.col[a:b]] = self.val[a:b]
        return out

    def _value(self, s: int, j: int) -> Any:
        """``m[i, j]`` of a row of slot ``s`` (``j`` within the width): a numpy float64."""
        if s >= 0:
            return self.block[s, j]
        if j < 0:
            j += self.block.shape[1]
        a, b = self.ptr[-1 - s], self.ptr[-s]
        hit = np.flatnonzero(self.col[a:b] == j)
        return self.val[a + hit[0]] if len(hit) else np.float64(0.0)

    def _pairs(self, slots: np.ndarray, cols: np.ndarray) -> np.ndarray | None:
        """``m[rows, cols]`` with integer ``cols`` (broadcast with ``slots``, the rows' slots),
        read value by value: a dense row's from the block, a compressed row's by looking for the
        bucket among the row's entries (all pairs at once, one entry further per pass, the
        pairs found or past their row's entries dropped). None when numpy's own indexing must
        answer (shapes that do not broadcast, a bucket out of range: its error)."""
        width = self.block.shape[1]
        if cols.size and (int(cols.min()) < -width or int(cols.max()) >= width):
            return None  # numpy's error (even when the rows are none)
        try:
            slots, cols = np.broadcast_arrays(slots, cols)
        except ValueError:
            return None
        out = np.zeros(slots.shape)
        flat_out = out.reshape(-1)
        s = slots.ravel()
        c = cols.ravel().astype(np.int64)
        c[c < 0] += width
        if self.n_stored:
            dense = np.flatnonzero((s >= 0) & (s != self.n_stored))
            flat_out[dense] = self.block[s[dense], c[dense]]
        at = np.flatnonzero(s < 0)
        r = -1 - s[at].astype(np.int64)
        entry = self.ptr[r]
        left = self.ptr[r + 1] - entry
        some = left > 0
        at, entry, left, c = at[some], entry[some], left[some], c[at[some]]
        while len(at):
            hit = self.col[entry] == c
            flat_out[at[hit]] = self.val[entry[hit]]
            go = ~hit & (left > 1)
            at, entry, left, c = at[go], entry[go] + 1, left[go] - 1, c[go]
        return out

    def __getitem__(self, index: Any) -> Any:
        row, rest = (index[0], index[1:]) if isinstance(index, tuple) else (index, ())
        if row is Ellipsis or row is None:
            return self.toarray()[index]
        slots = self.slot[row]
        if np.ndim(slots) == 0:  # one row: a fresh array, never a view of the block
            s = int(slots)
            if len(rest) == 1 and _is_integer(rest[0]):
                j = int(rest[0])
                if -self.block.shape[1] <= j < self.block.shape[1]:
                    return self._value(s, j)
            return self._row(s)[rest] if rest else self._row(s)
        if not rest:
            return self._rows(slots)
        if len(rest) == 1:
            if isinstance(rest[0], slice):  # m[rows, a:b]
                return self._rows(slots, rest[0])
            if not isinstance(row, slice):  # m[rows, cols]: pairs (numpy's broadcasting)
                cols = np.asarray(rest[0])
                if cols.dtype.kind in "iu":
                    out = self._pairs(slots, cols)
                    if out is not None:
                        return out
        # any other form: each row named built once, then numpy's indexing on them (a slice
        # of rows with an index array of columns is an outer selection, ...)
        unique, inverse = np.unique(slots, return_inverse=True)
        rows = self._rows(unique)
        if isinstance(row, slice) and any(not isinstance(r, slice) for r in rest):
            return rows[inverse][(slice(None), *rest)]
        return rows[(inverse.reshape(slots.shape), *rest)]

    def __setitem__(self, index: Any, value: Any) -> None:
        row, rest = (index[0], index[1:]) if isinstance(index, tuple) else (index, ())
        rows = np.arange(len(self.slot))[row]
        values = np.asarray(value, dtype=np.float64)
        if not rest and rows.ndim == 1:
            values = np.broadcast_to(values, (len(rows), self.block.shape[1]))
            needed = ((values != 0) | np.signbit(values)).any(axis=1) | (self.slot[rows] < 0)
        else:
            needed = np.ones(np.shape(rows), bool)
        self._store(np.unique(rows[(self.slot[rows] == self.n_stored) & needed]),
                    np.unique(rows[(self.slot[rows] < 0) & needed]))
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

    def _store(self, zero: np.ndarray, packed: np.ndarray) -> None:
        """Give rows dense slots of their own: ``zero`` (unique zero rows) all zero, ``packed``
        (unique compressed rows) with their values (their entries stay, unused)."""
        rows = np.concatenate([zero, packed])
        if len(rows) == 0:
            return
        values = self._rows(self.slot[packed])
        k, width = self.n_stored, self.block.shape[1]
        need = k + len(rows) + 1
        if need > len(self.block):
            # geometric growth: replans writing a few rows each do not copy the block each time
            grown = np.zeros((max(need, len(self.block) * 3 // 2, 64), width))
            grown[:k] = self.block[:k]
            self.block = grown
        self.block[k:need] = 0.0
        self.block[k + len(zero):k + len(rows)] = values
        self.slot[self.slot == k] = need - 1  # the zero row moves to the end
        self.slot[rows] = np.arange(k, k + len(rows), dtype=np.int32)
        self.n_stored = k + len(rows)

    # reductions and elementwise operations ----------------------------------------------------

    def _chunks(self, size: int = 1 << 16) -> Iterator[np.ndarray]:
        """The dense matrix, ``size`` rows at a time."""
        for start in range(0, len(self.slot), size):
            yield self._rows(self.slot[start:start + size])

    def _reduce(self, name: str, axis: Any = None, **kwargs: Any) -> Any:
        if axis in (1, -1) and not kwargs:  # row by row: the dense rows' own reductions
            parts = [getattr(rows, name)(axis=1) for rows in self._chunks()]
            return np.concatenate(parts) if parts else getattr(self.toarray(), name)(axis=1)
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
        if any(isinstance(x, RowMatrix) for x in kwargs.get("out", ())):
            raise TypeError("a RowMatrix cannot be a ufunc's output")
        scalars = all(x is self or np.ndim(x) == 0 for x in inputs)
        if method == "__call__" and not kwargs and scalars and ufunc.nout == 1 and len(self):
            # elementwise with scalars: chunk by chunk of dense rows, never the whole matrix
            parts = [ufunc(*(rows if x is self else x for x in inputs))
                     for rows in self._chunks()]
            return np.concatenate(parts)
        dense = [x.toarray() if isinstance(x, RowMatrix) else x for x in inputs]
        return getattr(ufunc, method)(*dense, **kwargs)


def _is_integer(x: Any) -> bool:
    """An integer index (not a bool, which numpy reads as a mask)."""
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


class RowMatrixBuilder:
    """A RowMatrix appended block of rows by block (the netting's levels): each block's
    non-zero values kept, compressed, in arrays grown in place (``ndarray.resize`` moves large
    arrays by remapping, without a copy)."""

    def __init__(self, width: int, capacity: int = 1024):
        self.width = width
        self.col_dtype = np.int16 if width < 2**15 else np.int32
        self.val = np.zeros(max(capacity, 16))
        self.col = np.zeros(max(capacity, 16), self.col_dtype)
        self.row = np.zeros(max(capacity, 16), np.int32)  # each value's row (of all rows)
        self.n_values = 0
        self.n_rows = 0

    def append(self, dense: np.ndarray) -> None:
        """Rows ``n_rows .. n_rows + len(dense)``: their non-zero values are kept."""
        # row-major: each row's values in bucket order; a negative zero is kept as it is
        row, col = np.nonzero((dense != 0) | np.signbit(dense))
        start, stop = self.n_values, self.n_values + len(row)
        if stop > len(self.val):
            size = max(stop, len(self.val) * 3 // 2)
            for a in (self.val, self.col, self.row):
                a.resize(size, refcheck=False)
        self.val[start:stop] = dense[row, col]
        self.col[start:stop] = col
        self.row[start:stop] = row + self.n_rows
        self.n_values = stop
        self.n_rows += len(dense)

    def finish(self) -> RowMatrix:
        k = self.n_values
        for a in (self.val, self.col):
            a.resize(k, refcheck=False)
        rows = self.row[:k]
        counts = np.bincount(rows, minlength=self.n_rows)
        has = np.flatnonzero(counts)
        counts = counts[has]
        ptr = np.zeros(len(has) + 1, np.int64)
        np.cumsum(counts, out=ptr[1:])
        slot = np.zeros(self.n_rows, np.int32)  # the zero row: block row 0
        slot[has] = -1 - np.arange(len(has), dtype=np.int32)
        out = RowMatrix(slot, np.zeros((1, self.width)), 0, ptr, self.col, self.val)
        self.val, self.col = np.zeros(0), np.zeros(0, self.col_dtype)
        self.row = np.zeros(0, np.int32)
        return out
