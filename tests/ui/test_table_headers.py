"""An empty table's headers are readable: before its first rows a table's columns are as wide as
their titles (Qt's default 100 px clipped the Exceptions panel's empty "Endangered demand"
column to "dangered dema" at 1280x720)."""

from __future__ import annotations

from PySide6.QtGui import QFont, QFontMetrics

from workbench.ui.panels.exceptions import ENDANGER_COLUMNS
from workbench.ui.widgets import TablePane


def test_an_empty_tables_columns_fit_their_titles(qtbot) -> None:  # type: ignore[no-untyped-def]
    pane = TablePane(ENDANGER_COLUMNS, title="Endangered demands")
    qtbot.addWidget(pane)
    pane.resize(560, 200)
    pane.show()
    assert pane.model.rowCount() == 0
    bold = QFont(pane.view.horizontalHeader().font())
    bold.setBold(True)
    metrics = QFontMetrics(bold)
    header = pane.view.horizontalHeader()
    for c, col in enumerate(ENDANGER_COLUMNS[:-1]):  # the last one stretches
        assert header.sectionSize(c) >= metrics.horizontalAdvance(col.title), col.title
