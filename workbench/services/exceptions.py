"""Exception messages on the cache: compute them for the current plan, keep their state across
plans and syncs, acknowledge or snooze them, and the KPIs the Overview shows.

:func:`refresh_exceptions` computes every message of the session's plan
(:mod:`workbench.analysis.exceptions`) and merges it into the stored state in one transaction
(:mod:`workbench.cache.exceptions`: identity kind|element, first seen kept, messages no longer
raised resolved). Ages are counted in planning days (the cache's as-of day), so the demo a
week later (``sync --demo --day 7``) shows messages open for 7 days. Results are typed
dataclasses; JSON is made at the CLI edge.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import statistics
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from workbench.analysis.elements import ElementList, element_list
from workbench.analysis.exceptions import (
    NAME_COLUMNS,
    ExceptionList,
    ExceptionMessage,
    ExceptionSettings,
    cell_value,
    compute_exceptions,
)
from workbench.analysis.lots import COUNT_UNIT_CODES, count_units
from workbench.analysis.session import PlanningSession
from workbench.cache import exceptions as repo
from workbench.cache.exception_reads import element_versions
from workbench.cache.readmodels import unit_frames
from workbench.services.message_decisions import DecisionState, decision_states
from workbench.services.planning import plain

#: Age bands of the KPIs (days open: lower bound inclusive, upper exclusive; None: no bound).
AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("0-2 d", 0, 3), ("3-7 d", 3, 8), ("8-14 d", 8, 15), ("15+ d", 15, None))


@dataclass(frozen=True)
class RefreshResult:
    planning_day: dt.date
    new: int
    still_open: int
    reappeared: int
    resolved: int
    by_kind: dict[str, int]


@dataclass(frozen=True)
class StoredMessage:
    """A message with its lasting state; ``message`` is the latest computed message."""

    id: int
    key: str
    code: str
    kind: str
    element: str
    item: str
    site: str
    supplier: str
    role: str
    severity: str
    state: str
    first_seen: dt.date
    last_seen: dt.date
    age_days: int
    resolved_on: dt.date | None
    acknowledged_by: str | None
    acknowledged_at: str | None
    snoozed_until: dt.date | None
    snoozed_by: str | None
    message: dict[str, Any] = field(default_factory=dict)
    #: the latest decision on it and its write-back (None: undecided; see
    #: :mod:`workbench.services.message_decisions`)
    decision: DecisionState | None = None
    #: the decision version of its element (a PO line or work order; 0: never decided): what a
    #: decision on it is made on (``expected_version``, issue 17 §2)
    decision_version: int = 0

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = plain(asdict(self))
        return out


@dataclass(frozen=True)
class ExceptionKpis:
    """The Overview's exception KPIs (background document): open messages by role and age
    band, PO acknowledgement cycle time (order date to acknowledgement, days), work orders
    endangered (named by an open message or among its pegged demands), sync lag per source
    (hours since its last succeeded sync)."""

    planning_day: dt.date | None
    open_by_role_and_age: dict[str, dict[str, int]]
    ack_cycle_days_median: float | None
    ack_cycle_days_mean: float | None
    ack_cycle_lines: int
    work_orders_endangered: int
    sync_lag_hours: dict[str, float]


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def compute(session: PlanningSession, settings: ExceptionSettings | None = None,
            site_names: dict[str, str] | None = None,
            counts: frozenset[str] = COUNT_UNIT_CODES) -> ExceptionList:
    """The messages of the session's plan; ``counts``: the codes of the count units (E04/E05
    suggest whole units of them, :func:`count_unit_codes`)."""
    plan = session.plan()
    return compute_exceptions(session.data, plan, None, settings, site_names=site_names,
                              count_units=counts)


def count_unit_codes(engine: Engine) -> frozenset[str]:
    """The codes of the count units of the cache's units table (category ``count``; the usual
    count codes when it has none), as the requisition advice reads them
    (:func:`workbench.services.reevaluate.unit_facts_from`)."""
    uoms, _ = unit_frames(engine)
    return count_units(uoms)


@dataclass(frozen=True)
class ComputedMessages:
    """The messages of one plan, ready to merge into the stored state: ``rows`` are the cache
    rows (message_key, kind, code, element, item, site, supplier, role, severity, payload as
    JSON text, see :func:`workbench.cache.exceptions.merge`), ``by_kind`` the count per kind."""

    planning_day: dt.date
    rows: list[dict[str, Any]]
    by_kind: dict[str, int]


def site_names(engine: Engine) -> dict[str, str]:
    """Site code -> name (the messages name sites by both)."""
    with engine.connect() as conn:
        return dict(repo.site_names(conn))


def compute_messages(session: PlanningSession, settings: ExceptionSettings | None = None,
                     names: dict[str, str] | None = None,
                     counts: frozenset[str] = COUNT_UNIT_CODES) -> ComputedMessages:
    """Every message of the session's plan as rows for :func:`store_messages`
    (:func:`message_rows`); ``counts``: the count units (:func:`compute`)."""
    result = compute(session, settings, names, counts)
    return ComputedMessages(result.planning_day, message_rows(result), result.counts())


#: the rows' descriptive columns, then ``payload``, then :data:`repo.LIST_FIELDS`
_ROW_HEAD = ("kind", "code", "element", "item", "site", "supplier", "role", "severity")
_DATES = ("due_date", "need_date", "suggested_date")


def message_rows(result: ExceptionList) -> list[dict[str, Any]]:
    """The cache rows of every message of ``result``: ``message_key``, the descriptive columns,
    ``payload`` (the message as JSON: ``plain(asdict(message))`` dumped, every field of
    :class:`~workbench.analysis.exceptions.ExceptionMessage` in order) and the list's columns
    (:data:`workbench.cache.exceptions.LIST_FIELDS`, dates as ISO text).

    Column by column: each column's distinct values are converted (as
    :meth:`ExceptionMessage.from_row` then :func:`plain` do) and dumped once, each endangered
    demand entry dumped once (messages on one receipt share them), and each message's JSON is
    its fields' texts joined. The same rows and the same JSON text as building a typed message,
    ``asdict`` and ``json.dumps`` per message (tests/foundation/test_exception_rows.py), which
    took 4.7 s CPU for the medium demo's 24,517 messages (``compute`` itself 0.6 s). Endangered
    demands kept as columns (``result.endangered``) are written from them
    (:meth:`~workbench.analysis.exceptions.Endangered.json_texts`: no dict per entry; the same
    text, tests/foundation/test_exception_json.py)."""
    frame = result.frame
    n = len(frame)
    names = [f.name for f in fields(ExceptionMessage)]
    values: dict[str, list[Any]] = {}
    texts: list[list[str]] = []
    for name in names:
        if name == "endangers":
            if result.endangered is not None:  # straight from the columns: no dicts
                texts.append(result.endangered.json_texts())
            else:
                texts.append(_endangers_json(frame["endangers"].tolist() if name in frame
                                             else [None] * n))
            continue
        if name in frame:
            py, dumped = _column(frame[name])
        else:  # as ExceptionMessage.from_row: "" for a name column, else None
            default = "" if name in NAME_COLUMNS else None
            py, dumped = [default] * n, [json.dumps(default)] * n
        values[name] = py
        texts.append(_prefixed(json.dumps(name) + ": ", dumped))
    payloads = ["{" + ", ".join(parts) + "}" for parts in zip(*texts)]
    shown = {f: ([None if v is None else str(v) for v in values[f]] if f in _DATES
                 else values[f]) for f in repo.LIST_FIELDS}
    columns = [values["key"], *(values[c] for c in _ROW_HEAD), payloads,
               *(shown[f] for f in repo.LIST_FIELDS)]
    keys = ("message_key", *_ROW_HEAD, "payload", *repo.LIST_FIELDS)
    return [dict(zip(keys, row)) for row in zip(*columns)]


def _prefixed(prefix: str, texts: list[str]) -> list[str]:
    """``prefix + text`` of every text, made once per distinct text."""
    made: dict[str, str] = {}
    return [made.get(t) or made.setdefault(t, prefix + t) for t in texts]


def _plain_value(value: Any) -> Any:
    """A frame value as :meth:`ExceptionMessage.from_row` then :func:`plain` leave it."""
    if type(value) is str:
        return value
    return plain(cell_value(value))


def _column(series: pd.Series) -> tuple[list[Any], list[str]]:
    """A column's values as the payload holds them and their JSON texts, each distinct value
    converted and dumped once (dates factorised as day numbers, NaT kept)."""
    arr = series.to_numpy()
    if arr.dtype.kind == "M":
        days = arr.astype("datetime64[D]")
        codes, distinct_days = pd.factorize(days.view(np.int64), use_na_sentinel=False)
        distinct: list[Any] = [_plain_value(d) for d in
                               np.asarray(distinct_days, np.int64).view("datetime64[D]")]
    else:
        codes, found = pd.factorize(arr if arr.dtype.kind == "f" else arr.astype(object),
                                    use_na_sentinel=False)
        distinct = [_plain_value(v) for v in np.asarray(found, dtype=object).tolist()] \
            if arr.dtype.kind != "f" else [_plain_value(float(v)) for v in found]
    dumped = [_dumped(v) for v in distinct]
    at = codes.tolist()
    return [distinct[i] for i in at], [dumped[i] for i in at]


def _dumped(value: Any) -> str:
    """``json.dumps(value, default=str)``; a str straight through the encoder's C escaping
    (what ``json.dumps`` does with one)."""
    return _ESCAPE(value) if type(value) is str else json.dumps(value, default=str)


_ESCAPE = json.encoder.encode_basestring_ascii
_ENTRY_KEYS = ("peg", "due_date", "quantity")


def _endangers_json(lists: list[Any]) -> list[str]:
    """``"endangers": [...]`` of every message, each entry (a dict, shared by the messages on
    one receipt) dumped once: an entry of a str peg, a date (or None) and a float by formatting
    its three texts (each peg and date dumped once), as ``json.dumps(plain(entry))`` writes
    it; any other entry by ``json.dumps``."""
    made: dict[int, str] = {}
    pegs: dict[str, str] = {}
    days: dict[Any, str] = {None: "null"}

    def entry(e: Any) -> str:
        found = made.get(id(e))
        if found is not None:
            return found
        peg, day, qty = (e.get(k) for k in _ENTRY_KEYS) if type(e) is dict else (None,) * 3
        if (type(e) is dict and tuple(e) == _ENTRY_KEYS and type(peg) is str
                and (day is None or type(day) is dt.date) and type(qty) is float
                and math.isfinite(qty)):
            text = pegs.get(peg) or pegs.setdefault(peg, _ESCAPE(peg))
            when = days.get(day) or days.setdefault(day, f'"{day}"')
            found = (f'{{"peg": {text}, "due_date": {when}, "quantity": '
                     f"{float.__repr__(round(qty, 6) + 0.0)}}}")
        else:
            found = json.dumps(plain(e), default=str)
        made[id(e)] = found
        return found

    return ['"endangers": [' + ", ".join(entry(e) for e in x) + "]" if isinstance(x, list)
            else '"endangers": ' + json.dumps(_plain_value(x), default=str) for x in lists]


def store_messages(engine: Engine, computed: ComputedMessages) -> RefreshResult:
    """Merge computed messages into the stored state in one transaction (module doc)."""
    with engine.begin() as conn:
        counts = repo.merge(conn, computed.rows, computed.planning_day.isoformat(), _now())
    return RefreshResult(computed.planning_day, counts.new, counts.still_open,
                         counts.reappeared, counts.resolved, computed.by_kind)


def refresh_exceptions(engine: Engine, session: PlanningSession,
                       settings: ExceptionSettings | None = None) -> RefreshResult:
    """Compute the messages of the session's plan and merge them into the stored state in one
    transaction (module doc): :func:`site_names`, :func:`compute_messages` (with the cache's
    count units, :func:`count_unit_codes`), :func:`store_messages`."""
    return store_messages(engine, compute_messages(session, settings, site_names(engine),
                                                   count_unit_codes(engine)))


def _date(text: Any) -> dt.date | None:
    return dt.date.fromisoformat(str(text)[:10]) if text else None


def current_day(engine: Engine) -> dt.date:
    """The planning day of the last refresh (the wall-clock day before any)."""
    with engine.connect() as conn:
        found = repo.last_seen(conn)
    return _date(found) or dt.date.today()


def _stored(row: dict[str, Any], day: dt.date,
            decisions: dict[str, DecisionState] | None = None,
            versions: dict[tuple[str, str], int] | None = None) -> StoredMessage:
    first = _date(row["first_seen"]) or day
    return StoredMessage(
        id=int(row["id"]), key=row["message_key"], code=row["code"], kind=row["kind"],
        element=row["element"], item=row["item"] or "", site=row["site"] or "",
        supplier=row["supplier"] or "", role=row["role"] or "", severity=row["severity"] or "",
        state=repo.state_of(row, day.isoformat()), first_seen=first,
        last_seen=_date(row["last_seen"]) or day,
        age_days=((_date(row["resolved_on"]) or day) - first).days,
        resolved_on=_date(row["resolved_on"]), acknowledged_by=row["acknowledged_by"],
        acknowledged_at=row["acknowledged_at"], snoozed_until=_date(row["snoozed_until"]),
        snoozed_by=row["snoozed_by"], message=json.loads(row["payload"] or "{}"),
        decision=(decisions or {}).get(row["message_key"]),
        decision_version=(versions or {}).get(
            (str(row.get("element_type") or ""), str(row["element"])), 0))


def list_exceptions(engine: Engine, *, day: dt.date | None = None, role: str | None = None,
                    kind: str | None = None, site: str | None = None,
                    supplier: str | None = None, min_age: int | None = None,
                    include_snoozed: bool = False, include_resolved: bool = False
                    ) -> list[StoredMessage]:
    """Stored messages filtered (``kind``: a kind name or its code), open and acknowledged
    ones (snoozed and resolved only when asked), oldest first."""
    day = day or current_day(engine)
    with engine.connect() as conn:
        stored = repo.rows(conn, include_resolved=include_resolved)
        decided = decision_states(conn)
        versions = element_versions(conn)
        found = [_stored(r, day, decided, versions) for r in stored]
    out = [m for m in found
           if (role is None or m.role == role) and (kind is None or kind in (m.kind, m.code))
           and (site is None or m.site == site) and (supplier is None or m.supplier == supplier)
           and (min_age is None or m.age_days >= min_age)
           and (include_snoozed or m.state != "snoozed")]
    out.sort(key=lambda m: (-m.age_days, m.code, m.element))
    return out


def acknowledge(engine: Engine, ids: list[int], by: str) -> list[int]:
    """Acknowledge messages (all or none: a refused move raises
    :class:`~workbench.cache.exceptions.MessageStateError`)."""
    day = current_day(engine).isoformat()
    with engine.begin() as conn:
        return repo.apply(conn, ids, "acknowledge", by, day, _now())


def snooze(engine: Engine, ids: list[int], until: dt.date, by: str) -> list[int]:
    """Snooze messages until ``until`` (inclusive; all or none)."""
    day = current_day(engine)
    if until < day:
        raise repo.MessageStateError(f"snooze until {until}: that is before the planning day "
                                     f"{day}")
    with engine.begin() as conn:
        return repo.apply(conn, ids, "snooze", by, day.isoformat(), _now(), until)


def exception_kpis(engine: Engine, now: dt.datetime | None = None) -> ExceptionKpis:
    """The KPIs (see :class:`ExceptionKpis`) from the stored state and the cache."""
    day = current_day(engine)
    now = now or dt.datetime.now(dt.UTC)
    messages = list_exceptions(engine, day=day, include_snoozed=True)
    table: dict[str, dict[str, int]] = {}
    work_orders: set[str] = set()
    for m in messages:
        band = next(name for name, lo, hi in AGE_BANDS
                    if m.age_days >= lo and (hi is None or m.age_days < hi))
        by_role = table.setdefault(m.role, {name: 0 for name, _, _ in AGE_BANDS})
        by_role[band] += 1
        if m.message.get("element_type") == "work_order":
            work_orders.add(m.element.removeprefix("work_order:"))
        for peg in m.message.get("endangers") or []:
            if str(peg.get("peg", "")).startswith("work_order:"):
                work_orders.add(str(peg["peg"]).removeprefix("work_order:"))
    with engine.connect() as conn:
        cycles = [(d2 - d1).days for a, b in repo.ack_cycle_rows(conn)
                  if (d1 := _date(a)) is not None and (d2 := _date(b)) is not None]
        syncs = repo.last_syncs(conn)
    lag = {}
    for connector, finished in syncs:
        at = dt.datetime.fromisoformat(finished)
        at = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
        lag[connector] = round((now - at).total_seconds() / 3600.0, 3)
    return ExceptionKpis(
        day if messages else None, table,
        float(statistics.median(cycles)) if cycles else None,
        round(statistics.fmean(cycles), 3) if cycles else None, len(cycles),
        len(work_orders), lag)


def element_codes(engine: Engine, item: str, site: str | None = None) -> dict[str, str]:
    """Element -> the codes (comma-separated) of the stored open messages of ``item`` (at
    ``site``), snoozed ones included: the exception column of the element list."""
    codes: dict[str, str] = {}
    day = current_day(engine)
    for m in list_exceptions(engine, day=day, include_snoozed=True):
        if m.item == item and (site is None or m.site == site):
            codes[m.element] = ",".join(filter(None, [codes.get(m.element, ""), m.code]))
    return codes


def elements(session: PlanningSession, item: str, site: str | None = None,
             bucket: str = "week", engine: Engine | None = None,
             codes: dict[str, str] | None = None) -> ElementList:
    """The element list of ``item`` at ``site`` (the item's only or first site when not
    given), exception codes from ``codes`` or, when ``engine`` is given, from the stored open
    messages (:func:`element_codes`)."""
    if codes is None:
        codes = element_codes(engine, item, site) if engine is not None else {}
    return element_list(session.plan(), session.data, item, site, bucket, codes)
