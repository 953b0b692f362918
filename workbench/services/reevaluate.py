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

from workbench.analysis.requisitions import reevaluate
from workbench.analysis.session import PlanningSession
from workbench.cache.schema import recommendations
from workbench.services.planning import plain
from workbench.services.tasks import TaskState, check_cancelled


def evaluate(session: PlanningSession, *, with_pegs: bool = True) -> pd.DataFrame:
    """The recommendations for every open requisition (not stored)."""
    slip = {str(k): float(v) for k, v in zip(session.slippage.suppliers["supplier"],
                                              session.slippage.suppliers["expected_slip_days"])}
    pegs = session.peg_summary if with_pegs else None
    return reevaluate(session.data, session.plan(), slip, pegs)


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
    recs = evaluate(session, with_pegs=with_pegs)
    check_cancelled(state)
    stored = store(engine, recs, run_at) if save else 0
    counts = recs["action"].value_counts().sort_index().to_dict() if len(recs) else {}
    return plain({
        "planning_day": session.today,
        "stored": stored,
        "actions": counts,
        "recommendations": recs.to_dict("records"),
    })
