"""The exception messages' lasting state in the cache (table of migration 0008).

A message's identity is ``message_key`` (kind|element). Its state follows from its columns:
``resolved`` (``resolved_on`` set), ``snoozed`` (``snoozed_until`` on or after the planning day),
``acknowledged`` (``acknowledged_at`` set), else ``open``. Every move is checked against
:data:`TRANSITIONS` in :func:`check_move` (STYLE 19):

=============  ============  =============  ==========================================
from           action        to             when
=============  ============  =============  ==========================================
(none)         appear        open           a plan raises it for the first time
resolved       appear        open           raised again: a new occurrence, first seen now
open, ack.,    resolve       resolved       a plan no longer raises it (cause gone)
snoozed
open, ack.,    acknowledge   acknowledged   a user acknowledges it (again: new who/when)
snoozed
open, ack.,    snooze        snoozed        a user snoozes it until a date
snoozed
=============  ============  =============  ==========================================

A snooze whose date has passed shows the message as acknowledged or open again (computed,
nothing is written).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Connection, Float, Index, Integer, Table, Text, select

from workbench.cache import dialect
from workbench.cache.schema import decisions, metadata, outbox

exception_messages = Table(
    "exception_messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("message_key", Text, nullable=False, unique=True),
    Column("kind", Text, nullable=False),
    Column("code", Text, nullable=False),
    Column("element", Text, nullable=False),
    Column("item", Text),
    Column("site", Text),
    Column("supplier", Text),
    Column("role", Text),
    Column("severity", Text),
    Column("payload", Text),  # JSON: the latest message
    Column("first_seen", Text, nullable=False),  # planning day
    Column("first_seen_at", Text, nullable=False),  # UTC
    Column("last_seen", Text, nullable=False),
    Column("last_seen_at", Text, nullable=False),
    Column("resolved_on", Text),
    Column("resolved_at", Text),
    Column("acknowledged_by", Text),
    Column("acknowledged_at", Text),
    Column("snoozed_until", Text),
    Column("snoozed_by", Text),
    # migration 0013: what the Exceptions list shows, as columns (LIST_FIELDS)
    Column("element_type", Text),
    Column("item_description", Text),
    Column("unit", Text),
    Column("site_name", Text),
    Column("supplier_name", Text),
    Column("planner", Text),
    Column("buyer", Text),
    Column("due_date", Text),
    Column("need_date", Text),
    Column("suggested_date", Text),
    Column("quantity", Float),
    Column("suggested_quantity", Float),
    Column("days", Float),
    Column("reason", Text),
)
#: the message's fields the list reads from columns (the payload keeps the whole message)
LIST_FIELDS = ("element_type", "item_description", "unit", "site_name", "supplier_name",
               "planner", "buyer", "due_date", "need_date", "suggested_date", "quantity",
               "suggested_quantity", "days", "reason")
Index("ix_exception_messages_open", exception_messages.c.resolved_on, exception_messages.c.kind)

NEW = "(none)"
TRANSITIONS: dict[tuple[str, str], str] = {
    (NEW, "appear"): "open",
    ("resolved", "appear"): "open",
    ("open", "resolve"): "resolved",
    ("acknowledged", "resolve"): "resolved",
    ("snoozed", "resolve"): "resolved",
    ("open", "acknowledge"): "acknowledged",
    ("snoozed", "acknowledge"): "acknowledged",
    ("acknowledged", "acknowledge"): "acknowledged",
    ("open", "snooze"): "snoozed",
    ("acknowledged", "snooze"): "snoozed",
    ("snoozed", "snooze"): "snoozed",
}


class MessageStateError(ValueError):
    """A move the state table does not allow (e.g. acknowledging a resolved message)."""


def state_of(row: Mapping[str, Any], day: str) -> str:
    """The state of a stored message on planning day ``day`` (ISO date)."""
    if row.get("resolved_on"):
        return "resolved"
    if row.get("snoozed_until") and str(row["snoozed_until"]) >= day:
        return "snoozed"
    return "acknowledged" if row.get("acknowledged_at") else "open"


def check_move(state: str, action: str, what: str = "message") -> str:
    """The state after ``action``, or :class:`MessageStateError` naming the refused move."""
    after = TRANSITIONS.get((state, action))
    if after is None:
        raise MessageStateError(f"{what} is {state}: it cannot be {action}d")
    return after


@dataclass(frozen=True)
class MergeCounts:
    new: int
    still_open: int
    reappeared: int
    resolved: int


def merge(conn: Connection, messages: Sequence[Mapping[str, Any]], day: str, now: str
          ) -> MergeCounts:
    """Merge one plan's messages (dicts with the table's descriptive columns and ``payload``)
    into the stored state, inside the caller's transaction: new ones appear, known ones keep
    their first-seen day, resolved ones raised again reappear, and every open one this plan
    did not raise is resolved."""
    t = exception_messages
    stored = {r["message_key"]: dict(r) for r in conn.execute(
        select(t.c.id, t.c.message_key, t.c.resolved_on, t.c.snoozed_until,
               t.c.acknowledged_at)).mappings()}
    fields = ("kind", "code", "element", "item", "site", "supplier", "role", "severity",
              "payload", *LIST_FIELDS)
    # one tuple per message in the statement's column order (no dict per message: a refresh
    # of the large demo merges ~240k messages)
    inserts: list[tuple[Any, ...]] = []
    updates: list[tuple[Any, ...]] = []
    reopen: list[tuple[Any, ...]] = []
    for m in messages:
        key = str(m["message_key"])
        row = stored.pop(key, None)
        values = tuple(m.get(f) for f in fields)
        if row is None:
            check_move(NEW, "appear")
            inserts.append((key, *values, day, now, day, now))
        elif row["resolved_on"]:
            check_move("resolved", "appear")
            reopen.append((*values, day, now, day, now, row["id"]))
        else:
            updates.append((*values, day, now, row["id"]))
    gone = [r["id"] for r in stored.values() if not r["resolved_on"]]
    for r in stored.values():
        if not r["resolved_on"]:
            check_move(state_of(r, day), "resolve")
    cur = dialect.raw_cursor(conn)
    if inserts:
        cols = ["message_key", *fields, "first_seen", "first_seen_at", "last_seen",
                "last_seen_at"]
        cur.executemany(f"INSERT INTO exception_messages ({', '.join(cols)}) VALUES "
                        f"({', '.join('?' for _ in cols)})", inserts)
    setters = ", ".join(f"{f} = ?" for f in fields)
    if updates:
        cur.executemany(f"UPDATE exception_messages SET {setters}, last_seen = ?, "
                        "last_seen_at = ? WHERE id = ?", updates)
    if reopen:
        cur.executemany(f"UPDATE exception_messages SET {setters}, first_seen = ?, "
                        "first_seen_at = ?, last_seen = ?, last_seen_at = ?, resolved_on = NULL,"
                        " resolved_at = NULL, acknowledged_by = NULL, acknowledged_at = NULL, "
                        "snoozed_until = NULL, snoozed_by = NULL WHERE id = ?", reopen)
    if gone:
        cur.executemany("UPDATE exception_messages SET resolved_on = ?, resolved_at = ? "
                        "WHERE id = ?", [(day, now, i) for i in gone])
    cur.close()
    return MergeCounts(len(inserts), len(updates), len(reopen), len(gone))


def rows(conn: Connection, *, include_resolved: bool = False,
         ids: Iterable[int] | None = None) -> list[dict[str, Any]]:
    """Stored messages (open ones unless ``include_resolved``; or exactly ``ids``)."""
    t = exception_messages
    query = select(t).order_by(t.c.id)
    if ids is not None:
        query = query.where(t.c.id.in_(list(ids)))
    elif not include_resolved:
        query = query.where(t.c.resolved_on.is_(None))
    return [dict(r) for r in conn.execute(query).mappings()]


def apply(conn: Connection, ids: Sequence[int], action: str, by: str, day: str, now: str,
          until: dt.date | None = None) -> list[int]:
    """Acknowledge or snooze (until ``until``) the messages ``ids``: every move checked
    first, nothing written unless all are allowed. Unknown ids are refused by name."""
    found = {r["id"]: r for r in rows(conn, ids=ids)}
    missing = [i for i in ids if i not in found]
    if missing:
        raise MessageStateError(f"no exception message with id {', '.join(map(str, missing))}")
    for i in ids:
        check_move(state_of(found[i], day), action, f"message {i}")
    raw = dialect.raw_cursor(conn)
    if action == "acknowledge":
        raw.executemany("UPDATE exception_messages SET acknowledged_by = ?, acknowledged_at = ?,"
                        " snoozed_until = NULL, snoozed_by = NULL WHERE id = ?",
                        [(by, now, i) for i in ids])
    else:
        assert until is not None
        raw.executemany("UPDATE exception_messages SET snoozed_until = ?, snoozed_by = ? "
                        "WHERE id = ?", [(until.isoformat(), by, i) for i in ids])
    return list(ids)


def message_row(conn: Connection, message_id: int) -> dict[str, Any] | None:
    """The stored message ``message_id`` (resolved ones too), or None."""
    found = rows(conn, ids=[message_id])
    return found[0] if found else None


def latest_decisions(conn: Connection, keys: Iterable[str] | None = None
                     ) -> dict[str, dict[str, Any]]:
    """message_key -> its latest decision (``decisions`` columns as ``decision``, ``verdict``,
    ``action``, ``quantity``, ``date``, ``decided_by``, ``decided_at``, with its write-back:
    ``outbox``, ``outbox_state``), for the messages ``keys`` (all decided ones when None)."""
    query = (select(decisions.c.id.label("decision"), decisions.c.message_key,
                    decisions.c.verdict, decisions.c.action, decisions.c.quantity,
                    decisions.c.date, decisions.c.decided_by, decisions.c.decided_at,
                    outbox.c.id.label("outbox"), outbox.c.state.label("outbox_state"))
             .select_from(decisions.outerjoin(outbox, outbox.c.decision == decisions.c.id))
             .where(decisions.c.message_key.is_not(None))
             .order_by(decisions.c.id))
    if keys is not None:
        wanted = list(keys)
        if not wanted:
            return {}
        query = query.where(decisions.c.message_key.in_(wanted)) if len(wanted) < 500 \
            else query
    out: dict[str, dict[str, Any]] = {}
    for r in conn.execute(query).mappings():
        out[str(r["message_key"])] = dict(r)
    return out


def ack_cycle_rows(conn: Connection) -> list[tuple[str, str]]:
    """(order date, acknowledgement date) of every PO line acknowledged, both known."""
    return [(str(a), str(b)) for a, b in conn.exec_driver_sql(
        "SELECT po.order_date, l.ack_date FROM purchase_order_lines l JOIN purchase_orders po "
        "ON po.code = l.purchase_order WHERE l.deleted_at IS NULL AND po.deleted_at IS NULL "
        "AND l.ack_date IS NOT NULL AND po.order_date IS NOT NULL")]


def last_syncs(conn: Connection) -> list[tuple[str, str]]:
    """(connector, finish time of its last succeeded sync run)."""
    return [(str(c), str(f)) for c, f in conn.exec_driver_sql(
        "SELECT connector, max(finished_at) FROM sync_runs WHERE status = 'succeeded' "
        "GROUP BY connector ORDER BY connector")]


def site_names(conn: Connection) -> dict[str, str]:
    return {str(c): str(n or "") for c, n in conn.exec_driver_sql(
        "SELECT code, name FROM sites WHERE deleted_at IS NULL")}


def last_seen(conn: Connection) -> str | None:
    """The latest ``last_seen`` of the stored messages: the planning day of the last refresh
    (None before any)."""
    found = conn.exec_driver_sql("SELECT max(last_seen) FROM exception_messages").scalar()
    return None if found is None else str(found)
