"""Approvals: the buyer's queue of requisition recommendations, with the evidence beside each.

Approve, reject, or modify quantity/date with a comment; multi-select bulk approve; keyboard:
A approve, R reject, M modify, J / N next, K previous (on the table). A ``switch_source`` advice
says what it switches to: "alternate Y" (another component of the parents' alternate group, the
quantity then being Y's) or "supplier S". Every decision is stored in
the cache at once (the command :func:`workbench.app.decisions.decide`) and queued in the
outbox; the write-back happens later, from Sync & Outbox or the CLI, online or not.
"Re-evaluate" asks the planning engine (:func:`~workbench.app.decisions.evaluate`, a planning
query) and stores its advice (:func:`~workbench.app.decisions.store_recommendations`).
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

import pandas as pd
from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDateEdit,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from workbench.app.decisions import (
    Choice,
    Evaluation,
    UnitTables,
    approval_queue,
    decide,
    decision_history,
    evaluate,
    store_recommendations,
    unit_tables,
)
from workbench.app.tables import Col
from workbench.ui.panels.base import Panel, PanelContext
from workbench.ui.panels.evidence import EvidencePane
from workbench.ui.widgets import TablePane, heading, hint

if TYPE_CHECKING:
    from workbench.services.decisions import DecisionOutcome
    from workbench.services.reevaluate import Reevaluation

#: what a buyer decides on comes first (requisition, advice, item, proposed quantity and date,
#: reason), so it is on screen at 1280x720 beside the evidence (item and reason elided, whole on
#: hover: tests/ui/test_readable_screens.py); the requisition as it stands, who and where after
#: (columns can be moved and are remembered)
QUEUE_COLUMNS = [
    Col("requisition", "Requisition"),
    Col("action", "Advice"),
    Col("item", "Item", names="item", width=130),
    Col("proposed_quantity", "Proposed qty", "qty", unit_of="item"),
    Col("proposed_date", "Proposed date", "date"),
    Col("reason", "Reason", width=150),
    Col("quantity", "Qty", "qty", tip="The requisition's quantity now, in the item's unit",
        unit_of="item"),
    Col("need_date", "Need date", "date"),
    Col("switch_to", "Switch to", tip="What a switch of source proposes: an alternate component "
        "(quantity in its units) or another supplier"),
    Col("site", "Site", names="site"),
    Col("buyer", "Buyer"),
    Col("supplier", "Supplier", names="supplier"),
]
ACTION_TONES = {"cancel": "removed", "reduce": "changed", "increase": "added",
                "expedite": "late", "switch_source": "changed", "defer": "queued"}


def switch_to(frame: pd.DataFrame) -> pd.Series:
    """Per recommendation: "alternate Y", "supplier S" for a switch of source, else ""."""
    item = frame["proposed_item"].fillna("").astype(str) if "proposed_item" in frame \
        else pd.Series("", index=frame.index)
    supplier = frame["proposed_supplier"].fillna("").astype(str)
    switch = frame["action"] == "switch_source"
    return pd.Series(
        [("alternate " + i if i else f"supplier {p}" if p else "") if sw else ""
         for sw, i, p in zip(switch, item, supplier)], index=frame.index, dtype=object)


def advice_line(r: pd.Series) -> str:
    """The heading of the evidence: what to do with which item."""
    alternate = str(r.get("proposed_item") or "") if pd.notna(r.get("proposed_item")) else ""
    item = f"{r['item']} {r['description'] or ''}".strip()
    if alternate:
        return (f"{r['requisition']}: switch to alternate {alternate} — instead of {item} "
                f"at {r['site']}")
    return f"{r['requisition']}: {r['action'].replace('_', ' ')} — {item} at {r['site']}"


class ApprovalsPanel(Panel):
    name = "approvals"
    title = "Approvals"
    #: the queue (advice on live requisitions) and each one's history with its write-back state
    cares_about: ClassVar[tuple[str, ...]] = ("data", "decisions", "outbox")

    def __init__(self, ctx: PanelContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.queue = TablePane(
            QUEUE_COLUMNS, title="Recommendations waiting for a decision",
            placeholder="Filter requisition, item, reason…",
            pickers=[("buyer", "buyers"), ("site", "sites"), ("supplier", "suppliers"),
                     ("action", "actions")],
            multi_select=True)
        self.queue.current_key_changed.connect(self._show_evidence)
        self.pane = EvidencePane()
        self.pane.timeline_requested.connect(
            lambda item, site: self.navigate.emit("shortages", (item, site)))
        self.evidence = self.pane.text
        self.quantity = QDoubleSpinBox()
        self.quantity.setRange(0, 1e12)
        self.quantity.setDecimals(3)
        self.quantity.setGroupSeparatorShown(True)
        self.date = QDateEdit()
        self.date.setCalendarPopup(True)
        self.date.setDisplayFormat("yyyy-MM-dd")
        self.comment = QLineEdit()
        self.comment.setPlaceholderText("Comment for the source system (optional)")
        self.approve_button = QPushButton("Approve (A)")
        self.approve_button.setToolTip("Approve the advice for the selected recommendation as "
                                       "proposed (key A)")
        self.approve_button.clicked.connect(self.approve)
        self.reject_button = QPushButton("Reject (R)")
        self.reject_button.setToolTip("Reject the advice: the requisition stays as it is "
                                      "(key R)")
        self.reject_button.clicked.connect(self.reject)
        self.modify_button = QPushButton("Modify (M)")
        self.modify_button.setToolTip("Decide with the quantity and date above (key M)")
        self.modify_button.clicked.connect(self.modify)
        self.bulk_button = QPushButton("Approve all selected")
        self.bulk_button.setToolTip("Approve the advice of every selected recommendation as "
                                    "proposed")
        self.bulk_button.clicked.connect(self.approve_selected)
        self.reevaluate_button = QPushButton("Re-evaluate requisitions")
        self.reevaluate_button.setToolTip("Run the planning engine on the cache and replace the "
                                          "open advice")
        self.reevaluate_button.clicked.connect(self.reevaluate)
        self.status = QLabel("")
        self.status.setObjectName("decisionStatus")
        self.status.setWordWrap(True)

        form = QFormLayout()
        self.quantity_label = QLabel("Quantity")
        form.addRow(self.quantity_label, self.quantity)
        form.addRow("Date", self.date)
        form.addRow("Comment", self.comment)
        buttons = QHBoxLayout()
        for b in (self.approve_button, self.reject_button, self.modify_button):
            buttons.addWidget(b)
        side = QWidget()
        sl = QVBoxLayout(side)
        sl.setContentsMargins(0, 0, 0, 0)
        sl.addWidget(self.pane, 1)
        sl.addLayout(form)
        sl.addLayout(buttons)
        sl.addWidget(self.bulk_button)
        sl.addWidget(self.status)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.queue)
        split.addWidget(side)
        split.setSizes([1050, 370])  # the queue's key columns first, the evidence beside
        self.split = split
        top = QHBoxLayout()
        top.addWidget(heading(self.title, 14))
        top.addStretch(1)
        top.addWidget(self.reevaluate_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(hint("Decisions are stored at once and queued in the outbox; they are "
                              "written back to the source from Sync & Outbox, also later when "
                              "you are offline now. Keys on the table: A approve, R reject, "
                              "M modify, J next, K previous."))
        layout.addWidget(split, 1)
        view = self.queue.view
        for keys, slot, what in (
                ("A", self.approve, "Approve the current recommendation"),
                ("R", self.reject, "Reject the current recommendation"),
                ("M", self.modify, "Modify: decide with the quantity and date entered"),
                ("J", self.next_row, "Next recommendation"),
                ("N", self.next_row, "Next recommendation"),
                ("K", self.previous_row, "Previous recommendation"),
                ("Ctrl+Return", self.approve, "Approve the current recommendation")):
            shortcut = QShortcut(QKeySequence(keys), view)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.setWhatsThis(what)  # listed by Help ▸ Keyboard shortcuts
            shortcut.activated.connect(slot)
        self._frame = pd.DataFrame()
        self.last_outcomes: list[DecisionOutcome] = []

    # --- loading ----------------------------------------------------------------------------
    def reload(self) -> None:
        self.query(approval_queue, then=self._show)

    def _show(self, frame: pd.DataFrame) -> None:
        current = self.queue.current_key()
        row = self.queue.view.currentIndex().row()
        self._frame = frame.set_index("id", drop=False) if len(frame) else frame
        if len(frame):
            switch = switch_to(frame)
            # an alternate is not bought: no supplier beside it
            supplier = frame["supplier"].where(~switch.str.startswith("alternate "), "")
            frame = frame.assign(tone=frame["action"].map(ACTION_TONES).fillna(""),
                                 switch_to=switch, supplier=supplier)
        self.queue.model.set_frame(frame, "id", tone="tone" if len(frame) else None)
        for name in ("buyer", "site", "supplier", "action"):
            self.queue.set_picker_values(name, self.queue.model.table.distinct(name))
        if not len(frame):
            self.pane.show_message("No open recommendations. Press “Re-evaluate requisitions” "
                                   "to check the open requisitions against the current plan.")
            return
        if current is None or not self.queue.select_key(current):
            self.queue.select_row(min(max(row, 0), self.queue.model.rowCount() - 1))

    def _show_evidence(self, key: Any) -> None:
        if key is None or not len(self._frame) or key not in self._frame.index:
            return
        r = self._frame.loc[key]
        self.pane.show_advice(advice_line(r), r["reason"], r["evidence"], str(r["item"]),
                              str(r["site"]))
        self.query(decision_history, str(r["requisition"]), then=self.pane.show_history,
                   key="history")
        alternate = r.get("proposed_item") if pd.notna(r.get("proposed_item")) else None
        self.quantity_label.setText(f"Quantity of {alternate}" if alternate else "Quantity")
        qty = r["proposed_quantity"] if pd.notna(r["proposed_quantity"]) else r["quantity"]
        self.quantity.setValue(float(qty or 0))
        when = r["proposed_date"] if r["proposed_date"] else r["need_date"]
        if when:
            self.date.setDate(QDate.fromString(str(when)[:10], "yyyy-MM-dd"))

    # --- deciding ---------------------------------------------------------------------------
    def _choice(self, key: Any, **extra: Any) -> Choice:
        r = self._frame.loc[key]
        seen = r.get("decision_version")  # as the queue was read: another buyer's since = conflict
        return Choice(recommendation=int(key), requisition=str(r["requisition"]),
                      expected_version=None if seen is None or pd.isna(seen) else int(seen),
                      **extra)

    def approve(self) -> None:
        key = self.queue.current_key()
        if key is not None:
            self._decide([self._choice(key, comment=self.comment.text())], "approve")

    def reject(self) -> None:
        key = self.queue.current_key()
        if key is not None:
            self._decide([self._choice(key, action=str(self._frame.loc[key]["action"]),
                                       comment=self.comment.text())], "reject")

    def modify(self) -> None:
        key = self.queue.current_key()
        if key is None:
            return
        action = str(self._frame.loc[key]["action"])
        date = dt.date.fromisoformat(self.date.date().toString("yyyy-MM-dd"))
        self._decide([self._choice(key, action=action, quantity=self.quantity.value(), date=date,
                                   comment=self.comment.text())], "modify")

    def approve_selected(self) -> None:
        keys = self.queue.selected_keys()
        if keys:
            self._decide([self._choice(k, comment=self.comment.text()) for k in keys], "approve")

    def _set_deciding(self, busy: bool) -> None:
        for b in (self.approve_button, self.reject_button, self.modify_button, self.bulk_button):
            b.setEnabled(not busy)

    def _decide(self, choices: list[Choice], verdict: str) -> None:
        self._set_deciding(True)
        self.change(decide, choices, verdict, self.ctx.settings.user,
                    then=partial(self._decided, verdict),
                    key="decide", on_finished=lambda: self._set_deciding(False),
                    on_failure=self._not_decided,
                    progress=f"Storing {len(choices)} decisions…" if len(choices) > 20 else None)

    def _not_decided(self, exc: BaseException) -> None:
        """Another buyer decided first (a team cache): say whose decision it is, reload."""
        from workbench.services.approvals import conflict_text
        from workbench.services.decisions import DecisionConflict

        if not isinstance(exc, DecisionConflict):
            self.failed("decide", exc)
            return
        self.status.setText(conflict_text(exc))
        self.reload()

    def _decided(self, verdict: str, outcomes: list[DecisionOutcome]) -> None:
        self.last_outcomes = outcomes
        queued = sum(1 for o in outcomes if o.outbox is not None)
        n = len(outcomes)
        self.status.setText(f"{n} decision{'s' if n != 1 else ''} ({verdict}) stored; "
                            f"{queued} queued for write-back.")
        self.comment.clear()
        self.reload()  # at once, also when no window broadcasts the change

    def next_row(self) -> None:
        self.queue.select_row(self.queue.view.currentIndex().row() + 1)

    def previous_row(self) -> None:
        self.queue.select_row(max(self.queue.view.currentIndex().row() - 1, 0))

    def reevaluate(self) -> None:
        """Read the unit tables (reader), ask the planning engine (planner), then store the
        advice through the single writer (advice held back by decisions stored held)."""
        self.reevaluate_button.setEnabled(False)
        self.query(unit_tables, then=self._evaluate, on_failure=self._reevaluate_failed)

    def _evaluate(self, units: UnitTables) -> None:
        self.query(evaluate, units, then=self._store, on_failure=self._reevaluate_failed,
                   progress="Re-evaluating requisitions…")

    def _store(self, evaluation: Evaluation) -> None:
        self.change(store_recommendations, evaluation, then=self._reevaluated,
                    on_failure=self._reevaluate_failed, key="reevaluate")

    def _reevaluate_failed(self, exc: BaseException) -> None:
        self.reevaluate_button.setEnabled(True)
        self.failed("re-evaluate", exc)

    def _reevaluated(self, result: Reevaluation) -> None:
        self.reevaluate_button.setEnabled(True)
        actions = ", ".join(f"{n} {a.replace('_', ' ')}" for a, n in result.actions.items())
        held = result.held
        self.status.setText(f"{result.stored} recommendations as of {result.planning_day}: "
                            f"{actions}."
                            + (f" {held} held back: the buyer's earlier decision stands and "
                               f"nothing material changed." if held else ""))
        self.reload()  # at once, also when no window broadcasts the change

    def focus_on(self, target: Any) -> None:
        combo = self.queue.pickers["action"]
        idx = combo.findData(str(target))
        if idx >= 0:
            combo.setCurrentIndex(idx)

    def save_state(self) -> dict[str, Any]:
        return {"pickers": {n: c.currentData() for n, c in self.queue.pickers.items()}}

    def splitters(self) -> dict[str, Any]:
        return {"main": self.split}


if __name__ == "__main__":
    from workbench.ui.panels.preview import preview

    preview(ApprovalsPanel)
