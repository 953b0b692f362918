"""Revision diff and the impact of moving an item from revision A to B on a date.

Lines of two revisions are matched by component (quantities of repeated lines of one component
are added up). Quantities compare in the component's stock unit, so "500 G" → "0.5 KG" is a unit
change with no quantity change.

Impact compares two scenarios built from the same data, neither touching the cache: **A** (A stays
in force, B not used) and **B** (A until the day before the date, B from the date on). Below the
item, every affected row is re-netted (:mod:`workbench.analysis.scenario`). For rows whose gross
requirements fall, the supply that becomes excess is listed element by element; for rows whose
net requirements rise, the new net requirement and the first shortage date.

Excess of a row in a scenario: its requirements over the horizon plus safety stock are allocated
to its supply in arrival order — stock on hand, then receipts (PO lines, in-transit, work orders)
by date, then open requisitions by need date; what no requirement takes is excess. An element
*becomes* excess by the amount its excess grows from A to B; value = quantity × standard cost.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from workbench.analysis.data import PlanningData, day_number, day_numbers
from workbench.analysis.netting import Plan
from workbench.analysis.scenario import Scenario, replan, summary_frame
from workbench.analysis.sources import EPS
from workbench.domain.enums import RequisitionStatus

_FIELDS = ("quantity_per", "orig_uom", "scrap_pct", "alternate_group", "alternate_priority")
OPEN_REQUISITIONS = frozenset({RequisitionStatus.OPEN.value, RequisitionStatus.APPROVED.value})


def _lines(data: PlanningData, item: str, revision: str) -> pd.DataFrame:
    lines = data.bom_lines[(data.bom_lines["parent"] == item)
                           & (data.bom_lines["revision"] == revision)]
    return lines.groupby("component", sort=True).agg(
        quantity_per=("quantity_per", "sum"), orig_uom=("orig_uom", "first"),
        scrap_pct=("scrap_pct", "first"), alternate_group=("alternate_group", "first"),
        alternate_priority=("alternate_priority", "first"),
        positions=("position", lambda p: sorted(int(x) for x in p)),
    )


def revision_diff(data: PlanningData, item: str, rev_a: str, rev_b: str) -> pd.DataFrame:
    """One row per component that differs: ``change`` is added, removed or changed, with
    ``changed_fields`` and ``before_<field>`` / ``after_<field>`` for every compared field."""
    known = set(data.bom_revisions.loc[data.bom_revisions["parent"] == item, "revision"])
    for rev in (rev_a, rev_b):
        if rev not in known:
            raise KeyError(f"no revision {rev!r} of {item!r}")
    a, b = _lines(data, item, rev_a), _lines(data, item, rev_b)
    rows: list[dict[str, Any]] = []
    for component in sorted(set(a.index) | set(b.index)):
        before = a.loc[component] if component in a.index else None
        after = b.loc[component] if component in b.index else None
        if before is None:
            change, fields = "added", list(_FIELDS)
        elif after is None:
            change, fields = "removed", list(_FIELDS)
        else:
            fields = [f for f in _FIELDS if not _same(before[f], after[f])]
            if not fields:
                continue
            change = "changed"
        row: dict[str, Any] = {"component": component, "change": change,
                               "changed_fields": fields if change == "changed" else []}
        for f in _FIELDS + ("positions",):
            row[f"before_{f}"] = None if before is None else _plain(before[f])
            row[f"after_{f}"] = None if after is None else _plain(after[f])
        qa = 0.0 if before is None else float(before["quantity_per"])
        qb = 0.0 if after is None else float(after["quantity_per"])
        row["quantity_change"] = qb - qa
        rows.append(row)
    return pd.DataFrame(rows)


def _same(x: Any, y: Any) -> bool:
    if isinstance(x, float) or isinstance(y, float):
        return abs(float(x) - float(y)) <= 1e-9 * max(1.0, abs(float(x)))
    return bool(x == y)


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def scenario_data(data: PlanningData, item: str, rev_a: str, rev_b: str,
                  on: dt.date) -> tuple[PlanningData, PlanningData]:
    """(A stays, B from ``on``) as two copies of ``data`` differing only in ``item``'s revisions."""
    revs = data.bom_revisions
    mine = revs["parent"] == item
    a_rows, b_rows = mine & (revs["revision"] == rev_a), mine & (revs["revision"] == rev_b)
    stay = revs.copy()
    stay.loc[a_rows, "status"] = "released"
    stay.loc[a_rows, "effective_to"] = pd.NaT
    stay.loc[b_rows, "status"] = "draft"
    move = revs.copy()
    move.loc[a_rows, "status"] = "released"
    move.loc[a_rows, "effective_to"] = pd.Timestamp(on - dt.timedelta(days=1))
    move.loc[b_rows, "status"] = "released"
    move.loc[b_rows, "effective_from"] = pd.Timestamp(on)
    move.loc[b_rows, "effective_to"] = pd.NaT
    return data.replace(bom_revisions=stay), data.replace(bom_revisions=move)


def supply_elements(data: PlanningData, plan: Plan, item: str, site: str) -> pd.DataFrame:
    """The supply of one row in arrival order: on hand, receipts, then open requisitions."""
    src = plan.sources
    oh = src.on_hand[(src.on_hand["item"] == item) & (src.on_hand["site"] == site)]
    parts = [pd.DataFrame({"kind": "on_hand", "ref": "", "day": plan.calendar.today,
                           "quantity": [float(oh["quantity"].sum())]})]
    rec = src.receipts[(src.receipts["item"] == item) & (src.receipts["site"] == site)]
    parts.append(rec[["kind", "ref", "day", "quantity"]].sort_values(["day", "ref"]))
    req = data.requisitions
    req = req[(req["item"] == item) & (req["site"] == site) & req["status"].isin(OPEN_REQUISITIONS)]
    parts.append(pd.DataFrame({"kind": "requisition", "ref": req["code"].to_numpy(),
                               "day": day_numbers(req["need_date"]),
                               "quantity": req["quantity"].to_numpy(float)})
                 .sort_values(["day", "ref"]))
    out = pd.concat(parts, ignore_index=True)
    out = out[out["quantity"] > EPS].reset_index(drop=True)
    out["day"] = out["day"].astype(np.int64)
    return out


def excess_of(supply: pd.DataFrame, requirement: float) -> np.ndarray:
    """Per supply element, what the requirement (allocated in arrival order) leaves over."""
    taken = np.minimum(np.cumsum(supply["quantity"].to_numpy(float)), requirement)
    used = np.diff(np.concatenate([[0.0], taken]))
    return np.maximum(supply["quantity"].to_numpy(float) - used, 0.0)


def impact(data: PlanningData, base: Plan, item: str, rev_a: str, rev_b: str,
           on: dt.date, *, ancestors: pd.DataFrame | None = None) -> dict[str, Any]:
    """Everything a planner asks before switching ``item`` from ``rev_a`` to ``rev_b`` on ``on``.

    ``ancestors`` is the where-used answer (assemblies above), computed by the caller with the
    graph it keeps, so this function stays free of graph building.
    """
    diff = revision_diff(data, item, rev_a, rev_b)
    stay, move = scenario_data(data, item, rev_a, rev_b, on)
    scen_a = replan(base, stay, [item])
    scen_b = replan(base, move, [item])
    on_day = day_number(on)
    assemblies = [] if ancestors is None else ancestors.to_dict("records")
    above = {item} | {a["item"] for a in assemblies}

    wo = data.work_orders
    wo = wo[(wo["item"] == item) & wo["status"].isin({"planned", "released", "in_progress"})]
    wo = wo[day_numbers(wo["start_date"]) >= on_day]
    dem = data.demands
    dem = dem[dem["item"].isin(above) & (dem["status"] == "open")]
    dem = dem[day_numbers(dem["due_date"]) >= on_day]

    rows = _compare(scen_a, scen_b)
    excess, added = [], []
    for r in rows.itertuples():
        if r.gross_b < r.gross_a - EPS:
            supply = supply_elements(data, base, r.item, r.site)
            safety = float(base.items.safety_stock[base.items.idx([r.item])[0]])
            ex = excess_of(supply, r.gross_b + safety) - excess_of(supply, r.gross_a + safety)
            cost = float(base.items.standard_cost[base.items.idx([r.item])[0]])
            for el, qty in zip(supply.itertuples(), ex):
                if qty > EPS:
                    excess.append({"item": r.item, "site": r.site, "kind": el.kind,
                                   "ref": el.ref, "quantity": float(qty),
                                   "value": float(qty) * cost})
        if r.net_b > r.net_a + EPS:
            added.append({"item": r.item, "site": r.site,
                          "new_net_requirement": float(r.net_b - r.net_a),
                          "first_shortage_date": r.first_b, "first_shortage_quantity": r.qty_b,
                          "first_shortage_date_before": r.first_a})
    return {
        "item": item, "from_revision": rev_a, "to_revision": rev_b, "effective": on,
        "diff": diff.to_dict("records"),
        "assemblies_above": assemblies,
        "work_orders": wo[["code", "site", "quantity", "start_date", "due_date", "status",
                           "bom_revision"]].to_dict("records"),
        "demands": dem[["code", "item", "site", "quantity", "due_date", "kind"]]
        .to_dict("records"),
        "excess": excess,
        "excess_value": float(sum(e["value"] for e in excess)),
        "new_requirements": added,
        "affected_rows": rows.to_dict("records"),
    }


def _compare(a: Scenario, b: Scenario) -> pd.DataFrame:
    """Scenario A vs B per affected row; a row one scenario did not touch keeps the base plan."""
    keys = ["item", "site"]
    cols = ["gross", "net", "first_shortage", "first_shortage_quantity"]
    fa, fb = summary_frame(a), summary_frame(b)
    both = fa.merge(fb, on=keys, how="outer", suffixes=("_a", "_b"))
    for c in cols:
        for side, other in (("a", "b"), ("b", "a")):
            missing = both[f"{c}_{side}"].isna() & both[f"{c}_base_{other}"].notna()
            both[f"{c}_{side}"] = both[f"{c}_{side}"].astype(object)
            both.loc[missing, f"{c}_{side}"] = both.loc[missing, f"{c}_base_{other}"]
    out = pd.DataFrame({
        "item": both["item"], "site": both["site"],
        "gross_a": both["gross_a"].astype(float), "gross_b": both["gross_b"].astype(float),
        "net_a": both["net_a"].astype(float), "net_b": both["net_b"].astype(float),
        "first_a": both["first_shortage_a"], "qty_a": both["first_shortage_quantity_a"].astype(float),
        "first_b": both["first_shortage_b"], "qty_b": both["first_shortage_quantity_b"].astype(float),
    })
    out = out.astype({"first_a": object, "first_b": object})
    out = out.where(out.notna(), None)
    return out.sort_values(keys).reset_index(drop=True)
