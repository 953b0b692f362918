"""What the screens show of the exception messages: the message table of the Exceptions panel,
one message's evidence, the Overview's counts and whether the stored messages are older than the
data. The element list's views (its lines, the pegging of a line, where an order is) are in
:mod:`workbench.app.element_views`.

The operations that compute, store and change messages are in :mod:`workbench.app.exceptions`
(the CLI's); these are the screens' queries on top of them. Big answers (the message table: 350k
rows on the large demo) are built here, in the worker process, as column arrays
(:class:`~workbench.app.tables.TableData`); the UI thread only swaps them in. Importing this
module loads neither pandas nor Qt.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workbench.app.ops import cache_query
from workbench.app.tables import Col

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy import Engine

    from workbench.app.tables import TableData
    from workbench.services.exceptions import StoredMessage

#: The age bands of the Overview and of the panel's age filter (as the KPIs count them).
AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("0-2 d", 0, 3), ("3-7 d", 3, 8), ("8-14 d", 8, 15), ("15+ d", 15, None))

#: The columns of the message table (keyed by message id).
MESSAGE_COLUMNS = [
    Col("id", "ID", "int", tip="The message's number (workbench exceptions ack ID)"),
    Col("kind_label", "Message", tip="What the message says should happen"),
    Col("severity", "Severity", tip="high, medium or low"),
    Col("age_days", "Age (d)", "int", tip="Planning days since the message was first raised"),
    Col("element", "Element", tip="The order, line or record the message is about"),
    Col("item", "Item", tip="Item code"),
    Col("item_description", "Description", tip="Item description"),
    Col("site_label", "Site", tip="Site code and name"),
    Col("supplier_label", "Supplier", tip="Supplier name and code"),
    Col("due_date", "Due", "date", tip="When the element is due"),
    Col("need_date", "Needed", "date", tip="When the plan needs it"),
    Col("suggested_date", "Suggested date", "date", tip="The advice's date"),
    Col("quantity", "Qty", "qty", tip="The element's open quantity (unit beside)"),
    Col("suggested_quantity", "Suggested qty", "qty", tip="The advice's quantity"),
    Col("unit", "Unit", tip="The item's stock unit"),
    Col("days", "Days", "days", tip="Days late, early, overdue or waited (per kind)"),
    Col("state", "State", tip="open, acknowledged, snoozed or resolved"),
    Col("decision", "Decision", tip="The latest decision on it and its write-back"),
    Col("decision_version", "Version", "int",
        tip="Decisions stored on its PO line or work order so far: deciding refuses (and shows "
        "both) when another buyer decided it after this list was read"),
    Col("role", "Role", tip="Who acts on it: planner, buyer, engineering, data steward"),
    Col("age_band", "Age band", tip="Age in the Overview's bands"),
    Col("planner", "Planner", tip="The item's planner"),
    Col("buyer", "Buyer", tip="The item's buyer"),
    Col("reason", "Reason", tip="Why the message was raised"),
]


def age_band(days: int) -> str:
    return next(name for name, lo, hi in AGE_BANDS if days >= lo and (hi is None or days < hi))


def kind_label(code: str, kind: str) -> str:
    """``E01 reschedule in``."""
    return f"{code} {kind.replace('_', ' ')}".strip()


def labelled(code: str, name: str, name_first: bool = False) -> str:
    """A code with its name beside it (``P1 Plant Hamburg``, ``Westfield (S0001)``)."""
    if not code:
        return ""
    if not name or name == code:
        return code
    return f"{name} ({code})" if name_first else f"{code} {name}"


@dataclass
class ExceptionTable:
    """The message table (:data:`MESSAGE_COLUMNS`, keyed by message id, picker values of role,
    kind_label, severity, age_band, planner, buyer, supplier_label, site_label computed) with
    the planning day of the last refresh (None: never computed), the number of rows in it and
    how many messages match (``total``; more than ``rows`` when a limit cut the table)."""

    table: TableData
    planning_day: dt.date | None
    rows: int
    total: int = -1


PICKERS = ("role", "kind_label", "severity", "age_band", "state", "decision", "planner",
           "buyer", "supplier_label", "site_label")

#: what the table's text filter looks in (as its placeholder says)
SEARCHED = ("element", "item", "item_description", "reason", "kind_label", "supplier_label",
            "site_label")
#: the rows the Exceptions panel shows first (the whole table follows)
FIRST_PAGE = 500


def _row(m: StoredMessage) -> dict[str, Any]:
    """One stored message as a row of the table (the CLI-shaped :class:`StoredMessage`)."""
    msg = m.message
    decision = getattr(m, "decision", None)
    tone = ("queued" if m.state in ("acknowledged", "snoozed") else
            "late" if m.severity == "high" else "")
    return {
        "id": m.id, "code": m.code, "kind_label": kind_label(m.code, m.kind),
        "severity": m.severity, "role": m.role.replace("_", " "), "age_days": m.age_days,
        "age_band": age_band(m.age_days), "state": m.state,
        "decision": decision.label if decision is not None else "", "element": m.element,
        "decision_version": getattr(m, "decision_version", 0),
        "item": m.item, "item_description": msg.get("item_description") or "",
        "site_label": labelled(m.site, msg.get("site_name") or ""),
        "supplier_label": labelled(m.supplier, msg.get("supplier_name") or "", True),
        "planner": msg.get("planner") or "", "buyer": msg.get("buyer") or "",
        "due_date": msg.get("due_date"), "need_date": msg.get("need_date"),
        "suggested_date": msg.get("suggested_date"), "quantity": msg.get("quantity"),
        "suggested_quantity": msg.get("suggested_quantity"), "unit": msg.get("unit") or "",
        "days": msg.get("days"), "reason": msg.get("reason") or "", "tone": tone,
    }


def _listed_frame(rows: list[tuple[Any, ...]], day: dt.date, labels: dict[str, str],
                  versions: dict[tuple[str, str], int] | None = None) -> pd.DataFrame:
    """The table's rows from the list's columns (:func:`workbench.cache.exception_reads.
    listed_rows`), column by column: no message's JSON is parsed. ``versions``: (element type,
    element) -> decision version (:func:`~workbench.cache.exception_reads.element_versions`)."""
    import numpy as np
    import pandas as pd

    from workbench.cache.exception_reads import LISTED_COLUMNS

    columns = list(zip(*rows)) if rows else [() for _ in LISTED_COLUMNS]
    f = pd.DataFrame({c: pd.Series(np.asarray(v, dtype=object), dtype=object)
                      for c, v in zip(LISTED_COLUMNS, columns)})
    text = {c: f[c].fillna("").astype(str) for c in (
        "code", "kind", "severity", "role", "element", "item", "site", "supplier",
        "item_description", "unit", "site_name", "supplier_name", "planner", "buyer", "reason")}
    today = np.datetime64(day, "D")
    first = pd.to_datetime(f["first_seen"].astype(str).str[:10]).to_numpy("datetime64[D]")
    resolved = pd.to_datetime(f["resolved_on"].astype(str).str[:10], errors="coerce")
    end = np.where(resolved.isna(), today, resolved.to_numpy("datetime64[D]"))
    age = (end - first).astype(np.int64)
    snoozed = f["snoozed_until"].fillna("").astype(str).str[:10].to_numpy(object) >= day.isoformat()
    state = np.where(f["resolved_on"].notna(), "resolved", np.where(
        snoozed & f["snoozed_until"].notna(), "snoozed",
        np.where(f["acknowledged_at"].notna(), "acknowledged", "open")))
    bands = np.array([b[0] for b in AGE_BANDS], dtype=object)
    edges = np.array([b[1] for b in AGE_BANDS[1:]])
    site, site_name = text["site"], text["site_name"]
    sup, sup_name = text["supplier"], text["supplier_name"]
    site_label = np.where((site_name == "") | (site_name == site), site, site + " " + site_name)
    supplier_label = np.where((sup_name == "") | (sup_name == sup), sup,
                              sup_name + " (" + sup + ")")
    severity = text["severity"].to_numpy(object)

    def day_of(column: str) -> Any:
        return pd.to_datetime(f[column], errors="coerce").dt.date.where(f[column].notna(), None)

    return pd.DataFrame({
        "id": f["id"].astype(int), "code": text["code"],
        "kind_label": (text["code"] + " " + text["kind"].str.replace("_", " ")).str.strip(),
        "severity": severity, "age_days": age, "element": text["element"],
        "item": text["item"], "item_description": text["item_description"],
        "site_label": np.where(site == "", "", site_label),
        "supplier_label": np.where(sup == "", "", supplier_label),
        "due_date": day_of("due_date"), "need_date": day_of("need_date"),
        "suggested_date": day_of("suggested_date"), "quantity": f["quantity"].astype(float),
        "suggested_quantity": f["suggested_quantity"].astype(float), "unit": text["unit"],
        "days": f["days"].astype(float), "state": state,
        "decision": f["message_key"].map(labels).fillna("").astype(str),
        "decision_version": _versions(f, versions or {}),
        "role": text["role"].str.replace("_", " "),
        "age_band": bands[np.searchsorted(edges, age, side="right")],
        "planner": text["planner"], "buyer": text["buyer"], "reason": text["reason"],
        "tone": np.where(np.isin(state, ["acknowledged", "snoozed"]), "queued",
                         np.where(severity == "high", "late", "")),
    })


def _versions(f: pd.DataFrame, versions: dict[tuple[str, str], int]) -> Any:
    """The decision version of each row's element (0: never decided)."""
    import numpy as np

    if not versions or not len(f):
        return np.zeros(len(f), dtype=np.int64)
    keys = list(zip(f["element_type"].fillna("").astype(str), f["element"].astype(str)))
    return np.fromiter((versions.get(k, 0) for k in keys), dtype=np.int64, count=len(keys))


@cache_query
def exception_table(engine: Engine, include_closed: bool = False, *,
                    limit: int | None = None, filters: dict[str, str] | None = None
                    ) -> ExceptionTable:
    """The stored messages as the Exceptions panel shows them: open and acknowledged ones
    (with ``include_closed`` also snoozed and resolved ones), oldest first; ``filters``
    (picker -> value, as the table shows it) and ``limit`` applied in SQL. Read from the list's
    columns (migration 0013): the first page of the large demo in well under a second."""
    from workbench.app.tables import TableData
    from workbench.cache.exception_reads import element_versions, listed_rows
    from workbench.services import exceptions
    from workbench.services.message_decisions import decision_states

    day = exceptions.current_day(engine)
    with engine.connect() as conn:
        states = decision_states(conn)
        labels = {key: d.label for key, d in states.items()}
        decided: dict[str, list[str]] = {}
        for key, label in labels.items():
            decided.setdefault(label, []).append(key)
        rows, total = listed_rows(conn, day.isoformat(), include_closed=include_closed,
                                  filters=filters, decided=decided, limit=limit)
        versions = element_versions(conn)
    frame = _listed_frame(rows, day, labels, versions)[[c.name for c in MESSAGE_COLUMNS] + ["tone"]]
    table = TableData.from_frame(frame, MESSAGE_COLUMNS, "id", tone="tone", search=())
    table.haystack, table.search = None, SEARCHED  # built on the first text search
    for picker in PICKERS:
        table.distinct(picker)
    known = _last_refresh(engine) is not None
    return ExceptionTable(table, day if known else None, len(frame), total)


@dataclass(frozen=True)
class MessageDetail:
    """One message for the evidence pane: the stored state and the computed message
    (``message``: the fields of docs/exceptions.md, ``endangers`` among them)."""

    id: int
    code: str
    kind: str
    state: str
    age_days: int
    first_seen: dt.date
    acknowledged_by: str | None
    snoozed_until: dt.date | None
    message: dict[str, Any] = field(default_factory=dict)


@cache_query
def exception_detail(engine: Engine, message_id: int) -> MessageDetail | None:
    """One stored message by id (None: no such message)."""
    import json

    from workbench.cache import exceptions as repo
    from workbench.services.exceptions import current_day

    day = current_day(engine)
    with engine.connect() as conn:
        found = repo.rows(conn, ids=[message_id])
    if not found:
        return None
    r = found[0]
    first = dt.date.fromisoformat(str(r["first_seen"])[:10])
    end = dt.date.fromisoformat(str(r["resolved_on"])[:10]) if r["resolved_on"] else day
    until = r["snoozed_until"]
    return MessageDetail(int(r["id"]), str(r["code"]), str(r["kind"]),
                         repo.state_of(r, day.isoformat()), (end - first).days, first,
                         r["acknowledged_by"],
                         dt.date.fromisoformat(str(until)[:10]) if until else None,
                         json.loads(r["payload"] or "{}"))


def _last_refresh(engine: Engine) -> str | None:
    from workbench.cache.exception_reads import last_refresh_at

    with engine.connect() as conn:
        return last_refresh_at(conn)


def _utc(text: str) -> dt.datetime:
    at = dt.datetime.fromisoformat(text)
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


@cache_query
def exceptions_stale(engine: Engine) -> bool:
    """Do the stored messages predate the data? True when a sync succeeded after the last
    refresh, or when none was ever made on a cache that holds synced data."""
    from workbench.cache import exceptions as repo

    last = _last_refresh(engine)
    with engine.connect() as conn:
        syncs = [f for _c, f in repo.last_syncs(conn) if f and f != "None"]
    if not syncs:
        return False
    if last is None:
        return True
    return max(_utc(f) for f in syncs) > _utc(last)


@dataclass(frozen=True)
class ExceptionOverview:
    """The Overview's exception cards: the messages the Exceptions panel lists by default
    (open and acknowledged) counted by kind (``E01 reschedule in`` -> n), severity, role and
    age band (:data:`AGE_BANDS`); the oldest one (age in planning days, its id and kind); the
    planning day of the last refresh (None: never computed)."""

    planning_day: dt.date | None
    open_total: int
    by_kind: dict[str, int]
    by_severity: dict[str, int]
    by_role_and_age: dict[str, dict[str, int]]
    oldest_age_days: int | None
    oldest_id: int | None
    oldest_kind: str


@cache_query
def exception_overview(engine: Engine) -> ExceptionOverview:
    """Counted in the cache (one grouped query: the large demo's 245,000 messages in well
    under a second), the same messages :func:`exception_table` lists by default."""
    from workbench.cache.exception_reads import listed_counts, oldest_listed
    from workbench.services import exceptions

    day = exceptions.current_day(engine)
    with engine.connect() as conn:
        groups = listed_counts(conn, day.isoformat())
        oldest = oldest_listed(conn, day.isoformat())
    by_kind: dict[str, int] = {}
    by_severity = {"high": 0, "medium": 0, "low": 0}
    by_role: dict[str, dict[str, int]] = {}
    for code, kind, severity, role, first_seen, n in groups:
        label = kind_label(code, kind)
        by_kind[label] = by_kind.get(label, 0) + n
        by_severity[severity] = by_severity.get(severity, 0) + n
        age = (day - dt.date.fromisoformat(first_seen[:10])).days
        bands = by_role.setdefault(role.replace("_", " "), {b[0]: 0 for b in AGE_BANDS})
        bands[age_band(age)] += n
    age_days = None if oldest is None else (day - dt.date.fromisoformat(oldest[3][:10])).days
    return ExceptionOverview(
        day if _last_refresh(engine) is not None else None, sum(g[5] for g in groups),
        dict(sorted(by_kind.items())), by_severity, by_role, age_days,
        None if oldest is None else oldest[0],
        "" if oldest is None else kind_label(oldest[1], oldest[2]))
