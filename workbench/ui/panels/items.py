"""Items & BOM: the searchable item list (200,000 items stay responsive), and for the selected
item its indented multi-level BOM by revision and a coloured diff of two revisions.

The item list arrives in chunks by item code (:func:`workbench.app.item_list.item_chunk`, a
quick read on a worker thread of this process: it does not wait for the reader process to
start): the first 2,000 rows show at once; beside them the whole list is read in one pass
(:func:`workbench.app.item_list.item_rest`) and its later rows are appended in slices of 50,000
rows, one per turn of the event loop, each copied into arrays allocated once
(:class:`workbench.app.tables.TableFill`) and appended to the model while the user scrolls,
filters or sorts (:meth:`workbench.ui.models.FrameTableModel.extend_table`). Filtering and
sorting run on those arrays. While the cache is unchanged since the list was last read, both
answers come from the list kept beside the cache (:func:`workbench.cache.itemlist.read_item_list`,
already in code order: ~0.02 s of CPU instead of ~0.75 s on the large demo). The BOM side is
:class:`workbench.ui.panels.bomview.BomView`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from workbench.app.columns import ITEM_COLUMNS
from workbench.app.item_list import (
    CHUNK_ROWS,
    FIRST_CHUNK_ROWS,
    ItemChunk,
    item_chunk,
    item_rest,
)
from workbench.app.tables import TableData, TableFill
from workbench.ui.panels.base import Panel, PanelContext
from workbench.ui.panels.bomview import BomView
from workbench.ui.widgets import TablePane, heading


class ItemsPanel(Panel):
    name = "items"
    title = "Items & BOM"

    def __init__(self, ctx: PanelContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.items = TablePane(
            ITEM_COLUMNS,
            title="Items",
            placeholder="Search item, description, planner, buyer, supplier…",
            pickers=[("make_buy", "make/buy"), ("planner", "planners")],
        )
        self.items.current_key_changed.connect(self._item_selected)
        self.items.view.sortByColumn(0, Qt.SortOrder.AscendingOrder)  # by item code
        self.bom = BomView(ctx, self)
        self.bom.navigate.connect(self.navigate)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.items)
        split.addWidget(self.bom)
        split.setSizes([640, 560])
        self.split = split
        layout = QVBoxLayout(self)
        layout.addWidget(heading(self.title, 14))
        layout.addWidget(split, 1)
        self._pending_focus: str | None = None
        self._fill: TableFill | None = None
        self._picks: dict[str, set[str]] = {}
        #: True while chunks of the list are still arriving
        self.filling = False
        #: counts reloads: answers and slices of an older list are dropped
        self._generation = 0
        #: the first chunk's last code (None: it held the whole list)
        self._after: str | None = None
        #: the whole list, when it arrived before the first chunk
        self._rest: ItemChunk | None = None

    def reload(self) -> None:
        self.filling = True
        self._generation += 1
        generation = self._generation
        stashed, self._fill, self._after, self._rest = self._rest, None, None, None
        # the first rows by the code index and the whole list in one pass, side by side on the
        # two "read" threads: the pass's SQLite scan runs (without the GIL) while the first
        # rows are read and shown; its rows after the first chunk's are appended after them
        self.query(item_chunk, None, FIRST_CHUNK_ROWS, key="item_list",
                   then=lambda chunk: self._first_chunk(chunk, generation))
        self.query(item_rest, None, key="item_list_rest",
                   then=lambda chunk: self._whole(chunk, generation))
        if stashed is not None:
            self._finished_loading()  # an older list's rest, never shown

    def _first_chunk(self, chunk: ItemChunk, generation: int) -> None:
        if generation != self._generation:
            return
        self._fill = TableFill(chunk.table, chunk.total or len(chunk.table), chunk.widths)
        self._picks = {name: set(values) for name, values in chunk.distinct.items()}
        self._after = chunk.after
        self.items.model.set_table(self._fill.table())
        self._show_picks()  # the first rows' values at once: a filter can be set while it fills
        if self._rest is not None:  # the whole list came first: its rest follows now
            rest, self._rest = self._rest, None
            self._more(rest, generation)

    def _whole(self, chunk: ItemChunk, generation: int) -> None:
        if generation != self._generation:
            return
        self._loading += 1  # still loading (busy, no ``loaded``) until its rows are in
        if self._fill is None:
            self._rest = chunk  # appended once the first rows are on show
            return
        self._more(chunk, generation)

    def _more(self, chunk: ItemChunk, generation: int) -> None:
        """The rows after the first chunk's last code: appended in slices of
        :data:`CHUNK_ROWS`, one per turn of the event loop, so the view repaints and takes
        input between them."""
        for name, values in chunk.distinct.items():
            self._picks.setdefault(name, set()).update(values)
        table, step = chunk.table, max(1, CHUNK_ROWS)
        start = len(table) if self._after is None else \
            int(np.searchsorted(table.arrays["code"], self._after, side="right"))
        slices = [_rows(table, at, at + step) for at in range(start, len(table), step)]
        self._append(slices, generation)

    def _append(self, slices: list[TableData], generation: int) -> None:
        if generation != self._generation or self._fill is None:
            self._finished_loading()  # a reload started another list
            return
        if slices:
            self.items.model.extend_table(self._fill.add(slices.pop(0)))
        if slices:
            QTimer.singleShot(0, lambda: self._append(slices, generation))
            return
        self._finish()
        self._finished_loading()

    def _finish(self) -> None:
        """Every row is in: the pickers get the values, a pending focus is shown."""
        self.filling = False
        self._show_picks()
        if self._pending_focus:
            self.focus_on(self._pending_focus)

    def _show_picks(self) -> None:
        """The pickers offer the values of the rows read so far (the current choice kept)."""
        for name in ("make_buy", "planner"):
            self.items.set_picker_values(name, sorted(self._picks.get(name, ())))

    def _item_selected(self, code: Any) -> None:
        if code is not None:
            self.bom.show_item(str(code))

    def focus_on(self, target: Any) -> None:
        code = str(target)
        if self.items.model.total_rows == 0 or self.filling:
            self._pending_focus = code
            return
        self._pending_focus = None
        if not self.items.select_key(code):
            self.items.filter.setText(code)
            self.items.model.set_filter_text(code)
            self.items.select_key(code)
        self.bom.show_item(code)

    def save_state(self) -> dict[str, Any]:
        return {"filter": self.items.filter.text(), "item": self.items.current_key()}

    def restore_state(self, state: dict[str, Any]) -> None:
        if state.get("filter"):
            self.items.filter.setText(str(state["filter"]))
        if state.get("item"):
            self._pending_focus = str(state["item"])

    def splitters(self) -> dict[str, Any]:
        return {"items": self.split, **self.bom.splitters()}


def _rows(table: TableData, start: int, end: int) -> TableData:
    """Rows ``start:end`` of ``table`` (views of its arrays)."""
    return TableData(table.columns, table.keys[start:end],
                     {name: values[start:end] for name, values in table.arrays.items()},
                     None, search=table.search)


if __name__ == "__main__":
    from workbench.ui.panels.preview import preview

    preview(ItemsPanel)
