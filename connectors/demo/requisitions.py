"""Purchase requisitions of the demo plant: what MRP, reorder points and people asked to buy.

Most are open; some approved, rejected or cancelled; about a tenth are already *ordered* and
linked both ways to the open PO line that covers them. About a fifth are for bought components
that an engineering change removes (the parent's rev A uses them, the rev B released from a recent
or coming date no longer does), needed after the change: re-evaluating those should say "cancel".
About a third are the ones the MRP run proposed for needs beyond a part's lead time
(:mod:`connectors.demo.mrp`): the plan counts on them, so their rows run short until a buyer
orders. The rest were raised by reorder points and people, needed or not. Some suggest another
supplier than the item's default. Later in time, buyers approve or cancel a few open ones each
working day.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from connectors.demo.boms import Boms
from connectors.demo.clock import is_workday, pick_in, stream, to_weekday
from connectors.demo.master import EA, Items, Suppliers
from connectors.demo.mrp import RequisitionLines
from connectors.demo.production import round_quantity
from connectors.demo.purchasing import ACKED, PARTIAL, SENT, Purchasing
from connectors.demo.scales import Scale

REQUISITION_STATUS = np.array(
    ["open", "approved", "rejected", "ordered", "cancelled"], dtype=object
)
OPEN, APPROVED, REJECTED, ORDERED, CANCELLED = range(5)
ORIGINS = np.array(["mrp", "reorder_point", "manual", "requisition"], dtype=object)


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
    n = scale.requisitions
    p = purchasing
    recent_open = np.flatnonzero(
        np.isin(p.status, (SENT, ACKED, PARTIAL)) & (p.po_order[p.po] >= -30)
    )
    ordered_lines = np.sort(rng.choice(recent_open, min(n // 10, len(recent_open)), replace=False))
    n_rest = n - len(ordered_lines)
    recent_change = np.flatnonzero(boms.dropped_day >= -30)
    changed = rng.choice(recent_change, min(len(recent_change), n_rest // 5), replace=False)
    n_planned = min(len(planned.item), n_rest - len(changed))
    n_other = n_rest - len(changed) - n_planned
    buy = np.flatnonzero(items.supplier >= 0)
    other_items = buy[pick_in(0, len(buy), rng.random(n_other) ** 1.5)]

    kind = np.repeat([0, 1, 2], [len(changed), n_planned, n_other])  # changed, planned, other
    rest_items = np.concatenate(
        [boms.dropped_component[changed], planned.item[:n_planned], other_items]
    )
    rest_need = np.concatenate(
        [
            to_weekday(
                np.maximum(boms.dropped_day[changed], 0) + rng.integers(5, 61, len(changed))
            ),
            planned.requested[:n_planned],
            to_weekday(rng.integers(3, 121, n_other)),
        ]
    )
    qty = np.maximum(
        items.unit_scale[rest_items] * rng.uniform(0.5, 2.0, n_rest),
        items.min_order_qty[rest_items],
    )
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
            items.home_site[other_items],
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
