"""The page an empty cache opens on: load the demo plant or import a data package."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from workbench.ui.widgets import heading, hint


class WelcomePage(QWidget):
    """Shown on an empty cache: load the demo plant or import a data package."""

    demo_requested = Signal()
    package_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcome")
        self.demo_button = QPushButton("Load demo plant")
        self.demo_button.setObjectName("loadDemo")
        self.demo_button.setMinimumHeight(40)
        self.demo_button.setToolTip("Load a demo manufacturer into this cache to look around")
        self.demo_button.clicked.connect(self.demo_requested)
        self.package_button = QPushButton("Import data package…")
        self.package_button.setMinimumHeight(40)
        self.package_button.setToolTip("Load a folder of CSV files (a canonical data package) "
                                       "into this cache")
        self.package_button.clicked.connect(self._ask_package)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        box = QVBoxLayout()
        box.addWidget(heading("Welcome to Planner Workbench", 18))
        box.addWidget(hint(
            "The cache is empty. Load the demo plant — a multi-site manufacturer with about 300 "
            "items, multi-level BOMs, slipping suppliers and open requisitions — to look around, "
            "or import a canonical data package (a folder of CSV files exported from your "
            "systems). Sources such as Tryton are set up in Settings."))
        row = QHBoxLayout()
        row.addWidget(self.demo_button)
        row.addWidget(self.package_button)
        row.addStretch(1)
        box.addLayout(row)
        box.addWidget(self.status)
        box.addStretch(1)
        outer = QHBoxLayout(self)
        outer.addStretch(1)
        outer.addLayout(box, 3)
        outer.addStretch(1)

    def _ask_package(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a data package folder")
        if folder:
            self.package_requested.emit(folder)

    def set_busy(self, text: str) -> None:
        self.status.setText(text)
        self.demo_button.setEnabled(not text)
        self.package_button.setEnabled(not text)
