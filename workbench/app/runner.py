"""One runner places every operation: in its worker process (GUI) or inline (CLI, tests).

The caller passes the operation itself and its arguments; the operation's kind
(:func:`workbench.app.ops.kind_of`) decides where it runs, never the caller:

========================  =======================  =============================================
kind                      :class:`ProcessRunner`   :class:`InlineRunner`
========================  =======================  =============================================
planning query            planner process          ``fn(session, ...)`` on its own session
cache query               reader process           ``fn(engine, ...)``
quick cache query         the calling thread       ``fn(engine, ...)``
command                   writer process           ``fn(engine, ...) -> Outcome``
========================  =======================  =============================================

A *quick* cache query (:func:`workbench.app.ops.quick`: the Overview's counts, the freshness of
the sources) is answered by :class:`ProcessRunner` in the calling thread (a worker thread of the
UI, never the UI thread) on an engine of its own: at start-up the reader process needs its fork
server to import the planning engine first (0.5 s and more), while the read itself takes a few
milliseconds, so the window is usable as soon as it shows (issue 12 §9).

Both runners keep one planning session per cache state: a command whose
:class:`~workbench.app.ops.Outcome` reports ``changes.data`` invalidates it, and so does
:meth:`invalidate` (e.g. after new planning defaults; the defaults are also compared on each
planning query). A function that declares a keyword parameter ``state`` gets the caller's
:class:`~workbench.services.tasks.TaskState` (a fresh :class:`SimpleState` when the caller gave
none); others are called without it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from workbench.app.ops import Kind, Outcome, is_quick, kind_of
from workbench.app.processes import ENGINE, PLAN, Call, JobServer, call_job, open_planning_session
from workbench.services.tasks import SimpleState, TaskState

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from workbench.services.settings import PlanningDefaults

T = TypeVar("T")


class Runner(Protocol):
    """What panels and the CLI run operations through."""

    def run(self, fn: Callable[..., T], /, *args: Any, state: TaskState | None = None,
            **kwargs: Any) -> T: ...

    def invalidate(self) -> None: ...

    def shutdown(self) -> None: ...


def _default_defaults() -> PlanningDefaults:
    from workbench.services.settings import PlanningDefaults

    return PlanningDefaults()


def _changes_data(kind: Kind, result: Any) -> bool:
    """Whether a command's answer says the planning input changed."""
    return kind is Kind.COMMAND and isinstance(result, Outcome) and result.changes.data


class InlineRunner:
    """Runs operations in the calling thread on one engine (the CLI, tests, the thread fallback).

    ``defaults``: the planning defaults (horizon, bucket, forecast consumption) the session is
    opened with — a value, or a callable read on every planning query (None: the defaults of
    :class:`~workbench.services.settings.PlanningDefaults`).
    """

    def __init__(self, engine: Engine,
                 defaults: PlanningDefaults | Callable[[], PlanningDefaults] | None = None) -> None:
        self.engine = engine
        if defaults is None:
            self._defaults: Callable[[], PlanningDefaults] = _default_defaults
        elif callable(defaults):
            self._defaults = defaults
        else:
            fixed = defaults
            self._defaults = lambda: fixed
        self._session: Any = None
        self._session_key: tuple[Any, ...] | None = None
        self.generation = 0

    @property
    def defaults(self) -> PlanningDefaults:
        return self._defaults()

    def session(self, state: TaskState | None = None) -> Any:
        """The planning session (opened on first use, again after :meth:`invalidate` or when
        the defaults changed)."""
        d = self._defaults()
        key = (self.generation, d.horizon_weeks, d.bucket, d.consumption())
        if self._session is None or key != self._session_key:
            self._session = None
            self._session = open_planning_session(self.engine, d, state)
            self._session_key = key
        return self._session

    def run(self, fn: Callable[..., T], /, *args: Any, state: TaskState | None = None,
            **kwargs: Any) -> T:
        kind = kind_of(fn)
        state = state if state is not None else SimpleState()
        target = self.session(state) if kind is Kind.PLANNING else self.engine
        result: T = call_job(Call(fn, args, kwargs), target, state)
        if _changes_data(kind, result):
            self.invalidate()
        return result

    def invalidate(self) -> None:
        """The cache changed: the next planning query opens a new session."""
        self.generation += 1
        self._session = None

    def shutdown(self) -> None:
        self._session = None


class ProcessRunner:
    """Runs operations in worker processes of one cache: planner, two readers, writer
    (:mod:`workbench.app.processes`). Each process runs one job at a time; callers wait in
    their own (worker) threads, never in the UI thread. A cache query goes to the first idle
    reader (the second starts on first need), so a long read — the exception messages, the
    names of 200,000 items — does not hold up another panel's read (the item list's chunks).

    ``defaults`` is read when a job is sent, so new planning defaults reach the next planning
    query (the planner reopens its session when they differ).
    """

    def __init__(self, cache_path: Path | str,
                 defaults: Callable[[], PlanningDefaults] = _default_defaults) -> None:
        from workbench.cache.db import as_location

        self.cache_path = as_location(cache_path)  # a file, or a PostgreSQL URL
        self.defaults = defaults
        self.planner = JobServer("planner", self.cache_path, defaults)
        self.reader = JobServer("reader", self.cache_path, defaults)
        self.readers = (self.reader, JobServer("reader-2", self.cache_path, defaults))
        self.writer = JobServer("writer", self.cache_path, defaults)
        self._local: Engine | None = None
        self._local_lock = threading.Lock()

    @property
    def servers(self) -> tuple[JobServer, ...]:
        return self.planner, *self.readers, self.writer

    def server_for(self, kind: Kind) -> JobServer:
        if kind is Kind.CACHE:
            return next((r for r in self.readers if not r.busy), self.reader)
        return {Kind.PLANNING: self.planner, Kind.COMMAND: self.writer}[kind]

    def run(self, fn: Callable[..., T], /, *args: Any, state: TaskState | None = None,
            **kwargs: Any) -> T:
        """Run ``fn`` in its process; the job sent is :class:`~workbench.app.processes.Call`
        ``(fn, args, kwargs)`` (picklable because ``fn`` is a top-level function)."""
        kind = kind_of(fn)
        job = Call(fn, args, kwargs)
        if is_quick(fn):
            quick_answer: T = call_job(job, self.local_engine(), state)
            return quick_answer
        result: T = self.server_for(kind).run(PLAN if kind is Kind.PLANNING else ENGINE, job,
                                              state)
        if _changes_data(kind, result):
            self.invalidate()
        return result

    def local_engine(self) -> Engine:
        """The engine quick reads run on in this process (opened on first use)."""
        with self._local_lock:
            if self._local is None:
                from workbench.cache.db import open_cache

                self._local = open_cache(self.cache_path)
            return self._local

    def start(self) -> None:
        """Start the planner and reader now, so their first jobs start at once."""
        for server in (self.reader, self.planner):
            server.start()

    @property
    def generation(self) -> int:
        return self.planner.generation

    def invalidate(self) -> None:
        """The cache changed: the next planning query opens a new session."""
        self.planner.invalidate()

    def shutdown(self) -> None:
        for server in self.servers:
            server.shutdown()
        with self._local_lock:
            if self._local is not None:
                self._local.dispose()
                self._local = None
