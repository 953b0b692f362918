"""Reusable widgets: a filterable, exportable table pane, headings, count cards.

:class:`TablePane` is what every panel shows a table with: a filter box (debounced, so typing
"bracket" runs one query, not seven), optional column pickers, a "12 of 200,000" count, and
Export to CSV / XLSX of exactly what is shown. It also keeps the desktop habits of a table:
Tab and Shift+Tab move focus out of it (the view does not swallow Tab), its column widths and
order can be saved and restored as plain data (:meth:`TablePane.layout_state`,
:meth:`TablePane.restore_layout`), and a table with column filters offers a "Views" menu once
the window gives it a place to keep them (:meth:`TablePane.enable_views`): the filter, column
filters and sort saved under a name and restored.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, QTimer, Signal
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

from workbench.app.exports import PackedFrame, export_table
from workbench.app.runner import Runner
from workbench.app.tables import Col, Query, TableData
from workbench.services.export import ExportInfo, export_frame
from workbench.services.tasks import Cancelled
from workbench.ui.errors import show_error
from workbench.ui.models import FrameTableModel
from workbench.ui.operations import Op, OpHandle, pool_of
from workbench.ui.settings import SavedView, TableLayout

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
        self.view.setTabKeyNavigation(False)  # Tab / Shift+Tab leave the table
        self.view.setObjectName(f"table-{title or 'rows'}")

        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText(placeholder)
        self.filter.setClearButtonEnabled(True)
        self.filter.setToolTip("Show only the rows that contain this text in any text column")
        self.filter.setMinimumWidth(140)  # column filters beside it never squeeze it to nothing
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
        self.export_button.setToolTip("Save the rows shown (filters and sort applied) as a CSV "
                                      "file or an Excel workbook")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        for label, suffix in (("Export to CSV…", ".csv"), ("Export to Excel (XLSX)…", ".xlsx")):
            action = QAction(label, menu)
            action.triggered.connect(lambda _c=False, s=suffix: self._ask_export(s))
            menu.addAction(action)
        self.export_button.setMenu(menu)

        top = QHBoxLayout()
        if title:
            title_label = heading(title, 11)
            title_label.setWordWrap(True)  # wraps rather than widening a narrow window
            top.addWidget(title_label, 1)
        top.addStretch(1)
        top.addWidget(self.count)
        #: the "Views" menu (saved filters and sort); shown once :meth:`enable_views` is called
        self.views_button = QToolButton(self)
        self.views_button.setText("Views")
        self.views_button.setObjectName("viewsButton")
        self.views_button.setToolTip("Save this table's filter, column filters and sort under a "
                                     "name, or bring a saved view back")
        self.views_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.views_button.setVisible(False)
        top.addWidget(self.views_button)
        top.addWidget(self.export_button)
        bar = QHBoxLayout()
        bar.addWidget(self.filter, 2)
        for name, label in pickers or []:
            combo = QComboBox(self)
            combo.setObjectName(f"picker-{name}")
            combo.addItem(f"All {label}", "")
            # a modest width whatever the values (a long supplier name must not widen the
            # window past 1280 px); the open list shows them in full
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(min(12, max(8, len(label) + 3)))
            combo.setToolTip(f"Show only the rows of one of the {label}")
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
        #: the runner exports go through (None: the holding panel's, see :meth:`runner`)
        self.export_runner: Runner | None = None
        #: picker values a restored view asked for before the picker had them
        self._wanted: dict[str, str] = {}
        self._views: dict[str, SavedView] | None = None
        self._views_saved: Callable[[], None] = lambda: None
        # headers readable before the first rows come (Qt's default 100 px clipped "Endangered
        # demand" of an empty table); the first rows fit the widths again
        self.fit_columns()

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
        current = self._wanted.pop(name, None) or current
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
        columns = self.model.columns
        for c in range(self.model.columnCount()):
            title = str(self.model.headerData(c, Qt.Orientation.Horizontal))
            width = header_metrics.horizontalAdvance(title) + 26  # sort arrow and padding
            for r in range(rows):
                text = self.model.data(self.model.index(r, c))
                width = max(width, metrics.horizontalAdvance(text or "") + 18)
            cap = columns[c].width or max_width if c < len(columns) else max_width
            if c < last:
                self.view.setColumnWidth(c, min(width, cap))
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

    # --- column layout (widths and order, restored next start) -------------------------------
    @property
    def arranged(self) -> bool:
        """Whether the columns have real widths yet (fitted to data, restored, or moved by the
        user): a table never shown has only Qt's defaults, which are not worth keeping."""
        header = self.view.horizontalHeader()
        moved = any(header.logicalIndex(v) != v for v in range(header.count()))
        return self._fitted or moved

    def layout_state(self) -> TableLayout:
        """The columns' visual order and widths by column name (plain data for the UI state)."""
        header = self.view.horizontalHeader()
        names = [c.name for c in self.model.columns]
        order = [names[header.logicalIndex(v)] for v in range(header.count())
                 if 0 <= header.logicalIndex(v) < len(names)]
        widths = {names[i]: header.sectionSize(i) for i in range(min(header.count(), len(names)))}
        return TableLayout(order=order, widths=widths)

    def restore_layout(self, layout: TableLayout) -> None:
        """Put columns back in the saved order and widths; unknown names are skipped, columns
        the saved layout does not know keep their place. Restored widths are not re-fitted."""
        header = self.view.horizontalHeader()
        names = [c.name for c in self.model.columns]
        for visual, name in enumerate(n for n in layout.order if n in names):
            current = header.visualIndex(names.index(name))
            if current != visual:
                header.moveSection(current, visual)
        widths = {n: w for n, w in layout.widths.items() if n in names and w > 0}
        for name, width in widths.items():
            header.resizeSection(names.index(name), width)
        if widths:
            self._fitted = True
            header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)

    # --- saved views ---------------------------------------------------------------------------
    def view_state(self) -> SavedView:
        """What the user narrowed the table to: filter text, column filters, sort."""
        query = self.model.query
        equals = {name: str(combo.currentData()) for name, combo in self.pickers.items()
                  if combo.currentData()}
        return SavedView(text=self.filter.text(), equals=equals, sort=query.sort,
                         descending=query.descending)

    def apply_view(self, view: SavedView) -> None:
        """Show the table as ``view`` says (a column filter value not loaded yet is chosen as
        soon as the picker gets its values)."""
        self._debounce.stop()
        self.filter.blockSignals(True)
        self.filter.setText(view.text)
        self.filter.blockSignals(False)
        for name, combo in self.pickers.items():
            wanted = view.equals.get(name, "")
            idx = combo.findData(wanted) if wanted else 0
            if idx < 0:
                self._wanted[name] = wanted
                idx = 0
            combo.blockSignals(True)
            combo.setCurrentIndex(idx)
            combo.blockSignals(False)
        names = [c.name for c in self.model.columns]
        sort = view.sort if view.sort in names else None
        order = Qt.SortOrder.DescendingOrder if view.descending else Qt.SortOrder.AscendingOrder
        header = self.view.horizontalHeader()
        header.blockSignals(True)
        header.setSortIndicator(names.index(sort) if sort else -1, order)
        header.blockSignals(False)
        equals = tuple(sorted((k, v) for k, v in view.equals.items() if k in self.pickers and v))
        self.model.set_query(Query(text=view.text, equals=equals, sort=sort,
                                   descending=view.descending if sort else False))

    def enable_views(self, views: dict[str, SavedView], saved: Callable[[], None]) -> None:
        """Offer the "Views" menu, keeping the views in ``views`` (the UI state's entry of this
        table, changed in place) and calling ``saved`` after each change."""
        self._views = views
        self._views_saved = saved
        menu = QMenu(self.views_button)
        menu.aboutToShow.connect(lambda: self._fill_views_menu(menu))
        self.views_button.setMenu(menu)
        self.views_button.setVisible(True)

    @property
    def saved_views(self) -> dict[str, SavedView]:
        return self._views if self._views is not None else {}

    def save_view(self, name: str) -> None:
        """Keep the current filters and sort as ``name`` (replacing one of the same name)."""
        if self._views is None or not name.strip():
            return
        self._views[name.strip()] = self.view_state()
        self._views_saved()

    def delete_view(self, name: str) -> None:
        if self._views is not None and self._views.pop(name, None) is not None:
            self._views_saved()

    def restore_view(self, name: str) -> bool:
        view = self.saved_views.get(name)
        if view is None:
            return False
        self.apply_view(view)
        return True

    def _fill_views_menu(self, menu: QMenu) -> None:
        menu.clear()
        menu.addAction("Save current view as…", self._ask_view_name)
        if self.saved_views:
            menu.addSeparator()
            remove = QMenu("Delete view", menu)
            for name in sorted(self.saved_views):
                restore = menu.addAction(name)
                restore.triggered.connect(partial(self.restore_view, name))
                delete = remove.addAction(name)
                delete.triggered.connect(partial(self.delete_view, name))
            menu.addMenu(remove)

    def _ask_view_name(self) -> None:
        from PySide6.QtWidgets import QInputDialog

        name, ok = QInputDialog.getText(self, "Save view", "Name of this view (its filter, "
                                        "column filters and sort):")
        if ok and name.strip():
            self.save_view(name)

    # --- export -----------------------------------------------------------------------------
    def ask_export(self) -> None:
        """Ask for a file name (CSV or XLSX by its ending) and export what is shown."""
        name, chosen = QFileDialog.getSaveFileName(
            self, "Export table", "export.csv", "CSV files (*.csv);;Excel workbooks (*.xlsx)")
        if name:
            suffix = ".xlsx" if name.lower().endswith(".xlsx") or "xlsx" in chosen else ".csv"
            if not name.lower().endswith(suffix):
                name += suffix
            self.export_to(Path(name))

    def _ask_export(self, suffix: str) -> None:
        kind = "CSV files (*.csv)" if suffix == ".csv" else "Excel workbooks (*.xlsx)"
        name, _ = QFileDialog.getSaveFileName(self, "Export table", f"export{suffix}", kind)
        if name:
            if not name.lower().endswith(suffix):
                name += suffix
            self.export_to(Path(name))

    def runner(self) -> Runner | None:
        """The runner of the panel holding this table (None: a table on its own)."""
        if self.export_runner is not None:
            return self.export_runner
        widget = self.parent()
        while widget is not None:
            ctx = getattr(widget, "ctx", None)
            if ctx is not None and getattr(ctx, "runner", None) is not None:
                return ctx.runner
            widget = widget.parent()
        return None

    def export_to(self, path: Path, on_done: Callable[[Path], None] | None = None) -> OpHandle[Path]:
        """Export the visible rows (filters applied) in the background: written by the reader
        process (:func:`workbench.app.exports.export_table`) with progress and Cancel, the rows
        packed column by column in a worker thread; without a runner, in a worker thread."""
        table, rows = self.model.visible_rows()  # the rows are built in the worker, not here
        filters = [f"text contains {self.filter.text()!r}"] if self.filter.text() else []
        filters += [f"{name} = {combo.currentData()}" for name, combo in self.pickers.items()
                    if combo.currentData()]
        info = ExportInfo(filters="; ".join(filters),
                          produced_by=f"Planner Workbench table {self.view.objectName()}")
        runner = self.runner()
        if runner is None:
            work: Callable[[Any], Path] = partial(_export_here, table, rows, path, info)
            pool = "read"
        else:
            work = partial(_export_in_reader, runner, table, rows, path, info)
            pool = pool_of(export_table)
        op = (
            Op(work, name="Export", key=f"export-{id(self)}", parent=self, pool=pool)
            .with_progress(f"Exporting {len(rows):,} rows…")
            .on_failure(lambda exc: None if isinstance(exc, Cancelled)
                        else show_error(self, "Export failed", exc))
        )
        if on_done:
            op.on_success(on_done)
        self._export_handle = op.run()
        return self._export_handle


def _export_here(table: TableData, rows: np.ndarray, path: Path, info: ExportInfo,
                 state: Any) -> Path:
    return export_frame(table.frame(rows), path, state, info=info)


def _export_in_reader(runner: Runner, table: TableData, rows: np.ndarray, path: Path,
                      info: ExportInfo, state: Any) -> Path:
    packed = PackedFrame.of_table(table, rows)  # in this worker thread, a column at a time
    try:
        return runner.run(export_table, packed, str(path), info=info, state=state)
    finally:
        packed.discard()


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


def describe_headers(view: QAbstractItemView) -> None:
    """Give the column headers of a view without column specs (a tree, a QTableWidget) the
    tooltips :func:`workbench.app.columns.describe_title` knows; headers that already have one
    (a :class:`FrameTableModel`'s) are left alone."""
    from workbench.app.columns import describe_title

    model = view.model()
    if model is None or isinstance(model, FrameTableModel) or isinstance(view, QHeaderView):
        return
    horizontal = Qt.Orientation.Horizontal
    for section in range(model.columnCount(QModelIndex())):
        if model.headerData(section, horizontal, Qt.ItemDataRole.ToolTipRole):
            continue
        tip = describe_title(str(model.headerData(section, horizontal) or ""))
        if tip:
            model.setHeaderData(section, horizontal, tip, Qt.ItemDataRole.ToolTipRole)


def button(text: str, slot: Callable[[], None], *, tip: str = "", shortcut: str = "") -> QPushButton:
    b = QPushButton(text)
    b.clicked.connect(lambda _c=False: slot())
    if tip:
        b.setToolTip(tip)
    if shortcut:
        b.setShortcut(shortcut)
    return b
