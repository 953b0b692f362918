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

from .ordering import lex_order


def _events(plan: Plan, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The requirement events of the rows flagged in ``wanted``, ordered by row, day and
    safety stock first (stable): their row, day and cumulative quantity within the row."""
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
    rows = np.flatnonzero(wanted)
    position = np.full(len(plan.key), -1, np.int64)
    position[rows] = np.arange(len(rows))
    independent = np.bincount(position[row] * width + bucket, weights=qty,
                              minlength=len(rows) * width).reshape(len(rows), width)
    dependent = plan.gross[rows] - independent
    r, b = np.nonzero(dependent > EPS)
    safety = plan.items.safety_stock[plan.item[rows]]
    if plan.planned_at is not None:
        safety = np.where(plan.planned_at[plan.key[rows]], safety, 0.0)
    has = safety > EPS
    n_safety = int(has.sum())
    ev_row = np.concatenate([row, rows[r], rows[has]]).astype(np.int64)
    ev_day = np.concatenate([day, np.maximum(cal.starts[b], cal.today),
                             np.full(n_safety, cal.today)]).astype(np.int64)
    ev_order = np.r_[np.ones(len(row) + len(r), np.int64), np.zeros(n_safety, np.int64)]
    ev_qty = np.concatenate([qty, dependent[r, b], safety[has]]).astype(float)
    order = lex_order([ev_row, ev_day, ev_order])  # stable, as sort_values(kind="stable")
    ev_row, ev_day, ev_qty = ev_row[order], ev_day[order], ev_qty[order]
    cumulative = pd.Series(ev_qty).groupby(ev_row, sort=False).cumsum().to_numpy(float)
    return ev_row, ev_day, cumulative


def _first_above(ev_row: np.ndarray, cumulative: np.ndarray, rows: np.ndarray,
                 probe: np.ndarray) -> np.ndarray:
    """Per (row, probe): the first event of the row (in event order) whose cumulative
    quantity is above the probe, -1 for none. Rows' events are contiguous and their cumulative
    quantities do not fall (no negative requirement), so this is a binary search within each
    row's events, all rows at once (what ``merge_asof(..., by="row", direction="forward",
    allow_exact_matches=False)`` finds)."""
    lo = np.searchsorted(ev_row, rows, "left")
    end = np.searchsorted(ev_row, rows, "right")
    hi = end.copy()
    last = max(len(cumulative) - 1, 0)
    while True:
        active = lo < hi
        if not active.any():
            break
        mid = (lo + hi) // 2
        below = active & (cumulative[np.minimum(mid, last)] <= probe)
        lo = np.where(below, mid + 1, lo)
        hi = np.where(active & ~below, mid, hi)
    return np.where(lo < end, lo, -1)


def _first_above_asof(ev_row: np.ndarray, cumulative: np.ndarray, rows: np.ndarray,
                      probe: np.ndarray) -> np.ndarray:
    """:func:`_first_above` by ``merge_asof`` (a negative requirement makes a row's cumulative
    quantity fall: the binary search does not apply)."""
    left = pd.DataFrame({"probe": probe, "row": rows, "i": np.arange(len(rows))}).sort_values(
        "probe", kind="stable")
    right = pd.DataFrame({"row": ev_row, "cumulative": cumulative,
                          "at": np.arange(len(ev_row))}).sort_values("cumulative", kind="stable")
    found = pd.merge_asof(left, right, left_on="probe", right_on="cumulative", by="row",
                          direction="forward", allow_exact_matches=False)
    first = np.full(len(rows), -1, np.int64)
    first[found["i"].to_numpy(np.int64)] = found["at"].fillna(-1).to_numpy(np.int64)
    return first


def _by_row_day_ref(receipts: pd.DataFrame) -> np.ndarray:
    """The order of ``sort_values(["row", "day", "ref"], kind="stable")`` with references
    compared only where row and day tie (few receipts): no sort of every reference string."""
    row = receipts["row"].to_numpy(np.int64)
    day = receipts["day"].to_numpy(np.int64)
    order = lex_order([row, day])
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
    columns = {
        "row": row[inside], "item": rec["item"].to_numpy()[inside],
        "site": rec["site"].to_numpy()[inside], "kind": rec["kind"].to_numpy()[inside],
        "ref": rec["ref"].to_numpy()[inside], "supplier": rec["supplier"].to_numpy()[inside],
        "day": rec["day"].to_numpy(np.int64)[inside], "bucket": bucket[inside],
        "quantity": rec["quantity"].to_numpy(float)[inside]}
    order = _by_row_day_ref(pd.DataFrame({k: columns[k] for k in ("row", "day", "ref")}))
    columns = {k: v[order] for k, v in columns.items()}
    row, qty = columns["row"], columns["quantity"]
    cum = pd.Series(qty).groupby(row, sort=False).cumsum().to_numpy()
    columns["before"] = plan.on_hand[row] + cum - qty
    mine = pd.Series(columns["kind"]).isin(kinds).to_numpy(bool)
    receipts = pd.DataFrame({k: v[mine] for k, v in columns.items()})
    if receipts.empty:
        return receipts.assign(needed=np.zeros(0), need_day=np.zeros(0, np.int64))
    row, qty, before = row[mine], qty[mine], columns["before"][mine]
    wanted = np.zeros(len(plan.key), bool)
    wanted[row] = True
    ev_row, ev_day, cumulative = _events(plan, wanted)
    ends = np.flatnonzero(np.r_[ev_row[1:] != ev_row[:-1], True]) if len(ev_row) else ev_row
    at = np.searchsorted(ev_row[ends], row)  # each row's total requirement: its last
    has = at < len(ends)
    has[has] = ev_row[ends[at[has]]] == row[has]
    demand = np.where(has, cumulative[ends[np.minimum(at, max(len(ends) - 1, 0))]]
                      if len(ends) else 0.0, 0.0)
    needed = np.minimum(qty, np.maximum(0.0, demand - before))
    needed[needed <= EPS] = 0.0
    receipts["needed"] = needed
    rising = np.all((np.diff(cumulative) >= 0) | (ev_row[1:] != ev_row[:-1]))
    first = _first_above(ev_row, cumulative, row, before + EPS) if rising else \
        _first_above_asof(ev_row, cumulative, row, before + EPS)
    need_day = np.where(first >= 0, ev_day[np.maximum(first, 0)] if len(ev_day) else -1, -1)
    need_day[needed <= 0.0] = -1
    receipts["need_day"] = need_day.astype(np.int64)
    return receipts
