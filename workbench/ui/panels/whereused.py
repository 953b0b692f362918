"""Where-used & Impact: where an item is used (multi-level, extended quantities), what switching a
parent from one revision to another does (assemblies, work orders, excess value, new shortages
with dates), and the what-if timeline of a draft revision beside the current plan.

Answers come from :mod:`workbench.services.planning` (``where_used``, ``impact``, ``what_if``);
this module turns them into a tree, tables and a chart.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pyqtgraph as pg
from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTabWidget,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from workbench.ui import charts
from workbench.ui.jobserver import job
from workbench.ui.panels.base import Panel, PanelContext
from workbench.ui.tabledata import Col
from workbench.ui.widgets import TablePane, heading, hint

ANCESTOR_COLUMNS = [Col("item", "Assembly"), Col("min_level", "Level", "int"),
                    Col("extended_quantity", "Extended qty", "qty"), Col("top", "Top level")]
DIFF_COLUMNS = [Col("component", "Component"), Col("change", "Change"),
                Col("before_quantity_per", "Qty before", "qty"),
                Col("after_quantity_per", "Qty after", "qty")]
WO_COLUMNS = [Col("code", "Work order"), Col("site", "Site"), Col("quantity", "Qty", "qty"),
              Col("start_date", "Start", "date"), Col("due_date", "Due", "date"),
              Col("status", "Status"), Col("bom_revision", "Built to rev.")]
EXCESS_COLUMNS = [Col("item", "Item"), Col("site", "Site"), Col("kind", "Supply"),
                  Col("ref", "Reference"), Col("quantity", "Excess qty", "qty"),
                  Col("value", "Excess value", "money")]
NEW_COLUMNS = [Col("item", "Item"), Col("site", "Site"),
               Col("new_net_requirement", "New net requirement", "qty"),
               Col("first_shortage_date", "First shortage", "date"),
               Col("first_shortage_date_before", "Before the change", "date")]
WHATIF_COLUMNS = [Col("item", "Item"), Col("site", "Site"),
                  Col("first_shortage_base", "First shortage now", "date"),
                  Col("first_shortage", "With the draft", "date"),
                  Col("net_base", "Net req. now", "qty"), Col("net", "Net req. with draft", "qty")]


class WhereUsedPanel(Panel):
    name = "whereused"
    title = "Where-used & Impact"

    def __init__(self, ctx: PanelContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.item = QLineEdit()
        self.item.setPlaceholderText("Item code, e.g. RM-00017")
        self.item.setObjectName("whereUsedItem")
        self.item.returnPressed.connect(self.show_where_used)
        self.drafts = QCheckBox("Include draft revisions")
        go = QPushButton("Show where used")
        go.clicked.connect(self.show_where_used)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.tree_model = QStandardItemModel(0, 4, self)
        self.tree_model.setHorizontalHeaderLabels(["Used in", "Revision", "Qty per",
                                                   "Extended qty"])
        self.tree = QTreeView()
        self.tree.setObjectName("whereUsedTree")
        self.tree.setModel(self.tree_model)
        self.tree.setAlternatingRowColors(True)
        self.ancestors = TablePane(ANCESTOR_COLUMNS, title="Every assembly above",
                                   placeholder="Filter assemblies…")
        self.ancestors.activated_key.connect(lambda k: self.set_parent(str(k)))

        # impact of a revision change of a parent
        self.parent_item = QLineEdit()
        self.parent_item.setPlaceholderText("Parent item")
        self.parent_item.editingFinished.connect(self._parent_changed)
        self.rev_from, self.rev_to = QComboBox(), QComboBox()
        for combo in (self.rev_from, self.rev_to):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.effective = QDateEdit()
        self.effective.setCalendarPopup(True)
        self.effective.setDisplayFormat("yyyy-MM-dd")
        self.impact_button = QPushButton("Compute impact")
        self.impact_button.setObjectName("impactButton")
        self.impact_button.clicked.connect(self.compute_impact)
        self.impact_summary = QLabel("")
        self.impact_summary.setWordWrap(True)
        self.impact_summary.setObjectName("impactSummary")
        self.diff = TablePane(DIFF_COLUMNS, placeholder="Filter…")
        self.above = TablePane(ANCESTOR_COLUMNS, placeholder="Filter…")
        self.orders = TablePane(WO_COLUMNS, placeholder="Filter…")
        self.excess = TablePane(EXCESS_COLUMNS, placeholder="Filter…")
        self.new = TablePane(NEW_COLUMNS, placeholder="Filter…")
        self.whatif = TablePane(WHATIF_COLUMNS, placeholder="Filter…")
        self.whatif_plot = charts.make_plot("First shortage: current plan vs draft revision",
                                            "Item / site (affected rows)", "First shortage date")
        self.tabs = QTabWidget()
        for widget, label in ((self.diff, "Diff"), (self.above, "Assemblies above"),
                              (self.orders, "Work orders"), (self.excess, "Excess"),
                              (self.new, "New shortages")):
            self.tabs.addTab(widget, label)
        whatif_box = QSplitter(Qt.Orientation.Vertical)
        whatif_box.addWidget(self.whatif_plot)
        whatif_box.addWidget(self.whatif)
        self.tabs.addTab(whatif_box, "What-if timeline")

        top = QHBoxLayout()
        top.addWidget(QLabel("Item"))
        top.addWidget(self.item, 1)
        top.addWidget(self.drafts)
        top.addWidget(go)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addLayout(top)
        ll.addWidget(self.summary)
        left_split = QSplitter(Qt.Orientation.Vertical)
        left_split.addWidget(self.tree)
        left_split.addWidget(self.ancestors)
        ll.addWidget(left_split, 1)
        rev = QHBoxLayout()
        for w in (QLabel("Parent"), self.parent_item, QLabel("from"), self.rev_from, QLabel("to"),
                  self.rev_to, QLabel("on"), self.effective, self.impact_button):
            rev.addWidget(w)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(heading("Impact of a revision change", 11))
        rl.addLayout(rev)
        rl.addWidget(self.impact_summary)
        rl.addWidget(self.tabs, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setSizes([560, 780])
        self.split, self.left_split = split, left_split
        layout = QVBoxLayout(self)
        layout.addWidget(heading(self.title, 14))
        layout.addWidget(hint("Double-click an assembly to study the impact of changing its "
                              "revision. Extended quantity = quantity per top-level unit, with "
                              "scrap."))
        layout.addWidget(split, 1)
        self.last_impact: dict[str, Any] | None = None

    def reload(self) -> None:
        if self.item.text().strip():
            self.show_where_used()
        else:
            self._finished_loading()

    # --- where-used -------------------------------------------------------------------------
    def focus_on(self, target: Any) -> None:
        self.item.setText(str(target))
        self.show_where_used()

    def show_where_used(self) -> None:
        code = self.item.text().strip()
        if not code:
            return
        drafts = self.drafts.isChecked()
        self.plan(job("where_used_answer", item=code, drafts=drafts), self._show_where_used,
                  key="whereused")

    def _show_where_used(self, answer: dict[str, Any]) -> None:
        model = self.tree_model
        model.removeRows(0, model.rowCount())
        nodes: dict[tuple[str, ...], QStandardItem] = {}
        for path in answer["paths"]:
            chain: tuple[str, ...] = ()
            parent = model.invisibleRootItem()
            for step in path["steps"]:
                chain = chain + (f"{step['parent']}/{step['revision']}",)
                if chain not in nodes:
                    cells = [QStandardItem(step["parent"]), QStandardItem(step["revision"]),
                             QStandardItem(f"{step['quantity_per']:,.6g}"),
                             QStandardItem(f"{step['extended_quantity']:,.6g}")]
                    for c in cells:
                        c.setEditable(False)
                    parent.appendRow(cells)
                    nodes[chain] = cells[0]
                parent = nodes[chain]
        self.tree.expandToDepth(1)
        for column, width in enumerate((200, 70, 80, 100)):
            self.tree.setColumnWidth(column, width)
        anc = pd.DataFrame(answer["ancestors"], columns=["item", "min_level", "top_level",
                                                         "extended_quantity"])
        anc["top"] = np.where(anc["top_level"].astype(bool), "yes", "")
        self.ancestors.model.set_frame(anc, "item")
        tops = int(anc["top_level"].astype(bool).sum())
        more = " (first 1,000 paths shown)" if answer.get("paths_truncated") else ""
        self.summary.setText(f"{answer['item']} is used directly in {len(answer['direct'])} BOM "
                             f"line(s), in {len(anc)} assemblies, {tops} of them top level{more}.")

    # --- impact -----------------------------------------------------------------------------
    def set_parent(self, code: str) -> None:
        self.parent_item.setText(code)
        self._parent_changed()

    def _parent_changed(self) -> None:
        code = self.parent_item.text().strip()
        if code:
            self.plan(job("revisions_and_today", item=code), self._show_revisions,
                      key="revisions")

    def _show_revisions(self, answer: Any) -> None:
        revs, today = answer
        for combo in (self.rev_from, self.rev_to):
            combo.clear()
            for r in revs.table.itertuples():
                combo.addItem(f"{r.revision} ({r.status})", r.revision)
        if revs.in_force:
            self.rev_from.setCurrentIndex(self.rev_from.findData(revs.in_force))
        drafts = revs.table[revs.table["status"] == "draft"]
        if len(drafts):
            self.rev_to.setCurrentIndex(self.rev_to.findData(drafts["revision"].iloc[-1]))
            start = drafts["effective_from"].iloc[-1]
            day = today if pd.isna(start) else max(pd.Timestamp(start).date(), today)
        else:
            self.rev_to.setCurrentIndex(self.rev_to.count() - 1)
            day = today
        self.effective.setDate(QDate(day.year, day.month, day.day))

    def compute_impact(self) -> None:
        item = self.parent_item.text().strip()
        a, b = self.rev_from.currentData(), self.rev_to.currentData()
        if not item or a is None or b is None:
            self.impact_summary.setText("Choose a parent item and two of its revisions.")
            return
        on = dt.date.fromisoformat(self.effective.date().toString("yyyy-MM-dd"))
        self.impact_button.setEnabled(False)
        self.plan(job("impact_and_what_if", item=item, rev_a=a, rev_b=b, on=on),
                  self._show_impact, key="impact", progress="Computing the impact…")

    def _show_impact(self, answer: dict[str, Any]) -> None:
        self.impact_button.setEnabled(True)
        imp, wi = answer["impact"], answer["what_if"]
        self.last_impact = imp
        frame = pd.DataFrame
        diff = frame(imp["diff"], columns=[c.name for c in DIFF_COLUMNS])
        self.diff.model.set_frame(diff.assign(tone=diff["change"]), "component", tone="tone")
        above = frame(imp["assemblies_above"], columns=["item", "min_level", "top_level",
                                                         "extended_quantity"])
        above["top"] = np.where(above["top_level"].astype(bool), "yes", "")
        self.above.model.set_frame(above, "item")
        self.orders.model.set_frame(frame(imp["work_orders"], columns=[c.name for c in WO_COLUMNS]),
                                    "code")
        excess = frame(imp["excess"], columns=[c.name for c in EXCESS_COLUMNS]).reset_index()
        self.excess.model.set_frame(excess, "index")
        new = frame(imp["new_requirements"], columns=[c.name for c in NEW_COLUMNS])
        self.new.model.set_frame(new.assign(tone="short"), ["item", "site"], tone="tone")
        rows = frame(wi["rows"], columns=[c.name for c in WHATIF_COLUMNS])
        self.whatif.model.set_frame(rows, ["item", "site"])
        self._draw_what_if(rows)
        self.impact_summary.setText(
            f"{imp['item']} {imp['from_revision']} → {imp['to_revision']} on {imp['effective']}: "
            f"{len(diff)} line change(s); {len(above)} assemblies above; {len(imp['work_orders'])} "
            f"work order(s) starting from then; excess value {imp['excess_value']:,.2f}; "
            f"{len(new)} row(s) with new shortages; {len(rows)} row(s) change in the what-if plan.")

    def _draw_what_if(self, rows: pd.DataFrame) -> None:
        plot = self.whatif_plot
        charts.clear(plot)
        rows = rows.dropna(subset=["first_shortage_base", "first_shortage"], how="all")
        if not len(rows):
            return
        # the rows whose first shortage moves most first, then the largest change in net need
        moved = (pd.to_datetime(rows["first_shortage"]) - pd.to_datetime(rows["first_shortage_base"])
                 ).dt.days.abs().fillna(9999)
        change = (rows["net"].fillna(0) - rows["net_base"].fillna(0)).abs()
        shown = rows.assign(_m=moved, _c=change).sort_values(["_m", "_c"], ascending=False).head(20)
        y = np.arange(len(shown), dtype=float)
        now = charts.epoch_seconds(pd.to_datetime(shown["first_shortage_base"]))
        draft = charts.epoch_seconds(pd.to_datetime(shown["first_shortage"]))
        for yi, a, b in zip(y, now, draft):
            if not (np.isnan(a) or np.isnan(b)):
                plot.plot([a, b], [yi, yi], pen=pg.mkPen("#999999", width=1))
        charts.markers(plot, now, y, name="Current plan", colour=charts.BLUE)
        charts.markers(plot, draft, y, name="With the draft revision", colour=charts.ORANGE,
                       symbol="t")
        labels = [(float(i), f"{r.item}@{r.site}") for i, r in enumerate(shown.itertuples())]
        plot.getPlotItem().getAxis("left").setTicks([labels])
        xs = np.concatenate([now, draft])
        xs = xs[~np.isnan(xs)]
        pad = max(14 * 86400.0, 0.08 * float(xs.max() - xs.min()))
        plot.setXRange(float(xs.min()) - pad, float(xs.max()) + pad, padding=0)
        plot.setYRange(-1, len(shown), padding=0)

    def save_state(self) -> dict[str, Any]:
        return {"item": self.item.text(), "parent": self.parent_item.text()}

    def restore_state(self, state: dict[str, Any]) -> None:
        self.item.setText(str(state.get("item", "")))
        self.parent_item.setText(str(state.get("parent", "")))

    def splitters(self) -> dict[str, Any]:
        return {"main": self.split, "left": self.left_split}


if __name__ == "__main__":
    from workbench.ui.panels.preview import preview

    preview(WhereUsedPanel)
