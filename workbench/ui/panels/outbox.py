"""The outbox view inside Sync & Outbox: decisions on their way back to the source systems.

Shows every entry (queued, sending, sent, confirmed, failed with its error, conflict), retries
failed ones, sends what is queued, and for a conflict shows our decision beside the source's
current state. The reading and sending are services (``workbench.services.writeback``); this
module only displays and asks.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any

import pandas as pd
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workbench.ui.operations import Op
from workbench.ui.panels.base import PanelContext
from workbench.ui.planning import write_call
from workbench.ui.tabledata import Col
from workbench.ui.widgets import TablePane, hint
from workbench.ui.workers import retry_job, send_job

OUTBOX_COLUMNS = [
    Col("id", "Entry", "int"),
    Col("state", "State"),
    Col("requisition", "Requisition"),
    Col("action", "Action"),
    Col("verdict", "Decision"),
    Col("connector", "Source"),
    Col("attempts", "Attempts", "int"),
    Col("updated_at", "Updated"),
    Col("last_error", "Error"),
]
TONES = {"failed": "failed", "conflict": "conflict", "queued": "queued", "confirmed": "ok",
         "sent": "ok"}


def _writeback() -> Any:
    """The write-back service module, or None while it is not installed in this build."""
    try:
        from workbench.services import writeback
    except ImportError:
        return None
    return writeback


class OutboxView(QWidget):
    """Outbox table, Retry / Send buttons and the conflict comparison."""

    cache_changed = Signal(str)

    def __init__(self, ctx: PanelContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.table = TablePane(OUTBOX_COLUMNS, title="Outbox", placeholder="Filter outbox…",
                               pickers=[("state", "states")], multi_select=True)
        self.retry_button = QPushButton("Retry selected")
        self.retry_button.setToolTip("Queue failed entries again; they are sent with the same "
                                     "idempotency key, so nothing is applied twice")
        self.retry_button.clicked.connect(self.retry_selected)
        self.send_button = QPushButton("Send queued now")
        self.send_button.clicked.connect(self.send_now)
        self.note = QLabel("")
        self.note.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.retry_button)
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.note, 1)

        self.conflict = QTableWidget(0, 3)  # a fixed 3-column comparison, not a data store
        self.conflict.setHorizontalHeaderLabels(["Field", "Our decision", "Source now"])
        self.conflict.horizontalHeader().setStretchLastSection(True)
        self.conflict.verticalHeader().setVisible(False)
        conflict_box = QWidget()
        cl = QVBoxLayout(conflict_box)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.addWidget(hint("Conflict: the record changed in the source after our analysis. "
                          "Nothing was written. Compare and decide again in Approvals."))
        cl.addWidget(self.conflict)
        self.conflict_box = conflict_box
        conflict_box.setVisible(False)

        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(conflict_box)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(split, 1)
        self.table.current_key_changed.connect(self._show_conflict)
        self._entries = pd.DataFrame()
        if _writeback() is None:
            self.note.setText("Write-back is not available in this build: decisions stay stored "
                              "in the cache.")
            self.retry_button.setEnabled(False)
            self.send_button.setEnabled(False)

    def reload(self) -> None:
        wb = _writeback()
        if wb is None:
            return
        engine = self.ctx.engine
        (Op(lambda _s: wb.outbox_frame(engine), name="Outbox", key=f"outbox-{id(self)}", parent=self)
         .on_success(self._show).run())

    def _show(self, frame: pd.DataFrame) -> None:
        self._entries = frame
        frame = frame.assign(tone=frame["state"].map(TONES).fillna("")) if len(frame) else frame
        self.table.model.set_frame(frame, "id", tone="tone" if len(frame) else None)
        states = sorted(set(frame["state"])) if len(frame) else []
        self.table.set_picker_values("state", states)
        counts = frame["state"].value_counts().to_dict() if len(frame) else {}
        self.note.setText(", ".join(f"{n:,} {s}" for s, n in sorted(counts.items())) or
                          "The outbox is empty: no decision is waiting to be written back.")

    def _show_conflict(self, key: Any) -> None:
        if key is None or not len(self._entries):
            self.conflict_box.setVisible(False)
            return
        row = self._entries.loc[self._entries["id"] == key]
        if not len(row) or row.iloc[0]["state"] != "conflict" or not row.iloc[0].get("conflict"):
            self.conflict_box.setVisible(False)
            return
        data = json.loads(row.iloc[0]["conflict"])
        ours, theirs = data.get("ours", {}), data.get("theirs", {})
        fields = sorted(set(ours) | set(theirs))
        self.conflict.setRowCount(len(fields))
        for i, f in enumerate(fields):
            for j, text in enumerate((f, ours.get(f, ""), theirs.get(f, ""))):
                item = QTableWidgetItem(str(text))
                if j and ours.get(f) != theirs.get(f):
                    item.setBackground(Qt.GlobalColor.yellow)
                self.conflict.setItem(i, j, item)
        self.conflict.resizeColumnsToContents()
        self.conflict_box.setVisible(True)

    def retry_selected(self) -> None:
        wb = _writeback()
        keys = [int(k) for k in self.table.selected_keys()]
        if wb is None or not keys:
            return
        job = partial(retry_job, ids=keys, user=self.ctx.settings.user)
        (Op(write_call(self.ctx.planning, job), name="Retry", parent=self, writes=True)
         .on_success(lambda _r: self._changed()).run())

    def send_now(self) -> None:
        wb = _writeback()
        if wb is None:
            return
        job = partial(send_job, sources=list(self.ctx.settings.sources))
        (Op(write_call(self.ctx.planning, job), name="Send", parent=self, writes=True)
         .with_progress("Sending decisions…")
         .on_success(lambda _r: self._changed()).run())

    def _changed(self) -> None:
        self.cache_changed.emit("decisions")
        self.reload()
