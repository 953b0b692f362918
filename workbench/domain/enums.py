"""Status and kind enumerations of the canonical model.

Every status a source system can report is mapped onto one of these before it reaches the cache, so
planning logic never has to know a source's own vocabulary.
"""

from __future__ import annotations

from enum import StrEnum


class MakeBuy(StrEnum):
    MAKE = "make"
    BUY = "buy"


class LocationKind(StrEnum):
    WAREHOUSE = "warehouse"
    BIN = "bin"
    DOCK = "dock"


class UomCategory(StrEnum):
    COUNT = "count"
    MASS = "mass"
    LENGTH = "length"
    VOLUME = "volume"
    AREA = "area"
    TIME = "time"


class BomStatus(StrEnum):
    DRAFT = "draft"
    RELEASED = "released"
    OBSOLETE = "obsolete"


class InventoryStatus(StrEnum):
    AVAILABLE = "available"
    QUALITY_HOLD = "quality_hold"
    ALLOCATED = "allocated"
    IN_TRANSIT = "in_transit"


class DemandKind(StrEnum):
    SALES_ORDER = "sales_order"
    FORECAST = "forecast"
    MPS = "mps"


class DemandStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class WorkOrderStatus(StrEnum):
    PLANNED = "planned"
    RELEASED = "released"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class PurchaseStatus(StrEnum):
    """Status of a purchase order and of each of its lines."""

    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    PARTIALLY_RECEIVED = "partially_received"
    RECEIVED = "received"
    CANCELLED = "cancelled"
    CLOSED = "closed"


#: Purchase statuses whose remaining quantity is still expected to arrive.
OPEN_PURCHASE_STATUSES = frozenset(
    {
        PurchaseStatus.DRAFT,
        PurchaseStatus.PENDING_APPROVAL,
        PurchaseStatus.APPROVED,
        PurchaseStatus.SENT,
        PurchaseStatus.ACKNOWLEDGED,
        PurchaseStatus.PARTIALLY_RECEIVED,
    }
)


class AckStatus(StrEnum):
    """Supplier acknowledgement of a purchase order line."""

    NONE = "none"
    ACCEPTED = "accepted"
    CHANGED = "changed"
    REJECTED = "rejected"


class RequisitionStatus(StrEnum):
    OPEN = "open"
    APPROVED = "approved"
    REJECTED = "rejected"
    ORDERED = "ordered"
    CANCELLED = "cancelled"


class RequisitionOrigin(StrEnum):
    MRP = "mrp"
    REORDER_POINT = "reorder_point"
    MANUAL = "manual"
    REQUISITION = "requisition"


class RecommendationAction(StrEnum):
    KEEP = "keep"
    CANCEL = "cancel"
    REDUCE = "reduce"
    INCREASE = "increase"
    EXPEDITE = "expedite"
    DEFER = "defer"
    SWITCH_SOURCE = "switch_source"


class WriteAction(StrEnum):
    """What a decision asks the source system to do to a requisition (the outbox's payload
    ``action``, :class:`workbench.connect.port.PushRequest`).

    Every :class:`RecommendationAction` under the same value, plus ``order``: the requisition
    turned into a purchase order. ``keep`` writes nothing (it records the buyer's look). The
    values are the strings stored in outbox payloads and connector ledgers: never rename one.
    """

    KEEP = "keep"
    CANCEL = "cancel"
    REDUCE = "reduce"
    INCREASE = "increase"
    EXPEDITE = "expedite"
    DEFER = "defer"
    SWITCH_SOURCE = "switch_source"
    ORDER = "order"


#: actions that change the requisition's quantity (the request carries ``quantity``)
QUANTITY_ACTIONS = frozenset({WriteAction.REDUCE, WriteAction.INCREASE})
#: actions that move the requisition's date (the request carries ``date``)
DATE_ACTIONS = frozenset({WriteAction.EXPEDITE, WriteAction.DEFER})


class DecisionVerdict(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    MODIFY = "modify"


class OutboxState(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    CONFIRMED = "confirmed"
    FAILED = "failed"
    CONFLICT = "conflict"
    #: a conflict the buyer settled by keeping the source's state: never sent, decision kept
    DISCARDED = "discarded"


class SyncRunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"
    FAILED = "failed"
    CANCELLED = "cancelled"
