"""Re-evaluating open requisitions against the current plan.

The plan nets stock and every open PO line (and work order) first; requisitions are not supply
there. What remains are the row's planned receipts: the quantities and dates new supply is still
needed. Open requisitions of the row (statuses open and approved), in need-date order (then code),
take those needs first-in-first-out. Then, per requisition, the first rule that applies:

1. ``keep`` — its need date lies beyond the horizon: the plan cannot judge it.
2. ``cancel`` — it covers no need: the firm supply and earlier requisitions already cover it.
3. ``switch_source`` to an **alternate component** — the need it covers is dependent demand of
   parents whose BOM line of the item is the preferred line of an alternate group, and an
   alternate of that group has free stock for it by the first need (see below). Proposed: the
   alternate (``proposed_item``) and its quantity, no supplier: nothing needs to be bought.
4. ``reduce`` — it covers part of its quantity (proposed: the lot-sized part it covers).
5. ``increase`` — the last requisition of the row, when needs remain after all requisitions
   (proposed: its quantity + the uncovered need, lot-sized).
6. ``switch_source`` to another **supplier** — its supplier's expected slip would make it arrive
   in a later bucket than the first need it covers, and another supplier that has delivered the
   item would not.
7. ``expedite`` — it is due in a later bucket than the first need it covers.
8. ``defer`` — it is due in an earlier bucket than the first need it covers.
9. ``keep`` otherwise.

Rules 4–5 also propose the date of the first need covered. Quantities are lot-sized with the
item's minimum and multiple. Everything is ordered by code, so the same cache gives the same
recommendations.

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

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.analysis.bom import preferred_lines, scrap_factor
from workbench.analysis.data import PlanningData, date_of, day_numbers
from workbench.analysis.netting import Plan, lot_size
from workbench.analysis.revisions import OPEN_REQUISITIONS
from workbench.analysis.sources import EPS

PegLookup = Callable[[int, list[int]], list[dict[str, Any]]]


@dataclass(frozen=True)
class Alternate:
    """A lower-ranked line of an alternate group, seen from the group's preferred line."""

    item: str
    group: str
    priority: int
    position: int
    ratio: float  # units of this item per unit of the preferred item (scrap included)


def alternate_lines(data: PlanningData) -> dict[tuple[str, str, str], list[Alternate]]:
    """(parent, revision, preferred component) -> its alternates, in alternate order (see the
    module doc); computed once per set of BOM lines."""
    return data.derived(
        "alternate_lines", (data.bom_lines,), lambda: _alternate_lines(data.bom_lines))


def _alternate_lines(lines: pd.DataFrame) -> dict[tuple[str, str, str], list[Alternate]]:
    grouped = lines[lines["alternate_group"].fillna("").astype(str) != ""]
    if grouped.empty:
        return {}
    keys = ["parent", "revision", "alternate_group"]
    frame = grouped[keys + ["component", "alternate_priority", "position"]].assign(
        per_unit=grouped["quantity_per"].to_numpy(float)
        * scrap_factor(grouped["scrap_pct"].to_numpy(float)))
    preferred = preferred_lines(grouped).to_numpy(bool)
    pairs = frame[preferred].merge(frame[~preferred], on=keys, suffixes=("", "_alt"))
    pairs = pairs[pairs["component_alt"] != pairs["component"]].sort_values(
        keys + ["alternate_priority_alt", "position_alt", "component_alt"], kind="stable")
    out: dict[tuple[str, str, str], list[Alternate]] = {}
    for r in pairs.itertuples(index=False):
        out.setdefault((str(r.parent), str(r.revision), str(r.component)), []).append(Alternate(
            str(r.component_alt), str(r.alternate_group), int(r.alternate_priority_alt),
            int(r.position_alt), float(r.per_unit_alt) / float(r.per_unit)))
    return out


@dataclass
class _Use:
    """X's dependent requirement from one parent line in one bucket that an alternate may take."""

    parent: str
    revision: str
    group: str
    quantity: float
    ratio: float
    priority: int
    position: int


@dataclass
class AlternateStock:
    """Rule 3 of the module doc over one plan: which alternate can take a requisition's need,
    keeping track of the free stock and the parent requirements already switched."""

    plan: Plan
    lines: dict[tuple[str, str, str], list[Alternate]]
    _free: dict[int, np.ndarray] = field(default_factory=dict)  # row -> firm projected - safety
    #: (item, site, parent, revision, group, bucket) -> requirement already switched
    _switched: dict[tuple[str, str, str, str, str, int], float] = field(default_factory=dict)
    _preferred: set[str] = field(init=False)

    def __post_init__(self) -> None:
        self._preferred = {x for _, _, x in self.lines}

    def free(self, item: str, site: str, bucket: int) -> float:
        """Y's free stock by ``bucket`` (module doc), less what earlier switches took."""
        row = self.plan.row(item, site)
        if row is None:
            return 0.0
        if row not in self._free:
            p = self.plan
            firm = p.on_hand[row] + np.cumsum(p.scheduled[row] - p.gross[row])
            self._free[row] = firm - p.items.safety_stock[p.item[row]]
        return max(float(self._free[row][bucket:].min()), 0.0)

    def _uses(self, item: str, site: str) -> dict[str, dict[int, list[_Use]]]:
        """Per alternate item, per bucket: the switchable dependent requirements of ``item``."""
        p, seg = self.plan, self.plan.segments
        out: dict[str, dict[int, list[_Use]]] = {}
        x = int(p.items.idx([item])[0])
        for s in seg.by_child[seg.ptr_child[x]:seg.ptr_child[x + 1]]:
            parent = str(p.items.codes[seg.parent[s]])
            alternates = self.lines.get((parent, str(seg.revision[s]), item), [])
            prow = p.row(parent, site) if alternates else None
            if prow is None:
                continue
            offset = int(p.calendar.offset(p.items.lead_time_days[seg.parent[s]]))
            for b in range(int(seg.first_bucket[s]), int(seg.end_bucket[s])):
                qty = float(p.planned[prow, b] * seg.quantity[s])
                if qty <= EPS:
                    continue
                for alt in alternates:
                    out.setdefault(alt.item, {}).setdefault(max(b - offset, 0), []).append(
                        _Use(parent, str(seg.revision[s]), alt.group, qty, alt.ratio,
                             alt.priority, alt.position))
        for per_bucket in out.values():
            for uses in per_bucket.values():
                uses.sort(key=lambda u: (u.parent, u.revision))
        return out

    def switch(self, item: str, site: str, covered: list[tuple[int, float]]
               ) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """The alternate that takes all of ``covered`` (its evidence), or None; with the
        alternates looked at and why each could not."""
        if item not in self._preferred or not covered:
            return None, []
        need = sum(q for _, q in covered)
        first = covered[0][0]
        checked: list[dict[str, Any]] = []
        uses = self._uses(item, site)
        rank = {y: min((u.priority, u.position) for us in per_bucket.values() for u in us)
                for y, per_bucket in uses.items()}
        for y in sorted(uses, key=lambda y: (rank[y], y)):
            taken: list[tuple[tuple[str, str, str, str, str, int], _Use, float]] = []
            for b, qty in covered:
                left = qty
                for u in uses[y].get(b, []):
                    key = (item, site, u.parent, u.revision, u.group, b)
                    take = min(left, u.quantity - self._switched.get(key, 0.0))
                    if take > EPS:
                        taken.append((key, u, take))
                        left -= take
            switched = float(sum(t for _, _, t in taken))
            y_qty = float(sum(t * u.ratio for _, u, t in taken))
            free = self.free(y, site, first)
            if switched < need - EPS:
                checked.append({"item": y, "reason": "only part of the need is demand of "
                                "parents it may serve" if switched > EPS else "the need is not "
                                "demand of parents it may serve", "switchable_quantity": switched})
                continue
            if free < y_qty - EPS:
                checked.append({"item": y, "reason": "not enough free stock",
                                "free_quantity": free, "quantity_needed": y_qty})
                continue
            row = self.plan.row(y, site)
            assert row is not None  # free stock > 0 needs a plan row
            self._free[row][first:] -= y_qty
            lines: dict[tuple[str, str, str], list[float]] = {}
            for key, u, t in taken:
                self._switched[key] = self._switched.get(key, 0.0) + t
                acc = lines.setdefault((u.parent, u.revision, u.group), [0.0, 0.0, u.ratio])
                acc[0] += t
                acc[1] += t * u.ratio
            return {
                "item": y, "quantity": y_qty, "replaces_quantity": switched,
                "free_quantity": free, "free_by": self.plan.calendar.need_date(first),
                "lines": [{"parent": p, "revision": r, "group": g, "quantity": a[0],
                           "alternate_quantity": a[1], "ratio": a[2]}
                          for (p, r, g), a in sorted(lines.items())],
            }, checked
        return None, checked


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
    lines = alternate_lines(data)
    alternates = AlternateStock(plan, lines) if lines else None
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
                          slip_days, lead, history.get(str(item), []), context, alternates)
            if pegs is not None and row is not None and covered:
                rec["evidence"]["pegged_demands"] = pegs(row, [b for b, _ in covered])
            out.append(rec)
    frame = pd.DataFrame(out, columns=["requisition", "item", "site", "action",
                                       "proposed_quantity", "proposed_date",
                                       "proposed_supplier", "proposed_item", "reason",
                                       "evidence", "base_version"])
    return frame.sort_values("requisition").reset_index(drop=True)


def _decide(r: Any, bucket: int, covered: list[tuple[int, float]], leftover: float,
            needs: np.ndarray, plan: Plan, moq: np.ndarray, mult: np.ndarray,
            slip_days: dict[str, float], lead: dict[str, int], suppliers: list[str],
            context: dict[str, Any], alternates: AlternateStock | None = None) -> dict[str, Any]:
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
    p_item = ""  # only an alternate switch proposes another item

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
        alt, checked = (None, []) if alternates is None else \
            alternates.switch(str(r.item), str(r.site), covered)
        if checked:
            evidence["alternates_checked"] = checked
        if alt is not None:
            action, p_qty, p_date, p_sup, p_item = ("switch_source", alt["quantity"], required,
                                                    "", alt["item"])
            evidence["alternate"] = alt
            reason = _alternate_reason(alt, str(r.item), str(r.site), qty, fmt)
            if leftover > EPS:
                rest = [b for b in range(cal.n_buckets) if needs[b] > EPS]
                evidence["uncovered_quantity"] = leftover
                reason = (reason[:-1] + f"; {fmt(leftover)} more of {r.item} is needed beyond "
                          f"all open POs and requisitions, first on {cal.need_date(rest[0])}.")
        elif reduced < qty - EPS:
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
        "proposed_item": p_item,
        "reason": reason, "evidence": evidence, "base_version": r.source_version or None,
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
