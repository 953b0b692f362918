"""Sync & Outbox: the sources, their last runs and freshness, Sync with progress and Cancel, the
rows a run rejected (file, row, field, reason), and the outbox of decisions going back to sources.

Syncing runs :func:`workbench.ui.workers.sync_sources` in the single-writer pool; the UI thread
only receives rate-limited progress and the result.
"""

from __future__ import annotations

import functools
from typing import Any

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

from workbench.app.tables import Col
from workbench.services.status import age_text, recent_runs, rejections, source_freshness
from workbench.services.sync import SyncResult
from workbench.services.tasks import Cancelled
from workbench.ui.operations import Op, OpHandle
from workbench.ui.panels.base import Panel, PanelContext
from workbench.ui.panels.outbox import OutboxView
from workbench.ui.planning import write_call
from workbench.ui.widgets import TablePane, heading, hint
from workbench.ui.workers import counts_text, describe_result, sync_job

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

    def __init__(self, ctx: PanelContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.sync_handle: OpHandle[list[SyncResult]] | None = None
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

        self.outbox = OutboxView(ctx, self)
        self.outbox.cache_changed.connect(self.cache_changed)
        self.tabs = QTabWidget()
        self.tabs.addTab(runs_split, "Sync runs and rejected rows")
        self.tabs.addTab(self.outbox, "Outbox (decisions to write back)")

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
        engine = self.ctx.engine
        sources = list(self.ctx.settings.sources)
        reachable = dict(self.ctx.reachable)

        def read(_state: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
            by_name = {s["connector"]: s for s in source_freshness(engine)}
            names = [s.connector for s in sources] + [n for n in by_name if not any(
                s.connector == n for s in sources)]
            rows = []
            for name in names:
                cfg = next((s for s in sources if s.connector == name), None)
                st = by_name.get(name)
                ok = reachable.get(name)
                rows.append({
                    "connector": name,
                    "title": cfg.name if cfg else f"{name} (not configured)",
                    "reachable": "" if ok is None else ("yes" if ok else "NO — offline"),
                    "last_status": st["last_run_status"] if st else "never synced",
                    "last_success": (st["last_success_at"] or "") if st else "",
                    "age": age_text(st["last_success_at"]) if st else "never",
                    "error": (st["last_error"] or "") if st else "",
                })
            runs = pd.DataFrame(recent_runs(engine, limit=200))
            if len(runs):
                runs["counts_text"] = runs["counts"].map(counts_text)
                runs["error"] = runs["error"].fillna("")
            return pd.DataFrame(rows, columns=[c.name for c in SOURCE_COLUMNS]), runs

        self.load(read, self._show)
        self.outbox.reload()

    def _show(self, frames: tuple[pd.DataFrame, pd.DataFrame]) -> None:
        sources, runs = frames
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
        engine = self.ctx.engine
        self.load(lambda _s: pd.DataFrame(rejections(engine, int(run_id)),
                                          columns=[c.name for c in REJECTION_COLUMNS]),
                  self._show_rejections, key="rejections")

    def _show_rejections(self, frame: pd.DataFrame) -> None:
        frame = frame.reset_index().rename(columns={"index": "n"})
        self.rejected.model.set_frame(frame, "n")

    # --- syncing ----------------------------------------------------------------------------
    def _partial_toggled(self, on: bool) -> None:
        self.ctx.ui_state.allow_partial_loads = on
        self.ctx.save_ui_state()

    def start_sync(self) -> OpHandle[list[SyncResult]] | None:
        """Start syncing every enabled source; returns the running op (None if none enabled)."""
        if self.sync_handle is not None and not self.sync_handle.done:
            return self.sync_handle
        sources = [s for s in self.ctx.settings.sources if s.enabled]
        if not sources:
            self.status.setText("No source is configured: add one in Settings, or load the demo.")
            return None
        holder = self.ctx.planning
        job = functools.partial(sync_job, sources=sources, partial=self.partial.isChecked())
        self.sync_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.status.setText("Starting sync…")
        self.busy.emit(True)
        self.sync_handle = (
            Op(write_call(holder, job), name="Sync", key="sync", parent=self, writes=True)
            .on_progress(self._progress)
            .on_status(self.status.setText)
            .on_success(self._synced)
            .on_failure(self._sync_failed)
            .on_finished(self._sync_finished)
            .run()
        )
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
        self.last_results = results
        self.status.setText("\n".join(describe_result(r) for r in results))
        if any(r.ok and r.total("changed") + r.total("deleted") for r in results):
            self.cache_changed.emit("data")
        self.message.emit(self.status.text().splitlines()[0] if results else "")

    def _sync_failed(self, exc: BaseException) -> None:
        if isinstance(exc, Cancelled):
            self.status.setText("Sync cancelled: the cache is unchanged.")
        else:
            self.failed("sync", exc)
            self.status.setText(f"Sync failed: {exc}")

    def _sync_finished(self) -> None:
        self.sync_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.progress.setVisible(False)
        self.busy.emit(False)
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
