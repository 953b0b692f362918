"""Small builders for hand-written planning data (cache column names, stock units)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from workbench.analysis.calendar import Calendar
from workbench.analysis.data import PlanningData
from workbench.analysis.netting import Plan

#: A Monday, so weekly bucket b starts on TODAY + 7 b days.
TODAY = dt.date(2025, 3, 3)


def week(b: int, day: int = 0) -> dt.date:
    """A date in weekly bucket ``b`` (``day`` days after its Monday)."""
    return TODAY + dt.timedelta(days=7 * b + day)


def item(code: str, **kw: Any) -> dict[str, Any]:
    return {"code": code, **kw}


def demand(code: str, item_: str, qty: float, due: dt.date, site: str = "S1",
           **kw: Any) -> dict[str, Any]:
    return {"code": code, "item": item_, "site": site, "quantity": qty, "due_date": due, **kw}


def stock(item_: str, qty: float, site: str = "S1", status: str = "available",
          **kw: Any) -> dict[str, Any]:
    return {"item": item_, "site": site, "quantity": qty, "status": status,
            "lot": kw.pop("lot", status), **kw}


def line(parent: str, component: str, qty: float, position: int = 10, revision: str = "A",
         **kw: Any) -> dict[str, Any]:
    return {"parent": parent, "revision": revision, "position": position,
            "component": component, "quantity_per": qty, **kw}


def revision(parent: str, rev: str = "A", status: str = "released", **kw: Any) -> dict[str, Any]:
    return {"parent": parent, "revision": rev, "status": status, **kw}


def po_line(po: str, ln: int, item_: str, qty: float, promised: dt.date | None,
            supplier: str = "SUP", site: str = "S1", **kw: Any) -> dict[str, Any]:
    kw.setdefault("requested_date", promised)
    return {"purchase_order": po, "line": ln, "item": item_, "supplier": supplier,
            "site": site, "quantity_ordered": qty, "promised_date": promised, **kw}


def weekly(weeks: int = 8) -> Calendar:
    return Calendar.weekly(TODAY, weeks)


def data(**rows: Any) -> PlanningData:
    return PlanningData.from_rows(**rows)


def record(plan: Plan, item_: str, site: str = "S1") -> dict[str, list[float]]:
    """The MRP record of a row as plain lists (rounded to 9 places)."""
    row = plan.row(item_, site)
    assert row is not None, f"no plan row for {item_}@{site}"
    frame = plan.record(row)
    return {c: [round(float(v), 9) + 0.0 for v in frame[c]] for c in frame.columns
            if c not in ("bucket", "date")}


def table(text: str) -> dict[str, list[float]]:
    """Parse an MRP record written as a table: a name then one number per bucket per line."""
    names = {"GR": "gross_requirements", "SR": "scheduled_receipts",
             "PA": "projected_available", "NR": "net_requirements",
             "PR": "planned_receipts", "REL": "planned_releases"}
    out = {}
    for raw in text.strip().splitlines():
        name, *values = raw.split()
        out[names[name]] = [float(v) for v in values]
    return out


def assert_record(plan: Plan, item_: str, expected: str, site: str = "S1") -> None:
    got = record(plan, item_, site)
    want = table(expected)
    for name, values in want.items():
        assert np.allclose(got[name], values), f"{item_} {name}: got {got[name]}, want {values}"
