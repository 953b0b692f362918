"""Where-used (component -> every assembly above it); its mirror, the BOM explosion, is
:mod:`workbench.analysis.explosion`.

Both walk a :class:`~workbench.analysis.bom.BomGraph` built for one filter (as-of date, revision
statuses), so a planner's question "where is X used on 1 March, drafts included" and "what goes
into P under the same rules" always agree: ``P in where_used(X).ancestors`` exactly when
``X in explosion(P)``.

Extended quantity per top-level unit is the sum over all paths of the product of the lines'
quantity per × scrap factor (preferred lines only: an alternate is not consumed unless chosen).
Paths are listed up to ``max_paths``; the totals never depend on that limit. A cycle in the data
is reported with the items on it and never followed twice.

**One revision per assembly, never a sum over alternatives.** Revisions of one parent are
alternatives: never in force together. On a date (``as_of``, or a graph built for one) each
parent has one revision in force, so the extended quantity is exactly the explosion of the
revisions in force that day (:func:`~workbench.analysis.explosion.explosion` on the same date
gives the same figure). Asked without a date, over every revision of the graph, the figures
are *per revision*: a path lists the revision of every step, and an ancestor's
``extended_quantity_min`` / ``extended_quantity_max`` are the least and most any choice of one
revision per assembly gives (a revision that does not use the item counts 0);
``extended_quantity`` is that figure when the choice does not matter (min = max), else NaN.
Adding up revisions A and B of a parent (a component carried over from A to B counted twice)
matches no BOM that is ever built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.analysis.bom import BomGraph, _kahn, find_cycles, gather

#: Columns of :attr:`WhereUsed.ancestors`.
ANCESTOR_COLUMNS = ["item", "min_level", "max_level", "top_level", "extended_quantity",
                    "extended_quantity_min", "extended_quantity_max"]


@dataclass(eq=False)
class WhereUsed:
    """The answer of :func:`where_used`, held as column arrays (no pandas in the question: the
    two frames cost more than the walk of a typical question, issue 16 §6). ``direct`` and
    ``ancestors`` are the frames made from them when first asked, ``paths`` the listed paths
    (their step dicts made when first asked); :meth:`to_dict` makes the records straight from
    the arrays. Pickled as arrays (the planning process answers the UI's)."""

    item: str
    #: the single-level parent lines: parent, revision, position, quantity_per, scrap_pct,
    #: extended_quantity, alternate
    direct_columns: dict[str, Any]
    #: item, min_level, max_level, top_level, extended_quantity (NaN where it depends on the
    #: revision, see module doc), extended_quantity_min, extended_quantity_max
    ancestor_columns: dict[str, Any]
    listed: _ListedPaths | None = None
    truncated: bool = False
    cycles: list[list[str]] = field(default_factory=list)
    _made: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def direct(self) -> pd.DataFrame:
        """The single-level parent lines as a frame (made once, when first asked)."""
        if "direct" not in self._made:
            self._made["direct"] = pd.DataFrame(
                {**self.direct_columns, "parent": _code_text(self.direct_columns["parent"])},
                copy=False)
        return self._made["direct"]

    @property
    def ancestors(self) -> pd.DataFrame:
        """Every assembly above, by level then code, as a frame (:data:`ANCESTOR_COLUMNS`;
        made once, when first asked)."""
        if "ancestors" not in self._made:
            self._made["ancestors"] = (
                pd.DataFrame({**self.ancestor_columns,
                              "item": _code_text(self.ancestor_columns["item"])},
                             columns=ANCESTOR_COLUMNS, copy=False)
                if self.ancestor_columns else pd.DataFrame(columns=ANCESTOR_COLUMNS))
        return self._made["ancestors"]

    @property
    def paths(self) -> list[dict[str, Any]]:
        """The listed paths (see :func:`_paths`), each with its steps (made once)."""
        if "paths" not in self._made:
            self._made["paths"] = [] if self.listed is None else self.listed.dicts()
        return self._made["paths"]

    @property
    def top_level(self) -> pd.DataFrame:
        return self.ancestors[self.ancestors["top_level"]].reset_index(drop=True)

    def to_dict(self) -> dict[str, Any]:
        ancestors = _column_records(self.ancestor_columns, ANCESTOR_COLUMNS)
        return {
            "item": self.item,
            "direct": _column_records(self.direct_columns, list(self.direct_columns)),
            "ancestors": ancestors,
            "top_level": [a for a in ancestors if a["top_level"]],
            "paths": self.paths,
            "paths_truncated": self.truncated,
            "cycles": self.cycles,
        }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
            for row in frame.to_dict("records")]


def _column_records(columns: dict[str, Any], names: list[str]) -> list[dict[str, Any]]:
    """The rows of ``columns`` (arrays of one length) as dicts of plain Python values, as
    :func:`_records` gives them from the frame of those columns (without making the frame)."""
    if not columns:
        return []
    values = [_plain_list(columns[n]) for n in names]
    return [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]


def _plain_list(values: Any) -> list[Any]:
    """An array's values as plain Python values (str, int, float, bool)."""
    if isinstance(values, np.ndarray) and values.dtype != object:
        return values.tolist()
    return [v.item() if hasattr(v, "item") else v for v in
            (values.tolist() if hasattr(values, "tolist") else values)]


def direct_parents(graph: BomGraph, item: int, day: int | None = None) -> pd.DataFrame:
    """The single-level parent lines of item number ``item`` (usable on ``day``) as a frame."""
    columns = _direct_columns(graph, item, day)
    return pd.DataFrame({**columns, "parent": _code_text(columns["parent"])}, copy=False)


def _direct_columns(graph: BomGraph, item: int, day: int | None) -> dict[str, Any]:
    """:func:`direct_parents`' columns, by parent, revision and position."""
    lines = graph.usable(graph.parents_of(item), day)
    lines = lines[np.lexsort((graph.position[lines], graph.revision[lines].astype(str),
                              graph.items.codes[graph.parent[lines]].astype(str)))]
    return {
        "parent": graph.items.codes[graph.parent[lines]],
        "revision": graph.revision[lines],
        "position": graph.position[lines].astype(np.int64),
        "quantity_per": graph.quantity_per[lines],
        "scrap_pct": graph.scrap_pct[lines],
        "extended_quantity": graph.quantity[lines],
        "alternate": graph.alternate[lines],
    }


def _code_text(codes: Any) -> Any:
    """Item codes (an object array of str) as a frame's text column: a pandas string array (an
    object array of none: as it is, the type pandas gives an empty column). Made when a frame
    is asked for, never while the question is answered."""
    if not isinstance(codes, np.ndarray) or not len(codes):
        return codes
    return pd.array(codes, dtype="str")


def where_used(graph: BomGraph, item: str, *, as_of: int | None = None, multi_level: bool = True,
               max_paths: int = 1000, tops: set[str] | None = None) -> WhereUsed:
    """Every assembly above ``item`` (see module doc), through the revisions in force on day
    ``as_of`` (every revision of the graph when None).

    ``tops``: when given, keep only ancestors and paths leading to these top-level items (the site
    filter passes the top-level items active at a site).
    """
    idx = _item_number(graph, item)
    if idx < 0:
        raise KeyError(f"unknown item {item!r}")
    direct = _direct_columns(graph, idx, as_of)
    if not multi_level:
        return WhereUsed(item, direct, _single_level_ancestors(graph, direct, as_of))
    nodes, lines, min_level = _ancestors(graph, idx, as_of)
    # Topological order from the item upward; anything left over sits on a cycle. Item numbers
    # become local ones by a search in the few ancestors (every line's ends are among them),
    # not through an array as long as the item master.
    order = np.argsort(nodes, kind="stable")
    ranked = nodes[order]
    child_local = order[np.searchsorted(ranked, graph.component[lines])]
    parent_local = order[np.searchsorted(ranked, graph.parent[lines])]
    edges = np.stack([child_local, parent_local], axis=1) if len(lines) else np.zeros((0, 2), np.int64)
    max_level, remaining = _kahn(len(nodes), edges)
    cycles: list[list[str]] = []
    if remaining.any():
        cycles = [[str(graph.items.codes[nodes[i]]) for i in reversed(c)]
                  for c in find_cycles(edges, remaining)]
    low, high = _extended_range(graph, nodes, lines, edges, max_level, remaining, as_of)
    # an ancestor has a parent when it is the component of one of the usable lines the walk
    # gathered (it gathered every usable line above every node)
    has_parent = np.zeros(len(nodes), bool)
    has_parent[child_local] = True
    codes = graph.items.codes[nodes]
    rows = np.arange(1, len(nodes))  # the item itself is node 0
    if tops is not None:
        keep = _leading_to(nodes, edges, {i for i, n in enumerate(nodes)
                                          if str(graph.items.codes[n]) in tops and not has_parent[i]})
        rows = rows[keep[1:]]
    # by level, then code (codes are unique): sorted in numpy before the one frame is built
    rows = rows[np.lexsort((codes[rows], min_level[rows]))]
    # the rows taken as arrays (a frame's take and new index cost more than the whole walk of
    # a typical question; the frame is made when a caller asks for it)
    ancestors = _ancestor_columns(graph.items.codes[nodes[rows]], min_level[rows],
                                  np.where(remaining, -1, max_level)[rows], ~has_parent[rows],
                                  low[rows], high[rows])
    listed, truncated = _paths(graph, idx, max_paths, tops, as_of, _parent_lines(graph, lines))
    return WhereUsed(item, direct, ancestors, listed, truncated, cycles)


def ancestor_levels(graph: BomGraph, item: str, *, as_of: int | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Every assembly above ``item`` and the least level it is found at (1 = a direct parent),
    through the revisions in force on day ``as_of`` (every revision of the graph when None), by
    level and code: the part of :func:`where_used` a recursive SQL query answers (ancestors and
    levels, no quantities, top-level flags or paths), as two arrays and without pandas."""
    idx = _item_number(graph, item)
    if idx < 0:
        raise KeyError(f"unknown item {item!r}")
    nodes, _lines, min_level = _ancestors(graph, idx, as_of)
    codes = graph.items.codes[nodes[1:]]
    order = np.lexsort((codes, min_level[1:]))
    return codes[order], min_level[1:][order]


def _item_number(graph: BomGraph, item: str) -> int:
    """The item's number in the graph (-1: unknown), by one hash look-up."""
    lookup = graph.items.lookup
    if lookup is None:
        return int(graph.items.idx([item])[0])
    try:
        found = lookup.index.get_loc(item)
    except KeyError:
        return -1
    return int(found) if isinstance(found, (int, np.integer)) else int(graph.items.idx([item])[0])


def _parent_lines(graph: BomGraph, lines: np.ndarray) -> _ParentLines:
    """Per ancestor, its usable parent lines as (line, parent, quantity), in the graph's order:
    ``lines`` (from :func:`_ancestors`) holds each ancestor's lines once, together and in CSR
    order, so the path listing walks plain lists instead of asking numpy at every step. Made
    per ancestor when the listing first reaches it (:class:`_ParentLines`)."""
    return _ParentLines(graph, lines)


class _ParentLines:
    """:func:`_parent_lines` as a look-up made on demand: the lines are sorted by component
    once (numpy), and an ancestor's list is made the first time the path listing asks for it.
    A listing stops at ``max_paths``: on a component used by thousands of assemblies it reaches
    a small part of them, and a plain-Python pass over every gathered line took longer than
    the rest of the question."""

    def __init__(self, graph: BomGraph, lines: np.ndarray) -> None:
        self.graph = graph
        child = graph.component[lines]
        order = np.argsort(child, kind="stable")  # each child's lines keep their order
        self.lines = lines[order]
        self.child = child[order]
        self.made: dict[int, list[tuple[int, int, float]]] = {}

    def get(self, node: int, default: list[tuple[int, int, float]]
            ) -> list[tuple[int, int, float]]:
        found = self.made.get(node)
        if found is None:
            # both ends in one search (the node's lines are those of children node..node+1)
            lo, hi = self.child.searchsorted((node, node + 1)).tolist()
            if lo == hi:
                return default
            lines = self.lines[lo:hi]
            found = list(zip(lines.tolist(), self.graph.parent[lines].tolist(),
                             self.graph.quantity[lines].tolist(), strict=True))
            self.made[node] = found
        return found


def _ancestor_columns(item: Any, min_level: Any, max_level: Any, top_level: Any,
                      low: np.ndarray, high: np.ndarray) -> dict[str, Any]:
    same = np.isclose(low, high, rtol=1e-12, atol=1e-12)
    return {
        "item": item, "min_level": min_level, "max_level": max_level, "top_level": top_level,
        "extended_quantity": np.where(same, low, np.nan),
        "extended_quantity_min": low, "extended_quantity_max": high,
    }


def _has_parent(graph: BomGraph, nodes: np.ndarray, day: int | None) -> np.ndarray:
    lines, source = gather(graph.ptr_child, graph.by_child, nodes)
    keep = graph.in_force(lines, day)  # each line once: the mask of the usable ones
    return np.bincount(source[keep], minlength=len(nodes)) > 0


def _single_level_ancestors(graph: BomGraph, columns: dict[str, Any],
                            day: int | None) -> dict[str, Any]:
    """The direct parents as ancestors (level 1); ``{}`` (no columns) when there are none."""
    direct = pd.DataFrame(columns, copy=False)
    if direct.empty:
        return {}
    parents = pd.unique(direct["parent"].to_numpy(object))
    nodes = graph.items.idx(list(parents))
    preferred = direct[~direct["alternate"].to_numpy(bool)]
    revision = pd.factorize(preferred["revision"].to_numpy(object))[0].astype(np.int64)
    low, high = _per_revision(
        pd.Index(parents).get_indexer(preferred["parent"]), revision,
        preferred["extended_quantity"].to_numpy(float),
        preferred["extended_quantity"].to_numpy(float), revision_counts(graph, nodes, day))
    has_parent = _has_parent(graph, nodes, day)
    one = np.ones(len(parents), np.int64)
    return _ancestor_columns(parents, one, one, ~has_parent, low, high)


def revision_counts(graph: BomGraph, nodes: np.ndarray, day: int | None) -> np.ndarray:
    """How many revisions each of ``nodes`` is built by in ``graph`` on ``day`` (one on a date;
    every revision with a line when ``day`` is None)."""
    lines, source = gather(graph.ptr_parent, graph.by_parent, nodes)
    keep = graph.in_force(lines, day)
    ids = graph.revision_ids()
    width = _revision_width(graph)
    pairs = np.unique(source[keep] * width + ids[lines[keep]])
    return np.bincount(pairs // width, minlength=len(nodes)).astype(np.int64)


def _every_revision_count(graph: BomGraph) -> np.ndarray:
    """Per item number, how many revisions build it in ``graph`` (every revision with a line:
    :func:`revision_counts` without a date), counted once per graph: a question about a
    component used in thousands of assemblies gathered every line below each of them."""
    memo = vars(graph)
    counts: np.ndarray | None = memo.get("_every_revision_count")
    if counts is None:
        lines = np.flatnonzero(graph.listed)
        width = _revision_width(graph)
        pairs = np.unique(graph.parent[lines].astype(np.int64) * width
                          + graph.revision_ids()[lines])
        counts = np.bincount(pairs // width, minlength=len(graph.items)).astype(np.int64)
        memo["_every_revision_count"] = counts
    return counts


def _revision_width(graph: BomGraph) -> int:
    """One more than the largest revision number of the graph, worked out once per graph (a
    maximum over every line of a large plant took most of a where-used question)."""
    memo = vars(graph)
    width: int | None = memo.get("_revision_width")
    if width is None:
        width = int(graph.revision_ids().max(initial=0)) + 1
        memo["_revision_width"] = width
    return width


def _per_revision(node: np.ndarray, revision: np.ndarray, low: np.ndarray, high: np.ndarray,
                  revisions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least and most of each node's contributions over its revisions (``revision``: numbers):
    contributions are added up within one revision (``node``, ``revision``), never across; a
    node built by a revision that contributes nothing (``revisions`` counts them all) has 0 as
    its least."""
    n = len(revisions)
    out_low, out_high = np.zeros(n), np.zeros(n)
    if len(node) == 0:
        return out_low, out_high
    width = int(revision.max(initial=0)) + 1
    groups, group_of = np.unique(node * width + revision, return_inverse=True)
    sum_low = np.bincount(group_of, weights=low, minlength=len(groups))
    sum_high = np.bincount(group_of, weights=high, minlength=len(groups))
    group_node = groups // width
    least = np.full(n, np.inf)
    np.minimum.at(least, group_node, sum_low)
    np.maximum.at(out_high, group_node, sum_high)
    used = np.bincount(group_node, minlength=n)
    at = np.flatnonzero(used)
    out_low[at] = np.where(used[at] < revisions[at], 0.0, least[at])
    return out_low, out_high


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


def _extended_range(graph: BomGraph, nodes: np.ndarray, lines: np.ndarray, edges: np.ndarray,
                    level: np.ndarray, on_cycle: np.ndarray,
                    day: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Per node, the least and most extended quantity of the item (node 0) in one unit of it,
    over the choice of one revision per assembly (equal on a date, see module doc): sums over
    paths of the product of quantities, by increasing topological level."""
    n = len(nodes)
    low, high = np.zeros(n), np.zeros(n)
    low[0] = high[0] = 1.0
    usable = ~graph.alternate[lines] & ~on_cycle[edges[:, 0]] & ~on_cycle[edges[:, 1]]
    e, q = edges[usable], graph.quantity[lines][usable]
    parent_level = level[e[:, 1]]
    top = int(level.max(initial=0))
    revisions = None if day is not None else _every_revision_count(graph)[nodes]
    # one revision of each parent (in force on a date, or the only one every assembly above has
    # in the graph): a plain sum over paths, which is what the per-revision sums below give then
    if revisions is None or int(revisions.max(initial=0)) <= 1:
        for lv in range(1, top + 1):
            sel = parent_level == lv
            low += np.bincount(e[sel, 1], weights=low[e[sel, 0]] * q[sel], minlength=n)
        return low, low.copy()
    # :func:`_per_revision` level by level, its groups (parent, revision) made once: a parent's
    # lines all sit at the parent's level, so each level adds up its own groups
    rev = graph.revision_ids()[lines][usable]
    width = int(rev.max(initial=0)) + 1
    groups, group_of = np.unique(e[:, 1] * width + rev, return_inverse=True)
    group_node = groups // width
    group_level = level[group_node]
    # built by a revision that contributes nothing: 0 is its least
    short = np.bincount(group_node, minlength=n) < revisions
    for lv in range(1, top + 1):
        sel = parent_level == lv
        mine = np.flatnonzero(group_level == lv)
        if not len(mine):
            continue
        sum_low = np.bincount(group_of[sel], weights=low[e[sel, 0]] * q[sel],
                              minlength=len(groups))[mine]
        sum_high = np.bincount(group_of[sel], weights=high[e[sel, 0]] * q[sel],
                               minlength=len(groups))[mine]
        nodes_of = group_node[mine]
        least, most = np.full(n, np.inf), np.zeros(n)
        np.minimum.at(least, nodes_of, sum_low)
        np.maximum.at(most, nodes_of, sum_high)
        at = np.unique(nodes_of)
        low[at] = np.where(short[at], 0.0, least[at])
        high[at] = most[at]
    return low, high


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
           day: int | None, up: _ParentLines | None = None
           ) -> tuple[_ListedPaths, bool]:
    """Depth-first listing of paths to top-level items, at most ``limit``, never repeating an
    item within a path (a cycle ends the path). ``up``: each ancestor's usable parent lines
    (:func:`_parent_lines`); asked of the graph per step when not given. The walk keeps each
    path as its line numbers; the listed steps are made for all paths at once at the end
    (:func:`_listed_paths`: one numpy look-up per field, not one per step)."""
    codes = graph.items.codes
    found: list[tuple[list[int], float]] = []
    stack: list[tuple[int, list[int], list[int], float]] = [(start, [], [start], 1.0)]
    budget = 50 * max(limit, 1)  # expansions, so a filtered search cannot run away
    truncated = False
    while stack:
        budget -= 1
        if budget < 0:
            truncated = True
            break
        node, steps, on_path, ext = stack.pop()
        if up is not None:
            lines = up.get(node, [])
        else:
            usable = graph.usable(graph.parents_of(node), day)
            lines = list(zip(usable.tolist(), graph.parent[usable].tolist(),
                             graph.quantity[usable].tolist(), strict=True))
        if not lines and steps:
            if tops is None or str(codes[node]) in tops:
                if len(found) >= limit:
                    truncated = True
                    break
                found.append((steps, ext))
            continue
        for line, parent, qty in reversed(lines):
            if parent in on_path:
                continue
            stack.append((parent, [*steps, line], [*on_path, parent], ext * qty))
    return _listed_paths(graph, found), truncated


def _listed_paths(graph: BomGraph, found: list[tuple[list[int], float]]) -> _ListedPaths:
    """The paths (line numbers from the item up, extended quantity) with the fields of every
    line used, read from the graph's arrays once, as plain Python values: the steps
    (:meth:`_ListedPaths.dicts`) are made from them when the paths are first asked for."""
    if not found:
        return _ListedPaths([], {}, {})
    used = np.unique(np.fromiter((line for steps, _ in found for line in steps), np.int64))
    codes = graph.items.codes
    fields = zip(codes[graph.parent[used]].tolist(), codes[graph.component[used]].tolist(),
                 graph.revision[used].tolist(), graph.position[used].tolist(),
                 graph.quantity_per[used].astype(float).tolist(),
                 graph.scrap_pct[used].astype(float).tolist(),
                 graph.alternate[used].astype(bool).tolist(), strict=True)
    lines = used.tolist()
    return _ListedPaths(found, dict(zip(lines, fields, strict=True)),
                        dict(zip(lines, graph.quantity[used].astype(float).tolist(), strict=True)))


@dataclass(frozen=True)
class _ListedPaths:
    """The listed paths as found (each its line numbers from the item up and its extended
    quantity) and each used line's fields (parent, component, revision, position, quantity
    per, scrap, alternate) and quantity: plain Python values, pickled as they are."""

    found: list[tuple[list[int], float]]
    fields: dict[int, tuple[Any, ...]]
    quantity: dict[int, float]

    def dicts(self) -> list[dict[str, Any]]:
        """The paths as the answer lists them: each step's parent, component, revision,
        position, quantity per, scrap, alternate and the running extended quantity."""
        step_of = {line: {"parent": str(parent), "component": str(component),
                          "revision": str(revision), "position": int(position),
                          "quantity_per": per, "scrap_pct": scrap, "alternate": alternate}
                   for line, (parent, component, revision, position, per, scrap, alternate)
                   in self.fields.items()}
        out = []
        for steps, ext in self.found:
            running = 1.0
            listed = []
            for level, line in enumerate(steps, start=1):
                running *= self.quantity[line]
                listed.append({"level": level, **step_of[line], "extended_quantity": running})
            out.append({"top_level": listed[-1]["parent"], "extended_quantity": ext,
                        "steps": listed})
        return out
