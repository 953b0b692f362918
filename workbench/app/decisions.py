"""A buyer's decisions: the approval queue, the history of decisions, deciding, re-evaluating.

Operations (:mod:`workbench.app.ops`) the Approvals screen and ``workbench decisions`` /
``workbench reevaluate`` ask alike:

=============================  ========  ==========================================================
operation                      kind      answer
=============================  ========  ==========================================================
:func:`approval_queue`         cache     open recommendations (frame, columns in its doc)
:func:`decision_history`       cache     decisions with their write-back state, newest first
:func:`decision_version`       cache     a requisition's decision version (``expected_version``)
:func:`decide`                 command   one :class:`DecisionOutcome` per :class:`Choice`;
                                         ``Changes(decisions=True, outbox=True)``
:func:`record`                 command   one decision as the CLI gives it (any field)
:func:`unit_tables`            cache     the units and conversions re-evaluation needs
:func:`evaluate`               planning  :class:`Evaluation`: the advice for every open requisition
:func:`store_recommendations`  command   :class:`~workbench.services.reevaluate.Reevaluation`;
                                         ``Changes(decisions=True)`` when stored
=============================  ========  ==========================================================

Re-evaluating is a planning query (the engine's advice, on the planning session) followed by a
command (judged against the buyer's decisions, stored). Importing this module loads neither
pandas nor Qt.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from workbench.app.ops import NOTHING, Changes, Outcome, cache_query, command, planning_query

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy import Engine

    from workbench.analysis.session import PlanningSession
    from workbench.services.decisions import DecisionOutcome
    from workbench.services.reevaluate import Reevaluation
    from workbench.services.tasks import TaskState

#: what deciding changes: the queue and history, and the outbox it queues in
DECIDED = Changes(decisions=True, outbox=True)
#: an approved ``order`` is overlaid on the plan until a sync shows the placed order
#: (workbench.analysis.overlay): the plan's inputs change too
ORDERED = Changes(data=True, decisions=True, outbox=True)


@cache_query
def approval_queue(engine: Engine) -> pd.DataFrame:
    """Open recommendations with their requisition, by requisition: the columns of
    :func:`workbench.services.approvals.approval_queue` (``id``, ``requisition``, ``action``,
    ``proposed_*``, ``reason``, ``evidence``, ``item``, ``site``, ``buyer``, ``quantity``,
    ``need_date``, ``description``, ``supplier``, ``quantity_change``, ...)."""
    from workbench.services import approvals

    return approvals.approval_queue(engine)


@cache_query
def decision_history(engine: Engine, requisition: str | None = None) -> pd.DataFrame:
    """Every decision (on ``requisition``, when given), newest first, with the advice decided
    on and the write-back state: :func:`workbench.cache.readmodels.decisions_frame`, and who
    (``workstation_user``, ``db_role``: :func:`workbench.services.decisions.decision_history`)."""
    from workbench.services.decisions import decision_history as history

    return history(engine, requisition)


@cache_query
def decision_version(engine: Engine, requisition: str) -> int:
    """The requisition's decision version now (0: never decided): what a decision made on
    what the buyer sees passes as ``expected_version``."""
    from workbench.services.decisions import decision_version as version

    return version(engine, requisition)


@dataclass(frozen=True)
class Choice:
    """One recommendation a buyer decides on, with what the buyer changed (None: as advised
    when approving; the advice's action otherwise given by the screen)."""

    recommendation: int
    requisition: str
    action: str | None = None
    quantity: float | None = None
    date: dt.date | None = None
    comment: str = ""
    #: the requisition's decision version the buyer saw (the queue's ``decision_version``):
    #: another buyer's decision since then is a DecisionConflict, not overwritten
    expected_version: int | None = None


@command
def decide(engine: Engine, choices: Sequence[Choice], verdict: str, user: str, *,
           state: TaskState | None = None) -> Outcome[list[DecisionOutcome]]:
    """Record ``verdict`` (approve, modify, reject) on each choice by ``user``, each in its own
    transaction (a bad one spoils nothing before it); the write-back is queued in the outbox
    (:func:`workbench.services.decisions.record_decision`)."""
    from workbench.services.decisions import record_decision

    out = []
    for n, c in enumerate(choices):
        if state is not None:
            state.set_progress(n, len(choices))
        out.append(record_decision(
            engine, c.requisition, verdict, decided_by=user, recommendation=c.recommendation,
            action=c.action, quantity=c.quantity, date=c.date, comment=c.comment,
            expected_version=c.expected_version))
    ordered = verdict != "reject" and any(c.action == "order" for c in choices)
    return Outcome(out, ORDERED if ordered else DECIDED)


@command
def record(engine: Engine, requisition: str, verdict: str, *, decided_by: str,
           action: str | None = None, quantity: float | None = None, date: str | None = None,
           supplier: str | None = None, comment: str = "", recommendation: int | None = None,
           item: str | None = None, expected_version: int | None = None
           ) -> Outcome[DecisionOutcome]:
    """One decision with every field a caller may give (``workbench decisions record``);
    :class:`~workbench.services.decisions.DecisionError` names what is wrong (a
    ``DecisionConflict`` when ``expected_version`` is no longer the requisition's)."""
    from workbench.services.decisions import record_decision

    outcome = record_decision(engine, requisition, verdict, decided_by=decided_by,
                              action=action, quantity=quantity, date=date, supplier=supplier,
                              comment=comment, recommendation=recommendation, item=item,
                              expected_version=expected_version)
    ordered = verdict != "reject" and action == "order" and outcome.outbox is not None
    return Outcome(outcome, NOTHING if outcome.duplicate else ORDERED if ordered else DECIDED)


@dataclass(frozen=True)
class UnitTables:
    """The live units (``code``, ``category``) and unit conversions (``item``, ``from_uom``,
    ``to_uom``, ``factor``): which units count pieces, and the supplier packs."""

    uoms: pd.DataFrame
    conversions: pd.DataFrame


@cache_query
def unit_tables(engine: Engine) -> UnitTables:
    from workbench.cache.readmodels import unit_frames

    return UnitTables(*unit_frames(engine))


@dataclass(frozen=True)
class Evaluation:
    """The planning engine's advice for every open requisition, not stored yet:
    ``recommendations`` is the frame of :func:`workbench.analysis.requisitions.reevaluate`."""

    planning_day: dt.date
    recommendations: pd.DataFrame


@planning_query
def evaluate(session: PlanningSession, units: UnitTables, *, with_pegs: bool = True,
             state: TaskState | None = None) -> Evaluation:
    """The advice on the plan of ``session``; supplier packs from its purchase-order lines and
    ``units`` (:func:`unit_tables`); ``with_pegs``: the pegged demands in the evidence."""
    from workbench.services import reevaluate

    if state is not None:
        state.set_status("re-evaluating requisitions")
    facts = reevaluate.unit_facts_from(units.uoms, units.conversions, session.data)
    return Evaluation(session.today,
                      reevaluate.evaluate(session, with_pegs=with_pegs, units=facts))


@command
def store_recommendations(engine: Engine, evaluation: Evaluation, *, save: bool = True
                          ) -> Outcome[Reevaluation]:
    """Judge the advice against the buyer's decisions (advice a decision holds back is stored
    ``held``) and, when ``save``, store it, superseding the open advice of those requisitions
    (:func:`workbench.services.reevaluate.conclude`)."""
    from workbench.services.reevaluate import conclude

    result = conclude(engine, evaluation.planning_day, evaluation.recommendations, save=save)
    return Outcome(result, Changes(decisions=True) if save else NOTHING)
