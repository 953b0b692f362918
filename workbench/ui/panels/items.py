"""Items & BOM: the searchable item list (200,000 items stay responsive), and for the selected
item its indented multi-level BOM by revision and a coloured diff of two revisions.

The item list is loaded once off the UI thread into column arrays (:mod:`workbench.app.tables`);
filtering and sorting run on those arrays. The BOM side is :class:`workbench.ui.panels.bomview.BomView`.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from workbench.app.bom import load_item_table
from workbench.app.columns import ITEM_COLUMNS
from workbench.app.tables import TableData
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

    def reload(self) -> None:
        self.query(load_item_table, then=self._show)

    def _show(self, table: TableData) -> None:
        self.items.model.set_table(table)
        self.items.set_picker_values("make_buy", table.distinct("make_buy"))
        self.items.set_picker_values("planner", table.distinct("planner"))
        if self._pending_focus:
            self.focus_on(self._pending_focus)

    def _item_selected(self, code: Any) -> None:
        if code is not None:
            self.bom.show_item(str(code))

    def focus_on(self, target: Any) -> None:
        code = str(target)
        if self.items.model.total_rows == 0:
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


if __name__ == "__main__":
    from workbench.ui.panels.preview import preview

    preview(ItemsPanel)
