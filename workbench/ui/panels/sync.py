"""Sync & Outbox: the sources, their last runs and freshness, Sync with progress and Cancel, the
rows a run rejected (file, row, field, reason), the outbox of decisions going back to sources,
and the EDI inbox of supplier messages (:mod:`workbench.ui.panels.edi_inbox`).

Syncing is the command :func:`workbench.app.sync.sync` in the writer process (the cache's single
writer); the UI thread only receives rate-limited progress and the result. The tables come from
the reader process (:func:`workbench.app.sync.sync_overview`, :func:`~workbench.app.sync.run_rejections`).
"""

from __future__ import annotations

from functools import partial
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
from workbench.app.sync_changes import (
    ENTITY_TITLES,
    STATE_COLUMN,
    EntityChanges,
    changed_rows,
    changes_text,
    run_changes,
)
from workbench.app.tables import Col, TableData
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
#: what the selected run changed, per entity (workbench.app.sync_changes)
CHANGE_COLUMNS = [
    Col("title", "Data", tip="The kind of record the sync changed"),
    Col("added", "Added", "int", tip="Rows new in the cache after this sync"),
    Col("changed", "Changed", "int", tip="Rows of which this sync changed a field"),
    Col("removed", "Removed", "int", tip="Rows no longer in the source: marked deleted"),
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
        # what the selected run changed, per entity; choosing one lists its rows
        self.changes = TablePane(CHANGE_COLUMNS, title="What the run changed",
                                 placeholder="Filter…")
        self.changes.current_key_changed.connect(self._entity_selected)
        self.run_rows = TablePane([STATE_COLUMN], title="Rows it changed",
                                 placeholder="Filter changed rows…")
        self.changes_note = hint("Choose a kind of data to see the rows the run added, changed "
                                 "or removed.")
        changed_box = QWidget()
        cb = QVBoxLayout(changed_box)
        cb.setContentsMargins(0, 0, 0, 0)
        cb.addWidget(self.changes_note)
        cb.addWidget(self.run_rows, 1)
        changes_split = QSplitter(Qt.Orientation.Horizontal)
        changes_split.addWidget(self.changes)
        changes_split.addWidget(changed_box)
        changes_split.setSizes([430, 800])
        self.changes_split = changes_split
        #: the run whose changes are on show
        self.shown_run: int | None = None
        self._select_newest = False
        runs_split = QSplitter(Qt.Orientation.Vertical)
        runs_split.addWidget(self.runs)
        runs_split.addWidget(changes_split)
        runs_split.addWidget(self.rejected)
        runs_split.setSizes([150, 320, 110])
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
        newest, self._select_newest = self._select_newest, False
        if (newest or self.runs.current_key() is None) and self.runs.model.rowCount():
            self.runs.select_row(0)

    def _run_selected(self, run_id: Any) -> None:
        if run_id is None:
            return
        self.query(run_rejections, int(run_id), then=self._show_rejections, key="rejections")
        self.query(run_changes, int(run_id), then=lambda c: self._show_changes(int(run_id), c),
                   key="run_changes")

    def _show_changes(self, run_id: int, changes: list[EntityChanges]) -> None:
        """The run's changes per entity; the rows listed stay those of the same run."""
        if run_id != self.shown_run:
            self.shown_run = run_id
            self.run_rows.model.set_table(TableData.empty([STATE_COLUMN]))
            self.changes_note.setText(
                f"Run {run_id} changed nothing." if not changes else
                "Choose a kind of data to see the rows the run added, changed or removed.")
        frame = pd.DataFrame([{"entity": c.entity, "title": c.title, "added": c.added,
                               "changed": c.changed, "removed": c.removed} for c in changes],
                             columns=["entity", "title", "added", "changed", "removed"])
        self.changes.model.set_frame(frame, "entity")

    def _entity_selected(self, entity: Any) -> None:
        """The rows of ``entity`` the run on show wrote: one click from its counts."""
        if entity is None or self.shown_run is None:
            return
        run_id = self.shown_run
        self.query(changed_rows, run_id, str(entity), key="changed_rows",
                   then=lambda t: self._show_rows(run_id, str(entity), t))

    def _show_rows(self, run_id: int, entity: str, table: TableData) -> None:
        self.run_rows.model.set_table(table)
        title = ENTITY_TITLES.get(entity, entity)
        self.changes_note.setText(f"{title} run {run_id} wrote: {len(table):,} row(s)"
                                  + (" (the first 10,000)" if len(table) >= 10_000 else ""))
        self.run_rows.fit_columns(max_width=360)

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
        self._select_newest = True  # the runs list, reloaded, shows what this sync changed
        for r in results:
            if r.ok and r.run_id is not None:
                self.query(run_changes, int(r.run_id), key=f"changes-{r.run_id}",
                           then=partial(self._tell_changes, r))

    def _tell_changes(self, result: SyncResult, changes: list[EntityChanges]) -> None:
        """Under the run's line: what it changed, per entity."""
        line = describe_run(result)
        what = changes_text(changes) or "nothing changed"
        text = self.status.text().replace(line, f"{line}\n  What changed: {what}", 1)
        self.status.setText(text)

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
