"""Worker processes for the heavy jobs, so the UI thread never waits for the GIL (no Qt here).

Threads are not enough for this stack: pandas and the sync's column building run C loops that
hold the GIL for 100–1,300 ms on the medium demo (measured with a faulthandler watchdog: index
look-ups, ``unique``, list-to-array conversions, a ``zip(*rows)`` transposition), and while they
run the UI thread cannot execute a single Python slot. A :class:`JobServer` is one child process
(``spawn``) with its own cache engine and, for planning, its own :class:`PlanningSession`; the
UI's worker threads hand it picklable jobs and wait on a pipe (waiting releases the GIL).

Two servers per window: the *planner* (the planning session and the big reads) and the *writer*
(sync, decisions, re-evaluation results, write-back) — the cache's single writer. Each runs one
job at a time. A job is ``fn(session)`` (kind ``plan``) or ``fn(engine, state)`` (kind
``engine``); ``state`` forwards progress and status to the caller and sees its Cancel.

If a process cannot be started (e.g. a frozen build without ``multiprocessing.freeze_support()``
in its entry point) the server falls back to running jobs in the calling thread, and says so in
the log.
"""

from __future__ import annotations

import copyreg
import logging
import multiprocessing as mp
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workbench.domain.validation import RecordError
from workbench.services.settings import PlanningDefaults
from workbench.services.tasks import Cancelled, TaskState

log = logging.getLogger(__name__)

# RecordError is a frozen dataclass exception: pickle's default for exceptions re-assigns fields
copyreg.pickle(RecordError, lambda e: (RecordError, (e.entity, e.key, e.field, e.reason, e.file,
                                                     e.row)))

#: Seconds a new process may take to answer its first job before we fall back to threads.
START_TIMEOUT_S = 60.0
REPORT_INTERVAL_S = 0.05


class JobFailed(RuntimeError):
    """A job raised an exception that could not be sent back as itself."""


class _PipeState:
    """The TaskState a job sees in the child: reports go up the pipe, Cancel comes down an Event."""

    def __init__(self, conn: Any, job: int, cancel: Any) -> None:
        self._conn, self._job, self._cancel = conn, job, cancel
        self._last = 0.0

    def set_progress(self, done: int, total: int | None) -> None:
        now = time.monotonic()
        if now - self._last >= REPORT_INTERVAL_S or (total is not None and done >= total):
            self._last = now
            self._conn.send((self._job, "progress", (done, total)))

    def set_status(self, text: str) -> None:
        self._conn.send((self._job, "status", text))

    def is_cancelled(self) -> bool:
        return bool(self._cancel.is_set())


def _serve(conn: Any, cancel: Any, cache_path: str) -> None:
    """The child's loop: one job at a time until ``None`` arrives or the parent goes away."""
    import os

    try:
        os.nice(10)  # the UI process wins the CPU when cores are scarce
    except (AttributeError, OSError):
        pass
    from workbench.cache.db import open_cache
    from workbench.services.planning import open_session

    engine = open_cache(Path(cache_path))
    session, generation, horizon = None, None, None
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            break
        if msg is None:
            break
        job, gen, defaults, kind, fn = msg
        state = _PipeState(conn, job, cancel)
        try:
            if kind == "plan":
                wanted = (defaults.horizon_weeks, defaults.bucket, defaults.consumption())
                if session is None or gen != generation or wanted != horizon:
                    session = None  # free the old session before building the new one
                    session = open_session(engine, horizon=f"{defaults.horizon_weeks}w",
                                           bucket=defaults.bucket, state=state,
                                           consumption=defaults.consumption())
                    generation, horizon = gen, wanted
                result = fn(session)
            else:
                result = fn(engine, state)
            reply = (job, "ok", result)
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the caller
            reply = (job, "error", (exc, traceback.format_exc()))
        try:
            conn.send(reply)
        except Exception as exc:  # noqa: BLE001 - e.g. an exception that does not pickle
            conn.send((job, "error", (JobFailed(f"{type(exc).__name__}: {exc}"),
                                      traceback.format_exc())))
    engine.dispose()
    os._exit(0)


#: modules the fork server imports once, so each worker process starts already warm
PRELOAD = ["workbench.ui.jobs", "workbench.ui.workers", "workbench.services.planning"]


#: the environment variable choosing the start method (``spawn`` or ``forkserver``)
START_METHOD_ENV = "PWB_START_METHOD"


def _context(method: str | None = None) -> Any:
    """``forkserver`` where it exists: workers fork from a clean, single-threaded process that has
    the heavy modules imported (about 50 ms per worker instead of seconds); ``spawn`` elsewhere
    (Windows, macOS app bundles, a frozen build) or when ``method`` / ``PWB_START_METHOD`` say
    ``spawn``. Everything a job sends is picklable and the child imports what it needs by name
    (:class:`Job`), so both methods run the same jobs (tests/ui/test_jobserver.py runs them with
    ``spawn``). Never plain ``fork`` — forking the multithreaded Qt process can deadlock the
    child."""
    import os

    method = method or os.environ.get(START_METHOD_ENV) or None
    if method is not None:
        if method not in ("spawn", "forkserver") or method not in mp.get_all_start_methods():
            raise ValueError(f"start method {method!r} is not available here (spawn or forkserver)")
        if method == "spawn":
            return mp.get_context("spawn")
    if "forkserver" in mp.get_all_start_methods() and not getattr(sys, "frozen", False):
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)
        return ctx
    return mp.get_context("spawn")


class _StartFailed(Exception):
    """The worker process died before answering its first job."""


class JobServer:
    """One worker process running jobs sequentially for the threads of the UI process."""

    #: the child's main function (tests replace it to simulate a process that cannot start)
    target: Callable[..., None] = staticmethod(_serve)
    #: ``spawn`` / ``forkserver``; None: :func:`_context` chooses (``PWB_START_METHOD`` or the
    #: platform's best)
    start_method: str | None = None

    def __init__(self, name: str, cache_path: Path, defaults: Callable[[], PlanningDefaults],
                 *, inline_engine: Any = None) -> None:
        self.name = name
        self.cache_path = Path(cache_path)
        self._defaults = defaults
        self._lock = threading.Lock()
        self._proc: Any = None
        self._conn: Any = None
        self._cancel: Any = None
        self._job = 0
        self.generation = 0
        self.inline = False
        self._inline_engine = inline_engine
        self._inline_session: Any = None
        self._inline_generation: int | None = None
        self.closed = False

    # --- lifecycle --------------------------------------------------------------------------
    def _start(self) -> None:
        ctx = _context(self.start_method)
        parent, child = ctx.Pipe()
        self._cancel = ctx.Event()
        self._proc = ctx.Process(target=self.target, args=(child, self._cancel, str(self.cache_path)),
                                 name=f"workbench-{self.name}", daemon=True)
        self._proc.start()
        child.close()
        self._conn = parent

    def start(self) -> None:
        """Start the process now (e.g. right after the window shows) instead of on first use."""
        with self._lock:
            if not self.closed and not self.inline and (self._proc is None
                                                        or not self._proc.is_alive()):
                self._start()

    def shutdown(self, timeout_s: float = 5.0) -> None:
        """Stop the process: politely when idle, by killing it when a job is still running
        (the thread waiting for that job then fails with :class:`JobFailed`)."""
        self.closed = True
        proc = self._proc
        if proc is None:
            return
        if self._lock.acquire(timeout=0.2):
            try:
                try:
                    self._conn.send(None)
                except (OSError, ValueError):
                    pass
                proc.join(timeout_s)
            finally:
                self._lock.release()
        if proc.is_alive():
            proc.kill()
            proc.join(timeout_s)
        self._proc = None

    def invalidate(self) -> None:
        """The cache changed: the next planning job opens a new session."""
        self.generation += 1

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    # --- running jobs -----------------------------------------------------------------------
    def run(self, kind: str, fn: Callable[..., Any], state: TaskState | None = None) -> Any:
        """Run ``fn`` in the worker process (blocks the calling thread, not the GIL)."""
        if self.closed:
            raise Cancelled(f"the {self.name} process was shut down")
        with self._lock:
            if self.closed:
                raise Cancelled(f"the {self.name} process was shut down")
            if self.inline:
                return self._run_inline(kind, fn, state)
            if self._proc is None or not self._proc.is_alive():
                self._start()
            self._job += 1
            job = self._job
            self._cancel.clear()
            try:
                self._conn.send((job, self.generation, self._defaults(), kind, fn))
                return self._wait(job, state, self._proc, self._conn, kill_on_cancel=kind == "plan")
            except (_StartFailed, BrokenPipeError, EOFError):
                # e.g. a frozen build whose entry point lacks multiprocessing.freeze_support():
                # keep working, in threads, rather than fail every job
                log.warning("the %s process could not start; running its jobs in threads",
                            self.name)
                self._proc = None
                self.inline = True
                return self._run_inline(kind, fn, state)

    def _wait(self, job: int, state: TaskState | None, proc: Any, conn: Any, *,
              kill_on_cancel: bool = False) -> Any:
        """Wait for the job's reply, forwarding progress. A cancelled planning job (netting has
        no cancel points) kills the process: Cancel works at once, and the next planning job
        starts a fresh process and session."""
        started = time.monotonic()
        while True:
            if self.closed:  # shut down while this job ran (or while its process started)
                if proc.is_alive():
                    proc.kill()
                raise Cancelled(f"the {self.name} process was shut down")
            if state is not None and state.is_cancelled():
                if kill_on_cancel and getattr(state, "by_user", True):
                    proc.kill()
                    proc.join(5.0)
                    if self._proc is proc:
                        self._proc = None
                    raise Cancelled("cancelled by the user")
                self._cancel.set()  # the job stops at its next check; we still wait for its reply
            try:
                ready = conn.poll(0.05)
            except (OSError, EOFError):
                ready = False
            if not ready:
                if not proc.is_alive():
                    if self._proc is proc:
                        self._proc = None
                    if not self._answered:
                        raise _StartFailed(self.name)
                    raise JobFailed(f"the {self.name} process stopped; try again")
                if not self._answered and time.monotonic() - started > START_TIMEOUT_S:
                    proc.kill()
                    raise _StartFailed(self.name)
                continue
            try:
                got, what, payload = conn.recv()
            except (OSError, EOFError):
                # the pipe closed: the process is gone (or going)
                proc.join(1.0)
                if self._proc is proc:
                    self._proc = None
                if not self._answered:
                    raise _StartFailed(self.name) from None
                raise JobFailed(f"the {self.name} process stopped; try again") from None
            self._answered = True
            if got != job:
                continue
            if what == "progress" and state is not None:
                state.set_progress(*payload)
            elif what == "status" and state is not None:
                state.set_status(payload)
            elif what == "ok":
                return payload
            elif what == "error":
                exc, tb = payload
                exc.__dict__["_wb_traceback"] = tb
                raise exc

    _answered = False

    def _run_inline(self, kind: str, fn: Callable[..., Any], state: TaskState | None) -> Any:
        from workbench.cache.db import open_cache
        from workbench.services.planning import open_session

        if self._inline_engine is None:
            self._inline_engine = open_cache(self.cache_path)
        if kind != "plan":
            return fn(self._inline_engine, state)
        if self._inline_session is None or self._inline_generation != self.generation:
            d = self._defaults()
            self._inline_session = open_session(self._inline_engine, horizon=f"{d.horizon_weeks}w",
                                                bucket=d.bucket, state=state,
                                                consumption=d.consumption())
            self._inline_generation = self.generation
        if state is not None and state.is_cancelled():
            raise Cancelled("cancelled by the user")
        return fn(self._inline_session)


class Job:
    """A picklable reference to a job function by name, with its keyword arguments.

    Panels name their jobs (``job("timeline", item=..., site=...)``) instead of importing
    :mod:`workbench.ui.jobs`, so the UI process does not import pandas and the planning engine
    just to start; the worker process imports the function when it runs the job.
    """

    def __init__(self, target: str, kwargs: dict[str, Any]) -> None:
        self.target = target
        self.kwargs = kwargs

    def __call__(self, *args: Any) -> Any:
        import importlib

        module, name = self.target.split(":")
        return getattr(importlib.import_module(module), name)(*args, **self.kwargs)

    def __repr__(self) -> str:
        return f"Job({self.target}, {self.kwargs})"


def job(name: str, **kwargs: Any) -> Job:
    """A job of :mod:`workbench.ui.jobs` (or ``module:function`` for another module)."""
    return Job(name if ":" in name else f"workbench.ui.jobs:{name}", kwargs)
