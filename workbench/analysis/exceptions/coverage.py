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

from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.analysis.calendar import Calendar
from workbench.analysis.data import PlanningData
from workbench.analysis.netting import Plan
from workbench.analysis.sources import EPS, requirement_buckets

from .intervals import Merged, bisect_runs, stored_entries
from .ordering import lex_order


@dataclass(frozen=True)
class _Layout:
    """What firm coverage reads of the sources, the calendar and the plan's row numbering
    only (no quantity the plan computes), kept per data load (:func:`firm_coverage`): the
    receipts in the horizon in coverage order (``columns``, every kind), their cumulative
    quantity within the row (``cum``, on hand not included), which are of the wanted kinds
    (``mine``) and those as the first columns of the result (``frame``), and the independent
    requirements of those receipts' rows (``rows``, the flagged rows ascending) as events in
    event order (row, day; stable): ``row``, ``day`` (need day), ``qty`` and ``key`` (``2 *
    (row * span + day - today) + 1``, non-decreasing; None when it would not fit an int64).
    Their sums per row and bucket (``np.bincount`` as the dense matrix of the rows × buckets
    holds them, flat position ``position in rows * buckets + bucket``): the ones other than 0
    are ``sums`` in flat order, the k-th of row position r at ``first[r] + k``, and ``cells``
    holds k at each flat position with such a sum (-1 elsewhere: the sum is 0; int8 while no
    row has more than 127 such sums, 3 MiB on the large demo's weekly buckets); ``negative``:
    some sum is below ``-EPS``."""

    key: np.ndarray
    calendar: Calendar
    columns: dict[str, np.ndarray]
    cum: np.ndarray
    mine: np.ndarray
    frame: pd.DataFrame
    rows: np.ndarray
    row: np.ndarray
    day: np.ndarray
    qty: np.ndarray
    event_key: np.ndarray | None
    span: int
    cells: np.ndarray
    first: np.ndarray
    sums: np.ndarray
    negative: bool

    def fits(self, plan: Plan) -> bool:
        """Whether ``plan`` numbers its rows and buckets as the plan this was made for."""
        return self.calendar == plan.calendar and (
            self.key is plan.key or np.array_equal(self.key, plan.key))


def _layout(plan: Plan, kinds: tuple[str, ...]) -> _Layout:
    """:class:`_Layout` of ``plan`` (its sources, calendar and row numbering)."""
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
    mine = pd.Series(columns["kind"]).isin(kinds).to_numpy(bool)
    wanted = np.zeros(len(plan.key), bool)
    wanted[row[mine]] = True
    req = src.requirements
    r_bucket = requirement_buckets(req, cal)
    r_row = plan.rows_for_keys(src.keys("requirements", plan.items, plan.sites))
    inside = (r_bucket >= 0) & (r_row >= 0)
    keep = np.zeros(len(inside), bool)
    keep[inside] = wanted[r_row[inside]]
    rows = np.flatnonzero(wanted)
    e_row, e_bucket = r_row[keep].astype(np.int64), r_bucket[keep].astype(np.int64)
    e_day = np.maximum(req["day"].to_numpy(np.int64)[keep], cal.today)
    e_qty = req["quantity"].to_numpy(float)[keep]
    # their sums per row and bucket, as the dense matrix holds them (summed in source order)
    width = cal.n_buckets
    position = np.full(len(plan.key), -1, np.int64)
    position[rows] = np.arange(len(rows))
    sums = np.bincount(position[e_row] * width + e_bucket, weights=e_qty,
                       minlength=len(rows) * width)
    at = np.flatnonzero(sums)
    negative = bool((sums < -EPS).any())
    first = np.searchsorted(at // max(width, 1), np.arange(len(rows) + 1))
    # k is below the most sums other than 0 any row has (not the number of buckets: a daily
    # calendar has 182 and would need int32 cells, 80 MiB on the large demo, for nothing)
    most = int(np.diff(first).max()) if len(rows) else 0
    cells = np.full(len(sums), -1, np.int8 if most <= 127 else
                    np.int16 if most <= 32767 else np.int32)
    cells[at] = np.arange(len(at)) - first[at // max(width, 1)]
    # in event order (row, day; stable), as the sort of every event orders them
    order = lex_order([e_row, e_day])
    e_row, e_day, e_qty = e_row[order], e_day[order], e_qty[order]
    last = int(cal.starts.max()) if len(cal.starts) else cal.today
    span = max(int(e_day.max()) if len(e_day) else cal.today, last, cal.today) - cal.today + 1
    event_key = None
    if 2 * (len(plan.key) + 1) * span < 2**62:
        event_key = 2 * (e_row * span + (e_day - cal.today)) + 1
    frame = pd.DataFrame({k: v[mine] for k, v in columns.items()})
    return _Layout(plan.key, cal, columns, cum, mine, frame, rows, e_row, e_day, e_qty,
                   event_key, span, cells, first, sums[at], negative)


def _events(plan: Plan, lay: _Layout) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The requirement events of the rows of ``lay`` (its flagged rows), ordered by row, day
    and safety stock first (stable): their row, day and cumulative quantity within the row.

    The independent events are in that order already (``lay``); the plan's own (a dependent
    requirement per row and bucket where the gross requirement exceeds the independent ones
    by more than ``EPS``, safety stock on the planning day) are found in the gross
    requirements' stored values and merged in: an independent event before a dependent one on
    the same row and day (the order of the sort of every event, :func:`_events_sorted`)."""
    if lay.event_key is None or lay.negative:  # a bucket where no gross is may count
        return _events_sorted(plan, lay)
    cal = plan.calendar
    width = cal.n_buckets
    rows, today = lay.rows, cal.today
    owner, bucket, gross = stored_entries(plan.gross, rows)
    flat = owner * width + bucket
    k = lay.cells[flat]  # the independent sum of each (row, bucket): looked up, not searched
    hit = np.flatnonzero(k >= 0)
    independent = np.zeros(len(flat))
    independent[hit] = lay.sums[lay.first[owner[hit]] + k[hit]]
    dependent = gross - independent
    big = dependent > EPS
    d_row, b, d_qty = rows[owner[big]], bucket[big], dependent[big]
    d_day = np.maximum(cal.starts[b], today).astype(np.int64)
    d_key = 2 * (d_row * lay.span + (d_day - today)) + 1
    safety = plan.items.safety_stock[plan.item[rows]]
    if plan.planned_at is not None:
        safety = np.where(plan.planned_at[plan.key[rows]], safety, 0.0)
    has = safety > EPS
    s_row, s_qty = rows[has], safety[has].astype(float)
    s_key = 2 * s_row * lay.span  # on the planning day, first in its row
    # the plan's events in order (keys of safety stock even, of dependent requirements odd:
    # never equal)
    mine = Merged(d_key, s_key)
    p_key = mine(d_key, s_key)
    p_row, p_day, p_qty = mine(d_row, s_row), mine(d_day, np.full(len(s_key), today, np.int64)), \
        mine(d_qty, s_qty)
    merged = Merged(lay.event_key, p_key)  # after the independent events of an equal key
    ev_row = merged(lay.row, p_row, np.int64)
    ev_day = merged(lay.day, p_day, np.int64)
    ev_qty = merged(lay.qty, p_qty, float)
    cumulative = pd.Series(ev_qty).groupby(ev_row, sort=False).cumsum().to_numpy(float)
    return ev_row, ev_day, cumulative


def _events_sorted(plan: Plan, lay: _Layout) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_events` by one sort of every event (the dense gross of the rows read)."""
    cal = plan.calendar
    width = cal.n_buckets
    row, day, qty, rows = lay.row, lay.day, lay.qty, lay.rows
    independent = np.zeros(len(rows) * width)
    independent[np.flatnonzero(lay.cells >= 0)] = lay.sums
    dependent = plan.gross[rows] - independent.reshape(len(rows), width)
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
    first = bisect_runs(cumulative, lo, end, np.broadcast_to(np.asarray(probe, float), lo.shape),
                    strict=True)
    return np.where(first < end, first, -1)


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


def firm_coverage(plan: Plan, kinds: tuple[str, ...] = ("purchase_order", "work_order"),
                  data: PlanningData | None = None) -> pd.DataFrame:
    """Per firm receipt of ``kinds`` due in the horizon: ``row, item, site, kind, ref,
    supplier, day`` (due day), ``bucket, quantity, before, needed, need_day`` (``NO_DATE``-free:
    -1 when it serves nothing), following the module doc. Every receipt in the horizon
    (in-transit stock too) counts as supply; only rows of ``kinds`` are returned.

    Given the ``data`` the plan was made from, the receipts' order and cumulative quantities
    and the rows' independent requirements (:class:`_Layout`: sources, calendar and row
    numbering only) are kept with it and reused by later plans of the same sources that number
    rows and buckets alike (checked: the same calendar, equal row keys)."""
    if data is None:
        lay = _layout(plan, kinds)
    else:  # once per data load (sources and item numbering the same objects)
        kept: dict[str, _Layout] = data.derived(
            "|".join(["exceptions.coverage", *kinds, "", *map(str, plan.sites)]),
            (plan.sources, plan.items), dict)
        lay = kept.get("layout") or _layout(plan, kinds)
        if not lay.fits(plan):
            lay = _layout(plan, kinds)
        kept["layout"] = lay
    columns, mine = lay.columns, lay.mine
    row, qty = columns["row"], columns["quantity"]
    before_all = plan.on_hand[row] + lay.cum - qty
    receipts = lay.frame.copy(deep=False)  # its columns shared (copy on write)
    receipts["before"] = before_all[mine]
    if receipts.empty:
        return receipts.assign(needed=np.zeros(0), need_day=np.zeros(0, np.int64))
    row, qty, before = row[mine], qty[mine], before_all[mine]
    ev_row, ev_day, cumulative = _events(plan, lay)
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
