"""The BOM explosion (assembly -> every item below it), the mirror of where-used.

It walks the same :class:`~workbench.analysis.bom.BomGraph` under the same filter as
:func:`workbench.analysis.where_used.where_used`, with the same sums over paths and the same
rule for assemblies with several revisions (see that module's doc): ``P in
where_used(X).ancestors`` exactly when ``X in explosion(P)``, with the same extended quantity.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.analysis.bom import BomGraph, _kahn, gather
from workbench.analysis.where_used import revision_counts


def explosion(graph: BomGraph, item: str, as_of: int | None = None,
              revision: str | None = None) -> pd.DataFrame:
    """Every item below ``item`` with its minimum level and ``extended_quantity`` per unit of
    ``item`` (the mirror of where-used: same lines, same sums over paths).

    ``revision``: explode that revision of ``item`` itself (whether in force or not), the
    assemblies below it by the revisions in force on ``as_of``. Without a date, an item below an
    assembly with several revisions in the graph has no one figure: NaN (ask on a date or per
    revision, see module doc).
    """
    idx = int(graph.items.idx([item])[0])
    if idx < 0:
        raise KeyError(f"unknown item {item!r}")
    seen = np.zeros(len(graph.items), bool)
    seen[idx] = True
    frontier, depth = np.array([idx]), 0
    nodes, levels, line_parts = [np.array([idx])], [np.array([0])], []
    while len(frontier):
        depth += 1
        lines, _ = gather(graph.ptr_parent, graph.by_parent, frontier)
        if depth == 1 and revision is not None:
            lines = lines[graph.revision[lines] == revision]
            lines = lines[graph.listed[lines] | (as_of is not None)]
            lines = lines[~pd.DataFrame({"p": graph.position[lines]}).duplicated().to_numpy()]
        else:
            lines = graph.usable(lines, as_of)
        line_parts.append(lines)
        kids = np.unique(graph.component[lines])
        new = kids[~seen[kids]]
        seen[new] = True
        nodes.append(new)
        levels.append(np.full(len(new), depth))
        frontier = new
    return _explosion_frame(graph, np.concatenate(nodes), np.concatenate(line_parts),
                            np.concatenate(levels), as_of, revision is not None)


def _explosion_frame(graph: BomGraph, nodes: np.ndarray, lines: np.ndarray, min_level: np.ndarray,
                     day: int | None, root_revision: bool) -> pd.DataFrame:
    """Extended quantities below node 0 by increasing topological level (NaN below an assembly
    built by several revisions of the graph: their lines are never added up)."""
    if len(nodes) == 1:
        return pd.DataFrame({"item": pd.Series(dtype=object), "min_level": pd.Series(dtype=int),
                             "extended_quantity": pd.Series(dtype=float)})
    local = np.full(len(graph.items), -1, np.int64)
    local[nodes] = np.arange(len(nodes))
    edges = np.stack([local[graph.parent[lines]], local[graph.component[lines]]], axis=1)
    level, on_cycle = _kahn(len(nodes), edges)
    several = (np.zeros(len(nodes), bool) if day is not None
               else revision_counts(graph, nodes, day) > 1)
    several[0] = several[0] and not root_revision
    usable = ~graph.alternate[lines] & ~on_cycle[edges[:, 0]] & ~on_cycle[edges[:, 1]]
    e, q = edges[usable], graph.quantity[lines][usable]
    ext = np.zeros(len(nodes))
    ext[0] = 1.0
    unknown = np.zeros(len(nodes), bool)  # below an assembly built by several revisions
    child_level = level[e[:, 1]]
    for lv in range(1, int(level.max(initial=0)) + 1):
        sel = child_level == lv
        ext += np.bincount(e[sel, 1], weights=ext[e[sel, 0]] * q[sel], minlength=len(nodes))
        from_several = (unknown | several)[e[sel, 0]].astype(float)
        unknown |= np.bincount(e[sel, 1], weights=from_several, minlength=len(nodes)) > 0
    return pd.DataFrame({"item": graph.items.codes[nodes[1:]], "min_level": min_level[1:],
                         "extended_quantity": np.where(unknown, np.nan, ext)[1:]})
