"""The worker processes behind the panels: jobs run in another process, report progress, stop
on Cancel, send their errors back, and fall back to threads when a process cannot start."""

from __future__ import annotations

import functools
import os
import pickle
import time
from pathlib import Path
from typing import Any

import pytest

from workbench.app.ops import cache_query, planning_query
from workbench.app.processes import JobServer
from workbench.domain.validation import RecordError
from workbench.services.settings import PlanningDefaults
from workbench.services.tasks import Cancelled, SimpleState


def job(name: str, **kw: Any) -> Any:
    """A planning job of the panels, as the runner sends it (the function itself, partial)."""
    from workbench.app import bom

    return functools.partial(getattr(bom, name), **kw)


@cache_query
def pid_job(_engine) -> int:  # type: ignore[no-untyped-def]
    return os.getpid()


@cache_query
def counting_job(_engine, *, state) -> int:  # type: ignore[no-untyped-def]
    for n in range(200):
        if state.is_cancelled():
            raise Cancelled("stopped at the user's request")
        state.set_progress(n, 200)
        time.sleep(0.01)
    return 200


@cache_query
def failing_job(_engine) -> None:  # type: ignore[no-untyped-def]
    raise ValueError("requisition RQ-9 is not in the cache; sync first")


@cache_query
def rejecting_job(_engine) -> list[RecordError]:  # type: ignore[no-untyped-def]
    return [RecordError("items", "X1", "lead_time_days", "must be >= 0", "items.csv", 3)]


def exits_at_once(*_args) -> None:  # type: ignore[no-untyped-def]
    os._exit(3)


@pytest.fixture
def server(cache_path: Path):  # type: ignore[no-untyped-def]
    s = JobServer("test", cache_path, PlanningDefaults)
    yield s
    s.shutdown()


def test_jobs_run_in_a_worker_process_with_progress(server: JobServer) -> None:
    assert server.run("engine", pid_job) not in (None, os.getpid())
    state = SimpleState()
    assert server.run("engine", counting_job, state) == 200
    assert state.total == 200 and state.done >= 190  # progress arrived (rate-limited)


def test_cancel_reaches_the_job(server: JobServer) -> None:
    state = SimpleState()
    state.cancel()
    with pytest.raises(Cancelled):
        server.run("engine", counting_job, state)
    assert server.run("engine", pid_job) == server.pid  # the process serves the next job


def test_errors_come_back_as_themselves(server: JobServer) -> None:
    with pytest.raises(ValueError, match="not in the cache"):
        server.run("engine", failing_job)
    (err,) = server.run("engine", rejecting_job)
    assert (err.file, err.row, err.field) == ("items.csv", 3, "lead_time_days")
    assert pickle.loads(pickle.dumps(err)) == err


def test_planning_jobs_by_name_on_the_session(server: JobServer) -> None:
    revs = server.run("plan", job("item_revisions", item="FG-00001"))
    assert revs.item == "FG-00001" and len(revs.table) >= 1


def test_falls_back_to_threads_when_the_process_cannot_start(cache_path: Path) -> None:
    class Broken(JobServer):
        target = staticmethod(exits_at_once)

    s = Broken("broken", cache_path, PlanningDefaults)
    try:
        assert s.run("engine", pid_job) == os.getpid()
        assert s.inline
    finally:
        s.shutdown()


@planning_query
def slow_plan(_session) -> None:  # type: ignore[no-untyped-def]
    time.sleep(60)  # netting has no cancel points


def test_cancel_stops_a_planning_job_at_once(server: JobServer) -> None:
    import threading

    server.run("plan", job("item_revisions", item="FG-00001"))  # session open
    first = server.pid
    state = SimpleState()
    threading.Timer(0.5, state.cancel).start()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        server.run("plan", slow_plan, state)
    assert time.monotonic() - started < 10
    revs = server.run("plan", job("item_revisions", item="FG-00001"))  # a fresh process serves
    assert revs.item == "FG-00001" and server.pid != first


@cache_query
def start_method_job(_engine) -> tuple[int, str | None]:  # type: ignore[no-untyped-def]
    import multiprocessing
    import sys

    # a spawned child is a fresh interpreter: the fork server's preloaded modules are absent
    return os.getpid(), ("preloaded" if "workbench.services.planning" in sys.modules
                         else multiprocessing.current_process().name)


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_jobs_run_with_either_start_method(cache_path: Path, method: str) -> None:
    """Windows and macOS have no forkserver: the same jobs run in a ``spawn`` process."""
    s = JobServer("portable", cache_path, PlanningDefaults)
    s.start_method = method
    try:
        pid, seen = s.run("engine", start_method_job)
        assert pid not in (None, os.getpid()) and not s.inline
        popen = type(s._proc._popen).__module__  # how the process was started
        assert popen == {"spawn": "multiprocessing.popen_spawn_posix",
                         "forkserver": "multiprocessing.popen_forkserver"}[method]
        if method == "spawn":
            assert seen == "workbench-portable"
        state = SimpleState()
        assert s.run("engine", counting_job, state) == 200 and state.total == 200
        with pytest.raises(ValueError, match="not in the cache"):
            s.run("engine", failing_job)
        revs = s.run("plan", job("item_revisions", item="FG-00001"))
        assert revs.item == "FG-00001" and len(revs.table) >= 1
    finally:
        s.shutdown()


def test_start_method_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from workbench.app.processes import START_METHOD_ENV, _context

    monkeypatch.setenv(START_METHOD_ENV, "spawn")
    assert _context().get_start_method() == "spawn"
    monkeypatch.setenv(START_METHOD_ENV, "fork")
    with pytest.raises(ValueError, match="spawn or forkserver"):
        _context()
