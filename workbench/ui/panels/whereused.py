"""Where-used & Impact: where an item is used on a date (multi-level, extended quantities), what
switching a parent from one revision to another does (assemblies, which work orders keep their
components and which planned orders follow the new revision, affected demands, excess value, new
shortages with dates), and the plan before and after the change, week by week.

Answers come from the planning queries of :mod:`workbench.app.planning` (``where_used``,
``impact``: what ``workbench where-used`` and ``workbench impact`` answer). The impact is
one answer: the summary line is its ``summary`` text, counted from the same lists the tables
show, and the what-if table and chart are its comparison — so they cannot disagree. When nothing
changes in the horizon the summary says why.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
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

from workbench.app.bom import revisions_and_today
from workbench.app.planning import impact, planning_day, where_used
from workbench.app.tables import Col
from workbench.services.planning import plain, records
from workbench.ui import charts
from workbench.ui import format as fmt
from workbench.ui.panels.base import Panel, PanelContext
from workbench.ui.widgets import TablePane, heading, hint

if TYPE_CHECKING:
    from workbench.services.planning import Impact, WeeklyComparison, WhereUsedAnswer

#: quantities read with their unit (workbench.ui.format): ``of`` is the item a where-used or
#: impact quantity counts (the item asked about / the parent changed), added to each frame
ANCESTOR_COLUMNS = [Col("item", "Assembly", names="item"), Col("min_level", "Level", "int"),
                    Col("extended_quantity", "Extended qty", "qty", unit_of="of"),
                    Col("top", "Top level")]
DIFF_COLUMNS = [Col("component", "Component", names="item"), Col("change", "Change"),
                Col("before_quantity_per", "Qty before", "qty", unit_of="component"),
                Col("after_quantity_per", "Qty after", "qty", unit_of="component")]
WO_COLUMNS = [Col("code", "Work order"), Col("site", "Site", names="site"),
              Col("quantity", "Qty", "qty", unit_of="of"),
              Col("start_date", "Start", "date"), Col("due_date", "Due", "date"),
              Col("status", "Status"), Col("bom_revision", "Built to rev."),
              Col("after_change", "After the change")]
PLANNED_COLUMNS = [Col("site", "Site", names="site"), Col("start_date", "Start", "date"),
                   Col("due_date", "Due", "date"),
                   Col("quantity", "Planned qty", "qty", unit_of="of"),
                   Col("after_change", "After the change")]
DEMAND_COLUMNS = [Col("code", "Demand"), Col("item", "Item", names="item"),
                  Col("site", "Site", names="site"),
                  Col("kind", "Kind"), Col("due_date", "Due", "date"),
                  Col("quantity", "Qty", "qty", unit_of="item"),
                  Col("planned_quantity", "Planned qty", "qty", unit_of="item",
                      tip="What the plan counts of it after forecast consumption")]
EXCESS_COLUMNS = [Col("item", "Item", names="item"), Col("site", "Site", names="site"),
                  Col("kind", "Supply"), Col("ref", "Reference"),
                  Col("quantity", "Excess qty", "qty", unit_of="item"),
                  Col("value", "Excess value", "money")]
NEW_COLUMNS = [Col("item", "Item", names="item"), Col("site", "Site", names="site"),
               Col("new_net_requirement", "New net requirement", "qty", unit_of="item"),
               Col("first_shortage_date", "First shortage", "date"),
               Col("first_shortage_date_before", "Before the change", "date")]
WHATIF_COLUMNS = [Col("item", "Item", names="item"), Col("site", "Site", names="site"),
                  Col("first_a", "First shortage before", "date"),
                  Col("first_b", "First shortage after", "date"),
                  Col("gross_a", "Gross req. before", "qty", unit_of="item"),
                  Col("gross_b", "Gross req. after", "qty", unit_of="item"),
                  Col("net_a", "Net req. before", "qty", unit_of="item"),
                  Col("net_b", "Net req. after", "qty", unit_of="item")]


#: row tones of the order tables: kept components in the "changed" tone, followers as "added"
FATE_TONES = {"keeps": "changed", "follows": "added", "untouched": ""}


def what_if_rows(affected: list[dict[str, Any]]) -> pd.DataFrame:
    """The what-if table: rows short only after the change first, then by how much the net
    requirement moves."""
    rows = pd.DataFrame(affected, columns=[c.name for c in WHATIF_COLUMNS])
    new_short = rows["first_a"].isna() & rows["first_b"].notna()
    moved = (rows["net_b"].astype(float) - rows["net_a"].astype(float)).abs()
    return (rows.assign(_n=new_short, _m=moved)
            .sort_values(["_n", "_m", "item", "site"], ascending=[False, False, True, True])
            .drop(columns=["_n", "_m"]).reset_index(drop=True))


class WhereUsedPanel(Panel):
    name = "whereused"
    title = "Where-used & Impact"

    def __init__(self, ctx: PanelContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.item = QLineEdit()
        self.item.setPlaceholderText("Item code, e.g. RM-00017")
        self.item.setObjectName("whereUsedItem")
        self.item.setMinimumWidth(150)
        self.item.returnPressed.connect(self.show_where_used)
        self.drafts = QCheckBox("Include draft revisions")
        self.where_on = QDateEdit()  # set to the planning day on the first load
        self.where_on.setObjectName("whereUsedOn")
        self.where_on.setCalendarPopup(True)
        self.where_on.setDisplayFormat("yyyy-MM-dd")
        self.where_on.setToolTip("The BOMs in force on this day (the CLI's where-used --on)")
        self._where_day_set = False
        go = QPushButton("Show where used")
        go.setToolTip("List every assembly the item goes into, up to the sold items, with the "
                      "BOMs in force on the chosen day")
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
        self.impact_button.setToolTip("Plan with the parent's new BOM revision from the effective "
                                      "date and show what changes: work orders, planned orders, "
                                      "demands and shortages")
        self.impact_button.clicked.connect(self.compute_impact)
        self.impact_summary = QLabel("")
        self.impact_summary.setWordWrap(True)
        self.impact_summary.setObjectName("impactSummary")
        self.diff = TablePane(DIFF_COLUMNS, placeholder="Filter…")
        self.above = TablePane(ANCESTOR_COLUMNS, placeholder="Filter…")
        self.orders = TablePane(WO_COLUMNS, placeholder="Filter…")
        self.planned = TablePane(PLANNED_COLUMNS, placeholder="Filter…")
        self.demands = TablePane(DEMAND_COLUMNS, placeholder="Filter…")
        self.excess = TablePane(EXCESS_COLUMNS, placeholder="Filter…")
        self.new = TablePane(NEW_COLUMNS, placeholder="Filter…")
        self.whatif = TablePane(WHATIF_COLUMNS, placeholder="Filter…")
        self.whatif.current_key_changed.connect(self._draw_what_if)
        self.whatif_plot = charts.make_plot("Projected available: before vs after the change",
                                            "Quantity (stock unit)", "Week starting",
                                            dates=False, day_axis=True)
        self.tabs = QTabWidget()
        for widget, label in ((self.diff, "Diff"), (self.above, "Assemblies above"),
                              (self.orders, "Work orders"), (self.planned, "Planned orders"),
                              (self.demands, "Demands"), (self.excess, "Excess"),
                              (self.new, "New shortages")):
            self.tabs.addTab(widget, label)
        whatif_box = QSplitter(Qt.Orientation.Vertical)
        whatif_box.addWidget(self.whatif_plot)
        whatif_box.addWidget(self.whatif)
        self.tabs.addTab(whatif_box, "What-if, week by week")
        self._weeks: WeeklyComparison | None = None

        top = QHBoxLayout()
        top.addWidget(QLabel("Item"))
        top.addWidget(self.item, 1)
        top.addWidget(QLabel("on"))
        top.addWidget(self.where_on)
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
        self.last_impact: Impact | None = None

    def reload(self) -> None:
        if not self._where_day_set:
            self.query(planning_day, then=self._set_where_day)
        if self.item.text().strip():
            self.show_where_used()
        elif self._where_day_set:
            self._finished_loading()

    def _set_where_day(self, day: dt.date) -> None:
        if not self._where_day_set:
            self._where_day_set = True
            self.where_on.setDate(QDate(day.year, day.month, day.day))

    # --- where-used -------------------------------------------------------------------------
    def focus_on(self, target: Any) -> None:
        self.item.setText(str(target))
        self.show_where_used()

    def show_where_used(self) -> None:
        code = self.item.text().strip()
        if not code:
            return
        drafts = self.drafts.isChecked()
        # before the planning day is known the date picker is left out: the job uses that day
        on = self.where_on.date().toPython() if self._where_day_set else None
        self.query(where_used, code, include_drafts=drafts, on=on, then=self._show_where_used)

    def _show_where_used(self, answer: WhereUsedAnswer) -> None:
        model = self.tree_model
        model.removeRows(0, model.rowCount())
        nodes: dict[tuple[str, ...], QStandardItem] = {}
        unit = fmt.names().unit(answer.item)  # every quantity of the tree counts the item asked about
        for path in plain(answer.result.paths):
            chain: tuple[str, ...] = ()
            parent = model.invisibleRootItem()
            for step in path["steps"]:
                chain = chain + (f"{step['parent']}/{step['revision']}",)
                if chain not in nodes:
                    cells = [QStandardItem(step["parent"]),
                             QStandardItem(step["revision"]),
                             QStandardItem(f"{step['quantity_per']:,.6g} {unit}".strip()),
                             QStandardItem(f"{step['extended_quantity']:,.6g} {unit}".strip())]
                    for c in cells:
                        c.setEditable(False)
                    parent.appendRow(cells)
                    nodes[chain] = cells[0]
                parent = nodes[chain]
        self.tree.expandToDepth(1)
        for column, width in enumerate((200, 70, 90, 110)):
            self.tree.setColumnWidth(column, width)
        anc = pd.DataFrame(records(answer.result.ancestors),
                           columns=["item", "min_level", "top_level", "extended_quantity"])
        anc["top"] = np.where(anc["top_level"].astype(bool), "yes", "")
        self.ancestors.model.set_frame(anc.assign(of=answer.item), "item")
        tops = int(anc["top_level"].astype(bool).sum())
        more = " (first 1,000 paths shown)" if answer.result.truncated else ""
        on = f" on {answer.as_of}" if answer.as_of else ""
        self.summary.setText(f"{answer.item} is used{on} directly in {len(answer.result.direct)} "
                             f"BOM line(s), in {len(anc)} assemblies, {tops} of them top "
                             f"level{more}.")

    # --- impact -----------------------------------------------------------------------------
    def set_parent(self, code: str) -> None:
        self.parent_item.setText(code)
        self._parent_changed()

    def _parent_changed(self) -> None:
        code = self.parent_item.text().strip()
        if code:
            self.query(revisions_and_today, code, then=self._show_revisions)

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
        handle = self.query(impact, item, a, b, on, then=self._show_impact, key="impact",
                            progress="Computing the impact…")
        # however it ends (answer shown, or the error box), the planner can ask again
        handle.signals.finished.connect(lambda: self.impact_button.setEnabled(True))

    def _show_impact(self, imp: Impact) -> None:
        self.last_impact = imp
        frame = pd.DataFrame
        diff = frame(imp.diff, columns=[c.name for c in DIFF_COLUMNS])
        self.diff.model.set_frame(diff.assign(tone=diff["change"]), "component", tone="tone")
        above = frame(imp.assemblies_above, columns=["item", "min_level", "top_level",
                                                         "extended_quantity"])
        above["top"] = np.where(above["top_level"].astype(bool), "yes", "")
        self.above.model.set_frame(above.assign(of=imp.item), "item")
        orders = frame(imp.work_orders, columns=[c.name for c in WO_COLUMNS] + ["fate"])
        orders["of"] = imp.item
        self.orders.model.set_frame(orders.assign(tone=orders["fate"].map(FATE_TONES)), "code",
                                    tone="tone")
        planned = frame(imp.planned_orders, columns=[c.name for c in PLANNED_COLUMNS] + ["fate"])
        planned["of"] = imp.item
        self.planned.model.set_frame(
            planned.assign(tone=planned["fate"].map(FATE_TONES)).reset_index(), "index",
            tone="tone")
        demands = frame(imp.demands, columns=[c.name for c in DEMAND_COLUMNS])
        self.demands.model.set_frame(demands, "code")
        excess = frame(imp.excess, columns=[c.name for c in EXCESS_COLUMNS]).reset_index()
        self.excess.model.set_frame(excess, "index")
        new = frame(imp.new_requirements, columns=[c.name for c in NEW_COLUMNS])
        self.new.model.set_frame(new.assign(tone="short"), ["item", "site"], tone="tone")
        rows = what_if_rows(imp.affected_rows)
        self._weeks = imp.weeks
        self.whatif.model.set_frame(rows, ["item", "site"])
        self.impact_summary.setText(imp.summary.text)
        if len(rows):
            self.whatif.select_row(0)  # draws the chart of the row that changes most
        self._draw_what_if()

    def _draw_what_if(self, key: Any = None) -> None:
        """Projected available of the chosen what-if row before and after, week by week, with
        its safety stock and the weeks short only after the change shaded."""
        plot = self.whatif_plot
        charts.clear(plot)
        key = key if key is not None else self.whatif.current_key()
        row = (self._weeks.row(*key) if self._weeks is not None and key is not None else None)
        imp = self.last_impact
        if row is None:
            reason = imp and imp.summary.nothing_changes_because
            plot.setTitle("Nothing changes in the horizon" if reason
                          else "Projected available: before vs after the change", size="11pt")
            if reason:
                charts.note(plot, f"Nothing changes in the horizon, because {reason}")
            return
        assert imp is not None
        assert self._weeks is not None
        x = charts.epoch_seconds(self._weeks.dates)
        plot.setTitle(f"{row.item}@{row.site}: projected available, week by week",
                      size="11pt")
        charts.before_after(plot, x, row.projected_a, row.projected_b,
                            before_name=f"Before ({imp.from_revision})",
                            after_name=f"After ({imp.to_revision} from {imp.effective})",
                            safety=row.safety_stock)

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
