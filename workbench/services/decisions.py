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

import pandas as pd
from sqlalchemy import Connection, Engine, insert, select, update

from workbench.cache.schema import (
    ENTITY_TABLES,
    audit_events,
    decisions,
    outbox,
    recommendations,
)
from workbench.connect.port import PushRequest
from workbench.domain.enums import DecisionVerdict, OutboxState, RecommendationAction

#: actions a decision may carry; "order" places the purchase for an approved requisition
ACTIONS = frozenset({a.value for a in RecommendationAction} | {"order"})
#: actions that send nothing to the source
NO_WRITE = frozenset({RecommendationAction.KEEP.value})


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
    digest = hashlib.sha256(json.dumps([connector, basis], sort_keys=True, default=str).encode())
    return f"pwb-{digest.hexdigest()[:24]}"


def audit(
    conn: Connection,
    *,
    actor: str,
    action: str,
    target: str | None,
    result: str,
    outbox_id: int | None = None,
    detail: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> None:
    conn.execute(
        insert(audit_events).values(
            at=stamp(now or utc_now()),
            actor=actor,
            action=action,
            target=target,
            outbox=outbox_id,
            result=result,
            detail=json.dumps(detail or {}, default=str, sort_keys=True),
        )
    )


def _requisition(conn: Connection, code: str) -> dict[str, Any]:
    table = ENTITY_TABLES["requisitions"]
    row = conn.execute(select(table).where(table.c.code == code)).mappings().first()
    if row is None:
        raise DecisionError(f"requisition {code!r} is not in the cache; sync first")
    if row["deleted_at"] is not None:
        raise DecisionError(
            f"requisition {code!r} no longer exists in {row['source'] or 'its source'}"
        )
    return dict(row)


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
    try:
        verdict = DecisionVerdict(verdict).value
    except ValueError:
        raise DecisionError(f"unknown verdict {verdict!r} (approve, modify, reject)") from None
    when = now or utc_now()
    with engine.begin() as conn:
        req = _requisition(conn, requisition)
        base_version = req["source_version"]
        if recommendation is not None:
            rec = (
                conn.execute(select(recommendations).where(recommendations.c.id == recommendation))
                .mappings()
                .first()
            )
            if rec is None or rec["requisition"] != requisition:
                raise DecisionError(f"recommendation {recommendation} is not about {requisition}")
            base_version = rec["base_version"] if rec["base_version"] is not None else base_version
            if verdict == DecisionVerdict.APPROVE:  # take the advice as proposed
                action = action or rec["action"]
                quantity = quantity if quantity is not None else rec["proposed_quantity"]
                date = date or rec["proposed_date"]
                supplier = supplier or rec["proposed_supplier"]
            if action == rec["action"]:  # which alternate: kept when modifying or rejecting
                item = item or rec["proposed_item"]
        if not action:
            raise DecisionError("a decision needs an action (or a recommendation to approve)")
        if action not in ACTIONS:
            raise DecisionError(f"unknown action {action!r} ({', '.join(sorted(ACTIONS))})")
        date_text = date.isoformat()[:10] if isinstance(date, dt.date) else (date or None)
        if date_text:
            try:  # "2026-12-01" or a stored "2026-12-01 00:00:00"
                date_text = dt.date.fromisoformat(str(date_text)[:10]).isoformat()
            except ValueError:
                raise DecisionError(f"date {date_text!r} is not YYYY-MM-DD") from None
        item = _alternate_item(conn, req, action, item)
        payload = {
            "action": action,
            "target": req["source_key"] or requisition,
            "base_version": base_version,
            "quantity": quantity,
            "date": date_text,
            "supplier": supplier or None,
            "comment": comment or "",
        }
        if item:  # absent otherwise, so other payloads read exactly as before
            payload["item"] = item
        sends = verdict != DecisionVerdict.REJECT and action not in NO_WRITE
        connector = req["source"] or ""
        key = idempotency_key(connector, payload) if sends else None
        if key is not None:
            existing = conn.execute(
                select(outbox.c.id, outbox.c.decision).where(outbox.c.idempotency_key == key)
            ).first()
            if existing is not None:
                return DecisionOutcome(existing.decision, existing.id, key, duplicate=True)
        decision_id = conn.execute(
            insert(decisions).values(
                recommendation=recommendation,
                requisition=requisition,
                verdict=verdict,
                action=action,
                quantity=quantity,
                date=date_text,
                supplier=supplier or None,
                comment=comment,
                decided_by=decided_by,
                decided_at=stamp(when),
                base_version=base_version,
                item=item,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        outbox_id = None
        if key is not None:
            request = PushRequest(idempotency_key=key, **payload)  # validates the payload's shape
            outbox_id = conn.execute(
                insert(outbox).values(
                    decision=decision_id,
                    connector=connector,
                    idempotency_key=key,
                    payload=json.dumps(asdict(request), sort_keys=True),
                    state=OutboxState.QUEUED.value,
                    attempts=0,
                    next_attempt_at=stamp(when),
                    created_at=stamp(when),
                    updated_at=stamp(when),
                )
            ).inserted_primary_key[0]  # type: ignore[index]
        if recommendation is not None:
            status = {"approve": "approved", "modify": "modified", "reject": "rejected"}[verdict]
            conn.execute(
                update(recommendations)
                .where(recommendations.c.id == recommendation)
                .values(status=status)
            )
        audit(
            conn,
            actor=decided_by,
            action=f"decide {verdict} {action}",
            target=requisition,
            result="queued" if outbox_id else "recorded",
            outbox_id=outbox_id,
            detail={"decision": decision_id, **payload},
            now=when,
        )
    return DecisionOutcome(decision_id, outbox_id, key)


def _alternate_item(conn: Connection, req: dict[str, Any], action: str,
                    item: str | None) -> str | None:
    """The alternate component a decision switches to (None: the requisition's own item)."""
    if not item or item == req["item"]:
        return None
    if action != "switch_source":
        raise DecisionError(f"only switch_source changes the item ({action} was given with {item})")
    table = ENTITY_TABLES["items"]
    if conn.execute(select(table.c.code).where(table.c.code == item)).first() is None:
        raise DecisionError(f"item {item!r} is not in the cache")
    return item


def query_frame(engine: Engine, sql: str, params: tuple[Any, ...] = ()) -> pd.DataFrame:
    """Rows of ``sql`` as a DataFrame (raw cursor, as :mod:`workbench.cache.frames` does)."""
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute(sql, params)
        columns = [d[0] for d in cur.description]
        rows = cur.fetchall()
        cur.close()
    finally:
        raw.close()
    return pd.DataFrame.from_records(rows, columns=columns)


def decisions_frame(engine: Engine, requisition: str | None = None) -> pd.DataFrame:
    """Every decision (of ``requisition``, when given) with the state of its write-back, newest
    first: the history of decisions — who (``decided_by``), when (``decided_at``), what
    (verdict, action and values) and why (``comment``), with the advice decided on
    (``advice_action``, ``advice_quantity``, ``advice_date``, ``advice_reason``)."""
    where, params = ("WHERE d.requisition = ? ", (requisition,)) if requisition else ("", ())
    return query_frame(
        engine,
        (
            "SELECT d.id, d.requisition, d.verdict, d.action, d.item, d.quantity, d.date, "
            "d.supplier, "
            "d.comment, d.decided_by, d.decided_at, d.base_version, d.recommendation, "
            "r.action AS advice_action, r.proposed_quantity AS advice_quantity, "
            "r.proposed_date AS advice_date, r.reason AS advice_reason, "
            "o.id AS outbox, o.state AS outbox_state, o.last_error "
            "FROM decisions d LEFT JOIN outbox o ON o.decision = d.id "
            "LEFT JOIN recommendations r ON r.id = d.recommendation "
            f"{where}ORDER BY d.id DESC"
        ),
        params,
    )
