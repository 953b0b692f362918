"""Which need each firm receipt serves: the basis of reschedule, cancel and reduce advice.

Per plan row (item, site), the row's requirements are taken in time order, each on its
**need day**: an independent demand or work-order component on its own date, a dependent
requirement (a parent's planned order) on its release bucket's start, and the safety stock on
the planning day, first (as pegging claims it); a date before the planning day counts as the
planning day (it is owed now). With ``D(k)`` the requirements up to and including the k-th,
supply covers them in order: stock on hand first, then the firm receipts in the horizon in
order of their due date (then reference)::

    before(i) = on_hand + sum of the quantities of the receipts before receipt i
    need_day(i) = the need day of the first requirement k with D(k) > before(i)
    needed(i) = min(quantity(i), max(0, D(total) - before(i)))

``needed(i) = 0``: the receipt serves no requirement in the horizon (cancel); ``needed(i) <
quantity(i)``: part of it is more than every requirement (reduce). Receipts keep their order:
this is the MRP convention that a firm order is moved, not re-sequenced.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.analysis.netting import Plan
from workbench.analysis.sources import EPS, requirement_buckets


def _events(plan: Plan, wanted: np.ndarray) -> pd.DataFrame:
    """The requirement events (row, day, order, quantity) of the rows flagged in ``wanted``."""
    cal = plan.calendar
    width = cal.n_buckets
    src = plan.sources
    req = src.requirements
    bucket = requirement_buckets(req, cal)
    row = plan.rows_for_keys(src.keys("requirements", plan.items, plan.sites))
    inside = (bucket >= 0) & (row >= 0)
    row, bucket = row[inside], bucket[inside]
    day = np.maximum(req["day"].to_numpy(np.int64)[inside], cal.today)
    qty = req["quantity"].to_numpy(float)[inside]
    keep = wanted[row]
    row, bucket, day, qty = row[keep], bucket[keep], day[keep], qty[keep]
    parts = [pd.DataFrame({"row": row, "day": day, "order": 1, "quantity": qty})]
    rows = np.flatnonzero(wanted)
    position = np.full(len(plan.key), -1, np.int64)
    position[rows] = np.arange(len(rows))
    independent = np.bincount(position[row] * width + bucket, weights=qty,
                              minlength=len(rows) * width).reshape(len(rows), width)
    dependent = plan.gross[rows] - independent
    r, b = np.nonzero(dependent > EPS)
    parts.append(pd.DataFrame({"row": rows[r], "day": np.maximum(cal.starts[b], cal.today),
                               "order": 1, "quantity": dependent[r, b]}))
    safety = plan.items.safety_stock[plan.item[rows]]
    if plan.planned_at is not None:
        safety = np.where(plan.planned_at[plan.key[rows]], safety, 0.0)
    has = safety > EPS
    parts.append(pd.DataFrame({"row": rows[has], "day": cal.today, "order": 0,
                               "quantity": safety[has]}))
    events = pd.concat(parts, ignore_index=True)
    events = events.sort_values(["row", "day", "order"], kind="stable", ignore_index=True)
    events["cumulative"] = events.groupby("row", sort=False)["quantity"].cumsum()
    return events


def _by_row_day_ref(receipts: pd.DataFrame) -> np.ndarray:
    """The order of ``sort_values(["row", "day", "ref"], kind="stable")`` with references
    compared only where row and day tie (few receipts): no sort of every reference string."""
    row = receipts["row"].to_numpy(np.int64)
    day = receipts["day"].to_numpy(np.int64)
    order = np.lexsort((day, row))
    r, d = row[order], day[order]
    same = np.r_[False, (r[1:] == r[:-1]) & (d[1:] == d[:-1])]
    tied = same | np.r_[same[1:], False]  # every member of a run of equal (row, day)
    if not tied.any():
        return order
    at = np.flatnonzero(tied)
    refs = receipts["ref"].to_numpy(dtype=object)[order[at]]
    rank, _ = pd.factorize(refs, sort=True)
    order[at] = order[at][np.lexsort((np.arange(len(at)), rank, d[at], r[at]))]
    return order


def firm_coverage(plan: Plan, kinds: tuple[str, ...] = ("purchase_order", "work_order")
                  ) -> pd.DataFrame:
    """Per firm receipt of ``kinds`` due in the horizon: ``row, item, site, kind, ref,
    supplier, day`` (due day), ``bucket, quantity, before, needed, need_day`` (``NO_DATE``-free:
    -1 when it serves nothing), following the module doc. Every receipt in the horizon
    (in-transit stock too) counts as supply; only rows of ``kinds`` are returned."""
    cal = plan.calendar
    src = plan.sources
    rec = src.receipts
    bucket = cal.bucket(rec["day"].to_numpy(np.int64))
    row = plan.rows_for_keys(src.keys("receipts", plan.items, plan.sites))
    inside = (bucket >= 0) & (row >= 0)
    receipts = pd.DataFrame({
        "row": row[inside], "item": rec["item"].to_numpy()[inside],
        "site": rec["site"].to_numpy()[inside], "kind": rec["kind"].to_numpy()[inside],
        "ref": rec["ref"].to_numpy()[inside], "supplier": rec["supplier"].to_numpy()[inside],
        "day": rec["day"].to_numpy(np.int64)[inside], "bucket": bucket[inside],
        "quantity": rec["quantity"].to_numpy(float)[inside]})
    receipts = receipts.iloc[_by_row_day_ref(receipts)].reset_index(drop=True)
    cum = receipts.groupby("row", sort=False)["quantity"].cumsum().to_numpy()
    receipts["before"] = plan.on_hand[receipts["row"].to_numpy()] + cum - \
        receipts["quantity"].to_numpy()
    receipts = receipts[receipts["kind"].isin(kinds)].reset_index(drop=True)
    if receipts.empty:
        return receipts.assign(needed=np.zeros(0), need_day=np.zeros(0, np.int64))
    wanted = np.zeros(len(plan.key), bool)
    wanted[receipts["row"].to_numpy()] = True
    events = _events(plan, wanted)
    total = events.groupby("row", sort=False)["cumulative"].last()
    demand = total.reindex(receipts["row"]).fillna(0.0).to_numpy()
    qty = receipts["quantity"].to_numpy()
    receipts["needed"] = np.minimum(qty, np.maximum(0.0, demand - receipts["before"].to_numpy()))
    receipts.loc[receipts["needed"] <= EPS, "needed"] = 0.0
    receipts["probe"] = receipts["before"] + EPS
    left = receipts.sort_values("probe", kind="stable")
    right = events[["row", "cumulative", "day"]].sort_values("cumulative", kind="stable")
    found = pd.merge_asof(left, right.rename(columns={"day": "need_day"}), left_on="probe",
                          right_on="cumulative", by="row", direction="forward",
                          allow_exact_matches=False)
    found.index = left.index
    need = found["need_day"].reindex(receipts.index)
    receipts["need_day"] = need.fillna(-1).to_numpy(np.int64)
    receipts.loc[receipts["needed"] <= 0.0, "need_day"] = -1
    return receipts.drop(columns=["probe"])
