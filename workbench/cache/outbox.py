"""The outbox and its audit log in the cache: every state an entry takes, checked in one place.

An outbox entry carries one decision's write-back request (filled by
:mod:`workbench.services.decisions`, sent by :mod:`workbench.services.writeback`). Its state
moves only by the moves of :data:`TRANSITIONS`, and every move of every entry goes through
:func:`check_move`, which refuses any other with :class:`OutboxStateError` (STYLE 19):

=========================  ===========  ===========  ==========================================
from                       move         to           when
=========================  ===========  ===========  ==========================================
(new)                      enqueue      queued       a decision that sends something is stored
queued, sending            claim        sending      the worker takes it (sending: a send cut
                                                     short by a crash is taken again)
sending                    deliver      sent         the source took it (or had already)
sending                    conflict     conflict     the record changed in the source
sending                    postpone     queued       the source is down or busy: later
sending                    fail         failed       refused, or a connector error
sent                       confirm      confirmed    a sync shows the version the write made
failed, conflict           retry        queued       a user queues it again (same key)
conflict                   resend       queued       a user keeps ours, on the source's version
conflict                   discard      discarded    a user keeps the source's state
=========================  ===========  ===========  ==========================================

``confirmed`` and ``discarded`` are final. A user's move on an entry the table does not allow
(retrying a ``sent`` one, say) is skipped by the services with a reason, never forced.

:class:`OutboxRepository` holds the statements on the ``outbox`` and ``audit_events`` tables;
it works inside the caller's transaction (``with engine.begin() as conn``), so a decision, its
outbox entry and its audit event are written together or not at all. Every audit event records
who wrote it: ``workstation_user`` (the OS login) and ``db_role`` (PostgreSQL's current_user, the
OS login on SQLite) beside ``actor`` (the configured name).

One worker at a time per entry, across the team (issue 17 §2). Several workstations (or a
scheduled job and a GUI) may drain the same team outbox at once. A worker *claims* an entry
before sending it: one ``UPDATE … WHERE`` (a compare-and-set, atomic on SQLite and PostgreSQL)
that moves it to ``sending`` and writes ``claimed_by`` (:func:`worker_id`: host, process and a
token of this drain), ``claimed_at`` and ``lease_until`` (claimed_at + :data:`LEASE`), and only
succeeds while the entry is ``queued``, or ``sending`` with a claim that is *stale*: its lease
expired, its claimer is a process of this host that is gone (a crash: taken again at once, as
before claims existed), or it has no claimer (claimed before migration 0015). A live claim is
left alone, so two workers never both send an entry; the loser skips it (and the later entries
on its record, which wait behind it). The lease (15 minutes) is far longer than any push (the
connectors' timeouts are seconds), so a live worker never loses its claim mid-send; a worker on
another host that died is replaced after the lease. Finishing an attempt clears the claim.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import os
import re
import socket
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, insert, or_, select, update

from workbench.cache.decisions import database_role, workstation_user
from workbench.cache.schema import ENTITY_TABLES, audit_events, decisions, outbox, watermarks
from workbench.domain.enums import OutboxState

#: the connector of a team cache (an offline copy's records carry it as their source)
TEAM_CONNECTOR = "team"
#: the payload key of an entry queued on a team copy: the copy's team decision mark (the ``d``
#: of its watermark) when the entry was queued, i.e. the team decisions its buyer had seen
#: (docs/team-cache.md); never part of the push request itself (:func:`request_fields`)
TEAM_SEEN = "team_seen"
_TEAM_D = re.compile(r"/d(\d+)$")


def team_seen(conn: Connection) -> int | None:
    """The copy's team decision mark now: the lower ``d`` of the team connector's watermarks
    of requisitions and PO lines (None: this cache is no team copy, or was never pulled)."""
    rows = conn.execute(select(watermarks.c.watermark).where(
        watermarks.c.connector == TEAM_CONNECTOR,
        watermarks.c.entity.in_(("requisitions", "purchase_order_lines")),
        watermarks.c.watermark.is_not(None))).scalars().all()
    if not rows:
        return None
    return min(int(m.group(1)) if (m := _TEAM_D.search(str(w))) else 0 for w in rows)


def request_fields(payload: dict[str, Any]) -> dict[str, Any]:
    """A stored payload without what only the outbox keeps (:data:`TEAM_SEEN`): the push
    request's fields."""
    return {k: v for k, v in payload.items() if k != TEAM_SEEN}

#: the "state" of an entry not yet written
NEW = "(new)"


class OutboxMove(enum.StrEnum):
    """What happens to an outbox entry (the middle column of the module's table)."""

    ENQUEUE = "enqueue"
    CLAIM = "claim"
    DELIVER = "deliver"
    CONFLICT = "conflict"
    POSTPONE = "postpone"
    FAIL = "fail"
    CONFIRM = "confirm"
    RETRY = "retry"
    RESEND = "resend"
    DISCARD = "discard"


#: (state before, move) -> state after: every allowed move, and only those
TRANSITIONS: dict[tuple[str, OutboxMove], OutboxState] = {
    (NEW, OutboxMove.ENQUEUE): OutboxState.QUEUED,
    (OutboxState.QUEUED, OutboxMove.CLAIM): OutboxState.SENDING,
    (OutboxState.SENDING, OutboxMove.CLAIM): OutboxState.SENDING,
    (OutboxState.SENDING, OutboxMove.DELIVER): OutboxState.SENT,
    (OutboxState.SENDING, OutboxMove.CONFLICT): OutboxState.CONFLICT,
    (OutboxState.SENDING, OutboxMove.POSTPONE): OutboxState.QUEUED,
    (OutboxState.SENDING, OutboxMove.FAIL): OutboxState.FAILED,
    (OutboxState.SENT, OutboxMove.CONFIRM): OutboxState.CONFIRMED,
    (OutboxState.FAILED, OutboxMove.RETRY): OutboxState.QUEUED,
    (OutboxState.CONFLICT, OutboxMove.RETRY): OutboxState.QUEUED,
    (OutboxState.CONFLICT, OutboxMove.RESEND): OutboxState.QUEUED,
    (OutboxState.CONFLICT, OutboxMove.DISCARD): OutboxState.DISCARDED,
}


#: columns holding JSON
_JSON_COLUMNS = ("payload", "conflict")
#: how long a claim holds an entry against other workers (module doc)
LEASE = dt.timedelta(minutes=15)
#: the claim columns, cleared when an attempt ends
_NO_CLAIM = {"claimed_by": None, "claimed_at": None, "lease_until": None}


def worker_id() -> str:
    """A claim's owner: ``host:pid:token`` (a new token per call: one per drain)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def claimer_gone(claimed_by: str | None) -> bool:
    """The claimer is a process of this host that no longer runs (or there is none)."""
    if not claimed_by:
        return True
    host, _, rest = claimed_by.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another host's worker: only its lease tells
    if os.name == "nt":  # os.kill would end the process there: the lease alone tells
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


class OutboxStateError(ValueError):
    """A move of an outbox entry that :data:`TRANSITIONS` does not allow."""


def allowed_from(move: OutboxMove) -> frozenset[str]:
    """The states ``move`` may start from (read from :data:`TRANSITIONS`)."""
    return frozenset(before for before, m in TRANSITIONS if m == move)


def can_move(state: str, move: OutboxMove) -> bool:
    return (state, move) in TRANSITIONS


def check_move(state: str, move: OutboxMove, what: str = "outbox entry") -> OutboxState:
    """The state after ``move`` from ``state``, or :class:`OutboxStateError` naming the refused
    move and the states it is allowed from. The one check every state change passes."""
    after = TRANSITIONS.get((str(state), move))
    if after is None:
        allowed = ", ".join(sorted(allowed_from(move))) or "nowhere"
        raise OutboxStateError(f"{what} is {state}: it cannot {move.value} "
                               f"(allowed from {allowed})")
    return after


@dataclass(frozen=True)
class OutboxEntry:
    """One outbox row with the decision's author; ``payload`` is the stored push request."""

    id: int
    decision: int
    connector: str
    idempotency_key: str
    payload: dict[str, Any]
    state: str
    attempts: int
    next_attempt_at: str | None
    last_error: str | None
    result_version: str | None
    conflict: str | None
    decided_by: str | None
    claimed_by: str | None = None
    lease_until: str | None = None

    @property
    def target(self) -> str:
        return str(self.payload["target"])


def _entry(row: Any) -> OutboxEntry:
    return OutboxEntry(
        id=int(row["id"]), decision=int(row["decision"]), connector=str(row["connector"]),
        idempotency_key=str(row["idempotency_key"]), payload=json.loads(row["payload"]),
        state=str(row["state"]), attempts=int(row["attempts"]),
        next_attempt_at=row["next_attempt_at"], last_error=row["last_error"],
        result_version=row["result_version"], conflict=row["conflict"],
        decided_by=row["decided_by"], claimed_by=row["claimed_by"],
        lease_until=row["lease_until"])


class OutboxRepository:
    """The outbox and audit statements, in the transaction of ``conn``."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # --- reading ----------------------------------------------------------------------------
    def entries(self, states: Iterable[str]) -> list[OutboxEntry]:
        """Entries in ``states``, oldest first (the order they were decided in)."""
        rows = self.conn.execute(
            select(outbox, decisions.c.decided_by)
            .join(decisions, decisions.c.id == outbox.c.decision)
            .where(outbox.c.state.in_([str(s) for s in states]))
            .order_by(outbox.c.id)
        ).mappings().all()
        return [_entry(r) for r in rows]

    def get(self, entry_id: int) -> OutboxEntry | None:
        row = self.conn.execute(
            select(outbox, decisions.c.decided_by)
            .join(decisions, decisions.c.id == outbox.c.decision)
            .where(outbox.c.id == entry_id)
        ).mappings().first()
        return None if row is None else _entry(row)

    def by_key(self, key: str) -> tuple[int, int] | None:
        """(entry id, decision id) of the entry with idempotency key ``key``."""
        row = self.conn.execute(
            select(outbox.c.id, outbox.c.decision).where(outbox.c.idempotency_key == key)
        ).first()
        return None if row is None else (int(row.id), int(row.decision))

    def requisition_version(self, connector: str, target: str) -> tuple[str | None, bool] | None:
        """(source version, deleted?) of the requisition ``target`` of ``connector`` as the
        cache holds it; None when the cache has no such record."""
        table = ENTITY_TABLES["requisitions"]
        row = self.conn.execute(
            select(table.c.source_version, table.c.deleted_at)
            .where(table.c.source == connector, table.c.source_key == target)
        ).first()
        if row is None:
            return None
        return (None if row.source_version is None else str(row.source_version),
                row.deleted_at is not None)

    def record_version(self, connector: str, target: str, target_kind: str | None
                       ) -> tuple[str | None, bool] | None:
        """(source version, gone?) of the record ``target`` of ``connector`` that a push of
        ``target_kind`` changed (None or ``requisition``: :meth:`requisition_version`; a
        ``purchase_order_line`` is gone when deleted or cancelled); None when the cache has no
        such record."""
        if target_kind in (None, "requisition"):
            return self.requisition_version(connector, target)
        table = ENTITY_TABLES["purchase_order_lines"]
        row = self.conn.execute(
            select(table.c.source_version, table.c.deleted_at, table.c.status)
            .where(table.c.source == connector, table.c.source_key == target)
        ).first()
        if row is None:
            return None
        return (None if row.source_version is None else str(row.source_version),
                row.deleted_at is not None or row.status == "cancelled")

    # --- the audit log ----------------------------------------------------------------------
    def audit(self, *, actor: str, action: str, target: str | None, result: str, at: str,
              outbox_id: int | None = None, detail: dict[str, Any] | None = None) -> int:
        """Append an audit event (with this workstation's login and the database role); its
        id."""
        new = self.conn.execute(insert(audit_events).values(
            at=at, actor=actor, action=action, target=target, outbox=outbox_id, result=result,
            detail=json.dumps(detail or {}, default=str, sort_keys=True),
            workstation_user=workstation_user(), db_role=database_role(self.conn)))
        return int(new.inserted_primary_key[0])  # type: ignore[index]

    def complete_event(self, event: int, result: str, detail: dict[str, Any]) -> None:
        """Record the outcome of an attempt's audit event."""
        self.conn.execute(update(audit_events).where(audit_events.c.id == event).values(
            result=result, detail=json.dumps(detail, default=str, sort_keys=True)))

    def mark_interrupted(self, entry_id: int) -> None:
        """An earlier attempt's event still ``sending`` was cut short: ``interrupted``."""
        self.conn.execute(update(audit_events)
                          .where(audit_events.c.outbox == entry_id,
                                 audit_events.c.result == "sending")
                          .values(result="interrupted"))

    # --- moves ------------------------------------------------------------------------------
    def enqueue(self, *, decision: int, connector: str, key: str, payload: dict[str, Any],
                at: str) -> int:
        """A new entry, ``queued`` and due at once; its id. On a team copy (connector
        ``team``) the payload also records the copy's team decision mark (:data:`TEAM_SEEN`)."""
        state = check_move(NEW, OutboxMove.ENQUEUE)
        if connector == TEAM_CONNECTOR and TEAM_SEEN not in payload:
            seen = team_seen(self.conn)
            if seen is not None:
                payload = {**payload, TEAM_SEEN: seen}
        new = self.conn.execute(insert(outbox).values(
            decision=decision, connector=connector, idempotency_key=key,
            payload=json.dumps(payload, sort_keys=True), state=state.value, attempts=0,
            next_attempt_at=at, created_at=at, updated_at=at))
        return int(new.inserted_primary_key[0])  # type: ignore[index]

    def claim(self, entry: OutboxEntry, at: str, worker: str | None = None,
              lease: dt.timedelta = LEASE) -> bool:
        """Take ``entry`` for sending (attempt counted) as ``worker`` (default: a new
        :func:`worker_id`) until ``at`` + ``lease``: a compare-and-set on its state and
        attempts that also refuses an entry another live worker holds (module doc), so two
        workers never both take it; False when another worker did or does."""
        after = check_move(entry.state, OutboxMove.CLAIM, f"outbox entry {entry.id}")
        free = or_(outbox.c.state == OutboxState.QUEUED.value, outbox.c.claimed_by.is_(None),
                   outbox.c.lease_until.is_(None), outbox.c.lease_until <= at)
        if entry.state == OutboxState.SENDING.value and claimer_gone(entry.claimed_by):
            # a crashed process of this host: free now, if the claim is still the one it left
            free = or_(free, outbox.c.claimed_by == entry.claimed_by)
        until = (dt.datetime.fromisoformat(at) + lease).isoformat(timespec="seconds")
        done = self.conn.execute(
            update(outbox)
            .where(and_(outbox.c.id == entry.id, outbox.c.state == entry.state,
                        outbox.c.attempts == entry.attempts, free))
            .values(state=after.value, attempts=entry.attempts + 1, updated_at=at,
                    claimed_by=worker or worker_id(), claimed_at=at, lease_until=until)
        ).rowcount
        return done == 1

    def move(self, entry_id: int, state: str, move: OutboxMove, at: str,
             **values: Any) -> OutboxState:
        """Move entry ``entry_id`` (now in ``state``) by ``move``, setting ``values`` too (the
        ``payload`` and ``conflict`` columns may be given as dicts); the new state. Refused
        (:class:`OutboxStateError`) unless the table allows it."""
        after = check_move(state, move, f"outbox entry {entry_id}")
        for name in _JSON_COLUMNS:  # a request or a conflict report given as a dict
            if isinstance(values.get(name), dict):
                values[name] = json.dumps(values[name], default=str, sort_keys=True)
        if state == OutboxState.SENDING.value:  # an attempt ends: its claim with it
            values = {**_NO_CLAIM, **values}
        self.conn.execute(update(outbox).where(outbox.c.id == entry_id)
                          .values(**values, state=after.value, updated_at=at))
        return after

    def pause_connector(self, connector: str, until: str) -> None:
        """Its queued entries due before ``until`` wait until then (no state changes)."""
        self.conn.execute(
            update(outbox)
            .where(outbox.c.connector == connector,
                   outbox.c.state == OutboxState.QUEUED.value,
                   (outbox.c.next_attempt_at.is_(None)) | (outbox.c.next_attempt_at < until))
            .values(next_attempt_at=until))


def mark_unmarked_team_entries(conn: Connection, connector: str, open_states: Iterable[str]) -> int:
    """Open entries of ``connector`` (a team copy's) queued before entries recorded the copy's
    team decision mark get the copy's mark now (the count; nothing when the copy has none)."""
    seen = team_seen(conn)
    if seen is None:
        return 0
    count = 0
    rows = conn.execute(select(outbox.c.id, outbox.c.payload).where(
        outbox.c.connector == connector, outbox.c.state.in_(list(open_states)))).all()
    for row in rows:
        payload = json.loads(row.payload or "{}")
        if TEAM_SEEN in payload:
            continue
        conn.execute(update(outbox).where(outbox.c.id == row.id).values(
            payload=json.dumps({**payload, TEAM_SEEN: seen}, sort_keys=True)))
        count += 1
    return count
