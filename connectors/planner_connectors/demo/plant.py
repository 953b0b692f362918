"""The demo plant as a whole: each part generated on first use, from its own random stream.

The writes the demo took (:mod:`planner_connectors.demo.ledger`) are laid over the generated
requisitions day by day, and the ``order`` writes among them place purchase orders; writes on
purchase-order lines are laid over the lines inside the purchasing simulation, so its receipts
(the stock) follow them. Nothing else depends on them, so changing them only rebuilds those.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

import numpy as np

from planner_connectors.demo import words
from planner_connectors.demo.boms import Boms, make_boms
from planner_connectors.demo.clock import NO_DATE, Calendar
from planner_connectors.demo.ledger import Write
from planner_connectors.demo.line_writes import LINE, LineBook, lay_line_writes
from planner_connectors.demo.master import Items, Suppliers, make_items, make_suppliers, stock_factor
from planner_connectors.demo.mrp import Mrp, run_mrp
from planner_connectors.demo.production import (
    AVAILABLE,
    GOODS_RECEIPT,
    PRODUCTION,
    WH,
    Demands,
    Reservable,
    Stock,
    WorkOrders,
    advance_work_orders,
    locations_per_site,
    make_demands,
    make_stock,
    reservable_components,
)
from planner_connectors.demo.purchasing import Purchasing, advance, make_purchasing
from planner_connectors.demo.requisitions import Requisitions, advance_requisitions, make_requisitions
from planner_connectors.demo.scales import Scale
from planner_connectors.demo.writes import PlacedOrders, RequisitionBook, lay_writes, placed_orders

#: earliest and latest day offsets any date of the plant can have (beyond the simulated day)
_CALENDAR_SPAN = (-2200, 700)


class Plant:
    #: what released orders still needed on day 0 (set with :attr:`mrp`)
    _reservable: Reservable

    def __init__(self, scale: Scale, seed: int, day: int, writes: Sequence[Write] = ()) -> None:
        self.scale = scale
        self.seed = seed
        self.day = day
        self.writes = list(writes)
        self.calendar = Calendar(_CALENDAR_SPAN[0], day + _CALENDAR_SPAN[1])

    @cached_property
    def suppliers(self) -> Suppliers:
        return make_suppliers(self.scale, self.seed)

    @cached_property
    def _master(self) -> Items:
        """The item master as created, before the plan sized its planning parameters."""
        return make_items(self.scale, self.seed, self.suppliers)

    @cached_property
    def boms(self) -> Boms:
        return make_boms(self._master, self.scale, self.seed)

    @cached_property
    def demands(self) -> Demands:
        return make_demands(self._master, self.scale, self.seed, len(words.CUSTOMERS))

    @cached_property
    def mrp(self) -> Mrp:
        mrp = run_mrp(self._master, self.boms, self.demands, self.scale, self.seed)
        # what released orders still need on day 0, before :attr:`work_orders` moves them on
        lines = self.boms.lines
        wo = mrp.work_orders
        self._reservable = reservable_components(
            wo, lines.component[wo.comp_line], stock_factor(lines.uom[wo.comp_line]))
        return mrp

    @cached_property
    def items(self) -> Items:
        return self.mrp.items

    @cached_property
    def work_orders(self) -> WorkOrders:
        wo = self.mrp.work_orders  # the plan's orders as of day 0, moved on in place
        advance_work_orders(wo, self.day, self.seed)
        return wo

    @cached_property
    def _purchasing_base(self) -> Purchasing:
        return make_purchasing(self.items, self.suppliers, self.mrp.buy, self.scale, self.seed)

    @cached_property
    def _requisitions_made(self) -> Requisitions:
        # created on the day-0 purchasing, whose PO lines they are linked to
        return make_requisitions(
            self.items,
            self.suppliers,
            self.boms,
            self._purchasing_base,
            self.mrp.requisitions,
            self.scale,
            self.seed,
        )

    @cached_property
    def requisitions(self) -> Requisitions:
        return self.requisitions_with(self.writes)

    def requisitions_with(self, writes: Sequence[Write]) -> Requisitions:
        """The requisitions on the plant's day with ``writes`` applied, each on its day."""
        req = self._requisitions_made.copy()
        end_of_day = lay_writes(RequisitionBook(self, req), writes) if writes else None
        advance_requisitions(req, self.day, self.seed, end_of_day)
        return req

    @cached_property
    def placed_orders(self) -> PlacedOrders:
        """The purchase orders the ``order`` writes placed (beside the generated ones)."""
        return placed_orders(RequisitionBook(self, self.requisitions), self.writes)

    def set_writes(self, writes: Sequence[Write]) -> None:
        """Lay other writes over the requisitions (their next read rebuilds them and the orders
        placed for them)."""
        if list(writes) != self.writes:
            self.writes = list(writes)
            for name in ("requisitions", "placed_orders", "purchasing", "inventory"):
                self.__dict__.pop(name, None)

    @cached_property
    def purchasing(self) -> Purchasing:
        return self.purchasing_with(self.writes)

    def purchasing_with(self, writes: Sequence[Write]) -> Purchasing:
        """The purchasing on the plant's day with the PO-line ``writes`` laid over it, each on
        its day (the day-0 purchasing stays as generated)."""
        self._requisitions_made  # noqa: B018 - links the ordered requisitions to their lines first
        p = self._purchasing_base.copy()
        lines = [w for w in writes if w.kind == LINE]
        end_of_day = lay_line_writes(LineBook(self, p), lines) if lines else None
        advance(p, self.day, self.seed, end_of_day)
        return p

    @cached_property
    def inventory(self) -> Stock:
        """Day-0 stock plus a row for every goods receipt and every finished work order's
        output after day 0 (in the main store of the site)."""
        mrp = self.mrp  # made first: it notes what orders released on day 0 may reserve
        base = make_stock(mrp.items, mrp.stock, self.scale, self.seed, self._reservable,
                          mrp.buffers)
        self._issue(base)
        p = self.purchasing
        line, qty, day, version = p.receipt_columns()
        wo = self.work_orders
        order, made, made_day, made_version = wo.receipt_columns()
        bought = self._receipts(
            p.item[line],
            p.po_site[p.po[line]],
            GOODS_RECEIPT,
            line + 1,
            qty,
            p.uom[line],
            day,
            version,
        )
        output = self._receipts(
            wo.item[order],
            wo.site[order],
            PRODUCTION,
            order + 1,
            made,
            self.items.uom[wo.item[order]],
            made_day,
            made_version,
        )
        return Stock.concat([base, bought, output])

    def _issue(self, stock: Stock) -> None:
        """Take the components work orders issued after day 0 out of the stock reserved for
        that order first, then out of the main store's available row of their site (never below
        zero); those rows change on the day of the issue."""
        wo = self.work_orders
        if not wo.issues:
            return
        rows, qty, version = (np.concatenate(c) for c in zip(*wo.issues))
        lines = self.boms.lines
        line = wo.comp_line[rows]
        sites = self.scale.sites
        key = lines.component[line].astype(np.int64) * sites + wo.site[wo.comp_wo[rows]]
        qty = qty / stock_factor(lines.uom[line])
        qty = self._issue_reserved(stock, key, wo.comp_wo[rows], qty, version)
        left = qty > 0
        key, qty, version = key[left], qty[left], version[left]
        store = np.flatnonzero(
            (stock.status == AVAILABLE)
            & (stock.location % locations_per_site(self.scale) == WH)
            & (stock.version == 0)
        )
        store_key, first = np.unique(
            stock.item[store] * sites + stock.site[store], return_index=True
        )
        at = np.minimum(np.searchsorted(store_key, key), len(store_key) - 1)
        hit = store_key[at] == key
        target = store[first[at[hit]]]
        np.subtract.at(stock.quantity, target, qty[hit])
        stock.quantity[target] = np.round(np.maximum(stock.quantity[target], 0.0), 4)
        np.maximum.at(stock.version, target, version[hit])

    def _issue_reserved(self, stock: Stock, key: np.ndarray, order: np.ndarray, qty: np.ndarray,
                        version: np.ndarray) -> np.ndarray:
        """Issue from the rows reserved for the issuing order (same item and site); returns
        what is left to take from available stock."""
        reserved = np.flatnonzero((stock.allocated_to >= 0) & (stock.version == 0))
        if not len(reserved):
            return qty
        sites = self.scale.sites
        rows_of: dict[tuple[int, int], list[int]] = {}
        for r, k, o in zip(reserved.tolist(), (stock.item[reserved] * sites
                                               + stock.site[reserved]).tolist(),
                           stock.allocated_to[reserved].tolist()):
            rows_of.setdefault((k, o), []).append(r)
        qty = qty.copy()
        for i, (k, o) in enumerate(zip(key.tolist(), order.tolist())):
            for r in rows_of.get((k, o), ()):
                take = min(float(stock.quantity[r]), float(qty[i]))
                if take <= 0:
                    continue
                stock.quantity[r] = round(float(stock.quantity[r]) - take, 4)
                stock.version[r] = max(int(stock.version[r]), int(version[i]))
                qty[i] -= take
        return qty

    def _receipts(
        self,
        item: np.ndarray,
        site: np.ndarray,
        lot_kind: int,
        lot_number: np.ndarray,
        quantity: np.ndarray,
        uom: np.ndarray,
        day: np.ndarray,
        version: np.ndarray,
    ) -> Stock:
        n = len(item)
        site = site.astype(np.int64)
        return Stock(
            item=item.astype(np.int64),
            site=site,
            location=site * locations_per_site(self.scale) + WH,
            lot_kind=np.full(n, lot_kind, dtype=np.int8),
            lot_number=lot_number.astype(np.int64),
            status=np.full(n, AVAILABLE, dtype=np.int8),
            quantity=quantity.astype(float),
            uom=uom.astype(np.int8),
            as_of=day.astype(np.int64),
            expected=np.full(n, NO_DATE, dtype=np.int64),
            version=version.astype(np.int64),
            allocated_to=np.full(n, -1, dtype=np.int64),
        )

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
