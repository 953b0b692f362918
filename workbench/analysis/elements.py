"""The element list of one item at one site (like SAP's MD04 stock/requirements list).

Every receipt and requirement the plan holds for the row, in date order, with the running
available quantity:

* ``stock``: usable on hand, on the planning day (first line);
* ``safety_stock``: the safety stock, a requirement on the planning day (where it applies);
* receipts: ``purchase_order`` (PO/line), ``in_transit``, ``work_order`` on their due dates
  (the plan's dates: promise, else requested), ``planned_order`` per bucket on its need date;
* requirements: ``demand`` and ``work_order`` components on their own dates, ``dependent``
  requirements of parents' planned orders on their release bucket's start (element
  ``planned:PARENT@SITE``); a requirement dated before the planning day is listed on it.

Within a day receipts come before requirements. ``available`` after each line is the running
sum (stock + receipts - requirements); ``exception`` holds the codes of the element's open
messages (given by the caller). ``totals`` sums receipts and requirements per period (day,
ISO week from Monday, or calendar month) with the closing available quantity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.analysis.data import PlanningData, date_of
from workbench.analysis.netting import Plan
from workbench.analysis.sources import EPS, requirement_buckets

LINE_COLUMNS = ("date", "type", "element", "supplier", "receipt", "requirement", "available",
                "exception")


@dataclass
class ElementList:
    item: str
    site: str
    description: str
    unit: str
    safety_stock: float
    lines: pd.DataFrame  # LINE_COLUMNS
    totals: pd.DataFrame  # period, receipts, requirements, available


class UnknownRow(KeyError):
    """The plan has no row for the item (at the site)."""


def _row(plan: Plan, item: str, site: str | None) -> tuple[int, str]:
    if site is None:
        rows = plan.rows_of(item) if item in plan.items.index else np.zeros(0, np.int64)
        if not len(rows):
            raise UnknownRow(f"item {item!r} has no stock, receipt or requirement in the plan")
        best = min(rows.tolist(), key=lambda r: str(plan.sites[int(plan.key[r]) % plan.n_sites]))
        return best, str(plan.sites[int(plan.key[best]) % plan.n_sites])
    row = plan.row(item, site)
    if row is None:
        raise UnknownRow(f"item {item!r} has no stock, receipt or requirement at site {site!r}")
    return row, site


def element_list(plan: Plan, data: PlanningData, item: str, site: str | None = None,
                 bucket: str = "week", codes: dict[str, str] | None = None) -> ElementList:
    """The element list (module doc); ``bucket``: day, week or month for the totals."""
    if bucket not in ("day", "week", "month"):
        raise ValueError(f"bucket {bucket!r}: expected day, week or month")
    row, site = _row(plan, item, site)
    cal, src = plan.calendar, plan.sources
    key = int(plan.key[row])
    item_no = key // plan.n_sites
    today = cal.today
    lines: list[tuple[int, int, str, str, str, float, float]] = []
    lines.append((today, 0, "stock", "", "", float(plan.on_hand[row]), 0.0))
    safety = float(plan.items.safety_stock[item_no])
    at = plan.planned_at
    if safety > EPS and (at is None or bool(at[key])):
        lines.append((today, 2, "safety_stock", "", "", 0.0, safety))
    rec = src.receipts
    hit = np.flatnonzero(src.keys("receipts", plan.items, plan.sites) == key)
    inside = cal.bucket(rec["day"].to_numpy(np.int64)[hit]) >= 0
    for i in hit[inside].tolist():
        r = rec.iloc[i]
        lines.append((max(int(r["day"]), today), 1, str(r["kind"]), str(r["ref"]),
                      str(r["supplier"]), float(r["quantity"]), 0.0))
    for b in np.flatnonzero(plan.planned[row] > EPS).tolist():
        lines.append((max(int(cal.starts[b]), today), 1, "planned_order", f"planned:{item}@{site}",
                      "", float(plan.planned[row, b]), 0.0))
    req = src.requirements
    hit = np.flatnonzero(src.keys("requirements", plan.items, plan.sites) == key)
    hit = hit[requirement_buckets(req.iloc[hit], cal) >= 0]
    for i in hit.tolist():
        r = req.iloc[i]
        kind = "demand" if r["kind"] == "demand" else "work_order"
        lines.append((max(int(r["day"]), today), 2, kind, str(r["ref"]), "", 0.0,
                      float(r["quantity"])))
    seg = plan.segments
    segs = seg.by_child[seg.ptr_child[item_no]:seg.ptr_child[item_no + 1]]
    parents = seg.parent[segs].astype(np.int64)
    prows = plan.rows_for_keys(parents * plan.n_sites + key % plan.n_sites) if len(segs) \
        else parents
    for s, parent, prow in zip(segs.tolist(), parents.tolist(), prows.tolist()):
        if prow < 0:
            continue
        offset = int(cal.offset(plan.items.lead_time_days[parent]))
        name = f"planned:{plan.items.codes[parent]}@{site}"
        for b in range(int(seg.first_bucket[s]), int(seg.end_bucket[s])):
            qty = float(plan.planned[prow, b]) * float(seg.quantity[s])
            if qty > EPS:
                lines.append((max(int(cal.starts[max(b - offset, 0)]), today), 2, "dependent",
                              name, "", 0.0, qty))
    lines.sort(key=lambda x: (x[0], x[1], x[2], x[3]))
    frame = pd.DataFrame(lines, columns=["day", "order", "type", "element", "supplier",
                                         "receipt", "requirement"])
    frame["available"] = (frame["receipt"] - frame["requirement"]).cumsum()
    codes = codes or {}
    frame["exception"] = [codes.get(e, codes.get(f"{item}@{site}", "") if t == "stock" else "")
                          for e, t in zip(frame["element"], frame["type"])]
    frame["date"] = [date_of(d) for d in frame["day"]]
    master = data.items[data.items["code"] == item]
    description = str(master["description"].iloc[0]) if len(master) else ""
    unit = str(master["stock_uom"].iloc[0]) if len(master) else ""
    return ElementList(item, site, description, unit, safety,
                       frame[list(LINE_COLUMNS)], _totals(frame, bucket))


def _totals(frame: pd.DataFrame, bucket: str) -> pd.DataFrame:
    when = pd.to_datetime(frame["date"])
    if bucket == "week":
        period = (when - pd.to_timedelta(when.dt.day_of_week, unit="D")).dt.date
    elif bucket == "month":
        period = when.dt.to_period("M").dt.start_time.dt.date
    else:
        period = when.dt.date
    grouped = frame.assign(period=period).groupby("period", sort=True)
    return pd.DataFrame({"receipts": grouped["receipt"].sum(),
                         "requirements": grouped["requirement"].sum(),
                         "available": grouped["available"].last()}).reset_index()
