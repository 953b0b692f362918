"""The EDI inbox view inside Sync & Outbox: every supplier message file taken (acknowledgements
and ship notices, docs/edi.md) with its outcome — applied, duplicate, superseded, or rejected
with the reason (message, segment, element, what was expected) — and Replay for rejected files
once their cause is fixed (a cross-reference or partner added).

Reading and replaying are the operations :func:`workbench.app.edi.inbox_view` and
:func:`workbench.app.edi.replay`, run through the host panel's verbs (``query``, ``change``: a
replay's changes go to the window like the panel's own, as the outbox view's do). The files
arrive with a sync: of an ``edi`` source configured in Settings, or of the demo plant, whose
suppliers write into the inbox beside the cache.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from workbench.app.edi import OUTCOMES, InboxView, inbox_view, replay
from workbench.app.tables import Col
from workbench.ui.widgets import TablePane, hint

if TYPE_CHECKING:
    from workbench.services.edi import FileOutcome
    from workbench.ui.panels.base import Panel, PanelContext

INBOX_COLUMNS = [
    Col("id", "File no.", "int"),
    Col("outcome", "Outcome"),
    Col("file", "File"),
    Col("where", "Reason", tip="Why the file was not applied: message, segment (1 = UNB / ISA), "
                               "element, and what was expected"),
    Col("kind", "Message"),
    Col("supplier", "Supplier"),
    Col("supplier_name", "Supplier name"),
    Col("control_ref", "Control no.", tip="Interchange control number (UNB 0020 / ISA13)"),
    Col("document_number", "Document"),
    Col("received_at", "Received"),
    Col("processed_at", "Processed"),
    Col("lines_text", "Lines applied", tip="PO lines changed of the lines the file holds"),
    Col("replays", "Replays", "int"),
    Col("sender", "Sender"),
    Col("source", "Inbox"),
]
TONES = {"rejected": "failed", "superseded": "changed", "duplicate": "queued", "applied": "ok"}


class EdiInboxView(QWidget):
    """The archive table with an outcome filter, the selected file's reason in full, and Replay
    selected; inside ``host`` (the Sync & Outbox panel), whose verbs run its operations."""

    def __init__(self, ctx: PanelContext, host: Panel) -> None:
        super().__init__(host)
        self.ctx = ctx
        self.host = host
        self.table = TablePane(INBOX_COLUMNS, title="EDI inbox (supplier messages)",
                               placeholder="Filter message files…",
                               pickers=[("outcome", "outcomes")], multi_select=True)
        self.table.set_picker_values("outcome", list(OUTCOMES))
        self.replay_button = QPushButton("Replay selected")
        self.replay_button.setObjectName("replayEdi")
        self.replay_button.setToolTip(
            "Read rejected files again from the archive, with the sources' current settings and "
            "the cache's current cross-references (fix the cause first); each file is applied "
            "whole or not at all")
        self.replay_button.clicked.connect(self.replay_selected)
        self.note = QLabel("")
        self.note.setObjectName("ediNote")
        self.note.setWordWrap(True)
        self.detail = QLabel("")
        self.detail.setObjectName("ediDetail")
        self.detail.setWordWrap(True)
        # room for a long reason: a wrapped label in a layout would otherwise be squeezed
        self.detail.setMinimumHeight(self.fontMetrics().lineSpacing() * 3 + 6)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        buttons = QHBoxLayout()
        buttons.addWidget(self.replay_button)
        buttons.addWidget(self.note, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(hint("Acknowledgements and ship notices from suppliers, one file per "
                              "row: each is applied whole or not at all. A rejected file changes "
                              "nothing; fix its cause (e.g. an item cross-reference), then replay "
                              "it."))
        layout.addLayout(buttons)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.detail)
        self.table.current_key_changed.connect(self._show_detail)
        self._frame = pd.DataFrame()
        #: what the last replay did, shown beside the counts
        self.replay_note = ""

    def reload(self) -> None:
        self.host.query(inbox_view, then=self._show, key="edi_inbox")

    def _show(self, view: InboxView) -> None:
        frame = view.frame
        self._frame = frame
        frame = frame.assign(tone=frame["outcome"].map(TONES).fillna(""))
        current = self.table.current_key()
        self.table.model.set_frame(frame, "id", tone="tone")
        if current is not None:  # the file the buyer was looking at stays selected
            self.table.select_key(current)
        counts = ", ".join(f"{n:,} {o}" for o, n in view.counts.items() if n)
        text = (f"Message files: {counts}." if counts else
                "No supplier message yet: configure an edi source in Settings (inbox folder), "
                "or sync the demo plant.")
        self.note.setText(f"{text} {self.replay_note}".strip())  # the last replay stays readable
        self._show_detail(self.table.current_key())

    def _row(self, key: Any) -> pd.Series | None:
        if key is None or not len(self._frame):
            return None
        rows = self._frame.loc[self._frame["id"] == key]
        return rows.iloc[0] if len(rows) else None

    def _show_detail(self, key: Any) -> None:
        """The selected file in one paragraph: what it is, from whom, and why not applied."""
        row = self._row(key)
        if row is None:
            self.detail.setText("")
            return
        # a rejected file has only what was read before the failure (often nothing)
        who = " ".join(p for p in (row["supplier"], row["supplier_name"]) if p)
        text = (f"File {row['id']}: {row['file']}"
                + (f" — {row['kind']}" if row["kind"] else "")
                + (f" from {who}" if who else "")
                + (f" (sender {row['sender']})" if row["sender"] else "")
                + f", received {row['received_at']}: {row['outcome']}")
        if row["where"]:
            text += f" — {row['where']}"
        self.detail.setText(text)

    def selected_ids(self) -> list[int]:
        return [int(k) for k in self.table.selected_keys()]

    def replay_selected(self) -> None:
        """Replay the selected rejected files (others selected are left out and named)."""
        chosen = self.selected_ids()
        rejected = [i for i in chosen if (r := self._row(i)) is not None
                    and r["outcome"] == "rejected"]
        if not rejected:
            self.note.setText("Select rejected files to replay: only a rejected file is taken "
                              "again.")
            return
        self.note.setText(f"Replaying {len(rejected)} file(s)…")
        self.host.change(replay, rejected, list(self.ctx.settings.sources),
                         then=self._replayed, on_failure=self._replay_failed)

    def _replayed(self, done: list[FileOutcome]) -> None:
        parts = [f"{o.file}: {o.outcome}" + (f", {o.applied_lines} of {o.lines} lines applied"
                                             if o.outcome != "rejected" else f" — {o.error}")
                 for o in done]
        self.replay_note = "Replayed " + "; ".join(parts)
        self.reload()  # shown at once, also when no window broadcasts the change

    def _replay_failed(self, exc: BaseException) -> None:
        self.replay_note = f"Replay failed, nothing changed: {exc}"
        self.note.setText(self.replay_note)
