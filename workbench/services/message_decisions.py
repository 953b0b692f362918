"""Acting on exception messages: a buyer's or planner's decision on a firm order, stored first.

Issue 13 §3. The messages that advise changing a firm order (docs/exceptions.md) can be
approved, modified (other quantity or date) or rejected:

==================  ==============  ====================================================
message kind        write action    what is decided (the message's advice when approving)
==================  ==============  ====================================================
E01 reschedule_in   ``expedite``    the line's new delivery date (``suggested_date``)
E02 reschedule_out  ``defer``       the line's new delivery date (``suggested_date``)
E04 reduce          ``reduce``      the new open quantity (``suggested_quantity``)
E05 increase        ``increase``    the new open quantity (``suggested_quantity``)
E03 cancel          ``cancel``      nothing more to come
==================  ==============  ====================================================

On a **purchase-order line** (buyer) the decision is written back exactly like a requisition
decision (:mod:`workbench.services.decisions`): in one transaction the ``decisions`` row (its
``target_kind`` ``purchase_order_line``, ``requisition`` holding the element ``PO/line``,
``message_key`` the message), an ``outbox`` entry with the push request
(:class:`~workbench.connect.port.PushRequest` with ``target_kind`` ``purchase_order_line``,
``target`` the line's ``source_key``, ``base_version`` its cached ``source_version``) and its
idempotency key, and an audit event; :mod:`workbench.services.writeback` sends it later with the
same guarantees (version check and conflict with both states, retry, audit). Quantities: the
decision stores the new *open* quantity in the item's stock unit (as the message shows it); the
request carries the line's new *ordered* quantity (received part included) in the line's own
unit (``orig_uom``; factor ``orig_quantity_ordered / quantity_ordered``).

On a **work order** (planner) the decision is advice to the planner: recorded (target kind
``work_order``, audit event ``recorded``), never sent — no connector changes work orders.

Other messages (past due, confirmations, data problems, ...) are not decisions: acknowledge or
snooze them. A resolved message cannot be decided on. Deciding the same thing twice queues it
once (same idempotency key: the outcome says ``duplicate``). The plan shows an approved change at
once: pending decisions are overlaid on the plan's inputs until a sync brings the record's new
version (:mod:`workbench.analysis.overlay`), so the next refresh resolves the message the plan no
longer raises; the message shows its decision and the write-back state (:func:`decision_states`).

Several buyers at once (issue 17 §2): as for requisitions, every decision counts up the decision
version of its PO line or work order, locked inside the writing transaction; given the version the
buyer saw (``expected_version``; :func:`workbench.services.decisions.decision_version` with the
element and its type), a decision on an element someone else decided since is not stored:
:class:`~workbench.services.decisions.DecisionConflict` carries both decisions.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection, Engine

from workbench.cache import exceptions as messages_repo
from workbench.cache.decisions import DecisionStore
from workbench.cache.outbox import OutboxRepository
from workbench.connect.port import PushRequest, TargetKind
from workbench.domain.enums import DATE_ACTIONS, QUANTITY_ACTIONS, DecisionVerdict, WriteAction
from workbench.services.decisions import (
    DecisionConflict,
    DecisionError,
    audit_conflict,
    check_version,
    idempotency_key,
    stamp,
    utc_now,
)
from workbench.services.tasks import TaskState

#: message kind -> the write action approving it asks for
ACTION_OF_KIND: dict[str, WriteAction] = {
    "reschedule_in": WriteAction.EXPEDITE,
    "reschedule_out": WriteAction.DEFER,
    "reduce": WriteAction.REDUCE,
    "increase": WriteAction.INCREASE,
    "cancel": WriteAction.CANCEL,
}
RESCHEDULES = ("reschedule_in", "reschedule_out")
#: element types a decision can be about: written back / recorded only
WRITTEN_BACK = "purchase_order_line"
RECORDED_ONLY = "work_order"
_EPS = 1e-9


@dataclass(frozen=True)
class MessageOutcome:
    """What deciding on one message did. ``written_back``: an outbox entry was queued (a PO
    line, not rejected); ``decision``/``outbox`` the rows written (``duplicate``: the same
    decision was queued before, these are its rows); ``error``: why nothing was recorded (bulk
    decisions only; a single decision raises :class:`DecisionError`); ``conflict``: when that
    was another buyer's decision since the version given (issue 17 §2), both decisions
    (:meth:`DecisionConflict.to_dict`)."""

    message: int | None
    element: str = ""
    element_type: str = ""
    action: str = ""
    verdict: str = ""
    quantity: float | None = None
    date: str | None = None
    decision: int | None = None
    outbox: int | None = None
    idempotency_key: str | None = None
    written_back: bool = False
    duplicate: bool = False
    error: str | None = None
    conflict: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DecisionState:
    """The latest decision on a message and its write-back: ``outbox_state`` None when nothing
    is sent (rejected, or a work order's recorded advice)."""

    decision: int
    verdict: str
    action: str
    quantity: float | None
    date: str | None
    decided_by: str | None
    decided_at: str
    outbox: int | None
    outbox_state: str | None

    @property
    def label(self) -> str:
        """E.g. ``approved, sent`` or ``rejected``."""
        done = {"approve": "approved", "modify": "modified", "reject": "rejected"}
        verdict = done.get(self.verdict, self.verdict)
        return f"{verdict}, {self.outbox_state}" if self.outbox_state else verdict


def decision_states(conn: Connection, keys: Iterable[str] | None = None
                    ) -> dict[str, DecisionState]:
    """message_key -> :class:`DecisionState` of its latest decision."""
    found = messages_repo.latest_decisions(conn, keys)
    return {key: DecisionState(
        decision=int(r["decision"]), verdict=str(r["verdict"]), action=str(r["action"]),
        quantity=r["quantity"], date=r["date"], decided_by=r["decided_by"],
        decided_at=str(r["decided_at"]), outbox=r["outbox"], outbox_state=r["outbox_state"])
        for key, r in found.items()}


def _verdict(verdict: str, quantity: float | None, date: dt.date | str | None) -> str:
    try:
        value = DecisionVerdict(verdict).value
    except ValueError:
        raise DecisionError(f"unknown verdict {verdict!r} (approve, modify, reject)") from None
    if value == DecisionVerdict.APPROVE and (quantity is not None or date is not None):
        return DecisionVerdict.MODIFY.value  # approved with other values than advised
    return value


def _day(value: dt.date | str | None, what: str) -> str | None:
    if value is None or value == "":
        return None
    text = value.isoformat() if isinstance(value, dt.date) else str(value)
    try:
        return dt.date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        raise DecisionError(f"{what}: {text!r} is not a date (YYYY-MM-DD)") from None


@dataclass(frozen=True)
class _Message:
    """What is decided on: a stored message, or (id and key None) a PO line directly."""

    id: int | None
    key: str | None
    kind: str
    code: str
    element: str
    element_type: str
    action: WriteAction
    payload: dict[str, Any]

    @property
    def name(self) -> str:
        if self.id is None:
            return f"{self.action} of {self.element}"
        return f"message {self.id} ({self.code} {self.kind} of {self.element})"


def _message(conn: Connection, message_id: int) -> _Message:
    row = messages_repo.message_row(conn, message_id)
    if row is None:
        raise DecisionError(f"no exception message with id {message_id}")
    payload = json.loads(row["payload"] or "{}")
    element_type = str(payload.get("element_type") or "")
    kind, element = str(row["kind"]), str(row["element"])
    name = f"message {message_id} ({row['code']} {kind} of {element})"
    if row["resolved_on"]:
        raise DecisionError(f"{name} is resolved (on {row['resolved_on']}): its cause is gone, "
                            "there is nothing to decide")
    action = ACTION_OF_KIND.get(kind)
    if action is None or element_type not in (WRITTEN_BACK, RECORDED_ONLY):
        raise DecisionError(f"{name} advises no change of a firm order: acknowledge or snooze "
                            "it (decisions are taken on reschedule, reduce, increase and cancel "
                            "messages of PO lines and work orders)")
    return _Message(message_id, str(row["message_key"]), kind, str(row["code"]), element,
                    element_type, action, payload)


def _advice(msg: _Message, verdict: str, quantity: float | None, date: dt.date | str | None
            ) -> tuple[float | None, str | None]:
    """(new open quantity in stock units, new date) the decision asks for: the message's
    advice unless other values are given; checked against the action."""
    action = msg.action
    if action in QUANTITY_ACTIONS:
        if date is not None:
            raise DecisionError(f"{msg.name}: a {action} takes a quantity, not a date")
        qty = quantity if quantity is not None else msg.payload.get("suggested_quantity")
        current = float(msg.payload.get("quantity") or 0.0)
        if qty is None:
            raise DecisionError(f"{msg.name}: give the new open quantity")
        qty = float(qty)
        if verdict != DecisionVerdict.REJECT:
            if action is WriteAction.REDUCE and not 0 < qty < current - _EPS:
                raise DecisionError(f"{msg.name}: reduce to between 0 and the open {current:g} "
                                    f"(got {qty:g}; to drop the rest, cancel)")
            if action is WriteAction.INCREASE and not qty > current + _EPS:
                raise DecisionError(f"{msg.name}: increase above the open {current:g} "
                                    f"(got {qty:g})")
        return qty, None
    if action in DATE_ACTIONS:
        if quantity is not None:
            raise DecisionError(f"{msg.name}: a reschedule takes a date, not a quantity")
        day = _day(date if date is not None else msg.payload.get("suggested_date"), msg.name)
        if day is None:
            raise DecisionError(f"{msg.name}: give the new date")
        return None, day
    if quantity is not None or date is not None:
        raise DecisionError(f"{msg.name}: a cancel takes neither a quantity nor a date")
    return None, None


def _line_request(store: DecisionStore, msg: _Message, open_qty: float | None
                  ) -> tuple[dict[str, Any], str, str | None]:
    """(push payload without key, connector, base version) of a PO line decision."""
    po, _, number = msg.element.rpartition("/")
    rec = store.purchase_line(po, int(number)) if number.isdigit() else None
    if rec is None or rec["deleted_at"] is not None:
        raise DecisionError(f"{msg.name}: the line is no longer in the cache; sync first")
    line_qty = None
    if open_qty is not None:
        ordered = float(rec["quantity_ordered"] or 0.0)
        orig = rec.get("orig_quantity_ordered")
        factor = float(orig) / ordered if orig and ordered > _EPS else 1.0
        line_qty = round((float(rec["quantity_received"] or 0.0) + open_qty) * factor, 6)
    return {"action": msg.action.value, "target": rec["source_key"] or msg.element,
            "base_version": rec["source_version"], "quantity": line_qty, "date": None,
            "supplier": None, "comment": "", "target_kind": TargetKind.PURCHASE_ORDER_LINE.value
            }, str(rec["source"] or ""), rec["source_version"]


def record_message_decision(engine: Engine, message_id: int, verdict: str, *, decided_by: str,
                            quantity: float | None = None, date: dt.date | str | None = None,
                            comment: str = "", now: dt.datetime | None = None,
                            expected_version: int | None = None) -> MessageOutcome:
    """Store a decision on message ``message_id`` and (a PO line, not rejected) queue its
    write-back, in one transaction (module doc). ``quantity``: the new open quantity in the
    item's stock unit; ``date``: the new date; either given with ``approve`` makes it
    ``modify``. Raises :class:`DecisionError` naming what is wrong; nothing is then stored.
    ``expected_version``: the element's decision version the buyer saw (None: not checked)."""
    chosen = _verdict(verdict, quantity, date)
    when = stamp(now or utc_now())
    try:
        with engine.begin() as conn:
            return _record(conn, _message(conn, message_id), chosen, quantity, date,
                           decided_by=decided_by, comment=comment, when=when,
                           expected_version=expected_version)
    except DecisionConflict as conflict:
        audit_conflict(engine, conflict, actor=decided_by, when=when)
        raise


def record_line_decision(engine: Engine, element: str, action: str, verdict: str, *,
                         decided_by: str, quantity: float | None = None,
                         date: dt.date | str | None = None, comment: str = "",
                         now: dt.datetime | None = None,
                         expected_version: int | None = None) -> MessageOutcome:
    """A decision on PO line ``element`` (``PO/line``) that no message raised (a buyer's own
    reschedule, reduce, increase or cancel): the same path as :func:`record_message_decision`
    (stored, queued, audited), with ``message_key`` empty; ``quantity`` (new open quantity,
    stock unit) or ``date`` must be given for the actions that take them."""
    try:
        chosen_action = WriteAction(action)
    except ValueError:
        chosen_action = WriteAction.KEEP
    if chosen_action not in ACTION_OF_KIND.values():
        known = ", ".join(a.value for a in ACTION_OF_KIND.values())
        raise DecisionError(f"unknown action {action!r} on a PO line ({known})")
    chosen = _verdict(verdict, quantity, date)
    when = stamp(now or utc_now())
    try:
        with engine.begin() as conn:
            po, _, number = element.rpartition("/")
            rec = DecisionStore(conn).purchase_line(po, int(number)) if number.isdigit() else None
            if rec is None:
                raise DecisionError(f"PO line {element!r} is not in the cache; sync first")
            left = float(rec["quantity_ordered"] or 0.0) - float(rec["quantity_received"] or 0.0)
            msg = _Message(None, None, "", "", element, WRITTEN_BACK, chosen_action,
                           {"quantity": left})
            return _record(conn, msg, chosen, quantity, date, decided_by=decided_by,
                           comment=comment, when=when, expected_version=expected_version)
    except DecisionConflict as conflict:
        audit_conflict(engine, conflict, actor=decided_by, when=when)
        raise


def _record(conn: Connection, msg: _Message, chosen: str, quantity: float | None,
            date: dt.date | str | None, *, decided_by: str, comment: str, when: str,
            expected_version: int | None = None) -> MessageOutcome:
    """Store the decision on ``msg`` and queue or record it (module doc), in ``conn``'s
    transaction; the element's decision version locked and checked against
    ``expected_version``."""
    open_qty, day = _advice(msg, chosen, quantity, date)
    store, outbox = DecisionStore(conn), OutboxRepository(conn)
    taken = store.take_version(msg.element_type, msg.element)  # locked until the commit
    sends = chosen != DecisionVerdict.REJECT and msg.element_type == WRITTEN_BACK
    if msg.element_type == WRITTEN_BACK:
        payload, connector, base = _line_request(store, msg, open_qty)
        payload.update(date=day, comment=comment or "")
    else:
        wo = store.work_order(msg.element)
        if wo is None or wo["deleted_at"] is not None:
            raise DecisionError(f"{msg.name}: the work order is no longer in the cache")
        payload, connector, base = {}, str(wo["source"] or ""), wo["source_version"]
    key = idempotency_key(connector, payload) if sends else None
    done = MessageOutcome(msg.id, msg.element, msg.element_type, msg.action.value,
                          chosen, open_qty, day)
    twin = outbox.by_key(key) if key is not None else None
    if twin is not None:
        return _with(done, decision=twin[1], outbox=twin[0], idempotency_key=key,
                     written_back=True, duplicate=True)
    values = {
        "recommendation": None, "requisition": msg.element, "verdict": chosen,
        "action": msg.action.value, "quantity": open_qty, "date": day, "supplier": None,
        "comment": comment, "decided_by": decided_by, "decided_at": when,
        "base_version": base, "item": None, "target_kind": msg.element_type,
        "message_key": msg.key}
    check_version(taken, expected_version, {**values, **store.who()})
    decision_id = store.add_decision(values)
    store.bump_version(taken, decision_id)
    outbox_id = None
    if key is not None:
        request = PushRequest(idempotency_key=key, **payload)  # checks the payload's shape
        outbox_id = outbox.enqueue(decision=decision_id, connector=connector, key=key,
                                   payload=asdict(request), at=when)
    result = "queued" if outbox_id else (
        "recorded" if msg.element_type == WRITTEN_BACK
        else "recorded (advice to the planner, not written back)")
    outbox.audit(actor=decided_by, action=f"decide {chosen} {msg.action.value}",
                 target=msg.element, result=result, outbox_id=outbox_id,
                 detail={"decision": decision_id, "message": msg.id,
                         "message_key": msg.key, "quantity": open_qty, "date": day,
                         "base_version": base, **payload}, at=when)
    return _with(done, decision=decision_id, outbox=outbox_id, idempotency_key=key,
                 written_back=outbox_id is not None)


def _with(outcome: MessageOutcome, **values: Any) -> MessageOutcome:
    return MessageOutcome(**{**asdict(outcome), **values})


def record_message_decisions(engine: Engine, message_ids: Sequence[int], verdict: str, *,
                             decided_by: str, quantity: float | None = None,
                             date: dt.date | str | None = None, comment: str = "",
                             now: dt.datetime | None = None, state: TaskState | None = None,
                             expected_versions: Mapping[int, int] | None = None
                             ) -> list[MessageOutcome]:
    """:func:`record_message_decision` on each message, each in its own transaction: one that
    cannot be decided is reported in its outcome's ``error`` (and ``conflict``) and spoils none
    of the others. ``expected_versions``: message id -> the decision version of its element the
    buyer saw (a message left out: not checked)."""
    out = []
    for n, message_id in enumerate(message_ids):
        if state is not None:
            state.set_progress(n, len(message_ids))
        try:
            out.append(record_message_decision(
                engine, message_id, verdict, decided_by=decided_by, quantity=quantity, date=date,
                comment=comment, now=now,
                expected_version=(expected_versions or {}).get(message_id)))
        except DecisionConflict as exc:
            out.append(MessageOutcome(message_id, element=exc.target,
                                      element_type=exc.target_kind, verdict=verdict,
                                      error=str(exc), conflict=exc.to_dict()))
        except DecisionError as exc:
            out.append(MessageOutcome(message_id, verdict=verdict, error=str(exc)))
    return out


def supplier_reschedules(engine: Engine, supplier: str) -> list[int]:
    """Ids of the open reschedule messages (E01, E02) of PO lines of ``supplier`` that have no
    decision yet (or only one whose write-back was discarded): what "approve all reschedules of
    this supplier" approves."""
    with engine.connect() as conn:
        found = [r for r in messages_repo.rows(conn)
                 if r["kind"] in RESCHEDULES and r["supplier"] == supplier
                 and json.loads(r["payload"] or "{}").get("element_type") == WRITTEN_BACK]
        decided = decision_states(conn, [r["message_key"] for r in found])
    return [int(r["id"]) for r in found
            if r["message_key"] not in decided
            or decided[r["message_key"]].outbox_state == "discarded"]


def approve_supplier_reschedules(engine: Engine, supplier: str, *, decided_by: str,
                                 now: dt.datetime | None = None,
                                 state: TaskState | None = None) -> list[MessageOutcome]:
    """Approve, as advised, every reschedule of :func:`supplier_reschedules`."""
    ids = supplier_reschedules(engine, supplier)
    return record_message_decisions(engine, ids, DecisionVerdict.APPROVE.value,
                                    decided_by=decided_by, now=now, state=state)
