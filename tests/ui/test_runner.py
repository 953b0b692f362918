"""The runner places an operation by its kind, passes the TaskState only to functions that
declare it, and a command that changed planning data invalidates the planning session; the
panel verbs ``query`` / ``change`` run operations through it and the window broadcasts changes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

import pytest
from sqlalchemy import text

from workbench.app.ops import Changes, Outcome, cache_query, command, planning_query
from workbench.app.runner import InlineRunner, ProcessRunner
from workbench.cache.db import open_cache
from workbench.services.settings import PlanningDefaults
from workbench.services.tasks import SimpleState
from workbench.ui.panels.base import Panel, PanelContext


@planning_query
def horizon_buckets(session: Any) -> int:
    return int(session.calendar.n_buckets)


@planning_query
def session_id(session: Any) -> int:
    return id(session)


@cache_query
def item_count(engine: Any, prefix: str = "") -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM items WHERE code LIKE :p"),
                                {"p": f"{prefix}%"}).scalar_one())


@cache_query
def reports(engine: Any, steps: int, *, state: Any) -> tuple[int, int]:
    for n in range(steps):
        state.set_progress(n + 1, steps)
    state.set_status("counted")
    return os.getpid(), steps


@command
def touch(engine: Any, *, data: bool) -> Outcome[int]:
    return Outcome(os.getpid(), Changes(data=data, decisions=not data))


def plain(engine: Any) -> int:
    return 1


def test_inline_runner_places_by_kind_and_passes_state_only_when_declared(
        cache_path: Path) -> None:
    engine = open_cache(cache_path)
    try:
        runner = InlineRunner(engine, PlanningDefaults(horizon_weeks=13))
        assert runner.run(horizon_buckets) == 13  # on the session, opened with the defaults
        assert runner.run(item_count, "FG-") == runner.run(item_count, prefix="FG-") > 0
        state = SimpleState()
        assert runner.run(reports, 4, state=state) == (os.getpid(), 4)
        assert (state.done, state.total, state.status) == (4, 4, "counted")
        with pytest.raises(TypeError, match="not an operation"):
            runner.run(plain)
    finally:
        engine.dispose()


def test_a_command_changing_data_invalidates_the_session(cache_path: Path) -> None:
    engine = open_cache(cache_path)
    try:
        runner = InlineRunner(engine)
        first = runner.run(session_id)
        assert runner.run(session_id) == first  # kept while nothing changed
        outcome = runner.run(touch, data=False)
        assert outcome.changes == Changes(decisions=True) and runner.generation == 0
        assert runner.run(session_id) == first
        runner.run(touch, data=True)
        assert runner.generation == 1
        assert runner.run(session_id) != first  # a new session after the data changed
    finally:
        engine.dispose()


def test_process_runner_uses_three_processes(cache_path: Path) -> None:
    defaults = PlanningDefaults(horizon_weeks=9)
    runner = ProcessRunner(cache_path, lambda: defaults)
    try:
        assert runner.run(horizon_buckets) == 9
        state = SimpleState()
        reader_pid, _ = runner.run(reports, 3, state=state)
        assert state.total == 3 and state.status == "counted"
        outcome = runner.run(touch, data=True)
        pids = {runner.planner.pid, reader_pid, outcome.value}
        assert len(pids) == 3 and os.getpid() not in pids
        assert (runner.reader.pid, runner.writer.pid) == (reader_pid, outcome.value)
        assert runner.generation == 1  # the writer's data change reached the planner
        defaults = PlanningDefaults(horizon_weeks=5)
        assert runner.run(horizon_buckets) == 5  # new defaults reach the next planning query
    finally:
        runner.shutdown()


class _Probe(Panel):
    name = "probe"
    title = "Probe"
    cares_about: ClassVar[tuple[str, ...]] = ("decisions",)

    def __init__(self, ctx: PanelContext) -> None:
        super().__init__(ctx)
        self.reloads = 0
        self.answers: list[Any] = []

    def reload(self) -> None:
        self.reloads += 1
        self._finished_loading()


def test_query_and_change_verbs(qtbot, ctx: PanelContext) -> None:  # type: ignore[no-untyped-def]
    panel = _Probe(ctx)
    qtbot.addWidget(panel)
    panel.show()
    assert panel.reloads == 1
    with qtbot.waitSignal(panel.loaded, timeout=20_000):
        panel.query(item_count, "FG-", then=panel.answers.append)
    assert panel.answers[0] > 0
    # a command's value goes to ``then``, its changes are emitted for the window
    with qtbot.waitSignal(panel.changed, timeout=20_000) as blocker:
        panel.change(touch, data=False, then=panel.answers.append)
    assert blocker.args == [Changes(decisions=True)]
    assert panel.answers[1] == ctx.runner.writer.pid
    panel.on_changes(Changes(data=True))  # does not care about data
    assert panel.reloads == 1
    panel.on_changes(Changes(decisions=True))
    assert panel.reloads == 2
    panel.hide()
    panel.on_changes(Changes(decisions=True))  # hidden: reloads when shown again
    assert panel.reloads == 2
    panel.show()
    assert panel.reloads == 3
    with pytest.raises(TypeError, match=r"Panel\.change"):
        panel.query(touch, data=True, then=print)
    with pytest.raises(TypeError, match=r"Panel\.query"):
        panel.change(item_count)


@cache_query
def slow_count(engine: Any, n: int, *, state: Any) -> int:
    import time

    for _ in range(100):
        if state.is_cancelled():
            break
        time.sleep(0.02)
    return n


def test_a_new_query_with_the_same_key_supersedes_the_previous(qtbot, ctx: PanelContext) -> None:  # type: ignore[no-untyped-def]
    panel = _Probe(ctx)
    qtbot.addWidget(panel)
    panel.show()
    first = panel.query(slow_count, 1, then=panel.answers.append)
    with qtbot.waitSignal(panel.loaded, timeout=20_000):
        panel.query(slow_count, 2, then=panel.answers.append)
    qtbot.waitUntil(lambda: first.done, timeout=10_000)
    assert first.superseded and panel.answers == [2]
    assert not panel.is_loading
