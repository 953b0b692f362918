"""Where-used (component -> every assembly above it) and its mirror, the BOM explosion.

Both walk a :class:`~workbench.analysis.bom.BomGraph` built for one filter (as-of date, revision
statuses), so a planner's question "where is X used on 1 March, drafts included" and "what goes
into P under the same rules" always agree: ``P in where_used(X).ancestors`` exactly when
``X in explosion(P)``.

Extended quantity per top-level unit is the sum over all paths of the product of the lines'
quantity per × scrap factor (preferred lines only: an alternate is not consumed unless chosen).
Paths are listed up to ``max_paths``; the totals never depend on that limit. A cycle in the data
is reported with the items on it and never followed twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.analysis.bom import BomGraph, _kahn, find_cycles, gather


@dataclass
class WhereUsed:
    item: str
    direct: pd.DataFrame  # the single-level parent lines
    ancestors: pd.DataFrame  # item, min_level, max_level, top_level, extended_quantity
    paths: list[dict[str, Any]] = field(default_factory=list)
    truncated: bool = False
    cycles: list[list[str]] = field(default_factory=list)

    @property
    def top_level(self) -> pd.DataFrame:
        return self.ancestors[self.ancestors["top_level"]].reset_index(drop=True)

    def to_dict(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "direct": _records(self.direct),
            "ancestors": _records(self.ancestors),
            "top_level": _records(self.top_level),
            "paths": self.paths,
            "paths_truncated": self.truncated,
            "cycles": self.cycles,
        }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
            for row in frame.to_dict("records")]


def direct_parents(graph: BomGraph, item: int, day: int | None = None) -> pd.DataFrame:
    lines = graph.usable(graph.parents_of(item), day)
    lines = lines[np.lexsort((graph.position[lines], graph.revision[lines].astype(str),
                              graph.items.codes[graph.parent[lines]].astype(str)))]
    return pd.DataFrame({
        "parent": graph.items.codes[graph.parent[lines]],
        "revision": graph.revision[lines],
        "position": graph.position[lines],
        "quantity_per": graph.quantity_per[lines],
        "scrap_pct": graph.scrap_pct[lines],
        "extended_quantity": graph.quantity[lines],
        "alternate": graph.alternate[lines],
    })


def where_used(graph: BomGraph, item: str, *, as_of: int | None = None, multi_level: bool = True,
               max_paths: int = 1000, tops: set[str] | None = None) -> WhereUsed:
    """Every assembly above ``item`` (see module doc), through the revisions in force on day
    ``as_of`` (every revision of the graph when None).

    ``tops``: when given, keep only ancestors and paths leading to these top-level items (the site
    filter passes the top-level items active at a site).
    """
    idx = int(graph.items.idx([item])[0])
    if idx < 0:
        raise KeyError(f"unknown item {item!r}")
    direct = direct_parents(graph, idx, as_of)
    if not multi_level:
        return WhereUsed(item, direct, _single_level_ancestors(graph, direct, as_of))
    nodes, lines, min_level = _ancestors(graph, idx, as_of)
    # Topological order from the item upward; anything left over sits on a cycle.
    local = np.full(len(graph.items), -1, np.int64)
    local[nodes] = np.arange(len(nodes))
    child_local, parent_local = local[graph.component[lines]], local[graph.parent[lines]]
    edges = np.stack([child_local, parent_local], axis=1) if len(lines) else np.zeros((0, 2), np.int64)
    max_level, remaining = _kahn(len(nodes), edges)
    cycles: list[list[str]] = []
    if remaining.any():
        cycles = [[str(graph.items.codes[nodes[i]]) for i in reversed(c)]
                  for c in find_cycles(edges, remaining)]
    extended = _extended(len(nodes), edges, graph.quantity[lines], graph.alternate[lines],
                         max_level, remaining)
    has_parent = _has_parent(graph, nodes, as_of)
    ancestors = pd.DataFrame({
        "item": graph.items.codes[nodes],
        "min_level": min_level,
        "max_level": np.where(remaining, -1, max_level),
        "top_level": ~has_parent,
        "extended_quantity": extended,
    }).iloc[1:]  # the item itself is node 0
    if tops is not None:
        keep = _leading_to(nodes, edges, {i for i, n in enumerate(nodes)
                                          if str(graph.items.codes[n]) in tops and not has_parent[i]})
        ancestors = ancestors[keep[1:]]
    ancestors = ancestors.sort_values(["min_level", "item"]).reset_index(drop=True)
    paths, truncated = _paths(graph, idx, max_paths, tops, as_of)
    return WhereUsed(item, direct, ancestors, paths, truncated, cycles)


def _has_parent(graph: BomGraph, nodes: np.ndarray, day: int | None) -> np.ndarray:
    lines, source = gather(graph.ptr_child, graph.by_child, nodes)
    keep = np.isin(lines, graph.usable(lines, day))
    return np.bincount(source[keep], minlength=len(nodes)) > 0


def _single_level_ancestors(graph: BomGraph, direct: pd.DataFrame,
                            day: int | None) -> pd.DataFrame:
    if direct.empty:
        return pd.DataFrame(columns=["item", "min_level", "max_level", "top_level",
                                     "extended_quantity"])
    preferred = direct[~direct["alternate"]]
    ext = preferred.groupby("parent")["extended_quantity"].sum()
    parents = pd.unique(direct["parent"])
    has_parent = _has_parent(graph, graph.items.idx(list(parents)), day)
    return pd.DataFrame({"item": parents, "min_level": 1, "max_level": 1,
                         "top_level": ~has_parent,
                         "extended_quantity": ext.reindex(parents).fillna(0.0).to_numpy()})


def _ancestors(graph: BomGraph, start: int,
               day: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Breadth-first walk up: (nodes with the start first, lines among them, min level per node)."""
    seen = np.zeros(len(graph.items), bool)
    seen[start] = True
    nodes, levels, line_parts = [np.array([start])], [np.array([0])], []
    frontier, depth = np.array([start]), 0
    while len(frontier):
        depth += 1
        lines, _ = gather(graph.ptr_child, graph.by_child, frontier)
        lines = graph.usable(lines, day)
        line_parts.append(lines)
        parents = np.unique(graph.parent[lines])
        new = parents[~seen[parents]]
        seen[new] = True
        nodes.append(new)
        levels.append(np.full(len(new), depth))
        frontier = new
    all_lines = np.concatenate(line_parts) if line_parts else np.zeros(0, np.int64)
    return np.concatenate(nodes), all_lines, np.concatenate(levels)


def _extended(n: int, edges: np.ndarray, qty: np.ndarray, alternate: np.ndarray,
              level: np.ndarray, on_cycle: np.ndarray) -> np.ndarray:
    """Sum over paths of the product of quantities, by increasing topological level."""
    ext = np.zeros(n)
    ext[0] = 1.0
    usable = ~alternate & ~on_cycle[edges[:, 0]] & ~on_cycle[edges[:, 1]]
    e, q = edges[usable], qty[usable]
    parent_level = level[e[:, 1]]
    for lv in range(1, int(level.max(initial=0)) + 1):
        sel = parent_level == lv
        ext += np.bincount(e[sel, 1], weights=ext[e[sel, 0]] * q[sel], minlength=n)
    return ext


def _leading_to(nodes: np.ndarray, edges: np.ndarray, targets: set[int]) -> np.ndarray:
    """Mask of local nodes from which one of ``targets`` can be reached going up."""
    keep = np.zeros(len(nodes), bool)
    keep[list(targets)] = True
    changed = True
    while changed:
        before = keep.sum()
        keep[edges[keep[edges[:, 1]], 0]] = True
        changed = keep.sum() != before
    return keep


def _paths(graph: BomGraph, start: int, limit: int, tops: set[str] | None,
           day: int | None) -> tuple[list[dict[str, Any]], bool]:
    """Depth-first listing of paths to top-level items, at most ``limit``, never repeating an
    item within a path (a cycle ends the path)."""
    codes = graph.items.codes
    out: list[dict[str, Any]] = []
    stack: list[tuple[int, list[int], float]] = [(start, [], 1.0)]
    budget = 50 * max(limit, 1)  # expansions, so a filtered search cannot run away
    while stack:
        budget -= 1
        if budget < 0:
            return out, True
        node, steps, ext = stack.pop()
        lines = graph.usable(graph.parents_of(node), day)
        on_path = {start} | {int(graph.parent[s]) for s in steps}
        if len(lines) == 0 and steps:
            if tops is None or str(codes[node]) in tops:
                if len(out) >= limit:
                    return out, True
                out.append(_path(graph, steps, ext))
            continue
        for line in lines[::-1]:
            parent = int(graph.parent[line])
            if parent in on_path:
                continue
            stack.append((parent, steps + [int(line)], ext * float(graph.quantity[line])))
    return out, False


def _path(graph: BomGraph, steps: list[int], ext: float) -> dict[str, Any]:
    codes = graph.items.codes
    running = 1.0
    listed = []
    for level, line in enumerate(steps, start=1):
        running *= float(graph.quantity[line])
        listed.append({
            "level": level,
            "parent": str(codes[graph.parent[line]]),
            "component": str(codes[graph.component[line]]),
            "revision": str(graph.revision[line]),
            "position": int(graph.position[line]),
            "quantity_per": float(graph.quantity_per[line]),
            "scrap_pct": float(graph.scrap_pct[line]),
            "alternate": bool(graph.alternate[line]),
            "extended_quantity": running,
        })
    return {"top_level": listed[-1]["parent"], "extended_quantity": ext, "steps": listed}


def explosion(graph: BomGraph, item: str, as_of: int | None = None) -> pd.DataFrame:
    """Every item below ``item`` with its minimum level (the mirror of where-used)."""
    idx = int(graph.items.idx([item])[0])
    if idx < 0:
        raise KeyError(f"unknown item {item!r}")
    seen = np.zeros(len(graph.items), bool)
    seen[idx] = True
    frontier, depth, found = np.array([idx]), 0, []
    while len(frontier):
        depth += 1
        lines, _ = gather(graph.ptr_parent, graph.by_parent, frontier)
        lines = graph.usable(lines, as_of)
        kids = np.unique(graph.component[lines])
        new = kids[~seen[kids]]
        seen[new] = True
        found.append(pd.DataFrame({"item": graph.items.codes[new], "min_level": depth}))
        frontier = new
    if not found:
        return pd.DataFrame(columns=["item", "min_level"])
    return pd.concat(found, ignore_index=True)
