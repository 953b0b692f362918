"""What every panel is given and what it offers the main window.

A panel gets a :class:`PanelContext` (the cache engine, the settings and their store, the
runner) and nothing else: no global application object. It tells the window what it wants
through signals — ``navigate`` to another panel, ``changed`` after a command changed something,
``busy`` while its background work runs — and the window decides.

Two verbs run work off the UI thread, each given the operation itself (a top-level function of
:mod:`workbench.app`; its kind decides the process, see :mod:`workbench.app.runner`):

- :meth:`Panel.query` — a planning or cache query; ``then`` gets its answer. A new query with
  the same ``key`` (default: the function's name) cancels and supersedes the previous one of
  this panel, so typing or clicking never queues stale work.
- :meth:`Panel.change` — a command; ``then`` gets ``outcome.value``, then the panel emits
  ``changed(outcome.changes)`` and the main window hands it to every panel (this one too):
  :meth:`Panel.on_changes` marks a panel stale when the changes touch what it declares in
  ``cares_about``.

Panels load lazily: :meth:`Panel.reload` runs the first time a panel is shown and again when it is
shown after something it cares about changed, so starting the app on a large plant only loads
what is on screen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import shiboken6
from PySide6.QtCore import Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QWidget
from sqlalchemy import Engine

from workbench.app.ops import Changes, Kind, Outcome, kind_of
from workbench.app.runner import ProcessRunner
from workbench.services.settings import Settings, save_settings
from workbench.ui.errors import show_error
from workbench.ui.operations import POOL_OF_KIND, Op, OpHandle, pool_of
from workbench.ui.settings import UiState, UiStateStore

T = TypeVar("T")


@dataclass
class PanelContext:
    """What panels work with; built once by the app (or a preview, or a test)."""

    engine: Engine
    #: the user's settings shared with the CLI (sources, planning defaults, user name)
    settings: Settings
    #: where those settings live (None: the user's config directory)
    settings_path: Path | None = None
    ui_state: UiState = field(default_factory=UiState)
    ui_store: UiStateStore = field(default_factory=UiStateStore)
    cache_path: Path | str | None = None  # a file, or a PostgreSQL URL (team cache)
    #: connector name -> reachable? (filled by the window's background check)
    reachable: dict[str, bool] = field(default_factory=dict)
    #: runs every operation of the panels in the planner / reader / writer process, the
    #: planning session opened with the settings' planning defaults as they are at that moment
    runner: ProcessRunner = field(init=False)

    def __post_init__(self) -> None:
        path = self.cache_path or Path(str(self.engine.url.database))
        self.runner = ProcessRunner(path, lambda: self.settings.planning)

    def save_settings(self) -> None:
        save_settings(self.settings, self.settings_path)

    def save_ui_state(self) -> None:
        self.ui_store.save(self.ui_state)


class Panel(QWidget):
    """Base class of the panels in the navigation list."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""

    #: what this panel shows depends on (names of :class:`~workbench.app.ops.Changes` fields):
    #: a change touching one of them marks it stale
    cares_about: ClassVar[tuple[str, ...]] = ("data",)

    navigate = Signal(str, object)
    #: a command of this panel changed something (:class:`~workbench.app.ops.Changes`); the
    #: window hands it to every panel's :meth:`on_changes`
    changed = Signal(object)
    loaded = Signal()
    busy = Signal(bool)
    message = Signal(str)

    def __init__(self, ctx: PanelContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName(f"panel-{self.name}")
        self._stale = True
        self._loading = 0
        self.has_loaded = False

    # --- lazy loading -----------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self._stale = False
            self.reload()

    def mark_stale(self) -> None:
        """The cache changed: reload now if visible, else when next shown."""
        if self.isVisible():
            self._stale = False
            self.reload()
        else:
            self._stale = True

    def on_changes(self, changes: Changes) -> None:
        """Something changed (a command of any panel): reload if it touches what this panel
        ``cares_about`` — now if visible, else when next shown."""
        if changes.touches(*self.cares_about):
            self.mark_stale()

    def reload(self) -> None:
        """Load what the panel shows (override; start background work with :meth:`query`)."""
        self._finished_loading()

    @property
    def is_loading(self) -> bool:
        return self._loading > 0

    # --- the two verbs ------------------------------------------------------------------------
    def query(
        self,
        fn: Callable[..., T],
        /,
        *args: Any,
        then: Callable[[T], None],
        key: str | None = None,
        progress: str | None = None,
        on_failure: Callable[[BaseException], object] | None = None,
        on_finished: Callable[[], None] | None = None,
        **kwargs: Any,
    ) -> OpHandle[T]:
        """Run the planning or cache query ``fn(target, *args, **kwargs)`` through the runner
        and hand its answer to ``then`` (in the UI thread).

        A new query of this panel with the same ``key`` (default: the function's name) cancels
        and supersedes the previous one. ``progress``: a dialog with Cancel appears if it runs
        longer than ~600 ms. Errors go to ``on_failure`` (default: :meth:`failed`);
        ``on_finished`` runs after the answer or the failure was handled.
        """
        kind = kind_of(fn)
        if kind is Kind.COMMAND:
            raise TypeError(f"{fn.__name__} is a command: run it with Panel.change")
        runner = self.ctx.runner
        return self._start(
            lambda state: runner.run(fn, *args, state=state, **kwargs), then,
            name=key or fn.__name__, key=key or fn.__name__, progress=progress,
            on_failure=on_failure, on_finished=on_finished, pool=pool_of(fn))

    def change(
        self,
        fn: Callable[..., Outcome[T]],
        /,
        *args: Any,
        then: Callable[[T], None] | None = None,
        progress: str | None = None,
        key: str | None = None,
        on_failure: Callable[[BaseException], object] | None = None,
        on_finished: Callable[[], None] | None = None,
        on_progress: Callable[[int, int | None], None] | None = None,
        on_status: Callable[[str], None] | None = None,
        **kwargs: Any,
    ) -> OpHandle[Outcome[T]]:
        """Run the command ``fn(engine, *args, **kwargs)`` in the writer process; ``then`` gets
        ``outcome.value``, after which the panel emits ``changed(outcome.changes)`` (when it
        changed anything) for the window to broadcast. Commands are not superseded unless
        given a ``key``. ``on_progress`` / ``on_status`` get the command's reports (rate
        limited), e.g. for a progress bar of the panel's own."""
        if kind_of(fn) is not Kind.COMMAND:
            raise TypeError(f"{fn.__name__} is a query: run it with Panel.query")
        runner = self.ctx.runner

        def done(outcome: Outcome[T]) -> None:
            if then is not None:
                then(outcome.value)
            if outcome.changes:
                self.changed.emit(outcome.changes)

        return self._start(lambda state: runner.run(fn, *args, state=state, **kwargs), done,
                           name=key or fn.__name__, key=key, progress=progress,
                           on_failure=on_failure, on_finished=on_finished,
                           on_progress=on_progress, on_status=on_status,
                           pool=POOL_OF_KIND[Kind.COMMAND])

    def _start(self, work: Callable[[Any], T], then: Callable[[T], None], *, name: str,
               key: str | None, progress: str | None,
               on_failure: Callable[[BaseException], object] | None, pool: str,
               on_finished: Callable[[], None] | None = None,
               on_progress: Callable[[int, int | None], None] | None = None,
               on_status: Callable[[str], None] | None = None) -> OpHandle[T]:
        """Run ``work(state)`` on a worker thread of ``pool``, counted as loading (``busy``
        while any runs, ``loaded`` when the last one finished); ``name`` names it in errors."""
        what = name
        self._loading += 1
        self.busy.emit(True)
        op = (
            Op(work, name=f"{self.title}: {what}",
               key=None if key is None else f"{self.name}-{key}-{id(self)}", parent=self,
               pool=pool)
            .on_success(then)
            .on_failure(on_failure or (lambda exc: self.failed(what, exc)))
        )
        if on_finished is not None:
            op.on_finished(on_finished)
        op.on_finished(self._finished_loading)
        if on_progress is not None:
            op.on_progress(on_progress)
        if on_status is not None:
            op.on_status(on_status)
        if progress:
            op.with_progress(progress)
        handle = op.run()
        # a superseded op never calls on_finished: count it down when it is replaced
        handle.signals.failed.connect(lambda _e, h=handle: self._superseded(h))
        handle.signals.succeeded.connect(lambda _r, h=handle: self._superseded(h))
        return handle

    def _superseded(self, handle: OpHandle[Any]) -> None:
        # the handle's signals are connected to lambdas, not to this panel: they still come
        # after the panel is deleted (a window closed while a replaced read was answering)
        if handle.superseded and shiboken6.isValid(self):
            self._finished_loading()

    def _finished_loading(self) -> None:
        self._loading = max(0, self._loading - 1)
        if self._loading == 0:
            self.busy.emit(False)
            self.has_loaded = True
            self.loaded.emit()

    def failed(self, what: str, exc: BaseException) -> None:
        from workbench.services.tasks import Cancelled

        if isinstance(exc, Cancelled):
            self.message.emit(f"{self.title}: {what} cancelled")
            return
        show_error(self, f"{self.title}: {what} failed", exc)

    # --- navigation and state ---------------------------------------------------------------
    def focus_on(self, target: Any) -> None:
        """Show ``target`` (an item code, a supplier, ...) when another panel navigates here."""

    def save_state(self) -> dict[str, Any]:
        """Plain-data state to restore next time (filters, choices)."""
        return {}

    def restore_state(self, state: dict[str, Any]) -> None:
        pass

    def splitters(self) -> dict[str, Any]:
        """Named QSplitters whose sizes the window keeps in QSettings."""
        return {}
