"""The write-back worker: sends queued decisions through their connector, safely.

The outbox (filled by :mod:`workbench.services.decisions`) lives in the cache file, so an entry
survives the app being closed, the machine restarting or the source being down for a week.
:func:`drain_outbox` takes due entries in order and, for each:

1. *claims* it in its own short transaction (state ``sending``, attempt counted) before any
   network call, and writes the attempt's audit event in that transaction (result
   ``sending``), so a crash mid-send leaves a visible ``sending`` entry that the next drain sends
   again — harmless, because the connector never applies one idempotency key twice — and an
   audit event of the cut-short attempt, which that next claim marks ``interrupted``;
2. calls ``connector.push`` with the stored request (idempotency key, target, base version);
3. records the outcome in the entry and in the attempt's audit event (who decided, who sent —
   ``sent_by`` in its detail, the OS login or configured user —, what, when, result):

   ============================ =======================================================
   connector says               entry becomes
   ============================ =======================================================
   done                         ``sent`` (``confirmed`` once a sync shows that version)
   ConflictError                ``conflict``, with our decision and the source's state
   TransientError (down, busy)  ``queued`` again, next attempt after a growing pause
                                (30 s, 1, 2, 4 ... min, at most 1 h); the connector's
                                other queued entries wait as long
   PermanentError, other error  ``failed`` with the error; ``retry`` queues it again
   ============================ =======================================================

Entries on the same record go in the order they were decided: while one waits, the later ones
wait behind it. The worker is a plain function taking a TaskState, so the CLI, the GUI and tests
call it alike.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, select, update

from workbench.cache.schema import ENTITY_TABLES, audit_events, decisions, outbox
from workbench.connect.port import ConflictError, Connector, ConnectorError, PushRequest, TransientError
from workbench.domain.enums import OutboxState
from workbench.services.decisions import audit, idempotency_key, query_frame, stamp, utc_now
from workbench.services.settings import current_user
from workbench.services.tasks import TaskState, check_cancelled

BACKOFF_FIRST = dt.timedelta(seconds=30)
BACKOFF_MAX = dt.timedelta(hours=1)
OPEN_STATES = (OutboxState.QUEUED.value, OutboxState.SENDING.value)
RETRYABLE_STATES = (OutboxState.FAILED.value, OutboxState.CONFLICT.value)


def backoff(attempts: int) -> dt.timedelta:
    """Pause before attempt ``attempts + 1``: 30 s doubling per failed attempt, at most an hour."""
    return min(BACKOFF_FIRST * (2 ** max(0, attempts - 1)), BACKOFF_MAX)


@dataclass
class DrainResult:
    sent: list[int] = field(default_factory=list)
    already_applied: list[int] = field(default_factory=list)
    conflicts: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)  # transient failure: queued with a pause
    waiting: list[int] = field(default_factory=list)  # not tried: not due, source offline/unset
    messages: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _entries(engine: Engine, states: Iterable[str]) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = (
            conn.execute(
                select(outbox, decisions.c.decided_by)
                .join(decisions, decisions.c.id == outbox.c.decision)
                .where(outbox.c.state.in_(list(states)))
                .order_by(outbox.c.id)
            )
            .mappings()
            .all()
        )
    return [dict(r) for r in rows]


def _claim(engine: Engine, entry: dict[str, Any], payload: dict[str, Any], now: dt.datetime
           ) -> tuple[int, int] | None:
    """Mark the entry ``sending`` (compare-and-set, so two workers never both take it) and audit
    the attempt before any network call; (attempt number, audit event id), or None when another
    worker took it. An earlier attempt's event still ``sending`` was cut short (the process
    ended mid-send): it becomes ``interrupted``."""
    attempts = int(entry["attempts"]) + 1
    with engine.begin() as conn:
        done = conn.execute(
            update(outbox)
            .where(
                outbox.c.id == entry["id"],
                outbox.c.state == entry["state"],
                outbox.c.attempts == entry["attempts"],
            )
            .values(state=OutboxState.SENDING.value, attempts=attempts, updated_at=stamp(now))
        ).rowcount
        if done != 1:
            return None
        conn.execute(update(audit_events)
                     .where(audit_events.c.outbox == entry["id"], audit_events.c.result == "sending")
                     .values(result="interrupted"))
        audit(conn, actor=entry["decided_by"] or "unknown", action=f"push {payload['action']}",
              target=payload["target"], result="sending", outbox_id=entry["id"], now=now,
              detail=_attempt_detail(entry, attempts))
        event = int(conn.exec_driver_sql("SELECT last_insert_rowid()").scalar_one())
    return attempts, event


def _attempt_detail(entry: dict[str, Any], attempt: int) -> dict[str, Any]:
    return {
        "attempt": attempt,
        "connector": entry["connector"],
        "idempotency_key": entry["idempotency_key"],
        "worker": "writeback",
        "sent_by": current_user(),
    }


def _finish(
    engine: Engine,
    entry: dict[str, Any],
    payload: dict[str, Any],
    attempt: tuple[int, int],
    now: dt.datetime,
    result: str,
    values: dict[str, Any],
    detail: dict[str, Any],
) -> None:
    """Record the attempt's outcome in the entry and complete its audit event."""
    number, event = attempt
    with engine.begin() as conn:
        conn.execute(
            update(outbox).where(outbox.c.id == entry["id"]).values(updated_at=stamp(now), **values)
        )
        conn.execute(update(audit_events).where(audit_events.c.id == event).values(
            result=result,
            detail=json.dumps({**_attempt_detail(entry, number), **detail}, default=str,
                              sort_keys=True)))


def drain_outbox(
    engine: Engine,
    connectors: Mapping[str, Connector],
    state: TaskState | None = None,
    *,
    now: dt.datetime | None = None,
) -> DrainResult:
    """Send every due outbox entry through ``connectors`` (by connector name); see module doc."""
    now = now or utc_now()
    result = DrainResult()
    confirm_sent(engine, now=now)
    entries = _entries(engine, OPEN_STATES)
    blocked: set[str] = set()  # records with an earlier entry still waiting
    offline: set[str] = set()  # connectors that failed transiently in this drain
    for n, entry in enumerate(entries):
        check_cancelled(state)
        if state:
            state.set_progress(n, len(entries))
        payload = json.loads(entry["payload"])
        target = f"{entry['connector']}:{payload['target']}"
        connector = connectors.get(entry["connector"])
        due = not entry["next_attempt_at"] or entry["next_attempt_at"] <= stamp(now)
        if target in blocked or not due or connector is None or entry["connector"] in offline:
            blocked.add(target)
            result.waiting.append(entry["id"])
            continue
        attempt = _claim(engine, entry, payload, now)
        if attempt is None:
            continue  # another worker took it
        if state:
            state.set_status(f"sending {payload['action']} of {payload['target']}")
        try:
            pushed = connector.push(PushRequest(**payload))
        except ConflictError as exc:
            conflict = json.dumps(
                {"ours": exc.ours, "theirs": exc.theirs}, default=str, sort_keys=True
            )
            _finish(
                engine,
                entry,
                payload,
                attempt,
                now,
                "conflict",
                {"state": OutboxState.CONFLICT.value, "last_error": str(exc), "conflict": conflict},
                {"error": str(exc)},
            )
            result.conflicts.append(entry["id"])
        except TransientError as exc:
            later = stamp(now + backoff(attempt[0]))
            _finish(
                engine,
                entry,
                payload,
                attempt,
                now,
                "transient",
                {
                    "state": OutboxState.QUEUED.value,
                    "last_error": str(exc),
                    "next_attempt_at": later,
                },
                {"error": str(exc), "next_attempt_at": later},
            )
            _pause_connector(engine, entry["connector"], later)
            offline.add(entry["connector"])
            blocked.add(target)
            result.retrying.append(entry["id"])
            result.messages.append(f"{entry['connector']}: {exc}; will retry from {later}")
        except Exception as exc:  # noqa: BLE001 - PermanentError, or a connector bug: stop this entry
            text = str(exc) if isinstance(exc, ConnectorError) else f"{type(exc).__name__}: {exc}"
            _finish(
                engine,
                entry,
                payload,
                attempt,
                now,
                "failed",
                {"state": OutboxState.FAILED.value, "last_error": text},
                {"error": text},
            )
            blocked.add(target)
            result.failed.append(entry["id"])
        else:
            outcome = "already_applied" if pushed.already_applied else "sent"
            _finish(
                engine,
                entry,
                payload,
                attempt,
                now,
                outcome,
                {
                    "state": OutboxState.SENT.value,
                    "last_error": None,
                    "conflict": None,
                    "result_version": pushed.new_version,
                    "next_attempt_at": None,
                },
                {"new_version": pushed.new_version, **pushed.detail},
            )
            (result.already_applied if pushed.already_applied else result.sent).append(entry["id"])
    if state:
        state.set_progress(len(entries), len(entries))
    return result


def _pause_connector(engine: Engine, connector: str, until: str) -> None:
    """A source that failed transiently is given a rest: its other queued entries wait as long."""
    with engine.begin() as conn:
        conn.execute(
            update(outbox)
            .where(
                outbox.c.connector == connector,
                outbox.c.state == OutboxState.QUEUED.value,
                (outbox.c.next_attempt_at.is_(None)) | (outbox.c.next_attempt_at < until),
            )
            .values(next_attempt_at=until)
        )


def confirm_sent(engine: Engine, *, now: dt.datetime | None = None) -> int:
    """Mark ``sent`` entries ``confirmed`` once the cache shows their result (after a sync):
    the target requisition carries the version the write produced, or is gone after a cancel
    (a source that keeps cancelled requisitions, like the demo plant, shows the version)."""
    table = ENTITY_TABLES["requisitions"]
    confirmed = 0
    sent = _entries(engine, [OutboxState.SENT.value])
    if not sent:
        return 0
    with engine.begin() as conn:
        for entry in sent:
            payload = json.loads(entry["payload"])
            row = conn.execute(
                select(table.c.source_version, table.c.deleted_at).where(
                    table.c.source == entry["connector"], table.c.source_key == payload["target"]
                )
            ).first()
            if row is None:
                continue
            seen = _not_older(row.source_version, entry["result_version"]) or (
                payload["action"] == "cancel" and row.deleted_at is not None
            )
            if seen:
                conn.execute(
                    update(outbox)
                    .where(outbox.c.id == entry["id"])
                    .values(state=OutboxState.CONFIRMED.value, updated_at=stamp(now or utc_now()))
                )
                confirmed += 1
    return confirmed


def _not_older(cached: str | None, written: str | None) -> bool:
    if cached is None or written is None:
        return False
    try:
        return float(cached) >= float(written)
    except ValueError:
        return cached == written


def _change_entry(conn: Connection, entry_id: int, target: str, *, actor: str, action: str,
                  result: str, detail: dict[str, Any], now: dt.datetime, **values: Any) -> None:
    """Set ``values`` on one outbox entry and audit who did what, in the caller's transaction."""
    conn.execute(update(outbox).where(outbox.c.id == entry_id)
                 .values(**values, updated_at=stamp(now)))
    audit(conn, actor=actor, action=action, target=target, result=result, outbox_id=entry_id,
          detail=detail, now=now)


def retry(
    engine: Engine, ids: Iterable[int], *, actor: str | None = None, now: dt.datetime | None = None
) -> int:
    """Queue failed or conflicting entries again, due now (same idempotency key). ``actor``:
    who does it in the audit log (default: the configured user, else the OS login)."""
    now = now or utc_now()
    actor = actor or current_user()
    count = 0
    with engine.begin() as conn:
        for entry_id in ids:
            row = conn.execute(
                select(outbox.c.state, outbox.c.payload).where(outbox.c.id == entry_id)
            ).first()
            if row is None or row.state not in RETRYABLE_STATES:
                continue
            _change_entry(conn, entry_id, json.loads(row.payload)["target"], actor=actor,
                          action="retry", result="queued", detail={"was": row.state}, now=now,
                          state=OutboxState.QUEUED.value, next_attempt_at=stamp(now))
            count += 1
    return count


@dataclass
class Resolution:
    """What a buyer's conflict resolution did: the entries it changed, and why others were left."""

    done: list[int] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _conflicts(conn: Connection, ids: Iterable[int], done: Resolution
               ) -> Iterator[tuple[int, Any]]:
    """The entries of ``ids`` that are in conflict, with their rows; the others are noted in
    ``done.skipped``."""
    for entry_id in ids:
        row = _conflict_entry(conn, entry_id)
        if row is None or row.state != OutboxState.CONFLICT.value:
            done.skipped.append(f"entry {entry_id} is not in conflict")
            continue
        yield entry_id, row


def _conflict_entry(conn: Connection, entry_id: int) -> Any:
    return conn.execute(
        select(outbox.c.state, outbox.c.payload, outbox.c.conflict, outbox.c.connector)
        .where(outbox.c.id == entry_id)
    ).first()


def _source_version_now(conn: Connection, row: Any, payload: dict[str, Any]) -> str | None:
    """The version the source holds now: from its conflict report when it names one (the demo
    plant does), else from the cache when a sync since brought a newer one (None: unknown)."""
    theirs = json.loads(row.conflict or "{}").get("theirs") or {}
    if theirs.get("version"):
        return str(theirs["version"])
    table = ENTITY_TABLES["requisitions"]
    cached = conn.execute(
        select(table.c.source_version).where(
            table.c.source == row.connector, table.c.source_key == payload["target"]
        )
    ).scalar()
    return str(cached) if cached and cached != payload.get("base_version") else None


def resend_on_source_version(
    engine: Engine, ids: Iterable[int], *, actor: str | None = None, now: dt.datetime | None = None
) -> Resolution:
    """Queue conflicting entries again *based on the version the source holds now*: the buyer
    compared both states and keeps the decision. Retrying would conflict again (the request still
    names the version of the analysis); this one names the new version, so the source takes it
    unless the record moves once more (then it is a conflict again, never a blind overwrite).
    The idempotency key names the version, so the entry gets a new one; the old key was never
    applied (a conflict writes nothing)."""
    now = now or utc_now()
    actor = actor or current_user()
    done = Resolution()
    with engine.begin() as conn:
        for entry_id, row in _conflicts(conn, ids, done):
            payload = json.loads(row.payload)
            version = _source_version_now(conn, row, payload)
            if version is None:
                done.skipped.append(
                    f"entry {entry_id}: the source's version is not known; sync, then try again"
                )
                continue
            request = {k: v for k, v in payload.items() if k != "idempotency_key"}
            request["base_version"] = version
            key = idempotency_key(row.connector, request)
            twin = conn.execute(select(outbox.c.id).where(outbox.c.idempotency_key == key)).scalar()
            if twin is not None:
                done.skipped.append(
                    f"entry {entry_id}: the same decision on version {version} is entry {twin}"
                )
                continue
            _change_entry(
                conn, entry_id, payload["target"], actor=actor,
                action="resend on source version", result="queued",
                detail={"was": payload.get("base_version"), "now": version,
                        "idempotency_key": key, "replaces_key": payload.get("idempotency_key")},
                now=now,
                payload=json.dumps({**request, "idempotency_key": key}, sort_keys=True),
                idempotency_key=key, state=OutboxState.QUEUED.value, next_attempt_at=stamp(now))
            done.done.append(entry_id)
    return done


def discard_conflicts(
    engine: Engine, ids: Iterable[int], *, actor: str | None = None, now: dt.datetime | None = None
) -> Resolution:
    """Settle conflicting entries by keeping the source's state: the entry becomes ``discarded``
    and is never sent; the decision stays stored, and the requisition gets new advice at the
    next re-evaluation, to decide again on what the source holds now."""
    now = now or utc_now()
    actor = actor or current_user()
    done = Resolution()
    with engine.begin() as conn:
        for entry_id, row in _conflicts(conn, ids, done):
            _change_entry(conn, entry_id, json.loads(row.payload)["target"], actor=actor,
                          action="discard", result=OutboxState.DISCARDED.value,
                          detail={"was": row.state, "kept": "the source's state"}, now=now,
                          state=OutboxState.DISCARDED.value, next_attempt_at=None)
            done.done.append(entry_id)
    return done


def send_pending(
    engine: Engine,
    sources: Iterable[Any],
    state: TaskState | None = None,
    *,
    now: dt.datetime | None = None,
) -> DrainResult:
    """Build the connectors the queued entries need from configured ``sources`` (settings'
    SourceConfig), with passwords from the keyring, then drain; a source that cannot be built
    (no password, unknown connector) leaves its entries waiting, with the reason in messages.

    A connector that keeps its store beside the cache (the demo plant's ledger of writes) gets
    that file, and needs no configured source: with none, it is built from the cache alone, so
    decisions on the demo are sent without the user setting anything up."""
    from workbench.connect.credentials import CredentialError
    from workbench.connect.factory import open_connector, self_contained_connector
    from workbench.services.sources import cache_path

    needed = {e["connector"] for e in _entries(engine, OPEN_STATES)}
    cache = cache_path(engine)
    built: dict[str, Connector] = {}
    broken: set[str] = set()
    configured: set[str] = set()
    messages: list[str] = []
    for cfg in sources:
        configured.add(cfg.connector)
        if not cfg.enabled or cfg.connector not in needed or cfg.connector in built:
            continue
        try:
            built[cfg.connector] = open_connector(cfg.connector, cfg.params, cache=cache)
        except (CredentialError, ConnectorError, TypeError) as exc:
            broken.add(cfg.connector)
            messages.append(f"source {cfg.name}: {exc}")
    for name in sorted(needed - configured):
        try:
            connector = self_contained_connector(name, cache)
        except (ConnectorError, TypeError, ValueError) as exc:
            broken.add(name)
            messages.append(f"connector {name!r}: {exc}")
            continue
        if connector is not None:
            built[name] = connector
    missing = needed - set(built) - broken
    messages.extend(
        f"no configured source for connector {name!r}: its decisions wait"
        for name in sorted(missing)
    )
    try:
        result = drain_outbox(engine, built, state, now=now)
    finally:
        for connector in built.values():
            connector.close()
    result.messages[:0] = messages
    return result


def cached_records(engine: Engine) -> dict[int, dict[str, Any]]:
    """For each entry in conflict, its requisition as the cache holds it, under the canonical
    names a conflict report uses: the state the analysis saw, until a sync brings the source's.
    The cache keeps quantities in the item's stock unit, so that is the unit shown."""
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT o.id AS entry, q.code, q.item, q.quantity, i.stock_uom AS uom, q.need_date, "
            "q.suggested_supplier, q.status, q.source_version AS version "
            "FROM outbox o JOIN decisions d ON d.id = o.decision "
            "JOIN requisitions q ON q.code = d.requisition "
            "LEFT JOIN items i ON i.code = q.item WHERE o.state = ?",
            (OutboxState.CONFLICT.value,),
        ).mappings().all()
    out: dict[int, dict[str, Any]] = {}
    for row in rows:
        record = {k: v for k, v in row.items() if k != "entry"}
        record["need_date"] = str(record["need_date"])[:10] if record["need_date"] else None
        out[int(row["entry"])] = record
    return out


def outbox_frame(engine: Engine) -> pd.DataFrame:
    """Every outbox entry with its decision (newest first)."""
    return query_frame(
        engine,
        (
            "SELECT o.id, o.state, d.requisition, d.action, d.verdict, o.connector, o.attempts, "
            "o.next_attempt_at, o.updated_at, o.last_error, o.conflict, o.result_version, "
            "o.idempotency_key, d.decided_by, d.decided_at, o.decision "
            "FROM outbox o JOIN decisions d ON d.id = o.decision ORDER BY o.id DESC"
        ),
    )


def audit_frame(engine: Engine, outbox_id: int | None = None) -> pd.DataFrame:
    """The audit log (newest first), optionally of one outbox entry."""
    where, params = ("WHERE outbox = ?", (outbox_id,)) if outbox_id is not None else ("", ())
    return query_frame(
        engine,
        "SELECT id, at, actor, action, target, outbox, result, detail "
        f"FROM audit_events {where} ORDER BY id DESC",
        params,
    )
