"""Reads of the exception-message state the screens need beside :mod:`.exceptions`: when the
messages were last computed (to tell whether the plan changed since)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Index, func, select

from workbench.cache.exceptions import exception_messages
from workbench.cache.schema import decisions, outbox

#: migration 0011: what :func:`open_codes` looks messages up by
Index("ix_exception_messages_item", exception_messages.c.item, exception_messages.c.site,
      exception_messages.c.resolved_on)


#: migration 0013: the list's order among the unresolved messages
Index("ix_exception_messages_list", exception_messages.c.resolved_on,
      exception_messages.c.first_seen, exception_messages.c.code, exception_messages.c.element)


def last_refresh_at(conn: Connection) -> str | None:
    """Wall-clock UTC time of the last refresh that raised a message (None: never)."""
    found = conn.execute(select(func.max(exception_messages.c.last_seen_at))).scalar()
    return None if found is None else str(found)


def open_codes(conn: Connection, item: str, site: str | None = None
               ) -> list[tuple[str, str, str]]:
    """(element, code, first_seen) of the unresolved messages (snoozed ones too) of ``item``
    (at ``site``), oldest first, then by code."""
    t = exception_messages
    query = select(t.c.element, t.c.code, t.c.first_seen).where(
        t.c.resolved_on.is_(None), t.c.item == item)
    if site is not None:
        query = query.where(t.c.site == site)
    query = query.order_by(t.c.first_seen, t.c.code, t.c.element)
    return [(str(e), str(c), str(f)) for e, c, f in conn.execute(query)]


def _listed(day: str) -> Any:
    """Unresolved and not snoozed on ``day`` (what the Exceptions panel lists by default)."""
    t = exception_messages
    return (t.c.resolved_on.is_(None)) & (t.c.snoozed_until.is_(None) | (t.c.snoozed_until < day))


def listed_counts(conn: Connection, day: str) -> list[tuple[str, str, str, str, str, int]]:
    """(code, kind, severity, role, first_seen, count) of the messages listed on ``day``."""
    t = exception_messages
    cols = (t.c.code, t.c.kind, t.c.severity, t.c.role, t.c.first_seen)
    query = select(*cols, func.count()).where(_listed(day)).group_by(*cols)
    return [(str(c), str(k), str(s or ""), str(r or ""), str(f), int(n))
            for c, k, s, r, f, n in conn.execute(query)]


def oldest_listed(conn: Connection, day: str) -> tuple[int, str, str, str] | None:
    """(id, code, kind, first_seen) of the oldest message listed on ``day`` (then by code and
    element, as the list orders them); None: none."""
    t = exception_messages
    found = conn.execute(select(t.c.id, t.c.code, t.c.kind, t.c.first_seen).where(
        _listed(day)).order_by(t.c.first_seen, t.c.code, t.c.element).limit(1)).first()
    return None if found is None else (int(found[0]), str(found[1]), str(found[2]),
                                       str(found[3]))


def pending_writes(conn: Connection, states: tuple[str, ...]) -> list[tuple[Any, ...]]:
    """(decision id, target_kind, element, action, quantity, date, supplier, base_version) of
    every approved or modified decision whose outbox entry is in one of ``states``, in the
    order they were taken: what the plan overlays (:mod:`workbench.analysis.overlay`)."""
    d, o = decisions, outbox
    query = (select(d.c.id, d.c.target_kind, d.c.requisition, d.c.action, d.c.quantity,
                    d.c.date, d.c.supplier, d.c.base_version)
             .select_from(d.join(o, o.c.decision == d.c.id))
             .where(d.c.verdict != "reject", o.c.state.in_(list(states)))
             .order_by(d.c.id))
    return [tuple(r) for r in conn.execute(query)]
