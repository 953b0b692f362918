"""Reads of the exception-message state the screens need beside :mod:`.exceptions`: when the
messages were last computed (to tell whether the plan changed since)."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from workbench.cache.exceptions import exception_messages


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
