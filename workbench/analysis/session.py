"""One planning question-and-answer session over a fixed set of data.

Building the item index, the BOM graph or the base plan of a large plant takes seconds; asking it
a question afterwards takes milliseconds. A session builds each lazily once and answers many
questions (the GUI keeps one per cache state, the CLI one per command, benchmarks one per run).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.analysis.bom import RELEASED, BomGraph, ItemIndex, ParentRows
from workbench.analysis.calendar import Calendar
from workbench.analysis.consumption import DEFAULT_CONSUMPTION, ForecastConsumption
from workbench.analysis.data import PlanningData, date_of, day_number
from workbench.analysis.incremental import Change, replan_detail
from workbench.analysis.incremental_whatif import scenario as what_if_scenario
from workbench.analysis.netting import Plan, plan, with_revision_released
from workbench.analysis.pegging import Pegging
from workbench.analysis.revisions import impact
from workbench.analysis.row_index import rows_by_code, rows_of_codes
from workbench.analysis.scenario import summary_frame
from workbench.analysis.slippage import Slippage, analyse
from workbench.analysis.where_used import WhereUsed, where_used


@dataclass
class PlanningSession:
    data: PlanningData
    calendar: Calendar
    #: forecast consumption windows, ``None`` for none (a planning parameter, like the calendar)
    consumption: ForecastConsumption | None = DEFAULT_CONSUMPTION
    _items: ItemIndex | None = field(default=None, repr=False)
    _graphs: dict[tuple[Any, ...], BomGraph] = field(default_factory=dict, repr=False)
    _plans: dict[bool, Plan] = field(default_factory=dict, repr=False)
    _slippage: Slippage | None = field(default=None, repr=False)
    _pegging: dict[bool, Pegging] = field(default_factory=dict, repr=False)

    #: how the plan was made: "full", or what the last :meth:`replanned` did ("incremental",
    #: "full: <why>", see :class:`workbench.analysis.incremental.Replan`)
    how: str = "full"
    #: the cache's entity stamp observed before the data was read (None: unknown); while the
    #: cache still has it, no planning table was written since (see
    #: :func:`workbench.services.planning_data.refresh_session`)
    stamp: int | None = None

    def replanned(self, data: PlanningData, change: Change) -> PlanningSession:
        """A session on ``data`` — this session's data after ``change`` — whose plan is replanned
        from this one's by net change (:mod:`workbench.analysis.incremental`: only the changed
        items and what lies below them are re-netted; the answer equals a full plan). This
        session's plan is updated in place and must not be asked again; its where-used graphs
        are kept when no BOM changed. The risk-adjusted plan, pegging and slippage are rebuilt
        on demand."""
        out = PlanningSession(data, self.calendar, self.consumption, stamp=self.stamp)
        if False in self._plans:
            done = replan_detail(self._plans.pop(False), data, change,
                                 consumption=self.consumption, in_place=True)
            out._plans[False] = done.plan
            out._items = done.plan.items
            out.how = done.how
        if not change.bom_parents and not change.master:
            out._graphs = self._graphs
        self._plans.clear()
        self._pegging.clear()
        return out

    @property
    def today(self) -> dt.date:
        return date_of(self.calendar.today)

    @property
    def items(self) -> ItemIndex:
        if self._items is None:
            self._items = ItemIndex.build(self.data)
        return self._items

    def graph(self, statuses: Iterable[str] = RELEASED) -> BomGraph:
        """The BOM of every revision with an allowed status, with effectivity (any date)."""
        key = (frozenset(statuses),)
        if key not in self._graphs:
            self._graphs[key] = BomGraph.build(self.data, statuses=statuses, items=self.items)
        return self._graphs[key]

    def where_used(self, item: str, *, as_of: dt.date | None = None,
                   statuses: Iterable[str] = RELEASED, multi_level: bool = True,
                   site: str | None = None, max_paths: int = 1000) -> WhereUsed:
        tops = None if site is None else self.items_at_site(site)
        day = None if as_of is None else day_number(as_of)
        return where_used(self.graph(statuses), item, as_of=day, multi_level=multi_level,
                          max_paths=max_paths, tops=tops)

    def items_at_site(self, site: str) -> set[str]:
        """Items with any stock, demand, order or requisition at ``site``."""
        d = self.data
        found: set[str] = set()
        for frame, col in ((d.inventory, "item"), (d.demands, "item"), (d.work_orders, "item"),
                           (d.purchase_order_lines, "item"), (d.requisitions, "item")):
            found.update(frame.loc[frame["site"] == site, col].astype(str))
        return found

    @property
    def slippage(self) -> Slippage:
        if self._slippage is None:
            self._slippage = analyse(self.data, self.today)
        return self._slippage

    def plan(self, risk_adjusted: bool = False) -> Plan:
        """The plan; ``risk_adjusted``: open PO lines at their expected arrival (ship notice,
        else promise + the slip for that kind of promise, see :mod:`workbench.analysis.slippage`)."""
        if risk_adjusted not in self._plans:
            slip = self.slippage.expected_arrivals if risk_adjusted else None
            self._plans[risk_adjusted] = plan(self.data, self.calendar, slip_days=slip,
                                              consumption=self.consumption)
        return self._plans[risk_adjusted]

    def pegging(self, risk_adjusted: bool = False) -> Pegging:
        if risk_adjusted not in self._pegging:
            self._pegging[risk_adjusted] = Pegging(self.plan(risk_adjusted))
        return self._pegging[risk_adjusted]

    def risk_differences(self) -> pd.DataFrame:
        """Rows whose first shortage or net requirement differs in the risk-adjusted plan."""
        plain, risky = self.plan(False).summary(), self.plan(True).summary()
        keys = ["item", "site"]
        both = plain.merge(risky, on=keys, how="outer", suffixes=("", "_risk_adjusted"))
        differs = (
            (both["first_shortage_date"] != both["first_shortage_date_risk_adjusted"])
            & ~(both["first_shortage_date"].isna() & both["first_shortage_date_risk_adjusted"].isna())
        ) | (np.abs(both["total_net_requirements"].fillna(0)
                    - both["total_net_requirements_risk_adjusted"].fillna(0)) > 1e-6)
        cols = keys + ["first_shortage_date", "first_shortage_quantity", "total_net_requirements",
                       "first_shortage_date_risk_adjusted", "first_shortage_quantity_risk_adjusted",
                       "total_net_requirements_risk_adjusted"]
        return both.loc[differs, cols].sort_values(keys).reset_index(drop=True)

    def bom_of(self, item: str) -> PlanningData:
        """The data with only ``item``'s own revisions and lines: enough for a revision diff or a
        what-if of that item, and cheap to copy (rows found through the index
        :func:`~workbench.services.planning_data.prepare_planning_data` builds once per load)."""
        rows = ParentRows.of(self.data, self.items)
        idx = int(self.items.idx([item])[0])
        return self.data.replace(
            bom_revisions=self.data.bom_revisions.iloc[rows.revisions(idx)],
            bom_lines=self.data.bom_lines.iloc[rows.lines(idx)])

    def impact(self, item: str, rev_a: str, rev_b: str, on: dt.date) -> dict[str, Any]:
        ancestors = self.where_used(item, as_of=on, max_paths=0).ancestors
        # the item's own BOM, its work orders and the demands of it and the assemblies above:
        # every row the impact reads of those frames (found through per-load indexes, not by
        # comparing codes over the whole frames at every impact)
        above = [item, *ancestors["item"].astype(str).tolist()]
        data = self.bom_of(item).replace(
            work_orders=self._rows_of("work_orders", "item", [item]),
            demands=self._rows_of("demands", "item", above))
        return impact(data, self.plan(), item, rev_a, rev_b, on, ancestors=ancestors)

    def _rows_of(self, entity: str, column: str, codes: list[str]) -> pd.DataFrame:
        """The rows of frame ``entity`` whose ``column`` is one of ``codes``, in frame order,
        through an index of the rows by code built once per frame."""
        frame: pd.DataFrame = getattr(self.data, entity)
        index = self.data.derived(f"rows_by:{entity}.{column}", (frame,),
                                  lambda: rows_by_code(frame[column]))
        return frame.iloc[rows_of_codes(index, codes)]

    def what_if(self, item: str, revision: str, from_date: dt.date) -> pd.DataFrame:
        """Rows changed by releasing ``revision`` of ``item`` from ``from_date``: current plan
        beside the what-if plan (every other row is unchanged), the what-if rows re-netted by
        net change as the incremental plan would net them
        (:func:`workbench.analysis.incremental_whatif.scenario`)."""
        changed = with_revision_released(self.bom_of(item), item, revision, from_date)
        return summary_frame(what_if_scenario(self.plan(), changed, [item]))

    def peg_summary(self, row: int, buckets: list[int], limit: int = 5) -> list[dict[str, Any]]:
        """The largest top-level pegs of a row's planned receipts in ``buckets``."""
        orders = self.pegging().order_pegs(row)
        total: dict[str, float] = {}
        for b in buckets:
            for k, v in orders.get(b, {}).items():
                total[k] = total.get(k, 0.0) + v
        ranked = sorted(total.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
        return [{"peg": k, "quantity": v} for k, v in ranked]

