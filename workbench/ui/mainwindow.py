"""The main window: menu bar, navigation list, panels, offline banner, status bar with as-of per
source.

The window owns no data: it builds each panel with the same :class:`PanelContext`, connects their
signals (navigate, changed, busy, messages) and keeps geometry and splitter positions in
QSettings (geometry only), the current panel, per-panel plain state, every table's column widths
and order and the tables' saved views in the typed UI state (:mod:`workbench.ui.settings`).
Menus and the shortcuts overlay are :mod:`workbench.ui.shortcuts`; a data package or an export
file dropped on the window is offered for loading (:mod:`workbench.ui.dropload`); the offline
banner's words are :mod:`workbench.ui.banner`.
What a panel's command changed (``Panel.changed``) the window hands to every panel
(:meth:`MainWindow.broadcast`); each reloads if it cares. Its own work — loading a source from the
welcome page, freshness, reachability — runs operations of :mod:`workbench.app.sync` through the
context's runner (:meth:`Op.call`).
An empty cache shows a welcome page offering the demo plant or a data package instead
(:mod:`workbench.ui.welcome`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from workbench.app.names import DisplayNames, display_names
from workbench.app.ops import Changes, Outcome
from workbench.app.sync import (
    CacheCounts,
    LoadResult,
    Reachability,
    age_text,
    cache_counts,
    check_sources,
    demo_source,
    describe_result,
    freshness,
    is_empty,
    load_source,
)
from workbench.services.settings import SourceConfig
from workbench.services.status import SourceStatus
from workbench.ui.banner import Unreachable, offline_message
from workbench.ui.dropload import DropOffer, droppable, offer_for, stage
from workbench.ui.format import local_datetime, set_names
from workbench.ui.import_wizard import open_import_wizard
from workbench.ui.models import FrameTableModel
from workbench.ui.operations import Op
from workbench.ui.panels import NAMES, PANELS, panel_class
from workbench.ui.panels.base import Panel, PanelContext
from workbench.ui.shortcuts import ShortcutOverlay, install_menus
from workbench.ui.welcome import WelcomePage
from workbench.ui.widgets import TablePane, describe_headers

#: Milliseconds after start-up before pandas and pyqtgraph are imported in the background.
WARM_UP_DELAY_MS = 300


def _import_heavy_modules(_state: Any) -> None:
    import importlib

    for name in ("pandas", "pyqtgraph", "workbench.ui.charts"):
        importlib.import_module(name)


#: How often the window re-checks that the sources are reachable (ms).
CHECK_INTERVAL_MS = 5 * 60 * 1000


class _Stack(QStackedWidget):
    """The panel stack, as wide as the panel on show needs: a plain QStackedWidget asks for the
    widest of all panels built so far, so one wide panel would keep the window from 1280 px."""

    def __init__(self) -> None:
        super().__init__()
        self.currentChanged.connect(lambda _i: self.updateGeometry())

    def minimumSizeHint(self) -> QSize:
        current = self.currentWidget()
        return current.minimumSizeHint() if current is not None else super().minimumSizeHint()

    def sizeHint(self) -> QSize:
        current = self.currentWidget()
        return current.sizeHint() if current is not None else super().sizeHint()


def table_panes(panel: Panel) -> dict[str, TablePane]:
    """The panel's tables by a key stable across starts: ``<panel>/<table title>`` (a second
    table of the same title gets ``#2``, in construction order)."""
    out: dict[str, TablePane] = {}
    for pane in panel.findChildren(TablePane):
        base = f"{panel.name}/{pane.view.objectName().removeprefix('table-')}"
        key, n = base, 1
        while key in out:
            n += 1
            key = f"{base}#{n}"
        out[key] = pane
    return out


class _Panels(dict):  # type: ignore[type-arg]
    """name -> Panel, building a missing one through the window on first access."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__()
        self._window = window

    def __missing__(self, name: str) -> Panel:
        if name not in NAMES:
            raise KeyError(name)
        return self._window._create_panel(name)


class MainWindow(QMainWindow):
    """Navigation + panels. ``populated`` fires once the first panel on show has its data."""

    populated = Signal()

    def __init__(self, ctx: PanelContext, *, empty: bool | None = None,
                 qsettings: QSettings | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.qsettings = qsettings or QSettings()
        self.setWindowTitle("Planner Workbench")
        self.setObjectName("mainWindow")
        self.resize(QSize(1360, 860))

        self.nav = QListWidget()
        self.nav.setObjectName("navigation")
        self.nav.setFixedWidth(190)
        self.nav.setSpacing(2)
        self.stack = _Stack()
        #: the panels built so far (``self.panels[name]`` builds one on first use)
        self.panels: _Panels = _Panels(self)
        for i, (name, _cls, title) in enumerate(PANELS):
            item = QListWidgetItem(title)
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setSizeHint(QSize(180, 34))
            item.setToolTip(f"{title} (Ctrl+{i + 1})" if i < 9 else title)
            self.nav.addItem(item)
        self.welcome = WelcomePage()
        self.welcome.demo_requested.connect(self.load_demo)
        self.welcome.package_requested.connect(self.import_package)
        self.stack.addWidget(self.welcome)
        self.nav.currentRowChanged.connect(self._nav_changed)

        self.banner = QLabel("")
        self.banner.setObjectName("offlineBanner")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("background: #fff3cd; color: #5c4400; padding: 6px; "
                                  "border-bottom: 1px solid #e0c36c;")
        self.banner.setVisible(False)

        body = QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.addWidget(self.nav)
        body.addWidget(self.stack, 1)
        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(self.banner)
        outer.addLayout(body, 1)
        self.setCentralWidget(central)
        self.menus = install_menus(self)
        self.about_action = self.menus.about
        self.overlay: ShortcutOverlay | None = None
        #: the window opened by File ▸ Open another cache in this one's place
        self.successor: MainWindow | None = None
        self._replaced = False
        #: source name -> when the window first found it unreachable (the banner's "since")
        self._down_since: dict[str, dt.datetime] = {}
        self._down: list[Unreachable] = []
        self.setAcceptDrops(True)

        self.freshness = QLabel("")
        self.freshness.setObjectName("freshness")
        self.statusBar().addPermanentWidget(self.freshness)
        self._check_timer = QTimer(self)
        self._check_timer.setInterval(CHECK_INTERVAL_MS)
        self._check_timer.timeout.connect(self.check_sources)
        self._check_timer.start()

        self._restore()
        self.is_empty = is_empty(ctx.engine) if empty is None else empty
        if self.is_empty:
            self.show_welcome()
        else:
            last = ctx.ui_state.last_panel
            self.go_to(last if last in NAMES else "overview")
        self.refresh_freshness()
        self.check_sources()
        self.refresh_names()
        QTimer.singleShot(WARM_UP_DELAY_MS, self._warm_up)

    # --- menu actions -----------------------------------------------------------------------
    def show_shortcuts(self) -> ShortcutOverlay | None:
        """Help ▸ Keyboard shortcuts: the overlay (pressed again while it shows: closes it).
        Every panel is built first, so the panels' own keys are listed too."""
        if self.overlay is not None and self.overlay.isVisible():
            self.overlay.close()
            self.overlay = None
            return None
        for name in NAMES:
            _ = self.panels[name]  # builds the panel (its keys) without loading it
        self.overlay = ShortcutOverlay(self)
        self.overlay.show()
        self.overlay.raise_()
        self.overlay.setFocus()
        return self.overlay

    def export_current_table(self) -> None:
        """File ▸ Export current table: the table with the focus, else the first one shown."""
        pane = self.current_table()
        if pane is None:
            self.statusBar().showMessage("This panel has no table to export.", 8000)
            return
        pane.ask_export()

    def current_table(self) -> TablePane | None:
        panel = self.current_panel
        if panel is None:
            return None
        focus: QWidget | None = self.focusWidget()
        while focus is not None and focus is not panel:
            if isinstance(focus, TablePane):
                return focus
            focus = focus.parentWidget()
        shown = [p for p in panel.findChildren(TablePane) if p.isVisible()]
        return shown[0] if shown else None

    def ask_open_cache(self) -> None:
        """File ▸ Open another cache: choose a cache file (a new name makes an empty cache)."""
        start = str(self.ctx.cache_path.parent) if isinstance(self.ctx.cache_path, Path) else ""
        name, _ = QFileDialog.getSaveFileName(
            self, "Open another cache", start, "Planner Workbench caches (*.sqlite *.db);;"
            "All files (*)", options=QFileDialog.Option.DontConfirmOverwrite)
        if name:
            self.open_cache(Path(name))

    def open_cache(self, path: Path) -> MainWindow:
        """Close this cache and open ``path`` in a new window in this one's place (same
        settings, UI state and geometry); this window closes."""
        from workbench.cache.db import CacheError
        from workbench.services.settings import SettingsError
        from workbench.ui.app import build_context
        from workbench.ui.errors import show_error

        self.save_state()
        try:  # before this window stops: a file that is no cache leaves it as it was
            ctx = build_context(path, self.ctx.settings_path, self.ctx.ui_store.path)
        except (CacheError, SettingsError) as exc:
            show_error(self, f"Cannot open {path}", exc)
            return self
        self._shut_down()
        successor = MainWindow(ctx, qsettings=self.qsettings)
        successor.setGeometry(self.geometry())
        successor.show()
        self.successor = successor
        self._replaced = True
        self.close()
        return successor

    def show_about(self) -> None:
        """Help ▸ About: version, build, cache, settings and site profile paths."""
        from workbench.ui.about import AboutDialog

        AboutDialog(self.ctx.cache_path, self.ctx.settings_path, self).exec()

    def _warm_up(self) -> None:
        """Import the heavy libraries in the background once the window is up, so opening the
        first table or chart panel does not stall on an import (start-up imports none of them)."""
        runner = self.ctx.runner

        def warm(state: Any) -> None:
            runner.start()  # the reader's and planner's first jobs then start at once
            _import_heavy_modules(state)

        (Op(warm, name="Warm-up", key=f"warm-{id(self)}", parent=self)
         .on_failure(lambda exc: None).run())

    # --- panels and navigation ---------------------------------------------------------------
    def _create_panel(self, name: str) -> Panel:
        """Build a panel the first time it is needed, wired to the window."""
        panel = panel_class(name)(self.ctx, self)
        self.panels[name] = panel
        self.stack.addWidget(panel)
        panel.navigate.connect(self.go_to)
        panel.changed.connect(self.broadcast)
        panel.message.connect(lambda text: self.statusBar().showMessage(text, 15000))
        panel.loaded.connect(self._first_loaded)
        panel.restore_state(self.ctx.ui_state.panel_state.get(name, {}))
        for key, splitter in panel.splitters().items():
            state = self.qsettings.value(f"splitters/{name}/{key}")
            if isinstance(state, QByteArray) and not state.isEmpty():
                splitter.restoreState(state)
        for view in panel.findChildren(QAbstractItemView):
            view.setTabKeyNavigation(False)  # Tab and Shift+Tab move on to the next control
            describe_headers(view)
        ui = self.ctx.ui_state
        for key, pane in table_panes(panel).items():
            layout = ui.table_layouts.get(key)
            if layout is not None:
                pane.restore_layout(layout)
            if pane.pickers:  # a table with column filters offers saved views
                pane.enable_views(ui.saved_views.setdefault(key, {}), self.ctx.save_ui_state)
        return panel

    # --- navigation -------------------------------------------------------------------------
    @property
    def current_panel(self) -> Panel | None:
        widget = self.stack.currentWidget()
        return widget if isinstance(widget, Panel) else None

    def go_to(self, name: str, target: Any = None) -> Panel:
        panel = self.panels[name]
        row = NAMES.index(name)
        if self.nav.currentRow() != row:
            self.nav.setCurrentRow(row)
        self.stack.setCurrentWidget(panel)
        if target is not None:
            panel.focus_on(target)
        return panel

    def _nav_changed(self, row: int) -> None:
        if row < 0:
            return
        name = self.nav.item(row).data(Qt.ItemDataRole.UserRole)
        if self.is_empty and name not in ("sync", "settings"):
            self.stack.setCurrentWidget(self.welcome)
            return
        panel = self.panels[name]
        self.stack.setCurrentWidget(panel)
        self.ctx.ui_state.last_panel = name
        self._first_loaded()

    def _first_loaded(self) -> None:
        panel = self.current_panel
        if panel is not None and panel.has_loaded and not panel.is_loading:
            self.populated.emit()

    def show_welcome(self) -> None:
        self.nav.blockSignals(True)
        self.nav.setCurrentRow(0)
        self.nav.blockSignals(False)
        self.stack.setCurrentWidget(self.welcome)

    # --- changes, demo and package loading ------------------------------------------------------
    def broadcast(self, changes: Changes) -> None:
        """A command changed something: every panel (the sender too) decides whether it cares
        (:meth:`Panel.on_changes`); the status bar and the offline banner follow. A panel that
        already reloaded what it showed need not do so again: a reload supersedes its queries
        still running."""
        for panel in list(self.panels.values()):
            panel.on_changes(changes)
        if changes.sources:
            self.check_sources()
        if changes.touches("data", "decisions", "outbox"):
            self.refresh_freshness()
        if changes.data:
            self.refresh_names()

    def _load_source(self, source: SourceConfig, busy_text: str, *, remember: bool = True) -> None:
        self.welcome.set_busy(busy_text)
        (Op.call(self.ctx.runner, load_source, source, key="sync", parent=self)
         .with_progress(busy_text)
         .on_success(lambda outcome: self._source_loaded(source, outcome, remember))
         .on_failure(lambda exc: self._load_failed(exc))
         .run())

    def load_demo(self) -> None:
        self._load_source(demo_source(), "Loading the demo plant…")

    def import_package(self, folder: str) -> None:
        source = SourceConfig(name=f"package-{Path(folder).name}", connector="files",
                              params={"folder": folder})
        self._load_source(source, f"Importing {folder}…")

    def _source_loaded(self, source: SourceConfig, outcome: Outcome[LoadResult],
                       remember: bool = True) -> None:
        """The welcome page's (or a dropped) source is in the cache: it becomes a configured
        source (unless a one-off update), every panel hears what changed, and the Overview
        opens."""
        self.welcome.set_busy("")
        results = outcome.value.results
        failed = [r for r in results if not r.ok]
        if failed:
            said = describe_result(failed[0]) + "\nThe rejected rows are listed in Sync & Outbox."
            self.welcome.status.setText(said)
            if self.stack.currentWidget() is not self.welcome:  # a drop onto the panels
                QMessageBox.warning(self, "Nothing loaded", said)
                self.broadcast(outcome.changes | Changes(outbox=True))  # the run is listed
                return
            self.is_empty = outcome.value.empty
            if self.is_empty:
                return
        changes = outcome.changes
        if remember and self.ctx.settings.source(source.name) is None:
            self.ctx.settings.sources.append(source)
            self.ctx.save_settings()
            changes = changes | Changes(sources=True)
        self.is_empty = False
        self.statusBar().showMessage(describe_result(results[0]), 15000)
        self.broadcast(changes)
        if not changes.sources:
            self.check_sources()  # the source answered: the banner may go
        self.go_to("overview")

    def _load_failed(self, exc: BaseException) -> None:
        from workbench.ui.errors import show_error

        self.welcome.set_busy("")
        show_error(self, "Loading failed", exc)

    # --- status bar and offline banner ------------------------------------------------------------
    def refresh_freshness(self) -> None:
        (Op.call(self.ctx.runner, freshness, key=f"freshness-{id(self)}", parent=self)
         .on_success(self._show_freshness).run())

    def refresh_names(self) -> None:
        """Names beside codes and units beside quantities in every table (workbench.ui.format)."""
        (Op.call(self.ctx.runner, display_names, key=f"names-{id(self)}", parent=self)
         .on_success(self._show_names).run())

    def _show_names(self, names: DisplayNames) -> None:
        set_names(names)
        for model in self.findChildren(FrameTableModel):
            model.refresh_text()

    def _show_freshness(self, sources: list[SourceStatus]) -> None:
        parts = []
        for s in sources:
            when = s.last_success_at
            parts.append(f"{s.connector}: as of {local_datetime(when)} ({age_text(when)})"
                         if when else f"{s.connector}: never synced")
        self.freshness.setText("   ".join(parts) or "cache empty")
        self.freshness.setToolTip(f"Cache: {self.ctx.cache_path}")

    def check_sources(self) -> None:
        sources = [s for s in self.ctx.settings.sources if s.enabled]
        if not sources:
            return
        (Op.call(self.ctx.runner, check_sources, sources, key=f"check-{id(self)}", parent=self)
         .on_success(self._show_reachability).run())

    def _show_reachability(self, results: list[Reachability]) -> None:
        """The banner: what is unreachable and since when (first failed check this session),
        then — once the cache's counts are in — how old the cached data is and how many
        decisions wait in the outbox (:func:`workbench.ui.banner.offline_message`)."""
        self.ctx.reachable.update({r.source: r.ok for r in results})
        sources = [s for s in self.ctx.settings.sources if s.enabled]
        names = [s.name for s in sources] if len(sources) == len(results) else \
            [r.source for r in results]
        now = dt.datetime.now().astimezone()
        self._down = []
        for name, r in zip(names, results, strict=True):
            if r.ok:
                self._down_since.pop(name, None)
                continue
            since = self._down_since.setdefault(name, now)
            self._down.append(Unreachable(name, r.source, r.message, since))
        self.banner.setVisible(bool(self._down))
        if self._down:
            self.banner.setText(offline_message(self._down))
            (Op.call(self.ctx.runner, cache_counts, key=f"banner-{id(self)}", parent=self)
             .on_success(self._banner_counts).on_failure(lambda exc: None).run())

    def _banner_counts(self, counts: CacheCounts) -> None:
        if not self._down:
            return
        down = {d.connector for d in self._down}
        synced = [s.last_success_at for s in counts.sources
                  if s.connector in down and s.last_success_at]
        self.banner.setText(offline_message(self._down, data_as_of=min(synced, default=None),
                                            queued=counts.outbox_count("queued", "failed")))

    # --- drag and drop of a data package or an export file ------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if paths and droppable(paths[0]):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        event.acceptProposedAction()
        self.offer_drop(paths)

    def offer_drop(self, paths: list[Path]) -> DropOffer:
        """Say what the dropped folder or file would load and load it if the user agrees."""
        from workbench.services.sources import cache_path as local_files

        base = local_files(self.ctx.engine)  # a team cache: its local folder, not the URL
        staging = (base.parent if base is not None else Path(".")) / "dropped"
        offer = offer_for(paths, self.ctx.settings, staging)
        if offer.wizard:  # a plant export no profile reads yet
            open_import_wizard(self, [offer.path])
            return offer
        if offer.source is None:
            QMessageBox.information(self, "Cannot load this", offer.problem)
            return offer
        answer = QMessageBox.question(
            self, "Load into the cache?", offer.question,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.Yes)
        if answer != QMessageBox.StandardButton.Yes:
            return offer
        try:
            stage(offer)
        except OSError as exc:
            from workbench.ui.errors import show_error

            show_error(self, f"Could not copy {offer.path.name}", exc)
            return offer
        self._load_source(offer.source, f"Loading {offer.path.name}…", remember=offer.remember)
        return offer

    # --- geometry and state -----------------------------------------------------------------------
    def _restore(self) -> None:
        geometry = self.qsettings.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)

    def save_state(self) -> None:
        self.qsettings.setValue("window/geometry", self.saveGeometry())
        for name, panel in self.panels.items():
            self.ctx.ui_state.panel_state[name] = panel.save_state()
            for key, splitter in panel.splitters().items():
                self.qsettings.setValue(f"splitters/{name}/{key}", splitter.saveState())
            for key, pane in table_panes(panel).items():
                if pane.arranged:  # else the layout saved earlier (if any) stays
                    self.ctx.ui_state.table_layouts[key] = pane.layout_state()
        self.qsettings.sync()
        self.ctx.save_ui_state()

    def _shut_down(self) -> None:
        self._check_timer.stop()
        for op in Op.running():
            op.cancel()
        self.ctx.runner.shutdown()
        Op.shutdown(timeout_s=15)

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._replaced:  # replaced by another cache's window: already saved and stopped
            self.save_state()
            self._shut_down()
        super().closeEvent(event)
