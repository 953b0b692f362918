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
  again at their new level. New lines joining the very (parent, component) pairs of the old ones
  (a sync's quantities and dates) move no low-level code and no "planned at": neither is
  recomputed, and the new lines take the old lines' ids (both indexes kept as they are).
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
item number of each row of the frames searched by item (and, from a frame's second replan on, its
rows by item), and the numbering and sources the replan made (:func:`keep_codes` carries a copied
frame's code numbering and rows by item). Figures: docs/performance.md §2.

The risk-adjusted plan and every other ``plan()`` parameter but the forecast consumption windows
are not replanned: callers replan the plain plan and rebuild the rest on demand.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

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
from workbench.analysis.incremental_sources import (
    FRAMES,
    PatchedSources,
    RowInputs,
    collect_items,
    item_keys,
    item_rows,
    keep_codes,
    master_count,
    patched_sources,
    seed_derived,
)
from workbench.analysis.incremental_work import Extra, Renet
from workbench.analysis.netting import Plan, Segments, plan, plan_segments
from workbench.analysis.planned_change import planned_after_change

__all__ = ["FRAMES", "Change", "PatchedSources", "Replan", "RowInputs", "collect_items",
           "item_rows", "keep_codes", "master_count", "patched_sources", "plan_fields", "renetted",
           "replan", "replan_detail", "seed_derived", "segments_component"]

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
    done = _net_change(previous, data, change, consumption, "in_place" if in_place else "copy")
    if isinstance(done, str):
        return Replan(plan(data, previous.calendar, consumption=consumption), done)
    if isinstance(done, Replan):
        return done
    work, clock = done
    out = work.finish(work.segments, work.sources, work.where, work.llc)
    out.cache["incremental:inputs"] = work.inputs
    if "incremental:master_count" in previous.cache:
        out.cache["incremental:master_count"] = previous.cache["incremental:master_count"]
    clock.lap("layout")
    return Replan(out, "incremental", work.recomputed, work.levels, clock.steps)


def renetted(base: Plan, data: PlanningData, change: Change, *,
             consumption: ForecastConsumption | None = DEFAULT_CONSUMPTION,
             extra: Extra | None = None) -> tuple[Renet, dict[str, float]] | str:
    """The rows ``change`` reaches re-netted on ``data``, leaving ``base`` as it is (a what-if:
    :func:`workbench.analysis.scenario.replan`): the work (:attr:`Renet.done`) and the CPU time
    of each step, or why the net change cannot answer (``"full: ..."``: plan in full or
    otherwise). ``data`` may hold only the changed parents' BOM when ``change`` names no items.
    ``extra``: requirement changes of some rows (key, bucket, quantity), re-netted with them."""
    done = _net_change(base, data, change, consumption, "overlay", extra)
    if isinstance(done, Replan):
        return "unchanged"
    if isinstance(done, str):
        return done
    return done[0], done[1].steps


def _net_change(previous: Plan, data: PlanningData, change: Change,
                consumption: ForecastConsumption | None, mode: str,
                extra: Extra | None = None) -> tuple[Renet, _Clock] | Replan | str:
    """The re-netting of ``change`` (module doc), before its rows are written anywhere; a
    :class:`Replan` when nothing changed, ``"full: <why>"`` when only a full plan can answer.
    ``mode``: how the BOM segments are patched (:func:`merged_segments`)."""

    def full(why: str) -> str:
        return f"full: {why}"

    if not change and (extra is None or not len(extra[0])):

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
    if (idx < 0).any() or (idx >= master_count(data, previous)).any():
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
        if (comp_idx < 0).any() or (comp_idx >= master_count(data, previous)).any():
            return full("a new component is not in the plan's numbering")
        new_segs = plan_segments(sub, items, previous.calendar)
        old_comp = segments_component(previous.segments, parents)
        new_comp = np.unique(new_segs.component).astype(np.int64)
    # where each item is planned can move below the changed parents and below the changed
    # items whose records moved to other item-sites (else the closure is as before); low-level
    # codes and that closure follow the lines' (parent, component) pairs alone: new lines
    # joining the same pairs (a sync's quantities, dates within the horizon) move neither
    planned_moved = isinstance(sources, PatchedSources) and len(changed_items) > 0 and \
        sources.planned_moved
    same_pairs = new_segs is not None and _same_pairs(previous.segments, parents, new_segs,
                                                      len(items))
    start = np.union1d(np.zeros(0, np.int64) if same_pairs else np.union1d(old_comp, new_comp),
                       changed_items if planned_moved else np.zeros(0, np.int64))
    below = descendants(previous.segments, start, len(items)) \
        if len(start) else np.zeros(0, np.int64)
    if new_segs is not None:
        segments = merged_segments(previous.segments, parents, new_segs, len(items), mode=mode)
        if not same_pairs:
            below = np.union1d(below, descendants(segments, start, len(items)))
            llc_new = levels_below(previous.llc, segments, below)
            if llc_new is None:
                return full("the changed BOM has a cycle")
            llc = llc_new
    clock.lap("bom")

    # where each item is planned (its safety stock applies there): the lines of the changed
    # parents are the new ones in ``segments`` and in ``new_segs`` alike (none changed when
    # they join the same pairs as before)
    where = previous.planned_at
    flip = np.zeros(0, np.int64)
    moved_parents = np.zeros(0, np.int64) if same_pairs else parents
    if len(moved_parents) or planned_moved:
        new_part = new_segs if new_segs is not None and len(moved_parents) else Segments(
            *(np.zeros(0, np.int64),) * 2, np.zeros(0), *(np.zeros(0, np.int64),) * 3)
        region = np.union1d(moved_parents, below)  # only their records' item-sites are read
        where = planned_after_change(previous.planned_at,
                                     item_keys(sources, "planned", items, sites, region),
                                     segments, moved_parents, new_part, below, n_sites)
        region = np.flatnonzero(where != previous.planned_at)
        flip = region[items.safety_stock[region // n_sites] > 0]
    clock.lap("planned_at")

    # seeds: rows of changed items, components of changed parents, safety stock flips
    all_sites = np.arange(n_sites, dtype=np.int64)
    seed_items = np.union1d(changed_items, np.union1d(old_comp, new_comp))
    seeds = np.concatenate([(seed_items[:, None] * n_sites + all_sites).ravel(), flip,
                            np.zeros(0, np.int64) if extra is None else extra[0]])
    inputs = RowInputs.of(previous).patched(previous, fresh, changed_items)
    clock.lap("inputs")
    work = Renet(previous, inputs, segments, where, mode == "in_place", extra)
    work.sources, work.llc = sources, llc
    work.levels = work.run(seeds.astype(np.int64), llc)
    clock.lap("net")
    return work, clock


def _same_pairs(segments: Segments, parents: np.ndarray, new: Segments, n_items: int) -> bool:
    """Whether the lines ``new`` of ``parents`` join the same (parent, component) pairs as
    their lines in ``segments``: then no low-level code and no "planned at" moves."""
    seg, _ = gather(segments.ptr_parent, segments.by_parent, parents)
    old_pairs = np.unique(np.asarray(segments.parent[seg], np.int64) * n_items +
                          np.asarray(segments.component[seg], np.int64))
    new_pairs = np.unique(np.asarray(new.parent, np.int64) * n_items +
                          np.asarray(new.component, np.int64))
    return bool(np.array_equal(old_pairs, new_pairs))


def plan_fields() -> list[str]:
    """The Plan fields :func:`replan` keeps equal to a full plan's (tests compare them)."""
    return [f.name for f in dataclasses.fields(Plan)
            if f.name in ("key", "level", "on_hand", "gross", "scheduled", "net", "planned",
                          "planned_at", "llc")]
