"""Requisition re-evaluation as a use case: analyse, then store the recommendations.

The analysis (:mod:`workbench.analysis.requisitions`) is pure; this module runs it on a session
and writes one ``recommendations`` row per open requisition, in one transaction. A requisition's
earlier recommendations still ``open`` become ``superseded``, so the approval queue only ever
shows the latest advice; decided ones are left alone. ``base_version`` is the requisition's
source version the analysis saw, which write-back later checks for conflicting changes.
``proposed_item`` names the alternate component of a ``switch_source`` to another item (NULL for
every other advice, including a switch of supplier).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pandas as pd
from sqlalchemy import Engine, insert, update

from workbench.analysis.data import PlanningData
from workbench.analysis.lots import count_units, pack_sizes
from workbench.analysis.requisitions import UnitFacts, reevaluate
from workbench.analysis.session import PlanningSession
from workbench.cache.schema import recommendations
from workbench.services.decisions import query_frame
from workbench.services.planning import plain
from workbench.services.tasks import TaskState, check_cancelled


def unit_facts(engine: Engine, data: PlanningData | None = None) -> UnitFacts:
    """The count units of the units table, and the supplier packs the purchase history shows
    (:func:`workbench.analysis.lots.pack_sizes`; ``data``: the planning frames, else read)."""
    uoms = query_frame(engine, "SELECT code, category FROM uoms WHERE deleted_at IS NULL")
    conversions = query_frame(engine, "SELECT item, from_uom, to_uom, factor FROM "
                              "uom_conversions WHERE deleted_at IS NULL")
    if data is not None:
        lines, items = data.purchase_order_lines, data.items
    else:
        lines = query_frame(engine, "SELECT purchase_order, line, item, supplier, orig_uom "
                            "FROM purchase_order_lines WHERE deleted_at IS NULL")
        items = query_frame(engine, "SELECT code, stock_uom FROM items WHERE deleted_at IS NULL")
    counts = count_units(uoms)
    return UnitFacts(counts, pack_sizes(lines, conversions, counts, items))


def units_job(engine: Engine, state: TaskState | None = None) -> UnitFacts:
    """:func:`unit_facts` as a job of the cache's writer (the GUI's planner has no engine)."""
    return unit_facts(engine)


def evaluate(session: PlanningSession, *, with_pegs: bool = True,
             units: UnitFacts | None = None) -> pd.DataFrame:
    """The recommendations for every open requisition (not stored)."""
    slip = {str(k): float(v) for k, v in zip(session.slippage.suppliers["supplier"],
                                              session.slippage.suppliers["expected_slip_days"])}
    pegs = session.peg_summary if with_pegs else None
    return reevaluate(session.data, session.plan(), slip, pegs, units=units)


def evaluate_job(session: PlanningSession, *, units: UnitFacts | None = None
                 ) -> tuple[dt.date, pd.DataFrame]:
    """The planner's job of the GUI: the planning day and the recommendations."""
    return session.today, evaluate(session, units=units)


def store(engine: Engine, recs: pd.DataFrame, run_at: dt.datetime | None = None) -> int:
    """Write ``recs`` and supersede older open advice of the same requisitions; returns count."""
    stamp = (run_at or dt.datetime.now(dt.UTC).replace(tzinfo=None)).isoformat(timespec="seconds")
    rows = [
        {
            "run_at": stamp,
            "requisition": r["requisition"],
            "action": r["action"],
            "proposed_quantity": r["proposed_quantity"],
            "proposed_date": None if r["proposed_date"] is None else str(r["proposed_date"]),
            "proposed_supplier": r["proposed_supplier"] or None,
            "proposed_item": r.get("proposed_item") or None,
            "reason": r["reason"],
            "evidence": json.dumps(plain(r["evidence"]), default=str, sort_keys=True),
            "base_version": r["base_version"],
            "status": "open",
        }
        for r in recs.to_dict("records")
    ]
    with engine.begin() as conn:
        codes = [r["requisition"] for r in rows]
        for start in range(0, len(codes), 500):
            conn.execute(
                update(recommendations)
                .where(recommendations.c.requisition.in_(codes[start:start + 500]))
                .where(recommendations.c.status == "open")
                .values(status="superseded")
            )
        if rows:
            conn.execute(insert(recommendations), rows)
    return len(rows)


def run_reevaluation(engine: Engine, session: PlanningSession, *, save: bool = True,
                     with_pegs: bool = True, state: TaskState | None = None,
                     run_at: dt.datetime | None = None) -> dict[str, Any]:
    if state is not None:
        state.set_status("re-evaluating requisitions")
    recs = evaluate(session, with_pegs=with_pegs, units=unit_facts(engine, session.data))
    check_cancelled(state)
    stored = store(engine, recs, run_at) if save else 0
    counts = recs["action"].value_counts().sort_index().to_dict() if len(recs) else {}
    return plain({
        "planning_day": session.today,
        "stored": stored,
        "actions": counts,
        "recommendations": recs.to_dict("records"),
    })
