"""The offline copy of a team cache (docs/team-cache.md): push the decisions made on the copy.

==========================  ========  ===========================================================
operation                   kind      answer
==========================  ========  ===========================================================
:func:`push_team`           command   :class:`~workbench.services.writeback.DrainResult` of the
                                      copy's entries queued for the ``team`` source
==========================  ========  ===========================================================

A sync of a team source pushes first by itself (:func:`workbench.app.sync.sync_source`); this is
``workbench team push``. Importing this module loads neither pandas nor Qt.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.app.ops import Changes, Outcome, command

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from workbench.services.settings import SourceConfig
    from workbench.services.tasks import TaskState
    from workbench.services.writeback import DrainResult


@command
def push_team(engine: Engine, source: SourceConfig, *, state: TaskState | None = None
              ) -> Outcome[DrainResult]:
    """Take the copy's queued decisions into the team cache of ``source`` (a ``team`` source):
    :func:`workbench.services.team.push_to_team`."""
    from workbench.services.team import push_to_team

    return Outcome(push_to_team(engine, source, state), Changes(decisions=True, outbox=True))
