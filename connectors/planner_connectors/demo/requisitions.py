"""Purchase requisitions of the demo plant: what MRP, reorder points and people asked to buy.

Most are open; some approved, rejected or cancelled; about a tenth are already *ordered* and
linked both ways to the open PO line that covers them. About a tenth are for bought components
that an engineering change removes (the parent's rev A uses them, the rev B released from a recent
or coming date no longer does), needed after the change: re-evaluating those should say "cancel".
Reorder points and people raised one for each row the plant runs short on today (the run's
``short`` lines: a little ahead of its first short day, for its shortfall, lot-sized; at most a
quarter of them) and 8 % more for any bought part, needed or not. The rest, most of them, are the
ones the MRP run proposed for needs beyond a part's lead time, netted against the row's stock
and open PO lines (:mod:`planner_connectors.demo.mrp`): the plan counts on them, so their rows run short
until a buyer orders.
Some suggest another supplier than the item's default. Later in time, buyers approve or cancel
a few open ones each working day.

A believable plant is advised to cancel few of them: mostly the engineering-change ones, and
those a buyer raised without a need (see the advice per scale in docs/requisition-advice.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from planner_connectors.demo.boms import Boms
from planner_connectors.demo.clock import is_workday, pick_in, stream, to_weekday
from planner_connectors.demo.master import EA, Items, Suppliers
from planner_connectors.demo.mrp import BuyLines, RequisitionLines
from planner_connectors.demo.production import round_quantity
from planner_connectors.demo.purchasing import ACKED, PARTIAL, SENT, Purchasing
from planner_connectors.demo.scales import Scale

REQUISITION_STATUS = np.array(
    ["open", "approved", "rejected", "ordered", "cancelled"], dtype=object
)
OPEN, APPROVED, REJECTED, ORDERED, CANCELLED = range(5)
ORIGINS = np.array(["mrp", "reorder_point", "manual", "requisition"], dtype=object)
#: one in this many of the requisitions not yet ordered is for a part an engineering change removes
CHANGED_SHARE = 10
#: share of the requisitions not yet ordered that people raised for any part, needed or not
RANDOM_SHARE = 0.08


@dataclass
class Requisitions:
    item: np.ndarray
    site: np.ndarray
    quantity: np.ndarray
    uom: np.ndarray
    need: np.ndarray
    supplier: np.ndarray
    origin: np.ndarray
    status: np.ndarray
    created: np.ndarray
    #: the requisition's number (RQ-000001 is the oldest)
    number: np.ndarray
    version: np.ndarray
    #: the number of the demo write that last changed it (0: none since ``version``'s day)
    written: np.ndarray

    def copy(self) -> Requisitions:
        """Arrays of its own, so writes laid over it leave the generated plan untouched."""
        return Requisitions(**{k: v.copy() for k, v in vars(self).items()})


def make_requisitions(
    items: Items,
    suppliers: Suppliers,
    boms: Boms,
    purchasing: Purchasing,
    planned: RequisitionLines,
    scale: Scale,
    seed: int,
) -> Requisitions:
    """Requisitions, and the link from the PO lines that ordered some of them (sets
    ``purchasing.requisition``). ``planned``: the ones the MRP run proposed for later needs."""
    rng = stream(seed, "requisitions")
    needed = np.flatnonzero(planned.quantity > 0)  # the run nets them: none where margins cover
    planned = RequisitionLines(planned.item[needed], planned.site[needed],
                               planned.requested[needed], planned.quantity[needed], planned.short)
    n = scale.requisitions
    p = purchasing
    recent_open = np.flatnonzero(
        np.isin(p.status, (SENT, ACKED, PARTIAL)) & (p.po_order[p.po] >= -30)
    )
    ordered_lines = np.sort(rng.choice(recent_open, min(n // 10, len(recent_open)), replace=False))
    n_rest = n - len(ordered_lines)
    recent_change = np.flatnonzero(boms.dropped_day >= -30)
    changed = rng.choice(recent_change, min(len(recent_change), n_rest // CHANGED_SHARE),
                         replace=False)
    # reorder points and people: one for each row short today, a few more needed or not; the
    # run's proposals fill the rest (if it proposed fewer, people raised more)
    short = planned.short if planned.short is not None else BuyLines(*(np.zeros(0, np.int64),) * 3,
                                                                      np.zeros(0))
    n_other = min(len(short.item), n_rest // 4) + round(n_rest * RANDOM_SHARE)
    n_other = min(max(n_other, n_rest - len(changed) - len(planned.item)), n_rest - len(changed))
    n_planned = n_rest - len(changed) - n_other
    chosen = np.arange(n_planned) if n_planned == len(planned.item) else \
        np.sort(rng.choice(len(planned.item), n_planned, replace=False))
    planned = RequisitionLines(planned.item[chosen], planned.site[chosen],
                               planned.requested[chosen], planned.quantity[chosen], planned.short)
    n_short = min(len(short.item), n_rest // 4)
    on_short = np.arange(n_short) if n_short == len(short.item) else \
        np.sort(rng.choice(len(short.item), n_short, replace=False))
    n_random = n_other - n_short
    buy = np.flatnonzero(items.supplier >= 0)
    other_items = np.concatenate([short.item[on_short],
                                  buy[pick_in(0, len(buy), rng.random(n_random) ** 1.5)]])

    # changed, planned, other (short rows first, then the rest)
    kind = np.repeat([0, 1, 2], [len(changed), n_planned, n_other])
    rest_items = np.concatenate(
        [boms.dropped_component[changed], planned.item[:n_planned], other_items]
    )
    rest_need = np.concatenate(
        [
            to_weekday(
                np.maximum(boms.dropped_day[changed], 0) + rng.integers(5, 61, len(changed))
            ),
            planned.requested[:n_planned],
            to_weekday(np.maximum(short.requested[on_short] - rng.integers(0, 6, n_short), 1)),
            to_weekday(rng.integers(3, 121, n_random)),
        ]
    )
    qty = np.maximum(
        items.unit_scale[rest_items] * rng.uniform(0.5, 2.0, n_rest),
        items.min_order_qty[rest_items],
    )
    on_rows = len(changed) + n_planned + np.arange(n_short)
    qty[on_rows] = np.maximum(short.quantity[on_short], items.min_order_qty[rest_items[on_rows]])
    mult = items.order_multiple[rest_items]
    qty = np.where(mult > 0, np.ceil(qty / np.maximum(mult, 1e-9)) * mult, qty)
    qty = round_quantity(qty, items.uom[rest_items] == EA)
    qty[kind == 1] = planned.quantity[:n_planned]
    rest_status = np.select(
        [kind == 0, kind == 1],
        [OPEN, np.where(rng.random(n_rest) < 0.85, OPEN, APPROVED)],
        rng.choice([OPEN, APPROVED, REJECTED, CANCELLED], n_rest, p=[0.83, 0.11, 0.035, 0.025]),
    )
    rest_site = np.concatenate(
        [
            items.home_site[boms.dropped_component[changed]],
            planned.site[:n_planned],
            short.site[on_short],
            items.home_site[other_items[n_short:]],
        ]
    )
    rest_supplier = items.supplier[rest_items].astype(np.int64)
    switch = rng.random(n_rest) < 0.15
    rest_supplier[switch] = rng.integers(0, len(suppliers), int(switch.sum()))
    rest_created = np.minimum(to_weekday(-rng.integers(0, 31, n_rest), back=True), rest_need)

    po = p.po[ordered_lines]
    item = np.concatenate([rest_items, p.item[ordered_lines]])
    created = np.concatenate(
        [rest_created, to_weekday(p.po_order[po] - rng.integers(1, 6, len(po)), back=True)]
    )
    # numbered by creation date, like an ERP's sequence
    number = np.empty(n, dtype=np.int64)
    number[np.lexsort((np.arange(n), created))] = np.arange(1, n + 1)
    p.requisition[ordered_lines] = np.arange(n_rest, n)
    return Requisitions(
        item=item,
        site=np.concatenate([rest_site, p.po_site[po]]).astype(np.int64),
        quantity=np.concatenate([qty, p.quantity[ordered_lines]]),
        uom=np.concatenate([items.uom[rest_items], p.uom[ordered_lines]]).astype(np.int8),
        need=np.concatenate([rest_need, p.requested[ordered_lines]]),
        supplier=np.concatenate([rest_supplier, p.po_supplier[po]]),
        origin=np.concatenate(
            [
                np.where(kind == 1, 0, rng.choice(4, n_rest, p=[0.7, 0.15, 0.1, 0.05])),
                np.zeros(len(po), np.int64),
            ]
        ),
        status=np.concatenate([rest_status, np.full(len(po), ORDERED)]).astype(np.int8),
        created=created,
        number=number,
        version=np.zeros(n, dtype=np.int64),
        written=np.zeros(n, dtype=np.int64),
    )


def advance_requisitions(
    req: Requisitions, day: int, seed: int, end_of_day: Callable[[int], None] | None = None
) -> None:
    """Buyers approve about 2% and cancel about 0.5% of the open requisitions per working day.

    ``end_of_day(t)`` runs after the events of each day ``t`` in 0..day: the writes the demo took
    that day go in there, so later days see them (a requisition cancelled by a write on day 2 is
    not approved on day 3).
    """
    if end_of_day:
        end_of_day(0)
    for t in range(1, day + 1):
        if is_workday(t - 1):
            r = stream(seed, "requisitions", t).random(len(req.item))
            is_open = req.status == OPEN
            approve = is_open & (r < 0.02)
            cancel = is_open & (r >= 0.02) & (r < 0.025)
            req.status[approve] = APPROVED
            req.status[cancel] = CANCELLED
            req.version[approve | cancel] = t
            req.written[approve | cancel] = 0
        if end_of_day:
            end_of_day(t)
