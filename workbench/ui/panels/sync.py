"""Sync & Outbox: the sources, their last runs and freshness, Sync with progress and Cancel, the
rows a run rejected (file, row, field, reason), the outbox of decisions going back to sources,
and the EDI inbox of supplier messages (:mod:`workbench.ui.panels.edi_inbox`).

Syncing is the command :func:`workbench.app.sync.sync` in the writer process (the cache's single
writer); the UI thread only receives rate-limited progress and the result. The tables come from
the reader process (:func:`workbench.app.sync.sync_overview`, :func:`~workbench.app.sync.run_rejections`).
"""

from __future__ import annotations

from typing import Any, ClassVar

import pandas as pd
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from workbench.app.edi import describe_run
from workbench.app.ops import Outcome
from workbench.app.sync import (
    SyncOverview,
    run_rejections,
    sync,
    sync_overview,
)
from workbench.app.tables import Col
from workbench.services.sync import SyncResult
from workbench.services.tasks import Cancelled
from workbench.ui.operations import OpHandle
from workbench.ui.panels.base import Panel, PanelContext
from workbench.ui.panels.edi_inbox import EdiInboxView
from workbench.ui.panels.outbox import OutboxView
from workbench.ui.widgets import TablePane, heading, hint

SOURCE_COLUMNS = [
    Col("title", "Source"),
    Col("connector", "Connector"),
    Col("reachable", "Reachable"),
    Col("last_status", "Last run"),
    Col("last_success", "Last successful sync"),
    Col("age", "Age"),
    Col("error", "Last error"),
]
RUN_COLUMNS = [
    Col("id", "Run", "int"),
    Col("connector", "Source"),
    Col("started_at", "Started"),
    Col("status", "Status"),
    Col("duration_s", "Seconds", "qty"),
    Col("counts_text", "Records"),
    Col("rejected", "Rejected", "int"),
    Col("error", "Error"),
]
REJECTION_COLUMNS = [
    Col("file", "File"),
    Col("row", "Row", "int"),
    Col("field", "Field"),
    Col("reason", "Reason"),
    Col("entity", "Entity"),
    Col("key", "Key"),
]


class SyncPanel(Panel):
    name = "sync"
    title = "Sync & Outbox"
    #: the runs and freshness change with every sync; the outbox view with every decision
    cares_about: ClassVar[tuple[str, ...]] = ("data", "decisions", "outbox", "sources")

    def __init__(self, ctx: PanelContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.sync_handle: OpHandle[Outcome[list[SyncResult]]] | None = None
        self.last_results: list[SyncResult] = []

        self.sources = TablePane(SOURCE_COLUMNS, title="Sources", placeholder="Filter sources…")
        self.sync_button = QPushButton("Sync now")
        self.sync_button.setObjectName("syncButton")
        self.sync_button.setToolTip("Pull what changed from every enabled source (F5)")
        self.sync_button.setShortcut("F5")
        self.sync_button.clicked.connect(self.start_sync)
        self.partial = QCheckBox("Keep the good rows when some are rejected")
        self.partial.setChecked(ctx.ui_state.allow_partial_loads)
        self.partial.toggled.connect(self._partial_toggled)
        self.progress = QProgressBar()
        self.progress.setObjectName("syncProgress")
        self.progress.setMaximum(1000)
        self.progress.setVisible(False)
        self.progress.setMinimumWidth(220)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the sync: the cache stays as it was before this run")
        self.cancel_button.setObjectName("cancelSync")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_sync)
        self.status = QLabel("")
        self.status.setObjectName("syncStatus")
        self.status.setWordWrap(True)

        actions = QHBoxLayout()
        actions.addWidget(self.sync_button)
        actions.addWidget(self.partial)
        actions.addWidget(self.progress)
        actions.addWidget(self.cancel_button)
        actions.addStretch(1)

        self.runs = TablePane(RUN_COLUMNS, title="Sync runs", placeholder="Filter runs…")
        self.rejected = TablePane(REJECTION_COLUMNS, title="Rejected rows of the selected run",
                                  placeholder="Filter rejected rows…")
        self.runs.current_key_changed.connect(self._run_selected)
        runs_split = QSplitter(Qt.Orientation.Vertical)
        runs_split.addWidget(self.runs)
        runs_split.addWidget(self.rejected)
        runs_split.setSizes([300, 200])
        self.runs_split = runs_split

        # its commands run through this panel's verbs: their changes are this panel's
        self.outbox = OutboxView(ctx, self)
        self.tabs = QTabWidget()
        self.tabs.addTab(runs_split, "Sync runs and rejected rows")
        self.tabs.addTab(self.outbox, "Outbox (decisions to write back)")
        self.edi_inbox = EdiInboxView(ctx, self)  # supplier messages (docs/edi.md)
        self.tabs.addTab(self.edi_inbox, "EDI inbox (supplier messages)")

        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.sources)
        top_layout.addLayout(actions)
        top_layout.addWidget(self.status)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(self.tabs)
        split.setSizes([230, 470])
        self.main_split = split

        layout = QVBoxLayout(self)
        layout.addWidget(heading(self.title, 14))
        layout.addWidget(hint("Every sync is all-or-nothing per source: a failed or cancelled run "
                              "leaves the cache as it was. The app keeps working from the cache "
                              "when a source is offline."))
        layout.addWidget(split, 1)

    # --- loading ----------------------------------------------------------------------------
    def reload(self) -> None:
        self.query(sync_overview, list(self.ctx.settings.sources), dict(self.ctx.reachable),
                   then=self._show)
        self.outbox.reload()
        self.edi_inbox.reload()

    def _show(self, overview: SyncOverview) -> None:
        sources, runs = overview.sources, overview.runs
        self.sources.model.set_frame(sources, "connector")
        if not len(runs):
            runs = pd.DataFrame(columns=[c.name for c in RUN_COLUMNS])
        runs = runs.assign(tone=runs["status"].map(
            {"failed": "failed", "cancelled": "changed", "partial": "changed"}).fillna(""))
        self.runs.model.set_frame(runs, "id", tone="tone")
        if self.runs.current_key() is None and self.runs.model.rowCount():
            self.runs.select_row(0)

    def _run_selected(self, run_id: Any) -> None:
        if run_id is None:
            return
        self.query(run_rejections, int(run_id), then=self._show_rejections, key="rejections")

    def _show_rejections(self, frame: pd.DataFrame) -> None:
        frame = frame.reset_index().rename(columns={"index": "n"})
        self.rejected.model.set_frame(frame, "n")

    # --- syncing ----------------------------------------------------------------------------
    def _partial_toggled(self, on: bool) -> None:
        self.ctx.ui_state.allow_partial_loads = on
        self.ctx.save_ui_state()

    def start_sync(self) -> OpHandle[Outcome[list[SyncResult]]] | None:
        """Start syncing every enabled source; returns the running op (None if none enabled)."""
        if self.sync_handle is not None and not self.sync_handle.done:
            return self.sync_handle
        sources = [s for s in self.ctx.settings.sources if s.enabled]
        if not sources:
            self.status.setText("No source is configured: add one in Settings, or load the demo.")
            return None
        self.sync_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.status.setText("Starting sync…")
        self.sync_handle = self.change(
            sync, sources, partial=self.partial.isChecked(), then=self._synced,
            on_failure=self._sync_failed, on_finished=self._sync_finished,
            on_progress=self._progress, on_status=self.status.setText)
        return self.sync_handle

    def cancel_sync(self) -> None:
        if self.sync_handle is not None:
            self.sync_handle.cancel()
            self.status.setText("Cancelling… the cache stays as it was before this run.")
            self.cancel_button.setEnabled(False)

    def _progress(self, done: int, total: int | None) -> None:
        if total:
            self.progress.setMaximum(1000)
            self.progress.setValue(int(1000 * min(done, total) / total))
        else:
            self.progress.setMaximum(0)

    def _synced(self, results: list[SyncResult]) -> None:
        """The runs' results; the changes they made go to the window (Panel.change)."""
        self.last_results = results
        self.status.setText("\n".join(describe_run(r) for r in results))
        self.message.emit(self.status.text().splitlines()[0] if results else "")

    def _sync_failed(self, exc: BaseException) -> None:
        if isinstance(exc, Cancelled):
            self.status.setText("Sync cancelled: the cache is unchanged.")
        else:
            self.failed("sync", exc)
            self.status.setText(f"Sync failed: {exc}")

    def _sync_finished(self) -> None:
        """Whatever the outcome: the run is listed (a failed or cancelled run too)."""
        self.sync_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.progress.setVisible(False)
        self.reload()

    # --- state ------------------------------------------------------------------------------
    def save_state(self) -> dict[str, Any]:
        return {"tab": self.tabs.currentIndex()}

    def restore_state(self, state: dict[str, Any]) -> None:
        self.tabs.setCurrentIndex(int(state.get("tab", 0)))

    def splitters(self) -> dict[str, Any]:
        return {"main": self.main_split, "runs": self.runs_split}


if __name__ == "__main__":
    from workbench.ui.panels.preview import preview

    preview(SyncPanel)
