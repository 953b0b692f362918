"""The BOM side of Items & BOM: the selected item's indented multi-level BOM by revision, and a
diff of two revisions with added / removed / changed rows coloured.

Level 1 shows the lines of the chosen revision; below it every component shows the revision in
force on the planning day (:func:`workbench.analysis.bom.revisions_at`). Deeper levels are read
when a row is expanded, so a 10-level BOM with shared sub-assemblies never builds a huge tree up
front. The diff is :func:`workbench.analysis.revisions.revision_diff`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import pandas as pd
import shiboken6
from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QTabWidget,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from workbench.app.bom import bom_lines, diff_frame, item_revisions
from workbench.app.columns import DIFF_COLUMNS
from workbench.ui.operations import Op
from workbench.ui.panels.base import PanelContext
from workbench.ui.widgets import TablePane, heading

if TYPE_CHECKING:
    from workbench.app.bom import Revisions

T = TypeVar("T")

TREE_HEADERS = ["Component", "Description", "Qty per", "Unit", "Scrap %", "Revision", "Position"]
ROLE_CODE = Qt.ItemDataRole.UserRole + 1
ROLE_LOADED = Qt.ItemDataRole.UserRole + 2


class BomView(QWidget):
    navigate = Signal(str, object)

    def __init__(self, ctx: PanelContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.item: str | None = None
        self.title = heading("Bill of materials", 11)
        self.revision = QComboBox()
        self.revision.setObjectName("revisionPicker")
        self.revision.currentIndexChanged.connect(self._revision_changed)
        self.compare = QComboBox()
        self.compare.setObjectName("comparePicker")
        self.compare.currentIndexChanged.connect(self._compare_changed)
        self.note = QLabel("Select an item to see its bill of materials.")
        self.note.setWordWrap(True)

        self.tree_model = QStandardItemModel(0, len(TREE_HEADERS), self)
        self.tree_model.setHorizontalHeaderLabels(TREE_HEADERS)
        self.tree = QTreeView()
        self.tree.setObjectName("bomTree")
        self.tree.setModel(self.tree_model)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.expanded.connect(self._expanded)
        self.tree.doubleClicked.connect(self._open_where_used)
        self.diff = TablePane(DIFF_COLUMNS, title="", placeholder="Filter the differences…")

        pickers = QHBoxLayout()
        pickers.addWidget(QLabel("Revision"))
        pickers.addWidget(self.revision, 1)
        pickers.addWidget(QLabel("compare with"))
        pickers.addWidget(self.compare, 1)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.tree, "Multi-level BOM")
        self.tabs.addTab(self.diff, "Revision diff")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addLayout(pickers)
        layout.addWidget(self.note)
        layout.addWidget(self.tabs, 1)
        self._revisions: Revisions | None = None

    def _run(self, fn: Callable[..., T], *args: Any, then: Callable[[T], None], key: str) -> None:
        """The planning query ``fn(session, *args)`` through the runner (a new one of the same
        ``key`` supersedes the previous); ``then`` gets its answer in the UI thread."""
        runner = self.ctx.runner
        (Op(lambda state: runner.run(fn, *args, state=state), name=f"BOM: {key}",
            key=f"bom-{key}-{id(self)}", parent=self, pool="planner").on_success(then).run())

    # --- item and revisions -----------------------------------------------------------------
    def show_item(self, code: str) -> None:
        self.item = code
        self.title.setText(f"Bill of materials of {code}")
        self._run(item_revisions, code, then=self._show_revisions, key="revisions")

    def _show_revisions(self, revs: Revisions) -> None:
        if revs.item != self.item:
            return
        self._revisions = revs
        for combo in (self.revision, self.compare):
            combo.blockSignals(True)
            combo.clear()
        for r in revs.table.itertuples():
            eff = "" if pd.isna(r.effective_from) else f" from {pd.Timestamp(r.effective_from).date()}"
            label = f"{r.revision} — {r.status}{eff}" + (" (in force)" if r.revision == revs.in_force else "")
            self.revision.addItem(label, r.revision)
            self.compare.addItem(label, r.revision)
        for combo in (self.revision, self.compare):
            combo.blockSignals(False)
        self.tree_model.removeRows(0, self.tree_model.rowCount())
        self.diff.model.set_frame(pd.DataFrame(columns=[c.name for c in DIFF_COLUMNS]), "component")
        if not len(revs.table):
            self.note.setText(f"{revs.item} has no bill of materials (a bought item).")
            return
        self.note.setText(f"{len(revs.table)} revision(s). Double-click a component to see "
                          "where it is used.")
        current = revs.in_force or str(revs.table["revision"].iloc[-1])
        self.revision.setCurrentIndex(max(self.revision.findData(current), 0))
        self._revision_changed()
        other = [r for r in revs.table["revision"] if r != current]
        self.compare.setCurrentIndex(self.compare.findData(other[-1]) if other else 0)

    def _revision_changed(self, *_: Any) -> None:
        item, rev = self.item, self.revision.currentData()
        if item is None or rev is None:
            return
        self.tree_model.removeRows(0, self.tree_model.rowCount())
        self._run(bom_lines, item, rev,
                  then=lambda lines: self._fill(self.tree_model.invisibleRootItem(), lines),
                  key="tree")
        self._compare_changed()

    def _compare_changed(self, *_: Any) -> None:
        item, a, b = self.item, self.revision.currentData(), self.compare.currentData()
        if item is None or a is None or b is None:
            return
        self.diff.model.set_frame(pd.DataFrame(columns=[c.name for c in DIFF_COLUMNS]), "component")
        self.tabs.setTabText(1, f"Revision diff {a} → {b}")
        self._run(diff_frame, item, a, b,
                  then=lambda d: self.diff.model.set_frame(d, "component", tone="tone"),
                  key="diff")

    # --- tree -------------------------------------------------------------------------------
    def _fill(self, parent: QStandardItem, lines: pd.DataFrame) -> None:
        if not shiboken6.isValid(parent) or (parent.model() is not self.tree_model and \
                parent is not self.tree_model.invisibleRootItem()):
            return  # the tree was rebuilt while these lines were read
        parent.removeRows(0, parent.rowCount())
        for r in lines.itertuples():
            cells = [QStandardItem(str(r.component)), QStandardItem(str(r.description)),
                     QStandardItem(f"{r.quantity_per:,.6g}"),
                     QStandardItem(str(r.stock_uom or r.orig_uom or "")),
                     QStandardItem(f"{r.scrap_pct:g}" if r.scrap_pct else ""),
                     QStandardItem(str(r.revision)), QStandardItem(str(r.position))]
            for c in cells:
                c.setEditable(False)
            for c in (cells[2], cells[4], cells[6]):
                c.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            cells[0].setData(str(r.component), ROLE_CODE)
            if r.has_bom:
                placeholder = QStandardItem("…")
                placeholder.setEditable(False)
                cells[0].appendRow(placeholder)
                cells[0].setData(False, ROLE_LOADED)
            parent.appendRow(cells)
        parent.setData(True, ROLE_LOADED)
        if parent is self.tree_model.invisibleRootItem():
            for column, width in enumerate((150, 270, 70, 45, 60, 65, 60)):
                self.tree.setColumnWidth(column, width)
            first = self.tree_model.index(0, 0)
            if first.isValid():
                self.tree.expand(first)

    def _expanded(self, index: QModelIndex) -> None:
        item = self.tree_model.itemFromIndex(index.siblingAtColumn(0))
        if item is None or item.data(ROLE_LOADED) is not False:
            return
        code = item.data(ROLE_CODE)
        item.setData(None, ROLE_LOADED)  # loading
        self._run(bom_lines, code, None, then=lambda lines: self._fill(item, lines),
                  key=f"expand-{code}")

    def _open_where_used(self, index: QModelIndex) -> None:
        item = self.tree_model.itemFromIndex(index.siblingAtColumn(0))
        if item is not None and item.data(ROLE_CODE):
            self.navigate.emit("whereused", item.data(ROLE_CODE))

    def diff_tones(self) -> dict[str, str]:
        """component -> tone of the diff rows on show (for tests and colour checks)."""
        m = self.diff.model
        return {m.key_at(r): m.tone_at(r) for r in range(m.rowCount())}

    def splitters(self) -> dict[str, Any]:
        return {}

