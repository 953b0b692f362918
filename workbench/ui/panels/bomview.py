"""The BOM side of Items & BOM: an item's indented multi-level BOM by revision, and a diff of two
revisions with added / removed / changed rows coloured. (Filled from the planning services.)"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from workbench.ui.panels.base import PanelContext
from workbench.ui.widgets import heading


class BomView(QWidget):
    navigate = Signal(str, object)

    def __init__(self, ctx: PanelContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.item: str | None = None
        self.title = heading("Bill of materials", 11)
        self.note = QLabel("Select an item to see its bill of materials.")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.note)
        layout.addStretch(1)

    def show_item(self, code: str) -> None:
        self.item = code
        self.title.setText(f"Bill of materials of {code}")

    def splitters(self) -> dict[str, Any]:
        return {}
