"""The evidence of one recommendation as a buyer reads it (used by the Approvals panel).

Top: the advice, its reason and the facts it rests on, in sentences with names and units
(:func:`workbench.services.approvals.evidence_facts`). Then a small table that adds up — per
need date: required, from stock, from open POs/orders, from earlier requisitions, from this
requisition, still open (:func:`workbench.services.approvals.coverage_frame`) — with a button
to the item's shortage timeline, and the history of decisions on the requisition (who, when,
what, why).
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from workbench.app.tables import Col
from workbench.services.approvals import (
    COVERAGE_HEADERS,
    COVERAGE_TIPS,
    coverage_frame,
    evidence_text,
)
from workbench.ui.models import FrameTableModel
from workbench.ui.widgets import heading

COVERAGE_COLUMNS = [Col(k, title, "text" if k == "period" else "qty", tip=COVERAGE_TIPS[k])
                    for k, title in COVERAGE_HEADERS]
HISTORY_COLUMNS = [
    Col("decided_at", "When"), Col("decided_by", "Who"),
    Col("workstation_user", "Login", tip="The workstation's login the decision was made on"),
    Col("db_role", "Role", tip="The database role it was stored as (team cache)"),
    Col("verdict", "Verdict"),
    Col("action", "Action"), Col("quantity", "Qty", "qty"), Col("date", "Date"),
    Col("comment", "Why (comment)"), Col("advice_action", "Advice decided on"),
    Col("outbox_state", "Write-back"),
]


def _table(columns: list[Col]) -> tuple[QTableView, FrameTableModel]:
    view = QTableView()
    model = FrameTableModel(columns, view)
    view.setModel(model)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    view.verticalHeader().setVisible(False)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    view.horizontalHeader().setStretchLastSection(True)
    return view, model


class EvidencePane(QWidget):
    """Text, coverage table, timeline link and decision history of the current advice."""

    #: the buyer asks for the shortage timeline of (item, site)
    timeline_requested = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setObjectName("evidence")
        self.coverage_title = QLabel("What covers the need")
        self.coverage_title.setObjectName("coverageTitle")
        self.coverage_title.setWordWrap(True)  # a long item and site must not widen the window
        self.coverage, self.coverage_model = _table(COVERAGE_COLUMNS)
        self.coverage.setObjectName("coverage")
        self.timeline_button = QPushButton("Shortage timeline →")
        self.timeline_button.setToolTip("Open the item's shortage timeline in Shortages")
        self.timeline_button.clicked.connect(self._timeline)
        self.timeline_button.setEnabled(False)
        self.history_title = QLabel("Decisions on this requisition")
        self.history, self.history_model = _table(HISTORY_COLUMNS)
        self.history.setObjectName("history")
        self._target: tuple[str, str] | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(heading("Evidence", 11))
        layout.addWidget(self.text, 3)
        row = QHBoxLayout()
        row.addWidget(self.coverage_title, 1)
        row.addWidget(self.timeline_button)
        layout.addLayout(row)
        layout.addWidget(self.coverage, 3)
        layout.addWidget(self.history_title)
        layout.addWidget(self.history, 2)

    def show_message(self, text: str) -> None:
        self.text.setPlainText(text)
        self.coverage_model.set_frame(coverage_frame({}), "line")
        self.history_model.set_frame(pd.DataFrame(columns=[c.name for c in HISTORY_COLUMNS]
                                                  + ["id"]), "id")
        self._target = None
        self.timeline_button.setEnabled(False)

    def show_advice(self, headline: str, reason: str, evidence: Any, item: str,
                    site: str) -> None:
        data = evidence
        self.text.setPlainText(headline + "\n\n" + evidence_text(reason, data))
        frame = coverage_frame(data)
        self.coverage_model.set_frame(frame, "line")
        unit = ""
        if isinstance(data, str) and data:
            unit = str(json.loads(data).get("unit") or "")
        elif isinstance(data, dict):
            unit = str(data.get("unit") or "")
        self.coverage_title.setText(
            f"What covers the need of {item} at {site}" + (f" (quantities in {unit})"
                                                          if unit else ""))
        self._target = (item, site)
        self.timeline_button.setText(f"Shortage timeline of {item} at {site} →")
        self.timeline_button.setEnabled(True)

    def show_history(self, frame: pd.DataFrame) -> None:
        frame = frame.copy()
        frame["decided_at"] = frame["decided_at"].astype(str).str.replace("T", " ").str[:16]
        for name in ("comment", "date", "advice_action", "outbox_state", "decided_by",
                     "workstation_user", "db_role"):
            if name not in frame:
                frame[name] = None
            frame[name] = frame[name].fillna("").astype(str)
        self.history_model.set_frame(frame, "id")
        n = len(frame)
        self.history_title.setText("Decisions on this requisition" + (f" ({n})" if n else
                                                                      ": none yet"))

    def _timeline(self) -> None:
        if self._target is not None:
            self.timeline_requested.emit(*self._target)
