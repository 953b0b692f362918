"""A buyer's decision on a requisition: stored in the cache first, then queued for write-back.

:func:`record_decision` writes, in one transaction, the ``decisions`` row, then (when there is
something to send) an ``outbox`` entry carrying the write-back request and its idempotency key,
and an audit event. Nothing talks to a source system here: :mod:`workbench.services.writeback`
sends the outbox later, whether the source is up now or next week.

The idempotency key is derived from what is asked (source, record, action, values and the record
version the decision was based on), so recording the same decision twice — a double click, a
re-run script — queues it once. A different decision on the same record gets its own key.

Verdicts: ``approve`` takes the recommendation as proposed, ``modify`` the values given,
``reject`` stores the verdict and sends nothing; an action ``keep`` sends nothing either.
Write-back actions are the recommendation actions plus ``order`` (turn an approved requisition
into a purchase order).

A ``switch_source`` to an alternate component carries the new ``item`` (the recommendation's
``proposed_item``; approving or modifying that recommendation keeps it, since modifying changes
quantity and date, not which alternate). The item is stored with the decision, sent in the push
request, and part of the idempotency key; a connector that cannot change a record's item refuses
the push and the decision stays stored.

Several buyers at once (issue 17 §2). Every decision counts up the *decision version* of its
target (requisition, PO line, work order: ``decision_versions``, see
:mod:`workbench.cache.decisions`), locked and checked inside the writing transaction. A caller
that says which version its buyer saw (``expected_version``: the approval queue's
``decision_version`` column, :func:`decision_version`) gets its decision stored only while the
target is still at that version; otherwise nothing is stored and :class:`DecisionConflict` is
raised, carrying both decisions (who — the configured name, the workstation login, the database
role —, when, what): the first decision stays, the second buyer sees it and decides again on
the new version. The same decision made twice (same idempotency key) stays a ``duplicate``, not
a conflict: nothing would be lost. ``expected_version`` None (a script, a single-user cache)
checks nothing, as before. Every conflict is written to the audit log (result ``conflict``).
:func:`store_decision` stores a decision made elsewhere (an offline copy's, pushed when back)
with the same check.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Engine

from workbench.cache.decisions import REQUISITION, DecisionStore, TargetVersion, who_did
from workbench.cache.outbox import OutboxRepository
from workbench.cache.readmodels import decisions_frame, query_frame
from workbench.connect.port import PushRequest
from workbench.domain.enums import DecisionVerdict, WriteAction

__all__ = ["ACTIONS", "NO_WRITE", "DecisionConflict", "DecisionError", "DecisionOutcome",
           "decision_history", "decision_version", "decisions_frame", "idempotency_key",
           "query_frame", "record_decision", "stamp", "store_decision", "utc_now", "with_who"]

#: actions a decision may carry: the write actions (the recommendations' and "order", which
#: places the purchase for an approved requisition)
ACTIONS = frozenset(a.value for a in WriteAction)
#: actions that send nothing to the source
NO_WRITE = frozenset({WriteAction.KEEP.value})
#: the recommendation's status after each verdict
_DECIDED = {"approve": "approved", "modify": "modified", "reject": "rejected"}


class DecisionError(ValueError):
    """The decision cannot be recorded as given; the message says which part is wrong."""


#: the fields of a decision a conflict shows for each side (who, when, what)
SIDE_FIELDS = ("decision", "decided_by", "workstation_user", "db_role", "decided_at", "verdict",
               "action", "quantity", "date", "supplier", "item", "comment")


def describe(side: dict[str, Any]) -> str:
    """One decision of a conflict in words: ``ann (login ann, role planner) at
    2026-12-05T10:00:00: approve order 120 2026-12-20 S0003``."""
    what = " ".join(str(side[k]) for k in ("verdict", "action") if side.get(k))
    values = [f"{side['quantity']:g}" if isinstance(side.get("quantity"), float)
              else str(side.get("quantity") or ""), str(side.get("date") or ""),
              str(side.get("supplier") or ""), str(side.get("item") or "")]
    what = " ".join([what, *(v for v in values if v)])
    who = side.get("decided_by") or "someone"
    ids = [f"login {side['workstation_user']}" if side.get("workstation_user") else "",
           f"role {side['db_role']}" if side.get("db_role") else ""]
    extra = ", ".join(i for i in ids if i)
    return f"{who}{f' ({extra})' if extra else ''} at {side.get('decided_at')}: {what}"


class DecisionConflict(DecisionError):
    """Another decision was stored on the target since the version this one was made on: this
    one was not stored. ``theirs``: the stored decision (its ``decisions`` row fields of
    :data:`SIDE_FIELDS`), ``ours``: the one refused, same fields (``decision`` None)."""

    def __init__(self, target_kind: str, target: str, expected_version: int,
                 current_version: int, ours: dict[str, Any], theirs: dict[str, Any]) -> None:
        self.target_kind, self.target = target_kind, target
        self.expected_version, self.current_version = expected_version, current_version
        self.ours, self.theirs = ours, theirs
        what = "requisition" if target_kind == REQUISITION else target_kind.replace("_", " ")
        super().__init__(
            f"{what} {target} was decided by another buyer while you looked at it (version "
            f"{expected_version}, now {current_version}): theirs — {describe(theirs)}; yours, "
            f"not stored — {describe(ours)}. Look at their decision, then decide again.")

    def __reduce__(self) -> Any:  # raised in the writer process, shown in the GUI's
        return (type(self), (self.target_kind, self.target, self.expected_version,
                             self.current_version, self.ours, self.theirs))

    def to_dict(self) -> dict[str, Any]:
        return {"target_kind": self.target_kind, "target": self.target,
                "expected_version": self.expected_version,
                "current_version": self.current_version, "ours": self.ours,
                "theirs": self.theirs, "message": str(self)}


def _side(values: Mapping[str, Any], decision: int | None) -> dict[str, Any]:
    return {k: (decision if k == "decision" else values.get(k)) for k in SIDE_FIELDS}


def check_version(taken: TargetVersion, expected_version: int | None,
                  ours: Mapping[str, Any]) -> None:
    """Raise :class:`DecisionConflict` (with both decisions) when ``expected_version`` is given
    and the target's version, locked for this transaction by
    :meth:`~workbench.cache.decisions.DecisionStore.take_version`, is another. ``ours``: the
    decision about to be stored (its ``decisions`` row values)."""
    if expected_version is not None and taken.version != expected_version:
        theirs = _side(taken.decision or {}, None if taken.decision is None
                       else int(taken.decision["id"]))
        raise DecisionConflict(taken.target_kind, taken.target, expected_version,
                               taken.version, _side(ours, None), theirs)


def audit_conflict(engine: Engine, conflict: DecisionConflict, *, actor: str, when: str) -> None:
    """Write a refused decision to the audit log (its own transaction: the decision's was
    rolled back): action ``decide``, result ``conflict``, both decisions in the detail."""
    with engine.begin() as conn:
        OutboxRepository(conn).audit(actor=actor, action="decide", target=conflict.target,
                                     result="conflict", at=when, detail=conflict.to_dict())


def with_who(engine: Engine, frame: Any, table: str) -> Any:
    """``frame`` (rows of ``table``, ``decisions`` or ``audit_events``, by their ``id``
    column) with ``workstation_user`` and ``db_role``: who made each, as the approval and
    audit views show it (empty text where not recorded, e.g. before the team cache)."""
    frame = frame.copy()
    with engine.connect() as conn:
        who = who_did(conn, table, frame["id"].tolist() if len(frame) else [])
    frame["workstation_user"] = [who.get(int(i), (None, None))[0] or "" for i in frame["id"]]
    frame["db_role"] = [who.get(int(i), (None, None))[1] or "" for i in frame["id"]]
    return frame


def decision_history(engine: Engine, requisition: str | None = None) -> Any:
    """:func:`~workbench.cache.readmodels.decisions_frame` with who made each decision
    (:func:`with_who`)."""
    return with_who(engine, decisions_frame(engine, requisition), "decisions")


def decision_version(engine: Engine, target: str, target_kind: str | None = None) -> int:
    """The decision version of ``target`` now (0: never decided): what a caller passes as
    ``expected_version`` for the state its buyer is looking at."""
    with engine.connect() as conn:
        return DecisionStore(conn).versions(target_kind, [target]).get(target, 0)


@dataclass(frozen=True)
class DecisionOutcome:
    decision: int | None
    outbox: int | None
    idempotency_key: str | None
    duplicate: bool = False  # the same decision was already queued: nothing new recorded

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def stamp(when: dt.datetime) -> str:
    return when.isoformat(timespec="seconds")


def idempotency_key(connector: str, payload: dict[str, Any]) -> str:
    """A stable key for "this change to this record version in this source"."""
    basis = {
        k: payload.get(k)
        for k in ("target", "action", "quantity", "date", "supplier", "base_version")
    }
    if payload.get("item"):  # only alternate switches: every other key stays as it was
        basis["item"] = payload["item"]
    if payload.get("target_kind") not in (None, "requisition"):  # a PO line: requisitions'
        basis["target_kind"] = str(payload["target_kind"])  # keys stay as they were
    digest = hashlib.sha256(json.dumps([connector, basis], sort_keys=True, default=str).encode())
    return f"pwb-{digest.hexdigest()[:24]}"


@dataclass
class _Draft:
    """What a decision asks, filled in step by step before anything is written."""

    verdict: str
    action: str | None
    quantity: float | None
    date: dt.date | str | None
    supplier: str | None
    item: str | None
    base_version: str | None = None


def _requisition(store: DecisionStore, code: str) -> dict[str, Any]:
    row = store.requisition(code)
    if row is None:
        raise DecisionError(f"requisition {code!r} is not in the cache; sync first")
    if row["deleted_at"] is not None:
        raise DecisionError(
            f"requisition {code!r} no longer exists in {row['source'] or 'its source'}"
        )
    return row


def _verdict(verdict: str) -> str:
    try:
        return DecisionVerdict(verdict).value
    except ValueError:
        raise DecisionError(f"unknown verdict {verdict!r} (approve, modify, reject)") from None


def _take_advice(store: DecisionStore, draft: _Draft, requisition: str, recommendation: int
                 ) -> None:
    """Fill ``draft`` from the recommendation decided on: its base version; approving takes
    the advice as proposed; the alternate is kept unless another action is chosen."""
    rec = store.recommendation(recommendation)
    if rec is None or rec["requisition"] != requisition:
        raise DecisionError(f"recommendation {recommendation} is not about {requisition}")
    if rec["base_version"] is not None:
        draft.base_version = rec["base_version"]
    if draft.verdict == DecisionVerdict.APPROVE:  # take the advice as proposed
        draft.action = draft.action or rec["action"]
        draft.quantity = draft.quantity if draft.quantity is not None else rec["proposed_quantity"]
        draft.date = draft.date or rec["proposed_date"]
        draft.supplier = draft.supplier or rec["proposed_supplier"]
    if draft.action == rec["action"]:  # which alternate: kept when modifying or rejecting
        draft.item = draft.item or rec["proposed_item"]


def _checked_action(action: str | None) -> str:
    if not action:
        raise DecisionError("a decision needs an action (or a recommendation to approve)")
    if action not in ACTIONS:
        raise DecisionError(f"unknown action {action!r} ({', '.join(sorted(ACTIONS))})")
    return action


def _date_text(date: dt.date | str | None) -> str | None:
    date_text = date.isoformat()[:10] if isinstance(date, dt.date) else (date or None)
    if date_text:
        try:  # "2026-12-01" or a stored "2026-12-01 00:00:00"
            return dt.date.fromisoformat(str(date_text)[:10]).isoformat()
        except ValueError:
            raise DecisionError(f"date {date_text!r} is not YYYY-MM-DD") from None
    return date_text


def _alternate_item(store: DecisionStore, req: dict[str, Any], action: str,
                    item: str | None) -> str | None:
    """The alternate component a decision switches to (None: the requisition's own item)."""
    if not item or item == req["item"]:
        return None
    if action != "switch_source":
        raise DecisionError(f"only switch_source changes the item ({action} was given with {item})")
    if not store.item_exists(item):
        raise DecisionError(f"item {item!r} is not in the cache")
    return item


def record_decision(
    engine: Engine,
    requisition: str,
    verdict: str,
    *,
    decided_by: str,
    action: str | None = None,
    quantity: float | None = None,
    date: dt.date | str | None = None,
    supplier: str | None = None,
    comment: str = "",
    recommendation: int | None = None,
    now: dt.datetime | None = None,
    item: str | None = None,
    expected_version: int | None = None,
) -> DecisionOutcome:
    """Store a decision, then queue its write-back (one transaction); see the module docstring.
    ``expected_version``: the requisition's decision version the buyer saw (None: not checked);
    :class:`DecisionConflict` when another decision was stored since."""
    draft = _Draft(_verdict(verdict), action, quantity, date, supplier, item)
    when = stamp(now or utc_now())
    try:
        return _record_decision(engine, requisition, draft, decided_by=decided_by,
                                comment=comment, recommendation=recommendation, when=when,
                                expected_version=expected_version)
    except DecisionConflict as conflict:
        audit_conflict(engine, conflict, actor=decided_by, when=when)
        raise


def _record_decision(engine: Engine, requisition: str, draft: _Draft, *, decided_by: str,
                     comment: str, recommendation: int | None, when: str,
                     expected_version: int | None) -> DecisionOutcome:
    with engine.begin() as conn:
        store, outbox = DecisionStore(conn), OutboxRepository(conn)
        req = _requisition(store, requisition)
        taken = store.take_version(None, requisition)  # locked: one decision at a time on it
        draft.base_version = req["source_version"]
        if recommendation is not None:
            _take_advice(store, draft, requisition, recommendation)
        chosen = _checked_action(draft.action)
        payload: dict[str, Any] = {
            "action": chosen,
            "target": req["source_key"] or requisition,
            "base_version": draft.base_version,
            "quantity": draft.quantity,
            "date": _date_text(draft.date),
            "supplier": draft.supplier or None,
            "comment": comment or "",
        }
        alternate = _alternate_item(store, req, chosen, draft.item)
        if alternate:  # absent otherwise, so other payloads read exactly as before
            payload["item"] = alternate
        sends = draft.verdict != DecisionVerdict.REJECT and chosen not in NO_WRITE
        connector = req["source"] or ""
        key = idempotency_key(connector, payload) if sends else None
        twin = outbox.by_key(key) if key is not None else None
        if twin is not None:
            return DecisionOutcome(twin[1], twin[0], key, duplicate=True)
        values = {
            "recommendation": recommendation, "requisition": requisition,
            "verdict": draft.verdict, "action": chosen, "quantity": draft.quantity,
            "date": payload["date"], "supplier": draft.supplier or None, "comment": comment,
            "decided_by": decided_by, "decided_at": when, "base_version": draft.base_version,
            "item": alternate}
        check_version(taken, expected_version, {**values, **store.who()})
        decision_id = store.add_decision(values)
        store.bump_version(taken, decision_id)
        outbox_id = None
        if key is not None:
            request = PushRequest(idempotency_key=key, **payload)  # validates the payload's shape
            stored = asdict(request)
            del stored["target_kind"]  # a requisition: absent means requisition everywhere
            outbox_id = outbox.enqueue(decision=decision_id, connector=connector, key=key,
                                       payload=stored, at=when)
        if recommendation is not None:
            store.set_recommendation_status(recommendation, _DECIDED[draft.verdict])
        outbox.audit(actor=decided_by, action=f"decide {draft.verdict} {chosen}",
                     target=requisition, result="queued" if outbox_id else "recorded",
                     outbox_id=outbox_id, detail={"decision": decision_id, **payload}, at=when)
    return DecisionOutcome(decision_id, outbox_id, key)


#: the ``decisions`` columns :func:`store_decision` takes from a decision made elsewhere
_STORED = ("requisition", "verdict", "action", "quantity", "date", "supplier", "comment",
           "decided_by", "decided_at", "base_version", "item", "target_kind", "message_key",
           "workstation_user", "db_role")


def store_decision(engine: Engine, decision: Mapping[str, Any], *,
                   expected_version: int | None, connector: str = "",
                   request: Mapping[str, Any] | None = None,
                   via: str = "pushed from an offline copy") -> DecisionOutcome:
    """Store a decision made elsewhere — an offline copy's ``decisions`` row, pushed when the
    workstation is back — with the checks of :func:`record_decision`, in one transaction.

    ``decision``: the row's fields (``requisition`` holds the target's code, ``target_kind``
    says what it is; ``decided_by``, ``decided_at``, ``workstation_user`` and ``db_role`` are
    kept as made offline; ``recommendation`` is not taken: ids differ between caches).
    ``expected_version``: the target's decision version when the copy was taken (None: not
    checked). ``request``: its write-back request as the copy's outbox entry holds it (the
    :class:`PushRequest` fields; None: nothing to send), queued for ``connector`` under its
    idempotency key (derived when it has none).

    Pushing the same decision twice stores it once (``duplicate``: the same idempotency key,
    or, sending nothing, the same target, author, time and verdict). Another decision stored
    on the target since ``expected_version``: nothing is stored, the conflict is audited and
    :class:`DecisionConflict` raised, carrying both decisions."""
    values = {k: decision.get(k) for k in _STORED}
    target, kind = str(values["requisition"]), values.get("target_kind")
    when = str(values.get("decided_at") or stamp(utc_now()))
    values["decided_at"] = when
    actor = str(values.get("decided_by") or "unknown")
    try:
        with engine.begin() as conn:
            store, outbox = DecisionStore(conn), OutboxRepository(conn)
            taken = store.take_version(kind, target)  # locked until this transaction ends
            key = None
            if request is not None:
                payload = {k: v for k, v in request.items() if k != "idempotency_key"}
                key = str(request.get("idempotency_key") or idempotency_key(connector, payload))
                twin = outbox.by_key(key)
                if twin is not None:
                    return DecisionOutcome(twin[1], twin[0], key, duplicate=True)
            else:
                same = store.same_decision(values)
                if same is not None:
                    return DecisionOutcome(same, None, None, duplicate=True)
            check_version(taken, expected_version, values)
            decision_id = store.add_decision(  # who made it offline, else this workstation
                {k: v for k, v in values.items()
                 if v is not None or k not in ("workstation_user", "db_role")})
            store.bump_version(taken, decision_id)
            outbox_id = None
            if request is not None and key is not None:
                pushed = PushRequest(**{**payload, "idempotency_key": key})  # checks the shape
                stored = asdict(pushed)
                if kind in (None, REQUISITION):
                    stored.pop("target_kind", None)  # as record_decision stores it
                outbox_id = outbox.enqueue(decision=decision_id, connector=connector, key=key,
                                           payload=stored, at=when)
            outbox.audit(actor=actor, action=f"decide {values['verdict']} {values['action']}",
                         target=target, result="queued" if outbox_id else "recorded",
                         outbox_id=outbox_id, at=stamp(utc_now()),
                         detail={"decision": decision_id, "via": via, "decided_at": when,
                                 **dict(request or {})})
    except DecisionConflict as conflict:
        audit_conflict(engine, conflict, actor=actor, when=stamp(utc_now()))
        raise
    return DecisionOutcome(decision_id, outbox_id, key)
