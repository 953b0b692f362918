"""One planning session per cache state, shared by the panels (no Qt here).

Building the planning frames, BOM graph and base plan of a plant takes from a fraction of a second
(small demo) to many seconds (large); answering a question on a built session takes milliseconds
(:mod:`workbench.analysis.session`). The window keeps one :class:`PlanningHolder`; panels call
:meth:`PlanningHolder.call` from a worker and get their answer computed on the shared session.
When the cache changes (a sync, a re-evaluation) the holder is invalidated and the next call
rebuilds it.

Calls are serialised by a lock: a session builds its plan lazily and is not meant to be built
twice at once from two threads; planning questions are short once it is built.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, TypeVar

from sqlalchemy import Engine

from workbench.analysis.session import PlanningSession
from workbench.services.planning import open_session
from workbench.services.settings import PlanningDefaults
from workbench.services.tasks import TaskState, check_cancelled

T = TypeVar("T")


class PlanningHolder:
    """Lazily opened, shared :class:`PlanningSession` of one cache."""

    def __init__(self, engine: Engine, defaults: PlanningDefaults | None = None) -> None:
        self.engine = engine
        self.defaults = defaults or PlanningDefaults()
        self._session: PlanningSession | None = None
        self._generation = 0
        self._lock = threading.RLock()

    @property
    def generation(self) -> int:
        """Bumped on every invalidation: an answer from an older generation is stale."""
        return self._generation

    def invalidate(self) -> None:
        """The cache changed: the next call opens a new session."""
        self._generation += 1
        self._session = None

    def session(self, state: TaskState | None = None) -> PlanningSession:
        with self._lock:
            if self._session is None:
                generation = self._generation
                session = open_session(
                    self.engine,
                    horizon=f"{self.defaults.horizon_weeks}w",
                    bucket=self.defaults.bucket,
                    state=state,
                )
                if generation == self._generation:
                    self._session = session
                return session
            return self._session

    def call(self, fn: Callable[[PlanningSession], T], state: TaskState | None = None) -> T:
        """``fn(session)`` on the shared session (opening it first if needed)."""
        with self._lock:
            session = self.session(state)
            check_cancelled(state)
            if state is not None:
                state.set_status("planning")
            return fn(session)

    def peek(self) -> PlanningSession | None:
        """The session if one is open (no building)."""
        return self._session


def plan_call(holder: PlanningHolder, fn: Callable[[PlanningSession], Any]) -> Callable[[TaskState], Any]:
    """A worker function for :class:`workbench.ui.operations.Op` running ``fn`` on the session."""
    return lambda state: holder.call(fn, state)
