"""Reads of the exception-message state the screens need beside :mod:`.exceptions`: when the
messages were last computed (to tell whether the plan changed since)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Index, and_, false, func, select, true

from workbench.cache import dialect
from workbench.cache.exceptions import LIST_FIELDS, exception_messages
from workbench.cache.schema import decision_versions, decisions, outbox

#: migration 0011: what :func:`open_codes` looks messages up by
Index("ix_exception_messages_item", exception_messages.c.item, exception_messages.c.site,
      exception_messages.c.resolved_on)


#: migration 0014: the last refresh's planning day and time (max of each, read per list)
Index("ix_exception_messages_last_seen", exception_messages.c.last_seen)
Index("ix_exception_messages_last_seen_at", exception_messages.c.last_seen_at)
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


#: the columns :func:`listed_rows` returns, in order
LISTED_COLUMNS = ("id", "message_key", "code", "kind", "severity", "role", "element", "item",
                  "site", "supplier", "first_seen", "resolved_on", "acknowledged_at",
                  "snoozed_until", *LIST_FIELDS)


def _state_sql(state: str, day: str) -> Any:
    t = exception_messages
    unresolved = t.c.resolved_on.is_(None)
    snoozed = t.c.snoozed_until.is_not(None) & (t.c.snoozed_until >= day)
    return {"resolved": t.c.resolved_on.is_not(None),
            "snoozed": unresolved & snoozed,
            "acknowledged": unresolved & ~snoozed & t.c.acknowledged_at.is_not(None),
            "open": unresolved & ~snoozed & t.c.acknowledged_at.is_(None)}.get(state, false())


def _age_sql(day: str) -> Any:
    t = exception_messages
    return dialect.days_between(func.coalesce(t.c.resolved_on, day), t.c.first_seen)


def _filter_sql(name: str, value: str, day: str, keys: list[str] | None) -> Any:
    """The SQL condition of one picker of the Exceptions list (values as the list shows them:
    ``E01 reschedule in``, ``data steward``, ``3-7 d``, ``Acme (S1)``, ``P1 Plant 1``)."""
    t = exception_messages
    if name == "kind_label":
        return t.c.code == value.split(" ")[0]
    if name == "role":
        return t.c.role == value.replace(" ", "_")
    if name in ("severity", "planner", "buyer"):
        return t.c[name] == value
    if name == "state":
        return _state_sql(value, day)
    if name == "age_band":
        low, _, high = value.removesuffix(" d").replace("+", "-").partition("-")
        age = _age_sql(day)
        cond = age >= int(low)
        return cond & (age <= int(high)) if high.strip() else cond
    if name == "supplier_label":
        return (t.c.supplier == value) | (
            (t.c.supplier_name + " (" + t.c.supplier + ")") == value)
    if name == "site_label":
        return (t.c.site == value) | ((t.c.site + " " + t.c.site_name) == value)
    if name == "decision":
        return t.c.message_key.in_(keys or [])
    raise ValueError(f"no such filter of the exception list: {name!r}")


def listed_rows(conn: Connection, day: str, *, include_closed: bool = False,
                filters: dict[str, str] | None = None,
                decided: dict[str, list[str]] | None = None, limit: int | None = None
                ) -> tuple[list[tuple[Any, ...]], int]:
    """(rows of :data:`LISTED_COLUMNS`, how many match) of the messages the Exceptions list
    shows on ``day``: unresolved and not snoozed (``include_closed``: all), filtered by the
    pickers ``filters`` (column -> value; ``decided``: decision label -> message keys), oldest
    first, then by code and element, at most ``limit``."""
    t = exception_messages
    where = [] if include_closed else [_listed(day)]
    for name, value in (filters or {}).items():
        if value:
            where.append(_filter_sql(name, value, day, (decided or {}).get(value)))
    cond = and_(true(), *where)
    order = [t.c.first_seen, t.c.code, t.c.element] if not include_closed else \
        [_age_sql(day).desc(), t.c.code, t.c.element]
    query = select(*(t.c[c] for c in LISTED_COLUMNS)).where(cond).order_by(*order)
    if limit is not None:
        query = query.limit(limit)
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    raw = conn.connection.driver_connection
    assert raw is not None
    # the driver's cursor straight: 242,000 rows fetched in a fraction of SQLAlchemy's time
    # (SQLite's compiled SQL takes positional parameters, psycopg's named ones)
    params: Any = ([compiled.params[k] for k in compiled.positiontup]
                   if compiled.positiontup is not None else compiled.params)
    rows: list[tuple[Any, ...]] = raw.execute(str(compiled), params).fetchall()
    total = len(rows) if limit is None or len(rows) < limit else int(
        conn.execute(select(func.count()).select_from(t).where(cond)).scalar() or 0)
    return rows, total


def element_versions(conn: Connection) -> dict[tuple[str, str], int]:
    """(element type, element) -> decision version of every PO line and work order decided at
    least once (issue 17 §2; any other element: version 0). A small table read whole, so the
    list's own query stays as it is: what the Exceptions list and ``workbench exceptions``
    show as the version a decision is made on (``expected_version``)."""
    v = decision_versions
    query = select(v.c.target_kind, v.c.target, v.c.version).where(
        v.c.target_kind.in_(["purchase_order_line", "work_order"]))
    return {(str(k), str(t)): int(n) for k, t, n in conn.execute(query)}
