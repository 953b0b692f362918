"""Planning use cases on the cache: load the frames, open a session, answer in plain data.

The CLI and the GUI both go through here, so "the same question gives the same answer" holds
across them. Results are plain dicts/lists (dates as ``datetime.date``) ready for JSON.

The planning day ("today") defaults to the cache's as-of day: the latest inventory snapshot date
(``as_of``), else the latest day a sync observed a promise, else the wall clock. A demo cache is
thus planned on its simulated day, not on the day someone happens to run the command.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import math
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from workbench import __version__
from workbench.analysis.bom import CodedLines, ItemIndex, ParentRows
from workbench.analysis.calendar import Calendar
from workbench.analysis.consumption import DEFAULT_CONSUMPTION, ForecastConsumption
from workbench.analysis.data import (
    CODE_COLUMNS,
    PLANNING_ENTITIES,
    PlanningData,
    column_kinds,
    normalise_frame,
    seed_codes,
)
from workbench.analysis.netting import plan_sites
from workbench.analysis.session import PlanningSession
from workbench.analysis.sources import collect
from workbench.cache.db import read_transaction
from workbench.cache.frames import read_entity_columns
from workbench.cache.schema import entity_columns
from workbench.cache.snapshot import (
    observe_stamp,
    read_snapshot,
    read_stamp,
    snapshot_path,
    write_in_background,
)
from workbench.domain.models import ENTITY_MODELS
from workbench.services.tasks import TaskState, check_cancelled

#: Provenance columns the engine never reads, left out of the bulk tables when loading (fewer
#: Python strings to fetch for the 2M BOM lines; a frame lacks them rather than faking them).
LEFT_OUT: dict[str, tuple[str, ...]] = {
    "bom_lines": ("source", "source_key", "source_version", "orig_quantity_per"),
    "inventory": ("source", "source_key", "source_version", "orig_quantity"),
    "work_order_components": ("source", "source_key", "source_version",
                              "orig_required_quantity", "orig_issued_quantity"),
}


def load_planning_data(engine: Engine, state: TaskState | None = None,
                       entities: Iterable[str] = PLANNING_ENTITIES, *,
                       prepare: bool = True,
                       consumption: ForecastConsumption | None = DEFAULT_CONSUMPTION
                       ) -> PlanningData:
    """The planning frames from the cache (deleted rows excluded, :data:`LEFT_OUT` columns left
    out), read column by column (:func:`read_entity_columns`) and normalised, with the item
    numbering, coded BOM lines, each parent's BOM rows and supply/demand sources prepared once
    (date-independent, reused by every plan of a session; the requirements after forecast
    consumption with the windows ``consumption``)."""
    frames, numbering = read_planning_frames(engine, list(entities), state)
    for entity in PLANNING_ENTITIES:  # entities not read: empty, with every column
        if entity not in frames:
            frames[entity] = normalise_frame(entity, None, LEFT_OUT.get(entity, ()))
    data = PlanningData(**frames)
    for (entity, column), ids in numbering.items():  # the item numbering starts from these
        if (entity, column) in CODE_COLUMNS:
            seed_codes(data, entity, column, ids)
    if prepare:
        if state is not None:
            state.set_status("numbering items")
        prepare_planning_data(data, consumption)
    return data


def read_planning_frames(engine: Engine, entities: list[str], state: TaskState | None = None,
                         *, snapshot: bool = True
                         ) -> tuple[dict[str, pd.DataFrame], dict[tuple[str, str], np.ndarray]]:
    """The normalised frames of ``entities`` and the numbering of their text columns.

    All planning entities come from the frame snapshot beside the cache when it was made from
    the cache's current state (:mod:`workbench.cache.snapshot`), else from SQLite column by
    column; a load from SQLite during which no write landed is then snapshotted in the
    background for the next load. ``snapshot=False`` always reads SQLite and writes nothing.
    """
    whole = snapshot and sorted(entities) == sorted(PLANNING_ENTITIES)
    path = snapshot_path(engine) if whole else None
    stamp = read_stamp(engine) if path is not None else None
    layout = frame_snapshot_layout()
    if path is not None and stamp is not None:
        if state is not None:
            state.set_status("reading the planning frame snapshot")
        saved = read_snapshot(path, stamp, layout)
        if saved is not None:
            return saved.frames, saved.codes
        stamp = observe_stamp(engine)  # from now on, any write draws a new stamp
    frames: dict[str, pd.DataFrame] = {}
    numbering: dict[tuple[str, str], np.ndarray] = {}
    # one read transaction for every entity: a sync committing meanwhile is seen whole or not
    # at all, never as new items with old inventory
    with read_transaction(engine) as connection:
        for n, entity in enumerate(entities):
            check_cancelled(state)
            if state is not None:
                state.set_status(f"reading {entity}")
                state.set_progress(n, len(entities))
            omit = LEFT_OUT.get(entity, ())
            columns = [c for c in entity_columns(ENTITY_MODELS[entity]) if c not in omit]
            kinds = column_kinds(entity)
            numbers = [c for c in columns if kinds.get(c) == "float"]  # integers read as text
            text = [c for c in columns if c not in numbers]
            numbered: dict[str, np.ndarray] = {}
            frames[entity] = normalise_frame(entity, read_entity_columns(
                engine, entity, text, numbers, numbered, connection=connection), omit)
            numbering.update({(entity, c): ids for c, ids in numbered.items()})
    if path is not None and stamp is not None and read_stamp(engine) == stamp:
        write_in_background(path, stamp, layout, frames, numbering)
    return frames, numbering


@functools.cache
def frame_snapshot_layout() -> str:
    """What a snapshot must have been made for: this version's columns and kinds per frame, and
    the code that reads and normalises them (the source files' digest when they are at hand, as
    in a development checkout, where the version does not move with every edit)."""
    digest = hashlib.sha256()
    for function in (normalise_frame, read_entity_columns, read_planning_frames):
        try:
            digest.update(Path(function.__code__.co_filename).read_bytes())
        except OSError:  # a frozen build: its version says it all
            digest.update(b"-")
    return json.dumps({"version": __version__, "code": digest.hexdigest(), "frames": {
        entity: [[c, k] for c, k in column_kinds(entity).items()
                 if c not in LEFT_OUT.get(entity, ())] for entity in PLANNING_ENTITIES}})


def prepare_planning_data(data: PlanningData,
                          consumption: ForecastConsumption | None = DEFAULT_CONSUMPTION
                          ) -> PlanningData:
    """Compute the date-independent inputs of every plan once: item numbering, coded BOM lines,
    each parent's BOM rows (for revision impact and what-if), supply and demand sources (demand
    after forecast consumption with the windows ``consumption``) with their row keys (kept
    inside ``data``, see :meth:`PlanningData.derived`)."""
    items = ItemIndex.build(data)
    CodedLines.of(data, items)
    ParentRows.of(data, items)
    sources = collect(data, consumption=consumption)
    sites = plan_sites(sources)
    for name in ("on_hand", "receipts", "requirements"):
        sources.keys(name, items, sites)
    return data


def planning_day(data: PlanningData) -> dt.date:
    """The cache's as-of day (see module doc)."""
    as_of = data.inventory["as_of"].max() if len(data.inventory) else pd.NaT
    if not pd.isna(as_of):
        return pd.Timestamp(as_of).date()
    pc = data.promise_changes
    observed = pc.loc[pc["origin"] == "observed", "changed_at"].max() if len(pc) else pd.NaT
    if not pd.isna(observed):
        return pd.Timestamp(observed).date()
    return dt.date.today()


def open_session(engine: Engine, *, today: dt.date | None = None, horizon: str = "26w",
                 bucket: str = "week", state: TaskState | None = None,
                 consumption: ForecastConsumption | None = DEFAULT_CONSUMPTION
                 ) -> PlanningSession:
    """A session on the cache's data with the planning parameters: planning day, horizon and
    bucket, and the forecast consumption windows (``None``: no consumption, see
    :mod:`workbench.analysis.consumption`)."""
    data = load_planning_data(engine, state, consumption=consumption)
    day = today or planning_day(data)
    return PlanningSession(data, Calendar.parse(day, horizon, bucket), consumption)


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


def where_used(session: PlanningSession, item: str, *, as_of: dt.date | None = None,
               include_drafts: bool = False, include_obsolete: bool = False,
               multi_level: bool = True, site: str | None = None,
               max_paths: int = 1000, all_revisions: bool = False) -> dict[str, Any]:
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
    out = plain(result.to_dict())
    out.update({"as_of": day, "all_revisions": all_revisions, "statuses": sorted(statuses),
                "site": site})
    return out


def shortages(session: PlanningSession, *, item: str | None = None, site: str | None = None,
              risk_adjusted: bool = False, details: bool | None = None,
              limit: int | None = None) -> dict[str, Any]:
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
    rows_out = []
    for row, s in zip(summary.index, records(summary)):
        if details:
            s["record"] = records(plan.record(int(row)))
            peg = session.pegging(risk_adjusted)
            s["requirements"] = plain([r.to_dict(plan) for r in peg.requirements(int(row))])
            s["planned_order_pegs"] = [
                {"bucket": b, "date": plan.calendar.need_date(b),
                 "pegs": [{"peg": k, "quantity": v} for k, v in sorted(p.items())]}
                for b, p in sorted(peg.order_pegs(int(row)).items())
            ]
        rows_out.append(s)
    out: dict[str, Any] = {
        "planning_day": session.today,
        "bucket": "week" if plan.calendar.bucket_days == 7 else "day",
        "buckets": plan.calendar.n_buckets,
        "risk_adjusted": risk_adjusted,
        # the windows (backward_days, forward_days); None: no consumption
        "forecast_consumption": session.consumption and asdict(session.consumption),
        "rows_total": total,
        "rows": rows_out,
        "cycles": plan.cycles,
    }
    if risk_adjusted:
        diff = session.risk_differences()
        if item is not None:
            diff = diff[diff["item"] == item]
        if site is not None:
            diff = diff[diff["site"] == site]
        # supplier -> days added to a line still on its first promise / to a re-promised line
        out["slip_days"] = session.slippage.slip_days()
        out["slip_days_after_repromise"] = session.slippage.repromise_slip_days()
        out["differences"] = records(diff)
    return plain(out)


def impact(session: PlanningSession, item: str, rev_a: str, rev_b: str,
           on: dt.date | None = None) -> dict[str, Any]:
    result = session.impact(item, rev_a, rev_b, on or session.today)
    result["planning_day"] = session.today
    return plain(result)


def what_if(session: PlanningSession, item: str, revision: str,
            from_date: dt.date | None = None) -> dict[str, Any]:
    frame = session.what_if(item, revision, from_date or session.today)
    return plain({"item": item, "revision": revision, "from": from_date or session.today,
                  "planning_day": session.today, "rows": records(frame)})


def slippage(session: PlanningSession, supplier: str | None = None,
             lines: bool | None = None) -> dict[str, Any]:
    s = session.slippage
    sup, mon, lin = s.suppliers, s.monthly, s.lines
    if supplier is not None:
        sup, mon, lin = (f[f["supplier"] == supplier] for f in (sup, mon, lin))
    show_lines = supplier is not None if lines is None else lines
    return plain({
        "planning_day": session.today,
        "statistic": "expected slip = 80th percentile of delivery slips (early = 0) of received "
                     "lines x n / (n + 5), each slip measured against the kind of promise it is "
                     "applied to: expected_slip_days from the first promise (all received lines), "
                     "expected_slip_after_repromise_days from the latest promise (received "
                     "lines re-promised at least once)",
        "suppliers": records(sup),
        "monthly": records(mon),
        "lines": records(lin) if show_lines else [],
    })
