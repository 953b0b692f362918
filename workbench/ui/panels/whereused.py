"""Where-used & Impact panel (being built)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from workbench.ui.panels.base import Panel, PanelContext
from workbench.ui.widgets import heading


class WhereUsedPanel(Panel):
    name = "whereused"
    title = "Where-used & Impact"

    def __init__(self, ctx: PanelContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        layout = QVBoxLayout(self)
        layout.addWidget(heading(self.title, 14))
        layout.addWidget(QLabel("Coming soon."))
        layout.addStretch(1)


if __name__ == "__main__":
    from workbench.ui.panels.preview import preview

    preview(WhereUsedPanel)
