"""Rules on the plan's supply and demand: E01-E09 (formulas in docs/exceptions.md).

One function per rule; each takes the firm coverage (:func:`.coverage.firm_coverage`) or the
plan and returns a message frame (:mod:`.kinds`). Days are day numbers; ``today`` is the
planning day. The element of a PO line is ``PO/line``, of a work order its code, of a planned
order ``planned:ITEM@SITE`` (one per row: its identity survives quantities moving between
buckets), of a row ``ITEM@SITE``, of a demand its code. E01-E05 list their messages in
coverage order, or in the order ``by`` gives (a permutation of the coverage rows).

E04 and E05 suggest quantities a buyer can place (:class:`PlacingUnits`): whole units of the
unit the receipt is placed in when that is a count unit (a PO line's own order unit, a work
order's stock unit), as requisition advice does (:mod:`workbench.analysis.lots`).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.analysis.data import NO_DATE, PlanningData, day_numbers
from workbench.analysis.lots import COUNT_UNIT_CODES
from workbench.analysis.netting import Plan, lot_size
from workbench.analysis.rowmatrix import RowMatrix
from workbench.analysis.sources import EPS, open_purchase_lines, open_work_orders

from .intervals import above
from .kinds import ExceptionSettings, choice, frame, str_array

PO, WO = "purchase_order", "work_order"


def _firm(cov: pd.DataFrame, mask: np.ndarray, kind: str,
          extra: dict[str, object], by: np.ndarray | None = None) -> pd.DataFrame:
    """The messages of the coverage rows flagged by ``mask``, in coverage order or in the
    order of ``by`` (a permutation of the coverage rows) when given."""
    mask = np.asarray(mask, bool)
    at = np.flatnonzero(mask) if by is None else by[mask[by]]

    def sel(column: str) -> np.ndarray:  # only the columns used, only the rows flagged
        return cov[column].to_numpy()[at]

    is_wo = sel("kind") == WO
    need_day = sel("need_day")
    columns: dict[str, object] = {
        "element": sel("ref"), "element_type": str_array(choice(is_wo, "purchase_order_line", "work_order")),
        "item": sel("item"), "site": sel("site"),
        "supplier": sel("supplier"), "due_day": sel("day"),
        "need_day": np.where(need_day >= 0, need_day, NO_DATE),
        "quantity": sel("quantity"),
        "role": str_array(choice(is_wo, "buyer", "planner")),
        "_row": sel("row"), "_before": sel("before"), "_needed": sel("needed"),
        "_cov": at,  # its coverage row (endangered demands, element order)
    }
    columns.update({k: (v[at] if isinstance(v, np.ndarray) and len(v) == len(cov) else v)
                    for k, v in extra.items()})
    return frame(kind, len(at), columns)  # the hidden columns (_row ...) included


def reschedule_in(cov: pd.DataFrame, today: int, s: ExceptionSettings,
                  by: np.ndarray | None = None) -> pd.DataFrame:
    """E01: due later than the first need it serves: ``max(due, today) - need_day >
    tolerance``; suggested date the need day, ``days`` = how many days late."""
    due = np.maximum(cov["day"].to_numpy(), today)
    need = cov["need_day"].to_numpy()
    late = due - need
    mask = (cov["needed"].to_numpy() > EPS) & (need >= 0) & (late > s.reschedule_in_tolerance_days)
    return _firm(cov, mask, "reschedule_in", {"suggested_day": need, "days": late.astype(float),
                                              "reason": "due after its need"}, by)


def reschedule_out(cov: pd.DataFrame, today: int, s: ExceptionSettings,
                   by: np.ndarray | None = None) -> pd.DataFrame:
    """E02: due earlier than the first need it serves: ``need_day - max(due, today) >
    tolerance``; suggested date the need day, ``days`` = how many days early."""
    due = np.maximum(cov["day"].to_numpy(), today)
    need = cov["need_day"].to_numpy()
    early = need - due
    mask = (cov["needed"].to_numpy() > EPS) & (need >= 0) & \
        (early > s.reschedule_out_tolerance_days)
    return _firm(cov, mask, "reschedule_out", {"suggested_day": need,
                                               "days": early.astype(float),
                                               "reason": "due before its need"}, by)


def cancel(cov: pd.DataFrame, by: np.ndarray | None = None) -> pd.DataFrame:
    """E03: serves no requirement in the horizon (``needed = 0``): suggested quantity 0."""
    mask = cov["needed"].to_numpy() <= EPS
    return _firm(cov, mask, "cancel", {"suggested_quantity": 0.0,
                                       "reason": "stock and earlier receipts cover every "
                                                 "requirement in the horizon"}, by)


@dataclass(frozen=True)
class Placing:
    """Per firm coverage row how its E04/E05 quantity is made placeable: ``step`` in stock
    units (0: not rounded) and ``offset``, what a PO line in an order unit of its own has
    received (its new *ordered* quantity, received + open, is what must be whole)."""

    step: np.ndarray
    offset: np.ndarray


@dataclass(frozen=True)
class PlacingUnits:
    """The unit each firm receipt is placed in, as the step (in stock units) its quantity is
    rounded up to: a PO line is placed in its own order unit (``orig_uom``; none given: the
    item's stock unit), one of which is ``quantity_ordered / orig_quantity_ordered`` stock
    units (exactly 1 in the stock unit); a work order in the item's stock unit. A line placed in
    a unit that is no count unit (KG, M, L) is rounded as its item's stock unit is: to whole
    stock units when that is a count unit, else not (step 0). A line in another count unit
    whose factor is unknown (no original quantity) is rounded as its item's stock unit too.

    Items are numbered by the caller (the same numbers for the lines and the coverage; -1:
    unknown, the last entry of the per-item arrays). ``item_step``: per item 1 where its stock
    unit is a count unit, else 0; ``other``: per item whether some line of it is in another
    unit than the stock unit (few: only those lines are looked up by reference); ``lines``:
    those lines' references (``PO/line``, the last line of a reference kept, as a dict by
    reference keeps it), ``line_step`` their steps and ``line_received`` what they have
    received (stock units): a line of 30 BOX of 50 EA with 130 EA received that needs 500 more
    is to be ordered 13 BOX (650 EA: 520 open), not 130 + 500 = 12.6 BOX."""

    item_step: np.ndarray
    other: np.ndarray
    lines: pd.Index
    line_step: np.ndarray
    line_received: np.ndarray

    @classmethod
    def of(cls, lines: pd.DataFrame, line_item: np.ndarray, item_unit: np.ndarray,
           counts: Collection[str] = COUNT_UNIT_CODES) -> PlacingUnits:
        """The placing units of the PO ``lines`` (``purchase_order, line, orig_uom,
        quantity_ordered, orig_quantity_ordered``); ``line_item``: per line its item's number;
        ``item_unit``: per item number its stock unit ("" where unknown, one more "" at the
        end for -1); ``counts``: the codes of the count units (the units table's category
        ``count``, :func:`workbench.analysis.lots.count_units`)."""
        codes = frozenset(str(c) for c in counts)
        item_unit = np.asarray(item_unit, dtype=object)
        item_step = _is_count(item_unit, codes).astype(float)
        other = np.zeros(len(item_unit), bool)
        if not len(lines) or "orig_uom" not in lines:
            return cls(item_step, other, pd.Index([], dtype=object), np.zeros(0), np.zeros(0))
        own = item_unit[line_item]
        unit, found = _units(lines["orig_uom"].to_numpy(object))
        placed = found & (unit != own)  # in a unit of its own, not the stock unit
        at = np.flatnonzero(placed)
        unit, line_item = unit[at], line_item[at]
        ordered = lines["quantity_ordered"].to_numpy(float)[at]
        orig = (lines["orig_quantity_ordered"].to_numpy(float)[at]
                if "orig_quantity_ordered" in lines else np.full(len(at), np.nan))
        known = np.isfinite(ordered) & np.isfinite(orig) & (ordered > EPS) & (orig > EPS)
        step = np.where(known, ordered / np.where(known, orig, 1.0), item_step[line_item])
        measured = ~_is_count(unit, codes)
        step[measured] = item_step[line_item[measured]]
        received = (np.nan_to_num(lines["quantity_received"].to_numpy(float)[at])
                    if "quantity_received" in lines else np.zeros(len(at)))
        sel = lines.iloc[at]
        refs = (sel["purchase_order"].astype(str) + "/" + sel["line"].astype(str)).to_numpy(
            object)
        last = ~pd.Index(refs).duplicated(keep="last")
        other[line_item] = True  # -1: an item the master lacks (its coverage rows are -1)
        return cls(item_step, other, pd.Index(refs[last], dtype=object), step[last],
                   received[last])

    def placing(self, cov: pd.DataFrame, cov_item: np.ndarray) -> Placing:
        """Per coverage row its step and offset (``cov_item``: its item's number): a work
        order's and a line's in the stock unit by the item (offset 0), a line in a unit of its
        own by its reference."""
        step: np.ndarray = self.item_step[cov_item]
        offset = np.zeros(len(step))
        ask = np.flatnonzero(self.other[cov_item])
        if len(ask):
            ask = ask[cov["kind"].to_numpy(object)[ask] == PO]
            found = self.lines.get_indexer(cov["ref"].to_numpy(object)[ask])
            step[ask[found >= 0]] = self.line_step[found[found >= 0]]
            offset[ask[found >= 0]] = self.line_received[found[found >= 0]]
        return Placing(step, offset)


def _units(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit codes as text ("" where missing) and where one is given."""
    found, distinct = pd.factorize(codes)  # missing: -1
    text = np.append(np.asarray([str(u) for u in distinct], dtype=object), "")[found]
    return text, (found >= 0) & (text != "")


def _is_count(units: np.ndarray, counts: frozenset[str]) -> np.ndarray:
    """Per unit code whether it is a count unit of ``counts`` (each distinct code judged once;
    the usual count codes of :data:`~workbench.analysis.lots.COUNT_UNIT_CODES` compared
    without case, as :class:`workbench.analysis.requisitions.UnitFacts` does)."""
    found, distinct = pd.factorize(units)  # missing: -1, no count unit
    usual = counts == COUNT_UNIT_CODES
    hit = np.array([str(u) in counts or (usual and str(u).upper() in COUNT_UNIT_CODES)
                    for u in distinct], bool)
    return np.append(hit, False)[found]


def whole_units(quantity: np.ndarray, step: np.ndarray,
                offset: np.ndarray | None = None) -> np.ndarray:
    """``quantity`` raised so that ``offset + quantity`` is a whole number of steps, where the
    step is above 0 (a count unit of that many stock units; the tolerance of
    :func:`~workbench.analysis.netting.lot_size`, so a quantity a hair above a whole number of
    steps is not raised by one more)."""
    has = step > EPS
    safe = np.where(has, step, 1.0)
    off = np.zeros(len(quantity)) if offset is None else offset
    whole = np.ceil((off + quantity) / safe - 1e-9) * safe - off
    return np.where(has, np.round(whole, 9), quantity)


def reduce(cov: pd.DataFrame, plan: Plan, by: np.ndarray | None = None,
           placing: Placing | None = None) -> pd.DataFrame:
    """E04: part of it is more than every requirement: suggested open quantity
    ``lot_size(needed)`` (the item's minimum, then multiple), then rounded up to whole units of
    the unit it is placed in (``placing``: per coverage row, :meth:`PlacingUnits.placing`;
    None: not rounded), when that is less than its quantity. Only the receipts whose lot-sized need
    is below their quantity are rounded (rounding only raises it)."""
    item = plan.item[cov["row"].to_numpy()]
    needed = cov["needed"].to_numpy()
    quantity = cov["quantity"].to_numpy()
    proposed = lot_size(needed, plan.items.min_order_qty[item], plan.items.order_multiple[item])
    mask = (needed > EPS) & (proposed < quantity - EPS)
    if placing is not None and mask.any():
        at = np.flatnonzero(mask)
        placed = whole_units(proposed[at], placing.step[at], placing.offset[at])
        proposed[at] = placed
        mask[at] = placed < quantity[at] - EPS
    return _firm(cov, mask, "reduce", {"suggested_quantity": proposed,
                                       "reason": "more than the requirements it serves"}, by)


def increase(cov: pd.DataFrame, plan: Plan, by: np.ndarray | None = None,
             placing: Placing | None = None) -> pd.DataFrame:
    """E05: the plan still plans new supply (a planned receipt) in the bucket a firm receipt
    is due: the first firm receipt of that bucket (by due day, reference) is to be increased
    by the planned receipt, suggested quantity ``quantity + planned(row, bucket)``, rounded up
    to whole units of the unit it is placed in (``placing``, as :func:`reduce`)."""
    row = cov["row"].to_numpy()
    bucket = cov["bucket"].to_numpy()
    planned = plan.planned[row, bucket] if len(cov) else np.zeros(0)
    first = ~cov.duplicated(["row", "bucket"]).to_numpy()
    mask = first & (planned > EPS)
    suggested = cov["quantity"].to_numpy() + planned
    if placing is not None and mask.any():
        at = np.flatnonzero(mask)
        suggested[at] = whole_units(suggested[at], placing.step[at], placing.offset[at])
    return _firm(cov, mask, "increase", {
        "suggested_quantity": suggested, "days": np.full(len(cov), np.nan),
        "reason": "the plan needs more in the bucket it is due"}, by)


def release_past_due(plan: Plan) -> pd.DataFrame:
    """E06: planned receipts whose release date ``start(bucket) - lead time`` lies before
    the planning day (netting placed their release in bucket 0). One message per row: the
    earliest such receipt's need date and release date (suggested: release today),
    ``days`` = days the release is overdue, quantity = every past-due planned receipt."""
    cal = plan.calendar
    rows = np.unique(above(plan.planned, EPS)[0])
    offset = plan.offsets(rows)
    late = (np.arange(cal.n_buckets)[None, :] < offset[:, None]) & (plan.planned[rows] > EPS)
    has = late.any(axis=1)
    rows, late = rows[has], late[has]
    first = late.argmax(axis=1)
    lead = plan.items.lead_time_days[plan.item[rows]]
    need = np.maximum(cal.starts[first], cal.today)
    release = cal.starts[first] - lead
    item = plan.items.codes[plan.item[rows]]
    site = np.asarray(plan.sites)[plan.site[rows]]
    make = plan.items.make[plan.item[rows]]
    out = frame("release_past_due", len(rows), {
        "element": [f"planned:{i}@{s}" for i, s in zip(item, site)],
        "element_type": "planned_order", "item": item, "site": site,
        "due_day": need, "need_day": need, "suggested_day": np.full(len(rows), cal.today),
        "quantity": (plan.planned[rows] * late).sum(axis=1),
        "days": (cal.today - release).astype(float),
        "role": str_array(choice(make, "buyer", "planner")),
        "reason": "release date before the planning day: it cannot arrive in time"})
    out["_row"] = rows
    out["_late"] = list(late)
    return out


def order_past_due(data: PlanningData, today: int, s: ExceptionSettings,
                   lines: pd.DataFrame | None = None, orders: pd.DataFrame | None = None
                   ) -> pd.DataFrame:
    """E07: an open PO line (promise, else requested date) or open work order (due date)
    due more than the tolerance before the planning day; ``days`` = days overdue. ``lines``,
    ``orders``: the open PO lines and work orders when the caller has them already."""
    pol = open_purchase_lines(data) if lines is None else lines
    wo = open_work_orders(data) if orders is None else orders
    wo = wo[wo["remaining"] > EPS]
    due = np.concatenate([pol["due_day"].to_numpy(np.int64), day_numbers(wo["due_date"])])
    element = np.concatenate([(pol["purchase_order"] + "/" + pol["line"].astype(str)).to_numpy(),
                              wo["code"].to_numpy()])
    is_wo = np.r_[np.zeros(len(pol), bool), np.ones(len(wo), bool)]
    mask = (due != NO_DATE) & (today - due > s.past_due_tolerance_days)
    return frame("order_past_due", int(mask.sum()), {
        "element": element[mask],
        "element_type": np.where(is_wo, "work_order", "purchase_order_line")[mask],
        "item": np.concatenate([pol["item"].to_numpy(), wo["item"].to_numpy()])[mask],
        "site": np.concatenate([pol["site"].to_numpy(), wo["site"].to_numpy()])[mask],
        "supplier": np.concatenate([pol["supplier"].to_numpy(), np.full(len(wo), "")])[mask],
        "due_day": due[mask], "days": (today - due[mask]).astype(float),
        "quantity": np.concatenate([pol["remaining"].to_numpy(float),
                                    wo["remaining"].to_numpy(float)])[mask],
        "role": np.where(is_wo, "planner", "buyer")[mask],
        "reason": "open after its due date"})


def below_safety_stock(plan: Plan) -> pd.DataFrame:
    """E08: firm projected available (on hand + scheduled receipts - gross requirements, no
    planned orders) below the safety stock in a bucket starting before ``today + lead time``
    (bucket 0 always): no order placed now arrives before. The first such bucket; quantity =
    safety stock - firm projected available there."""
    cal = plan.calendar
    safety = plan.items.safety_stock[plan.item]
    rows = np.flatnonzero(safety > EPS)
    if plan.planned_at is not None:
        rows = rows[plan.planned_at[plan.key[rows]]]
    lead = plan.items.lead_time_days[plan.item[rows]]
    width = max(1, int(np.searchsorted(cal.starts, cal.today + lead.max(initial=0), "left")))
    # rows all zero in both matrices (most of them): their firm projection is on hand in
    # every bucket (on hand + 0.0), below the safety stock in bucket 0 (always in the
    # window) or never: judged on one column; only the others are read, summed and
    # searched bucket by bucket
    live = _maybe_nonzero(plan.scheduled, rows) | _maybe_nonzero(plan.gross, rows)
    limit = safety[rows] - EPS
    base = plan.on_hand[rows] + 0.0
    has = base < limit
    first = np.zeros(len(rows), np.int64)
    gap = safety[rows] - base
    if live.any():
        some = rows[live]
        firm = plan.on_hand[some][:, None] + np.cumsum(
            plan.scheduled[some, :width] - plan.gross[some, :width], axis=1)
        window = (cal.starts[None, :width] < (cal.today + lead[live])[:, None])
        window[:, 0] = True
        under = (firm < limit[live][:, None]) & window
        at = under.argmax(axis=1)
        has[live] = under.any(axis=1)
        first[live] = at
        gap[live] = safety[some] - firm[np.arange(len(some)), at]
    rows, first, gap = rows[has], first[has], gap[has]
    item = plan.items.codes[plan.item[rows]]
    site = np.asarray(plan.sites)[plan.site[rows]]
    out = frame("below_safety_stock", len(rows), {
        "element": [f"{i}@{s}" for i, s in zip(item, site)], "element_type": "item_site",
        "item": item, "site": site,
        "need_day": np.maximum(cal.starts[first], cal.today), "quantity": gap,
        "suggested_quantity": gap, "reason": "within lead time: no new order arrives before"})
    out["_row"] = rows
    return out


def _maybe_nonzero(matrix: object, rows: np.ndarray) -> np.ndarray:
    """Per row of ``rows``: False where ``matrix`` is known to be all zero there (a
    :class:`~workbench.analysis.rowmatrix.RowMatrix` row pointing at its shared zero row),
    True otherwise (a dense array: every row)."""
    if isinstance(matrix, RowMatrix):
        return np.asarray(matrix.slot[rows] != matrix.n_stored, bool)
    return np.ones(len(rows), bool)
