"""Stock, independent demand and work orders of the demo plant.

Stock: most items have an available balance in their home site's main warehouse; the rest of the
rows are stock in bins or other sites, quantities allocated to orders, quality-held lots (in the
quality area, with a nonconformance number as lot) and inter-site transfers in transit (on the
receiving dock, lot = transfer number, ``expected_date`` = arrival). Raw material is lot-tracked.

Demand: a forecast per finished good over the next 26 weeks (weekly for the best sellers, every
four weeks for the rest), firm sales orders over the next eight weeks (a few already late), and
spare-part orders for some sub-assemblies.

Work orders: made items at their home site, planned / released / in progress / recently
completed, built to the BOM revision effective on the start date; their components are that
revision's lines (preferred alternates only) times the order quantity, with scrap, required on the
start date. Later in time, orders move on: planned ones are released, released ones start (their
components are issued), running ones complete.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from connectors.demo.boms import Boms, block_rows
from connectors.demo.clock import NO_DATE, is_workday, pick_in, stream, to_weekday
from connectors.demo.master import EA, Items
from connectors.demo.scales import FG, PP, SA, Scale

INVENTORY_STATUS = np.array(["available", "allocated", "quality_hold", "in_transit"], dtype=object)
AVAILABLE, ALLOCATED, QUALITY_HOLD, IN_TRANSIT = range(4)
#: fixed locations of every site, then storage bins
WH, DOCK, QC, FIRST_BIN = range(4)
LOT_PREFIX = np.array(["", "L", "NC-", "TR-", "GR-"], dtype=object)
NO_LOT, MATERIAL_LOT, NONCONFORMANCE, TRANSFER, GOODS_RECEIPT = range(5)

WO_STATUS = np.array(["planned", "released", "in_progress", "completed"], dtype=object)
PLANNED, RELEASED, IN_PROGRESS, COMPLETED = range(4)


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

    @staticmethod
    def concat(parts: list[Stock]) -> Stock:
        return Stock(
            *(np.concatenate([getattr(p, f) for p in parts]) for f in Stock.__dataclass_fields__)
        )


def make_stock(items: Items, scale: Scale, seed: int) -> Stock:
    rng = stream(seed, "inventory")
    n_items = len(items)
    per_site = locations_per_site(scale)
    base_items = np.flatnonzero(rng.random(n_items) < 0.85)
    n_extra = int(max(0, scale.inventory_rows - len(base_items)) * 1.1) + 10
    extra_items = rng.integers(0, n_items, n_extra)
    item = np.concatenate([base_items, extra_items])
    n = len(item)
    status = np.concatenate(
        [np.full(len(base_items), AVAILABLE), rng.choice(4, n_extra, p=[0.45, 0.25, 0.18, 0.12])]
    ).astype(np.int8)
    site = items.home_site[item].astype(np.int64)
    extra = np.arange(n) >= len(base_items)
    elsewhere = extra & (rng.random(n) < 0.4)
    site[elsewhere] = rng.integers(0, scale.sites, int(elsewhere.sum()))
    local = np.select(
        [status == QUALITY_HOLD, status == IN_TRANSIT, (status == AVAILABLE) & extra],
        [QC, DOCK, FIRST_BIN + rng.integers(0, scale.bins_per_site, n)],
        WH,
    )
    material = items.kind[item] > PP
    lot_kind = np.select(
        [status == QUALITY_HOLD, status == IN_TRANSIT, material],
        [NONCONFORMANCE, TRANSFER, MATERIAL_LOT],
        NO_LOT,
    ).astype(np.int8)
    lot_number = np.where(lot_kind == NO_LOT, 0, rng.integers(10000, 99999, n))
    # one row per key: drop the rare duplicate (same item, place, lot and status)
    key = (((item * scale.sites + site) * per_site + local) * 5 + lot_kind) * 100000 + lot_number
    key = key * 4 + status
    _, first = np.unique(key, return_index=True)
    keep = np.sort(first)[: scale.inventory_rows]
    item, site, local, lot_kind, lot_number, status = (
        a[keep] for a in (item, site, local, lot_kind, lot_number, status)
    )
    n = len(keep)
    share = np.select([status == AVAILABLE, status == ALLOCATED], [1.5, 0.4], 0.3)
    qty = round_quantity(
        items.unit_scale[item] * share * rng.lognormal(0, 0.6, n), items.uom[item] == EA
    )
    expected = np.where(status == IN_TRANSIT, to_weekday(rng.integers(1, 11, n)), NO_DATE)
    return Stock(
        item=item,
        site=site,
        location=site * per_site + local,
        lot_kind=lot_kind,
        lot_number=lot_number,
        status=status,
        quantity=qty,
        uom=items.uom[item].astype(np.int8),
        as_of=np.zeros(n, dtype=np.int64),
        expected=expected,
        version=np.zeros(n, dtype=np.int64),
    )


@dataclass
class Demands:
    kind: np.ndarray  # 0 sales order, 1 forecast
    item: np.ndarray
    site: np.ndarray
    quantity: np.ndarray
    due: np.ndarray
    customer: np.ndarray  # index into the customer names, -1 for forecasts
    priority: np.ndarray


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
    return Demands(
        kind=kind,
        item=item,
        site=items.home_site[item].astype(np.int64),
        quantity=np.concatenate([fc_qty, so_qty, sp_qty]),
        due=np.concatenate([fc_week * 7, so_due, sp_due]),
        customer=customer,
        priority=np.where(kind == 1, 0, rng.integers(1, 4, n)),
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


def make_work_orders(
    items: Items, boms: Boms, demands: Demands, scale: Scale, seed: int
) -> WorkOrders:
    rng = stream(seed, "work_orders")
    n = scale.work_orders
    fg_lo, fg_hi = items.range(FG)
    sa_lo, sa_hi = items.range(SA)
    # low-level assemblies feed many parents, so they are made far more often
    sa_weight = 1.0 / items.height[sa_lo:sa_hi]
    sa_item = sa_lo + rng.choice(sa_hi - sa_lo, n, p=sa_weight / sa_weight.sum())
    item = np.where(rng.random(n) < 0.15, rng.integers(fg_lo, fg_hi, n), sa_item)
    status = rng.choice(4, n, p=[0.30, 0.35, 0.25, 0.10]).astype(np.int8)
    start = np.select(
        [status == PLANNED, status == RELEASED, status == IN_PROGRESS],
        [rng.integers(1, 61, n), rng.integers(-5, 21, n), rng.integers(-20, 0, n)],
        -rng.integers(5, 31, n),
    )
    start = to_weekday(start)
    start = np.where(status == IN_PROGRESS, np.minimum(start, -1), start)
    due = to_weekday(start + items.lead_time[item])
    counted = items.uom[item] == EA
    qty = round_quantity(items.unit_scale[item] * rng.uniform(0.5, 2.0, n), counted)
    done = np.where(
        status == COMPLETED,
        qty,
        np.where(status == IN_PROGRESS, np.floor(qty * rng.uniform(0, 0.8, n)), 0.0),
    )
    revision = boms.revision_at(item, start)

    so = np.flatnonzero(demands.kind == 0)
    so_sorted = so[np.argsort(demands.item[so], kind="stable")]
    at = np.searchsorted(demands.item[so_sorted], item)
    found = (at < len(so_sorted)) & (
        demands.item[so_sorted[np.minimum(at, len(so_sorted) - 1)]] == item
    )
    demand = np.where(
        found & (items.kind[item] == FG), so_sorted[np.minimum(at, len(so_sorted) - 1)], -1
    )

    counts = boms.line_start[revision + 1] - boms.line_start[revision]
    comp_line = block_rows(boms.line_start[revision], counts)
    comp_wo = np.repeat(np.arange(n), counts)
    preferred = boms.lines.alt_prio[comp_line] < 2
    comp_line, comp_wo = comp_line[preferred], comp_wo[preferred]
    lines = boms.lines
    required = np.round(
        qty[comp_wo] * lines.quantity[comp_line] * (1 + lines.scrap[comp_line] / 100), 4
    )
    issued = np.where(
        (status[comp_wo] == COMPLETED)
        | ((status[comp_wo] == IN_PROGRESS) & (rng.random(len(comp_wo)) < 0.7)),
        required,
        0.0,
    )
    return WorkOrders(
        item=item,
        site=items.home_site[item].astype(np.int64),
        quantity=qty,
        completed=done,
        start=start,
        due=due,
        status=status,
        revision=revision,
        demand=demand,
        version=np.zeros(n, dtype=np.int64),
        comp_wo=comp_wo,
        comp_line=comp_line,
        comp_required=required,
        comp_issued=issued,
        comp_version=np.zeros(len(comp_wo), dtype=np.int64),
    )


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
        wo.completed[finish] = wo.quantity[finish]
        wo.version[release | begin | finish] = t
        issue = (begin | finish)[wo.comp_wo] & (wo.comp_issued < wo.comp_required)
        wo.comp_issued[issue] = wo.comp_required[issue]
        wo.comp_version[issue] = t
