"""The team cache as a source, and offline decisions taken into it (issue 17 §2, docs/team-cache.md).

A workstation keeps a local SQLite copy of the team cache (SQLite or PostgreSQL: only the cache
API and portable SQLAlchemy statements are used here). The ``team`` connector
(``connectors/planner_connectors/team``) reads the team's entity tables through
:func:`changed_rows` and hands them to the ordinary sync; decisions stored on the copy while
offline are taken into the team's ``decisions`` and ``outbox`` by :func:`store_offline_decision`.

Watermarks. Every entity row carries ``sync_run``, the run that last changed it — deletions
included (a row marked deleted takes the run that marked it). A pull after run ``N`` therefore
asks for ``sync_run > N``: live rows come back as records, rows marked deleted as deletion keys.
The team's runs are one scheduled sync at a time (``team-sync`` takes a lock), so a run number
below the watermark never commits after a pull saw a higher one.

Decisions "made meanwhile". The copy also remembers the highest team decision id at the time it
was taken (:func:`decisions_mark`, the ``d`` of its watermark); an entry queued on the copy
records that mark as it stood then (``team_seen`` in its payload), and the push checks THAT one
(a later pull raises the copy's mark, but not what the buyer had seen when deciding; entries
queued before marks were recorded fall back to the copy's mark at push time). A decision
pushed from the copy on a target (a requisition, a PO line) for which the team holds a
decision with a higher id — one the workstation had not seen when its buyer decided — is a
conflict (:class:`TeamConflict`, carrying both decisions),
never an overwrite. The check and the insert run in one write transaction on the team cache,
after the target's version row is taken (``decision_versions``; ``FOR UPDATE`` on PostgreSQL,
SQLite's write transaction already serialises), so two pushes, or a push and an online
decision, never both pass.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from workbench.cache.decisions import DecisionStore
from workbench.cache.outbox import TEAM_SEEN, OutboxRepository
from workbench.cache.schema import ENTITY_TABLES, decisions, outbox, sync_runs
from workbench.domain.models import ENTITY_MODELS

#: rows per batch handed to the sync
BATCH_ROWS = 20_000
#: the decision columns shown on both sides of a conflict (who, when, what)
SHOWN = ("id", "requisition", "target_kind", "verdict", "action", "quantity", "date", "supplier",
         "item", "comment", "decided_by", "decided_at", "base_version")


class TeamConflict(Exception):
    """The team holds a decision on the same target that the workstation had not seen."""

    def __init__(self, message: str, ours: dict[str, Any], theirs: dict[str, Any]) -> None:
        super().__init__(message)
        self.ours = ours
        self.theirs = theirs


class TeamTargetMissing(LookupError):
    """The decided record is not in the team cache (or no longer is)."""


# --- pulling ---------------------------------------------------------------------------------


def latest_run(conn: Connection) -> int:
    """The team's last successful sync run (0: none), from ``sync_runs`` (its key: no scan of
    the entity tables)."""
    value = conn.execute(select(func.max(sync_runs.c.id)).where(
        sync_runs.c.status.in_(("succeeded", "partial")))).scalar()
    return int(value or 0)


#: a run still "running" this long after it started is taken as ended without finishing (it no
#: longer holds a copy's watermark back)
RUNNING_HORIZON = dt.timedelta(hours=6)


def running_floor(conn: Connection) -> int | None:
    """The lowest id of a team run still running (started within :data:`RUNNING_HORIZON`;
    None: none). Such a run may still commit rows under its id (an EDI run commits its files
    one group at a time) after later runs committed theirs, so a pull's watermark stays below
    it: the rows from it on are read again by the next pull (an upsert of equal rows), never
    skipped."""
    since = (dt.datetime.now(dt.UTC).replace(tzinfo=None) - RUNNING_HORIZON).isoformat(
        timespec="seconds")
    value = conn.execute(select(func.min(sync_runs.c.id)).where(
        sync_runs.c.status == "running", sync_runs.c.started_at >= since)).scalar()
    return None if value is None else int(value)


def decisions_mark(engine: Engine) -> int:
    """The highest decision id of the team (0: none) when a pull begins: a team decision with a
    higher id was made after the copy was taken ("meanwhile"). Read in a short transaction of
    its own, before the pull's snapshot. (A decision whose transaction was still open at that
    moment counts as made before: the copy shows no team decisions, so the two are alike for
    its buyers, and the team's outbox still sends both in order, each checked by the ERP.)"""
    with engine.connect() as conn:
        mark = int(conn.execute(select(func.max(decisions.c.id))).scalar() or 0)
        conn.rollback()
    return mark


def changed_rows(conn: Connection, entity: str, after_run: int | None, source: str,
                 size: int = BATCH_ROWS
                 ) -> Iterator[tuple[list[dict[str, Any]], list[tuple[Any, ...]], int]]:
    """Rows of ``entity`` changed by runs after ``after_run`` (all when None), in chunks of
    ``size``: (live rows as canonical records, keys of rows marked deleted, highest run seen).

    A record is the row as the source had sent it: quantities in the unit and figures the
    source used (``orig_*``), so the copy's sync converts them exactly as the team's did;
    ``source`` is the team source's name. Rows are read as plain tuples, streamed (a server-side
    cursor on PostgreSQL), and turned into dicts by position."""
    model = ENTITY_MODELS[entity]
    table = ENTITY_TABLES[entity]
    names = [f for f in model.model_fields if f != "uom"]
    quantity = model.quantity_fields
    extra = (["orig_uom", *(f"orig_{q}" for q in quantity)] if quantity else [])
    query = select(*(table.c[c] for c in [*names, *extra, "deleted_at", "sync_run"]))
    if after_run is not None:
        query = query.where(table.c.sync_run > after_run)
    query = query.order_by(*(table.c[k] for k in model.key_fields))
    unit_at = len(names)
    orig_at = [(q, unit_at + 1 + j) for j, q in enumerate(quantity)]
    keys_at = [names.index(k) for k in model.key_fields]
    result = conn.execution_options(stream_results=True, max_row_buffer=size,
                                    yield_per=size).execute(query)
    for chunk in result.partitions(size):
        live: list[dict[str, Any]] = []
        gone: list[tuple[Any, ...]] = []
        for row in chunk:
            if row[-2] is not None:  # deleted_at
                gone.append(tuple(row[i] for i in keys_at))
                continue
            record = dict(zip(names, row))
            record["source"] = source
            if quantity:
                unit = record["uom"] = row[unit_at]
                if unit is not None:
                    for q, at in orig_at:
                        record[q] = row[at]
            live.append(record)
        yield live, gone, max((int(row[-1] or 0) for row in chunk), default=0)


# --- the copy, read-only ---------------------------------------------------------------------


def copy_facts(local: str | Path, key: str, connector: str) -> tuple[dict[str, Any] | None,
                                                                       dict[str, str]]:
    """What the local copy says about a push: the decision behind the outbox entry with
    idempotency key ``key`` (None: none; with :data:`TEAM_SEEN` when the entry recorded the
    copy's team decision mark as it was queued), and the watermarks ``connector`` stored
    there. The copy is opened read-only by path (a connector holds no engine on it)."""
    path = Path(local)
    if not path.is_file():
        return None, {}
    con = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    try:
        row = con.execute(
            "SELECT d.*, o.payload AS queued_payload FROM outbox o "
            "JOIN decisions d ON d.id = o.decision "
            "WHERE o.idempotency_key = ?", (key,)).fetchone()
        marks = {str(e): str(w) for e, w in con.execute(
            "SELECT entity, watermark FROM watermarks WHERE connector = ? "
            "AND watermark IS NOT NULL", (connector,))}
    finally:
        con.close()
    if row is None:
        return None, marks
    ours = dict(row)
    queued = json.loads(ours.pop("queued_payload") or "{}")
    if queued.get(TEAM_SEEN) is not None:  # the mark when it was queued (see the module doc)
        ours[TEAM_SEEN] = int(queued[TEAM_SEEN])
    return ours, marks


# --- decisions of the copy that send nothing ---------------------------------------------------


def first_team_run(conn: Connection, connector: str) -> str | None:
    """When the copy's first successful pull of ``connector`` started (None: never)."""
    value = conn.execute(select(func.min(sync_runs.c.started_at))
                         .where(sync_runs.c.connector == connector,
                                sync_runs.c.status.in_(("succeeded", "partial")))).scalar()
    return None if value is None else str(value)


def unqueued_decisions(conn: Connection, source: str, since: str) -> list[dict[str, Any]]:
    """Decisions of the copy that have no outbox entry (a reject, a keep: they send nothing)
    on a record of ``source``, decided at or after ``since``; each with ``target`` (the
    record's source key) and ``target_kind``. Oldest first."""
    req = ENTITY_TABLES["requisitions"]
    pol = ENTITY_TABLES["purchase_order_lines"]
    rows = conn.execute(
        select(decisions).outerjoin(outbox, outbox.c.decision == decisions.c.id)
        .where(outbox.c.id.is_(None), decisions.c.decided_at >= since)
        .order_by(decisions.c.id)).mappings().all()
    out: list[dict[str, Any]] = []
    for row in rows:
        kind = row["target_kind"] or "requisition"
        if kind == "requisition":
            found = conn.execute(select(req.c.source, req.c.source_key)
                                 .where(req.c.code == row["requisition"])).first()
        elif kind == "purchase_order_line":
            order, _, line = str(row["requisition"]).rpartition("/")
            found = conn.execute(select(pol.c.source, pol.c.source_key).where(
                pol.c.purchase_order == order, pol.c.line == int(line or -1))).first()
        else:
            continue
        if found is None or found.source != source:
            continue
        out.append({**dict(row), "target": found.source_key or row["requisition"],
                    "target_kind": kind})
    return out


# --- pushing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    """A decision taken into the team: its decision and outbox ids there (no outbox entry for
    a decision that sends nothing: a reject, a keep); ``already``: it was there before (the
    same idempotency key, or the same decision: a push cut short and done again)."""

    decision: int
    outbox: int | None
    already: bool = False


def _target(conn: Connection, kind: str, target: str
            ) -> dict[str, Any]:
    """The team row a push targets (by its source key; then by its code), locked for the
    transaction on PostgreSQL."""
    entity = "requisitions" if kind == "requisition" else "purchase_order_lines"
    table = ENTITY_TABLES[entity]
    row = conn.execute(select(table).where(table.c.source_key == target).with_for_update()
                       ).mappings().first()
    if row is None and entity == "requisitions":
        row = conn.execute(select(table).where(table.c.code == target).with_for_update()
                           ).mappings().first()
    if row is None:
        raise TeamTargetMissing(f"the team cache has no {kind.replace('_', ' ')} {target}")
    return dict(row)


def _code(kind: str, row: Mapping[str, Any]) -> str:
    """What ``decisions.requisition`` holds for the target: the requisition's code, or a PO
    line's ``PO/line``."""
    if kind == "requisition":
        return str(row["code"])
    return f"{row['purchase_order']}/{row['line']}"


def _shown(row: Any) -> dict[str, Any]:
    return {k: row.get(k) for k in SHOWN}


def _theirs(conn: Connection, kind: str, code: str, seen: int) -> dict[str, Any] | None:
    """The latest team decision on the target that the copy had not seen (id above ``seen``)."""
    same_kind: Any = decisions.c.target_kind == kind
    if kind == "requisition":  # decisions stored before target kinds existed: NULL
        same_kind = same_kind | decisions.c.target_kind.is_(None)
    row = conn.execute(
        select(decisions).where(decisions.c.requisition == code, same_kind,
                                decisions.c.id > seen)
        .order_by(decisions.c.id.desc()).limit(1)).mappings().first()
    return None if row is None else _shown(row)


def store_offline_decision(conn: Connection, payload: Mapping[str, Any],
                           ours: Mapping[str, Any], *, seen: int, at: str,
                           actor_note: str = "offline copy") -> Stored:
    """Take one decision made on a copy into the team (``conn``: a write transaction on the
    team cache): its decision row, its outbox entry for the team's worker to send (connector:
    the target row's own source), and an audit event — unless the team holds a decision on the
    same target with an id above ``seen`` (:class:`TeamConflict`, both decisions in it).

    ``payload``: the push request (idempotency key, action, target, base version, values);
    ``ours``: the copy's decision row (verdict, who decided and when)."""
    repo = OutboxRepository(conn)
    key = str(payload["idempotency_key"])
    twin = repo.by_key(key)
    if twin is not None:
        return Stored(decision=twin[1], outbox=twin[0], already=True)
    kind = str(payload.get("target_kind") or "requisition")
    store = DecisionStore(conn)
    row = _target(conn, kind, str(payload["target"]))
    code = _code(kind, row)
    # the target's decision version, locked until this transaction ends: the same lock every
    # online decision takes (workbench.cache.decisions), so none is stored between check and insert
    taken = store.take_version(None if kind == "requisition" else kind, code)
    values = {
        "recommendation": None, "requisition": code, "verdict": ours.get("verdict") or "approve",
        "action": payload["action"], "quantity": payload.get("quantity"),
        "date": payload.get("date"), "supplier": payload.get("supplier"),
        "comment": payload.get("comment") or "", "decided_by": ours.get("decided_by"),
        "decided_at": ours.get("decided_at") or at, "base_version": payload.get("base_version"),
        "item": payload.get("item"),
        "target_kind": None if kind == "requisition" else kind,
    }
    if ours.get("workstation_user"):  # the login it was made on; db_role: the pushing role's
        values["workstation_user"] = ours["workstation_user"]
    sends = values["verdict"] != "reject" and payload["action"] != "keep"
    if not sends:  # no outbox entry carries its key: the same decision pushed again is known
        same = store.same_decision(values)  # by its target, author, time, verdict and action
        if same is not None:  # (before the check below: a push cut short is no conflict
            return Stored(decision=same, outbox=None, already=True)  # with itself)
    theirs = _theirs(conn, kind, code, seen)
    mine = {**_shown(ours), "requisition": code, "target_kind": kind}
    if theirs is not None:
        raise TeamConflict(
            f"{theirs['decided_by'] or 'another buyer'} decided {kind.replace('_', ' ')} {code} "
            f"({theirs['verdict']} {theirs['action']}) at {theirs['decided_at']}, after this "
            f"copy was taken: nothing was overwritten", mine, theirs)
    decision_id = store.add_decision(values)
    store.bump_version(taken, decision_id)
    outbox_id = repo.enqueue(decision=decision_id, connector=str(row["source"] or ""), key=key,
                             payload=dict(payload), at=at) if sends else None
    repo.audit(actor=str(ours.get("decided_by") or "unknown"),
               action=f"decide {values['verdict']} {payload['action']}", target=code,
               result="queued" if sends else "recorded", outbox_id=outbox_id, at=at,
               detail={"decision": decision_id, "via": actor_note,
                       "decided_at": values["decided_at"], **{k: payload.get(k) for k in (
                           "target", "base_version", "quantity", "date", "supplier")}})
    return Stored(decision=decision_id, outbox=outbox_id)
