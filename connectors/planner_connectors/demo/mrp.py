"""The MRP run that balanced the demo plant three weeks before day 0, and what drifted since.

A real plant's open orders and stock are not random: an MRP run sized them to cover the demand
it knew about, and the world moved on. The generator does the same, level by level down the BOM
(finished goods first, bought parts last), on requirement entries in the item's stock unit:

* entries are independent demand (forecasts, sales orders, spares) and the components of the work
  orders made at the levels above, required on the order's start date;
* a few entries of each row (item at a site) become *anchors*: a work order (made items) or a
  purchase-order line (bought items) is due just before the anchor and sized to cover the
  row's requirements from its anchor up to the next one; stock on hand covers everything
  before the first anchor, plus safety stock. Each row gets a margin of a few to a few tens of
  percent (and components some cycle stock), so small disturbances are absorbed. Value-heavy
  near-term requirements are likeliest to get an order; cheap parts live off stock; for some
  bought parts' later needs the run proposed a requisition instead, which a buyer has yet to
  order (netting does not count requisitions, so those rows show a shortage from then on);
* a component's requirement stays at its parent's site, so every plant has the stock and orders
  of what it builds;
* every item a plant builds with (through any BOM level of a revision released for the horizon,
  preferred lines) carries its safety stock there, also when no order needs it right now: the
  workbench keeps an item's safety stock wherever an item planned at the site uses it
  (:mod:`workbench.analysis.netting`), and so did the run.

Every entry has an *actual* quantity (what the plant sees today) and a *planned* one (what the
MRP run knew three weeks ago); supply is sized on the planned one. They differ where the plant
drifted: sales orders taken since the run (planned 0), engineering changes released after it
(a work order built to the new revision needs the added component the run did not plan, while
the run's supply for a removed component turns into excess), and rush orders bigger than
forecast. Later, unreliable suppliers' late promises and quality-held lots (see
:mod:`planner_connectors.demo.purchasing` and :mod:`planner_connectors.demo.production`) add the rest.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from planner_connectors.demo.anchors import Cover, Entries, Pending, cover_anchors, weighted_pick
from planner_connectors.demo.boms import RELEASED_S, Boms, block_rows
from planner_connectors.demo.clock import MRP_DAY, NO_DATE, stream, to_weekday
from planner_connectors.demo.master import EA, Items, nice, stock_factor
from planner_connectors.demo.production import (
    COMPLETED,
    IN_PROGRESS,
    PLANNED,
    RELEASED,
    Demands,
    WorkOrders,
    round_quantity,
)
from planner_connectors.demo.scales import FG, MAX_DEPTH, PP, SA, Scale
from planner_connectors.demo.shortfall import row_deficits

#: weeks of requirements the plan looks at (the planning horizon the workbench shows by default)
HORIZON_WEEKS = 26
#: share of the work orders that are recently completed (history, no longer supply)
_COMPLETED_SHARE = 0.1
#: finished goods need a few orders each to span the horizon; weight of an FG row vs an SA row
_FG_WEIGHT = 3.0
#: share of the requisitions the run proposed for later needs (the rest: see requisitions.py)
_PLANNED_REQUISITIONS = 1.3
#: cycle stock of a component row: up to this many weeks of its usage
_CYCLE_WEEKS = 3.0


@dataclass
class BuyLines:
    """Open purchase-order lines the plan wants: requested date and quantity in stock unit."""

    item: np.ndarray
    site: np.ndarray
    requested: np.ndarray
    quantity: np.ndarray


@dataclass
class RequisitionLines(BuyLines):
    """Requisitions the plan proposed: need date and quantity in stock unit. ``short``: the
    rows the plant runs short on today (actual requirements beyond stock and open PO lines,
    below safety stock, rows without a proposed requisition), one line each: the first day it
    is short and the whole shortfall over the horizon — what reorder points and people raise
    requisitions for (:mod:`planner_connectors.demo.requisitions`)."""

    short: BuyLines | None = None


@dataclass
class StockNeed:
    """Available stock each row needs on day 0 (stock unit), and whether it has requirements."""

    item: np.ndarray
    site: np.ndarray
    quantity: np.ndarray
    planned_total: np.ndarray  # planned requirement over the horizon


@dataclass
class Mrp:
    items: Items  # the item master with planning parameters sized on the requirements
    work_orders: WorkOrders
    buy: BuyLines
    requisitions: RequisitionLines
    stock: StockNeed
    #: safety stock of the rows reached only through a BOM (:meth:`_Planner.buffer_rows`)
    buffers: StockNeed


class _Planner:
    """Runs the levels (see the module docstring); one instance per plant."""

    def __init__(self, items: Items, boms: Boms, demands: Demands, scale: Scale, seed: int) -> None:
        self.items, self.boms, self.scale = items, boms, scale
        self.rng = stream(seed, "mrp")
        self.buffers_rng = stream(seed, "buffers")
        self.buffers = StockNeed(*(np.zeros(0, np.int64),) * 2, np.zeros(0), np.zeros(0))
        self.n_sites = scale.sites
        self.pending = Pending(items.height.astype(np.int64))
        self.safety = items.safety_stock.copy()
        self.unit_scale = items.unit_scale.copy()
        self.moq = items.min_order_qty.copy()
        self.multiple = items.order_multiple.copy()
        self.stock: list[tuple[np.ndarray, ...]] = []
        self.orders: list[dict[str, np.ndarray]] = []
        self.preferred = boms.lines.alt_prio < 2
        #: finished goods are built in regular lots: days between orders
        self.spacing = self.rng.integers(42, 71, len(items))
        self.factor = stock_factor(boms.lines.uom)
        self.pending.add(
            Entries(demands.item, demands.site, demands.due, demands.quantity, demands.planned)
        )

    # -- planning parameters ---------------------------------------------------------------------
    def _calibrate(self, e: Entries) -> None:
        """Safety stock, typical lot, minimum and multiple of the items of ``e`` from their
        planned weekly requirement (what an MRP consultant would have set them to)."""
        items, rng = self.items, self.rng
        inside = e.day < HORIZON_WEEKS * 7
        total = np.bincount(e.item[inside], weights=e.planned[inside], minlength=len(items))
        rate = total / HORIZON_WEEKS
        used = np.flatnonzero(rate > 0)
        counted = items.uom[used] == EA
        weekly = rate[used]
        made_fg = items.kind[used] == FG
        lot = np.where(made_fg, self.unit_scale[used], np.maximum(1.0, np.round(weekly * 4)))
        self.unit_scale[used] = lot
        ss = weekly * rng.uniform(0.5, 2.0, len(used))
        ss = np.where(counted, np.maximum(1.0, np.round(ss)), np.round(ss, 1))
        # buffers sit on bought parts and finished goods; few sub-assemblies carry one
        buffered = (items.safety_stock[used] > 0) & (
            (items.kind[used] != SA) | (rng.random(len(used)) < 0.2)
        )
        self.safety[used] = np.where(buffered, ss, 0.0)
        mult = np.where(items.order_multiple[used] > 0, nice(lot * 0.1), 0.0)
        mult = np.where(counted | (mult == 0), mult, np.minimum(mult, 1.0))
        moq = np.where(items.min_order_qty[used] > 0, nice(lot * 0.5), 0.0)
        self.multiple[used] = mult
        self.moq[used] = np.where(mult > 0, np.ceil(moq / np.maximum(mult, 1e-9)) * mult, moq)

    def _keep_stock(self, key: np.ndarray, quantity: np.ndarray, total: np.ndarray) -> None:
        self.stock.append((key, quantity, total))

    def _row_stock(self, cover: Cover) -> np.ndarray:
        """Stock a row holds: safety stock, its early requirements with the row's margin, and
        what is left of the last lot (cycle stock: up to a few weeks of the row's usage;
        finished goods are built to demand and keep less)."""
        rng, n = self.rng, len(cover.row_key)
        margin = np.where(rng.random(n) < 0.1, rng.uniform(0.5, 2.0, n), rng.uniform(0.03, 0.3, n))
        item = cover.row_key // self.n_sites
        weeks = rng.uniform(0, np.where(self.items.kind[item] == FG, 1.0, _CYCLE_WEEKS))
        cycle = cover.planned_total / HORIZON_WEEKS * weeks
        out: np.ndarray = self.safety[item] + cover.stock * (1 + margin) + cycle
        return out

    # -- made items ------------------------------------------------------------------------------
    def made_level(self, level: int, budget: int) -> int:
        """Plan the made items of one BOM height; returns how many work orders it opened."""
        e = self.pending.take(level)
        if len(e.item) == 0:
            return 0
        self._calibrate(e)
        items = self.items
        fg = items.kind[e.item] == FG
        value = e.planned * items.standard_cost[e.item]
        near = np.where(fg, 1.0, np.exp(-np.maximum(e.day, 0) / 15.0))
        usable = (e.planned > 0) & (e.day >= 1) & (e.day < HORIZON_WEEKS * 7 - 7)
        weight = np.where(usable, value * near * np.where(fg, _FG_WEIGHT, 1.0), 0.0)
        spacing = np.where(fg, self.spacing[e.item], 0)
        cover = cover_anchors(self.rng, e, self.n_sites, weight, budget, spacing)
        completed = self._work_orders(cover)
        stock = self._row_stock(cover) + completed
        self._keep_stock(cover.row_key, stock, cover.planned_total)
        return len(cover.anchor_key)

    def _work_orders(self, cover: Cover) -> np.ndarray:
        """Open work orders for the anchors; their components go to the levels below. Returns
        per row the quantity already completed on its orders (now in stock)."""
        items, boms, rng = self.items, self.boms, self.rng
        n = len(cover.anchor_key)
        item = cover.anchor_key // self.n_sites
        site = cover.anchor_key % self.n_sites
        due = to_weekday(np.maximum(cover.anchor_day - rng.integers(1, 8, n), 1), back=True)
        start = to_weekday(due - items.lead_time[item], back=True)
        r = rng.random(n)
        status = np.where(
            start < 0,
            np.where(r < 0.85, IN_PROGRESS, RELEASED),
            np.where(start <= 21, np.where(r < 0.85, RELEASED, PLANNED), PLANNED),
        ).astype(np.int8)
        qty = np.maximum(1.0, np.ceil(cover.anchor_qty * rng.uniform(1.0, 1.25, n)))  # all EA
        done = np.where(status == IN_PROGRESS, np.floor(qty * rng.uniform(0, 0.8, n)), 0.0)
        revision = boms.revision_at(item, start)
        change = boms.change_day[item]
        unaware = (boms.next_rev[item] >= 0) & (change > MRP_DAY) & (start >= np.maximum(change, 0))
        self._components(item, site, qty, start, due, status, revision, unaware, done)
        row = np.searchsorted(cover.row_key, cover.anchor_key)
        return np.bincount(row, weights=done, minlength=len(cover.row_key))

    def _components(
        self,
        item: np.ndarray,
        site: np.ndarray,
        qty: np.ndarray,
        start: np.ndarray,
        due: np.ndarray,
        status: np.ndarray,
        revision: np.ndarray,
        unaware: np.ndarray,
        done: np.ndarray,
    ) -> None:
        """Component rows of new work orders, and their requirement entries (plus the rev-A
        requirements the plan assumed for orders an unforeseen change moved to rev B)."""
        lines, rng = self.boms.lines, self.rng
        wo, line = self._lines_of(revision)
        required = np.round(qty[wo] * lines.quantity[line] * (1 + lines.scrap[line] / 100), 4)
        issuing = (status[wo] == IN_PROGRESS) & (rng.random(len(wo)) < 0.7)
        issued = np.where(issuing | (status[wo] == COMPLETED), required, 0.0)
        open_qty = (required - issued) / self.factor[line]
        comp = lines.component[line]
        parts = [Entries(comp, site[wo], start[wo], open_qty, np.where(unaware[wo], 0.0, open_qty))]
        old = np.flatnonzero(unaware)
        if len(old):
            o_wo, o_line = self._lines_of(item[old])  # rev A is numbered like its item
            planned = qty[old][o_wo] * lines.quantity[o_line] * (1 + lines.scrap[o_line] / 100)
            parts.append(
                Entries(
                    lines.component[o_line],
                    site[old][o_wo],
                    start[old][o_wo],
                    np.zeros(len(o_wo)),
                    planned / self.factor[o_line],
                )
            )
        self.pending.add(Entries.concat(parts))
        self.orders.append(
            {
                "item": item,
                "site": site,
                "quantity": qty,
                "completed": done,
                "start": start,
                "due": due,
                "status": status,
                "revision": revision,
                "comp_wo": wo,
                "comp_line": line,
                "comp_required": required,
                "comp_issued": issued,
            }
        )

    def _lines_of(self, revision: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(order index, BOM line row) of the preferred lines of each order's revision."""
        start = self.boms.line_start[revision]
        counts = self.boms.line_start[revision + 1] - start
        line = block_rows(start, counts)
        wo = np.repeat(np.arange(len(revision)), counts)
        keep = self.preferred[line]
        return wo[keep], line[keep]

    def completed_orders(self, n: int) -> None:
        """Orders finished in the last weeks: history only, their components all issued."""
        items, rng = self.items, self.rng
        key = np.concatenate([k for k, _, _ in self.stock]) if self.stock else np.zeros(0, np.int64)
        made = key[key // self.n_sites < items.start[PP]]
        if len(made) == 0:
            made = np.arange(items.start[PP]) * self.n_sites + items.home_site[: items.start[PP]]
        key = made[rng.integers(0, len(made), n)]
        item, site = key // self.n_sites, key % self.n_sites
        start = to_weekday(-rng.integers(5, 31, n), back=True)
        due = to_weekday(start + items.lead_time[item])
        qty = np.maximum(1.0, np.round(self.unit_scale[item] * rng.uniform(0.5, 1.5, n)))
        status = np.full(n, COMPLETED, dtype=np.int8)
        revision = self.boms.revision_at(item, start)
        self._components(
            item, site, qty, start, due, status, revision, np.zeros(n, bool), qty.copy()
        )

    # -- bought items ----------------------------------------------------------------------------
    def bought_level(self, budget: int, requisitions: int) -> None:
        """Open purchase-order lines for the weightiest near-term needs, requisitions for some
        later ones, stock for the rest."""
        e = self.pending.take(0)
        self._calibrate(e)
        items, rng = self.items, self.rng
        lead = items.lead_time[e.item]
        planned_before = e.planned
        e = self._requisitions(e, lead, requisitions)
        near = np.where(e.day <= lead + 14, 1.0, np.where(e.day <= 150, 0.15, 0.0))
        usable = (e.planned > 0) & (e.day >= 2)
        weight = np.where(usable, e.planned * items.standard_cost[e.item] * near, 0.0)
        cover = cover_anchors(rng, e, self.n_sites, weight, budget)
        n = len(cover.anchor_key)
        item = cover.anchor_key // self.n_sites
        requested = to_weekday(np.maximum(cover.anchor_day - rng.integers(0, 5, n), 1))
        qty = self._lot(item, cover.anchor_qty * rng.uniform(1.0, 1.3, n))
        # fill up to the budget with lines for stocked rows the plan ordered ahead: excess
        extra = budget - n
        rows = cover.row_key[rng.integers(0, len(cover.row_key), extra)]
        x_item = rows // self.n_sites
        x_req = to_weekday(rng.integers(10, 120, extra))
        x_qty = self._lot(x_item, self.unit_scale[x_item] * rng.uniform(0.5, 2.0, extra))
        self.buy = BuyLines(
            np.concatenate([item, x_item]),
            np.concatenate([cover.anchor_key, rows]) % self.n_sites,
            np.concatenate([requested, x_req]),
            np.concatenate([qty, x_qty]),
        )
        stock = self._row_stock(cover)
        self._keep_stock(cover.row_key, stock, cover.planned_total)
        self._size_requisitions(e, planned_before, cover.row_key, stock)

    def _size_requisitions(self, e: Entries, planned: np.ndarray, rows: np.ndarray,
                           stock: np.ndarray) -> None:
        """Net the proposed requisitions as the run would have: each covers what its row's
        *planned* requirements (``planned``, per entry of ``e``) take below safety stock after
        the row's stock and open PO lines (with their margins), lot-sized, needed
        from the first short day; a row whose margins cover it needs none (quantity 0, left
        out by :mod:`planner_connectors.demo.requisitions`).
        Then the rows short today on *actual* requirements (:attr:`RequisitionLines.short`)."""
        n_sites, req = self.n_sites, self.requisitions
        worst, first = self._deficits(e, planned, rows, stock)
        proposed = req.item.astype(np.int64) * n_sites + req.site
        at = np.searchsorted(rows, proposed)
        found = (at < len(rows)) & (rows[np.minimum(at, len(rows) - 1)] == proposed)
        net = np.where(found, worst[np.minimum(at, len(rows) - 1)], 0.0)
        sized = net > 0
        req.quantity = np.where(sized, self._lot(req.item, net), 0.0)
        day = first[np.minimum(at, len(rows) - 1)]
        req.requested = np.where(sized, to_weekday(np.maximum(day - 2, 1)), req.requested)
        worst, first = self._deficits(e, e.actual, rows, stock)
        got = (worst > 0) & ~np.isin(rows, proposed)
        req.short = BuyLines(rows[got] // n_sites, rows[got] % n_sites, first[got], worst[got])

    def _deficits(self, e: Entries, values: np.ndarray, rows: np.ndarray, stock: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
        """Per row (sorted keys, day-0 ``stock``): the largest amount by which the requirements
        ``values`` (per entry of ``e``, inside the horizon) take projected stock + open PO lines
        below safety stock (the lot-for-lot net requirement up to the horizon; 0: never), and
        the first day they do."""
        n_sites, buy = self.n_sites, self.buy
        inside = (values > 0) & (e.day < HORIZON_WEEKS * 7)
        return row_deficits(
            rows, stock - self.safety[rows // n_sites],
            (buy.item.astype(np.int64) * n_sites + buy.site, buy.requested, buy.quantity),
            (e.item[inside].astype(np.int64) * n_sites + e.site[inside], e.day[inside],
             values[inside]))

    def _requisitions(self, e: Entries, lead: np.ndarray, budget: int) -> Entries:
        """Needs beyond a row's lead time the run proposed requisitions for, not yet ordered: the
        plan counts on them, netting does not (a requisition is not supply), so the row runs
        short from then on until a buyer orders. Returns ``e`` without those planned needs."""
        rng, n_sites = self.rng, self.n_sites
        later = (e.planned > 0) & (e.day >= lead + 21) & (e.day < (HORIZON_WEEKS - 2) * 7)
        weight = np.where(later, e.planned * self.items.standard_cost[e.item], 0.0)
        picked = weighted_pick(rng, weight, budget)
        key = e.item.astype(np.int64) * n_sites + e.site
        # one requisition per row, from its earliest picked need on
        order = np.lexsort((e.day[picked], key[picked]))
        picked = picked[order][np.r_[True, np.diff(key[picked][order]) != 0][: len(picked)]]
        rows, row_of = np.unique(key, return_inverse=True)
        since = np.full(len(rows), np.iinfo(np.int64).max)
        since[np.searchsorted(rows, key[picked])] = e.day[picked]
        covered = e.day >= since[row_of]
        anchor = np.searchsorted(rows, key[picked])
        qty = (
            np.bincount(
                np.searchsorted(anchor, row_of[covered]),
                weights=e.planned[covered],
                minlength=len(anchor),
            )
            if len(anchor)
            else np.zeros(0)
        )
        item = rows[anchor] // n_sites
        self.requisitions = RequisitionLines(
            item,
            rows[anchor] % n_sites,
            to_weekday(np.maximum(since[anchor] - rng.integers(0, 5, len(anchor)), 1)),
            self._lot(item, qty * rng.uniform(1.0, 1.2, len(anchor))),
        )
        return Entries(e.item, e.site, e.day, e.actual, np.where(covered, 0.0, e.planned))

    def _lot(self, item: np.ndarray, qty: np.ndarray) -> np.ndarray:
        """An order quantity: at least the minimum, a multiple of the order multiple, whole
        numbers for counted units."""
        qty = np.maximum(qty, self.moq[item])
        mult = self.multiple[item]
        qty = np.where(mult > 0, np.ceil(qty / np.maximum(mult, 1e-9)) * mult, qty)
        out: np.ndarray = np.where(
            self.items.uom[item] == EA,
            np.maximum(1.0, np.ceil(qty - 1e-9)),
            round_quantity(qty, np.zeros(len(qty), bool)),
        )
        return out

    # -- the result ------------------------------------------------------------------------------
    def buffer_rows(self) -> None:
        """Stock of safety stock (and a small margin) at every row the plant reaches only
        through a BOM: the components, through every level, of the items planned at a site
        (its rows so far), by the preferred lines of the revisions released for the horizon."""
        b, n_sites = self.boms, self.n_sites
        keys = np.unique(np.concatenate([k for k, _, _ in self.stock]))
        rev = np.flatnonzero((b.rev_status == RELEASED_S)
                             & ((b.rev_to == NO_DATE) | (b.rev_to >= 0))
                             & (b.rev_from < (HORIZON_WEEKS + 8) * 7))
        counts = b.line_start[rev + 1] - b.line_start[rev]
        line = block_rows(b.line_start[rev], counts)
        parent = np.repeat(b.rev_item[rev].astype(np.int64), counts)
        keep = self.preferred[line]
        parent, child = parent[keep], b.lines.component[line[keep]].astype(np.int64)
        order = np.argsort(parent, kind="stable")
        parent, child = parent[order], child[order]
        ptr = np.searchsorted(parent, np.arange(len(self.items) + 1))
        known = np.zeros(len(self.items) * n_sites, bool)
        known[keys] = True
        planned = known.copy()
        frontier = keys
        while len(frontier):
            item, site = frontier // n_sites, frontier % n_sites
            per = ptr[item + 1] - ptr[item]
            reached = child[block_rows(ptr[item], per)] * n_sites + np.repeat(site, per)
            frontier = np.unique(reached[~known[reached]])
            known[frontier] = True
        new = np.flatnonzero(known & ~planned)
        new = new[self.safety[new // n_sites] > 0]
        margin = self.buffers_rng.uniform(0.05, 0.3, len(new))
        self.buffers = StockNeed(new // n_sites, new % n_sites,
                                 self.safety[new // n_sites] * (1 + margin), np.zeros(len(new)))

    def result(self, demands: Demands) -> Mrp:
        items = dataclasses.replace(
            self.items,
            safety_stock=self.safety,
            unit_scale=self.unit_scale,
            min_order_qty=self.moq,
            order_multiple=self.multiple,
        )
        key, qty, total = (np.concatenate(c) for c in zip(*self.stock))
        stock = StockNeed(key // self.n_sites, key % self.n_sites, qty, total)
        return Mrp(items, self._assemble(demands), self.buy, self.requisitions, stock,
                   self.buffers)

    def _assemble(self, demands: Demands) -> WorkOrders:
        """One WorkOrders of every order, numbered by start date (as an ERP would have)."""
        cols = {f: np.concatenate([o[f] for o in self.orders]) for f in self.orders[0]}
        sizes = np.array([len(o["item"]) for o in self.orders])
        offset = np.repeat(np.cumsum(sizes) - sizes, [len(o["comp_wo"]) for o in self.orders])
        comp_wo = cols["comp_wo"] + offset
        order = np.lexsort((cols["item"], cols["start"]))
        rank = np.empty(len(order), np.int64)
        rank[order] = np.arange(len(order))
        comp_wo = rank[comp_wo]
        comp_order = np.argsort(comp_wo, kind="stable")
        item = cols["item"][order]
        n = len(item)
        return WorkOrders(
            item=item,
            site=cols["site"][order].astype(np.int64),
            quantity=cols["quantity"][order],
            completed=cols["completed"][order],
            start=cols["start"][order],
            due=cols["due"][order],
            status=cols["status"][order],
            revision=cols["revision"][order],
            demand=sales_order_of(demands, item, self.items),
            version=np.zeros(n, dtype=np.int64),
            comp_wo=comp_wo[comp_order],
            comp_line=cols["comp_line"][comp_order],
            comp_required=cols["comp_required"][comp_order],
            comp_issued=cols["comp_issued"][comp_order],
            comp_version=np.zeros(len(comp_wo), dtype=np.int64),
        )


def sales_order_of(demands: Demands, item: np.ndarray, items: Items) -> np.ndarray:
    """A sales order of the same finished good a work order is pegged to (-1: none)."""
    so = np.flatnonzero(demands.kind == 0)
    so_sorted = so[np.argsort(demands.item[so], kind="stable")]
    at = np.minimum(np.searchsorted(demands.item[so_sorted], item), len(so_sorted) - 1)
    found = (len(so_sorted) > 0) & (demands.item[so_sorted[at]] == item)
    out: np.ndarray = np.where(found & (items.kind[item] == FG), so_sorted[at], -1)
    return out


def run_mrp(items: Items, boms: Boms, demands: Demands, scale: Scale, seed: int) -> Mrp:
    """Balance the plant (see the module docstring)."""
    planner = _Planner(items, boms, demands, scale, seed)
    n_open = round(scale.work_orders * (1 - _COMPLETED_SHARE))
    heights = items.height[: items.start[PP]].astype(np.int64)
    fg = items.kind[: items.start[PP]] == FG
    weight = np.bincount(heights, weights=np.where(fg, _FG_WEIGHT, 1.0), minlength=MAX_DEPTH + 1)
    weight[0] = 0.0
    opened, carry = 0, 0
    for level in range(MAX_DEPTH, 0, -1):
        budget = round(n_open * weight[level] / weight.sum()) + carry
        budget = min(budget, n_open - opened)
        got = planner.made_level(level, budget)
        carry = budget - got
        opened += got
    planner.bought_level(scale.open_po_lines, round(scale.requisitions * _PLANNED_REQUISITIONS))
    planner.completed_orders(scale.work_orders - opened)
    planner.buffer_rows()
    return planner.result(demands)
