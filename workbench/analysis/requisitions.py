"""Re-evaluating open requisitions against the current plan.

The plan nets stock and every open PO line (and work order) first; requisitions are not supply
there. What remains is the row's **net requirement** by bucket, lot-for-lot (the quantities and
dates new supply is still needed, before any lot rule; :mod:`workbench.analysis.coverage`).
Open requisitions of the row (statuses open and approved), in need-date order (then code), take
those needs first-in-first-out. Then, per requisition, the first rule that applies:

1. ``keep`` — its need date lies beyond the horizon: the plan cannot judge it.
2. ``cancel`` — it covers no need: the firm supply and earlier requisitions already cover it.
3. ``switch_source`` to an **alternate component** — the need it covers is dependent demand of
   parents whose BOM line of the item is the preferred line of an alternate group, and an
   alternate of that group has free stock for it by the first need (see below). Proposed: the
   alternate (``proposed_item``) and its quantity, no supplier: nothing needs to be bought.
4. ``reduce`` — the order quantity for the need it covers is less than its quantity.
5. ``increase`` — the last requisition of the row, when needs remain after all requisitions
   (proposed: the order quantity for its own need + the uncovered need).
6. ``switch_source`` to another **supplier** — its supplier's expected slip would make it arrive
   in a later bucket than the first need it covers, and another supplier that has delivered the
   item would not.
7. ``expedite`` — it is due in a later bucket than the first need it covers.
8. ``defer`` — it is due in an earlier bucket than the first need it covers.
9. ``keep`` otherwise.

**Quantities** (rules 3-5) are order quantities a buyer can place: the need rounded up to whole
units of a count unit, then to the item's minimum, its multiple and the supplier's pack, in that
order (:mod:`workbench.analysis.lots`); the reason says when a quantity was rounded and why.

**Dates.** Rules 3-6 propose the date of the first need covered. When that is not the
requisition's need date the advice moves the date too, and the reason says both: "Reduce to 40
and pull in from 2025-03-24 to 2025-03-10". **Lead time**: a pull-in (an expedite, or any advice
whose date is earlier than the requisition's) or an increase dated earlier than today + the
supplier's lead time (the supplier's ``lead_time_days``, else the item's) cannot be had by
ordering now: the advice is flagged ``needs_supplier_confirmation`` in its evidence and its
reason says so.

**Evidence**: besides the figures it is based on, a small table (``coverage``) that adds up —
per need date: required, from stock, from open orders, from earlier requisitions, from this
requisition, still short (:func:`workbench.analysis.coverage.coverage_lines`) — with the item's
unit and description.

Everything is ordered by code, so the same cache gives the same recommendations.

**Alternate components** (rule 3). BOM lines sharing a non-empty ``alternate_group`` within one
revision are substitutes and planning explodes only the preferred one (:mod:`~workbench.analysis.bom`),
so a shortage of the preferred component X may be met from stock of an alternate Y instead of a
purchase. The rule comes right after ``cancel``: using stock that is already there beats buying
X, whatever the size, date or supplier of the purchase, so it is checked before them. In detail:

* Switchable is X's dependent requirement from parents through a preferred grouped line in
  force (the plan's BOM segments), at X's site, per bucket. In each covered bucket at most that
  requirement can move to Y (switching it lowers X's requirement there by as much); the rule
  applies only when Y can take *all* the need the requisition covers. Work-order components and
  independent demand are never switched (a work order's components are its own).
* Quantity: the covered X quantity (not the requisition's: what it holds beyond the need is
  excess either way) converted through the two lines' quantity per parent unit, scrap included
  as planning explodes it: ``Y = X × (qty_per_Y × (1 + scrap_Y)) / (qty_per_X × (1 + scrap_X))``,
  per parent line.
* Y's **free stock** by the first covered need (bucket ``b``) is ``min over t ≥ b`` of Y's firm
  projected available (on hand + scheduled receipts − gross requirements, no planned receipts)
  minus its safety stock: what stock and open receipts up to the need hold beyond every own
  requirement of Y in the horizon, so the switch never makes Y short later. It must cover the
  converted quantity.
* Candidates are taken in alternate order (lowest ``alternate_priority``, then position, then
  code); the first with enough free stock is proposed. Free stock taken by a switch is no longer
  free for later requisitions, and a parent's requirement switched once is not switched again;
  requisitions are judged in (item, site, need date, code) order, so the same cache gives the
  same switches.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.analysis.alternates import Alternate, AlternateStock, alternate_lines
from workbench.analysis.coverage import RowCoverage, coverage_lines
from workbench.analysis.data import PlanningData, date_of, day_numbers
from workbench.analysis.lots import (
    COUNT_UNIT_CODES,
    OrderRules,
    Pack,
    Rounded,
    order_quantity,
)
from workbench.analysis.netting import Plan
from workbench.analysis.revisions import OPEN_REQUISITIONS
from workbench.analysis.sources import EPS

__all__ = ["Alternate", "AlternateStock", "UnitFacts", "alternate_lines", "reevaluate"]

PegLookup = Callable[[int, list[int]], list[dict[str, Any]]]


@dataclass(frozen=True)
class UnitFacts:
    """What the units table and the purchase history say about order quantities: the codes of
    the count units, and per (item, supplier) the pack it is sold in where known
    (:func:`workbench.analysis.lots.pack_sizes`)."""

    counts: frozenset[str] = COUNT_UNIT_CODES
    packs: dict[tuple[str, str], Pack] = field(default_factory=dict)

    def is_count(self, unit: str) -> bool:
        return unit in self.counts or (self.counts is COUNT_UNIT_CODES
                                       and unit.upper() in COUNT_UNIT_CODES)


def _supplier_history(data: PlanningData) -> dict[str, list[str]]:
    pol = data.purchase_order_lines
    pairs = pol[["item", "supplier"]].drop_duplicates().sort_values(["item", "supplier"])
    return {str(k): list(g["supplier"]) for k, g in pairs.groupby("item")}


def _item_master(data: PlanningData) -> pd.DataFrame:
    return data.items.drop_duplicates("code").set_index("code")


def _text(master: pd.DataFrame, code: str, column: str) -> str:
    if column not in master or code not in master.index:
        return ""
    value = master.at[code, column]
    return "" if pd.isna(value) else str(value)


@dataclass
class _Row:
    """One (item, site) being judged: what covers its requirements, and its requisitions with
    the net requirement each takes (first in, first out; see the module doc)."""

    item: str
    site: str
    unit: str
    coverage: RowCoverage
    requisitions: list[Any]
    covered: list[list[tuple[int, float]]]
    left: np.ndarray  # net requirement no requisition takes
    context: dict[str, Any]

    def taken(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Per bucket: what requisitions before the ``k``-th take, and what it takes."""
        n = len(self.left)
        before, this = np.zeros(n), np.zeros(n)
        for j, cov in enumerate(self.covered[:k + 1]):
            for b, q in cov:
                (this if j == k else before)[b] += q
        return before, this


def _allocate(records: list[Any], needs: np.ndarray, cal: Any) -> list[list[tuple[int, float]]]:
    """The net requirement each requisition takes, in order; ``needs`` keeps what is left."""
    out: list[list[tuple[int, float]]] = []
    cursor = 0
    for r in records:
        covered: list[tuple[int, float]] = []
        if cal.bucket(np.array([r.need_day]))[0] >= 0:
            left = float(r.quantity)
            while left > EPS and cursor < cal.n_buckets:
                take = min(left, needs[cursor])
                if take > EPS:
                    covered.append((cursor, take))
                    needs[cursor] -= take
                    left -= take
                if needs[cursor] <= EPS:
                    cursor += 1
        out.append(covered)
    return out


def reevaluate(data: PlanningData, plan: Plan, slip_days: dict[str, float],
               pegs: PegLookup | None = None, *, units: UnitFacts | None = None
               ) -> pd.DataFrame:
    """One recommendation per open requisition (see module doc), sorted by requisition code.

    ``slip_days``: supplier -> expected slip in days. ``pegs(row, buckets)``: the top-level demands
    the net requirement of ``row`` in ``buckets`` serves, for the evidence (optional). ``units``:
    count units and supplier packs (default: the usual count codes, no packs).
    """
    units = units or UnitFacts()
    cal = plan.calendar
    req = data.requisitions[data.requisitions["status"].isin(OPEN_REQUISITIONS)].copy()
    req["need_day"] = day_numbers(req["need_date"])
    req = req.sort_values(["item", "site", "need_day", "code"], kind="stable")
    master = _item_master(data)
    lines = alternate_lines(data)
    judge = _Judge(
        plan, slip_days, units,
        lead=dict(zip(data.suppliers["code"], data.suppliers["lead_time_days"])),
        names=dict(zip(data.suppliers["code"], data.suppliers["name"])),
        history=_supplier_history(data),
        alternates=AlternateStock(plan, lines, lambda c: units.is_count(
            _text(master, c, "stock_uom"))) if lines else None)
    open_po = plan.sources.receipts[plan.sources.receipts["kind"] == "purchase_order"]
    on_order = open_po.groupby(["item", "site"])["quantity"].sum()
    out: list[dict[str, Any]] = []
    for (item, site), group in req.groupby(["item", "site"], sort=True):
        row = plan.row(str(item), str(site))
        n = cal.n_buckets
        if row is None:
            cov = RowCoverage.of(0.0, np.zeros(n), np.zeros(n), 0.0)
        else:
            cov = RowCoverage.of(float(plan.on_hand[row]), plan.scheduled[row], plan.gross[row],
                                 float(plan.items.safety_stock[plan.item[row]]))
        needs = cov.net.copy()
        summary = None if row is None else plan.summary(np.array([row])).iloc[0]
        unit = _text(master, str(item), "stock_uom")
        context = {
            "item": item, "site": site, "unit": unit,
            "description": _text(master, str(item), "description"),
            "on_hand": 0.0 if row is None else float(plan.on_hand[row]),
            "on_order": float(on_order.get((item, site), 0.0)),
            "first_shortage_date": None if summary is None or pd.isna(
                summary["first_shortage_date"]) else summary["first_shortage_date"].date(),
            "open_needs": [{"date": cal.need_date(b), "quantity": float(q)}
                           for b, q in enumerate(needs) if q > EPS],
        }
        records = list(group.itertuples())
        covered = _allocate(records, needs, cal)
        state = _Row(str(item), str(site), unit, cov, records, covered, needs, context)
        for k in range(len(records)):
            rec = judge.decide(state, k)
            if pegs is not None and row is not None and covered[k]:
                rec["evidence"]["pegged_demands"] = pegs(row, [b for b, _ in covered[k]])
            out.append(rec)
    frame = pd.DataFrame(out, columns=["requisition", "item", "site", "action",
                                       "proposed_quantity", "proposed_date",
                                       "proposed_supplier", "proposed_item", "reason",
                                       "evidence", "base_version"])
    return frame.sort_values("requisition").reset_index(drop=True)


def _fmt(x: float) -> str:
    return f"{x:,.6g}"


@dataclass
class _Judge:
    """The rules of the module doc for one requisition at a time (shared facts held once)."""

    plan: Plan
    slip_days: dict[str, float]
    units: UnitFacts
    lead: dict[str, int]
    names: dict[str, str]
    history: dict[str, list[str]]
    alternates: AlternateStock | None

    def rules(self, item: str, unit: str, supplier: str) -> OrderRules:
        idx = int(self.plan.items.idx([item])[0])
        return OrderRules(unit, self.units.is_count(unit),
                          float(self.plan.items.min_order_qty[idx]),
                          float(self.plan.items.order_multiple[idx]),
                          self.units.packs.get((item, supplier)))

    def lead_time(self, item: str, supplier: str) -> tuple[int, str]:
        """Days and whose: the supplier's lead time, else the item's."""
        days = self.lead.get(supplier)
        if days is not None and not pd.isna(days) and int(days) > 0:
            return int(days), f"{supplier}'s lead time"
        idx = int(self.plan.items.idx([item])[0])
        return int(self.plan.items.lead_time_days[idx]), f"{item}'s lead time"

    def decide(self, row: _Row, k: int) -> dict[str, Any]:
        r, covered = row.requisitions[k], row.covered[k]
        cal = self.plan.calendar
        bucket = int(cal.bucket(np.array([r.need_day]))[0])
        qty = float(r.quantity)
        need_date = date_of(int(r.need_day))
        default = self.plan.items.default_supplier[self.plan.items.idx([r.item])[0]]
        supplier = r.suggested_supplier or str(default)
        slip = float(self.slip_days.get(supplier, 0.0))
        covered_qty = sum(q for _, q in covered)
        last = k == len(row.requisitions) - 1
        leftover = float(row.left.sum()) if last else 0.0
        before, this = row.taken(k)
        short = np.maximum(row.coverage.net - before - this, 0.0)  # later ones' or nobody's
        end = max([b for b, _ in covered] + [bucket if bucket >= 0 else cal.n_buckets - 1])
        evidence: dict[str, Any] = dict(row.context)
        evidence.update({
            "requisition_quantity": qty, "need_date": need_date, "supplier": supplier,
            "supplier_name": str(self.names.get(supplier) or ""),
            "supplier_expected_slip_days": slip,
            "supplier_lead_time_days": self.lead.get(supplier),
            "covered_quantity": covered_qty,
            "covered_needs": [{"date": cal.need_date(b), "quantity": q} for b, q in covered],
            "excess": max(qty - covered_qty, 0.0),
            "coverage": coverage_lines(row.coverage, cal, before, this, short, end),
        })
        advice = _Advice(self, row, r, need_date, supplier, slip, evidence)
        if bucket < 0:
            advice.reason = (f"Keep: needed {need_date}, beyond the planning horizon ending "
                             f"{cal.date(cal.n_buckets)}; the plan cannot judge it yet.")
        elif covered_qty <= EPS:
            advice.cancel(qty)
        else:
            advice.weigh(bucket, covered, leftover)
        return advice.result()


@dataclass
class _Advice:
    """One requisition's advice being made: action, proposal, reason and evidence."""

    judge: _Judge
    row: _Row
    r: Any
    need_date: dt.date
    supplier: str
    slip: float
    evidence: dict[str, Any]
    action: str = "keep"
    quantity: float = 0.0
    date: dt.date | None = None
    proposed_supplier: str = ""
    proposed_item: str = ""
    reason: str = ""

    def __post_init__(self) -> None:
        self.quantity, self.date = float(self.r.quantity), self.need_date
        self.proposed_supplier = self.supplier

    @property
    def unit_of(self) -> str:
        return f"{self.r.item} at {self.r.site}"

    def qty(self, x: float) -> str:
        """A quantity with the item's unit: '312 EA'."""
        return f"{_fmt(x)} {self.row.unit}".rstrip()

    def cancel(self, qty: float) -> None:
        c = self.row.context
        self.action, self.quantity = "cancel", 0.0
        self.reason = (f"Cancel: stock ({_fmt(c['on_hand'])}), open POs "
                       f"({_fmt(c['on_order'])}) and earlier requisitions cover every "
                       f"requirement of {self.unit_of} in the horizon; this requisition would "
                       f"create {_fmt(qty)} excess.")

    def rounded(self, rounding: Rounded) -> str:
        if not rounding.steps:
            return ""
        self.evidence["order_quantity"] = {"needed": rounding.needed,
                                           "quantity": rounding.quantity,
                                           "rounded_for": list(rounding.steps)}
        return f" Order quantity: {rounding.note()}."

    def weigh(self, bucket: int, covered: list[tuple[int, float]], leftover: float) -> None:
        j, r, cal = self.judge, self.r, self.judge.plan.calendar
        qty, covered_qty = float(r.quantity), sum(q for _, q in covered)
        first = covered[0][0]
        required = cal.need_date(first)
        rules = j.rules(str(r.item), self.row.unit, self.supplier)
        reduced = order_quantity(covered_qty, rules)
        alt, checked = (None, []) if j.alternates is None else \
            j.alternates.switch(str(r.item), str(r.site), covered)
        if checked:
            self.evidence["alternates_checked"] = checked
        if alt is not None:
            self.action, self.quantity, self.date = "switch_source", alt["quantity"], required
            self.proposed_supplier, self.proposed_item = "", alt["item"]
            self.evidence["alternate"] = alt
            self.reason = _alternate_reason(alt, str(r.item), str(r.site), qty, _fmt)
            if alt["quantity"] > alt.get("converted_quantity", alt["quantity"]) + EPS:
                self.reason = (self.reason[:-1] + f"; {alt['item']} is taken in whole "
                               f"units: {_fmt(alt['converted_quantity'])} rounded up to "
                               f"{_fmt(alt['quantity'])}.")
            if leftover > EPS:
                self.evidence["uncovered_quantity"] = leftover
                self.reason = (self.reason[:-1] + f"; {_fmt(leftover)} more of {r.item} is "
                               f"needed beyond all open POs and requisitions, first on "
                               f"{self._first_left()}.")
        elif reduced.quantity < qty - EPS:
            self.action, self.quantity, self.date = "reduce", reduced.quantity, required
            self.reason = (f"Reduce to {self.qty(reduced.quantity)}{self._move()}: only "
                           f"{self.qty(covered_qty)} of {self.unit_of} is still needed after "
                           f"stock and open POs (first need {required}); "
                           f"{_fmt(qty - reduced.quantity)} would be excess."
                           + self.rounded(reduced))
        elif leftover > EPS:
            increased = order_quantity(covered_qty + leftover, rules)
            if increased.quantity <= qty + EPS:  # rounding already covers it
                increased = order_quantity(qty + leftover, rules)
            self.action, self.quantity, self.date = "increase", increased.quantity, required
            self.reason = (f"Increase to {self.qty(increased.quantity)}{self._move()}: "
                           f"{self.qty(leftover)} of {self.unit_of} is needed beyond all open "
                           f"POs and requisitions, first on {self._first_left()}."
                           + self.rounded(increased))
            self.evidence["uncovered_quantity"] = leftover
        else:
            self.timing(bucket, first, required, covered_qty, reduced)

    def _first_left(self) -> dt.date:
        cal = self.judge.plan.calendar
        return cal.need_date(int(np.flatnonzero(self.row.left > EPS)[0]))

    def _move(self) -> str:
        """' and pull in from A to B' / ' and defer from A to B' when the date moves too."""
        if self.date is None or self.date == self.need_date:
            return ""
        verb = "pull in" if self.date < self.need_date else "defer"
        return f" and {verb} from {self.need_date} to {self.date}"

    def timing(self, bucket: int, first: int, required: dt.date, covered_qty: float,
               reduced: Rounded) -> None:
        """Rules 6-9: the quantity is right; is the date, and the supplier?"""
        j, r, cal = self.judge, self.r, self.judge.plan.calendar
        slip, supplier = self.slip, self.supplier
        arrival = cal.bucket(np.array([int(r.need_day) + round(slip)]))[0]
        arrival = cal.n_buckets if arrival < 0 else int(arrival)
        better = _other_supplier(j.history.get(str(r.item), []), supplier, j.slip_days,
                                 int(r.need_day), first, j.plan)
        if slip > 0 and arrival > first and better is not None:
            self.action, self.proposed_supplier, self.date = "switch_source", better, required
            self.reason = (f"Switch to {better}{self._move()}: {supplier} slips {slip:.1f} days "
                           f"on average, so {self.unit_of} would arrive after the need on "
                           f"{required}; {better} has delivered this item with "
                           f"{j.slip_days.get(better, 0.0):.1f} days slip.")
        elif bucket > first:
            self.action, self.date = "expedite", required
            self.reason = (f"Expedite to {required}: the requirement it covers is due then, "
                           f"not {self.need_date}" + (f"; {supplier} also slips {slip:.1f} days"
                                                      if slip > 0 else "") + ".")
        elif bucket < first:
            self.action, self.date = "defer", required
            self.reason = (f"Defer to {required}: stock and open POs cover {self.unit_of} until "
                           f"then; needed date {self.need_date} is early.")
        else:
            self.reason = (f"Keep: covers {self.qty(covered_qty)} of {self.unit_of} needed on "
                           f"{required}" + (f"; {supplier} expected slip {slip:.1f} days still "
                                            f"arrives in time" if slip > 0 else "") + ".")
            if float(r.quantity) > covered_qty + EPS:
                self.reason += (f" The other {_fmt(float(r.quantity) - covered_qty)} stays: "
                                f"{reduced.note()}." if reduced.steps else "")

    def feasibility(self) -> str:
        """Lead-time check of a pull-in or an increase (module doc); the reason's sentence."""
        if self.date is None or self.action in ("cancel", "keep", "defer") \
                or self.proposed_item:
            return ""
        pull_in = self.date < self.need_date
        if not (pull_in or self.action == "increase"):
            return ""
        supplier = self.proposed_supplier or self.supplier
        days, whose = self.judge.lead_time(str(self.r.item), supplier)
        today = date_of(self.judge.plan.calendar.today)
        earliest = today + dt.timedelta(days=days)
        self.evidence["lead_time"] = {"days": days, "of": whose, "earliest": earliest}
        inside = self.date < earliest
        self.evidence["needs_supplier_confirmation"] = inside
        if not inside:
            return ""
        what = "pull-in" if pull_in else "increase"
        return (f" Needs {supplier or 'the supplier'}'s confirmation: the {what} to {self.date} "
                f"is inside {whose} of {days} days (ordered today it arrives {earliest}).")

    def result(self) -> dict[str, Any]:
        self.reason += self.feasibility()
        ev, plan = self.evidence, self.judge.plan
        idx = int(plan.items.idx([str(self.r.item)])[0])
        # the facts the advice rests on, which decide whether it is raised again after a
        # buyer modified or rejected it (workbench.services.reevaluate, "held")
        ev["basis"] = {
            "net_requirement": float(ev["covered_quantity"] + ev.get("uncovered_quantity", 0.0)),
            "first_need": ev["covered_needs"][0]["date"] if ev["covered_needs"] else None,
            "order_multiple": float(plan.items.order_multiple[idx]),
            "bucket_days": int(plan.calendar.bucket_days),
        }
        if self.date is not None and self.date != self.need_date:
            self.evidence["date_change"] = {
                "kind": "pull_in" if self.date < self.need_date else "defer",
                "from": self.need_date, "to": self.date,
                "days": (self.date - self.need_date).days}
        r = self.r
        return {
            "requisition": r.code, "item": r.item, "site": r.site, "action": self.action,
            "proposed_quantity": self.quantity, "proposed_date": self.date,
            "proposed_supplier": self.proposed_supplier, "proposed_item": self.proposed_item,
            "reason": self.reason, "evidence": self.evidence,
            "base_version": r.source_version or None,
        }


def _alternate_reason(alt: dict[str, Any], item: str, site: str, qty: float,
                      fmt: Callable[[float], str]) -> str:
    """Rule 3's reason: the group and parents, the alternate's free stock and the date."""
    y, when = alt["item"], alt["free_by"]
    parents = "; ".join(f"{ln['parent']} (revision {ln['revision']}, alternate group "
                        f"{ln['group']}, {ln['ratio']:g} {y} per {item})" for ln in alt["lines"])
    text = (f"Switch to alternate {y}: {fmt(alt['replaces_quantity'])} of {item} at {site} is "
            f"still needed from {when} for {parents}, where {y} may replace {item}; {y} has "
            f"{fmt(alt['free_quantity'])} free at {site} by {when} (stock and open receipts its "
            f"own requirements do not need), enough for the {fmt(alt['quantity'])} {y} "
            f"needed, so nothing has to be bought")
    if qty > alt["replaces_quantity"] + EPS:
        text += f"; the other {fmt(qty - alt['replaces_quantity'])} requisitioned is not needed"
    return text + "."


def _other_supplier(candidates: list[str], current: str, slip_days: dict[str, float],
                    need_day: int, first_bucket: int, plan: Plan) -> str | None:
    """The supplier with the least expected slip that would still arrive by ``first_bucket``."""
    best: tuple[float, str] | None = None
    for sup in candidates:
        if sup == current:
            continue
        slip = float(slip_days.get(sup, 0.0))
        b = plan.calendar.bucket(np.array([need_day + round(slip)]))[0]
        if 0 <= b <= first_bucket and (best is None or (slip, sup) < best):
            best = (slip, sup)
    return None if best is None else best[1]
