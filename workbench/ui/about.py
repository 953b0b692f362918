"""The About dialog (Help ▸ About): version, build, cache, settings and site profile paths —
the same rows as ``workbench --version`` (workbench.startup.about_rows), selectable for a
support request, with a button copying them."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from workbench.startup import about_rows


class AboutDialog(QDialog):
    """What this installation is and where its files are."""

    def __init__(self, cache: Path | str | None, settings_file: Path | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("aboutDialog")
        self.setWindowTitle("About Planner Workbench")
        self.rows = about_rows(cache, settings_file)
        layout = QVBoxLayout(self)
        title = QLabel("<b>Planner Workbench</b>")
        layout.addWidget(title)
        layout.addWidget(QLabel("BOM revision impact, shortages, supplier slippage and "
                                "requisition approvals on a local cache of plant data."))
        form = QFormLayout()
        self.values: dict[str, QLabel] = {}
        for label, value in self.rows:
            shown = QLabel(value)
            shown.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            shown.setObjectName(f"about-{label.replace(' ', '-')}")
            self.values[label] = shown
            form.addRow(f"{label.capitalize()}:", shown)
        layout.addLayout(form)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = buttons.addButton("Copy", QDialogButtonBox.ButtonRole.ActionRole)
        copy.setToolTip("Copy these lines to the clipboard (for a support request)")
        copy.clicked.connect(self.copy)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def text(self) -> str:
        return "\n".join(f"{label}: {value}" for label, value in self.rows)

    def copy(self) -> None:
        QApplication.clipboard().setText(self.text())
