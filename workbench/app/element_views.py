"""What the screens show of one item's element list (the Shortages panel's MD04-like view): its
lines as a table with names and units, the pegging of one of its lines (the top-level demands it
serves), where a pegged demand's order is, and the cache's part (the lines' open exception codes,
site names).

Split from :mod:`workbench.app.exception_views` (the message table, one message's evidence and the
Overview's counts). Importing this module loads neither pandas nor Qt.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workbench.app.exception_views import labelled
from workbench.app.ops import cache_query, planning_query
from workbench.app.tables import Col

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy import Engine

    from workbench.analysis.elements import ElementList
    from workbench.analysis.netting import Plan
    from workbench.analysis.session import PlanningSession
    from workbench.app.tables import TableData

#: The columns of the element list's lines (keyed by line number).
ELEMENT_COLUMNS = [
    Col("date", "Date", "date", tip="When the receipt arrives or the requirement is due"),
    Col("type_label", "Element", tip="Stock, PO line, work order, planned order, demand, "
        "work-order component or dependent requirement"),
    Col("element", "Order / reference", tip="The order, line or demand"),
    Col("receipt_shown", "Receipt", "qty", tip="Quantity received on the date"),
    Col("requirement_shown", "Requirement", "qty", tip="Quantity required on the date"),
    Col("available", "Available", "qty",
        tip="Running available quantity: stock + receipts − requirements so far"),
    Col("unit", "Unit", tip="The item's stock unit"),
    Col("exception", "Exception", tip="Codes of the element's open exception messages"),
    Col("supplier_label", "Supplier", tip="Supplier name and code of a PO line"),
]

#: The columns of the element list's period totals.
TOTAL_COLUMNS = [
    Col("period", "Period from", "date", tip="First day of the day, week or month"),
    Col("receipts", "Receipts", "qty", tip="Receipts in the period"),
    Col("requirements", "Requirements", "qty", tip="Requirements in the period"),
    Col("available", "Available at end", "qty", tip="Available after the period's last line"),
    Col("unit", "Unit", tip="The item's stock unit"),
]

#: How an element-list line's type reads (a work order is a receipt or, as a component, a
#: requirement).
TYPE_LABELS = {"stock": "Stock", "safety_stock": "Safety stock",
               "purchase_order": "PO line", "in_transit": "In transit",
               "work_order": "Work order", "planned_order": "Planned order",
               "demand": "Demand", "dependent": "Dependent req."}


@dataclass
class ElementTable:
    """The element list of one item at one site (:class:`~workbench.analysis.elements.
    ElementList`) with its lines as a table (:data:`ELEMENT_COLUMNS`, keyed by line number:
    receipt / requirement blank where the line is the other kind, type labels, supplier names,
    the unit beside every quantity; tone ``late`` on a line with an exception code,
    ``short`` where the running available falls below zero), its period
    totals (:data:`TOTAL_COLUMNS`) and the site's name."""

    elements: ElementList
    site_name: str
    bucket: str
    lines: pd.DataFrame
    table: TableData


def _element_frame(result: ElementList, suppliers: dict[str, str]) -> pd.DataFrame:
    import numpy as np

    lines = result.lines.reset_index(drop=True)
    is_receipt = lines["receipt"].to_numpy(float) > 0
    types = lines["type"].astype(str)
    label = [("WO component" if t == "work_order" and not r else
              TYPE_LABELS.get(t, t.replace("_", " ")))
             for t, r in zip(types, is_receipt)]
    receipt = lines["receipt"].to_numpy(float)
    requirement = lines["requirement"].to_numpy(float)
    frame = lines.assign(
        line=np.arange(len(lines)), type_label=label,
        # a line is a receipt or a requirement: the other cell stays blank, as in MD04
        receipt_shown=np.where(is_receipt | (types == "stock"), receipt, np.nan),
        requirement_shown=np.where(requirement > 0, requirement, np.nan),
        supplier_label=[labelled(s, suppliers.get(s, ""), True) for s in lines["supplier"]],
        unit=result.unit, exception=lines["exception"].fillna("").astype(str),
        tone=np.where(lines["exception"].fillna("").astype(str) != "", "late",
                      np.where(lines["available"].to_numpy(float) < -1e-9, "short", "")))
    return frame


@planning_query
def element_table(session: PlanningSession, item: str, site: str | None = None,
                  bucket: str = "week", codes: dict[str, str] | None = None,
                  site_names: dict[str, str] | None = None) -> ElementTable:
    """The element list of ``item`` at ``site`` (:func:`workbench.app.exceptions.elements`:
    the same lines ``workbench elements`` prints) as the screens show it; ``codes`` from
    :func:`workbench.app.exceptions.element_codes`, ``site_names`` from
    :func:`workbench.app.exceptions.exception_site_names`."""
    from workbench.app.tables import TableData
    from workbench.services import exceptions

    result = exceptions.elements(session, item, site, bucket, codes=codes)
    sup = session.data.suppliers
    suppliers = dict(zip(sup["code"].astype(str), sup["name"].fillna("").astype(str))) \
        if len(sup) else {}
    frame = _element_frame(result, suppliers)
    table = TableData.from_frame(frame, ELEMENT_COLUMNS, "line", tone="tone")
    return ElementTable(result, (site_names or {}).get(result.site, ""), bucket, frame, table)


@dataclass(frozen=True)
class PegLine:
    """A top-level cause one element-list line serves (or, for a requirement, pegs to):
    ``peg`` as pegging names it (a demand code, ``work_order:WO``, ``safety_stock:...``,
    ``lot_size:...``), ``order`` the order it opens (demand or work-order code, "" for safety
    stock and lot size), the item and site of that order, its due date and the quantity."""

    peg: str
    order: str
    kind: str
    item: str
    site: str
    due_date: dt.date | None
    quantity: float
    description: str = ""


@dataclass(frozen=True)
class OrderRef:
    """Where an order is: its item and site (the element list it is a line of) and its
    element-list reference."""

    order: str
    kind: str  # demand, work_order, purchase_order
    item: str
    site: str
    element: str
    description: str = ""


def _plan_row(plan: Plan, item: str, site: str) -> int:
    row = plan.row(item, site)
    if row is None:
        from workbench.analysis.elements import UnknownRow

        raise UnknownRow(f"item {item!r} has no stock, receipt or requirement at site {site!r}")
    return int(row)


def _pegs_of_line(session: PlanningSession, item: str, site: str, line_type: str,
                  element: str, date: dt.date, receipt: bool) -> dict[str, float]:
    import numpy as np

    from workbench.analysis.exceptions import plan_bucket
    from workbench.analysis.exceptions.coverage import firm_coverage
    from workbench.analysis.exceptions.pegs import FastPegging, covered_pegs

    plan = session.plan()
    row = _plan_row(plan, item, site)
    pegging = FastPegging(plan)
    bucket = plan_bucket(plan, np.datetime64(date))
    out: dict[str, float] = {}
    if line_type == "planned_order":
        return dict(pegging.order_pegs(row).get(bucket, {}))
    if receipt and line_type in ("purchase_order", "work_order", "in_transit"):
        cov = firm_coverage(plan, ("purchase_order", "work_order", "in_transit"))
        hit = cov[(cov["row"] == row) & (cov["ref"] == element)]
        for r in hit.itertuples():
            for k, v in covered_pegs(pegging, row, float(r.before), float(r.needed)).items():
                out[k] = out.get(k, 0.0) + v
        return out
    ref = element.removeprefix("planned:").split("@")[0] if line_type == "dependent" else element
    kind = {"demand": "demand", "work_order": "work_order", "dependent": "dependent"}.get(
        line_type)
    for req in pegging.requirements(row):
        if req.kind == kind and req.ref == ref and (kind != "dependent" or req.bucket == bucket):
            for k, v in req.pegs.items():
                out[k] = out.get(k, 0.0) + v
    return out


@planning_query
def element_pegging(session: PlanningSession, item: str, site: str, line_type: str,
                    element: str, date: dt.date, receipt: bool = False) -> list[PegLine]:
    """The top-level demands one element-list line serves: a firm receipt the requirements its
    place in the row's coverage puts it against (as reschedule advice pegs it,
    :mod:`workbench.analysis.exceptions.pegs`), a planned order its bucket's pegs, a
    requirement (demand, work-order component, dependent requirement on ``date``) its own
    pegs; largest quantity first."""
    pegs = _pegs_of_line(session, item, site, line_type, element, date, receipt)
    places = _order_places(session)
    out = []
    for peg, qty in sorted(pegs.items(), key=lambda kv: (-kv[1], kv[0])):
        if qty <= 1e-9:
            continue
        order = peg.removeprefix("work_order:") if ":" not in peg or \
            peg.startswith("work_order:") else ""
        ref = places.get(order)
        out.append(PegLine(peg, order, ref.kind if ref else peg.split(":")[0],
                           ref.item if ref else "", ref.site if ref else "",
                           ref.date if ref else None, round(qty, 6),
                           ref.description if ref else ""))
    return out


@dataclass(frozen=True)
class _Place:
    kind: str
    item: str
    site: str
    date: dt.date | None
    description: str


def _order_places(session: PlanningSession) -> dict[str, _Place]:
    """Demand and work-order code -> kind, item, site, due date."""
    import pandas as pd

    def day(v: Any) -> dt.date | None:
        return None if v is None or pd.isna(v) else pd.Timestamp(v).date()

    out: dict[str, _Place] = {}
    data = session.data
    names = data.items.drop_duplicates("code").set_index("code")["description"].fillna("")
    for frame, kind in ((data.demands, "demand"), (data.work_orders, "work_order")):
        for code, item, site, due in zip(frame["code"], frame["item"], frame["site"],
                                         frame["due_date"]):
            out[str(code)] = _Place(kind, str(item), str(site), day(due),
                                    str(names.get(item, "")))
    return out


def _locate(session: PlanningSession, ref: str, names: pd.Series) -> OrderRef | None:
    code = ref.removeprefix("work_order:")
    data = session.data
    for frame, kind in ((data.demands, "demand"), (data.work_orders, "work_order")):
        hit = frame[frame["code"] == code]
        if len(hit):
            item = str(hit["item"].iloc[0])
            return OrderRef(code, kind, item, str(hit["site"].iloc[0]), code,
                            str(names.get(item, "") or ""))
    if "/" in code:
        po, _, line = code.rpartition("/")
        pol = data.purchase_order_lines
        hit = pol[(pol["purchase_order"] == po) & (pol["line"].astype(str) == line)]
        if len(hit):
            item = str(hit["item"].iloc[0])
            return OrderRef(code, "purchase_order", item, str(hit["site"].iloc[0]), code,
                            str(names.get(item, "") or ""))
    return None


@planning_query
def locate_order(session: PlanningSession, ref: str) -> OrderRef | None:
    """Where the order ``ref`` is a line of an element list: a demand code (the demand, a
    requirement of its item), a work order (``WO`` or ``work_order:WO``: the order's receipt
    of its item) or a PO line ``PO/LINE`` (a receipt of its item). None: not known."""
    names = session.data.items.drop_duplicates("code").set_index("code")["description"]
    return _locate(session, ref, names)


@planning_query
def locate_orders(session: PlanningSession, refs: list[str]) -> dict[str, OrderRef]:
    """:func:`locate_order` of each of ``refs`` (the known ones)."""
    names = session.data.items.drop_duplicates("code").set_index("code")["description"]
    found = {ref: _locate(session, ref, names) for ref in refs}
    return {ref: place for ref, place in found.items() if place is not None}


@dataclass(frozen=True)
class ElementContext:
    """What an element list needs from the cache: the codes of the element's stored
    unresolved messages (element -> ``E01,E04``, as :func:`workbench.app.exceptions.
    element_codes` gives them, read with one indexed query) and the site names."""

    codes: dict[str, str]
    site_names: dict[str, str]


@cache_query
def element_context(engine: Engine, item: str, site: str | None = None) -> ElementContext:
    from workbench.cache import exceptions as repo
    from workbench.cache.exception_reads import open_codes

    codes: dict[str, str] = {}
    with engine.connect() as conn:
        for element, code, _first in open_codes(conn, item, site):
            codes[element] = ",".join(filter(None, [codes.get(element, ""), code]))
        names = repo.site_names(conn)
    return ElementContext(codes, names)
