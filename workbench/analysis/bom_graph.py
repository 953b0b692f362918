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
from typing import cast

import numpy as np
import pandas as pd

from workbench.analysis.bom import (
    OPEN_END,
    RELEASED,
    ItemIndex,
    _csr,
    _narrow,
    effective_windows,
    preferred_lines,
    revisions_at,
    scrap_factor,
)
from workbench.analysis.data import PlanningData, column_codes
from workbench.analysis.gathered import Extended, Gathered, PairKey
from workbench.analysis.ranges import concat_ranges


@dataclass
class CodedLines:
    """The BOM lines of a :class:`PlanningData` as integer arrays, aligned with its rows.

    ``revision_key`` numbers (parent, revision) pairs as ``parent * n_revision_codes + code`` so
    lines join their revision's effectivity windows without hashing strings.
    """

    parent: np.ndarray
    component: np.ndarray
    quantity: np.ndarray  # per parent unit, scrap included
    #: revision codes (object values): the distinct codes gathered by ``revision_code``, not an
    #: array of 2M pointers of its own (15 MiB on the large demo, issue 16 §3)
    revision: np.ndarray
    revision_codes: pd.Index
    revision_key: np.ndarray  # parent * len(revision_codes) + revision code
    preferred: np.ndarray  # bool: not a lower-ranked alternate
    #: each line's revision as its position in ``revision_codes``
    revision_code: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    #: bool: the line's (revision, position) pair appears here for the first time (the
    #: where-used graph lists such lines, see :meth:`BomGraph.build`)
    first_position: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))

    @classmethod
    def of(cls, data: PlanningData, items: ItemIndex) -> CodedLines:
        """Computed once per (BOM lines, item numbering), see :meth:`PlanningData.derived`."""
        return data.derived(
            "coded_lines", (data.bom_lines, items), lambda: cls._build(data, items))

    @classmethod
    def _build(cls, data: PlanningData, items: ItemIndex) -> CodedLines:
        lines = data.bom_lines
        # the item numbering's own arrays when it has them (no copy: 30 MiB on the large
        # demo, issue 16 §3; int32 when the numbering narrowed them); nothing writes into either
        parent = _narrow(items.idx_of("bom_lines", lines, "parent"))
        rev_code, uniques = column_codes(data, "bom_lines", "revision")
        distinct = np.asarray(uniques, dtype=object)
        codes = pd.Index(distinct, dtype=object)
        key = parent.astype(np.int64)
        key *= max(len(codes), 1)
        key += rev_code
        key = _narrow(key)
        return cls(
            parent=parent,
            component=_narrow(items.idx_of("bom_lines", lines, "component")),
            # worked out for the lines read (the frame's columns, no array of its own)
            quantity=cast(np.ndarray, Extended(lines["quantity_per"].to_numpy(float),
                                               lines["scrap_pct"].to_numpy(float))),
            revision=cast(np.ndarray, Gathered(distinct, rev_code)),
            revision_codes=codes,
            # worked out for the lines read (parent and revision numbers are kept anyway)
            revision_key=cast(np.ndarray, PairKey(parent, rev_code, max(len(codes), 1))),
            preferred=preferred_lines(lines).to_numpy(bool) if len(lines) else np.zeros(0, bool),
            revision_code=rev_code,
            first_position=_first_of_pairs(key, lines["position"].to_numpy(np.int64)),
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
            line_order, line_ptr = _csr(lines, len(items))
            # line rows as int32 when they fit (8 MiB less on the large demo, issue 16 §3)
            return cls(*_csr(np.maximum(revs, 0), len(items)), _narrow(line_order), line_ptr)

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
    #: each line's revision as a number of the coded lines' revision codes (None: not built
    #: from coded lines), so :meth:`revision_ids` hashes integers, not strings
    revision_code: np.ndarray | None = field(default=None, repr=False, compare=False)
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
        self.by_child, self.ptr_child = _csr_narrow(self.component, n)
        self.by_parent, self.ptr_parent = _csr_narrow(self.parent, n)

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
        windows = effective_windows(data.bom_revisions, statuses)
        # each row's window: a row of the windows' table, or its last row (0/0) for a line
        # whose revision never governs
        line, window = _line_windows(coded.revision_key, allowed[allowed >= 0], coded.keys_of(
            items, windows["parent"], windows["revision"]))
        win_from = np.append(windows["win_from"].to_numpy(np.int64), 0)
        win_to = np.append(windows["win_to"].to_numpy(np.int64), 0)
        del allowed, windows, revs
        lines = data.bom_lines
        # a line's first row, if its (revision, position) pair is the first in the lines (every
        # line with that pair is in the graph: the pair names the revision): as the pairs'
        # duplicated() over the graph's rows, without sorting them here
        listed = np.empty(len(line), bool)
        listed[:1] = True
        np.not_equal(line[1:], line[:-1], out=listed[1:])
        listed &= coded.first_position[line]
        # the line columns are the BOM frame's and the coded lines' own arrays read through the
        # graph's line numbers (analysis.gathered): 1.6M rows of quantities, scrap, revision
        # and window ends copied took ~70 MiB on the large demo (issue 16 §3); the arrays it
        # keeps are taken int32 a slice at a time (no int64 copy of 1.6M rows under the peak)
        return cls(
            items=items, parent=_take(coded.parent, line),
            component=_take(coded.component, line),
            quantity=_view(coded.quantity, line),
            quantity_per=_view(lines["quantity_per"].to_numpy(float), line),
            scrap_pct=_view(lines["scrap_pct"].to_numpy(float), line),
            revision=_view(coded.revision, line),
            position=_take(lines["position"].to_numpy(np.int64), line),
            alternate=~coded.preferred[line], win_from=_view(win_from, window),
            win_to=_view(win_to, window), listed=listed,
            revision_code=_view(coded.revision_code, line))

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
            # numbered in order of first appearance either way: codes stand for their strings
            values = np.asarray(self.revision if self.revision_code is None
                                else self.revision_code)
            self._revision_ids = pd.factorize(values)[0].astype(np.int64)
        return self._revision_ids

    def children_of(self, item: int) -> np.ndarray:
        return self.by_parent[self.ptr_parent[item]:self.ptr_parent[item + 1]]


#: lines worked at a time by the graph's build (its temporaries stay this small)
_CHUNK = 1 << 12


def _line_windows(key: np.ndarray, allowed: np.ndarray, w_key: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(line, window) rows, int32: every line whose revision ``key`` is ``allowed``, once per
    window whose ``w_key`` is its key (in the windows' order), or once with window
    ``len(w_key)`` when there is none; in line order. The join of the lines with the windows
    (:func:`join_sorted`), worked :data:`_CHUNK` lines at a time so that its int64 temporaries
    never span the 2M lines (the where-used graph's build peak, issue 16 §3)."""
    order = np.argsort(w_key, kind="stable")
    ordered = w_key[order]
    order = np.append(order, len(w_key))  # where a line without a window looks
    line_parts: list[np.ndarray] = []
    window_parts: list[np.ndarray] = []
    for a in range(0, len(key), _CHUNK):
        k = key[a:a + _CHUNK]
        ln = np.flatnonzero(np.isin(k, allowed))
        k = k[ln]
        lo = np.searchsorted(ordered, k, "left")
        count = np.searchsorted(ordered, k, "right") - lo
        none = count == 0
        count[none], lo[none] = 1, len(ordered)
        line_parts.append(_narrow(np.repeat(ln + a, count)))
        window_parts.append(_narrow(order[concat_ranges(lo, count)]))
    line = _concatenated(line_parts)
    return line, _concatenated(window_parts)


def _concatenated(parts: list[np.ndarray]) -> np.ndarray:
    """The parts end to end (int32 when all are); the list is emptied as they are copied."""
    out = np.concatenate(parts) if parts else np.zeros(0, np.int32)
    parts.clear()
    return out


def _csr_narrow(keys: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`workbench.analysis.bom._csr` (rows in order of key, stable; pointers) with the
    rows as int32 when they fit, sorted a slice of :data:`_CHUNK` rows at a time into their
    place (a counting sort): no int64 argsort of every row and its work space under the
    graph's peak (issue 16 §3)."""
    if len(keys) >= 2**31:
        order, ptr = _csr(keys, n)
        return order, ptr
    keys = np.asarray(keys)
    ptr = np.zeros(n + 1, np.int64)
    if len(keys):
        np.cumsum(np.bincount(keys, minlength=n), out=ptr[1:])
    out = np.empty(len(keys), np.int32)
    fill = ptr[:-1].copy()  # the next free place of each key
    for a in range(0, len(keys), _CHUNK):
        k = keys[a:a + _CHUNK]
        o = np.argsort(k, kind="stable")
        ks = k[o]
        first = np.flatnonzero(np.concatenate([[True], ks[1:] != ks[:-1]]))
        runs = np.diff(np.append(first, len(ks)))
        rank = np.arange(len(ks)) - np.repeat(first, runs)
        out[fill[ks] + rank] = o + a
        fill[ks[first]] += runs
    return out, ptr


def _take(base: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``base[rows]`` as int32 (when every value fits, else as ``base``), taken a slice of
    :data:`_CHUNK` rows at a time: no int64 copy of every row on the way."""
    small = not len(base) or (int(base.min()) >= np.iinfo(np.int32).min
                              and int(base.max()) <= np.iinfo(np.int32).max)
    out = np.empty(len(rows), np.int32 if small else base.dtype)
    for a in range(0, len(rows), _CHUNK):
        out[a:a + _CHUNK] = base[rows[a:a + _CHUNK]]
    return out


def _view(base: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``base[rows]`` as a :class:`Gathered` column, typed as the array it reads like."""
    return cast(np.ndarray, Gathered(base, rows))


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
