"""Multi-level MRP netting over every item and site at once, level by level, as arrays.

For one item at one site and bucket ``t`` (the MRP record a planner knows)::

    available(t)  = projected(t-1) + scheduled_receipts(t) - gross_requirements(t)
    net(t)        = max(0, safety_stock - available(t))
    planned(t)    = lot_size(net(t))            if net(t) > 0, else 0
    projected(t)  = available(t) + planned(t)
    projected(-1) = on hand (available stock only, see :mod:`workbench.analysis.sources`)

``lot_size`` is lot-for-lot unless the item states a minimum order quantity (raise to it) and/or
an order multiple (round up to it); it applies to the bucket's combined net requirement, never
per demand row. A planned receipt due at bucket ``t`` (its start date) is released ``lead time``
earlier: in bucket ``t - ceil(lead_time_days / bucket_days)``; a release that falls before the
first bucket is *past due* and is placed in bucket 0 (it is reported, it cannot be met in time).

Dependent demand: a parent's planned order releases its components' requirements in the release
bucket, quantity × quantity per × scrap factor, through the BOM revision effective on the order's
start date (due date − lead time, not before today). Items are processed by low-level code so an
item is netted once every parent's planned orders are known. Rows exist for every (item, site)
with stock, receipts or requirements; a component's requirement stays at its parent's site.

**Where safety stock applies.** An item's safety stock (an item-level value; the canonical model
has no per-site value yet) applies at every site where the item is *planned*, from bucket 0:
where it is stocked, demanded, made, needed by an open work order or on order
(:func:`~workbench.analysis.sources.planned_item_sites`; quantities and dates do not matter,
a zero stock row or a demand beyond the horizon counts), and at every site where an item
planned there uses it through a BOM line in force in the horizon (preferred alternates, through
every level, whether or not the parent has planned orders). Each such (item, site) with a safety
stock gets a row. The set depends on which records exist, never on their quantities or dates, so
the plan is continuous in its inputs: one more unit of a parent's demand 17 weeks out moves a
component's plan by at most what that unit needs, never by the whole safety stock (before, a
component reached only through a BOM got no safety stock until some planned order of a parent
exploded into it, and then all of it at once).

The first shortage of a row is the first bucket whose net requirement is positive: firm supply
(stock and scheduled receipts) no longer keeps it at safety stock.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd
from scipy import sparse

from workbench.analysis.bom import (
    RELEASED,
    CodedLines,
    ItemIndex,
    effective_windows,
    gather,
    join_sorted,
    low_level_codes,
)
from workbench.analysis.calendar import Calendar
from workbench.analysis.consumption import DEFAULT_CONSUMPTION, ForecastConsumption
from workbench.analysis.data import PlanningData, release_free_memory
from workbench.analysis.rowmatrix import RowMatrixBuilder
from workbench.analysis.sources import EPS, Slip, Sources, collect, requirement_buckets


def lot_size(net: np.ndarray, moq: np.ndarray, multiple: np.ndarray) -> np.ndarray:
    """Order quantity covering ``net``: at least the minimum, rounded up to the multiple."""
    qty = np.where(net > EPS, np.maximum(net, moq), 0.0)
    has_mult = (multiple > 0) & (qty > 0)
    safe = np.where(has_mult, multiple, 1.0)
    rounded = np.ceil(qty / safe - 1e-9) * safe
    return np.where(has_mult, rounded, qty)


def net_rows(on_hand: np.ndarray, scheduled: np.ndarray, gross: np.ndarray, safety: np.ndarray,
             moq: np.ndarray, multiple: np.ndarray,
             out: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The netting recursion of the module doc for a block of rows: (net, planned receipts),
    written into ``out`` when given (the plan's own arrays, no temporary copies)."""
    n, width = gross.shape
    net, planned = out if out is not None else (np.zeros((n, width)), np.zeros((n, width)))
    projected = np.asarray(on_hand, dtype=float).copy()
    for t in range(width):
        available = projected + scheduled[:, t] - gross[:, t]
        need = np.maximum(safety - available, 0.0)
        need[need <= EPS] = 0.0
        order = lot_size(need, moq, multiple)
        net[:, t], planned[:, t] = need, order
        projected = available + order
    return net, planned


@dataclass
class Segments:
    """Planned BOM lines with the parent-receipt buckets during which each is in force."""

    parent: np.ndarray
    component: np.ndarray
    quantity: np.ndarray  # per parent unit, scrap included
    first_bucket: np.ndarray  # inclusive
    end_bucket: np.ndarray  # exclusive
    revision: np.ndarray
    by_parent: np.ndarray = field(init=False)
    ptr_parent: np.ndarray = field(init=False)
    by_child: np.ndarray = field(init=False)
    ptr_child: np.ndarray = field(init=False)

    def index(self, n_items: int) -> Segments:
        from workbench.analysis.bom import _csr

        self.by_parent, self.ptr_parent = _csr(self.parent, n_items)
        self.by_child, self.ptr_child = _csr(self.component, n_items)
        if len(self.parent) < 2**31:  # line ids as int32: 12 MiB less on the large demo
            self.by_parent = self.by_parent.astype(np.int32)
            self.by_child = self.by_child.astype(np.int32)
        return self


def plan_segments(data: PlanningData, items: ItemIndex, calendar: Calendar,
                  statuses: Iterable[str] = RELEASED) -> Segments:
    """BOM lines of effective revisions, preferred alternates only, with their bucket ranges.

    A line is used for a parent receipt in bucket ``b`` when its revision is effective on the
    order's start date ``max(start(b) - lead_time, today)``; that date rises with ``b``, so the
    buckets form one range per effectivity window.
    """
    windows = effective_windows(data.bom_revisions, statuses)
    coded = CodedLines.of(data, items)
    preferred = np.flatnonzero(coded.preferred)
    w_key = coded.keys_of(items, windows["parent"], windows["revision"])
    pos, win = join_sorted(coded.revision_key[preferred], w_key)
    line = preferred[pos]
    parent = coded.parent[line]
    lead = items.lead_time_days[parent] if len(parent) else np.zeros(0, np.int64)
    starts = calendar.starts
    win_from = windows["win_from"].to_numpy(np.int64)[win]
    win_to = windows["win_to"].to_numpy(np.int64)[win]
    today = calendar.today
    first = np.where(today >= win_from, 0, np.searchsorted(starts, win_from + lead, "left"))
    end = np.where(today >= win_to, 0, np.searchsorted(starts, win_to + lead, "left"))
    keep = first < end
    line = line[keep]
    # item numbers and buckets as int32 (issue 16 §3: 24 MiB less on the large demo's 1.5M
    # lines); readers multiply item numbers by the number of sites after an int64 cast
    return Segments(
        parent=parent[keep].astype(np.int32),
        component=coded.component[line].astype(np.int32),
        quantity=coded.quantity[line],
        first_bucket=first[keep].astype(np.int32),
        end_bucket=end[keep].astype(np.int32),
        revision=coded.revision[line],
    ).index(len(items))


@dataclass
class Plan:
    """The netted plan: one row per (item, site), matrices of shape (rows, buckets)."""

    calendar: Calendar
    items: ItemIndex
    sites: pd.Index
    segments: Segments
    sources: Sources
    key: np.ndarray  # item * n_sites + site, rows in level order (see rows_for_keys)
    level: np.ndarray
    on_hand: np.ndarray
    gross: np.ndarray
    scheduled: np.ndarray
    net: np.ndarray
    planned: np.ndarray
    cycles: list[list[str]]
    #: mask over the keys: where each item is planned (:func:`planned_at`; its safety stock
    #: applies there); None: every row's key
    planned_at: np.ndarray | None = field(default=None, repr=False)
    #: low-level code per item (the level of its rows); None: not kept
    llc: np.ndarray | None = field(default=None, repr=False)
    #: what later work keeps about this plan (:mod:`workbench.analysis.incremental` keeps each
    #: row's own inputs sorted by key there, to replan the next change without sorting again)
    cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    _row_of_key: np.ndarray | None = field(default=None, repr=False)

    @property
    def n_sites(self) -> int:
        return len(self.sites)

    @property
    def item(self) -> np.ndarray:
        return self.key // self.n_sites

    @property
    def site(self) -> np.ndarray:
        return self.key % self.n_sites

    def row(self, item: str, site: str) -> int | None:
        i = self.items.index.get_indexer([item])[0]
        s = self.sites.get_indexer([site])[0]
        if i < 0 or s < 0:
            return None
        pos = int(self.rows_for_keys(np.array([i * self.n_sites + s]))[0])
        return pos if pos >= 0 else None

    def rows_for_keys(self, keys: np.ndarray) -> np.ndarray:
        """Row of each key (item * n_sites + site), -1 where the plan has no such row."""
        if self._row_of_key is None:
            # int32 rows (a plan has fewer than 2**31): 6 MiB less over the large demo's
            # items x sites (issue 16 §3)
            self._row_of_key = np.full(len(self.items) * self.n_sites, -1,
                                       np.int32 if len(self.key) < 2**31 else np.int64)
            self._row_of_key[self.key] = np.arange(len(self.key))
        return self._row_of_key[keys]

    def rows_of(self, item: str | None = None, site: str | None = None) -> np.ndarray:
        mask = np.ones(len(self.key), bool)
        if item is not None:
            mask &= self.item == self.items.index.get_indexer([item])[0]
        if site is not None:
            mask &= self.site == self.sites.get_indexer([site])[0]
        return np.flatnonzero(mask)

    def offsets(self, rows: np.ndarray) -> np.ndarray:
        return self.calendar.offset(self.items.lead_time_days[self.item[rows]])

    def projected(self, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
        flow = self.scheduled[rows] + self.planned[rows] - self.gross[rows]
        return self.on_hand[rows][:, None] + np.cumsum(flow, axis=1)

    def releases(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Planned releases per bucket and the quantity released past due, for ``rows``."""
        rows = np.asarray(rows)
        n, width = len(rows), self.calendar.n_buckets
        target = np.arange(width)[None, :] - self.offsets(rows)[:, None]
        past_due = np.where(target < 0, self.planned[rows], 0.0).sum(axis=1)
        flat = np.repeat(np.arange(n), width) * width + np.maximum(target, 0).ravel()
        out = np.bincount(flat, weights=self.planned[rows].ravel(), minlength=n * width)
        return out.reshape(n, width), past_due

    def record(self, row: int) -> pd.DataFrame:
        """The MRP record of one row, one line per bucket."""
        releases, _ = self.releases(np.array([row]))
        frame = pd.DataFrame({
            "bucket": np.arange(self.calendar.n_buckets),
            "date": self.calendar.dates(),
            "gross_requirements": self.gross[row],
            "scheduled_receipts": self.scheduled[row],
            "projected_available": self.projected(np.array([row]))[0],
            "net_requirements": self.net[row],
            "planned_receipts": self.planned[row],
            "planned_releases": releases[0],
        })
        return frame

    def reserved_elsewhere(self) -> np.ndarray:
        """Per row: stock reserved for an order the plan does not know (``unplanned`` in
        :attr:`Sources.allocations`), which covers nothing here and is not on hand."""
        out = np.zeros(len(self.key))
        alloc = self.sources.allocations
        alloc = alloc[alloc["unplanned"] > EPS]
        if len(alloc):
            item = self.items.idx(alloc["item"].to_numpy(object)).astype(np.int64)
            site = self.sites.get_indexer(alloc["site"].to_numpy(object))
            ok = (item >= 0) & (site >= 0)
            rows = self.rows_for_keys(item[ok] * self.n_sites + site[ok])
            hit = rows >= 0
            np.add.at(out, rows[hit], alloc["unplanned"].to_numpy(float)[ok][hit])
        return out

    def summary(self, rows: np.ndarray | None = None) -> pd.DataFrame:
        """Per row: first shortage (date, quantity), totals, the past-due release quantity and
        the stock reserved for orders the plan does not know (:meth:`reserved_elsewhere`)."""
        rows = np.arange(len(self.key)) if rows is None else np.asarray(rows)
        net = self.net[rows]
        short = net > EPS
        has = short.any(axis=1)
        first = np.where(has, short.argmax(axis=1), -1)
        first_qty = np.where(has, net[np.arange(len(rows)), np.maximum(first, 0)], 0.0)
        _, past_due = self.releases(rows)
        starts = self.calendar.starts
        first_day = np.where(has, np.maximum(starts[np.maximum(first, 0)], self.calendar.today), 0)
        first_day = first_day.astype("datetime64[D]")
        return pd.DataFrame({
            "item": self.items.codes[self.item[rows]],
            "site": np.asarray(self.sites)[self.site[rows]],
            "level": self.level[rows],
            "on_hand": self.on_hand[rows],
            "safety_stock": self.items.safety_stock[self.item[rows]],
            "first_shortage_date": np.where(has, first_day, np.datetime64("NaT")),
            "first_shortage_quantity": first_qty,
            "total_net_requirements": net.sum(axis=1),
            "total_planned_receipts": self.planned[rows].sum(axis=1),
            "past_due_release": past_due,
            "reserved_elsewhere": self.reserved_elsewhere()[rows],
        }, index=rows)


def plan_sites(sources: Sources) -> pd.Index:
    """The sites a plan has rows for, sorted: every site with stock, receipts or requirements,
    or where an item is planned (:attr:`Sources.planned`)."""
    site_codes = pd.unique(pd.concat([sources.on_hand["site"], sources.receipts["site"],
                                      sources.requirements["site"], sources.planned["site"]],
                                     ignore_index=True))
    return pd.Index(sorted(str(s) for s in site_codes))


def plan(data: PlanningData, calendar: Calendar, *, slip_days: Slip | None = None,
         statuses: Iterable[str] = RELEASED,
         consumption: ForecastConsumption | None = DEFAULT_CONSUMPTION) -> Plan:
    """Net every item at every site over the calendar (rules in the module doc; forecast
    consumption windows ``consumption``, ``None`` for none, see :mod:`~workbench.analysis.sources`)."""
    items = ItemIndex.build(data)
    sources = collect(data, slip_days, consumption)
    sites = plan_sites(sources)
    segments = plan_segments(data, items, calendar, statuses)
    levels = low_level_codes(len(items), segments.parent, segments.component, items.codes)
    if levels.cut_edges:
        cut = np.array([(a, b) in levels.cut_edges
                        for a, b in zip(segments.parent, segments.component)], bool)
        segments = Segments(segments.parent[~cut], segments.component[~cut],
                            segments.quantity[~cut], segments.first_bucket[~cut],
                            segments.end_bucket[~cut], segments.revision[~cut]).index(len(items))
    return _net(items, sites, segments, sources, levels.code, calendar, levels.cycles)


#: plans of more rows give the heap pages their netting freed back to the system (the trim
#: takes 30-100 ms on the large demo's heap: not worth it for a small plan or a what-if's part)
_TRIM_ROWS = 100_000


class _Pending:
    """Requirements waiting for their item's level: entries (key, bucket, quantity) and dense
    blocks (unique keys, rows x buckets matrix) from exploding whole release matrices."""

    def __init__(self, llc: np.ndarray, n_sites: int):
        self.llc, self.n_sites = llc, n_sites
        self.parts: dict[int, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}
        self.blocks: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}

    def _split(self, key: np.ndarray) -> tuple[np.ndarray, list[tuple[int, slice]]]:
        lv = self.llc[key // self.n_sites].astype(np.int16)
        order = np.argsort(lv, kind="stable")  # radix sort for small integers
        lv = lv[order]
        bounds = np.concatenate([[0], np.flatnonzero(np.diff(lv)) + 1, [len(lv)]])
        return order, [(int(lv[a]), slice(a, b)) for a, b in itertools.pairwise(bounds)]

    def add(self, key: np.ndarray, bucket: np.ndarray, qty: np.ndarray) -> None:
        if len(key) == 0:
            return
        order, groups = self._split(key)
        key, bucket, qty = key[order], bucket[order], qty[order]
        for level, sl in groups:
            self.parts.setdefault(level, []).append((key[sl], bucket[sl], qty[sl]))

    def add_block(self, keys: np.ndarray, matrix: np.ndarray) -> None:
        if len(keys) == 0:
            return
        order, groups = self._split(keys)
        for level, sl in groups:
            rows = order[sl]
            self.blocks.setdefault(level, []).append((keys[rows], matrix[rows]))

    def take(self, level: int) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray],
                                        list[tuple[np.ndarray, np.ndarray]]]:
        parts = self.parts.pop(level, [])
        blocks = self.blocks.pop(level, [])
        if not parts:
            return (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)), blocks
        return tuple(np.concatenate(p) for p in zip(*parts)), blocks  # type: ignore[return-value]


def _net(items: ItemIndex, sites: pd.Index, segments: Segments, sources: Sources,
         llc: np.ndarray, calendar: Calendar, cycles: list[list[str]]) -> Plan:
    n_sites, width = len(sites), calendar.n_buckets
    pending = _Pending(llc, n_sites)
    req = sources.requirements
    req_bucket = requirement_buckets(req, calendar)
    inside = req_bucket >= 0
    pending.add(sources.keys("requirements", items, sites)[inside], req_bucket[inside],
                req["quantity"].to_numpy(float)[inside])
    rec = sources.receipts
    rec_bucket = calendar.bucket(rec["day"].to_numpy(np.int64))
    rec_in = rec_bucket >= 0
    rec_key = sources.keys("receipts", items, sites)[rec_in]
    rec_bucket, rec_qty = rec_bucket[rec_in], rec["quantity"].to_numpy(float)[rec_in]
    rec_level = llc[rec_key // n_sites]
    oh_key = sources.keys("on_hand", items, sites)
    oh_qty = sources.on_hand["quantity"].to_numpy(float)
    oh_level = llc[oh_key // n_sites]
    offset_all = calendar.offset(items.lead_time_days)
    present = np.zeros(len(items) * n_sites, bool)  # dense key space: no sorting needed
    position = np.zeros(len(items) * n_sites, np.int64)
    rows = _Rows(width, capacity=len(oh_key) + len(rec_key))
    where = planned_at(segments, len(items), n_sites, sources.keys("planned", items, sites))
    buffered = np.flatnonzero(where)
    buffered = buffered[items.safety_stock[buffered // n_sites] > 0]
    buffered_level = llc[buffered // n_sites]
    for level in range(int(llc.max(initial=0)) + 1):
        (g_key, g_bucket, g_qty), g_blocks = pending.take(level)
        r_sel = rec_level == level
        o_sel = oh_level == level
        for block_keys, _ in g_blocks:
            present[block_keys] = True
        present[g_key] = True
        present[rec_key[r_sel]] = True
        present[oh_key[o_sel]] = True
        present[buffered[buffered_level == level]] = True  # safety stock applies here
        keys = np.flatnonzero(present)
        present[keys] = False
        if len(keys) == 0:
            continue
        n = len(keys)
        position[keys] = np.arange(n)
        item = keys // n_sites
        rows.append(keys, level)
        on_hand = np.bincount(position[oh_key[o_sel]], weights=oh_qty[o_sel], minlength=n)
        rows.store(on_hand)
        # the level's rows netted :data:`_LEVEL_ROWS` at a time: each row is netted on its own
        # and every sum adds the same entries in the same order, so the values are those of
        # the whole level at once, without its four dense (rows x buckets) matrices (the
        # large demo's netting peaked ~250 MiB above what it keeps, issue 16 §3)
        g_pos = position[g_key]
        r_pos = position[rec_key[r_sel]]
        r_bucket, r_qty = rec_bucket[r_sel], rec_qty[r_sel]
        b_pos = [position[block_keys] for block_keys, _ in g_blocks]
        busy: list[np.ndarray] = []  # rows with planned receipts, and their receipts
        busy_planned: list[np.ndarray] = []
        for a in range(0, n, _LEVEL_ROWS):
            b = min(n, a + _LEVEL_ROWS)
            gross = _filled_rows(a, b, width, g_pos, g_bucket, g_qty)
            for at, (_, block) in zip(b_pos, g_blocks, strict=True):
                mine = np.flatnonzero((at >= a) & (at < b))
                gross[at[mine] - a] += block[mine]  # keys are unique within a block
            scheduled = _filled_rows(a, b, width, r_pos, r_bucket, r_qty)
            part = item[a:b]
            net, planned = net_rows(on_hand[a:b], scheduled, gross, items.safety_stock[part],
                                    items.min_order_qty[part], items.order_multiple[part])
            rows.store_matrices(gross, scheduled, net, planned)
            hit = np.flatnonzero((planned > EPS).any(axis=1))
            busy.append(hit + a)
            busy_planned.append(planned[hit])
            del gross, scheduled, net, planned
        del g_blocks, b_pos
        at_rows = np.concatenate(busy)
        planned = np.concatenate(busy_planned) if busy_planned else np.zeros((0, width))
        _explode(pending, keys[at_rows], item[at_rows], planned, offset_all, segments,
                 n_sites, present, position)
        del on_hand, planned, busy, busy_planned
    rows.finish()
    gross, scheduled, net, planned = (cast(np.ndarray, m.finish()) for m in rows.matrices)
    del pending, present, position
    if len(rows.key) > _TRIM_ROWS:  # the levels' dense temporaries: their pages back
        release_free_memory()
    return Plan(calendar, items, sites, segments, sources, rows.key, rows.level, rows.on_hand,
                gross, scheduled, net, planned, cycles, where, llc)


#: rows of one level netted at a time (their four dense matrices: 13 MiB each)
_LEVEL_ROWS = 1 << 16


def _filled_rows(a: int, b: int, width: int, position: np.ndarray, bucket: np.ndarray,
                 qty: np.ndarray) -> np.ndarray:
    """Rows ``a:b`` of :func:`_filled` (entries at ``position``, already looked up): the same
    sums, each of the same entries in the same order."""
    inside = np.flatnonzero((position >= a) & (position < b))
    sums = np.bincount((position[inside] - a) * width + bucket[inside], weights=qty[inside],
                       minlength=(b - a) * width)
    return sums.astype(np.float64, copy=False).reshape(b - a, width)


def planned_at(segments: Segments, n_items: int, n_sites: int, keys: np.ndarray) -> np.ndarray:
    """Where each item is planned (module doc, "Where safety stock applies"), as a mask over
    the keys ``item * n_sites + site``: ``keys`` (planned before BOM explosion, see
    :func:`~workbench.analysis.sources.planned_item_sites`), then every component of a BOM line
    in ``segments`` (in force in the horizon) of an item planned at a site, at that site,
    through every level."""
    mask = np.zeros(n_items * n_sites, bool)
    frontier = np.unique(keys)
    mask[frontier] = True
    while len(frontier):
        seg, src = gather(segments.ptr_parent, segments.by_parent, frontier // n_sites)
        child = segments.component[seg].astype(np.int64) * n_sites + frontier[src] % n_sites
        frontier = np.unique(child[~mask[child]])
        mask[frontier] = True
    return mask


class _Rows:
    """The plan's rows, appended level by level.

    Keys, levels and on-hand quantities are arrays grown in place (``ndarray.resize``
    reallocates; on Linux large blocks move by remapping, without a copy). The four matrices
    keep only their non-zero rows (:class:`~workbench.analysis.rowmatrix.RowMatrix`: on the
    large demo 436 MiB dense, ~110 MiB so), each level's dense block living only while the
    level is netted.
    """

    def __init__(self, width: int, capacity: int):
        capacity = max(capacity, 16)
        self.n = 0
        self.key = np.zeros(capacity, np.int64)
        self.level = np.zeros(capacity, np.int64)
        self.on_hand = np.zeros(capacity)
        self.matrices = [RowMatrixBuilder(width, capacity // 4) for _ in range(4)]

    def _resize(self, size: int) -> None:
        for a in (self.key, self.level, self.on_hand):
            a.resize(size, refcheck=False)

    def append(self, keys: np.ndarray, level: int) -> None:
        start, stop = self.n, self.n + len(keys)
        if stop > len(self.key):
            self._resize(max(stop, len(self.key) * 3 // 2))
        self.key[start:stop] = keys
        self.level[start:stop] = level
        self.n = stop

    def store(self, on_hand: np.ndarray, *matrices: np.ndarray) -> None:
        """The last appended rows' on hand and (gross, scheduled, net, planned) matrices (the
        matrices may also follow, block of rows by block, :meth:`store_matrices`)."""
        self.on_hand[self.n - len(on_hand):self.n] = on_hand
        if matrices:
            self.store_matrices(*matrices)

    def store_matrices(self, *matrices: np.ndarray) -> None:
        """The next rows' (gross, scheduled, net, planned) matrices."""
        for builder, m in zip(self.matrices, matrices, strict=True):
            builder.append(m)

    def finish(self) -> None:
        self._resize(self.n)


def _explode(pending: _Pending, keys: np.ndarray, item: np.ndarray, planned: np.ndarray,
             offset_all: np.ndarray, segments: Segments, n_sites: int,
             present: np.ndarray, position: np.ndarray) -> None:
    """Turn planned receipts into component requirements in their release buckets.

    Lines in force over the whole horizon (nearly all) are applied to the rows' release matrix
    as one sparse product (component rows x parent rows) @ (parent rows x buckets); lines whose
    revision changes within the horizon are applied receipt by receipt.
    """
    width = planned.shape[1]
    rows = np.flatnonzero((planned > EPS).any(axis=1))
    if len(rows) == 0:
        return
    seg, src = gather(segments.ptr_parent, segments.by_parent, item[rows])
    if len(seg) == 0:
        return
    full = (segments.first_bucket[seg] == 0) & (segments.end_bucket[seg] >= width)
    if full.any():
        offset = offset_all[item[rows]]
        target = np.arange(width)[None, :] - offset[:, None]
        flat = np.repeat(np.arange(len(rows)), width) * width + np.maximum(target, 0).ravel()
        releases = np.bincount(flat, weights=planned[rows].ravel(),
                               minlength=len(rows) * width).reshape(len(rows), width)
        f_seg, f_src = seg[full], src[full]
        child = segments.component[f_seg].astype(np.int64) * n_sites + keys[rows[f_src]] % n_sites
        present[child] = True  # unique keys without sorting: the key space is dense
        child_keys = np.flatnonzero(present)
        present[child_keys] = False
        position[child_keys] = np.arange(len(child_keys))
        child_pos = position[child]
        product = sparse.csr_matrix((segments.quantity[f_seg], (child_pos, f_src)),
                                    shape=(len(child_keys), len(rows)))
        pending.add_block(child_keys, np.asarray(product @ releases))
    part = np.flatnonzero(~full)
    # lines in force over part of the horizon, :data:`_LEVEL_ROWS` at a time: their parents'
    # receipts (lines x buckets) never all at once; the entries come in the same order
    for at in range(0, len(part), _LEVEL_ROWS):
        chunk = part[at:at + _LEVEL_ROWS]
        p_seg, p_src = seg[chunk], src[chunk]
        sub = planned[rows[p_src]]
        hit_row, b = np.nonzero(sub > EPS)
        del sub
        p_seg, p_src = p_seg[hit_row], p_src[hit_row]
        active = (segments.first_bucket[p_seg] <= b) & (b < segments.end_bucket[p_seg])
        p_seg, p_src, b = p_seg[active], p_src[active], b[active]
        parent_row = rows[p_src]
        release = np.maximum(b - offset_all[item[parent_row]], 0)
        site = keys[parent_row] % n_sites
        pending.add(segments.component[p_seg].astype(np.int64) * n_sites + site, release,
                    planned[parent_row, b] * segments.quantity[p_seg])


def with_revision_released(data: PlanningData, parent: str, revision: str,
                           from_date: dt.date) -> PlanningData:
    """What-if input: ``revision`` of ``parent`` treated as released from ``from_date``.

    The cache is untouched; the copy's revision wins from that day on by the effectivity rule.
    """
    revs = data.bom_revisions.copy()
    hit = (revs["parent"] == parent) & (revs["revision"] == revision)
    if not hit.any():
        raise KeyError(f"no revision {revision!r} of {parent!r}")
    revs.loc[hit, "status"] = "released"
    revs.loc[hit, "effective_from"] = pd.Timestamp(from_date)
    revs.loc[hit, "effective_to"] = pd.NaT
    return data.replace(bom_revisions=revs)
