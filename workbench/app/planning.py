"""The planning questions: shortages (the table, one row's timeline, the CLI's answer), the
planning counts of the Overview, where-used, the impact of a revision change, what-if.

Every function is an operation (:mod:`workbench.app.ops`): a ``planning_query`` runs as
``fn(session, ...)`` on the planning session — in the planner process for the screens, inline for
the CLI — so a screen and ``workbench shortages`` ask literally the same function. Big answers
(the shortage table: 80,000 rows on the medium demo) are built here, in the worker process, as
column arrays (:class:`~workbench.app.tables.TableData`); the UI thread only swaps them in.

Rules live in :mod:`workbench.analysis`, the session and its typed answers in
:mod:`workbench.services.planning`. Importing this module loads neither pandas nor Qt.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from workbench.app.ops import planning_query

if TYPE_CHECKING:
    import pandas as pd

    from workbench.analysis.session import PlanningSession
    from workbench.app.tables import TableData
    from workbench.services.planning import Impact, Shortages, WhatIf, WhereUsedAnswer


@planning_query
def planning_day(session: PlanningSession) -> dt.date:
    """The day the session plans from (the cache's as-of day unless set)."""
    return session.today


@planning_query
def shortages(session: PlanningSession, *, item: str | None = None, site: str | None = None,
              risk_adjusted: bool = False, details: bool | None = None,
              limit: int | None = None) -> Shortages:
    """Rows short in the horizon (or every row of ``item``), with MRP records and pegging when
    ``details`` (default: when an item is named); :func:`workbench.services.planning.shortages`."""
    from workbench.services import planning

    return planning.shortages(session, item=item, site=site, risk_adjusted=risk_adjusted,
                              details=details, limit=limit)


def _shortage_frame(session: PlanningSession) -> pd.DataFrame:
    """Rows short in the horizon (the columns of :attr:`Shortages.rows`, floats to 6 decimals
    as the JSON answer has them) with the item's description, planner and buyer."""
    import pandas as pd

    from workbench.app.columns import SHORTAGE_COLUMNS
    from workbench.services import planning

    rows = planning.shortages(session).rows
    if rows.empty:
        return pd.DataFrame(columns=[c.name for c in SHORTAGE_COLUMNS])
    floats = rows.select_dtypes("float").columns  # Python's round, as the JSON answer has it
    rows = rows.assign(**{c: [round(v, 6) + 0.0 for v in rows[c].tolist()] for c in floats})
    items = session.data.items[["code", "description", "planner", "buyer"]]
    return rows.merge(items, left_on="item", right_on="code", how="left").drop(columns="code")


@planning_query
def shortage_table(session: PlanningSession) -> TableData:
    """The shortage table as column arrays (:data:`workbench.app.columns.SHORTAGE_COLUMNS`),
    keyed by (item, site), with the site, planner and buyer picker values computed."""
    from workbench.app.columns import SHORTAGE_COLUMNS
    from workbench.app.tables import TableData

    table = TableData.from_frame(_shortage_frame(session), SHORTAGE_COLUMNS, ["item", "site"])
    for picker in ("site", "planner", "buyer"):
        table.distinct(picker)
    return table


@dataclass
class Timeline:
    """What the chart and pegging table of one (item, site) show: ``record`` is its MRP record
    (date, gross_requirements, scheduled_receipts, projected_available, net_requirements,
    planned_receipts, planned_releases, ...), ``risk_record`` the same in the risk-adjusted plan
    (None: not asked), ``pegs`` its requirements (the columns of
    :data:`workbench.app.columns.PEG_COLUMNS`: date, quantity, kind, ref, pegged_to)."""

    item: str
    site: str
    safety_stock: float
    record: pd.DataFrame
    risk_record: pd.DataFrame | None
    pegs: pd.DataFrame


@planning_query
def timeline(session: PlanningSession, item: str, site: str, risk: bool) -> Timeline:
    import pandas as pd

    from workbench.app.columns import PEG_COLUMNS
    from workbench.app.tables import format_value
    from workbench.services import planning
    from workbench.services.planning import plain, records

    answer = planning.shortages(session, item=item, site=site, details=True)
    detail = answer.detail(item, site)
    safety = answer.rows.loc[answer.rows["site"] == site, "safety_stock"].iloc[0]
    risk_record = None
    if risk:
        risky = planning.shortages(session, item=item, site=site, details=True,
                                   risk_adjusted=True)
        risk_record = pd.DataFrame(records(risky.detail(item, site).record))
    pegs = pd.DataFrame([
        {"date": plain(r.date), "quantity": plain(r.quantity), "kind": r.kind.replace("_", " "),
         "ref": r.ref,
         "pegged_to": ", ".join(f"{p.peg} ({format_value(plain(p.quantity), 'qty')})"
                                for p in r.pegs)}
        for r in detail.requirements
    ], columns=[c.name for c in PEG_COLUMNS])
    return Timeline(item, site, 0.0 if pd.isna(safety) else float(safety),
                    pd.DataFrame(records(detail.record)), risk_record, pegs)


@dataclass(frozen=True)
class PlanningCounts:
    """The Overview's planning cards: item/site rows short in the horizon, distinct items among
    them, the first shortage date (None: none) and the open PO lines already late."""

    planning_day: dt.date
    short_rows: int
    short_items: int
    first: dt.date | None
    late_po_lines: int


def _late_po_lines(session: PlanningSession) -> int:
    """Open PO lines (the supply the plan counts: open status, open order header, something still
    to come) whose promised date (else requested date) is before the planning day."""
    from workbench.analysis.data import day_number
    from workbench.analysis.sources import open_purchase_lines

    lines = open_purchase_lines(session.data)
    return int((lines["due_day"] < day_number(session.today)).sum())


@planning_query
def planning_counts(session: PlanningSession) -> PlanningCounts:
    from workbench.services import planning
    from workbench.services.planning import plain

    short = planning.shortages(session)
    first = short.rows["first_shortage_date"].min() if len(short.rows) else None
    return PlanningCounts(session.today, short.rows_total, int(short.rows["item"].nunique()),
                          plain(first), _late_po_lines(session))


@planning_query
def where_used(session: PlanningSession, item: str, *, on: dt.date | None = None,
               include_drafts: bool = False, include_obsolete: bool = False,
               multi_level: bool = True, site: str | None = None, max_paths: int = 1000,
               all_revisions: bool = False) -> WhereUsedAnswer:
    """Where ``item`` is used through the BOMs in force on ``on`` (default: the planning day),
    as ``workbench where-used ITEM --on DATE`` answers it
    (:func:`workbench.services.planning.where_used`)."""
    from workbench.services import planning

    return planning.where_used(session, item, as_of=on, include_drafts=include_drafts,
                               include_obsolete=include_obsolete, multi_level=multi_level,
                               site=site, max_paths=max_paths, all_revisions=all_revisions)


@planning_query
def impact(session: PlanningSession, item: str, rev_a: str, rev_b: str,
           on: dt.date | None = None) -> Impact:
    """The impact of switching ``item`` from ``rev_a`` to ``rev_b`` on ``on`` (default: the
    planning day) with its what-if comparison (``affected_rows``, week-by-week ``weeks``) and
    ``summary``: one answer, so the summary line, the tables and the chart agree."""
    from workbench.services import planning

    return planning.impact(session, item, rev_a, rev_b, on)


@planning_query
def what_if(session: PlanningSession, item: str, revision: str,
            from_date: dt.date | None = None) -> WhatIf:
    """Rows changed by releasing ``revision`` of ``item`` from ``from_date``."""
    from workbench.services import planning

    return planning.what_if(session, item, revision, from_date)
