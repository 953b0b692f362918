"""Re-evaluating open requisitions against the current plan.

The plan nets stock and every open PO line (and work order) first; requisitions are not supply
there. What remains are the row's planned receipts: the quantities and dates new supply is still
needed. Open requisitions of the row (statuses open and approved), in need-date order (then code),
take those needs first-in-first-out. Then, per requisition, the first rule that applies:

1. ``keep`` — its need date lies beyond the horizon: the plan cannot judge it.
2. ``cancel`` — it covers no need: the firm supply and earlier requisitions already cover it.
3. ``reduce`` — it covers part of its quantity (proposed: the lot-sized part it covers).
4. ``increase`` — the last requisition of the row, when needs remain after all requisitions
   (proposed: its quantity + the uncovered need, lot-sized).
5. ``switch_source`` — its supplier's expected slip would make it arrive in a later bucket than the
   first need it covers, and another supplier that has delivered the item would not.
6. ``expedite`` — it is due in a later bucket than the first need it covers.
7. ``defer`` — it is due in an earlier bucket than the first need it covers.
8. ``keep`` otherwise.

Rules 3–4 also propose the date of the first need covered. Quantities are lot-sized with the
item's minimum and multiple. Everything is ordered by code, so the same cache gives the same
recommendations.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from workbench.analysis.data import PlanningData, date_of, day_numbers
from workbench.analysis.netting import Plan, lot_size
from workbench.analysis.revisions import OPEN_REQUISITIONS
from workbench.analysis.sources import EPS

PegLookup = Callable[[int, list[int]], list[dict[str, Any]]]


def _supplier_history(data: PlanningData) -> dict[str, list[str]]:
    pol = data.purchase_order_lines
    pairs = pol[["item", "supplier"]].drop_duplicates().sort_values(["item", "supplier"])
    return {str(k): list(g["supplier"]) for k, g in pairs.groupby("item")}


def reevaluate(data: PlanningData, plan: Plan, slip_days: dict[str, float],
               pegs: PegLookup | None = None) -> pd.DataFrame:
    """One recommendation per open requisition (see module doc), sorted by requisition code.

    ``slip_days``: supplier -> expected slip in days. ``pegs(row, buckets)``: the top-level demands
    the planned receipts of ``row`` in ``buckets`` serve, for the evidence (optional).
    """
    cal = plan.calendar
    req = data.requisitions[data.requisitions["status"].isin(OPEN_REQUISITIONS)].copy()
    req["need_day"] = day_numbers(req["need_date"])
    req = req.sort_values(["item", "site", "need_day", "code"], kind="stable")
    lead = dict(zip(data.suppliers["code"], data.suppliers["lead_time_days"]))
    history = _supplier_history(data)
    open_po = plan.sources.receipts[plan.sources.receipts["kind"] == "purchase_order"]
    on_order = open_po.groupby(["item", "site"])["quantity"].sum()
    out: list[dict[str, Any]] = []
    for (item, site), group in req.groupby(["item", "site"], sort=True):
        row = plan.row(str(item), str(site))
        idx = int(plan.items.idx([str(item)])[0])
        moq, mult = plan.items.min_order_qty[idx:idx + 1], plan.items.order_multiple[idx:idx + 1]
        needs = np.zeros(cal.n_buckets) if row is None else plan.planned[row].copy()
        summary = None if row is None else plan.summary(np.array([row])).iloc[0]
        context = {
            "item": item, "site": site,
            "on_hand": 0.0 if row is None else float(plan.on_hand[row]),
            "on_order": float(on_order.get((item, site), 0.0)),
            "first_shortage_date": None if summary is None or pd.isna(
                summary["first_shortage_date"]) else summary["first_shortage_date"].date(),
            "open_needs": [{"date": cal.need_date(b), "quantity": float(q)}
                           for b, q in enumerate(needs) if q > EPS],
        }
        records = list(group.itertuples())
        cursor = 0
        for pos, r in enumerate(records):
            bucket = cal.bucket(np.array([r.need_day]))[0]
            covered: list[tuple[int, float]] = []
            if bucket >= 0:
                left = float(r.quantity)
                while left > EPS and cursor < cal.n_buckets:
                    take = min(left, needs[cursor])
                    if take > EPS:
                        covered.append((cursor, take))
                        needs[cursor] -= take
                        left -= take
                    if needs[cursor] <= EPS:
                        cursor += 1
            last = pos == len(records) - 1
            leftover = float(needs.sum()) if last else 0.0
            rec = _decide(r, int(bucket), covered, leftover, needs, plan, moq, mult,
                          slip_days, lead, history.get(str(item), []), context)
            if pegs is not None and row is not None and covered:
                rec["evidence"]["pegged_demands"] = pegs(row, [b for b, _ in covered])
            out.append(rec)
    frame = pd.DataFrame(out, columns=["requisition", "item", "site", "action",
                                       "proposed_quantity", "proposed_date",
                                       "proposed_supplier", "reason", "evidence",
                                       "base_version"])
    return frame.sort_values("requisition").reset_index(drop=True)


def _decide(r: Any, bucket: int, covered: list[tuple[int, float]], leftover: float,
            needs: np.ndarray, plan: Plan, moq: np.ndarray, mult: np.ndarray,
            slip_days: dict[str, float], lead: dict[str, int], suppliers: list[str],
            context: dict[str, Any]) -> dict[str, Any]:
    cal = plan.calendar
    qty = float(r.quantity)
    need_date = date_of(int(r.need_day))
    supplier = r.suggested_supplier or str(plan.items.default_supplier[plan.items.idx([r.item])[0]])
    slip = float(slip_days.get(supplier, 0.0))
    covered_qty = sum(q for _, q in covered)
    evidence: dict[str, Any] = dict(context)
    evidence.update({
        "requisition_quantity": qty, "need_date": need_date, "supplier": supplier,
        "supplier_expected_slip_days": slip, "supplier_lead_time_days": lead.get(supplier),
        "covered_quantity": covered_qty,
        "covered_needs": [{"date": cal.need_date(b), "quantity": q} for b, q in covered],
        "excess": max(qty - covered_qty, 0.0),
    })
    unit = f"{r.item} at {r.site}"
    action, p_qty, p_date, p_sup = "keep", qty, need_date, supplier

    def fmt(x: float) -> str:
        return f"{x:,.6g}"

    if bucket < 0:
        reason = (f"Keep: needed {need_date}, beyond the planning horizon ending "
                  f"{cal.date(cal.n_buckets)}; the plan cannot judge it yet.")
    elif covered_qty <= EPS:
        action, p_qty = "cancel", 0.0
        reason = (f"Cancel: stock ({fmt(context['on_hand'])}), open POs "
                  f"({fmt(context['on_order'])}) and earlier requisitions cover every requirement "
                  f"of {unit} in the horizon; this requisition would create {fmt(qty)} excess.")
    else:
        first = covered[0][0]
        required = cal.need_date(first)
        reduced = float(lot_size(np.array([covered_qty]), moq, mult)[0])
        if reduced < qty - EPS:
            action, p_qty, p_date = "reduce", reduced, required
            reason = (f"Reduce to {fmt(reduced)}: only {fmt(covered_qty)} of {unit} is still "
                      f"needed after stock and open POs (first need {required}); "
                      f"{fmt(qty - reduced)} would be excess.")
        elif leftover > EPS:
            increased = float(lot_size(np.array([qty + leftover]), moq, mult)[0])
            rest = [b for b in range(cal.n_buckets) if needs[b] > EPS]
            action, p_qty, p_date = "increase", increased, required
            reason = (f"Increase to {fmt(increased)}: {fmt(leftover)} of {unit} is needed beyond "
                      f"all open POs and requisitions, first on {cal.need_date(rest[0])}.")
            evidence["uncovered_quantity"] = leftover
        else:
            arrival = cal.bucket(np.array([int(r.need_day) + round(slip)]))[0]
            arrival = cal.n_buckets if arrival < 0 else int(arrival)
            better = _other_supplier(suppliers, supplier, slip_days, int(r.need_day), first, plan)
            if slip > 0 and arrival > first and better is not None:
                action, p_sup, p_date = "switch_source", better, required
                reason = (f"Switch to {better}: {supplier} slips {slip:.1f} days on average, "
                          f"so {unit} would arrive after the need on {required}; {better} has "
                          f"delivered this item with {slip_days.get(better, 0.0):.1f} days slip.")
            elif bucket > first:
                action, p_date = "expedite", required
                reason = (f"Expedite to {required}: the requirement it covers is due then, "
                          f"not {need_date}" + (f"; {supplier} also slips {slip:.1f} days"
                                                 if slip > 0 else "") + ".")
            elif bucket < first:
                action, p_date = "defer", required
                reason = (f"Defer to {required}: stock and open POs cover {unit} until then; "
                          f"needed date {need_date} is early.")
            else:
                reason = (f"Keep: covers {fmt(covered_qty)} of {unit} needed on {required}"
                          + (f"; {supplier} expected slip {slip:.1f} days still arrives in time"
                             if slip > 0 else "") + ".")
    return {
        "requisition": r.code, "item": r.item, "site": r.site, "action": action,
        "proposed_quantity": p_qty, "proposed_date": p_date, "proposed_supplier": p_sup,
        "reason": reason, "evidence": evidence, "base_version": r.source_version or None,
    }


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
