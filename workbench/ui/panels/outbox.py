"""The outbox view inside Sync & Outbox: decisions on their way back to the source systems.

Shows every entry (queued, sending, sent, confirmed, failed with its error, conflict,
discarded), retries failed ones, sends what is queued, and for a conflict shows our decision
beside the source's current state, field by field, with the two ways a buyer settles it: send
ours on the source's version, or discard ours and keep the source's. The reading and sending
are operations of :mod:`workbench.app.outbox`, run through the host panel's two verbs
(``query``, ``change``: its changes go to the window like the panel's own); this module only
displays and asks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd
from PySide6.QtCore import Qt
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

from workbench.app.ops import Outcome
from workbench.app.outbox import (
    OutboxSnapshot,
    discard_conflicts,
    outbox_entries,
    resend_on_source_version,
    retry,
    send_pending,
)
from workbench.app.tables import Col
from workbench.ui.format import readable
from workbench.ui.widgets import TablePane, hint

if TYPE_CHECKING:
    from workbench.services.approvals import ConflictLine
    from workbench.services.writeback import Resolution
    from workbench.ui.panels.base import Panel, PanelContext

#: what each entry will do first (action, record, item, quantity and unit, date, supplier: on
#: screen at 1280x720), its write-back state after
OUTBOX_COLUMNS = [
    Col("id", "Entry", "int"),
    Col("state", "State"),
    Col("action", "Action"),
    Col("requisition", "Requisition / PO line",
        tip="The record the decision changes in the source: a requisition or a PO line"),
    Col("item", "Item", names="item", tip="The item of the requisition or PO line"),
    Col("quantity", "Quantity", "qty",
        tip="The quantity the source is sent: a requisition's in the item's stock unit, a PO "
            "line's new ordered quantity in the line's own unit; a reschedule: the open "
            "quantity it moves"),
    Col("unit", "Unit", tip="The unit of the quantity sent"),
    Col("date", "Date", "date", tip="The date the source is sent (need date of a requisition, "
                                    "delivery date of a PO line)"),
    Col("supplier", "Supplier", names="supplier", tip="The supplier of the requisition or line"),
    Col("verdict", "Decision"),
    Col("attempts", "Attempts", "int"),
    Col("updated_at", "Updated"),
    Col("connector", "Source"),
    Col("last_error", "Error"),
]
TONES = {"failed": "failed", "conflict": "conflict", "queued": "queued", "confirmed": "ok",
         "sent": "ok"}  # "discarded" (a conflict settled by keeping the source's state): no tone


class OutboxView(QWidget):
    """Outbox table, Retry / Send buttons and the conflict comparison, inside ``host`` (the
    Sync & Outbox panel), whose verbs run its operations."""

    def __init__(self, ctx: PanelContext, host: Panel) -> None:
        super().__init__(host)
        self.ctx = ctx
        self.host = host
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

        self.conflict = QTableWidget(0, 4)  # a fixed 4-column comparison, not a data store
        self.conflict.setHorizontalHeaderLabels(["Field", "In the cache", "Our decision",
                                                 "Source now"])
        self.conflict.setToolTip(
            "In the cache: the record as the analysis saw it (until a sync brings the source's). "
            "Yellow: our decision and the source differ. Bold: changed in the source.")
        self.conflict.horizontalHeader().setStretchLastSection(True)
        self.conflict.verticalHeader().setVisible(False)
        # compact rows: the whole comparison fits without scrolling in a normal window
        self.conflict.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.conflict.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.conflict_title = QLabel("")
        self.conflict_title.setWordWrap(True)
        self.resend_button = QPushButton("Send ours on the source's version")
        self.resend_button.setToolTip(
            "Keep our decision over the change in the source: send it again, based on the "
            "version the source holds now (if the record moves once more, it is a conflict again)")
        self.resend_button.clicked.connect(self.resend_current)
        self.discard_button = QPushButton("Discard ours, keep the source's")
        self.discard_button.setToolTip(
            "Send nothing: the source keeps its state, our decision stays stored; the "
            "requisition gets new advice at the next re-evaluation, to decide again in Approvals")
        self.discard_button.clicked.connect(self.discard_current)
        actions = QHBoxLayout()
        actions.addWidget(self.resend_button)
        actions.addWidget(self.discard_button)
        actions.addStretch(1)
        conflict_box = QWidget()
        cl = QVBoxLayout(conflict_box)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.addWidget(hint("Conflict: the record changed in the source after our analysis. "
                          "Nothing was written. Compare, then send ours on the source's version "
                          "or discard it (and decide again in Approvals after a re-evaluation)."))
        cl.addWidget(self.conflict_title)
        cl.addWidget(self.conflict)
        cl.addLayout(actions)
        self.conflict_box = conflict_box
        conflict_box.setVisible(False)
        self._conflict_key: int | None = None

        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(conflict_box)
        # the comparison never collapses to nothing: shown, it is what the buyer must read
        split.setCollapsible(1, False)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(split, 1)
        self.table.current_key_changed.connect(self._show_conflict)
        self._entries = pd.DataFrame()
        self._conflicts: dict[int, list[ConflictLine]] = {}

    def reload(self) -> None:
        self.host.query(outbox_entries, then=self._show, key="outbox")

    def _show(self, snapshot: OutboxSnapshot) -> None:
        frame, self._conflicts = snapshot.entries, snapshot.conflicts
        self._entries = frame
        targets = snapshot.targets
        if targets is not None and len(frame):
            what = targets[["id", "item", "quantity", "unit", "date", "supplier"]]
            frame = frame.merge(what, on="id", how="left")
        frame = frame.assign(tone=frame["state"].map(TONES).fillna("")) if len(frame) else frame
        self.table.model.set_frame(frame, "id", tone="tone" if len(frame) else None)
        states = sorted(set(frame["state"])) if len(frame) else []
        self.table.set_picker_values("state", states)
        counts = frame["state"].value_counts().to_dict() if len(frame) else {}
        self.note.setText(", ".join(f"{n:,} {s}" for s, n in sorted(counts.items())) or
                          "The outbox is empty: no decision is waiting to be written back.")
        self._show_conflict(self.table.current_key())  # its entry may have changed state

    def _show_conflict(self, key: Any) -> None:
        """Our decision beside the source's record now, when the current entry is a conflict."""
        row = self._entries.loc[self._entries["id"] == key] if len(self._entries) else None
        if row is None or not len(row) or row.iloc[0]["state"] != "conflict":
            self._conflict_key = None
            self.conflict_box.setVisible(False)
            return
        entry = row.iloc[0]
        self._conflict_key = int(entry["id"])
        self.conflict_title.setText(
            f"Entry {entry['id']}: {entry['verdict']} {entry['action']} of {entry['requisition']}"
            f", decided by {entry['decided_by']} at {readable(str(entry['decided_at']))}. "
            f"{entry['last_error'] or ''}")
        lines = self._conflicts.get(self._conflict_key, [])
        self.conflict.setRowCount(len(lines))
        for i, line in enumerate(lines):
            for j, text in enumerate((line.label, line.cached, line.ours, line.theirs)):
                item = QTableWidgetItem(text)
                if j >= 2 and line.differs:
                    item.setBackground(Qt.GlobalColor.yellow)
                if j == 3 and line.changed_in_source:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.conflict.setItem(i, j, item)
        self.conflict.resizeColumnsToContents()
        self.conflict_box.setVisible(True)

    def resend_current(self) -> None:
        """Keep our decision: send it again on the version the source holds now."""
        self._resolve(resend_on_source_version)

    def discard_current(self) -> None:
        """Keep the source's state: the entry is discarded, nothing is sent."""
        self._resolve(discard_conflicts)

    def _resolve(self, settle: Callable[..., Outcome[Resolution]]) -> None:
        if self._conflict_key is not None:
            self.host.change(settle, [self._conflict_key], self.ctx.settings.user,
                             then=self._resolved)

    def _resolved(self, result: Resolution) -> None:
        if result.skipped:
            self.note.setText("; ".join(result.skipped))
        self.reload()

    def retry_selected(self) -> None:
        keys: Sequence[int] = [int(k) for k in self.table.selected_keys()]
        if keys:
            self.host.change(retry, keys, self.ctx.settings.user, then=self._changed)

    def send_now(self) -> None:
        self.host.change(send_pending, list(self.ctx.settings.sources), then=self._changed,
                         progress="Sending decisions…")

    def _changed(self, _result: object) -> None:
        """Shown at once, also when no window broadcasts the change (the host's own reload
        follows the broadcast)."""
        self.reload()
