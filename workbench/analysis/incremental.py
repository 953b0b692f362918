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
  the orders their reservations name) and replace those items' rows of the previous sources.
* **BOM changes** replace the changed parents' planned BOM segments (spliced into both indexes);
  low-level codes are recomputed below them only (an item's code depends on its ancestors' lines
  alone). Rows whose item changed level are laid out again at their new level.
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
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.analysis.bom import ItemIndex, _kahn, gather
from workbench.analysis.consumption import DEFAULT_CONSUMPTION, ForecastConsumption
from workbench.analysis.data import PlanningData, column_codes
from workbench.analysis.netting import Plan, Segments, net_rows, plan, plan_segments
from workbench.analysis.planned_change import planned_after_change
from workbench.analysis.sources import EPS, Sources, _collect, _label, requirement_buckets
from workbench.domain.enums import InventoryStatus


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
    if (idx < 0).any() or (idx >= _master_count(data)).any():
        return full("a changed item is not in the plan's numbering")
    changed_items = np.unique(items.idx(sorted(change.items))).astype(np.int64) \
        if change.items else np.zeros(0, np.int64)
    parents = np.unique(items.idx(sorted(change.bom_parents))).astype(np.int64) \
        if change.bom_parents else np.zeros(0, np.int64)

    # BOM: the changed parents' segments, low-level codes below them
    segments, llc = previous.segments, previous.llc
    new_segs = None
    if len(parents):
        sub = _bom_of(data, items, parents)
        comp = sub.bom_lines["component"].astype(str).unique()
        comp_idx = items.idx(comp) if len(comp) else np.zeros(0, np.int64)
        if (comp_idx < 0).any() or (comp_idx >= _master_count(data)).any():
            return full("a new component is not in the plan's numbering")
        new_segs = plan_segments(sub, items, previous.calendar)
        segments = _merged(previous.segments, parents, new_segs, len(items))
        llc_new = _levels_below(previous.llc, segments, parents, previous.segments, new_segs)
        if llc_new is None:
            return full("the changed BOM has a cycle")
        llc = llc_new

    # sources of the changed items
    sources = previous.sources
    fresh = None
    if len(changed_items):
        fresh = _collect_items(data, items, changed_items, consumption)
        patched = _patched_sources(previous, fresh, changed_items)
        if patched is None:
            return full("a site gains or loses its last record")
        sources = patched
    _seed_derived(data, items, sources, consumption)

    # where each item is planned (its safety stock applies there)
    where = previous.planned_at
    flip = np.zeros(0, np.int64)
    moved = len(parents) > 0 or (isinstance(sources, _PatchedSources) and
                                 len(changed_items) > 0 and sources.planned_moved)
    if moved:  # else the records' item-sites and the BOM are as before: the closure too
        old_comp = segments_component(previous.segments, parents)
        start = np.union1d(changed_items, np.union1d(
            old_comp, new_segs.component if new_segs is not None else np.zeros(0, np.int64)))
        below = np.union1d(_descendants(previous.segments, start, len(items)),
                           _descendants(segments, start, len(items)))
        new_part = new_segs if new_segs is not None else Segments(
            *(np.zeros(0, np.int64),) * 2, np.zeros(0), *(np.zeros(0, np.int64),) * 3)
        where = planned_after_change(previous.planned_at,
                                     sources.keys("planned", items, sites),
                                     previous.segments, parents, new_part, below, n_sites)
        region = np.flatnonzero(where != previous.planned_at)
        flip = region[items.safety_stock[region // n_sites] > 0]

    # seeds: rows of changed items, components of changed parents, safety stock flips
    all_sites = np.arange(n_sites, dtype=np.int64)
    seed_items = np.union1d(changed_items, np.union1d(
        segments_component(previous.segments, parents),
        new_segs.component.astype(np.int64) if new_segs is not None else np.zeros(0, np.int64)))
    seeds = np.concatenate([(seed_items[:, None] * n_sites + all_sites).ravel(), flip])
    inputs = _Inputs.of(previous).patched(previous, fresh, changed_items)
    work = _Work(previous, inputs, segments, where, in_place)
    levels = work.run(seeds.astype(np.int64), llc)
    out = work.finish(segments, sources, where, llc)
    out.cache["incremental:inputs"] = inputs
    return Replan(out, "incremental", work.recomputed, levels)


def segments_component(segments: Segments, parents: np.ndarray) -> np.ndarray:
    if len(parents) == 0:
        return np.zeros(0, np.int64)
    seg, _ = gather(segments.ptr_parent, segments.by_parent, parents)
    return np.unique(segments.component[seg]).astype(np.int64)


def keep_codes(before: PlanningData, after: PlanningData, entity: str, column: str) -> None:
    """Give ``after.<entity>`` the numbering of ``before``'s column (:func:`column_codes`) for its
    first rows, numbering only the rows appended after them: for a frame copied with some values
    changed but the same codes in the same rows (the overlay of pending decisions on the PO
    lines, a sync changing quantities and dates), so a replan finds the rows of the changed items
    without hashing the whole column again. The caller vouches that those codes are unchanged."""
    old, new = getattr(before, entity), getattr(after, entity)
    if new is old or len(new) < len(old):
        return
    ids, distinct = column_codes(before, entity, column)
    extra = new[column].iloc[len(old):].astype(str).to_numpy(object)
    if len(extra):
        e_ids, e_distinct = pd.factorize(extra)
        known = pd.Index(distinct).get_indexer(e_distinct)
        fresh = known < 0
        known[fresh] = len(distinct) + np.arange(int(fresh.sum()))
        ids = np.concatenate([ids, known[e_ids]])
        distinct = np.concatenate([np.asarray(distinct, object),
                                   np.asarray(e_distinct, object)[fresh]])
    after._derived[f"codes:{entity}.{column}"] = ((new,), (ids, distinct))
    name = f"incremental:items:{entity}.{column}"
    hit = before._derived.get(name)  # the item number of each row (:func:`_item_rows`)
    if hit is not None and hit[0][0] is old:
        items: ItemIndex = hit[0][1]  # type: ignore[assignment]
        number = hit[1]
        if len(extra):
            number = np.concatenate([number, np.asarray(items.idx(extra), number.dtype)])
        after._derived[name] = ((new, items), number)


def _master_count(data: PlanningData) -> int:
    """How many distinct codes the item master has: they come first in the numbering
    (:meth:`ItemIndex.build`), so a code numbered below this count is in the master and stays
    numbered whatever records change."""
    count: int = data.derived("incremental:master_count", (data.items,),
                              lambda: int(data.items["code"].nunique()))
    return count


def _item_rows(data: PlanningData, entity: str, column: str, items: ItemIndex,
               wanted: np.ndarray) -> np.ndarray:
    """Rows of ``data.<entity>`` whose ``column`` is one of the item numbers ``wanted``: a look-up
    in the item number of each row, computed once per frame (from the numbering a bulk load
    seeded or the item index keeps, else one factorization of the column); no string is hashed
    again (a million rows: a few milliseconds)."""
    frame = getattr(data, entity)

    def build() -> np.ndarray:
        hit = items.known.get((entity, column))
        if hit is not None and hit[0] is frame:
            return hit[1]  # the numbering's own array, not a copy
        ids, distinct = column_codes(data, entity, column)
        number = items.idx(distinct)[ids] if len(ids) else np.zeros(0, np.int64)
        return np.asarray(number, np.int32)  # item numbers fit: half the memory

    number = data.derived(f"incremental:items:{entity}.{column}", (frame, items), build)
    mask = np.zeros(len(items) + 1, bool)  # the last one: codes the numbering does not know
    mask[wanted] = True
    return np.flatnonzero(mask[number])


def _bom_of(data: PlanningData, items: ItemIndex, parents: np.ndarray) -> PlanningData:
    revs = data.bom_revisions
    lines = data.bom_lines
    return PlanningData(
        items=data.items,
        bom_revisions=revs.iloc[_item_rows(data, "bom_revisions", "parent", items, parents)],
        bom_lines=lines.iloc[_item_rows(data, "bom_lines", "parent", items, parents)])


def _merged(segments: Segments, parents: np.ndarray, new: Segments, n_items: int) -> Segments:
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


def _descendants(segments: Segments, start: np.ndarray, n_items: int) -> np.ndarray:
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


def _levels_below(llc: np.ndarray, segments: Segments, parents: np.ndarray,
                  old: Segments, new: Segments) -> np.ndarray | None:
    """Low-level codes after the lines of ``parents`` changed: only items below them (under the
    old or the new lines) can move; each is one more than its deepest parent (parents outside
    keep their code). None when the new lines close a cycle."""
    start = np.union1d(segments_component(old, parents), new.component.astype(np.int64))
    region = np.union1d(_descendants(old, start, len(llc)), _descendants(segments, start, len(llc)))
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


class _PatchedSources(Sources):
    """Sources of a replan: the rows of the changed items collected again, every other row the
    previous sources'. The four big frames (a million requirement rows on the large demo) are put
    together on first use only — the replan itself reads their keys and quantities as arrays
    (:class:`_Inputs`), and a chain of replans keeps patching the same base frames."""

    def __init__(self, base: Sources, base_keys: dict[str, np.ndarray],
                 base_items: dict[str, np.ndarray], keep: dict[str, np.ndarray],
                 added: dict[str, pd.DataFrame], added_keys: dict[str, np.ndarray],
                 allocations: pd.DataFrame, site_rows: np.ndarray, items: ItemIndex,
                 sites: pd.Index):
        self._base, self._base_keys, self._base_items = base, base_keys, base_items
        self._keep, self._added, self._added_keys = keep, added, added_keys
        self._site_rows = site_rows  # rows per site over the four frames
        self._numbering = (items, sites)
        self._frames: dict[str, pd.DataFrame] = {}
        self._keys = {}
        self.allocations = allocations
        #: whether the last patch moved where a changed item is planned by its records
        self.planned_moved = True

    def keys(self, name: str, items: Any, sites: pd.Index) -> np.ndarray:
        if name in FRAMES and items is self._numbering[0] and sites.equals(self._numbering[1]):
            if name not in self._keys:
                self._keys[name] = (items, sites, np.concatenate(
                    [self._base_keys[name][self._keep[name]], self._added_keys[name]]))
            return self._keys[name][2]
        return super().keys(name, items, sites)

    def _frame(self, name: str) -> pd.DataFrame:
        if name not in self._frames:
            base: pd.DataFrame = getattr(self._base, name)
            self._frames[name] = pd.concat([base[self._keep[name]], self._added[name]],
                                           ignore_index=True)
        return self._frames[name]

    def _set(self, name: str, frame: pd.DataFrame) -> None:
        self._frames[name] = frame

    on_hand = property(lambda self: self._frame("on_hand"),
                       lambda self, f: self._set("on_hand", f))
    receipts = property(lambda self: self._frame("receipts"),
                        lambda self, f: self._set("receipts", f))
    requirements = property(lambda self: self._frame("requirements"),
                            lambda self, f: self._set("requirements", f))
    planned = property(lambda self: self._frame("planned"),
                       lambda self, f: self._set("planned", f))


#: the frames of :class:`Sources` a replan patches by item
FRAMES = ("on_hand", "receipts", "requirements", "planned")


def _collect_items(data: PlanningData, items: ItemIndex, changed: np.ndarray,
                   consumption: ForecastConsumption | None) -> Sources:
    """The sources of the ``changed`` items only: their rows of every frame, plus the work
    orders of their component rows and the orders their reservations name (so a reservation
    serves what it serves in a full collection)."""
    inv = data.inventory.iloc[_item_rows(data, "inventory", "item", items, changed)]
    woc = data.work_order_components.iloc[
        _item_rows(data, "work_order_components", "component", items, changed)]
    targets = set(inv.loc[inv["status"] == InventoryStatus.ALLOCATED.value,
                          "allocated_to"].astype(str)) - {""}
    dem_rows = _item_rows(data, "demands", "item", items, changed)
    wo_rows = _item_rows(data, "work_orders", "item", items, changed)
    wanted_wo = set(woc["work_order"].astype(str)) | targets
    if wanted_wo:  # each row once, in frame order, as a full collection sees them
        wo_rows = np.union1d(wo_rows, np.flatnonzero(
            data.work_orders["code"].isin(wanted_wo).to_numpy()))
    if targets:
        dem_rows = np.union1d(dem_rows, np.flatnonzero(
            data.demands["code"].isin(targets).to_numpy()))
    demands = data.demands.iloc[dem_rows]
    wos = data.work_orders.iloc[wo_rows]
    pol = data.purchase_order_lines.iloc[
        _item_rows(data, "purchase_order_lines", "item", items, changed)]
    sub = PlanningData(items=data.items, inventory=inv, demands=demands, work_orders=wos,
                       work_order_components=woc, purchase_orders=data.purchase_orders,
                       purchase_order_lines=pol)
    fresh = _collect(sub, None, consumption)
    codes = set(items.codes[changed])
    for name in (*FRAMES, "allocations"):
        frame: pd.DataFrame = getattr(fresh, name)
        setattr(fresh, name, frame[frame["item"].isin(codes)].reset_index(drop=True))
    return fresh


def _patched_sources(previous: Plan, fresh: Sources, changed: np.ndarray) -> Sources | None:
    """The previous plan's sources with the rows of the ``changed`` items replaced by ``fresh``
    (:func:`_collect_items`); None when the plan's sites would change (a site without rows)."""
    items, sites = previous.items, previous.sites
    n_sites = len(sites)
    in_changed = np.zeros(len(items), bool)
    in_changed[changed] = True
    old = previous.sources
    if isinstance(old, _PatchedSources):
        base, base_keys, base_items = old._base, old._base_keys, old._base_items
        keep, site_rows = dict(old._keep), old._site_rows.copy()
        added = dict(old._added)
        added_keys = dict(old._added_keys)
    else:
        base = old
        base_keys = {n: old.keys(n, items, sites) for n in FRAMES}
        base_items = {n: (base_keys[n] // n_sites).astype(np.int32) for n in FRAMES}
        keep = {n: np.ones(len(base_keys[n]), bool) for n in FRAMES}
        site_rows = sum((np.bincount(base_keys[n] % n_sites, minlength=n_sites)
                         for n in FRAMES), np.zeros(n_sites, np.int64))
        added = {n: getattr(old, n).iloc[:0] for n in FRAMES}
        added_keys = {n: np.zeros(0, np.int64) for n in FRAMES}
    planned_moved = False
    for n in FRAMES:
        hit = keep[n] & in_changed[base_items[n]]
        site_rows -= np.bincount(base_keys[n][hit] % n_sites, minlength=n_sites)
        keep[n] = keep[n] & ~hit
        gone = in_changed[added_keys[n] // n_sites]
        site_rows -= np.bincount(added_keys[n][gone] % n_sites, minlength=n_sites)
        removed_keys = np.concatenate([base_keys[n][hit], added_keys[n][gone]])
        new: pd.DataFrame = getattr(fresh, n)
        new_item = items.idx(new["item"]).astype(np.int64)
        new_site = sites.get_indexer(new["site"])
        if (new_item < 0).any() or (new_site < 0).any():
            return None
        site_rows += np.bincount(new_site, minlength=n_sites)
        if n == "planned":  # where the changed items are planned by their records
            planned_moved = not np.array_equal(np.unique(removed_keys),
                                               np.unique(new_item * n_sites + new_site))
        added[n] = pd.concat([added[n][~gone], new], ignore_index=True)
        added_keys[n] = np.concatenate([added_keys[n][~gone], new_item * n_sites + new_site])
    if (site_rows <= 0).any():
        return None
    codes = set(items.codes[changed])
    alloc = old.allocations
    alloc = pd.concat([alloc[~alloc["item"].isin(codes)], fresh.allocations], ignore_index=True)
    out = _PatchedSources(base, base_keys, base_items, keep, added, added_keys, alloc,
                          site_rows, items, sites)
    out.planned_moved = planned_moved
    return out


def _seed_derived(data: PlanningData, items: ItemIndex, sources: Sources,
                  consumption: ForecastConsumption | None) -> None:
    """Make ``data`` answer its item numbering and (plain) sources from the replan's, so the
    session built on it does not compute them again (:meth:`PlanningData.derived`)."""
    data._derived["item_index"] = (
        (data.items, data.bom_lines, data.bom_revisions, data.inventory, data.demands,
         data.work_orders, data.work_order_components, data.purchase_order_lines,
         data.requisitions), items)
    data._derived[f"sources:{_label(consumption)}"] = (
        (data.inventory, data.purchase_orders, data.purchase_order_lines, data.work_orders,
         data.demands, data.work_order_components), sources)


class _Inputs:
    """Each row's own inputs — on hand, scheduled receipts and requirements in the horizon — as
    (key, bucket, quantity) sorted by key, looked up by key. Built once for a full plan (sorting
    a million requirement rows), then patched by each replan: the changed items' entries out,
    their fresh ones in."""

    def __init__(self, parts: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]):
        self.parts = parts

    @classmethod
    def of(cls, plan_: Plan) -> _Inputs:
        hit = plan_.cache.get("incremental:inputs")
        if hit is None:
            hit = cls(cls._entries(plan_.sources, plan_.items, plan_.sites, plan_.calendar))
            plan_.cache["incremental:inputs"] = hit
        return hit

    @staticmethod
    def _entries(sources: Sources, items: ItemIndex, sites: pd.Index, calendar: Any
                 ) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        req = sources.requirements
        rec = sources.receipts
        out = {}
        for name, bucket, qty in (
                ("requirements", requirement_buckets(req, calendar),
                 req["quantity"].to_numpy(float)),
                ("receipts", calendar.bucket(rec["day"].to_numpy(np.int64)),
                 rec["quantity"].to_numpy(float)),
                ("on_hand", None, sources.on_hand["quantity"].to_numpy(float))):
            key = sources.keys(name, items, sites)
            if bucket is None:
                bucket = np.zeros(len(key), np.int64)
            inside = bucket >= 0
            key, qty = key[inside], qty[inside]
            bucket = bucket[inside].astype(np.int32)  # buckets fit: less memory kept
            order = np.argsort(key, kind="stable")
            out[name] = (key[order], bucket[order], qty[order])
        return out

    def patched(self, previous: Plan, fresh: Sources | None, changed: np.ndarray) -> _Inputs:
        """These inputs with the entries of the ``changed`` items replaced by ``fresh``'s: the
        keys of one item are one range of the sorted keys (``item * n_sites + site``), so each
        changed item's range is cut out and its new entries put in its place."""
        if fresh is None or len(changed) == 0:
            return self
        n_sites = previous.n_sites
        fresh._keys.clear()
        new = self._entries(fresh, previous.items, previous.sites, previous.calendar)
        changed = np.sort(changed)
        parts: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        for name, old in self.parts.items():
            lo = np.searchsorted(old[0], changed * n_sites, "left")
            hi = np.searchsorted(old[0], (changed + 1) * n_sites, "left")
            n_lo = np.searchsorted(new[name][0], changed * n_sites, "left")
            n_hi = np.searchsorted(new[name][0], (changed + 1) * n_sites, "left")
            starts = np.concatenate([[0], hi])
            ends = np.concatenate([lo, [len(old[0])]])
            key, bucket, qty = (_splice(c, f, starts, ends, n_lo, n_hi)
                                for c, f in zip(old, new[name]))
            parts[name] = (key, bucket, qty)
        return _Inputs(parts)

    def entries(self, name: str, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(position in ``keys``, bucket, quantity) of every entry of ``keys`` (sorted)."""
        key, bucket, qty = self.parts[name]
        lo = np.searchsorted(key, keys, "left")
        hi = np.searchsorted(key, keys, "right")
        counts = hi - lo
        total = int(counts.sum())
        if total == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
        src = np.repeat(np.arange(len(keys)), counts)
        at = np.repeat(lo - np.cumsum(counts) + counts, counts) + np.arange(total)
        return src, bucket[at], qty[at]


def _splice(column: np.ndarray, fresh: np.ndarray, starts: np.ndarray, ends: np.ndarray,
            fresh_lo: np.ndarray, fresh_hi: np.ndarray) -> np.ndarray:
    """``column`` between the cut ranges (``starts[k]:ends[k]``), each cut filled with
    ``fresh[fresh_lo[k]:fresh_hi[k]]``."""
    pieces = []
    for k in range(len(starts)):
        pieces.append(column[starts[k]:ends[k]])
        if k < len(fresh_lo):
            pieces.append(fresh[fresh_lo[k]:fresh_hi[k]])
    return np.concatenate(pieces)


def _sums(at: np.ndarray, weights: np.ndarray, size: int) -> np.ndarray:
    """``np.bincount`` of float weights, float even when there are none."""
    return np.bincount(at, weights=np.asarray(weights, float), minlength=size).astype(float)


class _Work:
    """The rows re-netted by one replan, level by level, and their write-back."""

    def __init__(self, previous: Plan, inputs: _Inputs, segments: Segments,
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

    def _planned_of(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(exists, planned rows) of ``keys`` in the plan as replanned so far."""
        out = np.zeros((len(keys), self.width))
        exists = np.zeros(len(keys), bool)
        slot = self.slot[keys]
        mine = slot >= 0
        if mine.any():
            stacked_planned = self._stacked("planned")
            stacked_exists = self._stacked("exists")
            out[mine] = stacked_planned[slot[mine]]
            exists[mine] = stacked_exists[slot[mine]]
        rest = np.flatnonzero(~mine)
        if len(rest):
            rows = self.prev.rows_for_keys(keys[rest])
            hit = rows >= 0
            out[rest[hit]] = self.prev.planned[rows[hit]]
            exists[rest[hit]] = True
        return exists, out

    def _stacked(self, name: str) -> np.ndarray:
        return np.concatenate([d[name] for d in self.done])

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
        parent = seg_all.parent[seg].astype(np.int64)
        exists, planned = self._planned_of(parent * n_sites + keys[src] % n_sites)
        b = np.arange(width)[None, :]
        active = (seg_all.first_bucket[seg][:, None] <= b) & (b < seg_all.end_bucket[seg][:, None])
        live = np.where(active & exists[:, None], planned, 0.0)
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
                drop = rows[was & ~now]
                keep = np.ones(len(key), bool)
                keep[drop] = False
                again = moved[keep[moved]]  # rows changing level: out, then in at their level
                keep[moved] = False
                add_key = np.concatenate([done_key[added], key[again]])
                add_level = np.concatenate([done["level"][added], llc[key[again] // n_sites]])
                add_vals = {n: np.concatenate([done[n][added], arrays[n][again]]) for n in names}
                space = len(prev.items) * n_sites
                order_old = level[keep] * space + key[keep]
                order_new = add_level * space + add_key
                sort = np.argsort(order_new)
                order_new = order_new[sort]
                pos = np.searchsorted(order_old, order_new) + np.arange(len(sort))
                total = int(keep.sum()) + len(sort)
                old_pos = np.ones(total, bool)
                old_pos[pos] = False
                new_arrays = {}
                for n in names:
                    a = arrays[n]
                    out_array = np.empty((total,) + a.shape[1:], a.dtype)
                    out_array[old_pos] = a[keep]
                    out_array[pos] = add_vals[n][sort]
                    new_arrays[n] = out_array
                arrays = new_arrays
                new_key = np.empty(total, np.int64)
                new_key[old_pos], new_key[pos] = key[keep], add_key[sort]
                new_level = np.empty(total, np.int64)
                new_level[old_pos], new_level[pos] = level[keep], add_level[sort]
                key, level, row_of_key = new_key, new_level, None
        out = Plan(prev.calendar, prev.items, prev.sites, segments, sources, key, level,
                   arrays["on_hand"], arrays["gross"], arrays["scheduled"], arrays["net"],
                   arrays["planned"], prev.cycles, where, llc)
        if row_of_key is not None and key is prev.key:
            out._row_of_key = row_of_key
        return out


def plan_fields() -> list[str]:
    """The Plan fields :func:`replan` keeps equal to a full plan's (tests compare them)."""
    return [f.name for f in dataclasses.fields(Plan)
            if f.name in ("key", "level", "on_hand", "gross", "scheduled", "net", "planned",
                          "planned_at", "llc")]
