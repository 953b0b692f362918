"""Stock, independent demand and work orders of the demo plant.

Stock: what the plan (:mod:`planner_connectors.demo.mrp`) needs available at each site, in the main
store (some of it in a bin); then rows beside it: stock reserved for work orders released on
day 0 (status ``allocated``, ``allocated_to`` = the order; at most what the order still needs of
that component at its site, on top of what the plan counted on, so planning counts it against
that order's requirement; an order issues from its reservation first), routine quality holds
(quality area, nonconformance number as lot), inter-site transfers in transit (receiving dock,
lot = transfer number, ``expected_date`` = arrival) and stock of items nothing needs right
now (bought items only: a made item stocked at a site would plan its whole BOM there). A few
rows lost part of a lot the plan counted on to a quality hold since. Raw material is
lot-tracked. That makes ``scale.inventory_rows`` rows; on top of them come the *buffers*: the
safety stock of every row the plant reaches only through a BOM (see :mod:`planner_connectors.demo.mrp`),
where no other row holds that key.

Demand: a forecast per finished good over the next 26 weeks (weekly for the best sellers, every
four weeks for the rest), firm sales orders over the next eight weeks (a few already late, some
taken after the plan was balanced, a few rush orders bigger than foreseen), and spare-part orders
for some sub-assemblies.

Work orders (made by :mod:`planner_connectors.demo.mrp`): planned / released / in progress / recently
completed, built to the BOM revision effective on the start date; their components are that
revision's lines (preferred alternates only) times the order quantity, with scrap, required on the
start date. Later in time, orders move on: planned ones are released, released ones start (their
components are issued), running ones complete and put their output into stock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from planner_connectors.demo.clock import MRP_DAY, NO_DATE, is_workday, pick_in, stream, to_weekday
from planner_connectors.demo.master import EA, Items
from planner_connectors.demo.scales import FG, PP, SA, Scale

if TYPE_CHECKING:
    from planner_connectors.demo.mrp import StockNeed

INVENTORY_STATUS = np.array(["available", "allocated", "quality_hold", "in_transit"], dtype=object)
AVAILABLE, ALLOCATED, QUALITY_HOLD, IN_TRANSIT = range(4)
#: fixed locations of every site, then storage bins
WH, DOCK, QC, FIRST_BIN = range(4)
LOT_PREFIX = np.array(["", "L", "NC-", "TR-", "GR-", "PR-"], dtype=object)
NO_LOT, MATERIAL_LOT, NONCONFORMANCE, TRANSFER, GOODS_RECEIPT, PRODUCTION = range(6)

WO_STATUS = np.array(["planned", "released", "in_progress", "completed"], dtype=object)
PLANNED, RELEASED, IN_PROGRESS, COMPLETED = range(4)
#: share of the stocked rows that lost part of a lot to a quality hold since the plan
_HELD_SHARE = 0.03
#: share of the sales orders taken after the plan was balanced, and of rush orders
_NEW_ORDERS, _RUSH_ORDERS = 0.06, 0.02


def locations_per_site(scale: Scale) -> int:
    return FIRST_BIN + scale.bins_per_site


def round_quantity(qty: np.ndarray, counted: np.ndarray) -> np.ndarray:
    """Whole numbers for counted units, two decimals for measured ones; never zero."""
    return np.where(counted, np.maximum(1.0, np.round(qty)), np.maximum(0.01, np.round(qty, 2)))


@dataclass
class Stock:
    item: np.ndarray
    site: np.ndarray
    location: np.ndarray  # index into the plant's location codes
    lot_kind: np.ndarray
    lot_number: np.ndarray
    status: np.ndarray
    quantity: np.ndarray
    uom: np.ndarray
    as_of: np.ndarray
    expected: np.ndarray
    version: np.ndarray
    #: for allocated stock: the work order (index) it is reserved for; -1 for none
    allocated_to: np.ndarray

    @staticmethod
    def concat(parts: list[Stock]) -> Stock:
        return Stock(
            *(np.concatenate([getattr(p, f) for p in parts]) for f in Stock.__dataclass_fields__)
        )


@dataclass
class Reservable:
    """Component rows of the work orders released on day 0 that still need stock: the rows a
    reservation may be made for (item, site, work order, what is left to issue in stock units)."""

    item: np.ndarray
    site: np.ndarray
    order: np.ndarray
    remaining: np.ndarray

    @staticmethod
    def none() -> Reservable:
        empty = np.zeros(0, np.int64)
        return Reservable(empty, empty, empty, np.zeros(0))


def reservable_components(wo: WorkOrders, component: np.ndarray,
                          factor: np.ndarray) -> Reservable:
    """What released orders still need (``component``, ``factor``: per component row, its item
    and the divisor to its stock unit); read on day 0, before the orders move on."""
    left = (wo.comp_required - wo.comp_issued) / factor
    rows = np.flatnonzero((wo.status[wo.comp_wo] == RELEASED) & (left > 1e-3))
    return Reservable(component[rows].astype(np.int64), wo.site[wo.comp_wo[rows]].astype(np.int64),
                      wo.comp_wo[rows].astype(np.int64), left[rows])


def make_stock(items: Items, need: StockNeed, scale: Scale, seed: int,
               reservable: Reservable | None = None, buffers: StockNeed | None = None) -> Stock:
    """Inventory rows: what the plan needs on hand, less the lots quality has since held, plus
    bins, allocations (to ``reservable`` component rows of released orders), transfers in
    transit and stock of items nothing needs right now; and ``buffers``, the safety stock of
    rows reached only through a BOM, where no other row of that key holds stock already."""
    rng = stream(seed, "inventory")
    per_site = locations_per_site(scale)
    counted = items.uom == EA
    qty = round_quantity(need.quantity, counted[need.item])
    base = np.flatnonzero(need.quantity > 0)
    item, site, qty, total = need.item[base], need.site[base], qty[base], need.planned_total[base]
    n = len(item)
    lot = np.where(items.kind[item] > PP, rng.integers(10000, 99999, n), 0)
    # incoming inspection holds part of a bought lot the plan counted on: the row may fall short
    held = (total > 0) & (items.kind[item] >= PP) & (rng.random(n) < _HELD_SHARE)
    hold = np.where(held, round_quantity(qty * rng.uniform(0.25, 0.9, n), counted[item]), 0.0)
    hold = np.where(hold < qty, hold, 0.0)
    qty = qty - hold
    hq = np.flatnonzero(hold > 0)
    # some of the stock sits in a bin rather than the main store (the sum is unchanged)
    room = scale.inventory_rows - n - len(hq)
    n_split = max(0, min(n, int(room * 0.3)))
    split = rng.choice(n, n_split, replace=False) if n_split else np.zeros(0, np.int64)
    split = split[qty[split] >= np.where(counted[item[split]], 2.0, 0.02)]
    moved = round_quantity(qty[split] * rng.uniform(0.2, 0.6, len(split)), counted[item[split]])
    moved = np.minimum(moved, qty[split] / 2)
    qty[split] -= moved
    bins = FIRST_BIN + rng.integers(0, scale.bins_per_site, len(split))
    parts = [
        _rows(item, site, site * per_site + WH, lot, AVAILABLE, qty),
        _rows(
            item[hq],
            site[hq],
            site[hq] * per_site + QC,
            rng.integers(10000, 99999, len(hq)),
            QUALITY_HOLD,
            hold[hq],
            lot_kind=NONCONFORMANCE,
        ),
        _rows(
            item[split], site[split], site[split] * per_site + bins, lot[split], AVAILABLE, moved
        ),
    ]
    wanted = int(max(0, room - len(split)) * 1.3) + 50
    extras = _extras(items, need, rng, scale, wanted)
    parts.append(_reserve(extras, items, reservable or Reservable.none(), scale, seed))
    parts.append(_other_stock(items, need, scale, seed, wanted - len(extras.item)))
    parts.append(_buffers(items, buffers, scale, seed))
    stock = _unique_rows(Stock.concat(parts), scale, fixed=sum(len(p.item) for p in parts[:3]),
                         last=len(parts[-1].item))
    stock.uom = items.uom[stock.item].astype(np.int8)
    return stock


def _rows(
    item: np.ndarray,
    site: np.ndarray,
    location: np.ndarray,
    lot: np.ndarray,
    status: int,
    quantity: np.ndarray,
    lot_kind: int = -1,
    expected: np.ndarray | None = None,
) -> Stock:
    """Stock rows of one status (lot kind: material lot where ``lot`` is set, unless given)."""
    n = len(item)
    kind = np.where(lot > 0, MATERIAL_LOT, NO_LOT) if lot_kind < 0 else np.full(n, lot_kind)
    return Stock(
        item=item.astype(np.int64),
        site=site.astype(np.int64),
        location=location.astype(np.int64),
        lot_kind=kind.astype(np.int8),
        lot_number=lot.astype(np.int64),
        status=np.full(n, status, dtype=np.int8),
        quantity=quantity.astype(float),
        uom=np.zeros(n, dtype=np.int8),  # set from the item by _unique_rows
        as_of=np.zeros(n, dtype=np.int64),
        expected=np.full(n, NO_DATE, dtype=np.int64) if expected is None else expected,
        version=np.zeros(n, dtype=np.int64),
        allocated_to=np.full(n, -1, dtype=np.int64),
    )


def _extras(items: Items, need: StockNeed, rng: np.random.Generator, scale: Scale, n: int) -> Stock:
    """Rows that do not change what is available where it is needed: allocations and routine
    quality holds on needed rows, transfers in transit to them, and stock of other items (or at
    other sites), at least their safety stock."""
    per_site = locations_per_site(scale)
    counted = items.uom == EA
    used = np.flatnonzero(need.planned_total > 0)
    kind = rng.choice(4, n, p=[0.18, 0.07, 0.05, 0.70])
    row = used[rng.integers(0, max(1, len(used)), n)] if len(used) else np.zeros(n, np.int64)
    item = np.where(kind < 3, need.item[row], rng.integers(0, len(items), n))
    site = np.where(kind < 3, need.site[row], rng.integers(0, scale.sites, n))
    status = np.array([ALLOCATED, QUALITY_HOLD, IN_TRANSIT, AVAILABLE])[kind]
    local = np.select(
        [status == QUALITY_HOLD, status == IN_TRANSIT, rng.random(n) < 0.5],
        [QC, DOCK, FIRST_BIN + rng.integers(0, scale.bins_per_site, n)],
        WH,
    )
    lot_kind = np.select(
        [status == QUALITY_HOLD, status == IN_TRANSIT, items.kind[item] > PP],
        [NONCONFORMANCE, TRANSFER, MATERIAL_LOT],
        NO_LOT,
    )
    share = np.select([status == AVAILABLE, status == ALLOCATED], [2.0, 0.4], 0.2)
    qty = items.unit_scale[item] * share * rng.lognormal(0, 0.5, n)
    qty = np.where(status == AVAILABLE, np.maximum(qty, 1.2 * items.safety_stock[item]), qty)
    rows = _rows(
        item,
        site,
        site * per_site + local,
        np.where(lot_kind == NO_LOT, 0, rng.integers(10000, 99999, n)),
        AVAILABLE,
        round_quantity(qty, counted[item]),
        expected=np.where(status == IN_TRANSIT, to_weekday(rng.integers(1, 11, n)), NO_DATE),
    )
    rows.status = status.astype(np.int8)
    rows.lot_kind = lot_kind.astype(np.int8)
    # stock of other items is of bought ones: a made item stocked at a site would plan its whole
    # BOM there, with every component's safety stock (see workbench.analysis.netting); the rows
    # of made items drawn are made up for by :func:`_other_stock`
    keep = np.flatnonzero((kind < 3) | (items.kind[item] >= PP))
    return Stock(*(getattr(rows, f)[keep] for f in Stock.__dataclass_fields__))


def _other_stock(items: Items, need: StockNeed, scale: Scale, seed: int, n: int) -> Stock:
    """``n`` rows of stock of bought items at sites where nothing needs them (a stream of its
    own): at least their safety stock, in the main store or a bin."""
    bought = np.flatnonzero(items.kind >= PP)
    if n <= 0 or not len(bought):
        return _rows(*(np.zeros(0, np.int64),) * 4, AVAILABLE, np.zeros(0))
    rng = stream(seed, "other stock")
    item = bought[rng.integers(0, len(bought), 2 * n)]
    site = rng.integers(0, scale.sites, 2 * n)
    needed = np.isin(item * scale.sites + site, need.item * scale.sites + need.site)
    pick = np.flatnonzero(~needed)[:n]
    item, site = item[pick], site[pick]
    local = np.where(rng.random(len(item)) < 0.5,
                     FIRST_BIN + rng.integers(0, scale.bins_per_site, len(item)), WH)
    qty = items.unit_scale[item] * 2.0 * rng.lognormal(0, 0.5, len(item))
    qty = np.maximum(qty, 1.2 * items.safety_stock[item])
    lot = np.where(items.kind[item] > PP, rng.integers(10000, 99999, len(item)), 0)
    return _rows(item, site, site * locations_per_site(scale) + local, lot, AVAILABLE,
                 round_quantity(qty, items.uom[item] == EA))


def _reserve(extras: Stock, items: Items, reservable: Reservable, scale: Scale,
             seed: int) -> Stock:
    """Turn the allocated extras into reservations for released orders: each takes the item and
    site of a component row an order still needs (drawn from a stream of its own, so the other
    rows stay as they were) and reserves at most what that order still needs of it, in the same
    kind of place (main store or bin) of that site."""
    rows = np.flatnonzero(extras.status == ALLOCATED)
    if not len(rows) or not len(reservable.item):
        return extras
    rng = stream(seed, "allocations")
    pick = rng.integers(0, len(reservable.item), len(rows))
    lots = rng.integers(10000, 99999, len(rows))
    item, site = reservable.item[pick], reservable.site[pick]
    per_site = locations_per_site(scale)
    qty = round_quantity(extras.quantity[rows] / items.unit_scale[extras.item[rows]]
                         * items.unit_scale[item], items.uom[item] == EA)
    material = items.kind[item] > PP
    extras.location[rows] = site * per_site + extras.location[rows] % per_site
    extras.item[rows], extras.site[rows] = item, site
    extras.lot_kind[rows] = np.where(material, MATERIAL_LOT, NO_LOT)
    extras.lot_number[rows] = np.where(material, lots, 0)
    extras.quantity[rows] = np.minimum(qty, np.round(reservable.remaining[pick], 4))
    extras.allocated_to[rows] = reservable.order[pick]
    return extras


def _buffers(items: Items, buffers: StockNeed | None, scale: Scale, seed: int) -> Stock:
    """Main-store rows of the buffer stock (lot-tracked material in a lot of its own)."""
    if buffers is None or not len(buffers.item):
        return _rows(*(np.zeros(0, np.int64),) * 4, AVAILABLE, np.zeros(0))
    rng = stream(seed, "buffer stock")
    item, site = buffers.item, buffers.site
    lot = np.where(items.kind[item] > PP, rng.integers(10000, 99999, len(item)), 0)
    qty = round_quantity(buffers.quantity, items.uom[item] == EA)
    return _rows(item, site, site * locations_per_site(scale) + WH, lot, AVAILABLE, qty)


def _unique_rows(stock: Stock, scale: Scale, fixed: int, last: int = 0) -> Stock:
    """One row per key (item, place, lot, status, order reserved for): exactly
    ``scale.inventory_rows`` of the rows before the ``last`` ones (the first ``fixed`` rows are
    kept, extras fill up the rest), then each of the ``last`` rows (the buffers) whose key no
    kept row has."""
    places = scale.sites * locations_per_site(scale)
    key = (stock.item * places + stock.location) * 5 + stock.lot_kind
    key = (key * 100000 + stock.lot_number) * 4 + stock.status
    pair = np.stack([key, stock.allocated_to], axis=1)
    tail = len(stock.item) - last
    _, first = np.unique(pair[:tail], axis=0, return_index=True)
    first = np.sort(first)
    keep = np.concatenate([first[first < fixed], first[first >= fixed]])[: scale.inventory_rows]
    if len(keep) < scale.inventory_rows or (keep[:fixed].size and keep[fixed - 1] != fixed - 1):
        raise AssertionError("the demo's inventory rows do not fit its scale")
    if last:
        _, extra = np.unique(pair[tail:], axis=0, return_index=True)
        extra = np.sort(extra) + tail
        taken = np.unique(pair[keep], axis=0)
        both = np.concatenate([taken, pair[extra]])
        _, inverse = np.unique(both, axis=0, return_inverse=True)
        inverse = inverse.ravel()
        keep = np.concatenate([keep, extra[~np.isin(inverse[len(taken):], inverse[:len(taken)])]])
    keep = np.sort(keep)
    return Stock(*(getattr(stock, f)[keep] for f in Stock.__dataclass_fields__))


@dataclass
class Demands:
    kind: np.ndarray  # 0 sales order, 1 forecast
    item: np.ndarray
    site: np.ndarray
    quantity: np.ndarray
    due: np.ndarray
    customer: np.ndarray  # index into the customer names, -1 for forecasts
    priority: np.ndarray
    #: what the MRP run three weeks ago knew of each demand (0: ordered since; less: a rush)
    planned: np.ndarray


def make_demands(items: Items, scale: Scale, seed: int, n_customers: int) -> Demands:
    rng = stream(seed, "demands")
    fg_lo, fg_hi = items.range(FG)
    fg = np.arange(fg_lo, fg_hi)
    weekly = rng.random(len(fg)) < 0.3
    weeks = np.where(weekly, 26, 7)
    fc_item = np.repeat(fg, weeks)
    step = np.repeat(np.where(weekly, 1, 4), weeks)
    fc_week = (np.arange(len(fc_item)) - np.repeat(np.cumsum(weeks) - weeks, weeks)) * step
    fc_qty = np.maximum(
        1.0, np.round(items.unit_scale[fc_item] * step * rng.lognormal(0, 0.3, len(fc_item)))
    )

    n_so = max(40, 5 * len(fg))
    so_item = pick_in(fg_lo, fg_hi, rng.random(n_so) ** 1.5)  # best sellers
    so_due = to_weekday(rng.integers(-10, 57, n_so))
    so_qty = np.maximum(1.0, np.round(items.unit_scale[so_item] * rng.uniform(0.05, 0.8, n_so)))
    sa_lo, sa_hi = items.range(SA)
    n_sp = max(10, (sa_hi - sa_lo) // 50)
    sp_item = rng.integers(sa_lo, sa_hi, n_sp)
    sp_due = to_weekday(rng.integers(3, 91, n_sp))
    sp_qty = np.maximum(1.0, np.round(rng.uniform(1, 10, n_sp)))

    item = np.concatenate([fc_item, so_item, sp_item])
    n = len(item)
    kind = np.repeat([1, 0, 0], [len(fc_item), n_so, n_sp]).astype(np.int8)
    customer = np.where(kind == 1, -1, rng.integers(0, n_customers, n))
    customer[len(fc_item) + n_so :] = n_customers  # the service organisation
    quantity = np.concatenate([fc_qty, so_qty, sp_qty])
    due = np.concatenate([fc_week * 7, so_due, sp_due])
    # orders taken since the plan was balanced, and a few rush orders bigger than foreseen
    r = rng.random(n)
    planned = np.where((kind == 0) & (due > MRP_DAY) & (r < _NEW_ORDERS), 0.0, quantity)
    rush = (kind == 0) & (r >= _NEW_ORDERS) & (r < _NEW_ORDERS + _RUSH_ORDERS)
    quantity = np.where(rush, np.round(quantity * rng.uniform(2.0, 4.0, n)), quantity)
    return Demands(
        kind=kind,
        item=item,
        site=items.home_site[item].astype(np.int64),
        quantity=quantity,
        due=due,
        customer=customer,
        priority=np.where(kind == 1, 0, rng.integers(1, 4, n)),
        planned=planned,
    )


@dataclass
class WorkOrders:
    item: np.ndarray
    site: np.ndarray
    quantity: np.ndarray
    completed: np.ndarray
    start: np.ndarray
    due: np.ndarray
    status: np.ndarray
    revision: np.ndarray  # BOM revision index
    demand: np.ndarray  # index of a sales order of the same item, -1 none
    version: np.ndarray
    #: components: work order index per row, BOM line row, required and issued quantities
    comp_wo: np.ndarray
    comp_line: np.ndarray
    comp_required: np.ndarray
    comp_issued: np.ndarray
    comp_version: np.ndarray
    #: output put into stock after day 0: (order, quantity, day, version) per finishing day
    receipts: list[tuple[np.ndarray, ...]] = field(default_factory=list)
    #: components issued from stock after day 0: (component row, quantity, version)
    issues: list[tuple[np.ndarray, ...]] = field(default_factory=list)

    def receipt_columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if not self.receipts:
            empty = np.zeros(0, np.int64)
            return empty, np.zeros(0), empty, empty
        return tuple(np.concatenate(p) for p in zip(*self.receipts))  # type: ignore[return-value]


def advance_work_orders(wo: WorkOrders, day: int, seed: int) -> None:
    """Move the orders on through simulated days 1..day (events of day t happen on date t-1)."""
    for t in range(1, day + 1):
        event = t - 1
        if not is_workday(event):
            continue  # the weekend: the shop floor is closed
        rng = stream(seed, "work_orders", t)
        r = rng.random(len(wo.item))
        release = (wo.status == PLANNED) & (wo.start <= event + 5) & (r < 0.5)
        begin = (wo.status == RELEASED) & (wo.start <= event)
        finish = (wo.status == IN_PROGRESS) & (wo.due <= event) & (r < 0.7)
        wo.status[release] = RELEASED
        wo.status[begin] = IN_PROGRESS
        wo.status[finish] = COMPLETED
        done = np.flatnonzero(finish)
        wo.receipts.append(
            (
                done,
                wo.quantity[done] - wo.completed[done],
                np.full(len(done), event),
                np.full(len(done), t),
            )
        )
        wo.completed[finish] = wo.quantity[finish]
        wo.version[release | begin | finish] = t
        issue = (begin | finish)[wo.comp_wo] & (wo.comp_issued < wo.comp_required)
        rows = np.flatnonzero(issue)
        wo.issues.append(
            (rows, wo.comp_required[rows] - wo.comp_issued[rows], np.full(len(rows), t))
        )
        wo.comp_issued[issue] = wo.comp_required[issue]
        wo.comp_version[issue] = t
