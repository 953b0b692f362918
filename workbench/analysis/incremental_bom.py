"""Net change planning, the BOM side (:mod:`workbench.analysis.incremental`): the changed
parents' lines spliced into the plan's BOM segments and the low-level codes recomputed below them.
"""

from __future__ import annotations

import numpy as np

from workbench.analysis.bom import ItemIndex, _kahn, gather
from workbench.analysis.data import PlanningData
from workbench.analysis.incremental_sources import item_rows
from workbench.analysis.netting import Segments


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


def merged_segments(segments: Segments, parents: np.ndarray, new: Segments, n_items: int) -> Segments:
    """``segments`` with the lines of ``parents`` replaced by ``new``, indexed both ways as
    :meth:`Segments.index` would (stable by parent, by component), without sorting the 2M lines
    again: the kept lines keep their order, the new ones are spliced in at their parent's
    (their component's) place."""
    drop, _ = gather(segments.ptr_parent, segments.by_parent, parents)
    keep = np.ones(len(segments.parent), bool)
    keep[drop] = False
    n_kept = int(keep.sum())
    merged = Segments(*(np.concatenate([getattr(segments, f)[keep], getattr(new, f)])
                        for f in ("parent", "component", "quantity", "first_bucket",
                                  "end_bucket", "revision")))
    renumber = np.cumsum(keep) - 1

    def splice(order: np.ndarray, by: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        kept = renumber[order[keep[order]]]
        extra = by[n_kept:].astype(np.int64)
        sort = np.argsort(extra, kind="stable")
        at = np.searchsorted(by[kept], extra[sort], "right")
        ptr = np.zeros(n_items + 1, np.int64)
        np.cumsum(np.bincount(by.astype(np.int64), minlength=n_items), out=ptr[1:])
        return np.insert(kept, at, n_kept + sort), ptr

    merged.by_parent, merged.ptr_parent = splice(segments.by_parent, merged.parent)
    merged.by_child, merged.ptr_child = splice(segments.by_child, merged.component)
    return merged


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


def levels_below(llc: np.ndarray, segments: Segments, parents: np.ndarray,
                  old: Segments, new: Segments) -> np.ndarray | None:
    """Low-level codes after the lines of ``parents`` changed: only items below them (under the
    old or the new lines) can move; each is one more than its deepest parent (parents outside
    keep their code). None when the new lines close a cycle."""
    start = np.union1d(segments_component(old, parents), new.component.astype(np.int64))
    region = np.union1d(descendants(old, start, len(llc)), descendants(segments, start, len(llc)))
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
