"""What-if replanning: change some parents' BOMs and re-net only what sits below them.

Explosion is linear in planned orders, so a BOM change of parent ``P`` changes the gross
requirements of ``P``'s components by ``explode_new(planned_P) - explode_old(planned_P)``; each
re-netted component passes on ``explode(planned_new - planned_old)``. Rows outside the
descendants of the changed parents keep the base plan exactly. This makes a revision's impact
cost proportional to the BOM below it, not to the plant, and never touches the cache.

Open work orders are not planned orders: their components are the order's own list (see
:mod:`workbench.analysis.sources`), which no BOM change reaches. A caller that moves some of them
to the new BOM (a revision impact moves the *planned* work orders, see
:mod:`workbench.analysis.revisions`) passes the change of their component requirements as
``extra`` (component key, bucket, quantity), netted below like any other change.

A scenario lists only the rows whose plan actually changes (gross, net or planned in some
bucket): a row merely visited by a zero change is not "affected".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.analysis.bom import _csr, _kahn, gather
from workbench.analysis.data import PlanningData
from workbench.analysis.netting import Plan, Segments, net_rows, plan_segments, planned_at
from workbench.analysis.sources import EPS


@dataclass
class Scenario:
    """Affected rows (``key`` = item * n_sites + site) in the base plan and after the change."""

    plan: Plan
    key: np.ndarray
    on_hand: np.ndarray
    scheduled: np.ndarray
    gross_base: np.ndarray
    net_base: np.ndarray
    planned_base: np.ndarray
    gross: np.ndarray
    net: np.ndarray
    planned: np.ndarray

    @property
    def item_codes(self) -> np.ndarray:
        return self.plan.items.codes[self.key // self.plan.n_sites]

    @property
    def site_codes(self) -> np.ndarray:
        return np.asarray(self.plan.sites)[self.key % self.plan.n_sites]

    def projected(self, base: bool = False) -> np.ndarray:
        gross, planned = (self.gross_base, self.planned_base) if base else (self.gross, self.planned)
        return self.on_hand[:, None] + np.cumsum(self.scheduled + planned - gross, axis=1)

    def changed(self) -> np.ndarray:
        """Rows whose gross requirements, net requirements or planned orders change somewhere."""
        return ((np.abs(self.gross - self.gross_base) > EPS).any(axis=1)
                | (np.abs(self.net - self.net_base) > EPS).any(axis=1)
                | (np.abs(self.planned - self.planned_base) > EPS).any(axis=1))

    def only(self, rows: np.ndarray) -> Scenario:
        """The scenario restricted to ``rows`` (a mask or positions), keys still sorted."""
        return Scenario(self.plan, self.key[rows], self.on_hand[rows], self.scheduled[rows],
                        self.gross_base[rows], self.net_base[rows], self.planned_base[rows],
                        self.gross[rows], self.net[rows], self.planned[rows])

    def first_shortage(self, base: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(bucket or -1, quantity) of each row's first positive net requirement."""
        net = self.net_base if base else self.net
        short = net > EPS
        first = np.where(short.any(axis=1), short.argmax(axis=1), -1)
        qty = np.where(first >= 0, net[np.arange(len(net)), np.maximum(first, 0)], 0.0)
        return first, qty


def _segments_of(segments: Segments, parents: np.ndarray) -> Segments:
    """The lines of ``parents`` (sorted unique item numbers) in ``segments``, indexed by parent
    over the positions in ``parents`` (see :func:`_indexed_on`)."""
    sel, _ = gather(segments.ptr_parent, segments.by_parent, parents)  # no pass over 2M lines
    sel = np.sort(sel)
    return _indexed_on(Segments(segments.parent[sel], segments.component[sel],
                                segments.quantity[sel], segments.first_bucket[sel],
                                segments.end_bucket[sel], segments.revision[sel]), parents)


def _indexed_on(segments: Segments, parents: np.ndarray) -> Segments:
    """``segments`` (lines of ``parents`` only) with their parent index (``by_parent``,
    ``ptr_parent``) over the positions in ``parents`` instead of every item number: arrays as
    long as the few changed parents, not as the item master (an index over 200,000 items per
    replan cost more than the replan's netting). Ask it with ``parents=`` in
    :func:`_contributions`; the child index is not built."""
    local = np.searchsorted(parents, segments.parent)
    segments.by_parent, segments.ptr_parent = _csr(local, len(parents))
    return segments


def _contributions(planned: np.ndarray, parent_item: np.ndarray, site: np.ndarray,
                   segments: Segments, offset_all: np.ndarray, n_sites: int,
                   parents: np.ndarray | None = None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(component key, release bucket, quantity) of exploding ``planned`` (rows x buckets).
    ``parents``: the item numbers ``segments`` is indexed over (:func:`_indexed_on`); None when
    it is indexed by item number."""
    width = planned.shape[1]
    nz = np.flatnonzero(np.abs(planned.ravel()) > EPS)
    row, bucket, qty = nz // width, nz % width, planned.ravel()[nz]
    if parents is not None:  # rows of other items have no line here
        at = np.minimum(np.searchsorted(parents, parent_item[row]), max(len(parents) - 1, 0))
        found = parents[at] == parent_item[row] if len(parents) else np.zeros(len(row), bool)
        row, bucket, qty = row[found], bucket[found], qty[found]
        seg, src = gather(segments.ptr_parent, segments.by_parent, at[found])
    else:
        seg, src = gather(segments.ptr_parent, segments.by_parent, parent_item[row])
    b = bucket[src]
    active = (segments.first_bucket[seg] <= b) & (b < segments.end_bucket[seg])
    seg, src, b = seg[active], src[active], b[active]
    release = np.maximum(b - offset_all[parent_item[row[src]]], 0)
    key = segments.component[seg].astype(np.int64) * n_sites + site[row[src]]
    return key, release, qty[src] * segments.quantity[seg]


#: A change of requirements passed to :func:`replan`: (component key, bucket, quantity) arrays.
Delta = tuple[np.ndarray, np.ndarray, np.ndarray]


def replan(base: Plan, changed: PlanningData, parents: list[str],
           extra: Delta | None = None) -> Scenario:
    """Re-net the descendants of ``parents`` with the BOM (revisions, lines) of ``changed``, plus
    the requirement change ``extra`` of their components (see module doc); only rows whose plan
    changes are returned."""
    items, n_sites, width = base.items, base.n_sites, base.calendar.n_buckets
    parent_idx = items.idx(parents)
    parent_idx = np.unique(parent_idx[parent_idx >= 0])
    old = _segments_of(base.segments, parent_idx)
    sub = changed.replace(
        bom_revisions=changed.bom_revisions[changed.bom_revisions["parent"].isin(parents)],
        bom_lines=changed.bom_lines[changed.bom_lines["parent"].isin(parents)],
    )
    new = plan_segments(sub, items, base.calendar)
    offset_all = _offsets(base)
    # Descendants under either BOM, levelled locally (longest path from the changed parents).
    # Below the changed parents every BOM is the base plan's, so the base segments serve.
    below_bom = base.segments
    if extra is None:
        extra = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    extra_items = np.unique(extra[0] // n_sites)
    below = _descendants(below_bom, np.union1d(np.union1d(old.component, new.component),
                                               extra_items), len(items))
    nodes = np.union1d(below, parent_idx)
    local = np.full(len(items), -1, np.int64)
    local[nodes] = np.arange(len(nodes))
    seg_all, _ = gather(below_bom.ptr_parent, below_bom.by_parent, np.setdiff1d(nodes, parent_idx))
    # level by the old and the new lines: a dropped component still loses its requirement
    edges = np.concatenate([
        np.stack([local[below_bom.parent[seg_all]], local[below_bom.component[seg_all]]], axis=1),
        np.stack([local[old.parent], local[old.component]], axis=1),
        np.stack([local[new.parent], local[new.component]], axis=1),
        # a work order's own component may be in neither BOM: it still sits below its parent
        np.stack([np.repeat(local[parent_idx], len(extra_items)),
                  np.tile(local[extra_items], len(parent_idx))], axis=1)])
    level, _ = _kahn(len(nodes), edges)

    parent_keys = (parent_idx[:, None].astype(np.int64) * n_sites + np.arange(n_sites)).ravel()
    parent_rows = np.sort(base.rows_for_keys(parent_keys))
    parent_rows = parent_rows[parent_rows >= 0]
    # from the rows' own keys (the plan's item/site properties divide every row's key)
    prow_item, prow_site = base.key[parent_rows] // n_sites, base.key[parent_rows] % n_sites
    k_new = _contributions(base.planned[parent_rows], prow_item, prow_site, new, offset_all, n_sites)
    k_old = _contributions(base.planned[parent_rows], prow_item, prow_site, old, offset_all,
                           n_sites, parents=parent_idx)
    # where items are planned under the changed BOM (their safety stock applies there); a row
    # whose item becomes or stops being planned at its site is re-netted even without a change
    # of its requirements
    where = _planned_after(base, parent_idx, new, below)
    flip = np.flatnonzero(where != _planned_before(base))
    flip = flip[items.safety_stock[flip // n_sites] > 0]
    delta_key = np.concatenate([k_new[0], k_old[0], extra[0], flip]).astype(np.int64)
    delta_bucket = np.concatenate([k_new[1], k_old[1], extra[1],
                                   np.zeros(len(flip))]).astype(np.int64)
    delta_qty = np.concatenate([k_new[2], -k_old[2], extra[2], np.zeros(len(flip))]).astype(float)

    done: list[tuple[np.ndarray, ...]] = []
    for lv in range(1, int(level.max(initial=0)) + 1):
        at_level = local[delta_key // n_sites]
        sel = (at_level >= 0) & (level[np.maximum(at_level, 0)] == lv)
        if not sel.any():
            continue
        keys = np.unique(delta_key[sel])
        n = len(keys)
        flat = np.searchsorted(keys, delta_key[sel]) * width + delta_bucket[sel]
        delta = np.bincount(flat, weights=delta_qty[sel], minlength=n * width).reshape(n, width)
        delta_key, delta_bucket, delta_qty = delta_key[~sel], delta_bucket[~sel], delta_qty[~sel]
        pos = base.rows_for_keys(keys)
        exists = pos >= 0

        def rows(matrix: np.ndarray, n: int = n, pos: np.ndarray = pos,
                 exists: np.ndarray = exists) -> np.ndarray:
            out = np.zeros((n, width))
            out[exists] = matrix[pos[exists]]
            return out

        on_hand = np.where(exists, base.on_hand[pos] if len(base.key) else 0.0, 0.0)
        scheduled, gross_b = rows(base.scheduled), rows(base.gross)
        net_b, planned_b = rows(base.net), rows(base.planned)
        gross = np.maximum(gross_b + delta, 0.0)
        gross[np.abs(gross) <= EPS] = 0.0
        item = keys // n_sites
        # safety stock applies where the item is planned under the changed BOM (as in a full
        # plan, see workbench.analysis.netting)
        net, planned = net_rows(on_hand, scheduled, gross,
                                np.where(where[keys], items.safety_stock[item], 0.0),
                                items.min_order_qty[item], items.order_multiple[item])
        done.append((keys, on_hand, scheduled, gross_b, net_b, planned_b, gross, net, planned))
        k = _contributions(planned - planned_b, item, keys % n_sites, below_bom, offset_all, n_sites)
        delta_key = np.concatenate([delta_key, k[0]])
        delta_bucket = np.concatenate([delta_bucket, k[1]])
        delta_qty = np.concatenate([delta_qty, k[2]])
    if not done:
        empty = np.zeros((0, width))
        return Scenario(base, np.zeros(0, np.int64), np.zeros(0), *([empty] * 7))
    cols = [np.concatenate(c) for c in zip(*done)]
    order = np.argsort(cols[0], kind="stable")
    scenario = Scenario(base, *[c[order] for c in cols])
    return scenario.only(scenario.changed())


def _offsets(base: Plan) -> np.ndarray:
    """Every item's lead time in buckets (:meth:`Calendar.offset`), worked out once per plan
    and kept with it (over the whole item master: a fixed cost of every replan otherwise)."""
    memo = vars(base)
    lead = base.items.lead_time_days
    hit = memo.get("_scenario_offsets")
    if hit is not None and hit[0] is lead:  # the same item master's lead times
        return hit[1]
    offsets = base.calendar.offset(lead)
    memo["_scenario_offsets"] = (lead, offsets)
    return offsets


def _planned_before(base: Plan) -> np.ndarray:
    if base.planned_at is not None:
        return base.planned_at
    mask = np.zeros(len(base.items) * base.n_sites, bool)
    mask[base.key] = True
    return mask


def _planned_after(base: Plan, parent_idx: np.ndarray, new: Segments,
                   below: np.ndarray | None = None) -> np.ndarray:
    """Where items are planned once ``parent_idx`` use the lines ``new`` instead of theirs:
    recomputed only for the items ``below`` them when the base plan keeps its mask
    (:func:`workbench.analysis.planned_change.planned_after_change`), else in full."""
    if base.planned_at is not None and below is not None:
        from workbench.analysis.planned_change import planned_after_change

        return planned_after_change(base.planned_at, base.sources.keys("planned", base.items,
                                                                       base.sites),
                                    base.segments, parent_idx, new, below, base.n_sites)
    seg = base.segments
    keep = ~np.isin(seg.parent, parent_idx)
    merged = Segments(*(np.concatenate([getattr(seg, f)[keep], getattr(new, f)])
                        for f in ("parent", "component", "quantity", "first_bucket",
                                  "end_bucket", "revision"))).index(len(base.items))
    keys = base.sources.keys("planned", base.items, base.sites)
    return planned_at(merged, len(base.items), base.n_sites, keys)


def _descendants(segments: Segments, start: np.ndarray, n_items: int) -> np.ndarray:
    seen = np.zeros(n_items, bool)
    seen[start] = True
    frontier = start
    while len(frontier):
        seg, _ = gather(segments.ptr_parent, segments.by_parent, frontier)
        kids = np.unique(segments.component[seg])
        frontier = kids[~seen[kids]]
        seen[frontier] = True
    return np.flatnonzero(seen)


def summary_frame(scenario: Scenario) -> pd.DataFrame:
    """Side by side per affected row: totals and first shortage, base vs. changed."""
    cal = scenario.plan.calendar
    fb, qb = scenario.first_shortage(base=True)
    fn, qn = scenario.first_shortage()

    def date(bucket: np.ndarray) -> list[dt.date | None]:
        return [cal.need_date(int(b)) if b >= 0 else None for b in bucket]

    return pd.DataFrame({
        "item": scenario.item_codes,
        "site": scenario.site_codes,
        "gross_base": scenario.gross_base.sum(axis=1),
        "gross": scenario.gross.sum(axis=1),
        "net_base": scenario.net_base.sum(axis=1),
        "net": scenario.net.sum(axis=1),
        "first_shortage_base": date(fb),
        "first_shortage_quantity_base": qb,
        "first_shortage": date(fn),
        "first_shortage_quantity": qn,
    })


@dataclass
class Comparison:
    """Two scenarios of one base plan side by side, week by week, on the rows where they differ
    (a row one scenario did not change keeps the base plan on that side)."""

    plan: Plan
    key: np.ndarray
    #: "a" / "b" -> gross, net, planned, projected (before planned orders) per row and bucket
    sides: dict[str, dict[str, np.ndarray]]

    @property
    def item_codes(self) -> np.ndarray:
        return self.plan.items.codes[self.key // self.plan.n_sites]

    @property
    def site_codes(self) -> np.ndarray:
        return np.asarray(self.plan.sites)[self.key % self.plan.n_sites]

    def first_shortage(self, side: str) -> tuple[list[dt.date | None], np.ndarray]:
        """(date or None, quantity) of each row's first positive net requirement on ``side``."""
        net = self.sides[side]["net"]
        short = net > EPS
        first = np.where(short.any(axis=1), short.argmax(axis=1), -1)
        qty = np.where(first >= 0, net[np.arange(len(net)), np.maximum(first, 0)], 0.0)
        cal = self.plan.calendar
        return [cal.need_date(int(b)) if b >= 0 else None for b in first], qty

    def frame(self) -> pd.DataFrame:
        """Per row (by item and site): total gross and net requirements and the first shortage
        on each side."""
        a, b = self.sides["a"], self.sides["b"]
        first_a, qty_a = self.first_shortage("a")
        first_b, qty_b = self.first_shortage("b")
        return pd.DataFrame({
            "item": self.item_codes, "site": self.site_codes,
            "gross_a": a["gross"].sum(axis=1), "gross_b": b["gross"].sum(axis=1),
            "net_a": a["net"].sum(axis=1), "net_b": b["net"].sum(axis=1),
            "first_a": pd.Series(first_a, dtype=object), "qty_a": qty_a,
            "first_b": pd.Series(first_b, dtype=object), "qty_b": qty_b,
        }).sort_values(["item", "site"]).reset_index(drop=True)

    def weekly(self) -> dict[str, object]:
        """The bucket dates and, per row, each side's projected available and net requirements
        per bucket (what a chart of "before vs after, week by week" draws). Projected available
        here is before any planned order — on hand plus scheduled receipts less gross
        requirements, as the shortage chart shows it — so the buckets below safety stock are
        the shortages the planner must cover."""
        safety = self.plan.items.safety_stock[self.key // self.plan.n_sites]
        rows = [{"item": item, "site": site, "safety_stock": float(ss),
                 "projected_a": self.sides["a"]["projected"][i],
                 "projected_b": self.sides["b"]["projected"][i],
                 "net_a": self.sides["a"]["net"][i], "net_b": self.sides["b"]["net"][i]}
                for i, (item, site, ss) in enumerate(zip(self.item_codes, self.site_codes, safety))]
        return {"dates": self.plan.calendar.dates(), "rows": rows}


def _side(s: Scenario, other: Scenario, keys: np.ndarray) -> dict[str, np.ndarray]:
    """``s``'s matrices for ``keys``; keys ``s`` did not change take the base plan from ``other``
    (which changed them, so holds their base rows)."""
    width = s.plan.calendar.n_buckets
    out = {name: np.zeros((len(keys), width)) for name in ("gross", "net", "planned", "projected")}
    for scen, base in ((s, False), (other, True)):
        pos = np.searchsorted(scen.key, keys)
        hit = pos < len(scen.key)
        hit[hit] = scen.key[pos[hit]] == keys[hit]
        if base:  # only what ``s`` itself does not hold
            hit &= ~np.isin(keys, s.key)
        p = pos[hit]
        gross = (scen.gross_base if base else scen.gross)[p]
        planned = (scen.planned_base if base else scen.planned)[p]
        out["gross"][hit], out["planned"][hit] = gross, planned
        out["net"][hit] = (scen.net_base if base else scen.net)[p]
        out["projected"][hit] = scen.on_hand[p][:, None] + np.cumsum(
            scen.scheduled[p] - gross, axis=1)
    return out


def compare(a: Scenario, b: Scenario) -> Comparison:
    """``a`` vs ``b`` (two scenarios of the same base plan) on the rows where they differ."""
    keys = np.union1d(a.key, b.key).astype(np.int64)
    sa, sb = _side(a, b, keys), _side(b, a, keys)
    differs = np.zeros(len(keys), bool)
    for name in ("gross", "net", "planned"):
        differs |= (np.abs(sa[name] - sb[name]) > EPS).any(axis=1)
    return Comparison(a.plan, keys[differs],
                      {"a": {k: v[differs] for k, v in sa.items()},
                       "b": {k: v[differs] for k, v in sb.items()}})
