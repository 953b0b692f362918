"""The demo plant as a whole: each part generated on first use, from its own random stream."""

from __future__ import annotations

from functools import cached_property

import numpy as np

from connectors.demo import words
from connectors.demo.boms import Boms, make_boms
from connectors.demo.clock import NO_DATE, Calendar
from connectors.demo.master import Items, Suppliers, make_items, make_suppliers
from connectors.demo.production import (
    AVAILABLE,
    GOODS_RECEIPT,
    WH,
    Demands,
    Stock,
    WorkOrders,
    advance_work_orders,
    locations_per_site,
    make_demands,
    make_stock,
    make_work_orders,
)
from connectors.demo.purchasing import Purchasing, advance, make_purchasing
from connectors.demo.requisitions import Requisitions, advance_requisitions, make_requisitions
from connectors.demo.scales import Scale

#: earliest and latest day offsets any date of the plant can have (beyond the simulated day)
_CALENDAR_SPAN = (-2200, 700)


class Plant:
    def __init__(self, scale: Scale, seed: int, day: int) -> None:
        self.scale = scale
        self.seed = seed
        self.day = day
        self.calendar = Calendar(_CALENDAR_SPAN[0], day + _CALENDAR_SPAN[1])

    @cached_property
    def suppliers(self) -> Suppliers:
        return make_suppliers(self.scale, self.seed)

    @cached_property
    def items(self) -> Items:
        return make_items(self.scale, self.seed, self.suppliers)

    @cached_property
    def boms(self) -> Boms:
        return make_boms(self.items, self.scale, self.seed)

    @cached_property
    def demands(self) -> Demands:
        return make_demands(self.items, self.scale, self.seed, len(words.CUSTOMERS))

    @cached_property
    def work_orders(self) -> WorkOrders:
        wo = make_work_orders(self.items, self.boms, self.demands, self.scale, self.seed)
        advance_work_orders(wo, self.day, self.seed)
        return wo

    @cached_property
    def _purchasing_base(self) -> Purchasing:
        return make_purchasing(self.items, self.suppliers, self.scale, self.seed)

    @cached_property
    def requisitions(self) -> Requisitions:
        # created on the day-0 purchasing, whose PO lines they are linked to
        req = make_requisitions(
            self.items, self.suppliers, self.boms, self._purchasing_base, self.scale, self.seed
        )
        advance_requisitions(req, self.day, self.seed)
        return req

    @cached_property
    def purchasing(self) -> Purchasing:
        self.requisitions  # noqa: B018 - links the ordered requisitions to their lines first
        p = self._purchasing_base
        advance(p, self.day, self.seed)
        return p

    @cached_property
    def inventory(self) -> Stock:
        """Day-0 stock plus a goods-receipt row for every receipt after day 0."""
        base = make_stock(self.items, self.scale, self.seed)
        p = self.purchasing
        line, qty, day, version = p.receipt_columns()
        site = p.po_site[p.po[line]].astype(np.int64)
        n = len(line)
        receipts = Stock(
            item=p.item[line],
            site=site,
            location=site * locations_per_site(self.scale) + WH,
            lot_kind=np.full(n, GOODS_RECEIPT, dtype=np.int8),
            lot_number=line + 1,
            status=np.full(n, AVAILABLE, dtype=np.int8),
            quantity=qty,
            uom=p.uom[line],
            as_of=day,
            expected=np.full(n, NO_DATE, dtype=np.int64),
            version=version,
        )
        return Stock.concat([base, receipts])

    def location_codes(self) -> np.ndarray:
        per_site = locations_per_site(self.scale)
        codes = []
        for s in range(self.scale.sites):
            site = self.site_codes()[s]
            codes += [f"{site}-WH", f"{site}-DOCK", f"{site}-QC"]
            codes += [f"{site}-A{b + 1:02d}" for b in range(per_site - 3)]
        return np.array(codes, dtype=object)

    def site_codes(self) -> list[str]:
        return [f"P{s + 1}" for s in range(self.scale.sites)]
