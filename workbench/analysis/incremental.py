"""Net change planning: replan only what a change can reach, reuse every other row of the plan.

:func:`replan` takes a full plan (:func:`workbench.analysis.netting.plan`) of some data, the data
after a change and a :class:`Change` naming what changed, and returns the plan of the changed
data — the same rows in the same order with the same numbers as a full plan of it (to the last
few bits of a float: sums may be added in another order). Rules, in the order they are applied:

* **What a change reaches.** A row's inputs are its item's own records at its site (stock,
  scheduled receipts, independent requirements, the sites where the item is planned) and the
  planned orders of its parents at the same site through their BOM lines. So only the rows of
  the changed items (:attr:`Change.items`, at every site), the components of the parents whose
  BOM changed (:attr:`Change.bom_parents`), the rows whose safety stock starts or stops applying
  (the "planned at" closure moved) and, level by level (low-level code), the components of every
  row whose planned orders came out different can differ. Those rows are re-netted from scratch
  (their gross requirements are their own requirements plus the explosion of *all* their
  parents' planned orders, never "old + delta", so repeated replans do not drift); every other
  row is the previous plan's, untouched.
* **Sources** (:class:`~workbench.analysis.sources.Sources`) are collected for the changed items
  only (their rows of inventory, demands, PO lines, work orders and work-order components, plus
  the orders their reservations name) and replace those items' rows of the previous sources
  (:mod:`workbench.analysis.incremental_sources`).
* **BOM changes** replace the changed parents' planned BOM segments (spliced into both indexes);
  low-level codes are recomputed below them only (an item's code depends on its ancestors' lines
  alone; :mod:`workbench.analysis.incremental_bom`). Rows whose item changed level are laid out
  again at their new level.
* **Fall back to a full plan** when the shortcut cannot promise the same answer: the item master
  changed (:attr:`Change.master`), a change names an item (or a new BOM line a component) outside
  the item master or a site the previous plan does not have (new codes renumber the plan), a site
  loses its last record, or a BOM change meets a cycle. :attr:`Replan.how` says which path was
  taken (``"unchanged"`` for an empty change).

``in_place=True`` updates the previous plan's arrays instead of copying them (what a session
does: the 550k x 26 matrices of the large demo are not copied on each decision); the previous
plan must not be used afterwards. When rows appear, vanish or change level (a new item-site, the
last record gone, a low-level code moved) the matrices are rebuilt once, in level then key order.

Kept on the plan for the next replan (:attr:`Plan.cache`): each row's own inputs sorted by key
(built by the first replan of a full plan). Kept on the data (:meth:`PlanningData.derived`): the
item number of each row of the frames searched by item, and the numbering and sources the replan
made (:func:`keep_codes` carries a copied frame's code numbering).

The risk-adjusted plan and every other ``plan()`` parameter but the forecast consumption windows
are not replanned: callers replan the plain plan and rebuild the rest on demand.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.analysis.bom import gather
from workbench.analysis.consumption import DEFAULT_CONSUMPTION, ForecastConsumption
from workbench.analysis.data import PlanningData
from workbench.analysis.incremental_bom import (
    bom_of,
    descendants,
    levels_below,
    merged_segments,
    segments_component,
)
from workbench.analysis.incremental_layout import relaid
from workbench.analysis.incremental_sources import (
    FRAMES,
    PatchedSources,
    RowInputs,
    collect_items,
    item_rows,
    keep_codes,
    master_count,
    patched_sources,
    seed_derived,
)
from workbench.analysis.netting import Plan, Segments, net_rows, plan, plan_segments
from workbench.analysis.planned_change import planned_after_change
from workbench.analysis.sources import EPS, Sources

__all__ = ["FRAMES", "Change", "PatchedSources", "Replan", "RowInputs", "collect_items",
           "item_rows", "keep_codes", "master_count", "patched_sources", "plan_fields", "replan",
           "replan_detail", "seed_derived", "segments_component"]

# the names services/plan_store.py used before the split (kept until its owner switches to the
# public names of workbench.analysis.incremental_sources)
_master_count, _collect_items = master_count, collect_items
_patched_sources, _seed_derived = patched_sources, seed_derived


@dataclass(frozen=True)
class Change:
    """What changed between two sets of planning data.

    ``items``: item codes whose own records changed (a stock row, a demand, a PO line, a work
    order making it, a work-order component needing it, a reservation naming an order of it),
    before or after the change; ``bom_parents``: parents whose BOM revisions or lines changed;
    ``master``: the item master changed (lead times, safety stock, lot sizes: a full plan).
    """

    items: frozenset[str] = frozenset()
    bom_parents: frozenset[str] = frozenset()
    master: bool = False

    def __or__(self, other: Change) -> Change:
        return Change(self.items | other.items, self.bom_parents | other.bom_parents,
                      self.master or other.master)

    def __bool__(self) -> bool:
        return bool(self.items or self.bom_parents or self.master)

    @classmethod
    def of(cls, items: Iterable[str] = (), bom_parents: Iterable[str] = ()) -> Change:
        return cls(frozenset(str(i) for i in items), frozenset(str(p) for p in bom_parents))

    @classmethod
    def between(cls, before: PlanningData, after: PlanningData) -> Change:
        """The change from ``before`` to ``after``, found by comparing their rows (frames that
        are the very same object are skipped): a convenience for tests and for callers that do
        not know what they changed; a sync or an approval names its rows instead."""
        items: set[str] = set()
        parents: set[str] = set()
        master = not _same(before.items, after.items)
        for entity in ("bom_revisions", "bom_lines"):
            for rows in _changed_rows(getattr(before, entity), getattr(after, entity)):
                parents.update(rows["parent"].astype(str))
        for entity in ("inventory", "demands", "purchase_order_lines", "work_orders",
                       "requisitions"):
            for rows in _changed_rows(getattr(before, entity), getattr(after, entity)):
                items.update(rows["item"].astype(str))
        for rows in _changed_rows(before.work_order_components, after.work_order_components):
            items.update(rows["component"].astype(str))
        # an order's status, site or demand reaches its components; a demand or work order
        # appearing or vanishing changes what the reservations naming it serve
        codes: set[str] = set()
        for entity in ("work_orders", "demands"):
            for rows in _changed_rows(getattr(before, entity), getattr(after, entity)):
                codes.update(rows["code"].astype(str))
        headers: set[str] = set()
        for rows in _changed_rows(before.purchase_orders, after.purchase_orders):
            headers.update(rows["code"].astype(str))
        for data in (before, after):
            woc = data.work_order_components
            items.update(woc.loc[woc["work_order"].isin(codes), "component"].astype(str))
            inv = data.inventory
            items.update(inv.loc[inv["allocated_to"].isin(codes), "item"].astype(str))
            pol = data.purchase_order_lines
            items.update(pol.loc[pol["purchase_order"].isin(headers), "item"].astype(str))
        items.discard("")
        parents.discard("")
        return cls(frozenset(items), frozenset(parents), master)


def _same(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    return a is b or (a.shape == b.shape and list(a.columns) == list(b.columns)
                      and a.reset_index(drop=True).equals(b.reset_index(drop=True)))


def _changed_rows(before: pd.DataFrame, after: pd.DataFrame) -> list[pd.DataFrame]:
    """Rows of ``before`` not in ``after`` and rows of ``after`` not in ``before`` (whole rows
    compared by hash)."""
    if before is after:
        return []
    cols = [c for c in before.columns if c in after.columns]
    hb = pd.util.hash_pandas_object(before[cols], index=False).to_numpy()
    ha = pd.util.hash_pandas_object(after[cols], index=False).to_numpy()
    return [before[~np.isin(hb, ha)], after[~np.isin(ha, hb)]]


@dataclass
class Replan:
    """What :func:`replan` did: ``how`` is ``"incremental"`` or why it planned in full
    (``"full: ..."``); ``rows`` the rows re-netted (0 for a full plan)."""

    plan: Plan
    how: str
    rows: int = 0
    levels: list[int] = field(default_factory=list)
    #: CPU seconds (:func:`time.process_time`) of each step, in order (where a replan's time goes:
    #: ``bom``, ``sources``, ``planned_at``, ``net``, ``layout``)
    steps: dict[str, float] = field(default_factory=dict)


class _Clock:
    """The CPU time of each named step of one replan."""

    def __init__(self) -> None:
        self.steps: dict[str, float] = {}
        self._last = time.process_time()

    def lap(self, name: str) -> None:
        now = time.process_time()
        self.steps[name] = self.steps.get(name, 0.0) + now - self._last
        self._last = now


def replan(previous: Plan, data: PlanningData, change: Change, *,
           consumption: ForecastConsumption | None = DEFAULT_CONSUMPTION,
           in_place: bool = False) -> Plan:
    """The plan of ``data`` (the previous plan's data after ``change``), equal to
    ``plan(data, previous.calendar, consumption=consumption)`` (module doc)."""
    return replan_detail(previous, data, change, consumption=consumption,
                         in_place=in_place).plan


def replan_detail(previous: Plan, data: PlanningData, change: Change, *,
                  consumption: ForecastConsumption | None = DEFAULT_CONSUMPTION,
                  in_place: bool = False) -> Replan:
    """:func:`replan` with what it did (:class:`Replan`)."""

    def full(why: str) -> Replan:
        return Replan(plan(data, previous.calendar, consumption=consumption), f"full: {why}")

    if not change:
        return Replan(previous, "unchanged")
    if change.master:
        return full("item master changed")
    if previous.cycles and change.bom_parents:
        return full("BOM with cycles")
    if previous.llc is None or previous.planned_at is None:
        return full("previous plan keeps no low-level codes")
    items, sites = previous.items, previous.sites
    n_sites = len(sites)
    codes = sorted(change.items | change.bom_parents)
    idx = items.idx(codes) if codes else np.zeros(0, np.int64)
    if (idx < 0).any() or (idx >= master_count(data)).any():
        return full("a changed item is not in the plan's numbering")
    clock = _Clock()
    changed_items = np.unique(items.idx(sorted(change.items))).astype(np.int64) \
        if change.items else np.zeros(0, np.int64)
    parents = np.unique(items.idx(sorted(change.bom_parents))).astype(np.int64) \
        if change.bom_parents else np.zeros(0, np.int64)

    # sources of the changed items
    sources = previous.sources
    fresh = None
    if len(changed_items):
        fresh = collect_items(data, items, changed_items, consumption)
        patched = patched_sources(previous, fresh, changed_items)
        if patched is None:
            return full("a site gains or loses its last record")
        sources = patched
    seed_derived(data, items, sources, consumption)
    clock.lap("sources")

    # BOM: the changed parents' new lines; what lies below their old lines, before the splice
    segments, llc = previous.segments, previous.llc
    new_segs = None
    old_comp = new_comp = np.zeros(0, np.int64)
    if len(parents):
        sub = bom_of(data, items, parents)
        comp = sub.bom_lines["component"].astype(str).unique()
        comp_idx = items.idx(comp) if len(comp) else np.zeros(0, np.int64)
        if (comp_idx < 0).any() or (comp_idx >= master_count(data)).any():
            return full("a new component is not in the plan's numbering")
        new_segs = plan_segments(sub, items, previous.calendar)
        old_comp = segments_component(previous.segments, parents)
        new_comp = np.unique(new_segs.component).astype(np.int64)
    # where each item is planned can move below the changed parents and below the changed
    # items whose records moved to other item-sites (else the closure is as before)
    planned_moved = isinstance(sources, PatchedSources) and len(changed_items) > 0 and \
        sources.planned_moved
    start = np.union1d(np.union1d(old_comp, new_comp),
                       changed_items if planned_moved else np.zeros(0, np.int64))
    below = descendants(previous.segments, start, len(items)) \
        if len(start) else np.zeros(0, np.int64)
    if new_segs is not None:
        segments = merged_segments(previous.segments, parents, new_segs, len(items),
                                   in_place=in_place)
        below = np.union1d(below, descendants(segments, start, len(items)))
        llc_new = levels_below(previous.llc, segments, below)
        if llc_new is None:
            return full("the changed BOM has a cycle")
        llc = llc_new
    clock.lap("bom")

    # where each item is planned (its safety stock applies there): the lines of the changed
    # parents are the new ones in ``segments`` and in ``new_segs`` alike
    where = previous.planned_at
    flip = np.zeros(0, np.int64)
    if len(parents) or planned_moved:
        new_part = new_segs if new_segs is not None else Segments(
            *(np.zeros(0, np.int64),) * 2, np.zeros(0), *(np.zeros(0, np.int64),) * 3)
        where = planned_after_change(previous.planned_at,
                                     sources.keys("planned", items, sites),
                                     segments, parents, new_part, below, n_sites)
        region = np.flatnonzero(where != previous.planned_at)
        flip = region[items.safety_stock[region // n_sites] > 0]
    clock.lap("planned_at")

    # seeds: rows of changed items, components of changed parents, safety stock flips
    all_sites = np.arange(n_sites, dtype=np.int64)
    seed_items = np.union1d(changed_items, np.union1d(old_comp, new_comp))
    seeds = np.concatenate([(seed_items[:, None] * n_sites + all_sites).ravel(), flip])
    inputs = RowInputs.of(previous).patched(previous, fresh, changed_items)
    clock.lap("inputs")
    work = _Work(previous, inputs, segments, where, in_place)
    levels = work.run(seeds.astype(np.int64), llc)
    clock.lap("net")
    out = work.finish(segments, sources, where, llc)
    out.cache["incremental:inputs"] = inputs
    clock.lap("layout")
    return Replan(out, "incremental", work.recomputed, levels, clock.steps)


def _sums(at: np.ndarray, weights: np.ndarray, size: int) -> np.ndarray:
    """``np.bincount`` of float weights, float even when there are none."""
    return np.bincount(at, weights=np.asarray(weights, float), minlength=size).astype(float)


class _Work:
    """The rows re-netted by one replan, level by level, and their write-back."""

    def __init__(self, previous: Plan, inputs: RowInputs, segments: Segments,
                 where: np.ndarray, in_place: bool):
        self.prev, self.inputs, self.segments, self.where = previous, inputs, segments, where
        self.in_place = in_place
        self.n_sites = previous.n_sites
        self.width = previous.calendar.n_buckets
        items = previous.items
        self.offset_all = previous.calendar.offset(items.lead_time_days)
        self.slot = np.full(len(items) * self.n_sites, -1, np.int64)  # key -> done row
        self.done_key: list[np.ndarray] = []
        self.done: list[dict[str, np.ndarray]] = []
        self.n_done = 0
        self.recomputed = 0
        self._stack: dict[str, tuple[int, np.ndarray]] = {}  # done rows stacked, per name

    def _planned_pairs(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(positions in ``keys`` whose row has planned orders, those rows' planned orders) in
        the plan as replanned so far; a row without any (most parents of a common component)
        is left out before its row is read."""
        at_parts, row_parts = [], []
        slot = self.slot[keys]
        mine = slot >= 0
        if mine.any():
            at = np.flatnonzero(mine)
            planned = self._stacked("planned")[slot[at]]
            some = planned.any(axis=1)  # a replanned row that vanished has none either
            at_parts.append(at[some])
            row_parts.append(planned[some])
        rest = np.flatnonzero(~mine)
        if len(rest):
            rows = self.prev.rows_for_keys(keys[rest])
            hit = rows >= 0
            at, rows = rest[hit], rows[hit]
            matrix = self.prev.planned
            if hasattr(matrix, "slot") and hasattr(matrix, "n_stored"):  # stored rows only
                stored = matrix.slot[rows] != matrix.n_stored
                at, rows = at[stored], rows[stored]
            planned = np.asarray(matrix[rows])
            some = planned.any(axis=1)
            at_parts.append(at[some])
            row_parts.append(planned[some])
        if not at_parts:
            return np.zeros(0, np.int64), np.zeros((0, self.width))
        return np.concatenate(at_parts), np.concatenate(row_parts)

    def _stacked(self, name: str) -> np.ndarray:
        hit = self._stack.get(name)
        if hit is None or hit[0] != len(self.done):
            hit = (len(self.done), np.concatenate([d[name] for d in self.done]))
            self._stack[name] = hit
        return hit[1]

    def run(self, seeds: np.ndarray, llc: np.ndarray) -> list[int]:
        n_sites = self.n_sites
        pending = np.unique(seeds)
        levels: list[int] = []
        while len(pending):
            lv = llc[pending // n_sites]
            level = int(lv.min())
            keys = pending[lv == level]
            pending = pending[lv != level]
            changed = self._net_level(keys, level)
            levels.append(level)
            if len(changed):
                seg, src = gather(self.segments.ptr_parent, self.segments.by_parent,
                                  changed // n_sites)
                kids = self.segments.component[seg].astype(np.int64) * n_sites + \
                    changed[src] % n_sites
                pending = np.union1d(pending, kids)
        return levels

    def _explosion(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(gross requirements from the parents' planned orders, reached by some) of ``keys``."""
        n, width, n_sites, seg_all = len(keys), self.width, self.n_sites, self.segments
        gross: np.ndarray = np.zeros((n, width))
        reached = np.zeros(n, bool)
        seg, src = gather(seg_all.ptr_child, seg_all.by_child, keys // n_sites)
        if len(seg) == 0:
            return gross, reached
        at, planned = self._planned_pairs(seg_all.parent[seg].astype(np.int64) * n_sites +
                                          keys[src] % n_sites)
        seg, src = seg[at], src[at]
        parent = seg_all.parent[seg].astype(np.int64)
        b = np.arange(width)[None, :]
        active = (seg_all.first_bucket[seg][:, None] <= b) & (b < seg_all.end_bucket[seg][:, None])
        live = np.where(active, planned, 0.0)
        hit = live > EPS
        reached = np.bincount(src, weights=hit.any(axis=1), minlength=n) > 0
        pair, bucket = np.nonzero(hit)
        release = np.maximum(bucket - self.offset_all[parent[pair]], 0)
        flat = src[pair] * width + release
        gross = _sums(flat, live[pair, bucket] * seg_all.quantity[seg[pair]],
                      n * width).reshape(n, width)
        return gross, reached

    def _net_level(self, keys: np.ndarray, level: int) -> np.ndarray:
        """Re-net ``keys`` (sorted, all of ``level``); the keys whose planned orders changed."""
        prev, items, n_sites, width = self.prev, self.prev.items, self.n_sites, self.width
        n = len(keys)
        self.recomputed += n
        gross, reached = self._explosion(keys)
        present = reached.copy()
        src, bucket, qty = self.inputs.entries("requirements", keys)
        present[src] = True
        gross += _sums(src * width + bucket, qty, n * width).reshape(n, width)
        src, bucket, qty = self.inputs.entries("receipts", keys)
        present[src] = True
        scheduled = _sums(src * width + bucket, qty, n * width).reshape(n, width)
        src, _, qty = self.inputs.entries("on_hand", keys)
        present[src] = True
        on_hand = _sums(src, qty, n)
        item = keys // n_sites
        present |= self.where[keys] & (items.safety_stock[item] > 0)
        net, planned = net_rows(on_hand, scheduled, gross, items.safety_stock[item],
                                items.min_order_qty[item], items.order_multiple[item])
        for m in (gross, scheduled, net, planned):
            m[~present] = 0.0
        on_hand[~present] = 0.0
        was_rows = prev.rows_for_keys(keys)
        was = was_rows >= 0
        before = np.zeros((n, width))
        before[was] = prev.planned[was_rows[was]]
        differs = (planned != before).any(axis=1)
        self.slot[keys] = self.n_done + np.arange(n)
        self.n_done += n
        self.done_key.append(keys)
        self.done.append({"exists": present, "level": np.full(n, level, np.int64),
                          "on_hand": on_hand, "gross": gross, "scheduled": scheduled,
                          "net": net, "planned": planned})
        return keys[differs]

    def finish(self, segments: Segments, sources: Sources, where: np.ndarray,
               llc: np.ndarray) -> Plan:
        """The replanned plan: re-netted rows written over their previous values; when rows
        appear, vanish or change level (a BOM change moved their item's low-level code), one
        new layout in level then key order, as a full plan lays its rows out."""
        prev, n_sites = self.prev, self.n_sites
        names = ("on_hand", "gross", "scheduled", "net", "planned")
        arrays = {n: getattr(prev, n) for n in names}
        key, level = prev.key, prev.level
        row_of_key = prev._row_of_key
        assert prev.llc is not None
        moved = np.flatnonzero(llc[key // n_sites] != level) \
            if not np.array_equal(llc, prev.llc) else np.zeros(0, np.int64)
        if self.done or len(moved):
            width = self.width
            if self.done:
                done_key = np.concatenate(self.done_key)
                done = {n: self._stacked(n) for n in ("exists", "level") + names}
            else:
                done_key = np.zeros(0, np.int64)
                done = {"exists": np.zeros(0, bool), "level": np.zeros(0, np.int64),
                        "on_hand": np.zeros(0), **{n: np.zeros((0, width)) for n in names[1:]}}
            rows = prev.rows_for_keys(done_key)
            was, now = rows >= 0, done["exists"]
            if not self.in_place:
                arrays = {n: a.copy() for n, a in arrays.items()}
            upd = was & now
            for n in names:
                arrays[n][rows[upd]] = done[n][upd]
            added = np.flatnonzero(~was & now)
            if len(added) or (was & ~now).any() or len(moved):
                key, level = self._layout(arrays, key, level, llc, rows[was & ~now], moved,
                                          done_key[added], done["level"][added],
                                          {n: done[n][added] for n in names})
                row_of_key = None
        out = Plan(prev.calendar, prev.items, prev.sites, segments, sources, key, level,
                   arrays["on_hand"], arrays["gross"], arrays["scheduled"], arrays["net"],
                   arrays["planned"], prev.cycles, where, llc)
        if row_of_key is not None and key is prev.key:
            out._row_of_key = row_of_key
        return out

    def _layout(self, arrays: dict[str, Any], key: np.ndarray, level: np.ndarray,
                llc: np.ndarray, drop: np.ndarray, moved: np.ndarray, add_key: np.ndarray,
                add_level: np.ndarray, add_vals: dict[str, np.ndarray]
                ) -> tuple[np.ndarray, np.ndarray]:
        """Lay the rows out again in level then key order (``arrays`` replaced in the dict):
        ``drop`` rows vanish, ``moved`` rows change level (same values, new place), the added
        rows come in; returns the new (key, level). The rows that stay keep their order, so the
        new layout is a merge (:func:`~workbench.analysis.incremental_layout.relaid`)."""
        n_sites = self.n_sites
        keep = np.ones(len(key), bool)
        keep[drop] = False
        again = moved[keep[moved]]  # rows changing level: out, then in at their level
        keep[again] = False
        kept = np.flatnonzero(keep)
        in_key = np.concatenate([add_key, key[again]])
        in_level = np.concatenate([add_level, llc[key[again] // n_sites]])
        # where each incoming row comes from: an added row (-1 - its index) or an old row
        in_src = np.concatenate([-1 - np.arange(len(add_key)), again])
        space = len(self.prev.items) * n_sites
        order_new = in_level * space + in_key
        sort = np.argsort(order_new)
        pos = np.searchsorted(level[kept] * space + key[kept], order_new[sort]) + \
            np.arange(len(sort))
        total = len(kept) + len(sort)
        old_pos = np.ones(total, bool)
        old_pos[pos] = False
        src = np.empty(total, np.int64)
        src[old_pos], src[pos] = kept, in_src[sort]
        for n, a in arrays.items():
            arrays[n] = relaid(a, src, add_vals[n])
        new_key = np.empty(total, np.int64)
        new_key[old_pos], new_key[pos] = key[kept], in_key[sort]
        new_level = np.empty(total, np.int64)
        new_level[old_pos], new_level[pos] = level[kept], in_level[sort]
        return new_key, new_level


def plan_fields() -> list[str]:
    """The Plan fields :func:`replan` keeps equal to a full plan's (tests compare them)."""
    return [f.name for f in dataclasses.fields(Plan)
            if f.name in ("key", "level", "on_hand", "gross", "scheduled", "net", "planned",
                          "planned_at", "llc")]
