"""Planning use cases on the cache: answer in plain data (loading the frames and opening a
session: :mod:`workbench.services.planning_data`).

The CLI and the GUI both go through here (through :mod:`workbench.app.planning`), so "the same
question gives the same answer" holds across them. Answers are typed (dataclasses holding
documented frames); each has ``to_json()``, the JSON-ready dict (dates as ``datetime.date``,
NaN as None) the CLI prints: JSON is made at the CLI edge only.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import pandas as pd

from workbench.analysis.consumption import ForecastConsumption
from workbench.analysis.session import PlanningSession
from workbench.analysis.where_used import WhereUsed

# loading the data and opening a session: re-exported, callers keep importing them from here
from workbench.services.planning_data import LEFT_OUT as LEFT_OUT
from workbench.services.planning_data import frame_snapshot_layout as frame_snapshot_layout
from workbench.services.planning_data import load_planning_data as load_planning_data
from workbench.services.planning_data import open_session as open_session
from workbench.services.planning_data import planning_columns as planning_columns
from workbench.services.planning_data import planning_day as planning_day
from workbench.services.planning_data import prepare_planning_data as prepare_planning_data
from workbench.services.planning_data import read_planning_frames as read_planning_frames


def plain(value: Any) -> Any:
    """JSON-friendly copy: numpy scalars to Python, NaN/NaT to None, timestamps to dates."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else (value.date() if value == value.normalize()
                                            else value.to_pydatetime())
    if isinstance(value, np.datetime64):
        return plain(pd.Timestamp(value)) if not np.isnat(value) else None
    if value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 6) + 0.0
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [plain(r) for r in frame.to_dict("records")]


@dataclass(frozen=True)
class WhereUsedAnswer:
    """Where an item is used (:func:`where_used`): the analysis answer with what was asked.

    ``result`` holds the frames ``direct`` (parent, revision, position, quantity_per, ...),
    ``ancestors`` (item, min_level, max_level, top_level, extended_quantity[_min/_max], ...),
    ``paths`` (each with its ``steps``), ``truncated`` and ``cycles``
    (:class:`workbench.analysis.where_used.WhereUsed`: answered as column arrays, the frames
    made when first asked; :meth:`to_json` takes its records straight from the arrays)."""

    result: WhereUsed
    #: the day whose BOMs were exploded (None: every revision, ``all_revisions``)
    as_of: dt.date | None
    all_revisions: bool
    statuses: list[str]
    site: str | None

    @property
    def item(self) -> str:
        return self.result.item

    def to_json(self) -> dict[str, Any]:
        """The CLI's ``where-used --json`` answer."""
        out: dict[str, Any] = plain(self.result.to_dict())
        out.update({"as_of": self.as_of, "all_revisions": self.all_revisions,
                    "statuses": self.statuses, "site": self.site})
        return out


def where_used(session: PlanningSession, item: str, *, as_of: dt.date | None = None,
               include_drafts: bool = False, include_obsolete: bool = False,
               multi_level: bool = True, site: str | None = None,
               max_paths: int = 1000, all_revisions: bool = False) -> WhereUsedAnswer:
    """Where ``item`` is used through the BOM revisions in force on ``as_of`` (default: the
    planning day), so every extended quantity is the explosion of the revisions built that day.
    ``all_revisions``: every revision of the allowed statuses instead, figures per revision
    (``extended_quantity_min``/``_max``; ``extended_quantity`` None where the revision matters,
    see :mod:`workbench.analysis.where_used`); ``as_of`` is then ignored and answered as None."""
    statuses = {"released"} | ({"draft"} if include_drafts else set()) | \
        ({"obsolete"} if include_obsolete else set())
    day = None if all_revisions else (as_of or session.today)
    result = session.where_used(item, as_of=day, statuses=statuses, multi_level=multi_level,
                                site=site, max_paths=max_paths)
    return WhereUsedAnswer(result, day, all_revisions, sorted(statuses), site)


@dataclass(frozen=True)
class Peg:
    """A top-level demand (``"sales_order:SO1"``, ...) and the quantity pegged to it."""

    peg: str
    quantity: float


@dataclass(frozen=True)
class PeggedRequirement:
    """One requirement of a row (gross requirement in ``bucket``) and the top-level demands it
    serves (:class:`workbench.analysis.pegging.Requirement`)."""

    bucket: int
    date: dt.date
    quantity: float
    kind: str
    ref: str
    pegs: tuple[Peg, ...]


@dataclass(frozen=True)
class OrderPegs:
    """The top-level demands a row's planned order of ``bucket`` (needed on ``date``) serves."""

    bucket: int
    date: dt.date
    pegs: tuple[Peg, ...]


@dataclass(frozen=True)
class ShortageDetail:
    """The MRP record of one shortage row and its pegging.

    ``record``: one line per bucket, the columns of :meth:`workbench.analysis.netting.Plan.record`
    (bucket, date, gross_requirements, scheduled_receipts, projected_available,
    net_requirements, planned_receipts, planned_releases)."""

    record: pd.DataFrame
    requirements: tuple[PeggedRequirement, ...]
    planned_order_pegs: tuple[OrderPegs, ...]


@dataclass(frozen=True)
class RiskDifferences:
    """What the risk-adjusted plan moved: each supplier's slip (whole days added to a line still
    on its first promise / to a re-promised line) and the rows whose first shortage moved
    (``differences``: item, site, first_shortage_date, first_shortage_date_risk_adjusted, ...)."""

    slip_days: dict[str, int]
    slip_days_after_repromise: dict[str, int]
    differences: pd.DataFrame


@dataclass(frozen=True)
class Shortages:
    """The answer of :func:`shortages`.

    ``rows``: one row per item and site (sorted by first shortage, item, site; at most
    ``limit``), the columns of :meth:`workbench.analysis.netting.Plan.summary`: item, site,
    level, on_hand, safety_stock, first_shortage_date (NaT: none), first_shortage_quantity,
    total_net_requirements, total_planned_receipts, past_due_release, reserved_elsewhere.
    ``details``: one :class:`ShortageDetail` per row of ``rows`` (None: not asked)."""

    planning_day: dt.date
    bucket: str  # "week" or "day"
    buckets: int
    risk_adjusted: bool
    #: the forecast consumption windows (None: no consumption)
    forecast_consumption: ForecastConsumption | None
    rows_total: int
    rows: pd.DataFrame
    details: tuple[ShortageDetail, ...] | None
    cycles: list[list[str]]
    risk: RiskDifferences | None = None

    def detail(self, item: str, site: str) -> ShortageDetail:
        """The detail of the row (``item``, ``site``); KeyError when it is not in the answer."""
        if self.details is not None:
            for n, (i, s) in enumerate(zip(self.rows["item"], self.rows["site"])):
                if (i, s) == (item, site):
                    return self.details[n]
        raise KeyError(f"no details of {item} at {site}")

    def to_json(self) -> dict[str, Any]:
        """The CLI's ``shortages --json`` answer (dates as ``datetime.date``, NaN as None)."""
        rows = records(self.rows)
        for row, detail in zip(rows, self.details or ()):
            row["record"] = records(detail.record)
            row["requirements"] = plain([
                {"bucket": r.bucket, "date": r.date, "quantity": r.quantity, "kind": r.kind,
                 "ref": r.ref, "pegs": [asdict(p) for p in r.pegs]} for r in detail.requirements])
            row["planned_order_pegs"] = [
                {"bucket": o.bucket, "date": o.date, "pegs": [asdict(p) for p in o.pegs]}
                for o in detail.planned_order_pegs]
        out: dict[str, Any] = {
            "planning_day": self.planning_day,
            "bucket": self.bucket,
            "buckets": self.buckets,
            "risk_adjusted": self.risk_adjusted,
            "forecast_consumption": self.forecast_consumption and asdict(
                self.forecast_consumption),
            "rows_total": self.rows_total,
            "rows": rows,
            "cycles": self.cycles,
        }
        if self.risk is not None:
            out["slip_days"] = self.risk.slip_days
            out["slip_days_after_repromise"] = self.risk.slip_days_after_repromise
            out["differences"] = records(self.risk.differences)
        result: dict[str, Any] = plain(out)
        return result


def _pegs(pegs: dict[str, float]) -> tuple[Peg, ...]:
    return tuple(Peg(k, v) for k, v in sorted(pegs.items()))


def shortage_detail(session: PlanningSession, row: int, risk_adjusted: bool = False
                    ) -> ShortageDetail:
    """The MRP record and pegging of plan row ``row``."""
    plan = session.plan(risk_adjusted)
    peg = session.pegging(risk_adjusted)
    return ShortageDetail(
        plan.record(row),
        tuple(PeggedRequirement(r.bucket, plan.calendar.date(r.bucket), r.quantity, r.kind,
                                r.ref, _pegs(r.pegs)) for r in peg.requirements(row)),
        tuple(OrderPegs(b, plan.calendar.need_date(b), _pegs(p))
              for b, p in sorted(peg.order_pegs(row).items())))


def shortages(session: PlanningSession, *, item: str | None = None, site: str | None = None,
              risk_adjusted: bool = False, details: bool | None = None,
              limit: int | None = None) -> Shortages:
    """Rows with a shortage (or every row of ``item``), with MRP records and pegging when
    ``details`` (default: only when an item is named)."""
    plan = session.plan(risk_adjusted)
    rows = plan.rows_of(item, site)
    summary = plan.summary(rows)
    if item is None:
        summary = summary[summary["first_shortage_date"].notna()]
    summary = summary.sort_values(["first_shortage_date", "item", "site"], na_position="last")
    total = len(summary)
    if limit is not None:
        summary = summary.head(limit)
    details = item is not None if details is None else details
    found = tuple(shortage_detail(session, int(row), risk_adjusted)
                  for row in summary.index) if details else None
    risk = None
    if risk_adjusted:
        diff = session.risk_differences()
        if item is not None:
            diff = diff[diff["item"] == item]
        if site is not None:
            diff = diff[diff["site"] == site]
        risk = RiskDifferences(session.slippage.slip_days(),
                               session.slippage.repromise_slip_days(), diff)
    return Shortages(session.today, "week" if plan.calendar.bucket_days == 7 else "day",
                     plan.calendar.n_buckets, risk_adjusted, session.consumption, total,
                     summary, found, plan.cycles, risk)


@dataclass(frozen=True)
class ImpactSummary:
    """Counts of every list an impact shows, and one line of text built from them
    (:func:`workbench.analysis.impact_report.summarise`); ``nothing_changes_because`` says why
    the plan does not change in the horizon (None when it does)."""

    line_changes: int
    assemblies_above: int
    work_orders_keep: int
    work_orders_follow: int
    planned_orders_follow: int
    demands: int
    excess_elements: int
    new_shortage_rows: int
    changed_rows: int
    nothing_changes_because: str | None
    text: str


@dataclass(frozen=True)
class WeeklyRow:
    """One changed (item, site): per bucket its projected available and net requirements before
    (``_a``) and after (``_b``) the change, and its safety stock."""

    item: str
    site: str
    safety_stock: float
    projected_a: list[float]
    projected_b: list[float]
    net_a: list[float]
    net_b: list[float]


@dataclass(frozen=True)
class WeeklyComparison:
    """The bucket dates and the changed rows, what a "before vs after" chart draws
    (:meth:`workbench.analysis.scenario.Comparison.weekly`)."""

    dates: list[dt.date]
    rows: list[WeeklyRow]

    def row(self, item: str, site: str) -> WeeklyRow | None:
        return next((r for r in self.rows if (r.item, r.site) == (item, site)), None)

    def to_json(self) -> dict[str, Any]:
        return {"dates": self.dates, "rows": [asdict(r) for r in self.rows]}


@dataclass(frozen=True)
class Impact:
    """What switching ``item`` from ``from_revision`` to ``to_revision`` on ``effective`` changes
    (:func:`workbench.analysis.revisions.impact`; rules in :mod:`workbench.analysis.impact_report`).

    The lists are JSON-ready rows, one dict per row, with the keys the analysis documents:
    ``diff`` (component, change, before_/after_quantity_per, changed_fields, ...),
    ``assemblies_above`` (item, min_level, top_level, ...), ``work_orders`` (code, site, quantity,
    start_date, due_date, status, bom_revision, fate, after_change), ``planned_orders`` (..., fate),
    ``demands`` (code, item, site, quantity, planned_quantity, due_date, kind), ``excess`` (item,
    site, kind, ref, quantity, value), ``new_requirements`` (item, site, new_net_requirement,
    first_shortage_date, first_shortage_quantity, first_shortage_date_before), ``affected_rows``
    (item, site, first_a/first_b, net_a/net_b, ...); ``weeks``: the week-by-week comparison of
    the changed rows (:class:`WeeklyComparison`); ``summary``: the counts and the one-line text
    (:class:`ImpactSummary`)."""

    item: str
    from_revision: str
    to_revision: str
    effective: dt.date
    diff: list[dict[str, Any]]
    assemblies_above: list[dict[str, Any]]
    work_orders: list[dict[str, Any]]
    planned_orders: list[dict[str, Any]]
    demands: list[dict[str, Any]]
    excess: list[dict[str, Any]]
    excess_value: float
    new_requirements: list[dict[str, Any]]
    affected_rows: list[dict[str, Any]]
    weeks: WeeklyComparison
    summary: ImpactSummary
    planning_day: dt.date

    def to_json(self) -> dict[str, Any]:
        """The CLI's ``impact --json`` answer (without ``what_if``)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["weeks"], out["summary"] = self.weeks.to_json(), asdict(self.summary)
        return out


def impact(session: PlanningSession, item: str, rev_a: str, rev_b: str,
           on: dt.date | None = None) -> Impact:
    result = session.impact(item, rev_a, rev_b, on or session.today)
    result["planning_day"] = session.today
    answer = plain(result)
    weeks, summary = answer.pop("weeks"), answer.pop("summary")
    return Impact(**answer, summary=ImpactSummary(**summary),
                  weeks=WeeklyComparison(dates=weeks["dates"],
                                         rows=[WeeklyRow(**r) for r in weeks["rows"]]))


@dataclass(frozen=True)
class WhatIf:
    """Rows changed by releasing ``revision`` of ``item`` from ``from_date``: ``rows`` has the
    columns of :func:`workbench.analysis.scenario.summary_frame` (item, site, gross_base, gross,
    net_base, net, first_shortage_base, first_shortage_quantity_base, ...)."""

    item: str
    revision: str
    from_date: dt.date
    planning_day: dt.date
    rows: pd.DataFrame

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = plain({"item": self.item, "revision": self.revision,
                                     "from": self.from_date, "planning_day": self.planning_day,
                                     "rows": records(self.rows)})
        return out


def what_if(session: PlanningSession, item: str, revision: str,
            from_date: dt.date | None = None) -> WhatIf:
    frame = session.what_if(item, revision, from_date or session.today)
    return WhatIf(item, revision, from_date or session.today, session.today, frame)


#: how the expected slip is computed (the ``statistic`` of the slippage answer)
SLIP_STATISTIC = (
    "expected slip = 80th percentile of delivery slips (early = 0) of received "
    "lines x n / (n + 5), each slip measured against the kind of promise it is "
    "applied to: expected_slip_days from the first promise (all received lines), "
    "expected_slip_after_repromise_days from the latest promise (received "
    "lines re-promised at least once)")


@dataclass(frozen=True)
class Slippage:
    """Supplier slippage (:class:`workbench.analysis.slippage.Slippage`'s frames, filtered):
    ``suppliers`` (supplier, lines, promise_changes, otif_rate, open_late_lines,
    expected_slip_days, expected_slip_after_repromise_days, ...), ``monthly`` (supplier, month,
    otif_rate, received_lines, ...), ``lines`` (purchase_order, line, supplier, ...; None: not
    asked)."""

    planning_day: dt.date
    suppliers: pd.DataFrame
    monthly: pd.DataFrame
    lines: pd.DataFrame | None
    statistic: str = SLIP_STATISTIC

    def to_json(self) -> dict[str, Any]:
        """The CLI's ``slippage --json`` answer."""
        out: dict[str, Any] = plain({
            "planning_day": self.planning_day,
            "statistic": self.statistic,
            "suppliers": records(self.suppliers),
            "monthly": records(self.monthly),
            "lines": records(self.lines) if self.lines is not None else [],
        })
        return out


def slippage(session: PlanningSession, supplier: str | None = None,
             lines: bool | None = None) -> Slippage:
    s = session.slippage
    sup, mon, lin = s.suppliers, s.monthly, s.lines
    if supplier is not None:
        sup, mon, lin = (f[f["supplier"] == supplier] for f in (sup, mon, lin))
    show_lines = supplier is not None if lines is None else lines
    return Slippage(session.today, sup, mon, lin if show_lines else None)
