"""Reusable widgets: a filterable, exportable table pane, headings, count cards.

:class:`TablePane` is what every panel shows a table with: a filter box (debounced, so typing
"bracket" runs one query, not seven), optional column pickers, a "12 of 200,000" count, and
Export to CSV / XLSX of exactly what is shown.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelectionModel, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from workbench.app.tables import Col
from workbench.services.export import ExportInfo, export_frame
from workbench.ui.errors import show_error
from workbench.ui.models import FrameTableModel
from workbench.ui.operations import Op, OpHandle

#: Milliseconds of quiet typing before a filter query runs.
FILTER_DEBOUNCE_MS = 250


def heading(text: str, size: int = 12) -> QLabel:
    label = QLabel(text)
    font = label.font()
    font.setPointSize(size)
    font.setBold(True)
    label.setFont(font)
    return label


def hint(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet("color: #555;")
    return label


class TablePane(QWidget):
    """A table with filter box, column pickers, row count and export; emits the current key."""

    current_key_changed = Signal(object)
    activated_key = Signal(object)

    def __init__(
        self,
        columns: list[Col],
        *,
        title: str = "",
        placeholder: str = "Filter…",
        pickers: list[tuple[str, str]] | None = None,
        multi_select: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = FrameTableModel(columns, self)
        self.view = QTableView(self)
        self.view.setModel(self.model)
        # no sort indicator before sorting is enabled: enabling sorts by the indicator at once
        self.view.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.view.setSortingEnabled(True)
        self.view.horizontalHeader().setSortIndicatorShown(True)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        mode = (
            QAbstractItemView.SelectionMode.ExtendedSelection
            if multi_select
            else QAbstractItemView.SelectionMode.SingleSelection
        )
        self.view.setSelectionMode(mode)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.view.horizontalHeader().setStretchLastSection(True)
        self.view.setWordWrap(False)
        self.view.setObjectName(f"table-{title or 'rows'}")

        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText(placeholder)
        self.filter.setClearButtonEnabled(True)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(FILTER_DEBOUNCE_MS)
        self._debounce.timeout.connect(self._run_filter)
        self.filter.textChanged.connect(lambda _t: self._debounce.start())
        self.filter.returnPressed.connect(self._run_filter)

        self.pickers: dict[str, QComboBox] = {}
        self.count = QLabel(self)
        self.count.setObjectName("rowCount")
        self.export_button = QToolButton(self)
        self.export_button.setText("Export")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        for label, suffix in (("Export to CSV…", ".csv"), ("Export to Excel (XLSX)…", ".xlsx")):
            action = QAction(label, menu)
            action.triggered.connect(lambda _c=False, s=suffix: self._ask_export(s))
            menu.addAction(action)
        self.export_button.setMenu(menu)

        top = QHBoxLayout()
        if title:
            top.addWidget(heading(title, 11))
        top.addStretch(1)
        top.addWidget(self.count)
        top.addWidget(self.export_button)
        bar = QHBoxLayout()
        bar.addWidget(self.filter, 2)
        for name, label in pickers or []:
            combo = QComboBox(self)
            combo.setObjectName(f"picker-{name}")
            combo.addItem(f"All {label}", "")
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            combo.currentIndexChanged.connect(
                lambda _i, n=name, c=combo: self.model.set_equals(n, c.currentData() or "")
            )
            self.pickers[name] = combo
            bar.addWidget(combo)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)

        self.model.query_applied.connect(self._after_query)
        self.model.modelReset.connect(self._update_count)
        self.view.selectionModel().currentRowChanged.connect(self._current_changed)
        self.view.doubleClicked.connect(lambda idx: self.activated_key.emit(self.model.key_at(idx.row())))
        self._fitted = False
        self._export_handle: OpHandle[Any] | None = None

    # --- filtering --------------------------------------------------------------------------
    def _run_filter(self) -> None:
        self._debounce.stop()
        self.model.set_filter_text(self.filter.text())

    def set_picker_values(self, name: str, values: list[str]) -> None:
        combo = self.pickers[name]
        current = combo.currentData()
        combo.blockSignals(True)
        while combo.count() > 1:
            combo.removeItem(1)
        for v in values:
            combo.addItem(v, v)
        idx = combo.findData(current) if current else 0
        combo.setCurrentIndex(max(idx, 0))
        combo.blockSignals(False)

    def _after_query(self) -> None:
        self._update_count()
        if not self._fitted and self.model.rowCount():
            self.fit_columns()
            self._fitted = True
        self._current_changed()

    def _update_count(self) -> None:
        shown, total = self.model.rowCount(), self.model.total_rows
        noun = "row" if total == 1 else "rows"
        self.count.setText(f"{shown:,} {noun}" if shown == total else f"{shown:,} of {total:,}")

    def fit_columns(self, sample: int = 120, max_width: int = 420) -> None:
        """Widths from the header and a sample of rows: ResizeToContents would scan every row."""
        metrics = self.view.fontMetrics()
        header = self.view.horizontalHeader()
        bold = QFont(header.font())
        bold.setBold(True)
        from PySide6.QtGui import QFontMetrics

        header_metrics = QFontMetrics(bold)
        rows = min(sample, self.model.rowCount())
        last = self.model.columnCount() - 1
        for c in range(self.model.columnCount()):
            title = str(self.model.headerData(c, Qt.Orientation.Horizontal))
            width = header_metrics.horizontalAdvance(title) + 34  # sort arrow and padding
            for r in range(rows):
                text = self.model.data(self.model.index(r, c))
                width = max(width, metrics.horizontalAdvance(text or "") + 18)
            if c < last:
                self.view.setColumnWidth(c, min(width, max_width))
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)

    # --- selection --------------------------------------------------------------------------
    def _current_changed(self, *_args: Any) -> None:
        self.current_key_changed.emit(self.current_key())

    def current_key(self) -> Any:
        idx = self.view.currentIndex()
        return self.model.key_at(idx.row()) if idx.isValid() and idx.row() < self.model.rowCount() else None

    def selected_keys(self) -> list[Any]:
        rows = sorted({i.row() for i in self.view.selectionModel().selectedRows()})
        return [self.model.key_at(r) for r in rows]

    def select_key(self, key: Any) -> bool:
        row = self.model.row_of(key)
        if row is None:
            return False
        self.select_row(row)
        return True

    def select_row(self, row: int) -> None:
        if not 0 <= row < self.model.rowCount():
            return
        index = self.model.index(row, 0)
        flags = (
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows
        )
        self.view.selectionModel().setCurrentIndex(index, flags)
        self.view.scrollTo(index)

    # --- export -----------------------------------------------------------------------------
    def _ask_export(self, suffix: str) -> None:
        kind = "CSV files (*.csv)" if suffix == ".csv" else "Excel workbooks (*.xlsx)"
        name, _ = QFileDialog.getSaveFileName(self, "Export table", f"export{suffix}", kind)
        if name:
            if not name.lower().endswith(suffix):
                name += suffix
            self.export_to(Path(name))

    def export_to(self, path: Path, on_done: Callable[[Path], None] | None = None) -> OpHandle[Path]:
        """Export the visible rows (filters applied) in the background."""
        frame = self.model.visible_frame()
        filters = [f"text contains {self.filter.text()!r}"] if self.filter.text() else []
        filters += [f"{name} = {combo.currentData()}" for name, combo in self.pickers.items()
                    if combo.currentData()]
        info = ExportInfo(filters="; ".join(filters),
                          produced_by=f"Planner Workbench table {self.view.objectName()}")
        op = (
            Op(lambda state: export_frame(frame, path, state, info=info), name="Export",
               parent=self)
            .with_progress(f"Exporting {len(frame):,} rows…")
            .on_failure(lambda exc: show_error(self, "Export failed", exc))
        )
        if on_done:
            op.on_success(on_done)
        self._export_handle = op.run()
        return self._export_handle


class CountCard(QFrame):
    """A big number with a caption, clickable to the panel that explains it."""

    clicked = Signal()

    def __init__(self, caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setObjectName("countCard")
        self.setStyleSheet(
            "#countCard { background: #ffffff; border: 1px solid #c9d2dc; border-radius: 6px; }"
            "#countCard:hover { border-color: #2f6fb3; }"
        )
        self.value = QLabel("…", self)
        font = self.value.font()
        font.setPointSize(22)
        font.setBold(True)
        self.value.setFont(font)
        self.caption = QLabel(caption, self)
        self.caption.setWordWrap(True)
        self.detail = QLabel("", self)
        self.detail.setStyleSheet("color: #555;")
        self.detail.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.value)
        layout.addWidget(self.caption)
        layout.addWidget(self.detail)
        layout.addStretch(1)

    def set_value(self, value: Any, detail: str = "", tone: str = "") -> None:
        self.value.setText(f"{value:,}" if isinstance(value, int) else str(value))
        colour = {"bad": "#b3261e", "warn": "#a15c00", "good": "#1e6b2e"}.get(tone, "#1a1a1a")
        self.value.setStyleSheet(f"color: {colour};")
        self.detail.setText(detail)

    def mouseReleaseEvent(self, event: Any) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit()
        super().mouseReleaseEvent(event)


def button(text: str, slot: Callable[[], None], *, tip: str = "", shortcut: str = "") -> QPushButton:
    b = QPushButton(text)
    b.clicked.connect(lambda _c=False: slot())
    if tip:
        b.setToolTip(tip)
    if shortcut:
        b.setShortcut(shortcut)
    return b
