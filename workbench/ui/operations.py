"""The one way the UI runs work off the UI thread: ``Op(fn).on_success(..).on_failure(..).run()``.

Panels use it through their two verbs (``Panel.query`` / ``Panel.change``); the window and other
widgets through :meth:`Op.call`, which runs an operation of :mod:`workbench.app` through the
runner in the pool of its kind. Workers are plain functions taking a
:class:`workbench.services.tasks.TaskState`, so the CLI and tests call them without Qt. Here the
state forwards progress and status to Qt signals, rate limited (a worker may report thousands
of times a second; a flood of queued signals is what froze Picard, PR #3188), and
``is_cancelled`` reads an event a Cancel button sets.

Pools: ``"write"`` has one thread, so there is only ever one writer to SQLite (sync, decisions,
write-back — run in the writer process, see :mod:`workbench.app.processes`); ``"planner"`` has
one thread feeding its process, ``"reader"`` two (the runner has two reader processes);
``"read"`` runs small work in this process beside them, and the quick reads (WAL lets readers
proceed while the writer works).

Starting an op with the ``key`` of one still running cancels the old one and drops its result:
typing in a filter or clicking another item never queues stale work.

A progress dialog appears only if the op is still running after ~600 ms, so quick work never
flashes a window at the user. However an op ends — its answer shown, the answer's display raising
(a bug in a panel is a failure like any other: the failure callbacks get it), the work raising,
or a failure callback raising — its dialog closes and ``on_finished`` runs; an op without
failure callbacks shows the error in a message box, so no failure is only in the log.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

import shiboken6
from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from workbench.app.ops import Kind, is_quick, kind_of
from workbench.services.tasks import Cancelled, TaskState
from workbench.ui.errors import show_error

if TYPE_CHECKING:
    from workbench.app.runner import Runner

log = logging.getLogger(__name__)

T = TypeVar("T")

#: the thread pool feeding each kind of operation's process
POOL_OF_KIND = {Kind.PLANNING: "planner", Kind.CACHE: "reader", Kind.COMMAND: "write"}


def pool_of(fn: Callable[..., Any]) -> str:
    """The thread pool an operation waits in: its process's (:data:`POOL_OF_KIND`), except a
    quick read (:func:`workbench.app.ops.quick`), which the runner answers in this process and
    so runs in ``"read"`` — never queued behind a long read of the reader process."""
    return "read" if is_quick(fn) else POOL_OF_KIND[kind_of(fn)]

#: Minimum interval between two progress/status signals of one op.
REPORT_INTERVAL_S = 0.05
#: How long an op runs before its progress dialog appears.
DIALOG_DELAY_MS = 600


class _Signals(QObject):
    # object, not int: counts beyond 2**31 would overflow a C int signal (qt-stack-notes)
    progress = Signal(object, object)
    status = Signal(str)
    succeeded = Signal(object)
    failed = Signal(object)
    finished = Signal()


class QtTaskState:
    """A :class:`TaskState` whose reports become Qt signals, at most every 50 ms."""

    def __init__(self, signals: _Signals) -> None:
        self._signals = signals
        self._cancel = threading.Event()
        self._last_progress = 0.0
        self._last_status = 0.0
        self.done = 0
        self.total: int | None = None
        self.status = ""

    def set_progress(self, done: int, total: int | None) -> None:
        self.done, self.total = done, total
        now = time.monotonic()
        if now - self._last_progress >= REPORT_INTERVAL_S or (total is not None and done >= total):
            self._last_progress = now
            self._signals.progress.emit(done, total)

    def set_status(self, text: str) -> None:
        self.status = text
        now = time.monotonic()
        if now - self._last_status >= REPORT_INTERVAL_S:
            self._last_status = now
            self._signals.status.emit(text)

    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self, by_user: bool = True) -> None:
        """``by_user``: the user asked to stop (worth killing a worker process for); otherwise
        the op was merely superseded by a newer one of the same kind."""
        self.by_user = self.by_user or by_user
        self._cancel.set()

    by_user = False


#: nice value of worker threads: the UI thread wins the CPU when cores are scarce
WORKER_NICE = 10


def _lower_worker_priority() -> None:
    """Renice this worker thread (Linux has per-thread nice values; elsewhere do nothing,
    because PRIO_PROCESS there would renice the whole process)."""
    if not sys.platform.startswith("linux"):
        return
    tid = threading.get_native_id()
    try:
        if os.getpriority(os.PRIO_PROCESS, tid) < WORKER_NICE:
            os.setpriority(os.PRIO_PROCESS, tid, WORKER_NICE)
    except OSError:
        pass


class _Runnable(QRunnable):
    def __init__(self, handle: OpHandle[Any]) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._handle = handle

    def run(self) -> None:
        _lower_worker_priority()
        handle = self._handle
        try:
            if handle.state.is_cancelled():  # superseded or cancelled while queued
                raise Cancelled("cancelled before it started")
            result = handle._fn(handle.state)
        except BaseException as exc:  # noqa: BLE001 - every failure reaches on_failure
            exc.__dict__.setdefault("_wb_traceback", traceback.format_exc())
            handle._finish_in_worker(error=exc)
        else:
            handle._finish_in_worker(result=result)


class OpHandle(Generic[T]):
    """A running op: cancel it, wait for it (tests), or connect to ``signals.finished``."""

    def __init__(self, op: Op[T]) -> None:
        self._fn = op._fn
        self.name = op.name
        self.key = op.key
        self.signals = _Signals()
        self.state = QtTaskState(self.signals)
        self.superseded = False
        self.result: T | None = None
        self.error: BaseException | None = None
        self._done = threading.Event()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def cancelled(self) -> bool:
        return isinstance(self.error, Cancelled)

    def cancel(self, by_user: bool = True) -> None:
        self.state.cancel(by_user)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the worker returned (not until callbacks ran): for shutdown and tests."""
        return self._done.wait(timeout)

    def _finish_in_worker(self, result: Any = None, error: BaseException | None = None) -> None:
        self.result, self.error = result, error
        self._done.set()
        # queued to the UI thread, where the callbacks run
        if error is None:
            self.signals.succeeded.emit(result)
        else:
            self.signals.failed.emit(error)


class Op(Generic[T]):
    """A background operation, configured fluently and started with :meth:`run`."""

    _pools: ClassVar[dict[str, QThreadPool]] = {}
    _running: ClassVar[dict[str, OpHandle[Any]]] = {}
    _all: ClassVar[set[OpHandle[Any]]] = set()

    def __init__(
        self,
        fn: Callable[[TaskState], T],
        *,
        name: str = "",
        key: str | None = None,
        parent: QObject | None = None,
        writes: bool = False,
        pool: str | None = None,
    ) -> None:
        self._fn = fn
        self.name = name or getattr(fn, "__name__", "work")
        self.key = key
        self._parent = parent
        self._pool = pool or ("write" if writes else "read")
        self._success: list[Callable[[T], None]] = []
        self._failure: list[Callable[[BaseException], object]] = []
        self._progress: list[Callable[[int, int | None], None]] = []
        self._status: list[Callable[[str], None]] = []
        self._finally: list[Callable[[], None]] = []
        self._dialog_label: str | None = None

    @classmethod
    def call(cls, runner: Runner, fn: Callable[..., Any], /, *args: Any, key: str | None = None,
             parent: QObject | None = None, **kwargs: Any) -> Op[Any]:
        """An op running the operation ``fn(target, *args, **kwargs)`` through ``runner``, on
        the thread pool of its kind (its answer goes to :meth:`on_success`)."""
        pool = pool_of(fn)
        return cls(lambda state: runner.run(fn, *args, state=state, **kwargs),
                   name=fn.__name__.replace("_", " ").capitalize(), key=key, parent=parent,
                   pool=pool)

    def on_success(self, fn: Callable[[T], None]) -> Op[T]:
        self._success.append(fn)
        return self

    def on_failure(self, fn: Callable[[BaseException], object]) -> Op[T]:
        """Called with the exception (``Cancelled`` when the user cancelled)."""
        self._failure.append(fn)
        return self

    def on_progress(self, fn: Callable[[int, int | None], None]) -> Op[T]:
        self._progress.append(fn)
        return self

    def on_status(self, fn: Callable[[str], None]) -> Op[T]:
        self._status.append(fn)
        return self

    def on_finished(self, fn: Callable[[], None]) -> Op[T]:
        """Called after success or failure, e.g. to re-enable a button."""
        self._finally.append(fn)
        return self

    def with_progress(self, label: str) -> Op[T]:
        """Show a progress dialog with Cancel if the op is still running after ~600 ms."""
        self._dialog_label = label
        return self

    @classmethod
    def pool(cls, name: str) -> QThreadPool:
        if name not in cls._pools:
            pool = QThreadPool()
            pool.setMaxThreadCount(2 if name in ("read", "reader") else 1)  # two readers
            cls._pools[name] = pool
        return cls._pools[name]

    def run(self) -> OpHandle[T]:
        handle: OpHandle[T] = OpHandle(self)
        self._register(handle)
        dialog = self._make_dialog(handle) if self._dialog_label is not None else None
        sig = handle.signals
        for fn in self._progress:
            sig.progress.connect(lambda d, t, fn=fn: self._alive() and fn(d, t))
        for on_status in self._status:
            sig.status.connect(lambda s, fn=on_status: self._alive() and fn(s))
        sig.succeeded.connect(lambda result: self._succeeded(handle, dialog, result),
                              Qt.ConnectionType.QueuedConnection)
        sig.failed.connect(lambda exc: self._failed(handle, dialog, exc),
                           Qt.ConnectionType.QueuedConnection)
        Op.pool(self._pool).start(_Runnable(handle))
        return handle

    def _register(self, handle: OpHandle[T]) -> None:
        """Track the op; one still running with the same key is superseded (cancelled, its
        answer dropped)."""
        if self.key is not None:
            old = Op._running.get(self.key)
            if old is not None and not old.done:
                old.superseded = True
                old.cancel(by_user=False)
            Op._running[self.key] = handle
        Op._all.add(handle)

    def _alive(self) -> bool:
        """Whether the widget the op reports to still exists."""
        return self._parent is None or shiboken6.isValid(self._parent)

    def _succeeded(self, handle: OpHandle[T], dialog: QProgressDialog | None, result: T) -> None:
        """In the UI thread: hand the answer on; a failure to show it is a failure too."""
        try:
            if not handle.superseded and self._alive():
                for fn in self._success:
                    fn(result)
        except Exception as exc:  # noqa: BLE001 - showing the answer failed: a failure too
            exc.__dict__.setdefault("_wb_traceback", traceback.format_exc())
            handle.error = exc
            self._report(handle, exc)
        finally:
            self._finish(handle, dialog)

    def _failed(self, handle: OpHandle[T], dialog: QProgressDialog | None,
                exc: BaseException) -> None:
        try:
            self._report(handle, exc)
        finally:
            self._finish(handle, dialog)

    def _report(self, handle: OpHandle[T], exc: BaseException) -> None:
        """The failure callbacks (or, with none, an error box): one place for errors."""
        if handle.superseded or not self._alive():
            return
        if not isinstance(exc, Cancelled):
            log.error("%s failed:\n%s", self.name, getattr(exc, "_wb_traceback", exc))
        if not self._failure and not isinstance(exc, Cancelled):
            owner = self._parent if isinstance(self._parent, QWidget) else None
            show_error(owner, f"{self.name} failed", exc)
        for fn in self._failure:
            try:
                fn(exc)
            except Exception:  # one broken handler must not stop the others
                log.exception("%s: a failure handler failed", self.name)

    def _finish(self, handle: OpHandle[T], dialog: QProgressDialog | None) -> None:
        """However the op ended: forget it, close its dialog, run the finishing callbacks."""
        Op._all.discard(handle)
        if self.key is not None and Op._running.get(self.key) is handle:
            del Op._running[self.key]
        if dialog is not None and shiboken6.isValid(dialog):
            dialog.close()
            dialog.deleteLater()
        if handle.superseded or not self._alive():
            return
        for fn in self._finally:
            try:
                fn()
            except Exception:  # the op is over whatever a callback does
                log.exception("%s: a finishing callback failed", self.name)
        handle.signals.finished.emit()

    def _make_dialog(self, handle: OpHandle[T]) -> QProgressDialog:
        owner = self._parent if isinstance(self._parent, QWidget) else None
        dialog = QProgressDialog(self._dialog_label or "", "Cancel", 0, 0, owner)
        dialog.setWindowTitle(self.name)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.setMinimumDuration(0)
        dialog.hide()
        dialog.canceled.connect(lambda: handle.cancel())

        def progress(done: int, total: int | None) -> None:
            if not shiboken6.isValid(dialog):
                return
            if total:
                # QProgressDialog takes C ints: scale large counts down to per-mille
                dialog.setMaximum(1000)
                dialog.setValue(int(1000 * min(done, total) / total))
            else:
                dialog.setMaximum(0)

        def status(text: str) -> None:
            if shiboken6.isValid(dialog):
                dialog.setLabelText(f"{self._dialog_label}\n{text}")

        handle.signals.progress.connect(progress)
        handle.signals.status.connect(status)

        def appear() -> None:
            if not handle.done and shiboken6.isValid(dialog):
                dialog.show()

        QTimer.singleShot(DIALOG_DELAY_MS, dialog, appear)
        return dialog

    @classmethod
    def running(cls) -> list[OpHandle[Any]]:
        return [h for h in cls._all if not h.done]

    @classmethod
    def shutdown(cls, timeout_s: float = 10.0) -> bool:
        """Cancel every op and wait for the workers (application exit, test teardown)."""
        for handle in list(cls._all):
            handle.cancel()
        ok = True
        deadline = time.monotonic() + timeout_s
        for pool in cls._pools.values():
            left = max(0, int(1000 * (deadline - time.monotonic())))
            ok = pool.waitForDone(left) and ok
        cls._all.clear()
        cls._running.clear()
        return ok
