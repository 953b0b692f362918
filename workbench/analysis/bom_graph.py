"""The BOM lines as integer arrays, and the BOM as a graph (adjacency both ways), built from the
rules of :mod:`workbench.analysis.bom` (effectivity windows, preferred alternates, scrap).

* :class:`CodedLines`: every BOM line of a load as numbers (parent, component, quantity with
  scrap, the (parent, revision) key), built once per load and shared by netting, what-ifs and
  the graph;
* :class:`ParentRows`: each parent's revision and line rows, so a what-if or an impact copies
  one parent's BOM without a pass over 2M lines;
* :class:`BomGraph`: a set of lines with child->parent and parent->child indexes (CSR), what
  where-used and the explosion walk (:mod:`workbench.analysis.where_used`).

The names are importable from :mod:`workbench.analysis.bom` too (where they were first).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workbench.analysis.bom import (
    OPEN_END,
    RELEASED,
    ItemIndex,
    _csr,
    _narrow,
    effective_windows,
    join_sorted,
    preferred_lines,
    revisions_at,
    scrap_factor,
)
from workbench.analysis.data import PlanningData, column_codes


@dataclass
class CodedLines:
    """The BOM lines of a :class:`PlanningData` as integer arrays, aligned with its rows.

    ``revision_key`` numbers (parent, revision) pairs as ``parent * n_revision_codes + code`` so
    lines join their revision's effectivity windows without hashing strings.
    """

    parent: np.ndarray
    component: np.ndarray
    quantity: np.ndarray  # per parent unit, scrap included
    revision: np.ndarray  # revision codes (object)
    revision_codes: pd.Index
    revision_key: np.ndarray
    preferred: np.ndarray  # bool: not a lower-ranked alternate

    @classmethod
    def of(cls, data: PlanningData, items: ItemIndex) -> CodedLines:
        """Computed once per (BOM lines, item numbering), see :meth:`PlanningData.derived`."""
        return data.derived(
            "coded_lines", (data.bom_lines, items), lambda: cls._build(data, items))

    @classmethod
    def _build(cls, data: PlanningData, items: ItemIndex) -> CodedLines:
        lines = data.bom_lines
        # the item numbering's own arrays when it has them (no copy: 30 MiB on the large
        # demo, issue 16 §3); nothing writes into either
        parent = items.idx_of("bom_lines", lines, "parent").astype(np.int64, copy=False)
        revision = lines["revision"].astype(str).to_numpy(object)
        rev_code, uniques = column_codes(data, "bom_lines", "revision")
        codes = pd.Index(np.asarray(uniques, dtype=object), dtype=object)
        return cls(
            parent=parent,
            component=items.idx_of("bom_lines", lines, "component").astype(np.int64,
                                                                            copy=False),
            quantity=lines["quantity_per"].to_numpy(float)
            * scrap_factor(lines["scrap_pct"].to_numpy(float)),
            revision=revision,
            revision_codes=codes,
            revision_key=parent * max(len(codes), 1) + rev_code,
            preferred=preferred_lines(lines).to_numpy(bool) if len(lines) else np.zeros(0, bool),
        )

    def keys_of(self, items: ItemIndex, parents: pd.Series, revisions: pd.Series) -> np.ndarray:
        """``revision_key`` of (parent, revision) pairs; -1 for a revision no line belongs to."""
        code = self.revision_codes.get_indexer(
            pd.Index(revisions.astype(str).to_numpy(object), dtype=object))
        key = items.idx(parents).astype(np.int64) * max(len(self.revision_codes), 1) + code
        return np.where(code >= 0, key, -1)


@dataclass
class ParentRows:
    """Row numbers of each parent's BOM revisions and lines (CSR by item number).

    A revision impact or what-if copies only one parent's rows; finding them by a string
    comparison or a groupby over the 2M lines cost a second, so the index is built once per load
    (see :func:`workbench.services.planning_data.prepare_planning_data`).
    """

    revision_order: np.ndarray
    revision_ptr: np.ndarray
    line_order: np.ndarray
    line_ptr: np.ndarray

    @classmethod
    def of(cls, data: PlanningData, items: ItemIndex) -> ParentRows:
        def build() -> ParentRows:
            revs = items.idx_of("bom_revisions", data.bom_revisions, "parent").astype(np.int64)
            lines = CodedLines.of(data, items).parent
            return cls(*_csr(np.maximum(revs, 0), len(items)), *_csr(lines, len(items)))

        return data.derived(
            "parent_rows", (data.bom_revisions, data.bom_lines, items), build)

    def revisions(self, item: int) -> np.ndarray:
        """Rows of ``item``'s revisions in frame order (none for -1, an unknown item)."""
        if item < 0:
            return np.zeros(0, np.int64)
        return self.revision_order[self.revision_ptr[item]:self.revision_ptr[item + 1]]

    def lines(self, item: int) -> np.ndarray:
        if item < 0:
            return np.zeros(0, np.int64)
        return self.line_order[self.line_ptr[item]:self.line_ptr[item + 1]]


@dataclass
class BomGraph:
    """A set of BOM lines as arrays with child->parent and parent->child adjacency (CSR).

    ``line_*`` arrays are aligned; ``by_child[ptr_child[c]:ptr_child[c+1]]`` are the lines where
    item ``c`` is the component, ``by_parent[...]`` likewise for a parent.
    """

    items: ItemIndex
    parent: np.ndarray
    component: np.ndarray
    quantity: np.ndarray  # quantity per parent unit with scrap (extended)
    quantity_per: np.ndarray
    scrap_pct: np.ndarray
    revision: np.ndarray
    position: np.ndarray
    alternate: np.ndarray  # bool: a lower-ranked alternate of its group
    #: effectivity window of the line's revision (day numbers, end exclusive; 0/0 = never in
    #: force) and whether the row is the line's first window (what an undated question sees)
    win_from: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    win_to: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    listed: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    by_child: np.ndarray = field(init=False)
    ptr_child: np.ndarray = field(init=False)
    by_parent: np.ndarray = field(init=False)
    ptr_parent: np.ndarray = field(init=False)
    _revision_ids: np.ndarray | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        n = len(self.items)
        if len(self.listed) != len(self.parent):
            self.win_from = np.full(len(self.parent), np.iinfo(np.int64).min // 4)
            self.win_to = np.full(len(self.parent), OPEN_END)
            self.listed = np.ones(len(self.parent), bool)
        # item numbers, positions and line numbers kept as int32 when they fit (they always
        # do below 2**31 items and lines): the large demo's graph of 1.6M lines holds 31 MiB
        # less (issue 16 §3); nothing multiplies them (where-used only indexes and compares)
        self.parent, self.component = _narrow(self.parent), _narrow(self.component)
        self.position = _narrow(self.position)
        by_child, self.ptr_child = _csr(self.component, n)
        by_parent, self.ptr_parent = _csr(self.parent, n)
        self.by_child, self.by_parent = _narrow(by_child), _narrow(by_parent)

    @classmethod
    def from_lines(cls, items: ItemIndex, lines: pd.DataFrame) -> BomGraph:
        alternate = ~preferred_lines(lines).to_numpy(bool) if len(lines) else np.zeros(0, bool)
        return cls(
            items=items,
            parent=items.idx(lines["parent"]),
            component=items.idx(lines["component"]),
            quantity=lines["quantity_per"].to_numpy(float) * scrap_factor(lines["scrap_pct"].to_numpy(float)),
            quantity_per=lines["quantity_per"].to_numpy(float),
            scrap_pct=lines["scrap_pct"].to_numpy(float),
            revision=lines["revision"].to_numpy(object),
            position=lines["position"].to_numpy(np.int64),
            alternate=alternate,
            **({"win_from": lines["win_from"].to_numpy(np.int64),
                "win_to": lines["win_to"].to_numpy(np.int64),
                "listed": lines["listed"].to_numpy(bool)} if "listed" in lines else {}),
        )

    @classmethod
    def build(cls, data: PlanningData, *, as_of: int | None = None,
              statuses: Iterable[str] = RELEASED, items: ItemIndex | None = None) -> BomGraph:
        """The lines of the revisions in force on day ``as_of``; with ``as_of`` None, the lines of
        every allowed revision, each with its effectivity windows, so one graph answers questions
        for any date (see :meth:`usable`)."""
        items = items or ItemIndex.build(data)
        if as_of is not None:
            revs = revisions_at(data.bom_revisions, as_of, statuses)
            return cls.from_lines(items, data.bom_lines.merge(revs, on=["parent", "revision"]))
        # Lines of every allowed revision, once per effectivity window of their revision (a
        # line whose revision never governs keeps one row, window 0/0), in line order: joined
        # on the coded (parent, revision) numbers, without merging 2M rows on strings.
        coded = CodedLines.of(data, items)
        revs = data.bom_revisions[data.bom_revisions["status"].isin(set(statuses))]
        allowed = coded.keys_of(items, revs["parent"], revs["revision"])
        line = np.flatnonzero(np.isin(coded.revision_key, allowed[allowed >= 0]))
        windows = effective_windows(data.bom_revisions, statuses)
        rows, win = join_sorted(coded.revision_key[line],
                                coded.keys_of(items, windows["parent"], windows["revision"]))
        windowed = np.zeros(len(line), bool)
        windowed[rows] = True
        alone = np.flatnonzero(~windowed)  # lines whose revision never governs
        order = np.argsort(np.concatenate([rows, alone]), kind="stable")
        rows = np.concatenate([rows, alone])[order]
        win_from = np.concatenate([windows["win_from"].to_numpy(np.int64)[win],
                                   np.zeros(len(alone), np.int64)])[order]
        win_to = np.concatenate([windows["win_to"].to_numpy(np.int64)[win],
                                 np.zeros(len(alone), np.int64)])[order]
        line = line[rows]
        # the temporaries go before the graph's arrays are made, each narrowed as it is taken
        # (the large demo's graph peaked ~125 MiB above what it keeps, issue 16 §3)
        del rows, win, windowed, alone, order, allowed, windows
        position = _narrow(data.bom_lines["position"].to_numpy(np.int64)[line])
        listed = _first_of_pairs(coded.revision_key[line], position)
        lines = data.bom_lines
        return cls(
            items=items, parent=_narrow(coded.parent[line]),
            component=_narrow(coded.component[line]), quantity=coded.quantity[line],
            quantity_per=lines["quantity_per"].to_numpy(float)[line],
            scrap_pct=lines["scrap_pct"].to_numpy(float)[line],
            revision=coded.revision[line], position=position,
            alternate=~coded.preferred[line], win_from=win_from, win_to=win_to,
            listed=listed)

    def usable(self, lines: np.ndarray, day: int | None) -> np.ndarray:
        """The lines among ``lines`` in force on ``day`` (each line once when ``day`` is None)."""
        return lines[self.in_force(lines, day)]

    def in_force(self, lines: np.ndarray, day: int | None) -> np.ndarray:
        """Mask of :meth:`usable` over ``lines``."""
        if day is None:
            return self.listed[lines]
        return (self.win_from[lines] <= day) & (day < self.win_to[lines])

    def parents_of(self, item: int) -> np.ndarray:
        return self.by_child[self.ptr_child[item]:self.ptr_child[item + 1]]

    def revision_ids(self) -> np.ndarray:
        """Each line's revision code as a number (numbered once per graph), to tell the
        revisions of one parent apart without comparing strings."""
        if self._revision_ids is None:
            self._revision_ids = pd.factorize(self.revision)[0].astype(np.int64)
        return self._revision_ids

    def children_of(self, item: int) -> np.ndarray:
        return self.by_parent[self.ptr_parent[item]:self.ptr_parent[item + 1]]


def _first_of_pairs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mask of the rows whose pair (``a``, ``b``) of integers appears for the first time (as
    ``~DataFrame({"a": a, "b": b}).duplicated()``): one int64 key per row and one stable sort
    instead of pandas' hash table on two columns (128 MiB more at the peak of the large demo's
    where-used graph, issue 16 §3). Falls back to pandas when the pair does not fit an int64."""
    out = np.zeros(len(a), bool)
    if not len(a):
        return out
    a_low, a_high, b_low, b_high = int(a.min()), int(a.max()), int(b.min()), int(b.max())
    span = b_high - b_low + 1
    if (a_high - a_low + 1) * span >= 2**62:
        return ~pd.DataFrame({"a": a, "b": b}).duplicated().to_numpy(bool)
    key = a.astype(np.int64)  # a copy, then worked in place: one array of keys at a time
    key -= a_low
    key *= span
    key += b
    key -= b_low
    order = np.argsort(key, kind="stable")  # equal keys keep their row order
    key = key[order]
    new = np.empty(len(key), bool)
    new[0] = True
    np.not_equal(key[1:], key[:-1], out=new[1:])
    out[order[new]] = True
    return out
