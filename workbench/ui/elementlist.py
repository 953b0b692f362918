"""The element list of one item at one site, like SAP's MD04: every receipt and requirement in
date order with the running available quantity, the exception codes of each line, period totals
by day, week or month, and the pegging of a line.

The widget belongs to a panel (its ``host``) and runs its queries through it:
:func:`~workbench.app.element_views.element_context` (cache: the lines' exception codes and
the site names) then :func:`~workbench.app.element_views.element_table` (planning: the lines
``workbench elements`` prints, with names and units). A double click opens what the line is
about: a PO line its promise history in Suppliers (``navigate_requested("suppliers",
(supplier, PO, line))``), a dependent requirement the where-used of the item, any other line its
pegging (the top-level demands it serves, below); a double click on a pegged demand opens that
order's own element list (``navigate_requested("shortages", (item, site, order))``).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSplitter, QVBoxLayout, QWidget

from workbench.app.element_views import (
    TOTAL_COLUMNS,
    ElementContext,
    ElementTable,
    PegLine,
    element_context,
    element_pegging,
    element_table,
)
from workbench.app.tables import Col, format_value
from workbench.ui.widgets import TablePane, heading

if TYPE_CHECKING:
    import pandas as pd

    from workbench.ui.panels.base import Panel

PEG_COLUMNS = [
    Col("peg", "Serves", tip="The top-level demand or work order (pegging)"),
    Col("kind", "Kind", tip="demand, work order, safety stock or lot size"),
    Col("item_label", "Item of the order", tip="Item code and description of that order"),
    Col("site", "Site", tip="Site of that order"),
    Col("due_date", "Due", "date", tip="Due date of that order"),
    Col("quantity", "Quantity", "qty", tip="Quantity of this line serving it"),
    Col("unit", "Unit", tip="Stock unit of the element list's item"),
]

BUCKETS = (("Week", "week"), ("Day", "day"), ("Month", "month"))


class ElementListView(QWidget):
    """Lines, totals and pegging of one item at one site (module doc)."""

    navigate_requested = Signal(str, object)
    #: the element list on show (after each load)
    shown = Signal(object)

    def __init__(self, host: Panel, key: str = "elements", *, compact: bool = False,
                 parent: QWidget | None = None) -> None:
        """``compact``: the lines only (no filter box, totals or pegging), for a pane beside
        other evidence; a double click on a line that is no PO line or dependent requirement
        then opens the full list in Shortages."""
        super().__init__(parent)
        self.compact = compact
        self.host = host
        self.key = key
        self.caption = heading("Element list", 11)
        self.caption.setWordWrap(True)
        self.bucket = QComboBox()
        self.bucket.setObjectName("elementBucket")
        self.bucket.setToolTip("Period totals by day, week or month")
        for label, value in BUCKETS:
            self.bucket.addItem(label, value)
        self.bucket.currentIndexChanged.connect(lambda _i: self._reload())
        self.lines = TablePane(self._columns(),
                               title="" if compact else "Receipts and requirements",
                               placeholder="Filter elements…")
        self.lines.view.setSortingEnabled(False)  # date order is the point of the list
        self.lines.activated_key.connect(self.open_line)
        self.totals = TablePane(TOTAL_COLUMNS, title="Totals", placeholder="Filter…")
        self.pegs = TablePane(PEG_COLUMNS, title="Pegging",
                              placeholder="Filter demands…")
        self.pegs.activated_key.connect(self.open_peg)
        self.peg_caption = QLabel("Double-click a line to see what it serves.")
        self.peg_caption.setWordWrap(True)
        self.current: ElementTable | None = None
        self._context: ElementContext | None = None
        self._target: tuple[str, str | None] | None = None
        self._pegs: list[PegLine] = []

        top = QHBoxLayout()
        top.addWidget(self.caption, 1)
        top.addWidget(QLabel("Totals by"))
        top.addWidget(self.bucket)
        lower = QWidget()
        ll = QVBoxLayout(lower)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.peg_caption)
        ll.addWidget(self.pegs, 1)
        bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.addWidget(self.totals)
        bottom.addWidget(lower)
        bottom.setSizes([320, 480])
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.lines)
        split.addWidget(bottom)
        split.setSizes([420, 220])
        self.split = split
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        if compact:
            bottom.hide()
            self.lines.filter.hide()
            self.caption.setFont(self.font())

    @staticmethod
    def _columns() -> list[Col]:
        from workbench.app.element_views import ELEMENT_COLUMNS

        return list(ELEMENT_COLUMNS)

    # --- loading ----------------------------------------------------------------------------
    def show_item(self, item: str, site: str | None, select: str | None = None) -> None:
        """Load the element list of ``item`` at ``site`` (None: its first site); select the
        line of element ``select`` when given."""
        self._target = (item, site)
        self.caption.setText(f"Element list of {item}{' at ' + site if site else ''}…")
        # the line to select travels with the query: a superseded answer never arrives
        self.host.query(element_context, item, site, then=partial(self._with_context, select),
                        key=f"{self.key}-context")

    def _reload(self) -> None:
        if self._target is not None:
            selected = self.selected_line()
            self.show_item(*self._target,
                           select=None if selected is None else str(selected["element"]))

    def _with_context(self, select: str | None, context: ElementContext) -> None:
        self._context = context
        if self._target is None:
            return
        item, site = self._target
        self.host.query(element_table, item, site, str(self.bucket.currentData()),
                        context.codes, context.site_names, then=partial(self._show, select),
                        key=f"{self.key}-table")

    def _show(self, wanted: str | None, t: ElementTable) -> None:
        self.current = t
        e = t.elements
        site = f"{e.site} {t.site_name}".strip()
        safety = format_value(e.safety_stock, "qty")
        self.caption.setText(f"{e.item} {e.description} at {site} — unit {e.unit or 'none'}, "
                             f"safety stock {safety} {e.unit}".strip())
        self.lines.model.set_table(t.table)
        totals = e.totals.assign(unit=e.unit)
        self.totals.model.set_frame(totals, "period")
        self.pegs.model.set_frame(_peg_frame([], e.unit), "peg")
        self.peg_caption.setText("Double-click a line to see what it serves.")
        row = self.row_of_element(wanted) if wanted else None
        self.lines.select_row(row if row is not None else 0)
        self.shown.emit(t)

    # --- lines ------------------------------------------------------------------------------
    def row_of_element(self, element: str | None) -> int | None:
        """The displayed row of the first line of ``element`` (None: not in the list)."""
        if self.current is None or not element:
            return None
        frame = self.current.lines
        hit = frame.index[frame["element"] == element]
        return self.lines.model.row_of(int(frame.loc[hit[0], "line"])) if len(hit) else None

    def selected_line(self) -> pd.Series | None:
        key = self.lines.current_key()
        if key is None or self.current is None:
            return None
        return self.current.lines.iloc[int(key)]

    def open_line(self, key: Any) -> None:
        """What a double click on a line does (module doc)."""
        if self.current is None or key is None:
            return
        line = self.current.lines.iloc[int(key)]
        kind, element = str(line["type"]), str(line["element"])
        if kind == "purchase_order" and "/" in element:
            po, _, number = element.rpartition("/")
            self.navigate_requested.emit("suppliers", (str(line["supplier"]), po, int(number)))
        elif kind == "dependent":
            self.navigate_requested.emit("whereused", self.current.elements.item)
        elif kind in ("stock", "safety_stock"):
            self.peg_caption.setText(f"{line['type_label']}: no order to open.")
        elif self.compact:
            e = self.current.elements
            self.navigate_requested.emit("shortages", (e.item, e.site, element))
        else:
            self.show_pegging(line)

    def show_pegging(self, line: pd.Series) -> None:
        """Load the pegging of one line into the lower table."""
        e = self.current.elements if self.current is not None else None
        if e is None:
            return
        date = line["date"]
        self.peg_caption.setText(f"{line['type_label']} {line['element']} on {date}: the "
                                 f"demands it serves (pegging)…")
        self.host.query(element_pegging, e.item, e.site, str(line["type"]),
                        str(line["element"]), date, float(line["receipt"]) > 0,
                        then=partial(self._show_pegging, line),
                        key=f"{self.key}-pegging")

    def _show_pegging(self, line: pd.Series, pegs: list[PegLine]) -> None:
        unit = self.current.elements.unit if self.current is not None else ""
        self._pegs = pegs
        self.pegs.model.set_frame(_peg_frame(pegs, unit), "peg")
        what = f"{line['type_label']} {line['element']}".strip()
        self.peg_caption.setText(
            f"{what} on {line['date']} serves {len(pegs)} demand{'s' if len(pegs) != 1 else ''}"
            + (" (double-click one to open its order)." if pegs else "."))

    def open_peg(self, key: Any) -> None:
        hit = next((p for p in self._pegs if p.peg == key), None)
        if hit is not None and hit.order and hit.item:
            self.navigate_requested.emit("shortages", (hit.item, hit.site, hit.order))


def _peg_frame(pegs: list[PegLine], unit: str) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(
        [{"peg": p.peg, "kind": p.kind.replace("_", " "), "item_label": f"{p.item} {p.description}".strip(),
          "site": p.site, "due_date": p.due_date, "quantity": p.quantity, "unit": unit}
         for p in pegs], columns=[c.name for c in PEG_COLUMNS])
