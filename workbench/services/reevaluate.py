"""Requisition re-evaluation as a use case: analyse, then store the recommendations.

The analysis (:mod:`workbench.analysis.requisitions`) is pure; this module runs it on a session
and writes one ``recommendations`` row per open requisition, in one transaction. A requisition's
earlier recommendations still ``open`` become ``superseded``, so the approval queue only ever
shows the latest advice; decided ones are left alone. ``base_version`` is the requisition's
source version the analysis saw, which write-back later checks for conflicting changes.
``proposed_item`` names the alternate component of a ``switch_source`` to another item (NULL for
every other advice, including a switch of supplier).

**A buyer's decision is remembered.** When the latest decision on a requisition *modified* or
*rejected* a recommendation, new advice for it is stored **held** (status ``held``: not in the
approval queue; its evidence says which decision holds it) unless the facts behind it changed
materially since the recommendation decided on — any one of:

1. the advice is another action (e.g. ``cancel`` where ``reduce`` was rejected);
2. the net requirement it rests on (``basis.net_requirement``: what the requisition covers plus
   what no requisition covers, for its last one) moved by more than 10 % of the earlier figure
   or one order multiple of the item, whichever is larger;
3. the first need it covers moved by more than one planning bucket (7 days in weekly buckets);
4. the requisition itself changed in its source: its version is neither the one the decision
   was based on nor the one the decision's own write-back produced.

Then the advice is ``open`` again, and its evidence says what changed (``raised_again``). An
approved recommendation is written back and changes the requisition, so its next advice is
judged afresh. Held advice is superseded by the next run like open advice.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, cast

import pandas as pd
from sqlalchemy import Engine

from workbench.analysis.data import PlanningData
from workbench.analysis.lots import count_units, pack_sizes
from workbench.analysis.requisitions import UnitFacts, reevaluate
from workbench.analysis.session import PlanningSession
from workbench.cache.decisions import store_advice
from workbench.cache.readmodels import latest_decisions_on_advice, purchase_frames, unit_frames
from workbench.services.planning import plain
from workbench.services.tasks import TaskState, check_cancelled


def unit_facts(engine: Engine, data: PlanningData | None = None) -> UnitFacts:
    """The count units of the units table, and the supplier packs the purchase history shows
    (:func:`workbench.analysis.lots.pack_sizes`; ``data``: the planning frames, else read)."""
    uoms, conversions = unit_frames(engine)
    if data is not None:
        return unit_facts_from(uoms, conversions, data)
    lines, items = purchase_frames(engine)
    counts = count_units(uoms)
    return UnitFacts(counts, pack_sizes(lines, conversions, counts, items))


def unit_facts_from(uoms: pd.DataFrame, conversions: pd.DataFrame, data: PlanningData
                    ) -> UnitFacts:
    """:func:`unit_facts` from the units tables and the planning frames' PO lines and items."""
    counts = count_units(uoms)
    return UnitFacts(counts, pack_sizes(data.purchase_order_lines, conversions, counts,
                                        data.items))


def evaluate(session: PlanningSession, *, with_pegs: bool = True,
             units: UnitFacts | None = None) -> pd.DataFrame:
    """The recommendations for every open requisition (not stored)."""
    slip = {str(k): float(v) for k, v in zip(session.slippage.suppliers["supplier"],
                                              session.slippage.suppliers["expected_slip_days"])}
    pegs = session.peg_summary if with_pegs else None
    return reevaluate(session.data, session.plan(), slip, pegs, units=units)


def store(engine: Engine, recs: pd.DataFrame, run_at: dt.datetime | None = None,
          held: dict[str, dict[str, Any]] | None = None) -> int:
    """Write ``recs`` and supersede older open or held advice of the same requisitions; advice
    the buyer's decisions hold back (``held``: :func:`held_back`, computed when not given) is
    stored held. Returns the count."""
    stamp = (run_at or dt.datetime.now(dt.UTC).replace(tzinfo=None)).isoformat(timespec="seconds")
    memory = held_back(engine, recs) if held is None else held
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
            "evidence": json.dumps(plain(_with_memory(r["evidence"], memory.get(
                r["requisition"]))), default=str, sort_keys=True),
            "base_version": r["base_version"],
            "status": "held" if memory.get(r["requisition"], {}).get("held") else "open",
        }
        for r in recs.to_dict("records")
    ]
    return store_advice(engine, rows)


@dataclass
class Reevaluation:
    """What a re-evaluation found and stored. ``recommendations``: the frame of
    :func:`workbench.analysis.requisitions.reevaluate` (one row per open requisition:
    ``requisition``, ``action``, ``proposed_quantity``, ``proposed_date``,
    ``proposed_supplier``, ``proposed_item``, ``reason``, ``evidence``, ``base_version``, ...),
    its ``evidence`` with the buyer's decision that holds it back (``held_by``) or what changed
    since (``raised_again``), and a last column ``status``: ``open`` or ``held``."""

    planning_day: dt.date
    stored: int
    actions: dict[str, int]
    held: int
    recommendations: pd.DataFrame

    def to_dict(self) -> dict[str, Any]:
        """The JSON answer of ``workbench reevaluate``."""
        return cast(dict[str, Any], plain({
            "planning_day": self.planning_day,
            "stored": self.stored,
            "actions": self.actions,
            "held": self.held,
            "recommendations": self.recommendations.to_dict("records"),
        }))


def conclude(engine: Engine, planning_day: dt.date, recs: pd.DataFrame, *, save: bool = True,
             run_at: dt.datetime | None = None) -> Reevaluation:
    """Judge ``recs`` against the buyer's decisions (:func:`held_back`) and, when ``save``,
    store them (:func:`store`)."""
    memory = held_back(engine, recs)
    stored = store(engine, recs, run_at, memory) if save else 0
    counts = recs["action"].value_counts().sort_index().to_dict() if len(recs) else {}
    annotated = recs
    if len(recs):
        notes = [memory.get(code) for code in recs["requisition"]]
        annotated = recs.assign(evidence=[_with_memory(e, n)
                                          for e, n in zip(recs["evidence"], notes)])
        annotated["status"] = ["held" if n and n.get("held") else "open" for n in notes]
    held = int((annotated["status"] == "held").sum()) if len(recs) else 0
    return Reevaluation(planning_day, stored, {str(k): int(v) for k, v in counts.items()}, held,
                        annotated)


def run_reevaluation(engine: Engine, session: PlanningSession, *, save: bool = True,
                     with_pegs: bool = True, state: TaskState | None = None,
                     run_at: dt.datetime | None = None) -> dict[str, Any]:
    """Evaluate on ``session``, then :func:`conclude`; the JSON answer."""
    if state is not None:
        state.set_status("re-evaluating requisitions")
    recs = evaluate(session, with_pegs=with_pegs, units=unit_facts(engine, session.data))
    check_cancelled(state)
    return conclude(engine, session.today, recs, save=save, run_at=run_at).to_dict()


def _with_memory(evidence: dict[str, Any], note: dict[str, Any] | None) -> dict[str, Any]:
    if not note:
        return evidence
    return {**evidence, ("held_by" if note["held"] else "raised_again"): note}


#: rule 2 of the module doc: relative tolerance on the net requirement
NET_TOLERANCE = 0.10


def _basis(evidence: dict[str, Any]) -> tuple[float, dt.date | None, float, int]:
    """(net requirement, first need, order multiple, bucket days) an advice rests on; advice
    stored before the basis was recorded: from its covered figures."""
    b = evidence.get("basis") or {}
    net = b.get("net_requirement")
    if net is None:
        net = float(evidence.get("covered_quantity") or 0) + float(
            evidence.get("uncovered_quantity") or 0)
    first = b.get("first_need")
    if first is None and "basis" not in evidence and evidence.get("covered_needs"):
        first = evidence["covered_needs"][0]["date"]
    first_date = dt.date.fromisoformat(str(first)[:10]) if first else None
    return (float(net), first_date, float(b.get("order_multiple") or 0),
            int(b.get("bucket_days") or 7))


def material_change(before: dict[str, Any], now: dict[str, Any],
                    versions: set[str]) -> str:
    """Why advice ``now`` differs materially from the advice decided on (``before``), by the
    rules of the module doc; "" when it does not. Each is a dict with ``action``, ``evidence``
    and (``now``) ``base_version``; ``versions``: the requisition versions the decision
    accounts for (its base and its write-back's result)."""
    if now["action"] != before["action"]:
        return f"the advice is now {now['action']}, it was {before['action']}"
    net_a, first_a, mult, _ = _basis(before["evidence"])
    net_b, first_b, mult_b, days = _basis(now["evidence"])
    tolerance = max(NET_TOLERANCE * abs(net_a), mult, mult_b)
    if abs(net_b - net_a) > tolerance + 1e-9:
        return (f"the net requirement moved from {net_a:,.6g} to {net_b:,.6g}, more than "
                f"{tolerance:,.6g} (10 % or one order multiple)")
    if (first_a is None) != (first_b is None) or (
            first_a is not None and first_b is not None
            and abs((first_b - first_a).days) > days):
        return (f"the first need moved from {first_a or 'none'} to {first_b or 'none'}, more "
                f"than one bucket ({days} days)")
    version = now.get("base_version")
    if version and versions and version not in versions:
        return f"the requisition changed in its source (version {version})"
    return ""


def held_back(engine: Engine, recs: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Per requisition whose latest decision modified or rejected a recommendation: whether
    the new advice is held (``held``), the decision (who, when, what, why) and, when raised
    again, what changed (``changed``)."""
    if not len(recs):
        return {}
    latest = latest_decisions_on_advice(engine)
    latest = latest[latest["verdict"].isin(("modify", "reject"))]
    if not len(latest):
        return {}
    wanted = set(recs["requisition"])
    out: dict[str, dict[str, Any]] = {}
    by_code = {r["requisition"]: r for r in recs.to_dict("records")}
    for d in latest.to_dict("records"):
        if d["requisition"] not in wanted:
            continue
        before = {"action": d["action"], "evidence": json.loads(d["evidence"] or "{}")}
        versions = {str(v) for v in (d["base_version"], d["result_version"]) if v}
        why = material_change(before, by_code[d["requisition"]], versions)
        out[d["requisition"]] = {
            "held": not why, "changed": why, "decision": int(d["id"]),
            "verdict": d["verdict"], "advice_decided": d["action"],
            "decided_by": d["decided_by"], "decided_at": d["decided_at"],
            "comment": d["comment"] or "",
        }
    return out
