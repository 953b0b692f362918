"""What every panel is given and what it offers the main window.

A panel gets a :class:`PanelContext` (the cache engine, the settings and their store) and nothing
else: no global application object. It tells the window what it wants through signals —
``navigate`` to another panel, ``cache_changed`` after it wrote to the cache, ``busy`` while its
background work runs — and the window decides.

Panels load lazily: :meth:`Panel.reload` runs the first time a panel is shown and again when it is
shown after the cache changed, so starting the app on a large plant only loads what is on screen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from PySide6.QtCore import Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QWidget
from sqlalchemy import Engine

from workbench.services.settings import Settings, save_settings
from workbench.ui.errors import show_error
from workbench.ui.operations import Op, OpHandle
from workbench.ui.planning import PlanningHolder, plan_call, read_call, write_call
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
    cache_path: Path | None = None
    #: connector name -> reachable? (filled by the window's background check)
    reachable: dict[str, bool] = field(default_factory=dict)
    #: the planning session shared by the panels (opened on first use)
    planning: PlanningHolder = field(init=False)

    def __post_init__(self) -> None:
        self.planning = PlanningHolder(self.engine, self.settings.planning, self.cache_path)

    def save_settings(self) -> None:
        save_settings(self.settings, self.settings_path)

    def save_ui_state(self) -> None:
        self.ui_store.save(self.ui_state)


class Panel(QWidget):
    """Base class of the panels in the navigation list."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""

    navigate = Signal(str, object)
    #: the panel wrote to the cache: "data" (planning input changed) or "decisions"
    cache_changed = Signal(str)
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

    def reload(self) -> None:
        """Load what the panel shows (override; start background ops with :meth:`load`)."""
        self._finished_loading()

    @property
    def is_loading(self) -> bool:
        return self._loading > 0

    def load(
        self,
        fn: Callable[[Any], T],
        on_success: Callable[[T], None],
        *,
        key: str = "load",
        writes: bool = False,
        progress: str | None = None,
        pool: str | None = None,
    ) -> OpHandle[T]:
        """Run ``fn(state)`` in the background and hand its result to ``on_success``.

        Errors go to one place (:meth:`failed`); ``loaded`` fires when every load finished.
        """
        self._loading += 1
        self.busy.emit(True)
        op = (
            Op(fn, name=f"{self.title}: {key}", key=f"{self.name}-{key}-{id(self)}", parent=self,
               writes=writes, pool=pool)
            .on_success(on_success)
            .on_failure(lambda exc: self.failed(key, exc))
            .on_finished(self._finished_loading)
        )
        if progress:
            op.with_progress(progress)
        handle = op.run()
        # a superseded op never calls on_finished: count it down when it is replaced
        handle.signals.failed.connect(lambda _e, h=handle: self._superseded(h))
        handle.signals.succeeded.connect(lambda _r, h=handle: self._superseded(h))
        return handle

    def plan(
        self,
        fn: Callable[[Any], T],
        on_success: Callable[[T], None],
        *,
        key: str = "plan",
        progress: str | None = None,
        writes: bool = False,
    ) -> OpHandle[T]:
        """Like :meth:`load`, with ``fn(session)`` run on the shared planning session."""
        return self.load(plan_call(self.ctx.planning, fn), on_success, key=key, progress=progress,
                         writes=writes, pool=None if writes else "planner")

    def read(self, fn: Callable[..., T], on_success: Callable[[T], None], *, key: str = "load",
             progress: str | None = None) -> OpHandle[T]:
        """``fn(engine, state)`` in the reader process: reads big enough to hold the GIL."""
        return self.load(read_call(self.ctx.planning, fn), on_success, key=key, progress=progress,
                         pool="reader")

    def write(self, fn: Callable[..., T], on_success: Callable[[T], None], *, key: str = "write",
              progress: str | None = None) -> OpHandle[T]:
        """``fn(engine, state)`` in the writer process, the cache's single writer."""
        return self.load(write_call(self.ctx.planning, fn), on_success, key=key,
                         progress=progress, writes=True)

    def _superseded(self, handle: OpHandle[Any]) -> None:
        if handle.superseded:
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
