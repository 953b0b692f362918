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
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Engine

from workbench.cache.decisions import DecisionStore
from workbench.cache.outbox import OutboxRepository
from workbench.cache.readmodels import decisions_frame, query_frame
from workbench.connect.port import PushRequest
from workbench.domain.enums import DecisionVerdict, WriteAction

__all__ = ["ACTIONS", "NO_WRITE", "DecisionError", "DecisionOutcome", "decisions_frame",
           "idempotency_key", "query_frame", "record_decision", "stamp", "utc_now"]

#: actions a decision may carry: the write actions (the recommendations' and "order", which
#: places the purchase for an approved requisition)
ACTIONS = frozenset(a.value for a in WriteAction)
#: actions that send nothing to the source
NO_WRITE = frozenset({WriteAction.KEEP.value})
#: the recommendation's status after each verdict
_DECIDED = {"approve": "approved", "modify": "modified", "reject": "rejected"}


class DecisionError(ValueError):
    """The decision cannot be recorded as given; the message says which part is wrong."""


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
) -> DecisionOutcome:
    """Store a decision, then queue its write-back (one transaction); see the module docstring."""
    draft = _Draft(_verdict(verdict), action, quantity, date, supplier, item)
    when = stamp(now or utc_now())
    with engine.begin() as conn:
        store, outbox = DecisionStore(conn), OutboxRepository(conn)
        req = _requisition(store, requisition)
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
        decision_id = store.add_decision({
            "recommendation": recommendation, "requisition": requisition,
            "verdict": draft.verdict, "action": chosen, "quantity": draft.quantity,
            "date": payload["date"], "supplier": draft.supplier or None, "comment": comment,
            "decided_by": decided_by, "decided_at": when, "base_version": draft.base_version,
            "item": alternate})
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
