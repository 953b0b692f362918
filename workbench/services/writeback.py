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

Every state an entry takes is a move of the one transition table of
:mod:`workbench.cache.outbox`, checked there; a user's retry, resend or discard of an entry the
table does not allow it for leaves the entry as it is. The statements live in the cache package
(:class:`~workbench.cache.outbox.OutboxRepository`, :mod:`workbench.cache.readmodels`); this
module orchestrates.

Entries on the same record go in the order they were decided: while one waits, the later ones
wait behind it. The worker is a plain function taking a TaskState, so the CLI, the GUI and tests
call it alike.

Several workers at once (a team cache, issue 17 §2: a scheduled job and buyers' workstations
draining one outbox): each drain claims entries as one worker (:func:`~workbench.cache.outbox.
worker_id`); a claim holds the entry until the attempt is recorded or its lease expires (or its
process on this host is gone), so an entry is sent by one worker at a time, never twice. An
entry another worker holds is skipped, and so are the later entries on its record, which keep
their order behind it. A crash still leaves the entry ``sending`` and is taken again as in 1.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Engine

from workbench.cache.outbox import (
    TEAM_SEEN,
    OutboxEntry,
    OutboxMove,
    OutboxRepository,
    allowed_from,
    can_move,
    request_fields,
    team_seen,
    worker_id,
)
from workbench.cache.readmodels import audit_frame, cached_records, outbox_frame
from workbench.connect.port import ConflictError, Connector, ConnectorError, PushRequest, TransientError
from workbench.domain.enums import OutboxState
from workbench.services.decisions import idempotency_key, stamp, utc_now, with_who
from workbench.services.settings import current_user
from workbench.services.tasks import TaskState, check_cancelled

__all__ = ["BACKOFF_FIRST", "BACKOFF_MAX", "OPEN_STATES", "RETRYABLE_STATES", "DrainResult",
           "Resolution", "audit_frame", "audit_log", "backoff", "cached_records", "confirm_sent",
           "discard_conflicts", "drain_outbox", "outbox_frame", "resend_on_source_version",
           "retry", "send_pending"]

BACKOFF_FIRST = dt.timedelta(seconds=30)
BACKOFF_MAX = dt.timedelta(hours=1)
OPEN_STATES = tuple(sorted(allowed_from(OutboxMove.CLAIM)))  # queued, sending
RETRYABLE_STATES = tuple(sorted(allowed_from(OutboxMove.RETRY)))  # conflict, failed


def audit_log(engine: Engine, outbox_id: int | None = None) -> Any:
    """:func:`~workbench.cache.readmodels.audit_frame` with who wrote each event: the
    workstation login and the database role (``workstation_user``, ``db_role``)."""
    return with_who(engine, audit_frame(engine, outbox_id), "audit_events")


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


def _entries(engine: Engine, states: Iterable[str]) -> list[OutboxEntry]:
    with engine.connect() as conn:
        return OutboxRepository(conn).entries(states)


def _claim(engine: Engine, entry: OutboxEntry, now: dt.datetime, worker: str
           ) -> tuple[int, int] | None:
    """Mark the entry ``sending``, claimed by ``worker`` (compare-and-set that also respects a
    live worker's claim, so two workers never both take it) and audit the attempt before any
    network call; (attempt number, audit event id), or None when another worker took it or
    holds it. An earlier attempt's event still ``sending`` was cut short (the process ended
    mid-send): it becomes ``interrupted``."""
    attempts = entry.attempts + 1
    with engine.begin() as conn:
        repo = OutboxRepository(conn)
        if not repo.claim(entry, stamp(now), worker):
            return None
        repo.mark_interrupted(entry.id)
        event = repo.audit(actor=entry.decided_by or "unknown",
                           action=f"push {entry.payload['action']}", target=entry.target,
                           result="sending", outbox_id=entry.id, at=stamp(now),
                           detail=_attempt_detail(entry, attempts))
    return attempts, event


def _attempt_detail(entry: OutboxEntry, attempt: int) -> dict[str, Any]:
    return {
        "attempt": attempt,
        "connector": entry.connector,
        "idempotency_key": entry.idempotency_key,
        "worker": "writeback",
        "sent_by": current_user(),
    }


def _finish(engine: Engine, entry: OutboxEntry, attempt: tuple[int, int], now: dt.datetime,
            move: OutboxMove, result: str, values: dict[str, Any], detail: dict[str, Any]
            ) -> None:
    """Record the attempt's outcome in the entry (by ``move`` from ``sending``) and complete
    its audit event with ``result``."""
    number, event = attempt
    with engine.begin() as conn:
        repo = OutboxRepository(conn)
        repo.move(entry.id, OutboxState.SENDING, move, stamp(now), **values)
        repo.complete_event(event, result, {**_attempt_detail(entry, number), **detail})


@dataclass
class _Drain:
    """What one drain has learnt so far: its result, and which records and sources wait."""

    result: DrainResult = field(default_factory=DrainResult)
    blocked: set[str] = field(default_factory=set)  # records with an earlier entry waiting
    offline: set[str] = field(default_factory=set)  # connectors that failed transiently


def drain_outbox(
    engine: Engine,
    connectors: Mapping[str, Connector],
    state: TaskState | None = None,
    *,
    now: dt.datetime | None = None,
) -> DrainResult:
    """Send every due outbox entry through ``connectors`` (by connector name); see module doc."""
    now = now or utc_now()
    drain = _Drain()
    worker = worker_id()
    confirm_sent(engine, now=now)
    entries = _entries(engine, OPEN_STATES)
    for n, entry in enumerate(entries):
        check_cancelled(state)
        if state:
            state.set_progress(n, len(entries))
        target = f"{entry.connector}:{entry.target}"
        connector = connectors.get(entry.connector)
        due = not entry.next_attempt_at or entry.next_attempt_at <= stamp(now)
        if target in drain.blocked or not due or connector is None \
                or entry.connector in drain.offline:
            drain.blocked.add(target)
            drain.result.waiting.append(entry.id)
            continue
        attempt = _claim(engine, entry, now, worker)
        if attempt is None:  # another worker took it or holds it: later ones on it wait
            drain.blocked.add(target)
            continue
        if state:
            state.set_status(f"sending {entry.payload['action']} of {entry.target}")
        _send(engine, connector, entry, attempt, now, drain)
    if state:
        state.set_progress(len(entries), len(entries))
    return drain.result


def _send(engine: Engine, connector: Connector, entry: OutboxEntry, attempt: tuple[int, int],
          now: dt.datetime, drain: _Drain) -> None:
    """Push one claimed entry and record what the connector said (the module doc's table)."""
    result, target = drain.result, f"{entry.connector}:{entry.target}"
    try:
        pushed = connector.push(PushRequest(**request_fields(entry.payload)))
    except ConflictError as exc:
        _finish(engine, entry, attempt, now, OutboxMove.CONFLICT, "conflict",
                {"last_error": str(exc), "conflict": {"ours": exc.ours, "theirs": exc.theirs}},
                {"error": str(exc)})
        result.conflicts.append(entry.id)
    except TransientError as exc:
        later = stamp(now + backoff(attempt[0]))
        _finish(engine, entry, attempt, now, OutboxMove.POSTPONE, "transient",
                {"last_error": str(exc), "next_attempt_at": later},
                {"error": str(exc), "next_attempt_at": later})
        with engine.begin() as conn:  # the source gets a rest: its other entries wait as long
            OutboxRepository(conn).pause_connector(entry.connector, later)
        drain.offline.add(entry.connector)
        drain.blocked.add(target)
        result.retrying.append(entry.id)
        result.messages.append(f"{entry.connector}: {exc}; will retry from {later}")
    except Exception as exc:  # noqa: BLE001 - PermanentError, or a connector bug: stop this entry
        text = str(exc) if isinstance(exc, ConnectorError) else f"{type(exc).__name__}: {exc}"
        _finish(engine, entry, attempt, now, OutboxMove.FAIL, "failed", {"last_error": text},
                {"error": text})
        drain.blocked.add(target)
        result.failed.append(entry.id)
    else:
        outcome = "already_applied" if pushed.already_applied else "sent"
        _finish(engine, entry, attempt, now, OutboxMove.DELIVER, outcome,
                {"last_error": None, "conflict": None, "result_version": pushed.new_version,
                 "next_attempt_at": None},
                {"new_version": pushed.new_version, **pushed.detail})
        (result.already_applied if pushed.already_applied else result.sent).append(entry.id)


def confirm_sent(engine: Engine, *, now: dt.datetime | None = None) -> int:
    """Mark ``sent`` entries ``confirmed`` once the cache shows their result (after a sync):
    the target requisition (or purchase-order line) carries the version the write produced, or
    is gone after a cancel (a source that keeps cancelled records, like the demo plant, shows
    the version; a PO line counts as gone when deleted or cancelled)."""
    confirmed = 0
    sent = _entries(engine, [OutboxState.SENT.value])
    if not sent:
        return 0
    with engine.begin() as conn:
        repo = OutboxRepository(conn)
        for entry in sent:
            cached = repo.record_version(entry.connector, entry.target,
                                        entry.payload.get("target_kind"))
            if cached is None:
                continue
            version, deleted = cached
            seen = _not_older(version, entry.result_version) or (
                entry.payload["action"] == "cancel" and deleted
            )
            if seen:
                repo.move(entry.id, entry.state, OutboxMove.CONFIRM, stamp(now or utc_now()))
                confirmed += 1
    return confirmed


def _not_older(cached: str | None, written: str | None) -> bool:
    if cached is None or written is None:
        return False
    try:
        return float(cached) >= float(written)
    except ValueError:
        return cached == written


def _change_entry(repo: OutboxRepository, entry: OutboxEntry, move: OutboxMove, *, actor: str,
                  action: str, result: str, detail: dict[str, Any], now: dt.datetime,
                  **values: Any) -> None:
    """Move one outbox entry (setting ``values``) and audit who did what, in the caller's
    transaction."""
    repo.move(entry.id, entry.state, move, stamp(now), **values)
    repo.audit(actor=actor, action=action, target=entry.target, result=result,
               outbox_id=entry.id, detail=detail, at=stamp(now))


def retry(
    engine: Engine, ids: Iterable[int], *, actor: str | None = None, now: dt.datetime | None = None
) -> int:
    """Queue failed or conflicting entries again, due now (same idempotency key). ``actor``:
    who does it in the audit log (default: the configured user, else the OS login). Entries
    in another state are left as they are."""
    now = now or utc_now()
    actor = actor or current_user()
    count = 0
    with engine.begin() as conn:
        repo = OutboxRepository(conn)
        for entry_id in ids:
            entry = repo.get(entry_id)
            if entry is None or not can_move(entry.state, OutboxMove.RETRY):
                continue
            values: dict[str, Any] = {}
            if TEAM_SEEN in entry.payload:  # a team copy's entry: its buyer has now seen what
                seen = team_seen(conn)  # the copy shows (the team decision it conflicted with)
                if seen is not None:
                    values["payload"] = {**entry.payload, TEAM_SEEN: seen}
            _change_entry(repo, entry, OutboxMove.RETRY, actor=actor, action="retry",
                          result="queued", detail={"was": entry.state}, now=now,
                          next_attempt_at=stamp(now), **values)
            count += 1
    return count


@dataclass
class Resolution:
    """What a buyer's conflict resolution did: the entries it changed, and why others were left."""

    done: list[int] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _conflicts(repo: OutboxRepository, ids: Iterable[int], move: OutboxMove, done: Resolution
               ) -> Iterator[OutboxEntry]:
    """The entries of ``ids`` that ``move`` applies to (those in conflict); the others are
    noted in ``done.skipped``."""
    for entry_id in ids:
        entry = repo.get(entry_id)
        if entry is None or not can_move(entry.state, move):
            done.skipped.append(f"entry {entry_id} is not in conflict")
            continue
        yield entry


def _source_version_now(repo: OutboxRepository, entry: OutboxEntry) -> str | None:
    """The version the source holds now: from its conflict report when it names one (the demo
    plant does), else from the cache when a sync since brought a newer one (None: unknown)."""
    theirs = json.loads(entry.conflict or "{}").get("theirs") or {}
    if theirs.get("version"):
        return str(theirs["version"])
    cached = repo.record_version(entry.connector, entry.target, entry.payload.get("target_kind"))
    version = cached[0] if cached else None
    return version if version and version != entry.payload.get("base_version") else None


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
        repo = OutboxRepository(conn)
        for entry in _conflicts(repo, ids, OutboxMove.RESEND, done):
            version = _source_version_now(repo, entry)
            if version is None:
                done.skipped.append(
                    f"entry {entry.id}: the source's version is not known; sync, then try again"
                )
                continue
            request = {k: v for k, v in entry.payload.items() if k != "idempotency_key"}
            request["base_version"] = version
            key = idempotency_key(entry.connector, request)
            twin = repo.by_key(key)
            if twin is not None:
                done.skipped.append(
                    f"entry {entry.id}: the same decision on version {version} is entry {twin[0]}"
                )
                continue
            _change_entry(
                repo, entry, OutboxMove.RESEND, actor=actor,
                action="resend on source version", result="queued",
                detail={"was": entry.payload.get("base_version"), "now": version,
                        "idempotency_key": key,
                        "replaces_key": entry.payload.get("idempotency_key")},
                now=now, payload={**request, "idempotency_key": key}, idempotency_key=key,
                next_attempt_at=stamp(now))
            done.done.append(entry.id)
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
        repo = OutboxRepository(conn)
        for entry in _conflicts(repo, ids, OutboxMove.DISCARD, done):
            _change_entry(repo, entry, OutboxMove.DISCARD, actor=actor, action="discard",
                          result=OutboxState.DISCARDED.value,
                          detail={"was": entry.state, "kept": "the source's state"}, now=now,
                          next_attempt_at=None)
            done.done.append(entry.id)
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

    needed = {e.connector for e in _entries(engine, OPEN_STATES)}
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
