"""Decisions written back to the demo plant's purchase-order lines (exception messages' advice).

The demo takes the decisions a buyer approves on an exception message of a firm PO line
(:mod:`workbench.services.message_decisions`) like a source system with Tryton's spirit:

=============== ================================================ ============================
action          open line (draft ... acknowledged, partly        received, closed or
                received)                                        cancelled line
=============== ================================================ ============================
expedite/defer  ``requested_date`` and, when the supplier has    refused: nothing left to
                promised one, ``promised_date`` (the demo's      deliver
                suppliers accept a rescheduled date)
reduce/increase ``quantity`` (the line's own unit; never below   refused
                what was received)
cancel          ``status`` cancelled; a partly received line is  refused
                closed at what came (``quantity`` = received,
                ``status`` received)
other actions   refused (switch_source, order: requisitions only)
=============== ================================================ ============================

The target is the line's ``source_key`` (``purchase_order_lines:PO-000123/4``). Lines of the
orders the demo placed for ordered requisitions (``PO-W…``) take no changes (refused). The
version check and idempotency are those of requisition writes
(:mod:`planner_connectors.demo.writes`): a line whose version moved since the decision's
``base_version`` is a conflict with both states, unless it already holds what is asked; a key
applied before is ``already_applied``. The writes are laid over the generated lines day by day
inside the purchasing simulation (:func:`planner_connectors.demo.purchasing.advance`), so later
simulated days see them: a deferred line is not received on its old date, a cancelled one never.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from planner_connectors.demo.clock import BASE_DATE, NO_DATE, version
from planner_connectors.demo.ledger import Write
from planner_connectors.demo.master import UOM_CODES
from planner_connectors.demo.purchasing import (
    CANCELLED,
    CLOSED,
    PURCHASE_STATUS,
    RECEIVED,
    Purchasing,
)
from planner_connectors.demo.writes import PLACED_PREFIX, Outcome, _date, _same
from workbench.connect.port import (
    ConflictError,
    PermanentError,
    PushRequest,
    PushResult,
    TargetKind,
)
from workbench.domain.enums import DATE_ACTIONS, QUANTITY_ACTIONS, WriteAction

if TYPE_CHECKING:
    from planner_connectors.demo.plant import Plant

LINE_PREFIX = "purchase_order_lines:"
LINE = TargetKind.PURCHASE_ORDER_LINE.value
_STATUS = {str(s): i for i, s in enumerate(PURCHASE_STATUS)}
_ENDED = (RECEIVED, CLOSED, CANCELLED)
_EPS = 1e-9


class LineBook:
    """The generated PO lines of one plant's purchasing, read and written as field values."""

    def __init__(self, plant: Plant, p: Purchasing) -> None:
        self.plant = plant
        self.p = p
        n = len(p.po_supplier)
        self._po_pattern = f"PO-%0{max(6, len(str(n)))}d"

    def row(self, target: str) -> int | None:
        """The row of the line whose source key is ``target`` (None: no such generated line)."""
        if not target.startswith(LINE_PREFIX):
            return None
        code, _, line = target[len(LINE_PREFIX) :].rpartition("/")
        number = code[3:]
        if not code.startswith("PO-") or not number.isdigit() or not line.isdigit():
            return None
        po = int(number) - 1
        if not 0 <= po < len(self.p.po_supplier):
            return None
        lo, hi = np.searchsorted(self.p.po, [po, po + 1])
        hits = np.flatnonzero(self.p.line_no[lo:hi] == int(line))
        return int(lo + hits[0]) if len(hits) else None

    def version(self, row: int) -> str:
        return version(int(self.p.version[row]), int(self.p.written[row]))

    def _day(self, offset: int) -> str | None:
        return None if offset == NO_DATE else (BASE_DATE + dt.timedelta(days=offset)).isoformat()

    def state(self, row: int) -> dict[str, Any]:
        """The line as a conflict report shows it."""
        p = self.p
        return {
            "code": f"{self._po_pattern % (int(p.po[row]) + 1)}/{int(p.line_no[row])}",
            "item": str(self.plant.items.codes[p.item[row]]),
            "quantity": float(p.quantity[row]),
            "quantity_received": float(p.received[row]),
            "uom": str(UOM_CODES[p.uom[row]]),
            "requested_date": self._day(int(p.requested[row])),
            "promised_date": self._day(int(p.promised[row])),
            "status": str(PURCHASE_STATUS[p.status[row]]),
            "version": self.version(row),
        }

    def set(self, row: int, values: dict[str, Any]) -> None:
        """Give the line the field values of a write."""
        p = self.p
        for name, value in values.items():
            if name == "quantity":
                p.quantity[row] = float(value)
            elif name in ("requested_date", "promised_date"):
                target = p.requested if name == "requested_date" else p.promised
                target[row] = (dt.date.fromisoformat(value) - BASE_DATE).days
            elif name == "status":
                p.status[row] = _STATUS[value]
            else:
                raise ValueError(f"a demo write cannot set {name!r} of a PO line")


def lay_line_writes(book: LineBook, writes: Sequence[Write]) -> Callable[[int], None]:
    """The end-of-day step of the purchasing simulation that applies each PO-line write on its
    day (a write made on a later day than the plant's is applied at its end)."""
    last = book.plant.day
    by_day: dict[int, list[Write]] = {}
    for w in sorted(writes, key=lambda w: w.seq):
        if w.kind == LINE:
            by_day.setdefault(min(w.day, last), []).append(w)

    def end_of_day(t: int) -> None:
        for w in by_day.get(t, ()):
            row = book.row(w.target)
            if row is None:
                continue
            book.set(row, w.values)
            book.p.version[row] = w.day
            book.p.written[row] = w.seq

    return end_of_day


def decide_line(book: LineBook, request: PushRequest, done: Write | None) -> Outcome:
    """Apply the rules of the module docstring to the current line; raise Conflict/Permanent."""
    row = book.row(request.target)
    if done is not None:
        now_or_none = book.version(row) if row is not None else None
        reason = {"reason": f"already applied (demo ledger, write {done.seq})"}
        return Outcome(PushResult(now_or_none, reason, already_applied=True))
    if row is None:
        if request.target.startswith(LINE_PREFIX + PLACED_PREFIX):
            raise PermanentError(
                f"{request.target}: the demo keeps the orders it placed for requisitions as "
                "placed; it takes changes on its generated lines only")
        raise PermanentError(f"the demo plant has no purchase order line {request.target!r}")
    now = book.version(row)
    if request.action is WriteAction.KEEP:
        return Outcome(PushResult(now, {"reason": "nothing to write"}))
    state = book.state(row)
    values, what = _line_values(book, request, state)
    moved = request.base_version is not None and request.base_version != now
    if all(_same(state[k], v) for k, v in values.items()):
        return Outcome(PushResult(now, {"reason": "the demo plant already holds this"},
                                  already_applied=moved))
    if moved:
        raise ConflictError(
            f"{state['code']} changed in the demo plant since the analysis "
            f"(version {request.base_version} -> {now})",
            ours={"action": request.action, "quantity": request.quantity, "date": request.date,
                  "base_version": request.base_version},
            theirs=state,
        )
    if _STATUS[state["status"]] in _ENDED:
        raise PermanentError(f"{state['code']} is {state['status']}: there is nothing left to "
                             f"{request.action}")
    return Outcome(values=values, what=what)


def _line_values(book: LineBook, request: PushRequest, state: dict[str, Any]
                 ) -> tuple[dict[str, Any], str]:
    action, code = request.action, state["code"]
    received = float(state["quantity_received"])
    if action in QUANTITY_ACTIONS:
        if request.quantity is None or not request.quantity > 0:
            raise PermanentError(f"{action} of {code} needs a positive quantity "
                                 f"(got {request.quantity})")
        qty = float(request.quantity)
        if qty < received - _EPS:
            raise PermanentError(f"{code}: {qty:g} {state['uom']} is less than the "
                                 f"{received:g} already received")
        return {"quantity": qty}, f"quantity of {code} set to {qty:g} {state['uom']}"
    if action in DATE_ACTIONS:
        day = _date(book.plant, request.date, action)
        values: dict[str, Any] = {"requested_date": day}
        if state["promised_date"] is not None:
            values["promised_date"] = day
        return values, f"delivery of {code} moved to {day}"
    if action is WriteAction.CANCEL:
        if received > _EPS:
            return {"quantity": received, "status": "received"}, \
                f"{code} closed at the {received:g} received"
        return {"status": "cancelled"}, f"{code} cancelled"
    raise PermanentError(f"the demo cannot {action} a purchase order line ({code}): that is a "
                         "requisition's action")
