"""The straightforward way to the demands each message endangers: pegging asked row by row,
message by message (:class:`~workbench.analysis.pegging.Pegging` or :class:`.pegs.FastPegging`).

Slow on a large plan (minutes), kept as the reference the array path (:mod:`.pegmatrix`,
:mod:`.endangers`) is checked against: tests/analysis/test_exception_pegmatrix.py compares both
on random plants. :func:`workbench.analysis.exceptions.compute_exceptions` takes this path when
given a ``pegging``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from workbench.analysis.data import PlanningData, day_numbers
from workbench.analysis.netting import Plan
from workbench.analysis.pegging import Pegging, Pegs
from workbench.analysis.sources import EPS

from .kinds import frame
from .pegs import DueDates, covered_pegs, order_pegs


def plan_bucket(plan: Plan, date: Any) -> int:
    """The plan's bucket of ``date`` (0 for a date before the horizon's start)."""
    day = int(day_numbers(np.array([date], dtype="datetime64[D]"))[0])
    return max(int(plan.calendar.bucket(np.array([day]))[0]), 0)


def late_reason(item: str, site: str, days: float) -> str:
    return (f"{item}@{site} must be released before the planning day: it arrives {days:g} days "
            "after it is needed")


def demand_late(data: PlanningData, plan: Plan, released: pd.DataFrame,
                pegging: Pegging) -> pd.DataFrame:
    """E09: a top-level demand (or work order) pegged to a planned receipt whose release date
    has passed (E06): released now, it arrives ``today + lead time``, ``days`` = that minus
    the receipt's need date (the worst over every such receipt the demand pegs to); quantity:
    the demand's pegged quantity in that receipt, in the receipt item's unit."""
    cal = plan.calendar
    due = DueDates(data)
    worst: dict[str, tuple[float, str, str, float]] = {}
    for row, late in zip(released["_row"], released["_late"]):
        item_no, site_no = divmod(int(plan.key[row]), plan.n_sites)
        lead = int(plan.items.lead_time_days[item_no])
        item = str(plan.items.codes[item_no])
        site = str(plan.sites[site_no])
        orders = pegging.order_pegs(int(row))
        for b in np.flatnonzero(late).tolist():
            days = float(cal.today + lead - max(int(cal.starts[b]), cal.today))
            for peg, qty in orders.get(b, {}).items():
                if peg in due.due and qty > EPS and days > worst.get(peg, (-1.0,))[0]:
                    worst[peg] = (days, item, site, qty)
    dem = data.demands.drop_duplicates("code").set_index("code")
    wo = data.work_orders.drop_duplicates("code").set_index("code")
    pegs = sorted(worst)
    owners = [dem.loc[p] if p in dem.index else wo.loc[p.removeprefix("work_order:")]
              for p in pegs]
    return frame("demand_late", len(pegs), {
        "element": pegs, "element_type": ["demand" if p in dem.index else "work_order"
                                          for p in pegs],
        "item": [str(o["item"]) for o in owners], "site": [str(o["site"]) for o in owners],
        "need_day": [due.due[p] for p in pegs], "days": [worst[p][0] for p in pegs],
        "quantity": [worst[p][3] for p in pegs],
        "endangers": [due.listed({p: worst[p][3]}, 1) for p in pegs],
        "reason": [late_reason(worst[p][1], worst[p][2], worst[p][0]) for p in pegs]})


def attach_endangers(messages: pd.DataFrame, cov: pd.DataFrame, pegging: Pegging,
                     due: DueDates, limit: int) -> None:
    """Fill ``endangers`` of the messages on firm receipts, planned orders and rows below
    safety stock (in place), one message at a time."""
    by_ref = dict(zip(cov["ref"], zip(cov["row"].tolist(), cov["before"].tolist(),
                                      cov["needed"].tolist())))
    out = list(messages["endangers"])
    for i, m in enumerate(messages.to_dict("records")):
        if m["endangers"]:
            continue
        pegs: Pegs = {}
        if isinstance(m.get("_late"), np.ndarray):
            pegs = order_pegs(pegging, int(m["_row"]), np.flatnonzero(m["_late"]))
        elif m["element_type"] in ("purchase_order_line", "work_order") and \
                m["element"] in by_ref:
            pegs = covered_pegs(pegging, *by_ref[m["element"]])
        elif m["kind"] == "below_safety_stock":
            bucket = plan_bucket(pegging.plan, m["need_date"])
            for req in pegging.requirements(int(m["_row"])):
                if req.bucket <= bucket:
                    for k, v in req.pegs.items():
                        pegs[k] = pegs.get(k, 0.0) + v
        out[i] = due.listed(pegs, limit)
    messages["endangers"] = out
