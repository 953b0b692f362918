"""Suppliers: ranking by expected slip and on-time rate; for a supplier its slip-days
distribution and monthly on-time trend; for one of its PO lines the promise-date history, as a
chart and as a table naming where each change came from (the EDI message: file, control number,
type; or the sync of the line's source).

Figures come from the planning session's slippage analysis
(:mod:`workbench.analysis.slippage`); this module only arranges them for tables and charts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from workbench.app.suppliers import promise_history, ranking, supplier_detail
from workbench.app.tables import Col
from workbench.ui import charts
from workbench.ui.panels.base import Panel, PanelContext
from workbench.ui.widgets import TablePane, heading, hint

if TYPE_CHECKING:
    from workbench.app.suppliers import SupplierDetail

RANK_COLUMNS = [
    Col("supplier", "Supplier"),
    Col("name", "Name"),
    Col("expected_slip_days", "Exp. slip (d)", "qty",
        tip="Expected slip in days: 80th percentile of delivery slips (early = 0), shrunk by "
            "n/(n+5)"),
    Col("on_time_pct", "On time", "pct", tip="Received lines on time in full"),
    Col("lines", "PO lines", "int"),
    Col("open_late_lines", "Open lines late", "int"),
    Col("max_days_late", "Max days late", "int"),
    Col("promise_changes", "Promise changes", "int"),
]
LINE_COLUMNS = [
    Col("purchase_order", "PO"),
    Col("line", "Line", "int"),
    Col("item", "Item"),
    Col("description", "Description"),
    Col("requested_date", "Requested", "date"),
    Col("latest_promise", "Promised", "date"),
    Col("promise_changes", "Changes", "int"),
    Col("days_late", "Days late", "int"),
    Col("status", "Status"),
]
HISTORY_COLUMNS = [
    Col("changed_at", "Changed at"),
    Col("promised_date", "Promised", "date"),
    Col("quantity_ordered", "Quantity", "qty",
        tip="Ordered quantity in the stock unit; for an acknowledgement the confirmed quantity",
        unit_of="item"),
    Col("via", "From", tip="The EDI message (type, file, interchange control number) or the "
                           "sync of the line's source that brought the change"),
    Col("document_number", "Document"),
    Col("source", "Source"),
]


class SuppliersPanel(Panel):
    name = "suppliers"
    title = "Suppliers"
    #: (supplier, (PO, line)) another panel asked for, selected when its lines arrive
    _wanted: tuple[str, tuple[str, int]] | None = None

    def __init__(self, ctx: PanelContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.ranking = TablePane(RANK_COLUMNS, title="Suppliers by expected slip",
                                 placeholder="Filter suppliers…")
        self.ranking.current_key_changed.connect(self._supplier_selected)
        self.slip_plot = charts.make_plot("Delivery slip of received lines", "PO lines",
                                          "Slip (days after first promise)", dates=False)
        self.trend_plot = charts.make_plot("On time in full, by month", "On time in full (%)",
                                           "Month received")
        self.lines = TablePane(LINE_COLUMNS, title="PO lines of the supplier",
                               placeholder="Filter PO lines…")
        self.lines.current_key_changed.connect(self._line_selected)
        self.history_plot = charts.make_plot("Promises of the selected line",
                                             "Promised date", "Date of the change")
        self.history_plot.getPlotItem().setAxisItems({"left": charts.DayAxis(orientation="left")})
        self.history_plot.setLabel("left", "Promised date")
        self.history = TablePane(HISTORY_COLUMNS, title="Promise history of the selected line",
                                 placeholder="Filter changes…")
        self.history_plot.getPlotItem().getAxis("left").enableAutoSIPrefix(False)
        legend = self.history_plot.getPlotItem().legend
        legend.anchor(itemPos=(0, 0), parentPos=(0, 0), offset=(10, 10))

        plots = QSplitter(Qt.Orientation.Horizontal)
        plots.addWidget(self.slip_plot)
        plots.addWidget(self.trend_plot)
        # left: the ranking above the selected line's promise history; right: the supplier's
        # charts above its PO lines (wide enough for every column)
        bottom = QSplitter(Qt.Orientation.Vertical)
        bottom.addWidget(self.ranking)
        bottom.addWidget(self.history_plot)
        bottom.setSizes([420, 330])
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(plots)
        right.addWidget(self.lines)
        right.addWidget(self.history)
        right.setSizes([300, 250, 200])
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(bottom)
        split.addWidget(right)
        split.setSizes([440, 900])
        self.split, self.right, self.bottom = split, right, bottom
        layout = QVBoxLayout(self)
        layout.addWidget(heading(self.title, 14))
        layout.addWidget(hint("Expected slip is what the risk-adjusted plan adds to the promised "
                              "dates of the supplier's open PO lines."))
        layout.addWidget(split, 1)

    def reload(self) -> None:
        self.query(ranking, then=self._show, progress="Analysing promise history…")

    def _show(self, frame: pd.DataFrame) -> None:
        self.ranking.model.set_frame(frame, "supplier")
        wanted = self._wanted
        if wanted is not None and self.ranking.select_key(wanted[0]):
            return
        if self.ranking.current_key() is None and self.ranking.model.rowCount():
            self.ranking.select_row(0)

    def _supplier_selected(self, supplier: Any) -> None:
        if supplier is not None:
            code = str(supplier)
            self.query(supplier_detail, code, then=self._show_supplier)

    def _show_supplier(self, d: SupplierDetail) -> None:
        charts.clear(self.slip_plot)
        if len(d.slips):
            lo, hi = int(np.floor(d.slips.min())), int(np.ceil(d.slips.max()))
            edges = np.arange(lo, hi + 2) - 0.5
            counts, _ = np.histogram(d.slips, bins=edges)
            charts.bars(self.slip_plot, edges[:-1] + 0.5, counts, width=0.9, colour=charts.BLUE,
                        name=f"{d.supplier}: {len(d.slips)} received lines")
        self.slip_plot.setTitle(f"Delivery slip of {d.supplier}'s received lines", size="11pt")
        charts.clear(self.trend_plot)
        m = d.monthly.dropna(subset=["otif_rate"])
        if len(m):
            x = charts.epoch_seconds(pd.to_datetime(m["month"] + "-01"))
            self.trend_plot.plot(x, m["otif_rate"].to_numpy(float) * 100, name="On time in full",
                                 pen=pg.mkPen(charts.GREEN, width=2), symbol="o", symbolSize=7,
                                 symbolBrush=charts.GREEN)
        self.trend_plot.setYRange(0, 105)
        self.lines.model.set_frame(d.lines, ["purchase_order", "line"])
        late = d.lines.sort_values("promise_changes", ascending=False)
        wanted, self._wanted = self._wanted, None
        if wanted is not None and wanted[0] == d.supplier and self.lines.select_key(wanted[1]):
            return
        if len(late):
            self.lines.select_key((late["purchase_order"].iloc[0], late["line"].iloc[0]))

    def _line_selected(self, key: Any) -> None:
        if key is None:
            return
        po, line = key
        row = self.lines.model.row_of(key)
        item = self.lines.model.value(row, "item") if row is not None else ""
        label = f"{po}/{line}" + (f" ({item})" if item else "")  # its description: in the row
        self.query(promise_history, str(po), int(line),
                   then=lambda h: self._show_history(label, h.assign(item=item)))

    def _show_history(self, label: str, h: pd.DataFrame) -> None:
        """The line's promise history: the table (each change with the message or sync it came
        from) and the step chart."""
        self.history.model.set_frame(h.reset_index(drop=True).reset_index(names="n"), "n")
        self.history.fit_columns(max_width=520)  # a few rows: fitted to each line's messages
        plot = self.history_plot
        charts.clear(plot)
        plot.setTitle(f"Promises of {label}", size="11pt")
        if not len(h):
            return
        x = charts.epoch_seconds(pd.to_datetime(h["changed_at"]).dt.normalize())
        y = charts.epoch_seconds(pd.to_datetime(h["promised_date"]))
        x_end = max(x[-1] + 7 * 86400, x[-1] + 0.1 * max(x[-1] - x[0], 86400))
        plot.plot(np.append(x, x_end), y, stepMode="center", name="Promised date",
                  pen=pg.mkPen(charts.BLUE, width=2))
        charts.markers(plot, x, y, name="Change observed", colour=charts.ORANGE, size=8)
        plot.enableAutoRange()

    def focus_on(self, target: Any) -> None:
        """A supplier code, or (supplier, PO, line): that line's promise history too (a double
        click on a PO line of the element list)."""
        if isinstance(target, tuple):
            supplier, po, line = target
            self._wanted = (str(supplier), (str(po), int(line)))
            self._line_selected((str(po), int(line)))
            target = supplier
        self.ranking.select_key(str(target))

    def splitters(self) -> dict[str, Any]:
        return {"main": self.split, "right": self.right, "bottom": self.bottom}


if __name__ == "__main__":
    from workbench.ui.panels.preview import preview

    preview(SuppliersPanel)
