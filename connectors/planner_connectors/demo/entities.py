"""The plant's arrays presented as canonical entities (one :class:`EntityTable` per entity)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np

from planner_connectors.demo import words
from planner_connectors.demo.boms import BOM_STATUS, REVISION_CODES
from planner_connectors.demo.clock import BASE_DATE, NO_DATE, stream
from planner_connectors.demo.columns import Column, Computed, Const, EntityTable, Lookup, Rows, Values
from planner_connectors.demo.master import BOX, EA, GLOBAL_CONVERSIONS, KG, UOM_CODES, UOMS
from planner_connectors.demo.plant import Plant
from planner_connectors.demo.production import (
    DOCK,
    INVENTORY_STATUS,
    LOT_PREFIX,
    MATERIAL_LOT,
    WH,
    WO_STATUS,
    locations_per_site,
)
from planner_connectors.demo.purchasing import ACK_STATUS, DRAFT, NO_ACK, PURCHASE_STATUS
from planner_connectors.demo.requisitions import ORIGINS, REQUISITION_STATUS
from planner_connectors.demo.scales import PP

_BASE_MIDNIGHT = dt.datetime.combine(BASE_DATE, dt.time(0, 0))


def _numbered(prefix: str, numbers: np.ndarray) -> np.ndarray:
    """Document numbers like WO-000042, as a lookup table (index i -> number i)."""
    pattern = f"{prefix}%0{max(6, len(str(int(numbers.max(initial=0)))))}d"
    return np.array([pattern % i for i in numbers.tolist()] + [""], dtype=object)


class _Builder:
    """Makes the EntityTable of each entity from a Plant."""

    def __init__(self, plant: Plant) -> None:
        self.plant = plant
        self.cal = plant.calendar

    def table(
        self,
        entity: str,
        columns: dict[str, Column],
        version: np.ndarray | None = None,
        written: np.ndarray | None = None,
    ) -> EntityTable:
        """``version``: the day each record last changed (master data never changes: day 0);
        ``written``: the demo write that changed it since (requisitions, and the orders an
        ``order`` write placed)."""
        if version is None:
            version = np.zeros(self._length(columns), dtype=np.int64)
        return EntityTable(entity, columns, version, self.cal.versions, written)

    @staticmethod
    def _length(columns: dict[str, Column]) -> int:
        for c in columns.values():
            if isinstance(c, Lookup):
                return len(c.index)
            if isinstance(c, Values):
                return len(c.data)
        raise ValueError("a table needs at least one array column")

    def date(self, offsets: np.ndarray) -> Lookup:
        return Lookup(self.cal.dates, self.cal.index(offsets))

    def item(self, idx: np.ndarray) -> Lookup:
        return Lookup(self.plant.items.codes, idx)

    def site(self, idx: np.ndarray) -> Lookup:
        return Lookup(self.plant.site_codes(), idx)

    def uom(self, idx: np.ndarray) -> Lookup:
        return Lookup(UOM_CODES, idx)

    def supplier(self, idx: np.ndarray) -> Lookup:
        return Lookup(np.append(self.plant.suppliers.codes, ""), idx)

    # -- master data ------------------------------------------------------------------------
    def uoms(self) -> EntityTable:
        idx = np.arange(len(UOMS))
        return self.table(
            "uoms",
            {
                "code": self.uom(idx),
                "name": Lookup([u[1] for u in UOMS], idx),
                "category": Lookup([u[2] for u in UOMS], idx),
            },
        )

    def sites(self) -> EntityTable:
        idx = np.arange(self.plant.scale.sites)
        return self.table(
            "sites",
            {
                "code": self.site(idx),
                "name": Lookup([s[0] for s in words.SITES], idx),
                "timezone": Lookup([s[1] for s in words.SITES], idx),
            },
        )

    def locations(self) -> EntityTable:
        scale = self.plant.scale
        per_site = locations_per_site(scale)
        idx = np.arange(scale.sites * per_site)
        local = idx % per_site
        names = ["Main stores", "Receiving dock", "Quality inspection"]
        names += [f"Rack A{b + 1:02d}" for b in range(scale.bins_per_site)]
        kinds = np.select([local == WH, local == DOCK], [0, 1], 2)
        return self.table(
            "locations",
            {
                "code": Lookup(self.plant.location_codes(), idx),
                "site": self.site(idx // per_site),
                "name": Lookup(names, local),
                "kind": Lookup(["warehouse", "dock", "bin"], kinds),
            },
        )

    def suppliers(self) -> EntityTable:
        s = self.plant.suppliers
        idx = np.arange(len(s))
        return self.table(
            "suppliers",
            {
                "code": self.supplier(idx),
                "name": Lookup(s.names, idx),
                "lead_time_days": Values(s.lead_time),
                "currency": Lookup(s.currency, idx),
            },
        )

    def items(self) -> EntityTable:
        it = self.plant.items
        idx = np.arange(len(it))
        return self.table(
            "items",
            {
                "code": self.item(idx),
                "description": Lookup(it.description_table, it.description),
                "stock_uom": self.uom(it.uom),
                "make_buy": Lookup(["make", "buy"], (it.kind >= PP).astype(np.int8)),
                "lead_time_days": Values(it.lead_time),
                "safety_stock": Values(it.safety_stock),
                "min_order_qty": Values(it.min_order_qty),
                "order_multiple": Values(it.order_multiple),
                "standard_cost": Values(it.standard_cost),
                "planner": Lookup(it.people, it.planner),
                "buyer": Lookup(it.people, it.buyer),
                "default_supplier": self.supplier(it.supplier),
            },
        )

    def uom_conversions(self) -> EntityTable:
        it = self.plant.items
        boxed = np.flatnonzero(it.box_factor > 0)
        pieces = np.flatnonzero(it.each_weight > 0)
        n_global = len(GLOBAL_CONVERSIONS)
        item = np.concatenate([np.full(n_global, -1), boxed, pieces])
        codes = np.append(it.codes, "")
        return self.table(
            "uom_conversions",
            {
                "item": Lookup(codes, item),
                "from_uom": self.uom(
                    np.concatenate(
                        [
                            [g[0] for g in GLOBAL_CONVERSIONS],
                            np.full(len(boxed), BOX),
                            np.full(len(pieces), EA),
                        ]
                    ).astype(np.int64)
                ),
                "to_uom": self.uom(
                    np.concatenate(
                        [
                            [g[1] for g in GLOBAL_CONVERSIONS],
                            np.full(len(boxed), EA),
                            np.full(len(pieces), KG),
                        ]
                    ).astype(np.int64)
                ),
                "factor": Values(
                    np.concatenate(
                        [
                            [g[2] for g in GLOBAL_CONVERSIONS],
                            it.box_factor[boxed],
                            it.each_weight[pieces],
                        ]
                    )
                ),
            },
        )

    def item_xrefs(self) -> EntityTable:
        """PLM document numbers of made items, supplier part numbers, some legacy codes."""
        it = self.plant.items
        rng = stream(self.plant.seed, "item_xrefs")
        n = len(it)
        made = np.flatnonzero(it.kind < PP)
        bought = np.flatnonzero((it.kind >= PP) & (rng.random(n) < 0.6))
        legacy = np.flatnonzero(rng.random(n) < 0.15)
        item = np.concatenate([made, bought, legacy])
        system = np.repeat([0, 1, 2], [len(made), len(bought), len(legacy)])
        number = rng.integers(100000, 9999999, len(item))
        sup_codes = np.append(self.plant.suppliers.codes, "")
        sup = it.supplier[item]

        def external(rows: Rows) -> list[str]:
            out = []
            for s, num, k in zip(system[rows].tolist(), number[rows].tolist(), sup[rows].tolist()):
                if s == 0:
                    out.append(f"DOC-{num:07d}")
                elif s == 1:
                    out.append(f"{sup_codes[k]}-{num % 100000:05d}")
                else:
                    out.append(f"{num % 9000 + 1000}-{num % 997:03d}")
            return out

        return self.table(
            "item_xrefs",
            {
                "item": self.item(item),
                "system": Lookup(["PLM", "SUPPLIER", "LEGACY"], system),
                "external_code": Computed(external),
            },
        )

    # -- engineering --------------------------------------------------------------------------
    def bom_revisions(self) -> EntityTable:
        b = self.plant.boms
        idx = np.arange(len(b.rev_item))
        return self.table(
            "bom_revisions",
            {
                "parent": self.item(b.rev_item),
                "revision": Lookup(REVISION_CODES, b.rev_code),
                "status": Lookup(BOM_STATUS, b.rev_status),
                "effective_from": self.date(b.rev_from),
                "effective_to": self.date(b.rev_to),
                "description": Computed(lambda rows: [b.eco_text(r) for r in idx[rows].tolist()]),
            },
        )

    def bom_lines(self) -> EntityTable:
        b = self.plant.boms
        lines = b.lines
        groups = np.array(
            [""] + [f"ALT-{(p + 1) * 10}" for p in range(int(lines.position.max() // 10) + 1)],
            dtype=object,
        )
        return self.table(
            "bom_lines",
            {
                "parent": self.item(b.rev_item[lines.rev]),
                "revision": Lookup(REVISION_CODES, b.rev_code[lines.rev]),
                "position": Values(lines.position),
                "component": self.item(lines.component),
                "quantity_per": Values(lines.quantity),
                "uom": self.uom(lines.uom),
                "scrap_pct": Values(lines.scrap),
                "alternate_group": Lookup(
                    groups, np.where(lines.alt_prio > 0, lines.position // 10, 0)
                ),
                "alternate_priority": Values(lines.alt_prio),
            },
        )

    # -- stock and demand ------------------------------------------------------------------------
    def inventory(self) -> EntityTable:
        s = self.plant.inventory
        lot_kind, lot_number, prefixes = s.lot_kind, s.lot_number, LOT_PREFIX.tolist()

        def lots(rows: Rows) -> list[str]:
            kinds = lot_kind[rows]
            out = [""] * len(kinds)
            some = np.flatnonzero(kinds)
            numbers = lot_number[rows][some].tolist()
            for i, k, num in zip(some.tolist(), kinds[some].tolist(), numbers):
                out[i] = f"L{num:06d}" if k == MATERIAL_LOT else f"{prefixes[k]}{num:07d}"
            return out

        return self.table(
            "inventory",
            {
                "item": self.item(s.item),
                "site": self.site(s.site),
                "location": Lookup(self.plant.location_codes(), s.location),
                "lot": Computed(lots),
                "status": Lookup(INVENTORY_STATUS, s.status),
                "quantity": Values(s.quantity),
                "uom": self.uom(s.uom),
                "as_of": self.date(s.as_of),
                "expected_date": self.date(s.expected),
                "allocated_to": Lookup(
                    _numbered("WO-", np.arange(1, len(self.plant.work_orders.item) + 1)),
                    s.allocated_to,
                ),
            },
            s.version,
        )

    def demands(self) -> EntityTable:
        d = self.plant.demands
        codes, index = self._demand_codes()
        customers = np.array(list(words.CUSTOMERS) + ["Service & Spares", ""], dtype=object)
        return self.table(
            "demands",
            {
                "code": Lookup(codes, index),
                "kind": Lookup(["sales_order", "forecast"], d.kind),
                "item": self.item(d.item),
                "site": self.site(d.site),
                "quantity": Values(d.quantity),
                "uom": self.uom(self.plant.items.uom[d.item]),
                "due_date": self.date(d.due),
                "status": Const("open"),
                "customer": Lookup(customers, d.customer),
                "priority": Values(d.priority),
            },
        )

    def _demand_codes(self) -> tuple[np.ndarray, np.ndarray]:
        """Codes (SO-000001..., FC-000001...) and each demand's index into them."""
        d = self.plant.demands
        n = len(d.item)
        forecast = d.kind == 1
        number = np.where(forecast, np.cumsum(forecast), np.cumsum(~forecast))
        codes = np.concatenate(
            [_numbered("SO-", np.arange(1, n + 1))[:-1], _numbered("FC-", np.arange(1, n + 1))]
        )
        return codes, np.where(forecast, n + number - 1, number - 1)

    # -- production --------------------------------------------------------------------------
    def work_orders(self) -> EntityTable:
        wo = self.plant.work_orders
        b = self.plant.boms
        codes, index = self._demand_codes()
        demand = np.where(wo.demand >= 0, index[np.maximum(wo.demand, 0)], -1)
        return self.table(
            "work_orders",
            {
                "code": Lookup(
                    _numbered("WO-", np.arange(1, len(wo.item) + 1)), np.arange(len(wo.item))
                ),
                "item": self.item(wo.item),
                "site": self.site(wo.site),
                "quantity": Values(wo.quantity),
                "completed_quantity": Values(wo.completed),
                "uom": self.uom(self.plant.items.uom[wo.item]),
                "start_date": self.date(wo.start),
                "due_date": self.date(wo.due),
                "status": Lookup(WO_STATUS, wo.status),
                "bom_revision": Lookup(REVISION_CODES, b.rev_code[wo.revision]),
                "demand": Lookup(codes, demand),
            },
            wo.version,
        )

    def work_order_components(self) -> EntityTable:
        wo = self.plant.work_orders
        lines = self.plant.boms.lines
        return self.table(
            "work_order_components",
            {
                "work_order": Lookup(_numbered("WO-", np.arange(1, len(wo.item) + 1)), wo.comp_wo),
                "position": Values(lines.position[wo.comp_line]),
                "component": self.item(lines.component[wo.comp_line]),
                "required_quantity": Values(wo.comp_required),
                "issued_quantity": Values(wo.comp_issued),
                "uom": self.uom(lines.uom[wo.comp_line]),
                "required_date": self.date(wo.start[wo.comp_wo]),
            },
            wo.comp_version,
        )

    # -- purchasing --------------------------------------------------------------------------
    def _po_codes(self) -> np.ndarray:
        """PO-000001..., then the orders ``order`` writes placed (PO-W000001...), then ""."""
        generated = _numbered("PO-", np.arange(1, len(self.plant.purchasing.po_supplier) + 1))
        return np.concatenate([generated[:-1], self.plant.placed_orders.code, generated[-1:]])

    def purchase_orders(self) -> EntityTable:
        """The generated orders, then those the demo placed for ordered requisitions (drafts of
        the requisition's supplier and site, dated and versioned by their write)."""
        p = self.plant.purchasing
        placed = self.plant.placed_orders
        req, at = self.plant.requisitions, placed.requisition
        supplier = np.r_[p.po_supplier, req.supplier[at]]
        return self.table(
            "purchase_orders",
            {
                "code": Lookup(self._po_codes(), np.arange(len(supplier))),
                "supplier": self.supplier(supplier),
                "site": self.site(np.r_[p.po_site, req.site[at]]),
                "status": Lookup(PURCHASE_STATUS, np.r_[p.po_status, np.full(len(at), DRAFT)]),
                "order_date": self.date(np.r_[p.po_order, placed.day]),
                "buyer": Lookup(
                    self.plant.items.people,
                    np.r_[p.po_buyer, self.plant.items.supplier_buyer[req.supplier[at]]],
                ),
            },
            np.r_[p.po_version, placed.day],
            np.r_[np.zeros(len(p.po_supplier), np.int64), placed.write],
        )

    def purchase_order_lines(self) -> EntityTable:
        """The generated lines, then the one line of each order the demo placed: its
        requisition's item, quantity and unit, requested for the need date, nothing yet
        promised or received."""
        p = self.plant.purchasing
        placed = self.plant.placed_orders
        req, at = self.plant.requisitions, placed.requisition
        k = len(at)
        po = np.r_[p.po, len(p.po_supplier) + np.arange(k)]
        supplier = np.r_[p.po_supplier, req.supplier[at]]  # per order
        site = np.r_[p.po_site, req.site[at]]
        no_date, nothing = np.full(k, NO_DATE), np.zeros(k)
        price = np.maximum(0.01, np.round(self.plant.items.standard_cost[req.item[at]], 2))
        return self.table(
            "purchase_order_lines",
            {
                "purchase_order": Lookup(self._po_codes(), po),
                "line": Values(np.r_[p.line_no, np.ones(k, np.int64)]),
                "item": self.item(np.r_[p.item, req.item[at]]),
                "supplier": self.supplier(supplier[po]),
                "site": self.site(site[po]),
                "quantity_ordered": Values(np.r_[p.quantity, req.quantity[at]]),
                "quantity_received": Values(np.r_[p.received, nothing]),
                "uom": self.uom(np.r_[p.uom, req.uom[at]]),
                "unit_price": Values(np.r_[p.price, price]),
                "requested_date": self.date(np.r_[p.requested, req.need[at]]),
                "promised_date": self.date(np.r_[p.promised, no_date]),
                "ack_status": Lookup(ACK_STATUS, np.r_[p.ack, np.full(k, NO_ACK)]),
                "ack_date": self.date(np.r_[p.ack_date, no_date]),
                "asn_quantity": Values(np.r_[p.asn_quantity, nothing]),
                "asn_date": self.date(np.r_[p.asn_date, no_date]),
                "received_date": self.date(np.r_[p.received_date, no_date]),
                "status": Lookup(PURCHASE_STATUS, np.r_[p.status, np.full(k, DRAFT)]),
                "requisition": Lookup(_numbered("RQ-", req.number), np.r_[p.requisition, at]),
            },
            np.r_[p.version, placed.day],
            np.r_[p.written, placed.write],
        )

    def promise_changes(self) -> EntityTable:
        p = self.plant.purchasing
        line, seconds, promised, version = p.history_columns()
        stock_qty = np.round(p.quantity * p.stock_factor, 4)

        def changed_at(rows: Rows) -> list[dt.datetime]:
            base, second = _BASE_MIDNIGHT, dt.timedelta(seconds=1)
            return [base + s * second for s in seconds[rows].tolist()]

        return self.table(
            "promise_changes",
            {
                "purchase_order": Lookup(self._po_codes(), p.po[line]),
                "line": Values(p.line_no[line]),
                "changed_at": Computed(changed_at),
                "promised_date": self.date(promised),
                "quantity_ordered": Values(stock_qty[line]),
                "origin": Const("source"),
            },
            version,
        )

    def requisitions(self) -> EntityTable:
        r = self.plant.requisitions
        it = self.plant.items
        return self.table(
            "requisitions",
            {
                "code": Lookup(_numbered("RQ-", r.number), np.arange(len(r.item))),
                "item": self.item(r.item),
                "site": self.site(r.site),
                "quantity": Values(r.quantity),
                "uom": self.uom(r.uom),
                "need_date": self.date(r.need),
                "suggested_supplier": self.supplier(r.supplier),
                "origin": Lookup(ORIGINS, r.origin),
                "status": Lookup(REQUISITION_STATUS, r.status),
                "buyer": Lookup(it.people, it.buyer[r.item]),
                "created_date": self.date(r.created),
            },
            r.version,
            r.written,
        )


def build_table(plant: Plant, entity: str) -> EntityTable:
    builder = _Builder(plant)
    method: Callable[[], EntityTable] = getattr(builder, entity)
    return method()
