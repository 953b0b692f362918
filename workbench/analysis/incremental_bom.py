"""Net change planning, the BOM side (:mod:`workbench.analysis.incremental`): the changed
parents' lines spliced into the plan's BOM segments and the low-level codes recomputed below them.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from workbench.analysis.bom import ItemIndex, _kahn, gather
from workbench.analysis.data import PlanningData
from workbench.analysis.incremental_sources import item_rows
from workbench.analysis.netting import Segments
from workbench.analysis.ranges import concat_ranges


def segments_component(segments: Segments, parents: np.ndarray) -> np.ndarray:
    if len(parents) == 0:
        return np.zeros(0, np.int64)
    seg, _ = gather(segments.ptr_parent, segments.by_parent, parents)
    return np.unique(segments.component[seg]).astype(np.int64)


def bom_of(data: PlanningData, items: ItemIndex, parents: np.ndarray) -> PlanningData:
    revs = data.bom_revisions
    lines = data.bom_lines
    return PlanningData(
        items=data.items,
        bom_revisions=revs.iloc[item_rows(data, "bom_revisions", "parent", items, parents)],
        bom_lines=lines.iloc[item_rows(data, "bom_lines", "parent", items, parents)])


FIELDS = ("parent", "component", "quantity", "first_bucket", "end_bucket", "revision")


def merged_segments(segments: Segments, parents: np.ndarray, new: Segments, n_items: int, *,
                    mode: str = "copy") -> Segments:
    """``segments`` with the lines of ``parents`` replaced by ``new`` (lines of those parents
    only), indexed both ways as :meth:`Segments.index` indexes them (each parent's and each
    component's lines together), without sorting or compacting the 2M lines of the large demo:

    * line ids: the final lines are ``0 .. L' - 1``; the new lines and the kept lines numbered
      ``L'`` or above (the last ones) take the ids the dropped lines free below ``L'``, so every
      other line keeps its id and its place in the arrays (``mode="in_place"``: the arrays of
      ``segments`` are written, grown or cut to ``L'``; the caller no longer uses them;
      ``"copy"``: copies are; ``"overlay"``: nothing is copied or written — the new lines are
      numbered after the old ones and each line array reads through to the old array or the
      new lines (:class:`Appended`), the dropped lines stay in it unindexed: for a what-if that
      reads the lines through the two indexes only and leaves the base plan as it is);
    * the parent index: each changed parent's range is replaced by its new lines;
    * the component index: the dropped lines' entries out, the new lines' in at the end of
      their component's range; the renumbered lines renamed where they stand.

    The order of lines within one parent's or one component's range is not the order a full
    :meth:`Segments.index` gives (only the order in which a few sums are added: float noise).
    """
    drop, _ = gather(segments.ptr_parent, segments.by_parent, parents)
    drop = np.sort(drop)
    if mode != "overlay":
        same = _rewritten(segments, drop, new, n_items, mode == "in_place")
        if same is not None:
            return same
    n_old, n_new = len(segments.parent), len(new.parent)
    if mode == "overlay":  # every old line keeps its id, the new lines come after them
        drop_overlay, drop = drop, np.zeros(0, np.int64)
        n_final = n_old + n_new
    else:
        n_final = n_old - len(drop) + n_new
    free = np.concatenate([drop[drop < n_final], np.arange(n_old, n_final, dtype=np.int64)])
    new_ids = free[:n_new]
    gone = np.zeros(max(n_old - n_final, 0) + 1, bool)  # the ids at or above n_final that go
    gone[drop[drop >= n_final] - n_final] = True
    movers = n_final + np.flatnonzero(~gone[:max(n_old - n_final, 0)])
    hole = free[n_new:]  # the id each mover takes
    # the dropped lines' entries in the component index (read before any line is written)
    if mode == "overlay":
        drop = drop_overlay
    old_comp = np.asarray(segments.component[drop], np.int64)
    cand = _positions(segments.ptr_child, np.unique(old_comp))
    dead = cand[np.isin(segments.by_child[cand], drop)]
    in_place = mode == "in_place"
    if mode == "overlay":
        out = Segments(*(cast(np.ndarray, Appended(getattr(segments, f), getattr(new, f)))
                         for f in FIELDS))
    else:
        out = Segments(*(_fitted(getattr(segments, f), n_final, in_place) for f in FIELDS))
        for f in FIELDS:
            column = getattr(out, f)
            if len(movers):
                column[hole] = getattr(segments, f)[movers] if not in_place else column[movers]
            column[new_ids] = getattr(new, f)
        for f in FIELDS:
            setattr(out, f, _cut(getattr(out, f), n_final, in_place))

    def rename(by: np.ndarray) -> np.ndarray:
        if len(movers):
            at = np.flatnonzero(by >= n_final)
            by[at] = hole[np.searchsorted(movers, by[at])]
        return by

    # by parent: each changed parent's range replaced by its new lines
    new_parent = np.asarray(new.parent, np.int64)
    order = np.lexsort((new_ids, new_parent))
    counts = np.bincount(new_parent, minlength=n_items)
    ptr, by = segments.ptr_parent, segments.by_parent
    pieces, last = [], 0
    bounds = np.searchsorted(new_parent[order], parents, "left"), \
        np.searchsorted(new_parent[order], parents, "right")
    for p, lo, hi in zip(parents.tolist(), bounds[0].tolist(), bounds[1].tolist()):
        pieces.append(by[last:ptr[p]])
        pieces.append(new_ids[order[lo:hi]])
        last = int(ptr[p + 1])
    pieces.append(by[last:])
    out.by_parent = rename(np.concatenate(pieces).astype(by.dtype, copy=False))
    delta = np.zeros(n_items + 1, np.int64)
    delta[1:] = counts
    delta[1:][parents] -= ptr[parents + 1] - ptr[parents]
    out.ptr_parent = ptr + np.cumsum(delta)

    # by component: the dropped lines' entries out, the new lines' at the end of their range
    by = segments.by_child
    new_comp = np.asarray(new.component, np.int64)
    c_order = np.lexsort((new_ids, new_comp))
    at = segments.ptr_child[new_comp[c_order] + 1]
    out.by_child = rename(_respliced(by, dead, at, new_ids[c_order].astype(by.dtype)))
    delta = np.zeros(n_items + 1, np.int64)
    delta[1:] = np.bincount(new_comp, minlength=n_items) - np.bincount(old_comp, minlength=n_items)
    out.ptr_child = segments.ptr_child + np.cumsum(delta)
    return out


def _rewritten(segments: Segments, drop: np.ndarray, new: Segments, n_items: int,
               in_place: bool) -> Segments | None:
    """:func:`merged_segments` when the new lines join the very (parent, component) pairs of the
    dropped lines ``drop``, as many of each (a sync's quantities, dates, scrap): each new line
    takes the id of a dropped line of its pair, so both indexes stay as they are (shared, never
    written) and only the line fields are written — no pass over the 2M-entry indexes. None
    when the pairs differ."""
    if len(drop) != len(new.parent):
        return None
    old_pair = np.asarray(segments.parent[drop], np.int64) * n_items + \
        np.asarray(segments.component[drop], np.int64)
    new_pair = np.asarray(new.parent, np.int64) * n_items + np.asarray(new.component, np.int64)
    old_order = np.argsort(old_pair, kind="stable")
    new_order = np.argsort(new_pair, kind="stable")
    if not np.array_equal(old_pair[old_order], new_pair[new_order]):
        return None
    ids = drop[old_order]  # new line new_order[k] takes the id ids[k]
    n = len(segments.parent)
    out = Segments(*(_fitted(getattr(segments, f), n, in_place) for f in FIELDS))
    for f in FIELDS:
        getattr(out, f)[ids] = np.asarray(getattr(new, f))[new_order]
    out.by_parent, out.ptr_parent = segments.by_parent, segments.ptr_parent
    out.by_child, out.ptr_child = segments.by_child, segments.ptr_child
    return out


class Appended:
    """A line array read through: ids below ``len(old)`` are ``old``'s, the rest ``new``'s
    (``merged_segments(mode="overlay")``). Answers what the net change asks of a line array:
    ``len``, a gather by an id array, ``astype`` of the whole (rarely: a concatenation)."""

    def __init__(self, old: np.ndarray, new: np.ndarray):
        self.old, self.new = old, np.asarray(new).astype(old.dtype, copy=False)
        self.dtype = old.dtype

    def __len__(self) -> int:
        return len(self.old) + len(self.new)

    def __getitem__(self, ids: Any) -> np.ndarray:
        ids = np.asarray(ids)
        if ids.dtype == bool:
            ids = np.flatnonzero(ids)
        out = np.empty(ids.shape, self.dtype)
        mine = ids < len(self.old)
        out[mine] = self.old[ids[mine]]
        out[~mine] = self.new[ids[~mine] - len(self.old)]
        return out

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        whole = np.concatenate([self.old, self.new])
        return whole if dtype is None else whole.astype(dtype)

    def astype(self, dtype: Any, copy: bool = True) -> np.ndarray:
        return np.asarray(self).astype(dtype)


def _respliced(by: np.ndarray, dead: np.ndarray, at: np.ndarray, values: np.ndarray
               ) -> np.ndarray:
    """``by`` without its entries at the positions ``dead`` (sorted), with ``values[k]``
    inserted before position ``at[k]`` (sorted; equal positions keep the order of ``values``):
    one copy, piece by piece between the few places that change (``np.delete`` then
    ``np.insert`` copied the 2M entries twice and built a mask of them)."""
    cuts = np.concatenate([dead, at])
    kind = np.concatenate([np.zeros(len(dead), np.int8), np.ones(len(at), np.int8)])
    value_at = np.concatenate([np.full(len(dead), -1, np.int64), np.arange(len(at))])
    order = np.lexsort((value_at, kind, cuts))
    pieces, last = [], 0
    for pos, k, v in zip(cuts[order].tolist(), kind[order].tolist(), value_at[order].tolist()):
        pieces.append(by[last:pos] if pos > last else by[:0])
        if k == 0:  # drop the entry at pos
            last = pos + 1
        else:
            pieces.append(values[v:v + 1])
            last = max(last, pos)
    pieces.append(by[last:])
    return np.concatenate(pieces)


def _positions(ptr: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """The positions in a CSR index of the entries of ``nodes`` (sorted, unique), ascending."""
    starts, ends = ptr[nodes], ptr[nodes + 1]
    return concat_ranges(starts, ends - starts)


def _cut(column: np.ndarray, size: int, in_place: bool) -> np.ndarray:
    """The first ``size`` entries of ``column``: cut in place when it owns its data (a view
    would make the next growth copy it), else a view."""
    if size < len(column) and in_place and column.base is None and column.flags.c_contiguous:
        try:
            column.resize(size, refcheck=False)
            return column
        except ValueError:
            pass
    return column[:size]


def _fitted(column: np.ndarray, size: int, in_place: bool) -> np.ndarray:
    """``column`` with room for ``size`` entries: itself (in place, grown by ``resize`` when it
    owns its data) or a copy."""
    if size <= len(column):
        return column if in_place else column.copy()
    if in_place and column.base is None and column.flags.c_contiguous:
        try:
            column.resize(size, refcheck=False)
            return column
        except ValueError:  # a memory-mapped array: a copy
            pass
    out = np.empty(size, column.dtype)
    out[:len(column)] = column
    return out


def descendants(segments: Segments, start: np.ndarray, n_items: int) -> np.ndarray:
    seen = np.zeros(n_items, bool)
    start = np.asarray(start, np.int64)
    seen[start] = True
    frontier = start
    while len(frontier):
        seg, _ = gather(segments.ptr_parent, segments.by_parent, frontier)
        kids = np.unique(segments.component[seg]).astype(np.int64)
        frontier = kids[~seen[kids]]
        seen[frontier] = True
    return np.flatnonzero(seen)


def levels_below(llc: np.ndarray, segments: Segments, region: np.ndarray) -> np.ndarray | None:
    """Low-level codes after the lines of some parents changed (``segments``: the lines after):
    only items below them (under the old or the new lines: ``region``, closed under both; a
    larger closed region gives the same codes) can move; each is one more than its deepest
    parent (parents outside keep their code). None when the new lines close a cycle."""
    if len(region) == 0:
        return llc
    local = np.full(len(llc), -1, np.int64)
    local[region] = np.arange(len(region))
    seg, _ = gather(segments.ptr_child, segments.by_child, region)
    par, comp = segments.parent[seg].astype(np.int64), segments.component[seg].astype(np.int64)
    inside = local[par] >= 0
    edges = np.stack([local[par[inside]], local[comp[inside]]], axis=1)
    depth, remaining = _kahn(len(region), edges)
    if remaining.any():
        return None
    out = llc.copy()
    for d in range(int(depth.max(initial=-1)) + 1):
        at = region[depth == d]  # their parents in the region are of smaller depth: final
        s, _ = gather(segments.ptr_child, segments.by_child, at)
        out[at] = 0
        np.maximum.at(out, segments.component[s].astype(np.int64),
                      out[segments.parent[s].astype(np.int64)] + 1)
    return out
