"""Revision diff and the impact of moving an item from revision A to B on a date.

Lines of two revisions are matched by component (quantities of repeated lines of one component
are added up). Quantities compare in the component's stock unit, so "500 G" → "0.5 KG" is a unit
change with no quantity change.

Impact compares two scenarios built from the same data, neither touching the cache: **A** (A stays
in force, B not used) and **B** (A until the day before the date, B from the date on). Below the
item, every affected row is re-netted (:mod:`workbench.analysis.scenario`); in B, planned orders
and *planned* work orders starting from the date follow B, released work orders keep their own
components (:mod:`workbench.analysis.impact_report`). For rows whose gross
requirements fall, the supply that becomes excess is listed element by element; for rows whose
net requirements rise, the new net requirement and the first shortage date.

Excess of a row in a scenario: its requirements over the horizon plus safety stock are allocated
to its supply in arrival order — stock on hand, then receipts (PO lines, in-transit, work orders)
by date, then open requisitions by need date; what no requirement takes is excess. An element
*becomes* excess by the amount its excess grows from A to B; value = quantity × standard cost.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd

from workbench.analysis.data import PlanningData, date_of, day_number, day_numbers
from workbench.analysis.impact_report import (
    FOLLOWS,
    planned_order_fates,
    planned_work_order_change,
    summarise,
    work_order_fates,
)
from workbench.analysis.netting import Plan
from workbench.analysis.row_index import KeyIndex, kept_with, rows_by_code, rows_of_codes
from workbench.analysis.scenario import compare, replan
from workbench.analysis.sources import EPS
from workbench.domain.enums import RequisitionStatus

# The impact's two scenarios come from the delta replan (``replan``: only the revised parents'
# descendants re-netted, equal to a full replan: tests/ui/test_what_if_incremental.py). The net
# change's what-if (analysis.incremental_whatif.scenario, the same answers) cost twice its CPU per
# impact on the large demo (p95 115 vs 52 ms, bench_where_used, 2026-12-06): the faster answers.

_FIELDS = ("quantity_per", "orig_uom", "scrap_pct", "alternate_group", "alternate_priority")
OPEN_REQUISITIONS = frozenset({RequisitionStatus.OPEN.value, RequisitionStatus.APPROVED.value})


def _lines(data: PlanningData, item: str, revision: str) -> dict[Any, dict[str, Any]]:
    """``revision`` of ``item``'s lines by component (in component order): quantities per of
    repeated lines of one component added up, every other field the first non-empty value of
    its lines (as pandas' groupby ``first``), and their positions sorted. In plain Python over
    the few lines of one revision (pandas' groupby machinery cost most of a revision diff)."""
    lines = data.bom_lines
    mine = ((lines["parent"] == item) & (lines["revision"] == revision)).to_numpy(bool)
    columns = {c: lines[c].to_numpy(object)[mine].tolist()
               for c in ("component", "position", *_FIELDS)}
    out: dict[Any, dict[str, Any]] = {}
    for k, component in enumerate(columns["component"]):
        row = out.get(component)
        if row is None:
            row = out[component] = {"quantity_per": [], "positions": []}
        row["quantity_per"].append(columns["quantity_per"][k])
        row["positions"].append(int(columns["position"][k]))
        for f in _FIELDS[1:]:
            if f not in row and not _missing(columns[f][k]):
                row[f] = columns[f][k]
    for row in out.values():
        row["quantity_per"] = math.fsum(float(q) for q in row["quantity_per"] if not _missing(q))
        row["positions"] = sorted(row["positions"])
        for f in _FIELDS[1:]:
            row.setdefault(f, np.nan)
    return {c: out[c] for c in sorted(out)}


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def revision_diff(data: PlanningData, item: str, rev_a: str, rev_b: str) -> pd.DataFrame:
    """One row per component that differs: ``change`` is added, removed or changed, with
    ``changed_fields`` and ``before_<field>`` / ``after_<field>`` for every compared field."""
    known = set(data.bom_revisions.loc[data.bom_revisions["parent"] == item, "revision"])
    for rev in (rev_a, rev_b):
        if rev not in known:
            raise KeyError(f"no revision {rev!r} of {item!r}")
    a, b = _lines(data, item, rev_a), _lines(data, item, rev_b)
    rows: list[dict[str, Any]] = []
    for component in sorted(set(a) | set(b)):
        before, after = a.get(component), b.get(component)
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
    """(A stays, B from ``on``) as two copies of ``data`` differing only in ``item``'s revisions:
    in A, ``rev_a`` is released with no end and ``rev_b`` a draft; in B, ``rev_a`` is released
    until the day before ``on`` and ``rev_b`` from ``on`` with no end. Each copy's columns are
    made whole in numpy (one frame per scenario, not a pandas write per cell group)."""
    revs = data.bom_revisions
    mine = (revs["parent"] == item).to_numpy(bool)
    revision = revs["revision"].to_numpy(object)
    a_rows, b_rows = mine & (revision == rev_a), mine & (revision == rev_b)
    status = revs["status"].to_numpy(object)
    starts, ends = revs["effective_from"], revs["effective_to"]
    unit = ends.dtype if isinstance(ends.dtype, np.dtype) else np.dtype("datetime64[s]")
    none = np.datetime64("NaT").astype(unit)
    stay = revs.assign(
        status=pd.array(np.where(a_rows, "released", np.where(b_rows, "draft", status)),
                        dtype=revs["status"].dtype),
        effective_to=np.where(a_rows, none, ends.to_numpy(unit)))
    day_before = np.datetime64(on - dt.timedelta(days=1)).astype(unit)
    move = revs.assign(
        status=pd.array(np.where(a_rows | b_rows, "released", status),
                        dtype=revs["status"].dtype),
        effective_from=np.where(b_rows, np.datetime64(on).astype(unit),
                                starts.to_numpy(unit)),
        effective_to=np.where(a_rows, day_before, np.where(b_rows, none, ends.to_numpy(unit))))
    return data.replace(bom_revisions=stay), data.replace(bom_revisions=move)


def supply_elements(data: PlanningData, plan: Plan, rows: pd.DataFrame) -> pd.DataFrame:
    """Supply of the ``rows`` (item, site) in arrival order per row: on hand, receipts by date,
    then open requisitions by need date."""
    src = plan.sources
    wanted = rows[["item", "site"]].drop_duplicates()
    # rows of the plan's sources picked by integer key (a string merge on the 500k stock rows
    # was most of an impact's fixed cost); same rows, same order as an inner merge
    wanted_key = plan.items.idx(wanted["item"]).astype(np.int64) * plan.n_sites \
        + plan.sites.get_indexer(wanted["site"])
    # ... through an index of each frame's keys kept with the plan (an isin over 700k keys
    # per impact otherwise)
    oh = src.on_hand.iloc[_key_index(plan, "on_hand").rows(wanted_key)]
    parts = [pd.DataFrame({"item": oh["item"], "site": oh["site"], "rank": 0, "kind": "on_hand",
                           "ref": "", "day": plan.calendar.today,
                           "quantity": oh["quantity"].astype(float)})]
    rec = src.receipts.iloc[_key_index(plan, "receipts").rows(wanted_key)]
    parts.append(rec.assign(rank=1)[["item", "site", "rank", "kind", "ref", "day", "quantity"]])
    requisitions = data.requisitions
    by_item = kept_with(plan, "_requisition_rows", requisitions,
                        lambda: rows_by_code(requisitions["item"]))
    req = requisitions.iloc[rows_of_codes(by_item, wanted["item"].tolist())]
    req = req[req["status"].isin(OPEN_REQUISITIONS)]
    req = req.merge(wanted, on=["item", "site"])
    parts.append(pd.DataFrame({"item": req["item"], "site": req["site"], "rank": 2,
                               "kind": "requisition", "ref": req["code"],
                               "day": day_numbers(req["need_date"]),
                               "quantity": req["quantity"].astype(float)}))
    out = pd.concat(parts, ignore_index=True)
    out = out[out["quantity"] > EPS]
    return out.sort_values(["item", "site", "rank", "day", "ref"], kind="stable") \
        .reset_index(drop=True)


def _key_index(plan: Plan, name: str) -> KeyIndex:
    """The rows of the plan's source frame ``name`` by key, indexed once per plan."""
    keys = plan.sources.keys(name, plan.items, plan.sites)
    return kept_with(plan, f"_key_index_{name}", keys, lambda: KeyIndex(keys))


def excess_of(supply: pd.DataFrame, requirement: pd.Series) -> np.ndarray:
    """Per supply element, what its row's requirement (allocated in arrival order) leaves over.

    ``requirement`` is aligned with ``supply`` (the row's requirement repeated on each element).
    """
    qty = supply["quantity"].to_numpy(float)
    before = supply.groupby(["item", "site"], sort=False)["quantity"].cumsum().to_numpy() - qty
    used = np.clip(requirement.to_numpy(float) - before, 0.0, qty)
    return qty - used


def _planned_by_demand(base: Plan) -> pd.Series:
    """The plan's quantity per independent demand code, grouped once per plan and kept with it
    (over every requirement of the plant: most of an impact's time when grouped per impact)."""
    memo = vars(base)
    planned: pd.Series | None = memo.get("_planned_by_demand")
    if planned is None:
        req = base.sources.requirements
        planned = req.loc[req["kind"] == "demand"].groupby("ref")["quantity"].sum()
        memo["_planned_by_demand"] = planned
    return planned


def _with_planned(demands: pd.DataFrame, base: Plan) -> pd.DataFrame:
    """``demands`` with ``planned_quantity``: what the plan counts of each after forecast
    consumption (a forecast consumed by sales orders: what is left of it, maybe 0)."""
    planned = _planned_by_demand(base)
    return demands.assign(
        planned_quantity=demands["code"].map(planned).fillna(0.0).astype(float))


def impact(data: PlanningData, base: Plan, item: str, rev_a: str, rev_b: str,
           on: dt.date, *, ancestors: pd.DataFrame | None = None) -> dict[str, Any]:
    """Everything a planner asks before switching ``item`` from ``rev_a`` to ``rev_b`` on ``on``.

    ``ancestors`` is the where-used answer (assemblies above), computed by the caller with the
    graph it keeps, so this function stays free of graph building. Which orders keep the old
    components and which follow ``rev_b``, the week-by-week comparison (``weeks``) and the
    ``summary`` (with the reason when nothing changes) follow
    :mod:`workbench.analysis.impact_report`.
    """
    diff = revision_diff(data, item, rev_a, rev_b)
    stay, move = scenario_data(data, item, rev_a, rev_b, on)
    today = base.calendar.today
    orders = work_order_fates(data, item, rev_a, rev_b, on, date_of(today))
    scen_a = replan(base, stay, [item])
    scen_b = replan(base, move, [item], extra=planned_work_order_change(
        data, base, item, rev_b, orders[orders["fate"] == FOLLOWS]))
    on_day = day_number(on)
    assemblies = [] if ancestors is None else ancestors.to_dict("records")
    above = {item} | {a["item"] for a in assemblies}

    dem = data.demands
    dem = dem[dem["item"].isin(above) & (dem["status"] == "open")]
    dem = dem[day_numbers(dem["due_date"]) >= on_day]

    comparison = compare(scen_a, scen_b)
    rows = comparison.frame()
    items = base.items
    rows["safety"] = items.safety_stock[items.idx(rows["item"])] if len(rows) else 0.0
    rows["cost"] = items.standard_cost[items.idx(rows["item"])] if len(rows) else 0.0
    fell = rows[rows["gross_b"] < rows["gross_a"] - EPS]
    excess: list[dict[str, Any]] = []
    if len(fell):
        supply = supply_elements(data, base, fell).merge(
            fell[["item", "site", "gross_a", "gross_b", "safety", "cost"]], on=["item", "site"])
        grown = (excess_of(supply, supply["gross_b"] + supply["safety"])
                 - excess_of(supply, supply["gross_a"] + supply["safety"]))
        supply = supply.assign(quantity=grown, value=grown * supply["cost"])
        supply = supply[supply["quantity"] > EPS]
        excess = supply[["item", "site", "kind", "ref", "quantity", "value"]].to_dict("records")
    rose = rows[rows["net_b"] > rows["net_a"] + EPS]
    added = [{"item": r.item, "site": r.site, "new_net_requirement": float(r.net_b - r.net_a),
              "first_shortage_date": r.first_b, "first_shortage_quantity": r.qty_b,
              "first_shortage_date_before": r.first_a} for r in rose.itertuples()]
    rows = rows.drop(columns=["safety", "cost"])
    result: dict[str, Any] = {
        "item": item, "from_revision": rev_a, "to_revision": rev_b, "effective": on,
        "diff": diff.to_dict("records"),
        "assemblies_above": assemblies,
        "work_orders": orders[["code", "site", "quantity", "start_date", "due_date", "status",
                               "bom_revision", "fate", "after_change"]].to_dict("records"),
        "planned_orders": planned_order_fates(base, item, rev_a, rev_b, on),
        "demands": _with_planned(dem, base)[
            ["code", "item", "site", "quantity", "planned_quantity", "due_date", "kind"]
        ].to_dict("records"),
        "excess": excess,
        "excess_value": float(sum(e["value"] for e in excess)),
        "new_requirements": added,
        "affected_rows": rows.to_dict("records"),
        "weeks": comparison.weekly(),
    }
    result["summary"] = summarise(result, date_of(base.calendar.end - 1))
    return result
