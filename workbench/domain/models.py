"""The canonical model: what every connector delivers and the cache stores.

Quantities arrive in whatever unit the source uses (`uom`); the sync service converts them to the
item's stock unit at ingest and keeps the original quantity and unit beside the converted one
(see :mod:`workbench.domain.uom`). Every synced record carries ``source`` (the connector that
delivered it), ``source_key`` (the record's identity in that system, e.g. ``purchase.line,42``)
and ``source_version`` (the system's version stamp, e.g. Tryton's ``_timestamp``), which drive
incremental sync and the conflict check of write-back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Annotated, Any, ClassVar, Protocol, cast

from pydantic import BaseModel, ConfigDict, Field, model_validator

from workbench.domain.enums import (
    AckStatus,
    BomStatus,
    DemandKind,
    DemandStatus,
    InventoryStatus,
    LocationKind,
    MakeBuy,
    PurchaseStatus,
    RequisitionOrigin,
    RequisitionStatus,
    UomCategory,
    WorkOrderStatus,
)

#: Every number of the model is finite and within a range: ``inf``, ``-inf`` and ``NaN`` are
#: refused whoever sends them (a data package, the demo, Tryton), so no plan ever holds NaN or
#: Infinity. Quantities, prices and costs stay within +-1e15 (far beyond any real figure, small
#: enough that sums and unit conversions of millions of them stay finite); integers fit the
#: cache's 64-bit INTEGER; lead times stay within 100 years (date arithmetic stays in range).
MAX_NUMBER = 1e15
INT64_MAX = 2**63 - 1
NonNegative = Annotated[float, Field(ge=0, le=MAX_NUMBER, allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0, le=MAX_NUMBER, allow_inf_nan=False)]
#: a unit conversion factor: ``1 from = factor to``; its inverse is used too, so both stay bounded
Factor = Annotated[float, Field(ge=1e-12, le=1e12, allow_inf_nan=False)]
Percent = Annotated[float, Field(ge=0, lt=100, allow_inf_nan=False)]
Index = Annotated[int, Field(ge=0, le=INT64_MAX)]
Int64 = Annotated[int, Field(ge=-INT64_MAX - 1, le=INT64_MAX)]
Days = Annotated[int, Field(ge=0, le=36_500)]
Code = Annotated[str, Field(min_length=1, max_length=120)]


RowCheck = Callable[[Mapping[str, Any]], "str | None"]


class FieldCheck(Protocol):
    """A check across fields of one record (a reason, or None), in two forms: on a record
    (``check(row)``, what the model and the batch path run) and on the fields' values given
    positionally (``check.on_values(*values)``), which the column-wise validation maps over a
    batch's columns (:func:`workbench.domain.validation.validate_columns`) without building a
    dict per record. An absent field is None in both forms. Made by :func:`field_check`."""

    fields: tuple[str, ...]
    on_values: Callable[..., str | None]

    def __call__(self, row: Mapping[str, Any]) -> str | None: ...


def field_check(fields: tuple[str, ...], on_values: Callable[..., str | None]) -> FieldCheck:
    """The :class:`FieldCheck` of ``on_values`` over ``fields``: a plain function on a record
    (as fast as a hand-written one: the batch path calls it on every record)."""
    if len(fields) == 2:
        first, second = fields

        def check(row: Mapping[str, Any]) -> str | None:
            return on_values(row.get(first), row.get(second))
    else:
        def check(row: Mapping[str, Any]) -> str | None:
            return on_values(*map(row.get, fields))
    made = cast(FieldCheck, check)
    made.fields = fields
    made.on_values = on_values
    check.__name__ = on_values.__name__
    return made


def _effectivity_values(start: Any, end: Any) -> str | None:
    if start and end and end < start:
        return f"effective_to {end} is before effective_from {start}"
    return None


def _self_reference_values(parent: Any, component: Any) -> str | None:
    if component == parent:
        return f"component {component} is the BOM's own parent item"
    return None


def _dates_values(start: Any, due: Any) -> str | None:
    if start and due and due < start:
        return f"due_date {due} is before start_date {start}"
    return None


def _allocated_values(target: Any, status: Any) -> str | None:
    status = status or InventoryStatus.AVAILABLE.value
    if target and str(status) != InventoryStatus.ALLOCATED.value:
        return f"allocated_to {target} is set on stock with status {status}, not allocated"
    return None


_effectivity_in_order = field_check(("effective_from", "effective_to"), _effectivity_values)
_not_self_referencing = field_check(("parent", "component"), _self_reference_values)
_dates_in_order = field_check(("start_date", "due_date"), _dates_values)
_allocated_to_only_when_allocated = field_check(("allocated_to", "status"), _allocated_values)


class Record(BaseModel):
    """Base of every synced entity.

    ``key_fields`` name the fields that identify a record within its entity; they are the primary
    key of the cache table and what error messages quote.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, validate_default=False)

    entity: ClassVar[str] = ""
    key_fields: ClassVar[tuple[str, ...]] = ()
    #: quantity fields converted to the item's stock unit at ingest, and the field naming the item
    quantity_fields: ClassVar[tuple[str, ...]] = ()
    item_field: ClassVar[str | None] = None
    #: checks across fields, shared by the model and the fast batch paths (a reason, or None)
    row_checks: ClassVar[tuple[FieldCheck, ...]] = ()

    source: str = ""
    source_key: str = ""
    source_version: str | None = None

    @model_validator(mode="after")
    def _run_row_checks(self) -> Record:
        for check in self.row_checks:
            problem = check(self.__dict__)
            if problem:
                raise ValueError(problem)
        return self

    def key(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f) for f in self.key_fields)

    @classmethod
    def key_of(cls, data: dict[str, Any]) -> str:
        """A readable key for error messages, from raw (possibly invalid) input."""
        return "/".join(str(data.get(f, "?")) for f in cls.key_fields)


class Site(Record):
    entity: ClassVar[str] = "sites"
    key_fields: ClassVar[tuple[str, ...]] = ("code",)
    code: Code
    name: str = ""
    timezone: str = "UTC"


class Location(Record):
    entity: ClassVar[str] = "locations"
    key_fields: ClassVar[tuple[str, ...]] = ("code",)
    code: Code
    site: Code
    name: str = ""
    kind: LocationKind = LocationKind.WAREHOUSE


class Supplier(Record):
    entity: ClassVar[str] = "suppliers"
    key_fields: ClassVar[tuple[str, ...]] = ("code",)
    code: Code
    name: str = ""
    lead_time_days: Days = 0
    currency: str = "EUR"


class UnitOfMeasure(Record):
    entity: ClassVar[str] = "uoms"
    key_fields: ClassVar[tuple[str, ...]] = ("code",)
    code: Code
    name: str = ""
    category: UomCategory = UomCategory.COUNT


class UomConversion(Record):
    """``1 from_uom = factor to_uom``; ``item`` empty means the conversion holds for every item."""

    entity: ClassVar[str] = "uom_conversions"
    key_fields: ClassVar[tuple[str, ...]] = ("item", "from_uom", "to_uom")
    item: str = ""
    from_uom: Code
    to_uom: Code
    factor: Factor


class Item(Record):
    entity: ClassVar[str] = "items"
    key_fields: ClassVar[tuple[str, ...]] = ("code",)
    code: Code
    description: str = ""
    stock_uom: Code = "EA"
    make_buy: MakeBuy = MakeBuy.BUY
    lead_time_days: Days = 0
    safety_stock: NonNegative = 0.0
    min_order_qty: NonNegative = 0.0
    order_multiple: NonNegative = 0.0
    standard_cost: NonNegative = 0.0
    planner: str = ""
    buyer: str = ""
    default_supplier: str = ""


class ItemXref(Record):
    entity: ClassVar[str] = "item_xrefs"
    key_fields: ClassVar[tuple[str, ...]] = ("item", "system")
    item: Code
    system: Code
    external_code: Code


class BomRevision(Record):
    entity: ClassVar[str] = "bom_revisions"
    key_fields: ClassVar[tuple[str, ...]] = ("parent", "revision")
    parent: Code
    revision: Code
    status: BomStatus = BomStatus.RELEASED
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None
    description: str = ""

    row_checks: ClassVar[tuple[FieldCheck, ...]] = (_effectivity_in_order,)


class BomLine(Record):
    entity: ClassVar[str] = "bom_lines"
    key_fields: ClassVar[tuple[str, ...]] = ("parent", "revision", "position")
    quantity_fields: ClassVar[tuple[str, ...]] = ("quantity_per",)
    item_field: ClassVar[str | None] = "component"
    parent: Code
    revision: Code
    position: Index
    component: Code
    quantity_per: Positive
    uom: str | None = None
    scrap_pct: Percent = 0.0
    alternate_group: str = ""
    alternate_priority: Index = 0

    row_checks: ClassVar[tuple[FieldCheck, ...]] = (_not_self_referencing,)


class InventoryBalance(Record):
    """Stock of an item at a site (location, lot) in one status. `allocated_to` names what
    `allocated` (reserved) stock is reserved for: a work order code (its component requirement)
    or a demand code (e.g. the sales order a delivery is picked for); empty when the source does
    not say, and on stock of any other status. Planning counts a reservation once: it first
    serves that order's open requirement of the item at the site, the rest is on hand (all of it
    once the order is no longer open); stock reserved for an order the data does not hold (or
    for none) covers nothing in the plan. Two orders' reservations of one place and lot are two
    rows.

    The rule in full: :mod:`workbench.analysis.sources` (:func:`serve_allocations`).
    """

    entity: ClassVar[str] = "inventory"
    key_fields: ClassVar[tuple[str, ...]] = (
        "item", "site", "location", "lot", "status", "allocated_to")
    quantity_fields: ClassVar[tuple[str, ...]] = ("quantity",)
    item_field: ClassVar[str | None] = "item"
    item: Code
    site: Code
    location: str = ""
    lot: str = ""
    status: InventoryStatus = InventoryStatus.AVAILABLE
    quantity: NonNegative
    uom: str | None = None
    as_of: dt.date | None = None
    expected_date: dt.date | None = None  # for in-transit stock: the ship notice's arrival date
    allocated_to: str = ""  # for allocated stock: the work order or demand it is reserved for

    row_checks: ClassVar[tuple[FieldCheck, ...]] = (_allocated_to_only_when_allocated,)


class Demand(Record):
    """Independent demand: sales orders, forecasts and master-schedule entries."""

    entity: ClassVar[str] = "demands"
    key_fields: ClassVar[tuple[str, ...]] = ("code",)
    quantity_fields: ClassVar[tuple[str, ...]] = ("quantity",)
    item_field: ClassVar[str | None] = "item"
    code: Code
    kind: DemandKind = DemandKind.SALES_ORDER
    item: Code
    site: Code
    quantity: NonNegative
    uom: str | None = None
    due_date: dt.date
    status: DemandStatus = DemandStatus.OPEN
    customer: str = ""
    priority: Int64 = 0


class WorkOrder(Record):
    """A production order: a scheduled receipt of its item and a requirement for its components."""

    entity: ClassVar[str] = "work_orders"
    key_fields: ClassVar[tuple[str, ...]] = ("code",)
    quantity_fields: ClassVar[tuple[str, ...]] = ("quantity", "completed_quantity")
    item_field: ClassVar[str | None] = "item"
    code: Code
    item: Code
    site: Code
    quantity: NonNegative
    completed_quantity: NonNegative = 0.0
    uom: str | None = None
    start_date: dt.date
    due_date: dt.date
    status: WorkOrderStatus = WorkOrderStatus.RELEASED
    bom_revision: str = ""
    demand: str = ""  # the independent demand it was made for, if known

    row_checks: ClassVar[tuple[FieldCheck, ...]] = (_dates_in_order,)


class WorkOrderComponent(Record):
    entity: ClassVar[str] = "work_order_components"
    key_fields: ClassVar[tuple[str, ...]] = ("work_order", "position")
    quantity_fields: ClassVar[tuple[str, ...]] = ("required_quantity", "issued_quantity")
    item_field: ClassVar[str | None] = "component"
    work_order: Code
    position: Index
    component: Code
    required_quantity: NonNegative
    issued_quantity: NonNegative = 0.0
    uom: str | None = None
    required_date: dt.date


class PurchaseOrder(Record):
    entity: ClassVar[str] = "purchase_orders"
    key_fields: ClassVar[tuple[str, ...]] = ("code",)
    code: Code
    supplier: Code
    site: Code
    status: PurchaseStatus = PurchaseStatus.SENT
    order_date: dt.date | None = None
    buyer: str = ""


class PurchaseOrderLine(Record):
    entity: ClassVar[str] = "purchase_order_lines"
    key_fields: ClassVar[tuple[str, ...]] = ("purchase_order", "line")
    quantity_fields: ClassVar[tuple[str, ...]] = (
        "quantity_ordered",
        "quantity_received",
        "asn_quantity",
    )
    item_field: ClassVar[str | None] = "item"
    purchase_order: Code
    line: Index
    item: Code
    supplier: Code
    site: Code
    quantity_ordered: NonNegative
    quantity_received: NonNegative = 0.0
    uom: str | None = None
    unit_price: NonNegative = 0.0
    requested_date: dt.date
    promised_date: dt.date | None = None
    ack_status: AckStatus = AckStatus.NONE
    ack_date: dt.date | None = None
    asn_quantity: NonNegative = 0.0
    asn_date: dt.date | None = None
    received_date: dt.date | None = None
    status: PurchaseStatus = PurchaseStatus.SENT
    requisition: str = ""


class PromiseChange(Record):
    """One past promise-date/quantity change of a PO line, as the source's history reports it.

    Changes the cache observes itself between two syncs are recorded too (by the cache); both land
    in the same history table.
    """

    entity: ClassVar[str] = "promise_changes"
    key_fields: ClassVar[tuple[str, ...]] = ("purchase_order", "line", "changed_at")
    purchase_order: Code
    line: Index
    changed_at: dt.datetime
    promised_date: dt.date | None = None
    quantity_ordered: NonNegative | None = None
    origin: str = "source"  # "source": the source's own history; "observed": seen by a sync


class Requisition(Record):
    entity: ClassVar[str] = "requisitions"
    key_fields: ClassVar[tuple[str, ...]] = ("code",)
    quantity_fields: ClassVar[tuple[str, ...]] = ("quantity",)
    item_field: ClassVar[str | None] = "item"
    code: Code
    item: Code
    site: Code
    quantity: Positive
    uom: str | None = None
    need_date: dt.date
    suggested_supplier: str = ""
    origin: RequisitionOrigin = RequisitionOrigin.MRP
    status: RequisitionStatus = RequisitionStatus.OPEN
    buyer: str = ""
    created_date: dt.date | None = None


#: The entities in the order a sync loads them (referenced entities first).
ENTITY_MODELS: dict[str, type[Record]] = {
    m.entity: m
    for m in (
        UnitOfMeasure,
        Site,
        Location,
        Supplier,
        Item,
        UomConversion,
        ItemXref,
        BomRevision,
        BomLine,
        InventoryBalance,
        Demand,
        WorkOrder,
        WorkOrderComponent,
        PurchaseOrder,
        PromiseChange,
        PurchaseOrderLine,
        Requisition,
    )
}
ENTITIES: tuple[str, ...] = tuple(ENTITY_MODELS)

#: Which fields of an entity must name an existing record of another entity (empty = no reference).
REFERENCES: dict[str, tuple[tuple[str, str], ...]] = {
    "locations": (("site", "sites"),),
    "items": (("stock_uom", "uoms"), ("default_supplier", "suppliers")),
    "uom_conversions": (("item", "items"), ("from_uom", "uoms"), ("to_uom", "uoms")),
    "item_xrefs": (("item", "items"),),
    "bom_revisions": (("parent", "items"),),
    "bom_lines": (("parent", "items"), ("component", "items"), ("uom", "uoms")),
    "inventory": (("item", "items"), ("site", "sites"), ("uom", "uoms")),
    "demands": (("item", "items"), ("site", "sites"), ("uom", "uoms")),
    "work_orders": (("item", "items"), ("site", "sites"), ("uom", "uoms")),
    "work_order_components": (
        ("work_order", "work_orders"),
        ("component", "items"),
        ("uom", "uoms"),
    ),
    "purchase_orders": (("supplier", "suppliers"), ("site", "sites")),
    "purchase_order_lines": (
        ("purchase_order", "purchase_orders"),
        ("item", "items"),
        ("supplier", "suppliers"),
        ("site", "sites"),
        ("uom", "uoms"),
    ),
    "promise_changes": (("purchase_order", "purchase_orders"),),
    "requisitions": (("item", "items"), ("site", "sites"), ("uom", "uoms")),
}


def package_columns(entity: str) -> list[str]:
    """The columns of ``<entity>.csv`` in a canonical data package: the model's fields, in order."""
    return list(ENTITY_MODELS[entity].model_fields)
