"""Writing a planner's decision back to Tryton — once, and never over someone else's change.

Targets are ``purchase.request,<id>`` (a requisition, target kind ``requisition``) and
``purchase.line,<id>`` (a PO line: target kind ``purchase_order_line``, an exception message's
reschedule, reduce, increase or cancel; a requisition's decision reaches its line too, through
the request). What Tryton allows, and so what each action does:

=============== =============================== ==========================================
action          draft purchase request          request already on a purchase / PO line
=============== =============================== ==========================================
reduce/increase write ``quantity``              PO line ``quantity`` while the PO is draft
expedite/defer  refused: Tryton computes a      draft/quotation PO: the line's own delivery
                request's dates itself          date; confirmed: planned date of its moves
switch_source   write ``party``                 refused (the supplier is the PO's party)
 to alternate   refused (``product`` read-only) refused
cancel          delete it (requests have no     exception state: Tryton's cancellation
                cancel button)                  wizard; sole line of a draft PO: cancel the
                                                PO, then that wizard
order           Tryton's create_purchase wizard (a draft PO per supplier)
keep            nothing to write
=============== =============================== ==========================================

*On a purchase line* (trytond 8 ``purchase``: the server refuses writes to fields whose
``readonly`` state holds — ``quantity`` unless the purchase is draft; ``delivery_date`` /
``delivery_date_edit`` once it is processing, done or cancelled; lines are deleted only from
draft or cancelled purchases; a purchase is cancelled only from draft or quotation):

=============== =========================== ============================ ===================
action          draft                       quotation                    confirmed /
                                                                         processing
=============== =========================== ============================ ===================
expedite/defer  the line's delivery date    the line's delivery date     planned date of its
                (``delivery_date_store``)                                moves still to come
reduce/increase ``quantity``                refused (read-only)          refused (read-only)
cancel          sole line: cancel the       sole line: cancel the        refused: cancel the
                purchase; else delete the   purchase; else refused       moves in Tryton and
                line                                                     handle the exception
=============== =========================== ============================ ===================

Done or cancelled purchases take nothing. Quantities are in the line's own unit.

*Version check.* The request carries ``base_version``, the record's ``_timestamp`` our analysis
saw (a purchase line: the newest of the line's and its stock moves' ``_timestamp``, as the sync
reports it, since a receipt or a moved delivery changes the line's supply).
If Tryton's record moved on, the decision becomes a conflict with both states, and nothing
is written — unless Tryton already holds exactly what we wanted (see below). Writes and deletes
also send ``_timestamp`` in the context, so Tryton itself refuses a change that slips in between
our read and our write (``ConcurrencyException``).

*Idempotency.* Every applied decision leaves a note on the record (``ir.note``) quoting its
idempotency key, and a replay first looks for it. A response lost after Tryton committed but
before the note was written is caught by comparing the record with the target state: when
Tryton already holds the result, nothing is done again.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from planner_connectors.tryton.reading import m2o, version_of
from planner_connectors.tryton.rpc import TrytonConcurrency, TrytonRPC
from workbench.connect.port import ConflictError, PermanentError, PushRequest, PushResult, TargetKind
from workbench.domain.enums import DATE_ACTIONS, QUANTITY_ACTIONS, WriteAction

NOTE_PREFIX = "Planner Workbench"
REQUEST_FIELDS = [
    "state",
    "quantity",
    "unit.symbol",
    "party",
    "party.code",
    "purchase_line",
    "purchase",
    "product",
    "product.code",
    "supply_date",
    "purchase_date",
]
LINE_FIELDS = [
    "quantity",
    "purchase",
    "purchase.state",
    "purchase.number",
    "delivery_date",
    "delivery_date_store",
    "moves",
]
#: Tryton fields a conflict report shows under a canonical name (see ``_Push.state``) or not at all
_RENAMED = frozenset(
    {"moves", "_timestamp", "_version", "party", "product", "unit", "supply_date",
     "purchase_date"}
)


def _target(request: PushRequest) -> tuple[str, int]:
    model, _, rid = request.target.partition(",")
    if model not in ("purchase.request", "purchase.line") or not rid.isdigit():
        raise PermanentError(f"Tryton cannot take decisions on {request.target!r}")
    if request.target_kind is TargetKind.PURCHASE_ORDER_LINE and model != "purchase.line":
        raise PermanentError(
            f"a decision on a purchase order line names {request.target!r}, which is not a "
            "Tryton purchase line (purchase.line,<id>)"
        )
    return model, int(rid)


class _Push:
    def __init__(self, rpc: TrytonRPC, request: PushRequest, today: dt.date) -> None:
        self.rpc = rpc
        self.req = request
        self.today = today
        self.model, self.id = _target(request)
        self.key = f"{self.model},{self.id}"

    # -- reading -----------------------------------------------------------------------------
    def read(self) -> dict[str, Any] | None:
        """The record, with ``_version``: the version a sync reports for it (a purchase line:
        the newest ``_timestamp`` of the line and its stock moves, as
        :func:`~planner_connectors.tryton.pull_supply.pull_purchase_order_lines` computes it;
        a request: its own ``_timestamp``)."""
        if self.model == "purchase.request":
            rows = self.rpc.read(self.model, [self.id], [*REQUEST_FIELDS, "_timestamp"])
            return {**rows[0], "_version": rows[0]["_timestamp"]} if rows else None
        found = self.rpc.search("purchase.line", [("id", "=", self.id)])
        return self.line(self.id) if found else None

    def exists(self) -> bool:
        return bool(
            self.rpc.search(self.model, [("id", "=", self.id)], context={"active_test": False})
        )

    def line(self, line_id: int) -> dict[str, Any]:
        """A purchase line with ``_version`` (line and moves, see :meth:`read`)."""
        row = self.rpc.read("purchase.line", [line_id], [*LINE_FIELDS, "_timestamp"])[0]
        moves = self.rpc.read("stock.move", row["moves"], ["_timestamp"]) if row["moves"] else []
        return {**row, "_version": version_of(row["_timestamp"],
                                              *(m["_timestamp"] for m in moves))}

    def noted(self) -> bool:
        found = self.rpc.search(
            "ir.note",
            [("resource", "=", self.key), ("message", "like", f"%{self.req.idempotency_key}%")],
        )
        return bool(found)

    def note(self, what: str) -> None:
        """Leave the idempotency key on the record (best effort: the state check also guards)."""
        try:
            self.rpc.create(
                "ir.note",
                [
                    {
                        "resource": self.key,
                        "message": f"{NOTE_PREFIX}: {what} [{self.req.idempotency_key}]"
                        + (f"\n{self.req.comment}" if self.req.comment else ""),
                    }
                ],
            )
        except PermanentError:
            pass

    def state(self, row: dict[str, Any] | None) -> dict[str, Any]:
        """The record as the conflict report shows it (plain JSON values), under the canonical
        requisition names where there is one (``quantity``, ``uom``, ``need_date``,
        ``suggested_supplier``, ``item``, ``version``: what the cache holds and our decision
        uses, so a buyer sees them side by side), Tryton's own names for the rest."""
        if row is None:
            return {"exists": False}
        out = {k: v for k, v in row.items() if not k.endswith(".") and k not in _RENAMED}
        out["version"] = row["_version"]
        if self.model == "purchase.line":
            out["purchase_state"] = m2o(row, "purchase", "state")
        if self.model == "purchase.request":
            out["uom"] = m2o(row, "unit", "symbol")
            out["need_date"] = row.get("supply_date") or row.get("purchase_date")
            out["suggested_supplier"] = m2o(row, "party", "code") or ""
            out["item"] = m2o(row, "product", "code")
            if row.get("purchase_line"):
                line = self.line(row["purchase_line"])
                out["purchase_state"] = m2o(line, "purchase", "state")
                out["line_quantity"] = line["quantity"]
                out["delivery_date"] = line.get("delivery_date")
        return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in out.items()}

    def ours(self) -> dict[str, Any]:
        r = self.req
        return {
            "action": r.action.value,
            "quantity": r.quantity,
            "date": r.date,
            "supplier": r.supplier,
            "base_version": r.base_version,
        }

    # -- target state ----------------------------------------------------------------------
    def reached(self, row: dict[str, Any] | None) -> bool:
        """Whether Tryton already holds what the decision asks for."""
        action, r = self.req.action, self.req
        if row is None:
            return action is WriteAction.CANCEL
        if self.model == "purchase.line" and action is WriteAction.CANCEL:
            return m2o(row, "purchase", "state") == "cancelled"
        if self.model == "purchase.request":
            if action is WriteAction.CANCEL:
                return bool(row["state"] == "cancelled")
            if action is WriteAction.ORDER:
                return row["state"] in ("purchased", "done")
            if action is WriteAction.SWITCH_SOURCE:
                return m2o(row, "party", "code") == r.supplier
            if row.get("purchase_line"):
                row = self.line(row["purchase_line"])
            elif action in QUANTITY_ACTIONS:
                return _same(row["quantity"], r.quantity)
            else:
                return False
        if action in QUANTITY_ACTIONS:
            return _same(row["quantity"], r.quantity)
        if action in DATE_ACTIONS:
            return bool(r.date) and _iso(row.get("delivery_date")) == r.date
        return False

    # -- run --------------------------------------------------------------------------------
    def run(self) -> PushResult:
        action = self.req.action
        if self.req.item:  # before any read: no state of the record makes this possible
            raise PermanentError(
                f"Tryton cannot switch {self.key} to alternate {self.req.item}: the product of a "
                "purchase request is read-only (Tryton makes requests itself). Use the alternate "
                "on the production in Tryton, then cancel or reduce this request there"
            )
        row = self.read() if self.exists() else None
        if row is not None and self.noted():
            return PushResult(
                row["_version"], {"reason": "already applied (note in Tryton)"}, True
            )
        if action is WriteAction.KEEP:
            return PushResult(row["_version"] if row else None, {"reason": "nothing to write"})
        moved = row is None or (
            self.req.base_version is not None and row["_version"] != self.req.base_version
        )
        if self.reached(row):
            version = row["_version"] if row else None
            return PushResult(
                version, {"reason": "Tryton already holds this"}, already_applied=moved
            )
        if moved:
            raise ConflictError(
                f"{self.key} changed in Tryton since the analysis "
                f"(version {self.req.base_version} -> {row['_version'] if row else 'deleted'})",
                ours=self.ours(),
                theirs=self.state(row),
            )
        assert row is not None
        try:
            detail = self.apply(row)
        except TrytonConcurrency:
            raise ConflictError(
                f"{self.key} changed in Tryton while we were writing",
                ours=self.ours(),
                theirs=self.state(self.read() if self.exists() else None),
            ) from None
        after = self.read() if self.exists() else None
        if after is not None:
            self.note(detail.get("what", action.value))
        return PushResult(after["_version"] if after else None, detail)

    def lock(
        self, model: str | None = None, rid: int | None = None, version: str | None = None
    ) -> dict[str, Any]:
        key = f"{model or self.model},{rid or self.id}"
        stamp = version if version is not None else self.req.base_version
        return {"_timestamp": {key: stamp}} if stamp else {}

    def apply(self, row: dict[str, Any]) -> dict[str, Any]:
        action = self.req.action
        if self.model == "purchase.line":
            return self.apply_line(row, row)
        if action is WriteAction.ORDER:
            return self.order(row)
        if action is WriteAction.CANCEL:
            return self.cancel(row)
        on_po = row.get("purchase_line")
        if action is WriteAction.SWITCH_SOURCE:
            if on_po:
                raise PermanentError(
                    f"REQ-{self.id} is on a purchase already; its supplier is the purchase's"
                )
            party = self.party(self.req.supplier)
            self.rpc.write(self.model, [self.id], {"party": party}, context=self.lock())
            return {"what": f"supplier set to {self.req.supplier}"}
        if not on_po:
            if action in QUANTITY_ACTIONS:
                self.rpc.write(
                    self.model,
                    [self.id],
                    {"quantity": _qty(self.req.quantity)},
                    context=self.lock(),
                )
                return {"what": f"quantity set to {self.req.quantity:g}"}
            raise PermanentError(
                f"Tryton computes the dates of a draft purchase request (REQ-{self.id}) itself; "
                "order it first, then expedite or defer the purchase line"
            )
        line = self.line(on_po)
        return self.apply_line(line, row)

    def apply_line(self, line: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
        action = self.req.action
        po_state = m2o(line, "purchase", "state")
        number = m2o(line, "purchase", "number") or f"purchase#{line['purchase']}"
        # the line as just read: its version (line and moves) matched the decision's, and
        # Tryton refuses the write if the line changes before it lands
        lock = self.lock("purchase.line", line["id"], line["_timestamp"])
        if action is WriteAction.CANCEL:
            return self.cancel_line(line, po_state, number, lock)
        if action in QUANTITY_ACTIONS:
            if po_state != "draft":
                raise PermanentError(
                    f"purchase {number} is {po_state}: Tryton only changes line "
                    "quantities of draft purchases (the line's quantity is read-only once the "
                    "purchase is a quotation); change it in Tryton (back to draft) or with "
                    "the supplier"
                )
            self.rpc.write(
                "purchase.line", [line["id"]], {"quantity": _qty(self.req.quantity)}, context=lock
            )
            return {"what": f"quantity of {number} line set to {self.req.quantity:g}"}
        if action in DATE_ACTIONS:
            if not self.req.date:
                raise PermanentError(f"{action} needs a date")
            day = dt.date.fromisoformat(self.req.date)
            if po_state in ("draft", "quotation"):
                self.rpc.write(
                    "purchase.line",
                    [line["id"]],
                    {"delivery_date_edit": True, "delivery_date_store": day},
                    context=lock,
                )
            elif po_state in ("confirmed", "processing"):
                moves = [
                    m["id"]
                    for m in self.rpc.read("stock.move", line["moves"], ["state"])
                    if m["state"] in ("draft", "staging")
                ]
                if not moves:
                    raise PermanentError(f"nothing left to deliver on {number}")
                self.rpc.write("stock.move", moves, {"planned_date": day})
            else:
                raise PermanentError(f"purchase {number} is {po_state}: its dates cannot change")
            return {"what": f"delivery of {number} line moved to {day.isoformat()}"}
        raise PermanentError(
            f"Tryton cannot {action} a purchase line (only reschedule, quantity changes and "
            "cancel)"
        )

    def cancel_line(
        self, line: dict[str, Any], po_state: str | None, number: str, lock: dict[str, Any]
    ) -> dict[str, Any]:
        """Cancel a purchase line as far as Tryton allows (module docstring): the sole line of
        a draft or quotation purchase cancels the purchase; another line of a draft purchase
        is deleted; otherwise refused with the reason."""
        siblings = self.rpc.search(
            "purchase.line", [("purchase", "=", line["purchase"]), ("type", "=", "line")]
        )
        if po_state in ("draft", "quotation") and len(siblings) == 1:
            self.rpc.button("purchase.purchase", "cancel", [line["purchase"]])
            return {"what": f"purchase {number} cancelled (this was its only line)"}
        if po_state == "draft":
            self.rpc.delete("purchase.line", [line["id"]], context=lock)
            return {"what": f"line deleted from draft purchase {number}", "deleted": True}
        if po_state == "quotation":
            raise PermanentError(
                f"purchase {number} is a quotation with other lines: Tryton deletes lines of "
                "draft purchases only and cancels whole purchases only; set it back to draft "
                "in Tryton to drop this line"
            )
        if po_state in ("confirmed", "processing"):
            raise PermanentError(
                f"purchase {number} is {po_state}: Tryton cancels a purchase only while draft "
                "or quotation and deletes lines only of drafts; cancel the line's moves in "
                "Tryton and handle the shipment exception (ignore them)"
            )
        raise PermanentError(f"purchase {number} is {po_state}: there is nothing left to cancel")

    def party(self, code: str | None) -> int:
        ids = self.rpc.search("party.party", [("code", "=", code)]) if code else []
        if not ids:
            raise PermanentError(f"Tryton has no party with code {code!r}")
        return ids[0]

    def order(self, row: dict[str, Any]) -> dict[str, Any]:
        if row["state"] != "draft":
            raise PermanentError(
                f"REQ-{self.id} is {row['state']}: only draft requests can be ordered"
            )
        if self.req.supplier and m2o(row, "party", "code") != self.req.supplier:
            self.rpc.write(
                self.model, [self.id], {"party": self.party(self.req.supplier)}, context=self.lock()
            )
        elif not row.get("party"):
            raise PermanentError(f"REQ-{self.id} has no supplier; choose one to order it")
        reply = self.rpc.run_wizard(
            "purchase.request.create_purchase", self.model, [self.id], [("start", {})]
        )
        if reply.get("view"):
            raise PermanentError(f"Tryton asks for more before ordering REQ-{self.id}")
        after = self.read()
        if not after or after["state"] not in ("purchased", "done"):
            raise PermanentError(f"Tryton did not order REQ-{self.id}")
        return {
            "what": "ordered",
            "purchase": after.get("purchase"),
            "purchase_line": after.get("purchase_line"),
        }

    def cancel(self, row: dict[str, Any]) -> dict[str, Any]:
        state = row["state"]
        if state == "draft" and not row.get("purchase_line"):
            self.rpc.delete(self.model, [self.id], context=self.lock())
            return {"what": "deleted (draft request)", "deleted": True}
        if state == "purchased":
            line = self.line(row["purchase_line"])
            po = line["purchase"]
            po_lines = self.rpc.search(
                "purchase.line", [("purchase", "=", po), ("type", "=", "line")]
            )
            if m2o(line, "purchase", "state") not in ("draft", "quotation") or len(po_lines) != 1:
                raise PermanentError(
                    f"REQ-{self.id} is ordered on a purchase with other lines or already "
                    "confirmed; "
                    "cancel it in Tryton"
                )
            self.rpc.button("purchase.purchase", "cancel", [po])
            state = "exception"
        if state == "exception":
            self.rpc.run_wizard(
                "purchase.request.handle.purchase.cancellation",
                self.model,
                [self.id],
                [("cancel_request", {})],
            )
            return {"what": "cancelled"}
        raise PermanentError(f"REQ-{self.id} is {state}: it cannot be cancelled")


def _same(a: float | None, b: float | None) -> bool:
    return a is not None and b is not None and abs(float(a) - float(b)) < 1e-9


def _qty(value: float | None) -> float:
    if value is None or value <= 0:
        raise PermanentError(f"a quantity must be positive (got {value})")
    return float(value)


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, dt.date) else value


def push_decision(rpc: TrytonRPC, request: PushRequest, today: dt.date) -> PushResult:
    """Apply one decision (see the module docstring); raise Conflict/Transient/PermanentError."""
    return _Push(rpc, request, today).run()
