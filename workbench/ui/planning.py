"""The planning session and the cache's single writer, shared by the panels (no Qt here).

Building the planning frames, BOM graph and base plan of a plant takes from a fraction of a second
(small demo) to many seconds (large); answering a question on a built session takes milliseconds
(:mod:`workbench.analysis.session`). Both happen in the *planner* worker process
(:mod:`workbench.ui.jobserver`), which keeps one session per cache state; cache writes (sync,
decisions, recommendations, write-back) happen one at a time in the *writer* process. Panels call
these from Op worker threads with picklable jobs (top-level functions, ``functools.partial``).

When the cache changes (a sync, new planning defaults) :meth:`PlanningHolder.invalidate` makes the
next planning job open a new session.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from workbench.services.settings import PlanningDefaults
from workbench.ui.jobserver import JobServer

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from workbench.analysis.session import PlanningSession
    from workbench.services.tasks import TaskState

T = TypeVar("T")


class PlanningHolder:
    """The planner and writer processes of one cache."""

    def __init__(self, engine: Engine, defaults: PlanningDefaults | None = None,
                 cache_path: Path | None = None) -> None:
        self.engine = engine
        self.defaults = defaults or PlanningDefaults()
        path = Path(cache_path or str(engine.url.database))
        self.planner = JobServer("planner", path, lambda: self.defaults)
        self.writer = JobServer("writer", path, lambda: self.defaults)
        self.reader = JobServer("reader", path, lambda: self.defaults)

    @property
    def generation(self) -> int:
        return self.planner.generation

    def invalidate(self) -> None:
        self.planner.invalidate()

    def call(self, fn: Callable[[PlanningSession], T], state: TaskState | None = None) -> T:
        """``fn(session)`` on the planner's session (opened first if needed)."""
        return self.planner.run("plan", fn, state)

    def read(self, fn: Callable[[Engine, TaskState | None], T], state: TaskState | None = None) -> T:
        """``fn(engine, state)`` in the reader process: big reads that would hold the GIL, kept
        apart from the planner so a long netting never delays them."""
        return self.reader.run("engine", fn, state)

    def write(self, fn: Callable[[Engine, TaskState | None], T], state: TaskState | None = None) -> T:
        """``fn(engine, state)`` in the writer process, the cache's single writer."""
        return self.writer.run("engine", fn, state)

    def shutdown(self) -> None:
        for server in (self.planner, self.writer, self.reader):
            server.shutdown()


def plan_call(holder: PlanningHolder, fn: Callable[[PlanningSession], Any]) -> Callable[[TaskState], Any]:
    """A worker function for :class:`workbench.ui.operations.Op` running ``fn`` on the session."""
    return lambda state: holder.call(fn, state)


def read_call(holder: PlanningHolder, fn: Callable[..., Any]) -> Callable[[TaskState], Any]:
    return lambda state: holder.read(fn, state)


def write_call(holder: PlanningHolder, fn: Callable[..., Any]) -> Callable[[TaskState], Any]:
    return lambda state: holder.write(fn, state)
