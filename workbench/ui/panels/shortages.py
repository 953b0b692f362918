"""Shortages: items short in the horizon, and for the selected one its projected-available
timeline (safety stock, receipts, requirements, the shortage highlighted, optionally the
risk-adjusted line) with the pegging of its requirements underneath, and its element list (like
SAP MD04: every receipt and requirement in date order with the running available quantity, the
exception codes, period totals; :mod:`workbench.ui.elementlist`) on the second tab.

Another panel opens an element list with ``focus_on((item, site, element))``: the Exceptions
panel for a message, a pegged demand for its order.

Everything shown comes from the planning queries :func:`workbench.app.planning.shortage_table`
and :func:`~workbench.app.planning.timeline` (the shortage answer ``workbench shortages`` gives)
on the shared planning session; the chart only re-arranges the MRP record for drawing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from workbench.app.columns import PEG_COLUMNS, SHORTAGE_COLUMNS
from workbench.app.planning import shortage_table, timeline
from workbench.app.tables import TableData, format_value
from workbench.ui import charts
from workbench.ui import format as fmt
from workbench.ui.elementlist import ElementListView
from workbench.ui.panels.base import Panel, PanelContext
from workbench.ui.widgets import TablePane, heading, hint

if TYPE_CHECKING:
    import pandas as pd

    from workbench.app.planning import Timeline


class ShortagesPanel(Panel):
    name = "shortages"
    title = "Shortages"
    #: the table and timeline follow the plan; the element list shows message codes too
    cares_about: ClassVar[tuple[str, ...]] = ("data", "decisions")

    def __init__(self, ctx: PanelContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.table = TablePane(SHORTAGE_COLUMNS, title="Items short in the horizon",
                               placeholder="Filter item, description, planner, buyer…",
                               pickers=[("site", "sites"), ("planner", "planners"),
                                        ("buyer", "buyers")])
        self.table.current_key_changed.connect(self._selected)
        self._wanted: Any = None  # (item, site) another panel asked for, before the table came
        self.risk = QCheckBox("Risk-adjusted line")
        self.risk.setToolTip("Also draw projected available with every open PO line moved to its "
                             "promised date plus the supplier's expected slip")
        self.risk.toggled.connect(lambda _on: self._selected(self.table.current_key()))
        self.caption = QLabel("Select a row to see its timeline.")
        self.plot = charts.make_plot("Projected available", "Quantity (stock unit)", "Date")
        self.pegs = TablePane(PEG_COLUMNS, title="Requirements and their pegging",
                              placeholder="Filter requirements…")
        self.current: Timeline | None = None

        chart_box = QWidget()
        cl = QVBoxLayout(chart_box)
        cl.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.addWidget(self.caption, 1)
        top.addWidget(self.risk)
        cl.addLayout(top)
        cl.addWidget(self.plot, 1)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(chart_box)
        right.addWidget(self.pegs)
        right.setSizes([420, 260])
        self.elements = ElementListView(self)
        self.elements.navigate_requested.connect(self._navigate)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("shortageTabs")
        self.tabs.addTab(right, "Timeline && pegging")
        self.tabs.addTab(self.elements, "Element list")
        self.tabs.setTabToolTip(0, "Projected available of the selected row, its requirements "
                                   "and their pegging")
        self.tabs.setTabToolTip(1, "Every receipt and requirement in date order with the "
                                   "running available quantity (MD04)")
        self.tabs.currentChanged.connect(lambda _i: self._element_list_if_shown())
        self._element_key: tuple[str, str] | None = None
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.table)
        split.addWidget(self.tabs)
        split.setSizes([540, 720])
        self.split, self.right = split, right
        layout = QVBoxLayout(self)
        layout.addWidget(heading(self.title, 14))
        layout.addWidget(hint("A shortage is a week where projected available (on hand + "
                              "scheduled receipts − requirements, before planned orders) falls "
                              "below safety stock."))
        layout.addWidget(split, 1)

    def reload(self) -> None:
        self.query(shortage_table, then=self._show, progress="Netting the plan…")
        self._element_key = None
        self._element_list_if_shown()

    def _show(self, table: TableData) -> None:
        self.table.model.set_table(table)
        for name in ("site", "planner", "buyer"):
            self.table.set_picker_values(name, self.table.model.table.distinct(name))
        wanted, self._wanted = self._wanted, None
        if wanted is not None and self.table.select_key(wanted):
            return
        if self.table.current_key() is None and self.table.model.rowCount():
            self.table.select_row(0)

    def _selected(self, key: Any) -> None:
        if key is None:
            return
        item, site = key[0], key[1]
        risk = self.risk.isChecked()
        self.query(timeline, item, site, risk, then=self._draw)
        self._element_list_if_shown()

    # --- the element list -------------------------------------------------------------------
    def _element_list_if_shown(self, select: str | None = None) -> None:
        """Load the element list of the selected row when its tab is on show (once per row)."""
        key = self.table.current_key() if self._wanted is None else self._wanted
        if key is None or self.tabs.currentWidget() is not self.elements:
            return
        item, site = str(key[0]), str(key[1])
        if (item, site) != self._element_key or select:
            self._element_key = (item, site)
            self.elements.show_item(item, site, select=select)

    def show_elements(self, item: str, site: str, element: str | None = None) -> None:
        """Open the element list of ``item`` at ``site`` with ``element``'s line selected."""
        self._element_key = (item, site)
        self.tabs.setCurrentWidget(self.elements)
        self.elements.show_item(item, site, select=element or None)

    def _navigate(self, panel: str, target: Any) -> None:
        if panel == self.name:
            self.focus_on(target)
        else:
            self.navigate.emit(panel, target)

    def _draw(self, t: Timeline) -> None:
        self.current = t
        safety = format_value(t.safety_stock, "qty")
        names = fmt.names()
        named = ", ".join(n for n in (names.name("item", t.item), names.name("site", t.site)) if n)
        self.caption.setText(f"{t.item} at {t.site} — {named + ' — ' if named else ''}"
                             f"safety stock {fmt.quantity_with_unit(safety, names.unit(t.item))}")
        plot = self.plot
        charts.clear(plot)
        rec = t.record
        x = charts.epoch_seconds(rec["date"])
        week = float(np.median(np.diff(x))) if len(x) > 1 else 7 * 86400.0
        projected = without_planned_orders(rec)
        for start, end in _runs(projected < t.safety_stock - 1e-9):
            charts.shade(plot, x[start], x[end - 1] + week)
        charts.step_line(plot, x, projected, name="Projected available", colour=charts.BLUE)
        if t.risk_record is not None:
            charts.step_line(plot, x, without_planned_orders(t.risk_record),
                             name="Risk-adjusted", colour=charts.ORANGE, dash=True)
        plot.plot([x[0], x[-1] + week] if len(x) else [], [t.safety_stock] * (2 if len(x) else 0),
                  pen=pg.mkPen(charts.RED, width=1.5, style=Qt.PenStyle.DashLine),
                  name="Safety stock")
        receipts = rec["scheduled_receipts"].to_numpy(float)
        gross = rec["gross_requirements"].to_numpy(float)
        has_r, has_g = receipts > 0, gross > 0
        if has_r.any():
            charts.markers(plot, x[has_r] + week / 2, receipts[has_r],
                           name="Receipt (quantity)", colour=charts.GREEN, symbol="t1")
        if has_g.any():
            charts.markers(plot, x[has_g] + week / 2, -gross[has_g],
                           name="Requirement (−quantity)", colour=charts.PURPLE, symbol="t")
        charts.shade_legend(plot, "Shortage weeks")
        plot.enableAutoRange()
        self.pegs.model.set_frame(t.pegs.reset_index().assign(item=t.item), "index")

    def focus_on(self, target: Any) -> None:
        """An item code, or (item, site): then its timeline is drawn (another panel asked for
        it, e.g. Approvals' evidence), whether or not the row is short or loaded yet; or
        (item, site, element): its element list with that element's line selected."""
        item = target[0] if isinstance(target, tuple) else str(target)
        self.table.filter.setText(item)
        self.table.model.set_filter_text(item)
        element = str(target[2]) if isinstance(target, tuple) and len(target) > 2 else None
        if isinstance(target, tuple):
            key = (str(target[0]), str(target[1]))
            if element is not None:
                self.show_elements(key[0], key[1], element)
            if not self.table.select_key(key):
                self._wanted = key  # selected when the table arrives
                self._selected(key)

    def save_state(self) -> dict[str, Any]:
        return {"risk": self.risk.isChecked(),
                "pickers": {n: c.currentData() for n, c in self.table.pickers.items()}}

    def restore_state(self, state: dict[str, Any]) -> None:
        self.risk.setChecked(bool(state.get("risk", False)))

    def splitters(self) -> dict[str, Any]:
        return {"main": self.split, "right": self.right, "elements": self.elements.split}


def without_planned_orders(record: pd.DataFrame) -> np.ndarray:
    """Projected available before any planned order: what the planner must cover."""
    return (record["projected_available"].to_numpy(float)
            - np.cumsum(record["planned_receipts"].to_numpy(float)))


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) index ranges where ``mask`` is true (end exclusive)."""
    out, start = [], None
    for i, on in enumerate(mask):
        if on and start is None:
            start = i
        elif not on and start is not None:
            out.append((start, i))
            start = None
    if start is not None:
        out.append((start, len(mask)))
    return out


if __name__ == "__main__":
    from workbench.ui.panels.preview import preview

    preview(ShortagesPanel)
