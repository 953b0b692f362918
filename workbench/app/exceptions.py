"""Exception messages and the element list (``workbench exceptions``, ``workbench elements``).

Computing the messages needs the plan (a planning query) and storing them the cache (a command):
a refresh is :func:`exception_site_names` and :func:`exception_count_units` (cache),
:func:`compute_exception_messages` (planning) and :func:`store_exception_messages` (command), each
placed by the runner. Rules and lasting
state: :mod:`workbench.services.exceptions`, docs/exceptions.md. Importing this module loads
neither pandas nor Qt.

Acting on messages (commands): :func:`decide_message` (one message: approve, modify, reject),
:func:`decide_messages` (several, each in its own transaction), :func:`supplier_reschedules`
(query: the open undecided reschedules of one supplier) and
:func:`approve_supplier_reschedules` (approve them all); a PO line's decision is queued for
write-back through the outbox, a work order's recorded
(:mod:`workbench.services.message_decisions`). Each returns typed
:class:`~workbench.services.message_decisions.MessageOutcome` values and ``Changes(data=True,
decisions=True, outbox=True)`` when a write-back was queued (the plan overlays it:
:mod:`workbench.analysis.overlay`), ``Changes(decisions=True)`` when only recorded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from workbench.app.ops import NOTHING, Changes, Outcome, cache_query, command, planning_query

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from workbench.analysis.elements import ElementList
    from workbench.analysis.exceptions import ExceptionSettings
    from workbench.analysis.session import PlanningSession
    from workbench.services.exceptions import ComputedMessages, RefreshResult, StoredMessage
    from workbench.services.message_decisions import MessageOutcome
    from workbench.services.tasks import TaskState

#: what acknowledging, snoozing or refreshing messages changes
DECISIONS = Changes(decisions=True)


@cache_query
def exception_site_names(engine: Engine) -> dict[str, str]:
    """Site code -> name."""
    from workbench.services import exceptions

    return exceptions.site_names(engine)


@cache_query
def exception_count_units(engine: Engine) -> frozenset[str]:
    """The count units of the cache's units table (E04/E05 suggest whole units of them)."""
    from workbench.services import exceptions

    return exceptions.count_unit_codes(engine)


@planning_query
def compute_exception_messages(session: PlanningSession,
                               settings: ExceptionSettings | None = None,
                               names: dict[str, str] | None = None,
                               counts: frozenset[str] | None = None) -> ComputedMessages:
    """Every exception message of the session's plan (tolerances ``settings``; ``counts``: the
    count units, from :func:`exception_count_units`, else the usual count codes)."""
    from workbench.services import exceptions

    if counts is None:
        return exceptions.compute_messages(session, settings, names)
    return exceptions.compute_messages(session, settings, names, counts)


@command
def store_exception_messages(engine: Engine, computed: ComputedMessages
                             ) -> Outcome[RefreshResult]:
    """Merge computed messages into the stored state (first seen kept, gone ones resolved)."""
    from workbench.services import exceptions

    return Outcome(exceptions.store_messages(engine, computed), DECISIONS)


@cache_query
def list_exceptions(engine: Engine, *, role: str | None = None, kind: str | None = None,
                    site: str | None = None, supplier: str | None = None,
                    min_age: int | None = None, include_snoozed: bool = False,
                    include_resolved: bool = False) -> list[StoredMessage]:
    """Stored messages filtered, oldest first (:func:`workbench.services.exceptions.list_exceptions`)."""
    from workbench.services import exceptions

    return exceptions.list_exceptions(engine, role=role, kind=kind, site=site, supplier=supplier,
                                      min_age=min_age, include_snoozed=include_snoozed,
                                      include_resolved=include_resolved)


@command
def acknowledge_exceptions(engine: Engine, ids: list[int], by: str) -> Outcome[list[int]]:
    """Acknowledge messages (all or none)."""
    from workbench.services import exceptions

    return Outcome(exceptions.acknowledge(engine, ids, by), DECISIONS)


@command
def snooze_exceptions(engine: Engine, ids: list[int], until: dt.date, by: str
                      ) -> Outcome[list[int]]:
    """Snooze messages until ``until`` (inclusive; all or none)."""
    from workbench.services import exceptions

    return Outcome(exceptions.snooze(engine, ids, until, by), DECISIONS)


@cache_query
def element_codes(engine: Engine, item: str, site: str | None = None) -> dict[str, str]:
    """Element -> codes of its stored open messages (the element list's exception column)."""
    from workbench.services import exceptions

    return exceptions.element_codes(engine, item, site)


@planning_query
def elements(session: PlanningSession, item: str, site: str | None = None,
             bucket: str = "week", codes: dict[str, str] | None = None) -> ElementList:
    """The element list of ``item`` at ``site`` (MD04-like) with period totals by ``bucket``."""
    from workbench.services import exceptions

    return exceptions.elements(session, item, site, bucket, codes=codes)


# --- acting on messages (issue 13 §3): decisions on firm orders ------------------------------
#: what a decision changes: queue and history, and the outbox when it queued a write-back
DECIDED = Changes(decisions=True, outbox=True)


#: a queued write-back is overlaid on the plan at once (workbench.analysis.overlay)
OVERLAID = Changes(data=True, decisions=True, outbox=True)


def _decided(outcomes: list[MessageOutcome]) -> Changes:
    """Changes as fits: nothing when nothing new was recorded; decisions only for a rejection
    or a work order's recorded advice; data, decisions and outbox when a write-back was queued:
    the plan overlays the pending decision (:mod:`workbench.analysis.overlay`), so the planning
    panels reload, the messages are computed again and the one acted on is resolved once the
    plan no longer raises it."""
    fresh = [o for o in outcomes if o.decision is not None and not o.duplicate]
    if not fresh:
        return NOTHING
    return OVERLAID if any(o.written_back for o in fresh) else DECISIONS


@command
def decide_message(engine: Engine, message_id: int, verdict: str, user: str, *,
                   quantity: float | None = None, date: dt.date | str | None = None,
                   comment: str = "", expected_version: int | None = None
                   ) -> Outcome[MessageOutcome]:
    """Record ``verdict`` (approve, modify, reject) by ``user`` on one exception message: a PO
    line's reschedule (E01/E02), reduce (E04), increase (E05) or cancel (E03) is queued for
    write-back, a work order's is recorded advice. ``quantity``: new open quantity (stock unit),
    ``date``: new date; given with approve they make it modify. Bad input raises
    :class:`~workbench.services.decisions.DecisionError` (nothing stored)
    (:func:`workbench.services.message_decisions.record_message_decision`); given
    ``expected_version`` (the element's decision version the user saw), another user's decision
    since raises :class:`~workbench.services.decisions.DecisionConflict` with both."""
    from workbench.services.message_decisions import record_message_decision

    outcome = record_message_decision(engine, message_id, verdict, decided_by=user,
                                      quantity=quantity, date=date, comment=comment,
                                      expected_version=expected_version)
    return Outcome(outcome, _decided([outcome]))


@command
def decide_messages(engine: Engine, message_ids: Sequence[int], verdict: str, user: str, *,
                    quantity: float | None = None, date: dt.date | str | None = None,
                    comment: str = "", state: TaskState | None = None,
                    expected_versions: Mapping[int, int] | None = None
                    ) -> Outcome[list[MessageOutcome]]:
    """:func:`decide_message` on each id, each in its own transaction; one that cannot be
    decided carries its reason in ``error`` and spoils none of the others.
    ``expected_versions``: id -> the decision version of its element the user saw (the
    Exceptions list's Version column); another user's decision since is refused, the outcome's
    ``conflict`` holding both decisions."""
    from workbench.services.message_decisions import record_message_decisions

    outcomes = record_message_decisions(engine, message_ids, verdict, decided_by=user,
                                        quantity=quantity, date=date, comment=comment,
                                        state=state, expected_versions=expected_versions)
    return Outcome(outcomes, _decided(outcomes))


@cache_query
def supplier_reschedules(engine: Engine, supplier: str) -> list[int]:
    """Ids of the open, undecided reschedule messages (E01, E02) of ``supplier``'s PO lines."""
    from workbench.services.message_decisions import supplier_reschedules as ids

    return ids(engine, supplier)


@command
def approve_supplier_reschedules(engine: Engine, supplier: str, user: str, *,
                                 state: TaskState | None = None
                                 ) -> Outcome[list[MessageOutcome]]:
    """Approve, as advised, every open undecided reschedule of ``supplier``'s PO lines (bulk
    approve in the Exceptions panel)."""
    from workbench.services.message_decisions import approve_supplier_reschedules as approve

    outcomes = approve(engine, supplier, decided_by=user, state=state)
    return Outcome(outcomes, _decided(outcomes))
