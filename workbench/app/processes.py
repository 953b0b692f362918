"""Worker processes for the heavy work, so the UI thread never waits for the GIL (no Qt here).

Threads are not enough for this stack: pandas and the sync's column building run C loops that
hold the GIL for 100–1,300 ms on the medium demo (measured with a faulthandler watchdog: index
look-ups, ``unique``, list-to-array conversions, a ``zip(*rows)`` transposition), and while they
run the UI thread cannot execute a single Python slot. A :class:`JobServer` is one child process
with its own cache engine and, for planning, its own :class:`PlanningSession`; the UI's worker
threads hand it picklable jobs and wait on a pipe (waiting releases the GIL).

Servers per window (:class:`workbench.app.runner.ProcessRunner`): the *planner* (the
planning session), two *readers* (cache reads big enough to hold the GIL) and the *writer* (sync,
decisions, re-evaluation results, write-back) — the cache's single writer. Each runs one job at a
time. A job is a picklable callable — ``functools.partial`` of a top-level operation of
:mod:`workbench.app` — called as ``job(session)`` (kind ``plan``) or ``job(engine)`` (kind
``engine``), with ``state=`` added when the operation declares it
(:func:`workbench.app.ops.takes_state`); that state forwards progress and status to the caller
and sees its Cancel.

The children import only Qt-free modules: the job's own module (by reference, when it unpickles)
and, under ``forkserver``, :data:`PRELOAD`. tests/ui/test_worker_processes.py checks that no
PySide6, shiboken6, pyqtgraph or ``workbench.ui`` module is ever loaded in them.

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
from typing import TYPE_CHECKING, Any

from workbench.app.ops import takes_state
from workbench.domain.validation import RecordError
from workbench.services.tasks import Cancelled, TaskState

if TYPE_CHECKING:
    from workbench.services.settings import PlanningDefaults

log = logging.getLogger(__name__)

# RecordError is a frozen dataclass exception: pickle's default for exceptions re-assigns fields
copyreg.pickle(RecordError, lambda e: (RecordError, (e.entity, e.key, e.field, e.reason, e.file,
                                                     e.row)))

#: Seconds a new process may take to answer its first job before we fall back to threads.
START_TIMEOUT_S = 60.0
REPORT_INTERVAL_S = 0.05
#: Seconds between two looks at the pipe while waiting for a reply (and at Cancel).
POLL_S = 0.05

#: the two kinds of job a server runs: on the planning session, or on the cache engine
PLAN, ENGINE = "plan", "engine"


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


class Call:
    """The job the runner sends: ``func(target, *args, **kwargs)`` — picklable because ``func``
    is a top-level function of an importable module (pickled by reference). Not a
    ``functools.partial``, which would put ``args`` before the session or engine. ``func``
    is exposed so :func:`~workbench.app.ops.takes_state` and ``kind_of`` see the operation."""

    def __init__(self, func: Callable[..., Any], args: tuple[Any, ...] = (),
                 kwargs: dict[str, Any] | None = None) -> None:
        self.func, self.args, self.kwargs = func, args, dict(kwargs or {})

    def __call__(self, target: Any, **state: Any) -> Any:
        return self.func(target, *self.args, **self.kwargs, **state)

    def __repr__(self) -> str:
        return f"Call({getattr(self.func, '__qualname__', self.func)}, {self.args}, {self.kwargs})"


def call_job(fn: Callable[..., Any], target: Any, state: TaskState | None) -> Any:
    """``fn(target)``, with ``state=`` when the operation declares it (its TaskState)."""
    if takes_state(fn):
        return fn(target, state=state)
    return fn(target)


def open_planning_session(engine: Any, defaults: PlanningDefaults,
                          state: TaskState | None = None, *, planned: bool = False) -> Any:
    """The planning session of the cache with the planning defaults (horizon, bucket, forecast
    consumption). ``planned``: with its plan made, from the plan stored beside the cache when
    one is usable (:func:`workbench.services.plan_store.open_planned_session`: stored, net
    change replan, prepared, else full; :attr:`PlanningSession.how` says which) — the planner
    process's way, which stores its plan afterwards (:meth:`_Session.store`); else lazy (the
    CLI: a where-used needs no plan)."""
    horizon, bucket = f"{defaults.horizon_weeks}w", defaults.bucket
    if planned:
        from workbench.services.plan_store import open_planned_session

        return open_planned_session(engine, horizon=horizon, bucket=bucket, state=state,
                                    consumption=defaults.consumption(), store=False)
    from workbench.services.planning import open_session

    return open_session(engine, horizon=horizon, bucket=bucket, state=state,
                        consumption=defaults.consumption())


def refresh_planning_session(engine: Any, session: Any, state: TaskState | None = None) -> Any:
    """The session brought up to date after a command changed the planning input, or None when
    a new one must be opened: a decision (no entity table written: the pending decisions
    overlaid again, :func:`workbench.services.planning_data.refresh_session`) or a sync whose
    snapshot patch recorded what it changed (:func:`workbench.services.plan_store.
    refresh_after_sync`), both replanned by net change from the session's plan."""
    from workbench.services.plan_store import refresh_after_sync
    from workbench.services.planning_data import refresh_session

    try:
        out = refresh_session(engine, session)
        if out is None:
            out = refresh_after_sync(engine, session, state)
        return out
    except Exception:  # never worse than before: the session is opened again
        log.exception("replanning the session by net change failed; opening it again")
        return None


#: after a decision, the planner stores its replanned plan only once no job came for this long
#: (storing the large demo's plan costs ~0.7 CPU-s: an approval right after another is not held
#: up by it; docs/performance.md §1)
STORE_AFTER_DECISION_S = 1.0


#: a planner idle this long after its answers reads what its lazily opened session has not read
#: yet (the frames, the stored sources: ~1.5 CPU-s on the large demo), so the first replan after
#: a decision or a sync does not pay for it (_Session.warm)
READ_AHEAD_AFTER_S = 2.0


class _Session:
    """The planner child's planning session: opened with its plan (from the plan stored beside
    the cache when usable), brought up to date by net change after a decision or a sync, opened
    again when that cannot be done or the planning defaults change. A plan made here (opened in
    full, replanned after a sync) is stored beside the cache for the next process once the job
    that needed it has its answer (:meth:`store`)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.session: Any = None
        self.key: tuple[Any, ...] | None = None
        #: the session's plan is not stored beside the cache yet
        self.unstored = False
        #: seconds without a job before it is stored (:meth:`idle_wait`)
        self.store_after_s = 0.0

    def get(self, generation: int, defaults: PlanningDefaults,
            state: TaskState | None) -> Any:
        from workbench.services.plan_store import pending_of

        wanted = (generation, defaults.horizon_weeks, defaults.bucket, defaults.consumption())
        if self.session is not None and self.key is not None and wanted != self.key and \
                wanted[1:] == self.key[1:]:  # same defaults: replan by net change if it can be
            stamp, pending = self.session.stamp, pending_of(self.session.data)
            self.session = refresh_planning_session(self.engine, self.session, state)
            self.key = wanted if self.session is not None else None
            if self.session is not None and self.session.stamp != stamp:
                self.unstored = True  # a sync's change: the next process starts from here
                self.store_after_s = 0.0
            elif self.session is not None and not pending.equals(pending_of(self.session.data)):
                # a decision's change (approved, confirmed, discarded): stored too, so a fresh
                # process with these pending decisions does not plan in full, once no job
                # came for STORE_AFTER_DECISION_S (clicks in a row are not held up by it)
                self.unstored = True
                self.store_after_s = STORE_AFTER_DECISION_S
        if self.session is None or wanted != self.key:
            self.session = None  # free the old session before building the new one
            self.session = open_planning_session(self.engine, defaults, state, planned=True)
            self.key = wanted
            self.unstored = self.session.how != "stored"
            self.store_after_s = 0.0
        return self.session

    def unread(self) -> bool:
        """Whether the session was opened from a stored plan and has frames or sources not read
        yet (workbench.services.lazy_frames, plan_parts.LazySources)."""
        from workbench.analysis.data import PLANNING_ENTITIES
        from workbench.services.lazy_frames import LazyPlanningData
        from workbench.services.plan_parts import sources_read

        session = self.session
        if session is None:
            return False
        data, plan = session.data, session._plans.get(False)
        return (isinstance(data, LazyPlanningData) and data.frames_read() != list(
            PLANNING_ENTITIES)) or (plan is not None and not sources_read(plan.sources))

    def warm(self) -> None:
        """Read what :meth:`unread` names while the planner is idle, so the next replan (a
        decision, a sync) does not wait for it (never raises)."""
        from workbench.services.lazy_frames import LazyPlanningData

        try:
            session = self.session
            if isinstance(session.data, LazyPlanningData):
                session.data.read_all()
            plan = session._plans.get(False)
            if plan is not None:
                plan.sources._keys  # noqa: B018 - reads the stored sources
        except Exception:  # a bonus: the replan reads them itself
            log.exception("the planning session's frames were not read ahead")

    def idle_wait(self) -> float:
        """How long the planner waits for the next job before it stores the session's plan."""
        return self.store_after_s if self.unstored else 0.0

    def store(self) -> None:
        """Store the session's plan beside the cache if it is not yet (never raises)."""
        if not self.unstored or self.session is None:
            return
        self.unstored = False
        self.store_after_s = 0.0
        try:
            from workbench.services.plan_store import store_session

            store_session(self.engine, self.session)
        except Exception:  # a bonus for the next process
            log.exception("the plan was not stored beside the cache")


def _answer(msg: tuple[Any, ...], conn: Any, cancel: Any, sessions: _Session) -> tuple[Any, ...]:
    """Run one job; the reply to send (its result, or its exception with the traceback)."""
    job, generation, defaults, kind, fn = msg
    state = _PipeState(conn, job, cancel)
    try:
        if kind == PLAN:
            target = sessions.get(generation, defaults, state)
        else:
            target = sessions.engine
        return (job, "ok", call_job(fn, target, state))
    except BaseException as exc:  # noqa: BLE001 - every failure goes back to the caller
        return (job, "error", (exc, traceback.format_exc()))


def _reply(conn: Any, reply: tuple[Any, ...]) -> None:
    try:
        conn.send(reply)
    except Exception as exc:  # noqa: BLE001 - e.g. an exception that does not pickle
        conn.send((reply[0], "error", (JobFailed(f"{type(exc).__name__}: {exc}"),
                                       traceback.format_exc())))


#: how much each kind of worker process yields the CPU: the UI process wins when cores are
#: scarce; the readers (a panel waits for their answer) before the planner and the writer
#: (a session built, a sync: long work in the background)
NICENESS = {"reader": 5, "planner": 10, "writer": 10}


def _serve(conn: Any, cancel: Any, cache_path: str, niceness: int = 10) -> None:
    """The child's loop: one job at a time until ``None`` arrives or the parent goes away."""
    import os

    try:
        os.nice(niceness)
    except (AttributeError, OSError):
        pass
    from workbench.cache.db import as_location, open_cache

    sessions = _Session(open_cache(as_location(cache_path)))
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            break
        if msg is None:
            break
        _reply(conn, _answer(msg, conn, cancel, sessions))
        if not conn.poll(sessions.idle_wait()):  # idle: the plan made for that answer, stored
            sessions.store()                     # for the next process
            if sessions.unread() and not conn.poll(READ_AHEAD_AFTER_S):
                sessions.warm()  # still idle: what a lazily opened session has not read
    sessions.engine.dispose()
    os._exit(0)


#: Qt-free modules the fork server imports once, so each worker process starts warm: the
#: operations' modules and opening the cache — not pandas and the planning engine, which the
#: operations import inside their functions. The fork server forks no worker before its
#: preload is done, so at start-up a heavy preload (0.6 s and more) held up the readers' first
#: answers behind an import only the planner needs (it imports them on its first job, beside
#: the readers' work). A module that cannot be imported is skipped by the fork server;
#: tests/ui/test_worker_processes.py checks that none of them brings Qt.
PRELOAD = ["workbench.cache.db", "workbench.app.sync", "workbench.app.item_list",
           "workbench.app.tables", "workbench.app.columns", "workbench.cache.itemlist",
           "workbench.app.planning", "workbench.app.bom", "workbench.app.suppliers",
           "workbench.app.exceptions", "workbench.app.exception_views",
           "workbench.app.element_views", "workbench.app.names",
           "workbench.app.decisions", "workbench.app.outbox"]


#: the environment variable choosing the start method (``spawn`` or ``forkserver``)
START_METHOD_ENV = "PWB_START_METHOD"


def _context(method: str | None = None) -> Any:
    """``forkserver`` where it exists: workers fork from a clean, single-threaded process that has
    the heavy modules imported (about 50 ms per worker instead of seconds); ``spawn`` elsewhere
    (Windows, macOS app bundles, a frozen build) or when ``method`` / ``PWB_START_METHOD`` say
    ``spawn``. Everything a job sends is picklable and the child imports the job's module when it
    unpickles it, so both methods run the same jobs (tests/ui/test_jobserver.py runs them with
    both). Never plain ``fork`` — forking the multithreaded Qt process can deadlock the child."""
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
    """One worker process running jobs sequentially for the threads of the calling process."""

    #: the child's main function (tests replace it to simulate a process that cannot start)
    target: Callable[..., None] = staticmethod(_serve)
    #: ``spawn`` / ``forkserver``; None: :func:`_context` chooses (``PWB_START_METHOD`` or the
    #: platform's best)
    start_method: str | None = None

    def __init__(self, name: str, cache_path: Path | str, defaults: Callable[[], PlanningDefaults],
                 *, inline_engine: Any = None) -> None:
        self.name = name
        #: the process's niceness (:data:`NICENESS` by the name's kind, "reader-2" a reader)
        self.niceness = NICENESS.get(name.split("-")[0], 10)
        from workbench.cache.db import as_location

        self.cache_path = as_location(cache_path)  # a file, or a PostgreSQL URL
        self._defaults = defaults
        self._lock = threading.Lock()
        self._proc: Any = None
        self._conn: Any = None
        self._cancel: Any = None
        self._job = 0
        self.generation = 0
        self.inline = False
        self._inline_engine = inline_engine
        self._inline_sessions: _Session | None = None
        self.closed = False

    # --- lifecycle --------------------------------------------------------------------------
    def _start(self) -> None:
        ctx = _context(self.start_method)
        parent, child = ctx.Pipe()
        self._cancel = ctx.Event()
        self._proc = ctx.Process(target=self.target,
                                 args=(child, self._cancel, str(self.cache_path), self.niceness),
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
    def busy(self) -> bool:
        """A job is running (or its process starting): a new one would wait."""
        return self._lock.locked()

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    # --- running jobs -----------------------------------------------------------------------
    def run(self, kind: str, fn: Callable[..., Any], state: TaskState | None = None) -> Any:
        """Run ``fn(session)`` (kind ``plan``) or ``fn(engine)`` (kind ``engine``) in the worker
        process — blocking the calling thread, not the GIL."""
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
                return self._wait(job, state, self._proc, self._conn, kill_on_cancel=kind == PLAN)
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
            self._check_closed(proc)
            self._check_cancel(state, proc, kill_on_cancel)
            message = self._next_message(proc, conn, started)
            if message is None:
                continue
            got, what, payload = message
            if got != job:
                continue
            if what == "ok":
                return payload
            self._forward(what, payload, state)

    def _check_closed(self, proc: Any) -> None:
        """Shut down while this job ran (or while its process started): stop waiting."""
        if self.closed:
            if proc.is_alive():
                proc.kill()
            raise Cancelled(f"the {self.name} process was shut down")

    def _check_cancel(self, state: TaskState | None, proc: Any, kill_on_cancel: bool) -> None:
        """The user cancelled: kill a planning process at once; otherwise tell the job, which
        stops at its next check (we still wait for its reply)."""
        if state is None or not state.is_cancelled():
            return
        if kill_on_cancel and getattr(state, "by_user", True):
            proc.kill()
            proc.join(5.0)
            self._forget(proc)
            raise Cancelled("cancelled by the user")
        self._cancel.set()

    def _forget(self, proc: Any) -> None:
        if self._proc is proc:
            self._proc = None

    def _next_message(self, proc: Any, conn: Any, started: float) -> tuple[Any, ...] | None:
        """The next message from the child, None when none came within :data:`POLL_S`; raises
        when the process is gone (:class:`_StartFailed` before its first answer)."""
        try:
            ready = conn.poll(POLL_S)
        except (OSError, EOFError):
            ready = False
        if not ready:
            self._check_alive(proc, started)
            return None
        try:
            message: tuple[Any, ...] = conn.recv()
        except (OSError, EOFError):
            # the pipe closed: the process is gone (or going)
            proc.join(1.0)
            self._forget(proc)
            raise self._gone() from None
        self._answered = True
        return message

    def _check_alive(self, proc: Any, started: float) -> None:
        if not proc.is_alive():
            self._forget(proc)
            raise self._gone()
        if not self._answered and time.monotonic() - started > START_TIMEOUT_S:
            proc.kill()
            raise _StartFailed(self.name)

    def _gone(self) -> Exception:
        """What a vanished process means: it never started, or it died during a job."""
        if not self._answered:
            return _StartFailed(self.name)
        return JobFailed(f"the {self.name} process stopped; try again")

    @staticmethod
    def _forward(what: str, payload: Any, state: TaskState | None) -> None:
        """A progress or status report goes to the caller's state; an error is raised here."""
        if what == "error":
            exc, tb = payload
            exc.__dict__["_wb_traceback"] = tb
            raise exc
        if state is None:
            return
        if what == "progress":
            state.set_progress(*payload)
        elif what == "status":
            state.set_status(payload)

    _answered = False

    def _run_inline(self, kind: str, fn: Callable[..., Any], state: TaskState | None) -> Any:
        from workbench.cache.db import open_cache

        if self._inline_engine is None:
            self._inline_engine = open_cache(self.cache_path)
        if kind != PLAN:
            return call_job(fn, self._inline_engine, state)
        if self._inline_sessions is None:  # as the planner process keeps its session
            self._inline_sessions = _Session(self._inline_engine)
        session = self._inline_sessions.get(self.generation, self._defaults(), state)
        if state is not None and state.is_cancelled():
            raise Cancelled("cancelled by the user")
        return call_job(fn, session, state)
