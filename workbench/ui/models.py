"""The Qt table model every table uses: row keys + column arrays, filtered and sorted in numpy.

The model holds a :class:`TableData` (built off the UI thread) and ``rows``, the positions of the
rows on show. ``data()`` only indexes arrays, so scrolling 200,000 rows costs nothing; a query
(filter text, column filters, header-click sort) runs on the UI thread for small tables and as a
keyed background op for large ones, so a new keystroke supersedes the previous query instead of
queueing behind it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor

from workbench.app.columns import describe
from workbench.app.tables import Col, Query, TableData, format_value
from workbench.ui import format as fmt
from workbench.ui.format import readable
from workbench.ui.operations import Op

if TYPE_CHECKING:
    import pandas as pd

#: Tables with more rows than this are queried in the background.
BACKGROUND_QUERY_ROWS = 20_000

#: Row colours by tone: light backgrounds that keep black text readable.
TONE_COLOURS = {
    "added": "#d9f2d9",
    "removed": "#f8d7d7",
    "changed": "#fff0c2",
    "short": "#f8d7d7",
    "late": "#fde2c8",
    "conflict": "#f8d7d7",
    "failed": "#f8d7d7",
    "queued": "#e4ecf7",
    "ok": "#d9f2d9",
}

Index = QModelIndex | QPersistentModelIndex


def _formatter(table: TableData, col: Col) -> Callable[[int], str]:
    """The text of row ``i`` of one column, bound once per table (``data`` is called per cell),
    as a planner reads it (:mod:`workbench.ui.format`): raw values blank, local times, names
    beside codes, units beside quantities."""
    arr = table.arrays[col.name]
    if col.names:
        kind = col.names
        return lambda i: fmt.names().label(kind, readable(str(arr[i])))
    if col.kind == "text":
        return lambda i: readable(str(arr[i]))
    units = table.arrays.get(col.unit_of) if col.unit_of else None
    if units is not None:
        return lambda i: fmt.quantity_with_unit(format_value(arr[i], col.kind),
                                                fmt.names().unit(str(units[i])))
    kind = col.kind
    return lambda i: format_value(arr[i], kind)


class FrameTableModel(QAbstractTableModel):
    """A read-only table over :class:`TableData`; ``query_applied`` fires after each query."""

    query_applied = Signal()

    def __init__(self, columns: list[Col], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._table = TableData.empty(columns)
        self._rows = np.arange(0)
        self._query = Query()
        self._cell: list[Callable[[int], str]] = []
        self._rebuild_formatters()
        self.pending = False

    # --- data -------------------------------------------------------------------------------
    @property
    def table(self) -> TableData:
        return self._table

    @property
    def columns(self) -> list[Col]:
        return self._table.columns

    @property
    def query(self) -> Query:
        return self._query

    @property
    def total_rows(self) -> int:
        return len(self._table)

    def set_table(self, table: TableData) -> None:
        """Show new data, keeping the current filter and sort."""
        self._table = table
        self._rebuild_formatters()
        self._apply(self._query, table.query(self._query) if len(table) <= BACKGROUND_QUERY_ROWS else None)

    def extend_table(self, table: TableData) -> None:
        """Show ``table``, the rows shown so far followed by more (a table filling in chunks,
        e.g. :class:`workbench.app.tables.TableFill`). With no filter set and the new rows in
        the sort's order, they are inserted at the end — the view keeps its scroll position
        and selection, and nothing is sorted again; otherwise the query runs again."""
        old = len(self._table)
        new = len(table)
        shown_in_order = not self.pending and np.array_equal(self._rows, np.arange(old))
        rows = self._appended_rows(table, old) if shown_in_order else None
        self._table = table
        self._rebuild_formatters()
        if rows is None:
            self._apply(self._query, table.query(self._query) if new <= BACKGROUND_QUERY_ROWS
                        else None)
            return
        if new > old:
            self.beginInsertRows(QModelIndex(), old, new - 1)
            self._rows = np.concatenate([self._rows, rows])
            self.endInsertRows()
        self.query_applied.emit()

    def _appended_rows(self, table: TableData, old: int) -> np.ndarray | None:
        """Positions ``old..`` of ``table`` when, after the rows on show (all rows before
        ``old``, in their order), they keep the current query's order (None: the query must
        run again)."""
        q = self._query
        if q.text.strip() or any(v for _, v in q.equals):
            return None
        added = np.arange(old, len(table))
        if q.sort is None or not len(added):
            return added
        values = table.arrays.get(q.sort)
        if values is None or q.descending or values.dtype.kind not in "UO":
            return None
        tail = values[max(old - 1, 0):]
        in_order = bool(np.all(tail[1:] >= tail[:-1])) and not bool(np.any(tail == ""))
        return added if in_order else None

    def set_frame(self, frame: pd.DataFrame, key: str | list[str], **kw: Any) -> None:
        """Convenience for small tables built on the UI thread."""
        self.set_table(TableData.from_frame(frame, self.columns, key, **kw))

    def refresh_text(self) -> None:
        """Cells read again (the names and units of :mod:`workbench.ui.format` arrived)."""
        if self.rowCount() and self.columnCount():
            self.dataChanged.emit(self.index(0, 0),
                                  self.index(self.rowCount() - 1, self.columnCount() - 1))

    def _rebuild_formatters(self) -> None:
        self._cell = [_formatter(self._table, col) for col in self._table.columns]

    # --- queries ----------------------------------------------------------------------------
    def set_query(self, query: Query) -> None:
        if query == self._query:
            return  # already shown, or already being computed
        table = self._table
        if len(table) <= BACKGROUND_QUERY_ROWS:
            self._apply(query, table.query(query))
            return
        self._apply(query, None)

    def _apply(self, query: Query, rows: np.ndarray | None) -> None:
        self._query = query
        if rows is not None:
            self._set_rows(rows)
            return
        self.pending = True
        table = self._table
        (
            Op(lambda _state: table.query(query), name="filter", key=f"query-{id(self)}", parent=self)
            .on_success(lambda rows: self._landed(table, rows))
            .run()
        )

    def _landed(self, table: TableData, rows: np.ndarray) -> None:
        if table is self._table:  # data replaced meanwhile: its own query follows
            self._set_rows(rows)

    def _set_rows(self, rows: np.ndarray) -> None:
        self.beginResetModel()
        self._rows = rows
        self.pending = False
        self.endResetModel()
        self.query_applied.emit()

    def set_filter_text(self, text: str) -> None:
        self.set_query(self._query.with_(text=text))

    def set_equals(self, name: str, value: str) -> None:
        equals = dict(self._query.equals)
        equals[name] = value
        self.set_query(self._query.with_(equals=tuple(sorted((k, v) for k, v in equals.items() if v))))

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if 0 <= column < len(self.columns):
            desc = order == Qt.SortOrder.DescendingOrder
            self.set_query(self._query.with_(sort=self.columns[column].name, descending=desc))

    # --- rows and keys ----------------------------------------------------------------------
    def key_at(self, row: int) -> Any:
        return self._table.keys[self._rows[row]]

    def row_of(self, key: Any) -> int | None:
        position = self._table.position_of(key)
        if position is None or not len(self._rows):
            return None
        hits = np.flatnonzero(self._rows == position)
        return int(hits[0]) if len(hits) else None

    def value(self, row: int, name: str) -> Any:
        return self._table.arrays[name][self._rows[row]]

    def visible_keys(self) -> list[Any]:
        return list(self._table.keys[self._rows])

    def visible_frame(self) -> pd.DataFrame:
        """What the user sees, filters and sort applied, as a frame (built here, on the calling
        thread: an export takes :meth:`visible_rows` and builds it in its worker)."""
        return self._table.frame(self._rows)

    def visible_rows(self) -> tuple[TableData, np.ndarray]:
        """What the user sees as the table and the positions of its shown rows, in display order:
        a copy of the positions only (the table's arrays are not written once shown), so an
        export takes it on the UI thread at once and builds the rows in its worker."""
        return self._table, self._rows.copy()

    def tone_at(self, row: int) -> str:
        tones = self._table.tones
        return "" if tones is None else str(tones[self._rows[row]])

    # --- QAbstractTableModel ----------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._cell[index.column()](self._rows[index.row()])
        if role == Qt.ItemDataRole.ToolTipRole and not self.columns[index.column()].numeric:
            # a long text elided in a narrow column reads whole on hover
            text = self._cell[index.column()](self._rows[index.row()])
            return text if len(text) > 12 else None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if self.columns[index.column()].numeric:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.BackgroundRole and self._table.tones is not None:
            colour = TONE_COLOURS.get(self.tone_at(index.row()))
            return QBrush(QColor(colour)) if colour else None
        if role == Qt.ItemDataRole.ForegroundRole and self._table.tones is not None:
            return QBrush(QColor("#1a1a1a")) if self.tone_at(index.row()) in TONE_COLOURS else None
        if role == Qt.ItemDataRole.UserRole:
            return self.key_at(index.row())
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        col = self.columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return col.title
        if role == Qt.ItemDataRole.ToolTipRole:  # what the column means, in the planner's words
            return describe(col) or None
        if role == Qt.ItemDataRole.TextAlignmentRole and col.numeric:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None
