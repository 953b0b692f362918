"""The planning and reading jobs the panels hand to the worker processes (no Qt here).

Each is a top-level function — ``fn(session, **kw)`` on the planner's planning session, or
``fn(engine, state)`` on its cache engine — so it pickles into the worker process
(:mod:`workbench.ui.jobserver`) and its answer pickles back. They only compose the planning and
cache services and shape their answers for tables and charts; the planning rules live in
:mod:`workbench.analysis`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.analysis.bom import revisions_at
from workbench.analysis.data import day_number
from workbench.analysis.revisions import revision_diff
from workbench.analysis.session import PlanningSession
from workbench.analysis.slippage import promise_history as slippage_history
from workbench.app.columns import DIFF_COLUMNS, ITEM_COLUMNS, PEG_COLUMNS, SHORTAGE_COLUMNS
from workbench.app.tables import TableData, format_value
from workbench.cache.frames import read_entity_frame
from workbench.domain.enums import OPEN_PURCHASE_STATUSES
from workbench.services import planning


def load_item_table(engine: Any, _state: Any = None) -> TableData:
    """The item list as column arrays (runs in the background)."""
    frame = read_entity_frame(engine, "items", columns=[c.name for c in ITEM_COLUMNS],
                              parse_dates=False)
    table = TableData.from_frame(frame, ITEM_COLUMNS, "code",
                                 search=["code", "description", "planner", "buyer",
                                         "default_supplier"])
    for picker in ("make_buy", "planner"):
        table.distinct(picker)
    return table


@dataclass
class Revisions:
    item: str
    table: pd.DataFrame  # revision, status, effective_from, effective_to, description
    in_force: str | None


def item_revisions(session: PlanningSession, item: str) -> Revisions:
    revs = session.data.bom_revisions
    mine = revs[revs["parent"] == item].sort_values("revision")
    now = revisions_at(revs[revs["parent"] == item], day_number(session.today))
    return Revisions(item, mine[["revision", "status", "effective_from", "effective_to",
                                 "description"]].reset_index(drop=True),
                     str(now["revision"].iloc[0]) if len(now) else None)


def bom_lines(session: PlanningSession, parent: str, revision: str | None) -> pd.DataFrame:
    """Lines of ``parent`` (``revision``, else the one in force), each with its description
    and whether the component has a BOM of its own."""
    data = session.data
    if revision is None:
        now = revisions_at(data.bom_revisions[data.bom_revisions["parent"] == parent],
                           day_number(session.today))
        if not len(now):
            return pd.DataFrame()
        revision = str(now["revision"].iloc[0])
    lines = data.bom_lines[(data.bom_lines["parent"] == parent)
                           & (data.bom_lines["revision"] == revision)].sort_values("position")
    items = data.items.set_index("code")
    parents = set(data.bom_revisions["parent"])
    out = lines[["component", "quantity_per", "orig_uom", "scrap_pct", "revision", "position"]].copy()
    out["description"] = out["component"].map(items["description"]).fillna("")
    out["stock_uom"] = out["component"].map(items["stock_uom"]).fillna("")
    out["has_bom"] = out["component"].isin(parents)
    return out


def diff_frame(session: PlanningSession, item: str, rev_a: str, rev_b: str) -> pd.DataFrame:
    diff = revision_diff(session.data, item, rev_a, rev_b)
    if diff.empty:
        return pd.DataFrame(columns=[c.name for c in DIFF_COLUMNS] + ["tone"])
    diff["changed"] = diff["changed_fields"].map(lambda f: ", ".join(x.replace("_", " ") for x in f))
    diff["tone"] = diff["change"]
    return diff




def late_po_lines(session: PlanningSession) -> int:
    """Open PO lines whose promised date (else requested date) is before the planning day."""
    pol = session.data.purchase_order_lines
    due = pol["promised_date"].fillna(pol["requested_date"])
    still_open = pol["status"].isin([str(s) for s in OPEN_PURCHASE_STATUSES])
    return int((still_open & (due < pd.Timestamp(session.today))).sum())


def planning_counts(session: PlanningSession) -> dict[str, Any]:
    short = planning.shortages(session)
    rows = short["rows"]
    return {
        "planning_day": session.today,
        "short_rows": short["rows_total"],
        "short_items": len({r["item"] for r in rows}),
        "first": min((r["first_shortage_date"] for r in rows), default=None),
        "late_po_lines": late_po_lines(session),
    }






def shortage_frame(session: PlanningSession) -> pd.DataFrame:
    """Rows short in the horizon with the item's description, planner and buyer."""
    rows = pd.DataFrame(planning.shortages(session)["rows"])
    if rows.empty:
        return pd.DataFrame(columns=[c.name for c in SHORTAGE_COLUMNS])
    items = session.data.items[["code", "description", "planner", "buyer"]]
    return rows.merge(items, left_on="item", right_on="code", how="left").drop(columns="code")


def shortage_table(session: PlanningSession) -> TableData:
    """The shortage table as column arrays, built here so the UI thread only swaps them in
    (on the medium demo it has 80,000 rows)."""
    table = TableData.from_frame(shortage_frame(session), SHORTAGE_COLUMNS, ["item", "site"])
    for picker in ("site", "planner", "buyer"):
        table.distinct(picker)
    return table


@dataclass
class Timeline:
    """What the chart and pegging table of one (item, site) show."""

    item: str
    site: str
    safety_stock: float
    record: pd.DataFrame
    risk_record: pd.DataFrame | None
    pegs: pd.DataFrame


def timeline(session: PlanningSession, item: str, site: str, risk: bool) -> Timeline:
    detail = planning.shortages(session, item=item, site=site, details=True)["rows"]
    row = next(r for r in detail if r["site"] == site)
    risk_record = None
    if risk:
        risky = planning.shortages(session, item=item, site=site, details=True,
                                   risk_adjusted=True)["rows"]
        risk_record = pd.DataFrame(next(r for r in risky if r["site"] == site)["record"])
    pegs = pd.DataFrame([
        {"date": r["date"], "quantity": r["quantity"], "kind": r["kind"].replace("_", " "),
         "ref": r["ref"],
         "pegged_to": ", ".join(f"{p['peg']} ({format_value(p['quantity'], 'qty')})"
                                for p in r["pegs"])}
        for r in row["requirements"]
    ], columns=[c.name for c in PEG_COLUMNS])
    return Timeline(item, site, float(row["safety_stock"] or 0.0), pd.DataFrame(row["record"]),
                    risk_record, pegs)


def ranking(session: PlanningSession) -> pd.DataFrame:
    s = session.slippage.suppliers.copy()
    s["on_time_pct"] = s["otif_rate"] * 100.0
    return s.sort_values(["expected_slip_days", "supplier"], ascending=[False, True])


@dataclass
class SupplierDetail:
    supplier: str
    slips: np.ndarray  # delivery slip days of received lines
    monthly: pd.DataFrame  # month, otif_rate, received_lines
    lines: pd.DataFrame


def supplier_detail(session: PlanningSession, supplier: str) -> SupplierDetail:
    sl = session.slippage
    lines = sl.lines[sl.lines["supplier"] == supplier].copy()
    slips = lines["delivery_slip_days"].dropna().to_numpy(float)
    monthly = sl.monthly[sl.monthly["supplier"] == supplier].copy()
    lines["status"] = np.where(lines["open"], np.where(lines["late"], "open, late", "open"),
                               "received")
    return SupplierDetail(supplier, slips, monthly, lines)


def promise_history(session: PlanningSession, purchase_order: str, line: int) -> pd.DataFrame:
    """changed_at / promised_date of one PO line, oldest first, each change once (the same
    de-duplicated history slippage counts)."""
    pc = session.data.promise_changes
    h = slippage_history(pc[(pc["purchase_order"] == purchase_order) & (pc["line"] == line)])
    h = h[h["promised_date"].notna()]
    return h.sort_values("changed_at")[["changed_at", "promised_date", "origin"]]


def where_used_answer(session: PlanningSession, item: str, drafts: bool,
                      on: dt.date | None = None) -> dict[str, Any]:
    """Where ``item`` is used on ``on`` (the BOMs in force that day; default the planning day),
    as the CLI's ``where-used ITEM --on DATE`` answers it."""
    return planning.where_used(session, item, include_drafts=drafts,
                               as_of=on or session.today)


def planning_day(session: PlanningSession) -> dt.date:
    return session.today


def revisions_and_today(session: PlanningSession, item: str) -> tuple[Any, dt.date]:
    return item_revisions(session, item), session.today


def impact_and_what_if(session: PlanningSession, item: str, rev_a: str, rev_b: str,
                       on: dt.date) -> dict[str, Any]:
    """The impact of switching revisions, with its what-if comparison (rows and week-by-week
    series) and summary: one answer, so the summary line, the tables and the chart agree."""
    return planning.impact(session, item, rev_a, rev_b, on)
