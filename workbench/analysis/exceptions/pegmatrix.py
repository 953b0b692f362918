"""Pegging of a whole plan at once, on arrays: the demands every requirement and planned order
serves, as sparse matrices (what the messages' ``endangers`` are read from).

The same pegs as :class:`~workbench.analysis.pegging.Pegging` (and its array twin
:class:`.pegs.FastPegging`), restricted to the pegs that name a demand or a work order (the
columns, :class:`.pegs.DueDates`): pegs are linear, so the ``safety_stock:`` and ``lot_size:``
pegs, which no message lists, are left out without changing any other. Nothing loops over
messages, rows or pegs in Python:

* **Claims.** Every requirement of every row (independent ones from the sources, dependent ones
  from each parent's planned order × quantity per, at ``max(bucket - offset, 0)``) in claim order
  (:func:`~workbench.analysis.pegging.claim_order`; ties as pegging leaves them: independent
  requirements first in their sorted order, then dependent ones by BOM segment and bucket).
* **First in, first out as a formula.** A row's supply is queued on hand first, then per bucket
  its scheduled then its planned receipt; claims (safety stock first) take from the head of the
  queue what it holds by their bucket. With ``Q_i`` the claims' cumulative quantity and ``A_i``
  the supply queued by claim i's bucket, claim i is served the supply positions
  ``(K_{i-1}, K_i]`` with ``K_i = Q_i + min(0, min_{j<=i} (A_j - Q_j))`` (the recurrence
  ``K_i = min(K_{i-1} + q_i, A_i)`` solved). The overlap of those positions with each planned
  receipt's positions is the weight ``W[order, claim]`` (share of the claim it serves).
* **Levels.** ``P_claim = I + D · P_order`` (a dependent claim carries its parent order's pegs
  scaled by the quantity per) and ``P_order = W · P_claim``; rows are in low-level-code order,
  so the orders are solved level by level (parents first) with sparse products.
* **What a message endangers** is a sum of claim or order pegs: a firm receipt the claims its
  coverage interval ``(before, before + needed]`` overlaps in the row's requirement space
  (:func:`.pegs.covered_pegs`), a planned order its late buckets' orders, a row below safety
  stock its requirements up to a bucket.

The property test tests/analysis/test_exception_pegmatrix.py compares every message's
``endangers`` with the straightforward per-message path on random plants.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from workbench.analysis.calendar import Calendar
from workbench.analysis.data import PlanningData
from workbench.analysis.netting import Plan
from workbench.analysis.pegging import Pegging
from workbench.analysis.rowmatrix import RowMatrix
from workbench.analysis.sources import EPS, requirement_buckets

from .intervals import Merged, expand, group_cummin, group_shift, overlaps, stored_entries
from .ordering import lex_order
from .pegs import DueDates, RequirementCodes


def _orders(matrix: Any, limit: float
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`above` of a plan matrix with what the pegging matrix reads of those entries:
    (row, bucket, value) of each entry above ``limit`` (row-major) and the rows holding one
    (ascending), from one read of the matrix (a :class:`RowMatrix`: of its stored values
    only, :meth:`RowMatrix.entries`)."""
    if isinstance(matrix, RowMatrix) and limit >= 0:
        rows = matrix.stored_rows
        owner, col, val = matrix.entries(rows)
        big = np.flatnonzero(val > limit)
        r, b, v = owner[big], col[big], val[big]
    else:
        stored = getattr(matrix, "stored_rows", None)
        if stored is None or limit < 0:
            values = np.asarray(matrix)
            rows = np.arange(len(values))
        else:
            rows = np.asarray(stored, np.int64)
            values = matrix[rows] if len(rows) else np.zeros((0, matrix.shape[1]))
        r, b = np.nonzero(values > limit)
        v = values[r, b]
    first = np.flatnonzero(np.r_[True, r[1:] != r[:-1]]) if len(r) else r
    return rows[r], b, v, rows[r[first]]


def _csr(data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, shape: tuple[int, int]
         ) -> sparse.csr_matrix:
    """A CSR matrix of its arrays (the index arrays int32 where they fit, as scipy makes them
    from COO)."""
    small = max(shape) < 2**31 and len(data) < 2**31
    dtype = np.int32 if small else np.int64
    return sparse.csr_matrix((data, indices.astype(dtype), indptr.astype(dtype)), shape=shape)


@dataclass
class Claims:
    """Every requirement of every row in claim order (arrays of equal length): ``row``,
    ``bucket``, ``quantity``, ``parent_order`` (-1: independent), ``factor`` (dependent: quantity
    per) and ``peg`` (independent: the column of its peg, -1 when it names no demand)."""

    row: np.ndarray
    bucket: np.ndarray
    quantity: np.ndarray
    parent_order: np.ndarray
    factor: np.ndarray
    peg: np.ndarray
    ptr: np.ndarray  # claims of row r: ptr[r]:ptr[r + 1]


class PegMatrix:
    """The demand pegs of every claim (requirement) and planned order of ``plan`` (module doc):
    ``claim_pegs`` (claims × columns) and ``order_pegs`` (orders × columns) as CSR matrices,
    orders numbered in row-major order (:meth:`order_of`), ``columns`` the peg names (the
    demands and ``work_order:`` codes of ``due``, sorted)."""

    def __init__(self, plan: Plan, due: DueDates, pegging: Pegging | None = None,
                 codes: RequirementCodes | None = None, data: PlanningData | None = None):
        self.plan = plan
        self.due = due
        self.columns = due.names
        self.codes = codes  # of plan.sources.requirements and due (kept per data load)
        self.due_day = due.days
        # row-major: level order; each order's size; the rows holding one
        order_rows, order_buckets, self.order_size, self._active = _orders(plan.planned, EPS)
        self.order_row, self.order_bucket = order_rows, order_buckets
        self._order_key = order_rows * plan.calendar.n_buckets + order_buckets  # sorted
        self.claims = self._claims(pegging, data)
        weights = self._fifo()
        own, scale = self._own(), self._scale()
        self.order_pegs = self._solve(weights, own, scale)
        self.claim_pegs = (own + scale @ self.order_pegs).tocsr()

    @property
    def column_of(self) -> pd.Index:
        """The columns as an index (made when first asked: only the sorted path looks pegs up
        by name; 3 ms per plan on the large demo)."""
        index = self.__dict__.get("_column_of")
        if index is None:
            index = self.__dict__["_column_of"] = pd.Index(self.columns)
        return index

    def _own(self) -> sparse.csr_matrix:
        """Claims × columns: each independent claim's quantity in its peg's column (a claim
        has at most one: the CSR arrays are written directly, no COO sort)."""
        c = self.claims
        has = c.peg >= 0
        indptr = np.zeros(len(c.row) + 1, np.int64)
        np.cumsum(has, out=indptr[1:])
        return _csr(c.quantity[has], c.peg[has], indptr, (len(c.row), len(self.columns)))

    def _scale(self) -> sparse.csr_matrix:
        """Claims × orders: each dependent claim's quantity per in its parent order's column
        (one entry per dependent claim, written directly)."""
        c = self.claims
        has = c.parent_order >= 0
        indptr = np.zeros(len(c.row) + 1, np.int64)
        np.cumsum(has, out=indptr[1:])
        return _csr(c.factor[has], c.parent_order[has], indptr,
                    (len(c.row), len(self.order_row)))

    def order_of(self, rows: np.ndarray, buckets: np.ndarray) -> np.ndarray:
        """The planned order of each (row, bucket), -1 where the plan has none."""
        key = np.asarray(rows, np.int64) * self.plan.calendar.n_buckets + \
            np.asarray(buckets, np.int64)
        at = np.searchsorted(self._order_key, key)
        found = at < len(self._order_key)
        found[found] = self._order_key[at[found]] == key[found]
        return np.where(found, at, -1)

    # --- claims ------------------------------------------------------------------------------
    def _claims(self, pegging: Pegging | None, data: PlanningData | None = None) -> Claims:
        if pegging is None and self.codes is not None:
            kept = _independent(self.plan, self.codes, data)
            if kept.packed is not None:
                return self._merged(kept)
        return self._sorted(pegging)

    def _dependent(self) -> tuple[np.ndarray, ...]:
        """The dependent requirements, one per planned order and BOM segment of its parent in
        force in its bucket whose component has a row: (owner order, segment, order bucket,
        parent row, child row, requirement bucket, quantity per)."""
        plan = self.plan
        seg = plan.segments
        o_row, o_bucket = self.order_row, self.order_bucket
        n_sites = plan.n_sites
        parent = plan.key[o_row] // n_sites
        counts = seg.ptr_parent[parent + 1] - seg.ptr_parent[parent]
        owner, at = expand(seg.ptr_parent[parent], counts)
        s = seg.by_parent[at]
        b = o_bucket[owner]
        inside = (seg.first_bucket[s] <= b) & (b < seg.end_bucket[s])
        owner, s, b = owner[inside], s[inside], b[inside]
        prow = o_row[owner]
        child = plan.rows_for_keys(seg.component[s].astype(np.int64) * n_sites
                                   + plan.key[prow] % n_sites)
        has = child >= 0
        owner, s, b, prow, child = owner[has], s[has], b[has], prow[has], child[has]
        offset = plan.calendar.offset(plan.items.lead_time_days[plan.key[prow] // n_sites])
        dep_bucket = np.maximum(b - offset, 0)
        factor = seg.quantity[s].astype(float)
        return owner, s, b, prow, child, dep_bucket, factor

    def _merged(self, kept: _Independent) -> Claims:
        """The claims from the independent ones in claim order (kept per data load) and this
        plan's dependent ones, ordered apart and merged (module doc of :class:`_Independent`):
        the same claims in the same order as :meth:`_sorted`, without sorting the 850,000
        independent requirements of the large demo again."""
        plan = self.plan
        cal = plan.calendar
        owner, s, b, prow, child, dep_bucket, factor = self._dependent()
        day = cal.start + dep_bucket * cal.bucket_days
        # the parents' codes: a rank among themselves (dependents' order) and a key among the
        # references (2 * rank + 1 a reference, 2 * position a code in the gap before it)
        parents, parent_at = np.unique(plan.key[prow] // plan.n_sites, return_inverse=True)
        names = np.asarray(plan.items.codes[parents], dtype=object)
        refs = kept.refs
        pos = np.searchsorted(refs, names).astype(np.int64) if len(refs) else \
            np.zeros(len(names), np.int64)
        equal = pos < len(refs)
        equal[equal] = refs[pos[equal]] == names[equal]
        among, _ = pd.factorize(names, sort=True)
        ref_key = (2 * pos + equal)[parent_at]
        order = lex_order([child, dep_bucket, day, among[parent_at], s, b])
        child, dep_bucket, day, ref_key = child[order], dep_bucket[order], day[order], \
            ref_key[order]
        owner, b, prow, factor = owner[order], b[order], prow[order], factor[order]
        packed = kept.pack([child, dep_bucket, day, np.zeros(len(child), np.int64), ref_key])
        assert kept.packed is not None
        # independent claims tying on every key come first (they are before in pegging)
        merged = Merged(kept.packed, packed)
        at, ind, n = merged.at, merged.of_a, merged.n
        row = merged(kept.row, child)
        ptr = np.zeros(len(plan.key) + 1, np.int64)
        np.cumsum(np.bincount(row, minlength=len(plan.key)), out=ptr[1:])
        quantity = self.order_size[owner] * factor
        parent_order = np.full(n, -1, np.int64)  # independent claims: -1, factor 0
        parent_order[at] = owner
        factors = np.zeros(n)
        factors[at] = factor
        peg = np.full(n, -1, np.int64)  # dependent claims: -1
        peg[ind] = kept.peg
        return Claims(row, merged(kept.bucket, dep_bucket.astype(np.int64)),
                      merged(kept.quantity, quantity), parent_order, factors, peg, ptr)

    def _sorted(self, pegging: Pegging | None) -> Claims:
        """Every claim, ordered by one sort of all of them (``pegging`` given: its
        requirements; else the sources' with :attr:`codes`, or codes made here)."""
        plan = self.plan
        cal = plan.calendar
        if pegging is not None:  # its requirements, sorted by key, day, ref
            req = pegging._req_by_key
            key_i = req["key"].to_numpy(np.int64)
            bucket_i = req["bucket"].to_numpy(np.int64)
            peg = self.column_of.get_indexer(req["peg"].astype(str).to_numpy())
            own_ref: np.ndarray | None = None
            refs = req["ref"].astype(str).to_numpy()
            day_i, qty_i = req["day"].to_numpy(np.int64), req["quantity"].to_numpy(float)
            priority_i = _priority(req)
        else:  # the same rows in source order: their position breaks the same ties
            req = plan.sources.requirements
            codes = self.codes if self.codes is not None else \
                RequirementCodes.of(req, self.column_of)
            key_i = plan.sources.keys("requirements", plan.items, plan.sites)
            bucket_i = requirement_buckets(req, cal)
            planned = np.flatnonzero(bucket_i >= 0)
            key_i, bucket_i = key_i[planned], bucket_i[planned]
            peg, own_ref, refs = codes.peg[planned], codes.ref_rank[planned], codes.refs
            day_i = req["day"].to_numpy(np.int64)[planned]
            qty_i = req["quantity"].to_numpy(float)[planned]
            priority_i = _priority(req)[planned]
        row_i = plan.rows_for_keys(key_i)
        ok = row_i >= 0
        n_i = int(ok.sum())
        owner, s, b, prow, child, dep_bucket, factor = self._dependent()
        row = np.concatenate([row_i[ok], child])
        bucket = np.concatenate([bucket_i[ok], dep_bucket])
        day = np.concatenate([day_i[ok], cal.start + dep_bucket * cal.bucket_days])
        priority = np.concatenate([priority_i[ok], np.zeros(len(child), np.int64)])
        ref_code = _ref_ranks(refs[ok], plan.items.codes, plan.item[prow]) if own_ref is None \
            else _ref_keys(own_ref[ok], refs, plan.items.codes, plan.item[prow])
        kind = np.r_[np.zeros(n_i, np.int64), np.ones(len(child), np.int64)]
        tie1 = np.r_[np.arange(n_i), s.astype(np.int64)]
        tie2 = np.r_[np.zeros(n_i, np.int64), b.astype(np.int64)]
        order = lex_order([row, bucket, day, priority, ref_code, kind, tie1, tie2])
        quantity = np.concatenate([qty_i[ok], self.order_size[owner] * factor])
        parent_order = np.r_[np.full(n_i, -1, np.int64), owner.astype(np.int64)]
        pegs = np.r_[peg[ok], np.full(len(child), -1, np.int64)]
        factors = np.r_[np.zeros(n_i), factor]
        row = row[order]
        ptr = np.zeros(len(plan.key) + 1, np.int64)
        np.cumsum(np.bincount(row, minlength=len(plan.key)), out=ptr[1:])
        return Claims(row, bucket[order], quantity[order], parent_order[order],
                      factors[order], pegs[order], ptr)

    # --- first in, first out -----------------------------------------------------------------
    def _fifo(self) -> sparse.csr_matrix:
        """W[order, claim]: the share of each claim each planned receipt serves (module doc).
        Only rows with a planned receipt take part (the others' claims serve none)."""
        plan = self.plan
        c = self.claims
        active = self._active  # sorted rows with a planned receipt
        n_rows = len(active)
        safety = plan.items.safety_stock[plan.key[active] // plan.n_sites].astype(float)
        safety = np.where(safety > EPS, safety, 0.0)
        on_hand = plan.on_hand[active]
        on_hand = np.where(on_hand > EPS, on_hand, 0.0)
        # A by bucket, buckets x rows (the running sum over contiguous rows of it): the
        # scheduled and the planned receipts above EPS, from the stored values only
        o_local = np.searchsorted(active, self.order_row)
        owner, col, value = stored_entries(plan.scheduled, active)
        big = value > EPS
        queued = np.zeros((plan.scheduled.shape[1], n_rows))
        queued[col[big], owner[big]] = value[big]
        queued[self.order_bucket, o_local] += self.order_size
        np.cumsum(queued, axis=0, out=queued)
        queued += on_hand
        # the claims of those rows (claim order), the safety-stock claim first in each row
        # (bucket 0): row k's run starts at ``head[k]``
        counts = c.ptr[active + 1] - c.ptr[active]
        _, mine = expand(c.ptr[active], counts)
        size = counts + 1
        head = np.cumsum(size) - size
        n = n_rows + len(mine)
        is_head = np.zeros(n, bool)
        is_head[head] = True
        rest = ~is_head
        rows = np.repeat(np.arange(n_rows), size)
        qty = np.empty(n)
        qty[head] = safety
        qty[rest] = c.quantity[mine]
        bucket = np.zeros(n, np.int64)
        bucket[rest] = c.bucket[mine]
        claim = np.full(n, -1, np.int64)
        claim[rest] = mine
        total = np.cumsum(qty)  # :func:`group_cumsum`, each run's first known
        cum = total - (total - qty)[np.repeat(head, size)]
        slack = group_cummin(queued[bucket, rows] - cum, rows)
        k_end = cum + np.minimum(0.0, slack)
        k_start = group_shift(k_end, rows)
        # the planned receipts' positions in the queue
        o_bucket = self.order_bucket
        size = self.order_size
        before = queued[o_bucket, o_local] - size
        ci, oi, length = overlaps(rows[rest], k_start[rest], k_end[rest], o_local, before,
                                  before + size)
        claim_id = mine[ci]
        share = length / c.quantity[claim_id]
        return sparse.csr_matrix((share, (oi, claim_id)),
                                 shape=(len(self.order_row), len(c.row)))

    def _solve(self, weights: sparse.csr_matrix, own: sparse.csr_matrix,
               scale: sparse.csr_matrix) -> sparse.csr_matrix:
        """P_order = W (I + D P_order), level by level (parents first); ``own`` and ``scale``
        (:meth:`_own`, :meth:`_scale`) are I and D."""
        n_cols = len(self.columns)
        base = (weights @ own).tocsr()
        carry = (weights @ scale).tocsr()  # order -> parent orders
        level = self.plan.level[self.order_row]
        bounds = np.flatnonzero(np.r_[True, level[1:] != level[:-1], True])
        blocks: list[sparse.csr_matrix] = []
        done = sparse.csr_matrix((0, n_cols))
        for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
            block = base[lo:hi]
            if lo:
                block = block + carry[lo:hi, :lo] @ done
            blocks.append(block.tocsr())
            done = sparse.vstack(blocks, format="csr")
        if not blocks:
            return sparse.csr_matrix((0, n_cols))
        return done


@dataclass(frozen=True)
class _Independent:
    """The independent claims of a plan's rows in claim order, kept per data load.

    They read the sources, the requirement codes (:class:`.pegs.RequirementCodes`), the
    calendar and the plan's row numbering only: claim order sorts them by (row, bucket, day,
    priority, reference, position), and a later plan's dependent claims (from its planned
    orders) are merged into that order instead of sorting every claim again
    (:meth:`PegMatrix._merged`). ``packed`` holds each claim's (row, bucket, day, priority,
    reference key) as one int64 (``pack``; the reference key ``2 * rank + 1``, a parent code
    between two references ``2 * position`` of the next one), non-decreasing in claim order;
    None when the spans do not fit in one int64 (then every claim is sorted, as before).
    Reused while the plan has the same calendar and equal row keys (checked with every plan)."""

    key: np.ndarray
    calendar: Calendar
    codes: RequirementCodes
    refs: np.ndarray
    row: np.ndarray
    bucket: np.ndarray
    quantity: np.ndarray
    peg: np.ndarray
    packed: np.ndarray | None
    lows: tuple[int, ...]
    spans: tuple[int, ...]

    def fits(self, plan: Plan, codes: RequirementCodes) -> bool:
        """Whether ``plan`` numbers its rows and buckets as the plan this was made for."""
        return self.codes is codes and self.calendar == plan.calendar and (
            self.key is plan.key or np.array_equal(self.key, plan.key))

    def pack(self, keys: list[np.ndarray]) -> np.ndarray:
        """The keys as one int64 each, as :attr:`packed` (the values within the spans)."""
        packed = np.zeros(len(keys[0]), np.int64)
        for key, lo, span in zip(keys, self.lows, self.spans):
            packed *= span
            packed += np.asarray(key, np.int64) - lo
        return packed


def _independent(plan: Plan, codes: RequirementCodes, data: PlanningData | None
                 ) -> _Independent:
    """The kept :class:`_Independent` of ``plan`` (made when ``data`` has none that fits;
    without ``data`` made for this plan only)."""
    if data is None:
        return _independent_claims(plan, codes)
    kept: dict[str, _Independent] = data.derived(
        "|".join(["exceptions.pegmatrix", *map(str, plan.sites)]), (plan.sources, plan.items),
        dict)
    found = kept.get("independent")
    if found is None or not found.fits(plan, codes):
        kept["independent"] = found = _independent_claims(plan, codes)
    return found


def _independent_claims(plan: Plan, codes: RequirementCodes) -> _Independent:
    """:class:`_Independent` of ``plan``: the sources' planned requirements of its rows."""
    cal = plan.calendar
    req = plan.sources.requirements
    key = plan.sources.keys("requirements", plan.items, plan.sites)
    bucket = requirement_buckets(req, cal)
    planned = np.flatnonzero(bucket >= 0)
    row = plan.rows_for_keys(key[planned])
    ok = row >= 0
    take = planned[ok]
    row, bucket = row[ok], bucket[planned][ok]
    day = req["day"].to_numpy(np.int64)[take]
    priority = _priority(req)[take]
    rank = codes.ref_rank[take]
    order = lex_order([row, bucket, day, priority, rank])  # stable: position breaks ties
    row, bucket, day, priority, rank = row[order], bucket[order], day[order], \
        priority[order], rank[order]
    # the spans of the dependent claims too: rows and buckets of the plan, days of bucket
    # starts, priority 0, reference keys up to 2 * len(refs)
    last = cal.start + max(cal.n_buckets - 1, 0) * cal.bucket_days
    lows = (0, 0, min(int(day.min()), cal.start) if len(day) else cal.start,
            min(int(priority.min()), 0) if len(priority) else 0, 0)
    highs = (max(len(plan.key) - 1, 0), max(cal.n_buckets - 1, 0),
             max(int(day.max()), last) if len(day) else last,
             max(int(priority.max()), 0) if len(priority) else 0, 2 * len(codes.refs))
    spans = tuple(h - lo + 1 for lo, h in zip(lows, highs))
    fits = 1
    for span in spans:
        fits *= span
    kept = _Independent(plan.key, cal, codes, codes.refs, row, bucket,
                        req["quantity"].to_numpy(float)[take][order],
                        codes.peg[take][order], None, lows, spans)
    if fits >= 2**62:
        return kept
    return replace(kept, packed=kept.pack([row, bucket, day, priority, 2 * rank + 1]))

def _lexsort_packed(keys: list[np.ndarray]) -> np.ndarray:
    """The stable order by ``keys`` (major first; ``np.lexsort`` of them reversed), with
    consecutive keys packed into one int64 key while the product of their spans fits: fewer
    stable passes over the claims, the same order."""
    packed: list[np.ndarray] = []
    current: np.ndarray | None = None
    span = 1
    for key in keys:
        key = np.asarray(key, np.int64)
        if not len(key):
            return np.zeros(0, np.int64)
        lo = int(key.min())
        width = int(key.max()) - lo + 1
        if current is not None and span * width < 2**62:
            current = current * width + (key - lo)
            span *= width
        else:
            if current is not None:
                packed.append(current)
            current, span = key - lo, width
    if current is not None:
        packed.append(current)
    return np.lexsort(packed[::-1])


def _priority(req: pd.DataFrame) -> np.ndarray:
    if "priority" not in req:
        return np.zeros(len(req), np.int64)
    return req["priority"].to_numpy(np.int64)


def _ref_ranks(refs: np.ndarray, codes: np.ndarray, items: np.ndarray) -> np.ndarray:
    """Sort ranks of the references of the claims: ``refs`` (independent claims) then the
    item codes ``codes[items]`` (dependent claims: their parent), equal strings equal ranks.
    Only the distinct strings are sorted (the same order as factorising every reference)."""
    own, own_distinct = pd.factorize(refs)
    parents, parent_at = np.unique(items, return_inverse=True)
    distinct = np.concatenate([np.asarray(own_distinct, dtype=object),
                               codes[parents].astype(object)])
    rank, _ = pd.factorize(distinct, sort=True)
    return np.concatenate([rank[own], rank[len(own_distinct) + parent_at]]).astype(np.int64)


def _ref_keys(own: np.ndarray, refs: np.ndarray, codes: np.ndarray, items: np.ndarray
              ) -> np.ndarray:
    """:func:`_ref_ranks` from the references' ranks ``own`` among ``refs`` (sorted, distinct):
    dense ranks in the same order, equal strings equal ranks. A parent's code equal to a
    reference takes its rank; one between two references (binary search among them) a rank
    between theirs, parents in one gap in the order of their codes. Only the distinct parents
    are searched and sorted (the references were, once per data load)."""
    parents, parent_at = np.unique(items, return_inverse=True)
    names = np.asarray(codes[parents], dtype=object)
    pos = np.searchsorted(refs, names).astype(np.int64) if len(refs) else \
        np.zeros(len(names), np.int64)
    equal = pos < len(refs)
    equal[equal] = refs[pos[equal]] == names[equal]
    among, _ = pd.factorize(names, sort=True)
    gap = np.flatnonzero(~equal)  # parents that are no reference, by (gap, code)
    gap = gap[np.lexsort((among[gap], pos[gap]))]
    gap_pos = pos[gap]
    new = np.r_[True, (gap_pos[1:] != gap_pos[:-1]) | (among[gap][1:] != among[gap][:-1])] \
        if len(gap) else np.zeros(0, bool)  # each distinct code once
    # a reference of rank r: r references and the codes of the gaps at or before r precede it
    ranked = np.arange(len(refs), dtype=np.int64)
    ranked += np.searchsorted(gap_pos[new], ranked, "right")
    rank = np.zeros(len(names), np.int64)
    rank[gap] = gap_pos + np.cumsum(new) - 1
    rank[equal] = ranked[pos[equal]]
    return np.concatenate([ranked[own], rank[parent_at]]).astype(np.int64)
