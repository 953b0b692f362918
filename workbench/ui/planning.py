"""TRANSITIONAL: the old calling shapes (``plan_call``/``read_call``/``write_call``) on top of the
runner's processes, kept only until every panel uses ``Panel.query`` / ``Panel.change``
(issue 12). New code runs operations through :class:`workbench.app.runner.ProcessRunner`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from workbench.app.processes import ENGINE, PLAN

if TYPE_CHECKING:
    from workbench.app.runner import ProcessRunner
    from workbench.services.tasks import TaskState

T = TypeVar("T")


class EngineJob:
    """An old-style job ``fn(engine, state)`` in the new protocol (``job(engine, state=...)``)."""

    __wb_takes_state__ = True

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn

    def __call__(self, engine: Any, *, state: TaskState | None = None) -> Any:
        return self.fn(engine, state)


class PlanningHolder:
    """The old holder's API over a runner's planner, reader and writer processes."""

    def __init__(self, runner: ProcessRunner) -> None:
        self.runner = runner
        self.planner, self.reader, self.writer = runner.planner, runner.reader, runner.writer

    def invalidate(self) -> None:
        self.runner.invalidate()

    def call(self, fn: Callable[..., T], state: TaskState | None = None) -> T:
        result: T = self.planner.run(PLAN, fn, state)
        return result

    def read(self, fn: Callable[..., T], state: TaskState | None = None) -> T:
        result: T = self.reader.run(ENGINE, EngineJob(fn), state)
        return result

    def write(self, fn: Callable[..., T], state: TaskState | None = None) -> T:
        result: T = self.writer.run(ENGINE, EngineJob(fn), state)
        return result

    def shutdown(self) -> None:
        self.runner.shutdown()


def plan_call(holder: PlanningHolder, fn: Callable[..., Any]) -> Callable[[TaskState], Any]:
    return lambda state: holder.call(fn, state)


def read_call(holder: PlanningHolder, fn: Callable[..., Any]) -> Callable[[TaskState], Any]:
    return lambda state: holder.read(fn, state)


def write_call(holder: PlanningHolder, fn: Callable[..., Any]) -> Callable[[TaskState], Any]:
    return lambda state: holder.write(fn, state)
