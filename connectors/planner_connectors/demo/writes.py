"""Decisions written back to the demo plant: what each action does to a requisition, and how the
writes of the ledger (:mod:`planner_connectors.demo.ledger`) are laid over the generated records.

The demo behaves like a source system that took the writes itself, with the rules of the Tryton
connector (:mod:`planner_connectors.tryton.push`) where they make sense for a plain requisition:

=============== ======================================= ==================================
action          open or approved requisition            ordered, cancelled or rejected
=============== ======================================= ==================================
reduce/increase ``quantity`` (in the item's stock unit, refused (ordered: change the PO
                which becomes the requisition's unit)  line; otherwise: nothing to buy)
expedite/defer  ``need_date``                           refused
switch_source   ``suggested_supplier``                  refused
 to alternate   ``item``: the alternate, its stock      refused
                unit and quantity; supplier: the given
                one, else the alternate's default
cancel          ``status`` cancelled                    rejected: cancelled; ordered:
                                                        refused (cancel the PO line)
order           ``status`` ordered (supplier: the given refused
                one, else its own; none: refused), and
                a purchase order ``PO-W`` + the write's
                number with one line (see below)
keep            nothing to write
=============== ======================================= ==================================

*Ordering places a purchase order.* Like Tryton's Create Purchase wizard (a draft purchase per
supplier), an applied ``order`` write makes a draft purchase order for the requisition's
supplier and site, dated the write's day, with one line: the requisition's item, quantity and
unit, requested for its need date, at the item's standard cost, linked to the requisition
(:func:`placed_orders`). Its code comes from the write (``PO-W000003`` for write 3) and its
version is the write's (``d00007.w000003``), so the sync after the write brings the PO and its
line with the ordered requisition, and planning counts the line as a scheduled receipt. The
demo's simulated days leave these orders as placed (a buyer would approve and send them).

Decisions on purchase-order lines (exception messages' reschedule, reduce and cancel) follow the
rules of :mod:`planner_connectors.demo.line_writes`.

*Version check.* A write names the version its decision saw (``base_version``). If the record's
version now differs — a simulated day changed it, or an earlier write did — the decision is a
conflict with both states, and nothing is written; unless the record already holds exactly what
the decision asks for, which counts as done (as after a response lost on the way back).
*Idempotency.* The ledger keeps each write's idempotency key: the same key again is reported
``already_applied`` and nothing is written twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from planner_connectors.demo.clock import BASE_DATE, NO_DATE, version
from planner_connectors.demo.ledger import Write
from planner_connectors.demo.master import UOM_CODES
from planner_connectors.demo.requisitions import (
    APPROVED,
    CANCELLED,
    OPEN,
    ORDERED,
    REJECTED,
    REQUISITION_STATUS,
    Requisitions,
)
from workbench.connect.port import ConflictError, PermanentError, PushRequest, PushResult
from workbench.domain.enums import DATE_ACTIONS, QUANTITY_ACTIONS, WriteAction

if TYPE_CHECKING:
    from planner_connectors.demo.plant import Plant

TARGET_PREFIX = "requisitions:RQ-"
#: codes of the purchase orders ``order`` writes place: this + the write's number
PLACED_PREFIX = "PO-W"
#: the entities the ledger's writes change (the requisitions and the orders placed for them)
#: (and, since writes on PO lines change what the purchasing simulation receives, the stock and
#: the promise history): a pull of one of them lays the ledger's writes first
WRITTEN_ENTITIES = frozenset({"requisitions", "purchase_orders", "purchase_order_lines",
                              "inventory", "promise_changes"})
_STATUS = {str(s): i for i, s in enumerate(REQUISITION_STATUS)}
_UOM = {str(u): i for i, u in enumerate(UOM_CODES)}


class RequisitionBook:
    """Requisitions of one plant by code, read and written as field values (JSON-plain)."""

    def __init__(self, plant: Plant, req: Requisitions) -> None:
        self.plant = plant
        self.req = req
        self._row = np.empty(len(req.number), dtype=np.int64)
        self._row[req.number - 1] = np.arange(len(req.number))
        self._items = {str(c): i for i, c in enumerate(plant.items.codes)}
        self._suppliers = {str(c): i for i, c in enumerate(plant.suppliers.codes)}

    def row(self, target: str) -> int | None:
        """The row of the requisition whose source key is ``target`` (None: no such one)."""
        if not target.startswith(TARGET_PREFIX) or not target[len(TARGET_PREFIX) :].isdigit():
            return None
        number = int(target[len(TARGET_PREFIX) :])
        return int(self._row[number - 1]) if 1 <= number <= len(self._row) else None

    def version(self, row: int) -> str:
        return version(int(self.req.version[row]), int(self.req.written[row]))

    def state(self, row: int) -> dict[str, Any]:
        """The record as a conflict report shows it."""
        r = self.req
        supplier = int(r.supplier[row])
        return {
            "code": f"RQ-{int(r.number[row]):06d}",
            "item": str(self.plant.items.codes[r.item[row]]),
            "quantity": float(r.quantity[row]),
            "uom": str(UOM_CODES[r.uom[row]]),
            "need_date": (BASE_DATE + dt.timedelta(days=int(r.need[row]))).isoformat(),
            "suggested_supplier": str(self.plant.suppliers.codes[supplier]) if supplier >= 0 else "",
            "status": str(REQUISITION_STATUS[r.status[row]]),
            "version": self.version(row),
        }

    def item_index(self, code: str) -> int | None:
        return self._items.get(code)

    def supplier_index(self, code: str) -> int | None:
        return self._suppliers.get(code)

    def set(self, row: int, values: dict[str, Any]) -> None:
        """Give the record the field values of a write."""
        r = self.req
        for name, value in values.items():
            if name == "quantity":
                r.quantity[row] = float(value)
            elif name == "uom":
                r.uom[row] = _UOM[value]
            elif name == "need_date":
                r.need[row] = (dt.date.fromisoformat(value) - BASE_DATE).days
            elif name == "suggested_supplier":
                r.supplier[row] = self._suppliers[value] if value else -1
            elif name == "item":
                r.item[row] = self._items[value]
            elif name == "status":
                r.status[row] = _STATUS[value]
            else:
                raise ValueError(f"a demo write cannot set {name!r}")


def lay_writes(book: RequisitionBook, writes: Sequence[Write]) -> Callable[[int], None]:
    """The end-of-day step that applies each write on its day (a write made on a later day than
    the plant's is applied at its end: moving the demo's day back never undoes a write)."""
    last = book.plant.day
    by_day: dict[int, list[Write]] = {}
    for w in sorted(writes, key=lambda w: w.seq):
        by_day.setdefault(min(w.day, last), []).append(w)

    def end_of_day(t: int) -> None:
        for w in by_day.get(t, ()):
            row = book.row(w.target)
            if row is None:
                continue
            book.set(row, w.values)
            book.req.version[row] = w.day
            book.req.written[row] = w.seq

    return end_of_day


def placed_order_code(write: int) -> str:
    """The code of the purchase order an ``order`` write places (see the module docstring)."""
    return f"{PLACED_PREFIX}{write:06d}"


@dataclass(frozen=True)
class PlacedOrders:
    """The purchase orders placed by ``order`` writes, one line each, in write order: the rest
    of each order (supplier, site, item, quantity, unit, need date) is its requisition's."""

    code: np.ndarray  # PO-W + the write's number
    requisition: np.ndarray  # the requisition's row
    day: np.ndarray  # the write's day: the order date and the version's day
    write: np.ndarray  # the write's number

    def __len__(self) -> int:
        return len(self.code)


def placed_orders(book: RequisitionBook, writes: Sequence[Write]) -> PlacedOrders:
    """The orders of the applied ``order`` writes whose requisition the plant shows ordered.

    Taken from the requisitions after every write is laid: an ordered requisition no longer
    changes (writes on it are refused, the simulated days touch only open ones), so it holds
    what was ordered. One order per requisition, should a ledger ever hold two writes for it.
    """
    seen: set[int] = set()
    rows: list[int] = []
    picked: list[Write] = []
    for w in sorted(writes, key=lambda w: w.seq):
        row = book.row(w.target) if w.action is WriteAction.ORDER else None
        if row is None or row in seen:
            continue
        if book.req.status[row] != ORDERED or book.req.supplier[row] < 0:
            continue
        seen.add(row)
        rows.append(row)
        picked.append(w)
    return PlacedOrders(
        code=np.array([placed_order_code(w.seq) for w in picked], dtype=object),
        requisition=np.array(rows, dtype=np.int64),
        day=np.array([w.day for w in picked], dtype=np.int64),
        write=np.array([w.seq for w in picked], dtype=np.int64),
    )


@dataclass(frozen=True)
class Outcome:
    """What a push comes to: a result without writing, or the values to write."""

    result: PushResult | None = None
    values: dict[str, Any] | None = None
    what: str = ""


def decide(
    book: RequisitionBook, request: PushRequest, done: Write | None
) -> Outcome:
    """Apply the rules of the module docstring to the current record; raise Conflict/Permanent.
    (An action outside :class:`WriteAction` never gets here: the PushRequest refuses it.)"""
    action = request.action
    row = book.row(request.target)
    if done is not None:  # first: a write once applied is done whatever the plant shows now
        now_or_none = book.version(row) if row is not None else None
        reason = {"reason": f"already applied (demo ledger, write {done.seq})"}
        return Outcome(PushResult(now_or_none, reason, already_applied=True))
    if row is None:
        raise PermanentError(f"the demo plant has no requisition {request.target!r}")
    now = book.version(row)
    if action is WriteAction.KEEP:
        return Outcome(PushResult(now, {"reason": "nothing to write"}))
    state = book.state(row)
    values, what = _target_values(book, row, request, state)
    moved = request.base_version is not None and request.base_version != now
    if all(_same(state[k], v) for k, v in values.items()):
        reason = {"reason": "the demo plant already holds this"}
        return Outcome(PushResult(now, reason, already_applied=moved))
    if moved:
        raise ConflictError(
            f"{state['code']} changed in the demo plant since the analysis "
            f"(version {request.base_version} -> {now})",
            ours={
                "action": action,
                "quantity": request.quantity,
                "date": request.date,
                "supplier": request.supplier,
                "item": request.item,
                "base_version": request.base_version,
            },
            theirs=state,
        )
    _check_status(state, action)
    return Outcome(values=values, what=what)


def _target_values(
    book: RequisitionBook, row: int, request: PushRequest, state: dict[str, Any]
) -> tuple[dict[str, Any], str]:
    """The field values the decision asks for (refusing a malformed one whatever the record)."""
    action, code = request.action, state["code"]
    if action in QUANTITY_ACTIONS:
        qty = _quantity(request.quantity, action)
        uom = str(UOM_CODES[book.plant.items.uom[book.req.item[row]]])
        return {"quantity": qty, "uom": uom}, f"quantity set to {qty:g} {uom}"
    if action in DATE_ACTIONS:
        day = _date(book.plant, request.date, action)
        return {"need_date": day}, f"need date moved to {day}"
    if action is WriteAction.SWITCH_SOURCE:
        if request.item:
            return _alternate(book, request)
        if not request.supplier:
            raise PermanentError(f"switch_source of {code} needs a supplier or an alternate item")
        _supplier(book, request.supplier)
        return {"suggested_supplier": request.supplier}, f"supplier set to {request.supplier}"
    if action is WriteAction.CANCEL:
        return {"status": "cancelled"}, "cancelled"
    assert action is WriteAction.ORDER
    values: dict[str, Any] = {"status": "ordered"}
    if request.supplier:
        _supplier(book, request.supplier)
        values["suggested_supplier"] = request.supplier
    elif not state["suggested_supplier"]:
        raise PermanentError(f"{code} has no supplier; choose one to order it")
    return values, "ordered"


def _alternate(book: RequisitionBook, request: PushRequest) -> tuple[dict[str, Any], str]:
    assert request.item is not None
    index = book.item_index(request.item)
    if index is None:
        raise PermanentError(f"the demo plant has no item {request.item!r}")
    qty = _quantity(request.quantity, "switching to an alternate")
    items = book.plant.items
    values: dict[str, Any] = {
        "item": request.item,
        "quantity": qty,
        "uom": str(UOM_CODES[items.uom[index]]),
    }
    supplier = request.supplier
    if supplier:
        _supplier(book, supplier)
    elif items.supplier[index] >= 0:
        supplier = str(book.plant.suppliers.codes[items.supplier[index]])
    values["suggested_supplier"] = supplier or ""
    return values, f"switched to alternate {request.item} ({qty:g} {values['uom']})"


def _check_status(state: dict[str, Any], action: WriteAction) -> None:
    """Refuse what the record's status does not allow (after the version check: a record that
    moved into such a status is a conflict, which tells the buyer more)."""
    status, code = _STATUS[state["status"]], state["code"]
    if status in (OPEN, APPROVED):
        return
    if action is WriteAction.CANCEL and status == REJECTED:
        return
    if status == ORDERED:
        raise PermanentError(
            f"{code} is ordered: its purchase-order line holds what was bought; "
            f"{'cancel' if action is WriteAction.CANCEL else 'change'} that line instead"
        )
    assert status in (CANCELLED, REJECTED)
    raise PermanentError(f"{code} is {state['status']}: there is nothing left to {action}")


def _quantity(value: float | None, what: str) -> float:
    if value is None or not value > 0:
        raise PermanentError(f"{what} needs a positive quantity (got {value})")
    return float(value)


def _date(plant: Plant, value: str | None, action: str) -> str:
    if not value:
        raise PermanentError(f"{action} needs a date")
    try:
        day = dt.date.fromisoformat(value[:10])
    except ValueError:
        raise PermanentError(f"{action}: {value!r} is not a date (YYYY-MM-DD)") from None
    offset = (day - BASE_DATE).days
    cal = plant.calendar
    if offset == NO_DATE or not cal.lo <= offset <= cal.hi:
        first = BASE_DATE + dt.timedelta(days=cal.lo)
        last = BASE_DATE + dt.timedelta(days=cal.hi)
        raise PermanentError(f"{action}: {day} lies outside the demo calendar ({first}..{last})")
    return day.isoformat()


def _supplier(book: RequisitionBook, code: str) -> None:
    if book.supplier_index(code) is None:
        raise PermanentError(f"the demo plant has no supplier {code!r}")


def _same(have: Any, want: Any) -> bool:
    if isinstance(want, float):
        return isinstance(have, float) and abs(have - want) < 1e-9
    return bool(have == want)
