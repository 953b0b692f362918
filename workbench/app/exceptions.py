"""Exception messages and the element list (``workbench exceptions``, ``workbench elements``).

Computing the messages needs the plan (a planning query) and storing them the cache (a command):
a refresh is :func:`exception_site_names` (cache), :func:`compute_exception_messages` (planning)
and :func:`store_exception_messages` (command), each placed by the runner. Rules and lasting
state: :mod:`workbench.services.exceptions`, docs/exceptions.md. Importing this module loads
neither pandas nor Qt.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from workbench.app.ops import Changes, Outcome, cache_query, command, planning_query

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from workbench.analysis.elements import ElementList
    from workbench.analysis.exceptions import ExceptionSettings
    from workbench.analysis.session import PlanningSession
    from workbench.services.exceptions import ComputedMessages, RefreshResult, StoredMessage

#: what acknowledging, snoozing or refreshing messages changes
DECISIONS = Changes(decisions=True)


@cache_query
def exception_site_names(engine: Engine) -> dict[str, str]:
    """Site code -> name."""
    from workbench.services import exceptions

    return exceptions.site_names(engine)


@planning_query
def compute_exception_messages(session: PlanningSession,
                               settings: ExceptionSettings | None = None,
                               names: dict[str, str] | None = None) -> ComputedMessages:
    """Every exception message of the session's plan (tolerances ``settings``)."""
    from workbench.services import exceptions

    return exceptions.compute_messages(session, settings, names)


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
