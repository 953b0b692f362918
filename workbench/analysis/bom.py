"""The BOM as arrays: item numbering, revision effectivity, line graph, low-level codes, cycles.

Rules stated here once and used by where-used, revision impact and netting alike:

* **Scrap**: a line's extended quantity is ``quantity_per × (1 + scrap_pct / 100)`` — component
  scrap adds to what must be issued per parent unit.
* **Effectivity**: a revision is effective from ``effective_from`` through ``effective_to``, both
  days included; an empty date is open-ended. When several revisions of one parent qualify on a
  day, the one with the latest ``effective_from`` wins (then the highest revision code), so a new
  revision released "from March 1st" replaces the old one on that day even if the old one's end
  date was left open or overlaps.
* **Alternates**: lines sharing a non-empty ``alternate_group`` within one revision are
  substitutes; planning explodes only the preferred one (lowest ``alternate_priority``, then
  position); where-used shows all of them and marks the alternates.
* **Low-level code**: the deepest level an item occurs at in any planned BOM (0 = never a
  component); netting processes items level by level so a component is netted only after every
  parent that may need it.

The lines as integer arrays and the BOM as a graph built on these rules (:class:`CodedLines`,
:class:`ParentRows`, :class:`BomGraph`) are in :mod:`workbench.analysis.bom_graph`, importable
from here too.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench.analysis.data import (
    CODE_COLUMNS,
    NO_DATE,
    CodeLookup,
    PlanningData,
    column_codes,
    combine_codes,
    day_numbers,
)
from workbench.analysis.ranges import concat_ranges
from workbench.domain.enums import BomStatus

#: Day number standing for "no end date" (far after any real date).
OPEN_END = np.iinfo(np.int64).max // 4

#: Revision statuses planning uses unless told otherwise.
RELEASED: frozenset[str] = frozenset({BomStatus.RELEASED.value})


def scrap_factor(scrap_pct: np.ndarray | float) -> np.ndarray | float:
    """Multiplier for a line's quantity per parent unit: component scrap on top (see module doc)."""
    return 1.0 + np.asarray(scrap_pct, dtype=float) / 100.0


@dataclass
class ItemIndex:
    """Dense numbering of every item code the data mentions, with the item master as arrays."""

    codes: np.ndarray
    index: pd.Index
    lead_time_days: np.ndarray
    safety_stock: np.ndarray
    min_order_qty: np.ndarray
    order_multiple: np.ndarray
    standard_cost: np.ndarray
    make: np.ndarray  # bool: made in-house (has or should have a BOM)
    default_supplier: np.ndarray
    #: numbers already computed for (entity, column), with the frame they belong to
    known: dict[tuple[str, str], tuple[pd.DataFrame, np.ndarray]] = field(
        default_factory=dict, repr=False, compare=False)
    lookup: CodeLookup | None = field(default=None, repr=False, compare=False)

    @classmethod
    def build(cls, data: PlanningData) -> ItemIndex:
        """The numbering of ``data`` (computed once per set of frames, see
        :meth:`PlanningData.derived`)."""
        frames = (data.items, data.bom_lines, data.bom_revisions, data.inventory, data.demands,
                  data.work_orders, data.work_order_components, data.purchase_order_lines,
                  data.requisitions)
        return data.derived("item_index", frames, lambda: cls._build(data))

    @classmethod
    def _build(cls, data: PlanningData) -> ItemIndex:
        items = data.items.drop_duplicates("code")
        # Order of first mention is kept (items first). One numbering of every mentioned code,
        # from each column's own numbering (a bulk load brings it, see column_codes); the BOM
        # columns keep their numbers (the 2M lines are not hashed again, see :meth:`idx_of`).
        mentioned = [pair for pair in CODE_COLUMNS if pair != ("bom_lines", "revision")]
        ids, codes = combine_codes([column_codes(data, e, c) for e, c in mentioned])
        # kept as int32 when they fit (always below 2**31 items): 16 MiB less for the large
        # demo's 2M BOM lines (issue 16 §3); readers cast to int64 before multiplying
        known = {pair: (getattr(data, pair[0]), _narrow(ids[k]))
                 for k, pair in enumerate(mentioned) if pair[0] in ("bom_lines", "bom_revisions")}
        lookup = CodeLookup(codes)
        index = lookup.index
        master = items.set_index("code").reindex(index)
        return cls(
            known=known,
            lookup=lookup,
            codes=np.asarray(codes, dtype=object),
            index=index,
            lead_time_days=master["lead_time_days"].fillna(0).to_numpy(np.int64),
            safety_stock=master["safety_stock"].fillna(0.0).to_numpy(float),
            min_order_qty=master["min_order_qty"].fillna(0.0).to_numpy(float),
            order_multiple=master["order_multiple"].fillna(0.0).to_numpy(float),
            standard_cost=master["standard_cost"].fillna(0.0).to_numpy(float),
            make=(master["make_buy"].fillna("buy") == "make").to_numpy(bool),
            default_supplier=master["default_supplier"].fillna("").to_numpy(object),
        )

    def __len__(self) -> int:
        return len(self.codes)

    def idx_of(self, entity: str, frame: pd.DataFrame, column: str) -> np.ndarray:
        """:meth:`idx` of ``frame[column]``, reusing the numbers of the build when ``frame`` is
        the very frame the numbering was built from."""
        hit = self.known.get((entity, column))
        if hit is not None and hit[0] is frame:
            return hit[1]
        return self.idx(frame[column])

    def idx(self, codes: Iterable[str] | pd.Series) -> np.ndarray:
        """Item numbers of codes (-1 for a code the data never mentions)."""
        if self.lookup is None:
            self.lookup = CodeLookup(self.codes)
        if isinstance(codes, pd.Series):
            return self.lookup(codes.astype(str).to_numpy(object))
        values = np.asarray(list(codes), dtype=object)
        return self.lookup.index.get_indexer(pd.Index(values, dtype=object))


#: up to this many revisions, :func:`effective_windows` applies its rule in plain Python: a
#: what-if or an impact asks it for one item's few revisions, where pandas' merge and groupby
#: cost milliseconds each (tests/analysis/test_effective_windows_small.py: same answer)
SMALL_WINDOWS = 32


def effective_windows(revisions: pd.DataFrame, statuses: Iterable[str] = RELEASED, *,
                      small: int = SMALL_WINDOWS) -> pd.DataFrame:
    """When each revision governs its parent: ``parent, revision, win_from, win_to`` (day numbers,
    ``win_to`` exclusive), applying the latest-``effective_from``-wins rule of the module doc.

    A revision may get several windows (an old revision resumes after a short-lived newer one
    ends) or none (fully overridden).
    """
    revs = revisions[revisions["status"].isin(set(statuses))]
    cols = ["parent", "revision", "win_from", "win_to"]
    if revs.empty:
        return pd.DataFrame({c: pd.Series(dtype=object if c in cols[:2] else np.int64) for c in cols})
    start = day_numbers(revs["effective_from"])
    end = day_numbers(revs["effective_to"])
    end = np.where(end == NO_DATE, OPEN_END, end + 1)
    frame = pd.DataFrame(
        {"parent": revs["parent"].to_numpy(), "revision": revs["revision"].to_numpy(),
         "win_from": start, "win_to": end}
    )
    if len(frame) <= small:
        return _small_windows(frame, cols)
    counts = frame["parent"].map(frame["parent"].value_counts())
    single = frame[counts == 1]
    multi = frame[counts > 1]
    if multi.empty:
        return single[cols].reset_index(drop=True)
    # elementary segments between every start/end of a parent's revisions
    points = pd.concat([multi[["parent", "win_from"]].rename(columns={"win_from": "lo"}),
                        multi[["parent", "win_to"]].rename(columns={"win_to": "lo"})])
    points = points.drop_duplicates().sort_values(["parent", "lo"], kind="stable")
    points["hi"] = points.groupby("parent", sort=False)["lo"].shift(-1)
    segs = points.dropna(subset=["hi"])
    cand = segs.merge(multi, on="parent")
    cand = cand[(cand["win_from"] <= cand["lo"]) & (cand["hi"] <= cand["win_to"])]
    # latest start wins, then the highest revision code
    cand = cand.sort_values(["parent", "lo", "win_from", "revision"],
                            ascending=[True, True, False, False], kind="stable")
    cand = cand.drop_duplicates(["parent", "lo"])
    # join neighbouring segments of the same revision back into one window
    prev_parent = cand["parent"].shift()
    new = ((cand["parent"] != prev_parent) | (cand["revision"] != cand["revision"].shift())
           | (cand["lo"] != cand["hi"].shift()))
    cand = cand.assign(group=new.cumsum())
    merged = cand.groupby("group", sort=False).agg(
        parent=("parent", "first"), revision=("revision", "first"),
        win_from=("lo", "min"), win_to=("hi", "max"))
    out = pd.concat([single[cols], merged[cols]], ignore_index=True)
    out["win_from"] = out["win_from"].astype(np.int64)
    out["win_to"] = out["win_to"].astype(np.int64)
    return out


def _small_windows(frame: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    """:func:`effective_windows`' rule for a few revisions, row by row: a parent's lone revision
    keeps its window; for a parent with several, between each two consecutive start/end points
    the revision with the latest start (then the highest code) governs, and neighbouring pieces
    of the same revision join into one window. Rows as the frame-wide version orders them."""
    parent, revision = frame["parent"].tolist(), frame["revision"].tolist()
    lo, hi = frame["win_from"].tolist(), frame["win_to"].tolist()
    rows_of: dict[object, list[int]] = {}
    for i, p in enumerate(parent):
        rows_of.setdefault(p, []).append(i)
    out: list[list[object]] = [[parent[i], revision[i], lo[i], hi[i]]
                               for i in range(len(parent)) if len(rows_of[parent[i]]) == 1]
    for p in sorted((k for k, rows in rows_of.items() if len(rows) > 1), key=str):
        rows = rows_of[p]
        points = sorted({x for i in rows for x in (lo[i], hi[i])})
        current: list[object] | None = None
        for a, b in itertools.pairwise(points):
            governing = [i for i in rows if lo[i] <= a and b <= hi[i]]
            if not governing:
                continue
            best = max(governing, key=lambda i: (lo[i], revision[i]))
            if current is not None and current[1] == revision[best] and current[3] == a:
                current[3] = b
                continue
            current = [p, revision[best], a, b]
            out.append(current)  # grown in place while its revision governs
    return pd.DataFrame({
        "parent": pd.Series([r[0] for r in out], dtype=frame["parent"].dtype),
        "revision": pd.Series([r[1] for r in out], dtype=frame["revision"].dtype),
        "win_from": np.array([r[2] for r in out], dtype=np.int64),
        "win_to": np.array([r[3] for r in out], dtype=np.int64)}, columns=cols)


def revisions_at(revisions: pd.DataFrame, day: int | None,
                 statuses: Iterable[str] = RELEASED) -> pd.DataFrame:
    """``parent, revision`` pairs in force on ``day`` (every allowed revision when ``day`` is None)."""
    if day is None:
        revs = revisions[revisions["status"].isin(set(statuses))]
        return revs[["parent", "revision"]].drop_duplicates().reset_index(drop=True)
    win = effective_windows(revisions, statuses)
    now = win[(win["win_from"] <= day) & (day < win["win_to"])]
    return now[["parent", "revision"]].reset_index(drop=True)


def preferred_lines(lines: pd.DataFrame) -> pd.Series:
    """Boolean mask: the line is not a lower-ranked alternate (see module doc)."""
    if lines.empty:
        return pd.Series(dtype=bool)
    grouped = lines["alternate_group"] != ""
    if not grouped.any():  # no alternates (one parent's BOM in a what-if, often): all preferred
        return ~grouped
    keys = ["parent", "revision", "alternate_group"]
    alt = lines[grouped]
    best = alt["alternate_priority"] == alt.groupby(keys)["alternate_priority"].transform("min")
    first_pos = alt[best].groupby(keys)["position"].transform("min")
    mask = ~grouped
    mask.loc[first_pos.index] = alt.loc[first_pos.index, "position"] == first_pos
    return mask


def join_sorted(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inner join of two integer key arrays: (left rows, right rows), in left order and, within
    one left row, in right order (as ``DataFrame.merge(how="inner")``)."""
    order = np.argsort(right, kind="stable")
    ordered = right[order]
    lo = np.searchsorted(ordered, left, "left")
    count = np.searchsorted(ordered, left, "right") - lo
    left_rows = np.repeat(np.arange(len(left)), count)
    right_rows = order[concat_ranges(lo, count)]
    return left_rows, right_rows


def _narrow(values: np.ndarray) -> np.ndarray:
    """Integers as int32 when every value fits (else as they are)."""
    values = np.asarray(values)
    if values.dtype.kind not in "iu" or values.dtype.itemsize <= 4:
        return values
    low, high = np.iinfo(np.int32).min, np.iinfo(np.int32).max
    if len(values) and (int(values.min()) < low or int(values.max()) > high):
        return values
    return values.astype(np.int32)


def _csr(keys: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(keys, kind="stable")
    counts = np.bincount(keys, minlength=n) if len(keys) else np.zeros(n, np.int64)
    ptr = np.zeros(n + 1, np.int64)
    np.cumsum(counts, out=ptr[1:])
    return order, ptr


def gather(ptr: np.ndarray, order: np.ndarray, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All CSR entries of ``nodes``: (entry ids, the position in ``nodes`` each came from)."""
    starts = ptr[nodes]
    counts = ptr[nodes + 1] - starts
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    source = np.repeat(np.arange(len(nodes)), counts)
    return order[concat_ranges(starts, counts)], source


@dataclass
class Levels:
    """Low-level codes, and the cycles that had to be cut to compute them."""

    code: np.ndarray  # low-level code per item
    cycles: list[list[str]]
    cut_edges: set[tuple[int, int]]


def low_level_codes(n_items: int, parent: np.ndarray, component: np.ndarray,
                    codes: np.ndarray) -> Levels:
    """Longest-path depth of every item from the top (Kahn's algorithm level by level).

    Items on a cycle would never reach in-degree zero: such cycles are found, reported with their
    items, and cut (the edge closing each cycle is dropped) so the rest still gets a level.
    """
    if len(parent):
        code = np.sort(parent.astype(np.int64) * n_items + component)  # sorted unique: the
        code = code[np.concatenate([[True], code[1:] != code[:-1]])]  # hash np.unique is slow
        edges = np.stack([code // n_items, code % n_items], axis=1)
    else:
        edges = np.zeros((0, 2), np.int64)
    cycles: list[list[str]] = []
    cut: set[tuple[int, int]] = set()
    while True:
        level, remaining = _kahn(n_items, edges)
        if not remaining.any():
            return Levels(level, cycles, cut)
        found = find_cycles(edges, remaining)
        for cycle in found:
            cycles.append([str(codes[i]) for i in cycle])
            cut.add((cycle[-1], cycle[0]))
        for a, b in cut:
            edges = edges[~((edges[:, 0] == a) & (edges[:, 1] == b))]


def _kahn(n: int, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    level = np.zeros(n, np.int64)
    if len(edges) == 0:
        return level, np.zeros(n, bool)
    indeg = np.bincount(edges[:, 1], minlength=n)
    order = np.argsort(edges[:, 0], kind="stable")
    ptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(edges[:, 0], minlength=n), out=ptr[1:])
    frontier = np.flatnonzero(indeg == 0)
    done = np.zeros(n, bool)
    depth = 0
    while len(frontier):
        level[frontier] = depth
        done[frontier] = True
        out, _ = gather(ptr, order, frontier)
        children = edges[out, 1]
        hits = np.bincount(children, minlength=n)
        indeg -= hits
        touched = np.flatnonzero(hits)  # sorted unique children, without hashing
        frontier = touched[indeg[touched] == 0]
        depth += 1
    return level, ~done


def find_cycles(edges: np.ndarray, remaining: np.ndarray) -> list[list[int]]:
    """Cycles among the ``remaining`` items (those Kahn could not place), each as item numbers.

    Items merely below a cycle are trimmed first, so the search only walks the cyclic core. One
    cycle is reported per back edge of a depth-first walk; cutting every reported cycle's closing
    edge leaves the graph acyclic.
    """
    inside = remaining[edges[:, 0]] & remaining[edges[:, 1]]
    core = edges[inside]
    alive = remaining.copy()
    while True:  # drop items with no child left in the core: they are below a cycle, not on one
        live = core[alive[core[:, 0]] & alive[core[:, 1]]]
        has_child = np.zeros(len(alive), bool)
        has_child[live[:, 0]] = True
        trimmed = alive & has_child
        if (trimmed == alive).all():
            break
        alive = trimmed
    live = core[alive[core[:, 0]] & alive[core[:, 1]]]
    children: dict[int, list[int]] = {}
    for a, b in live.tolist():
        children.setdefault(a, []).append(b)
    cycles: list[list[int]] = []
    state: dict[int, int] = {}  # 1 on stack, 2 finished
    for root in sorted(children):
        if root in state:
            continue
        stack: list[tuple[int, int]] = [(root, 0)]
        path: list[int] = [root]
        state[root] = 1
        while stack:
            node, i = stack[-1]
            kids = children.get(node, [])
            if i < len(kids):
                stack[-1] = (node, i + 1)
                kid = kids[i]
                if state.get(kid) == 1:
                    cycles.append(path[path.index(kid):])
                elif kid not in state:
                    state[kid] = 1
                    stack.append((kid, 0))
                    path.append(kid)
            else:
                state[node] = 2
                stack.pop()
                path.pop()
    return cycles


# --- names that moved to workbench.analysis.bom_graph, importable from here as before ---------

_MOVED = ("BomGraph", "CodedLines", "ParentRows", "_first_of_pairs")

if TYPE_CHECKING:
    from workbench.analysis.bom_graph import BomGraph as BomGraph
    from workbench.analysis.bom_graph import CodedLines as CodedLines
    from workbench.analysis.bom_graph import ParentRows as ParentRows
    from workbench.analysis.bom_graph import _first_of_pairs as _first_of_pairs


def __getattr__(name: str) -> Any:
    """The graph and the coded lines live in :mod:`workbench.analysis.bom_graph` (which builds on
    this module's rules, so it is imported on first use of a moved name, not at import)."""
    if name in _MOVED:
        from workbench.analysis import bom_graph

        return getattr(bom_graph, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
