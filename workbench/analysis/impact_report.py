"""What a revision change does to orders, and the one summary of an impact.

Rules (each one function below):

* **Which BOM an order is built to** (:func:`builds_new_revision`): a revision governs an order
  that *starts* while it is in force — the effectivity rule of netting
  (:func:`workbench.analysis.netting.plan_segments`), where a planned order due in bucket ``b``
  starts on ``max(start(b) - lead time, today)``. So orders starting before the switch date are
  built to the old revision in both scenarios and are not touched by the change.
* **Open work orders** of the item starting on or after the date (:func:`work_order_fates`):
  a *released* or *in progress* order has its component list issued already — it **keeps the
  old components** (the plan takes them from the order); a *planned* work order is not released
  yet — it **follows the new revision**: the impact replaces its own component list with the new
  revision's lines (:func:`planned_work_order_change`).
* **Planned orders** (the plan's proposals, :func:`planned_order_fates`) are exploded through the
  BOM in force at their start, so those starting on or after the date follow the new revision.
* **Nothing changes in the horizon** (:func:`nothing_changes_because`) when no row's gross, net
  or planned quantities differ between the two scenarios in any bucket; the reason given is the
  first that holds of: the two revisions have the same lines; the date is past the horizon; the
  lines differ but not in quantity per stock unit; no planned order or planned work order of the
  item starts on or after the date within the horizon; else the changes cancel out.
* **The summary** (:func:`summarise`) is counted from the very lists the tables show, so the
  summary line and the tables cannot disagree; the GUI and the CLI print its ``text``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from workbench.analysis.bom import CodedLines
from workbench.analysis.data import PlanningData, date_of, day_number, day_numbers
from workbench.analysis.netting import Plan
from workbench.analysis.row_index import kept_with, rows_by_code, rows_of_codes
from workbench.analysis.scenario import Delta
from workbench.analysis.sources import EPS, requirement_buckets
from workbench.domain.enums import WorkOrderStatus

OPEN_WORK_ORDERS = frozenset({WorkOrderStatus.PLANNED.value, WorkOrderStatus.RELEASED.value,
                              WorkOrderStatus.IN_PROGRESS.value})
KEEPS, FOLLOWS, UNTOUCHED = "keeps", "follows", "untouched"


def builds_new_revision(start_day: np.ndarray, on_day: int, today: int) -> np.ndarray:
    """Whether an order starting on ``start_day`` is built to the revision in force from
    ``on_day`` (an order cannot start before the planning day)."""
    return np.maximum(np.asarray(start_day, np.int64), today) >= on_day


def work_order_fates(data: PlanningData, item: str, rev_a: str, rev_b: str, on: dt.date,
                     today: dt.date) -> pd.DataFrame:
    """Open work orders of ``item`` starting on or after ``on``, each with ``fate`` (keeps /
    follows) and ``after_change`` in words (see module doc)."""
    wo = data.work_orders
    wo = wo[(wo["item"] == item) & wo["status"].isin(OPEN_WORK_ORDERS)]
    wo = wo[builds_new_revision(day_numbers(wo["start_date"]), day_number(on), day_number(today))]
    planned = (wo["status"] == WorkOrderStatus.PLANNED.value).to_numpy()
    built = wo["bom_revision"].where(wo["bom_revision"] != "", rev_a)
    return wo.assign(
        remaining=(wo["quantity"] - wo["completed_quantity"]).clip(lower=0.0),
        fate=np.where(planned, FOLLOWS, KEEPS),
        after_change=np.where(planned, f"follows {rev_b} (not released yet)",
                              "keeps the components of " + built + " (released)"),
    ).reset_index(drop=True)


def planned_work_order_change(data: PlanningData, base: Plan, item: str, rev_b: str,
                              orders: pd.DataFrame) -> Delta:
    """The requirement change of moving ``orders`` (planned work orders of ``item``) to
    ``rev_b``: minus their own open component requirements, plus ``remaining`` x quantity per
    (scrap included) of each preferred line of ``rev_b`` in the bucket of the order's start."""
    if orders.empty:  # the usual case: no planned work order from the date on
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    items, sites, cal = base.items, base.sites, base.calendar
    n_sites = len(sites)
    req = base.sources.requirements
    # the orders' requirement rows through an index of the work orders' rows by order code,
    # kept with the plan (a comparison over every requirement of the plant per impact cost
    # ~30 ms on the large demo)
    by_order = kept_with(base, "_work_order_requirement_rows", req, lambda: rows_by_code(
        req["ref"].where(req["kind"] == "work_order")))
    mine = rows_of_codes(by_order, orders["code"].tolist())
    old_bucket = requirement_buckets(req.iloc[mine], cal)
    old_key = base.sources.keys("requirements", items, sites)[mine]
    old_qty = req["quantity"].to_numpy(float)[mine]
    keep = (old_bucket >= 0) & (old_key >= 0)
    coded = CodedLines.of(data, items)
    rev_code = int(coded.revision_codes.get_indexer([rev_b])[0])  # -1: no line has it
    lines = np.flatnonzero((coded.parent == int(items.idx([item])[0]))
                           & (coded.revision_code == rev_code) & coded.preferred)
    site = sites.get_indexer(orders["site"]).astype(np.int64)
    bucket = cal.bucket(day_numbers(orders["start_date"]))
    qty = orders["remaining"].to_numpy(float)
    ok = (site >= 0) & (bucket >= 0) & (qty > EPS)
    o, n = np.repeat(np.flatnonzero(ok), len(lines)), np.tile(lines, int(ok.sum()))
    new_key = coded.component[n].astype(np.int64) * n_sites + site[o]
    return (np.concatenate([old_key[keep], new_key]).astype(np.int64),
            np.concatenate([old_bucket[keep], bucket[o]]).astype(np.int64),
            np.concatenate([-old_qty[keep], qty[o] * coded.quantity[n]]))


def planned_order_fates(base: Plan, item: str, rev_a: str, rev_b: str,
                        on: dt.date) -> list[dict[str, Any]]:
    """The plan's planned orders of ``item`` (every site): receipt date, start date, quantity,
    and which revision they are exploded through after the change."""
    cal = base.calendar
    number = int(base.items.idx([item])[0])
    if number < 0:
        return []
    # the item's rows by their keys (one per site), in row order as ``rows_of`` lists them,
    # without a pass over every row of the plan
    rows = base.rows_for_keys(number * base.n_sites + np.arange(base.n_sites, dtype=np.int64))
    rows = np.sort(rows[rows >= 0])
    if not len(rows):
        return []
    lead = int(base.items.lead_time_days[number])
    out = []
    for row in rows:
        for b in np.flatnonzero(base.planned[row] > EPS):
            start = max(int(cal.starts[b]) - lead, cal.today)
            follows = bool(builds_new_revision(np.array([start]), day_number(on), cal.today)[0])
            site = int(base.key[row]) % base.n_sites
            out.append({"site": str(base.sites[site]), "due_date": cal.need_date(int(b)),
                        "start_date": date_of(start), "quantity": float(base.planned[row, b]),
                        "fate": FOLLOWS if follows else UNTOUCHED,
                        "after_change": f"follows {rev_b}" if follows
                        else f"stays on {rev_a} (starts before {on})"})
    return sorted(out, key=lambda o: (o["start_date"], o["site"]))


def nothing_changes_because(result: dict[str, Any], horizon_end: dt.date) -> str | None:
    """Why no row changes in the horizon (``None`` when some row does); see module doc."""
    if result["affected_rows"]:
        return None
    a, b, on, item = (result["from_revision"], result["to_revision"], result["effective"],
                      result["item"])
    if not result["diff"]:
        return f"{item} revisions {a} and {b} have the same lines (components and quantities)."
    if on > horizon_end:
        return f"{on} is after the planning horizon, which ends on {horizon_end}."
    if all(abs(d["quantity_change"]) <= EPS for d in result["diff"]):
        return (f"the lines of {a} and {b} differ only in "
                f"{_fields(result['diff'])}, not in the quantity per stock unit.")
    follows = [o for o in result["planned_orders"] if o["fate"] == FOLLOWS]
    following_wo = [w for w in result["work_orders"] if w["fate"] == FOLLOWS]
    if not follows and not following_wo:
        kept = sum(1 for w in result["work_orders"] if w["fate"] == KEEPS)
        keeps = f"; {kept} released work order(s) keep their components" if kept else ""
        return (f"no planned order or planned work order of {item} starts on or after {on} "
                f"within the horizon (to {horizon_end}){keeps}.")
    return "the changes cancel out in every bucket of the horizon."


def _fields(diff: list[dict[str, Any]]) -> str:
    fields = sorted({f for d in diff for f in d["changed_fields"]} - {"quantity_per"})
    return ", ".join(f.replace("_", " ") for f in fields) or "positions"


def summarise(result: dict[str, Any], horizon_end: dt.date) -> dict[str, Any]:
    """Counts of every list the impact shows, and one line of text built from them."""
    wo = result["work_orders"]
    counts = {
        "line_changes": len(result["diff"]),
        "assemblies_above": len(result["assemblies_above"]),
        "work_orders_keep": sum(1 for w in wo if w["fate"] == KEEPS),
        "work_orders_follow": sum(1 for w in wo if w["fate"] == FOLLOWS),
        "planned_orders_follow": sum(1 for o in result["planned_orders"] if o["fate"] == FOLLOWS),
        "demands": len(result["demands"]),
        "excess_elements": len(result["excess"]),
        "new_shortage_rows": len(result["new_requirements"]),
        "changed_rows": len(result["affected_rows"]),
    }
    reason = nothing_changes_because(result, horizon_end)
    head = (f"{result['item']} {result['from_revision']} → {result['to_revision']} on "
            f"{result['effective']}: ")
    text = head + (
        f"{counts['line_changes']} line change(s); {counts['assemblies_above']} assemblies "
        f"above; work orders: {counts['work_orders_keep']} keep their components (released), "
        f"{counts['work_orders_follow']} follow {result['to_revision']} (planned); "
        f"{counts['planned_orders_follow']} planned order(s) follow "
        f"{result['to_revision']}; {counts['demands']} demand(s) affected; excess value "
        f"{result['excess_value']:,.2f} ({counts['excess_elements']} supply element(s)); "
        f"{counts['new_shortage_rows']} row(s) with new shortages; "
        f"{counts['changed_rows']} row(s) change in the plan.")
    if reason is not None:
        text += f" Nothing changes in the horizon, because {reason}"
    return {**counts, "nothing_changes_because": reason, "text": text}
