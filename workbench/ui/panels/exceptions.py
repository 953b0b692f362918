"""Exceptions: where a planner's or a buyer's day starts. Every exception message of the current
plan (docs/exceptions.md), filtered by role, kind, severity, age, state, decision, planner,
buyer, supplier and site; beside the selected one its evidence — what it says, the top-level
demands it endangers (pegging; a double click opens that demand's order) and the element list
of its item at its site with the message's line selected.

Keyboard triage on the table, like Approvals: A approve, R reject (a PO line's reschedule,
reduce, increase or cancel is queued for write-back; a work order's is recorded advice), C
acknowledge, S snooze for the chosen days, J / N next, K / P previous, O open the element list
in Shortages. A multi-row selection is acknowledged, snoozed, approved or rejected at once;
"Approve reschedules of …" approves every open reschedule of the selected message's supplier.

The messages are computed for the current plan when the stored ones are older than the data
(a sync since the last refresh) or on "Refresh messages": the three steps of
:mod:`workbench.app.exceptions` (site names from the cache, the messages on the plan, merged into
the stored state by a command). The table is built in the reader process
(:func:`~workbench.app.exception_views.exception_table`).
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from workbench.app import exceptions as ops
from workbench.app.element_views import OrderRef, locate_order, locate_orders
from workbench.app.exception_views import (
    FIRST_PAGE,
    MESSAGE_COLUMNS,
    ExceptionTable,
    MessageDetail,
    exception_detail,
    exception_table,
    exceptions_stale,
)
from workbench.app.tables import Col, format_value
from workbench.ui.elementlist import ElementListView
from workbench.ui.messagerefresh import refresh_messages
from workbench.ui.panels.base import Panel, PanelContext
from workbench.ui.widgets import TablePane, heading, hint

if TYPE_CHECKING:
    import pandas as pd

    from workbench.services.exceptions import RefreshResult

#: (column, what the picker's "All …" entry says) of the filters above the table
FILTERS = [("role", "roles"), ("kind_label", "kinds"), ("severity", "severities"),
           ("age_band", "ages"), ("state", "states"), ("decision", "decisions"),
           ("planner", "planners"), ("buyer", "buyers"), ("supplier_label", "suppliers"),
           ("site_label", "sites")]

ENDANGER_COLUMNS = [
    Col("peg", "Endangered demand", tip="Top-level demand or work order the element serves"),
    Col("item_label", "Item", tip="Item code and description of that demand"),
    Col("due_date", "Due", "date", tip="Due date of that demand"),
    Col("quantity", "Quantity", "qty", tip="Quantity of the element serving it"),
    Col("unit", "Unit", tip="Stock unit of the message's item"),
]

#: the kinds a buyer decides on (approve / reject: written back for PO lines)
DECIDABLE = ("reschedule_in", "reschedule_out", "cancel", "reduce", "increase")
RESCHEDULES = ("E01 reschedule in", "E02 reschedule out")


class ExceptionsPanel(Panel):
    name = "exceptions"
    title = "Exceptions"
    #: the messages follow the plan (data), their state and decisions, and write-backs
    cares_about: ClassVar[tuple[str, ...]] = ("data", "decisions", "outbox")

    def __init__(self, ctx: PanelContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.queue = TablePane(MESSAGE_COLUMNS, title="Exception messages",
                               placeholder="Filter element, item, description, reason…",
                               pickers=FILTERS, multi_select=True)
        self.queue.current_key_changed.connect(self._selected)
        self.queue.activated_key.connect(lambda _k: self.open_element_list())
        filters = QGridLayout()
        outer = self.queue.layout()
        row = outer.itemAt(1) if outer is not None else None
        bar = row.layout() if row is not None else None  # the TablePane's filter row
        for i, (name, _label) in enumerate(FILTERS):
            combo = self.queue.pickers[name]
            if bar is not None:
                bar.removeWidget(combo)
            # a long supplier name must not widen the table's side
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(8)
            filters.addWidget(combo, i // 5, i % 5)
        self.include_closed = QCheckBox("Show snoozed and resolved")
        self.include_closed.setToolTip("Also list messages snoozed until a later day and "
                                       "messages whose cause is gone")
        self.include_closed.toggled.connect(lambda _on: self.reload())
        self.refresh_button = QPushButton("Refresh messages")
        self.refresh_button.setToolTip("Compute the messages of the current plan again and "
                                       "merge them into the stored state (first seen is kept)")
        self.refresh_button.clicked.connect(lambda: self.refresh(force=True))

        self.summary = QTextBrowser()
        self.summary.setObjectName("messageEvidence")
        self.summary.setOpenLinks(False)
        self.summary.setMinimumHeight(90)
        self.endangers = TablePane(ENDANGER_COLUMNS, title="Endangered demands",
                                   placeholder="Filter demands…")
        self.endangers.activated_key.connect(self.open_demand)
        self.elements = ElementListView(self, key="message-elements", compact=True)
        self.elements.navigate_requested.connect(self.navigate.emit)

        self.snooze_days = QSpinBox()
        self.snooze_days.setRange(1, 365)
        self.snooze_days.setValue(7)
        self.snooze_days.setSuffix(" days")
        self.snooze_days.setToolTip("How long S / Snooze hides the message (planning days)")
        self.ack_button = self._button("Acknowledge (C)", self.acknowledge,
                                       "Mark the selected messages as seen; they stay listed")
        self.snooze_button = self._button("Snooze (S)", self.snooze,
                                          "Hide the selected messages for the chosen days")
        self.approve_button = self._button(
            "Approve (A)", self.approve, "Approve the advice of the selected messages: a PO "
            "line's change is queued for write-back, a work order's is recorded")
        self.reject_button = self._button("Reject (R)", self.reject,
                                          "Reject the advice of the selected messages")
        self.bulk_button = self._button(
            "Approve reschedules of the supplier", self.approve_supplier,
            "Approve every open reschedule-in/out message of the selected message's supplier")
        self.status = QLabel("")
        self.status.setObjectName("exceptionStatus")
        self.status.setWordWrap(True)

        actions = QHBoxLayout()
        for w in (self.ack_button, self.snooze_button, self.snooze_days, self.approve_button,
                  self.reject_button):
            actions.addWidget(w)
        actions.addStretch(1)
        top_right = QWidget()
        tl = QVBoxLayout(top_right)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addWidget(self.summary, 1)
        tl.addLayout(actions)
        tl.addWidget(self.bulk_button)
        tl.addWidget(self.status)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(top_right)
        right.addWidget(self.endangers)
        right.addWidget(self.elements)
        right.setSizes([230, 170, 300])  # the endangered demands: about four rows at 1280x720
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addLayout(filters)
        ll.addWidget(self.queue, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setSizes([600, 700])
        self.split, self.right = split, right
        head = QHBoxLayout()
        head.addWidget(heading(self.title, 14))
        head.addStretch(1)
        head.addWidget(self.include_closed)
        head.addWidget(self.refresh_button)
        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(hint("Where the day starts: every message of the current plan. Keys "
                              "on the table: A approve, R reject, C acknowledge, S snooze, "
                              "J / N next, K / P previous, O element list in Shortages."))
        layout.addWidget(split, 1)
        view = self.queue.view
        for keys, slot, what in (
                ("A", self.approve, "Approve the selected messages' advice"),
                ("R", self.reject, "Reject the selected messages' advice"),
                ("C", self.acknowledge, "Acknowledge the selected messages"),
                ("S", self.snooze, "Snooze the selected messages for the chosen days"),
                ("J", self.next_row, "Next message"), ("N", self.next_row, "Next message"),
                ("K", self.previous_row, "Previous message"),
                ("P", self.previous_row, "Previous message"),
                ("O", self.open_element_list, "Open the message's element list in Shortages")):
            shortcut = QShortcut(QKeySequence(keys), view)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.setWhatsThis(what)  # listed by Help ▸ Keyboard shortcuts
            shortcut.activated.connect(slot)
        self.planning_day: dt.date | None = None
        self.detail: MessageDetail | None = None
        self._wanted: dict[str, str] = {}
        self._endangered: pd.DataFrame | None = None
        self._force_refresh = False
        self._full = False
        self._refreshing = False
        self.last_refresh: RefreshResult | None = None
        self._set_deciding(False)

    def _button(self, text: str, slot: Any, tip: str) -> QPushButton:
        b = QPushButton(text)
        b.setToolTip(tip)
        b.clicked.connect(lambda _c=False: slot())
        return b

    # --- loading ----------------------------------------------------------------------------
    def on_changes(self, changes: Any) -> None:
        if changes.touches("data"):
            self._force_refresh = True  # the plan changed: its messages too
        super().on_changes(changes)

    def reload(self) -> None:
        if self._force_refresh:
            self._force_refresh = False
            self.refresh(force=True)
            return
        self.query(exceptions_stale, then=lambda stale: self.refresh(force=stale))

    def refresh(self, force: bool) -> None:
        """Compute and store the current plan's messages first when ``force``; then list."""
        if not force or self._refreshing:
            self._list()
            return
        self._refreshing = True
        self.refresh_button.setEnabled(False)
        self.status.setText("Computing the exception messages of the current plan…")
        refresh_messages(self, self._refreshed, self._refresh_failed)

    def _refresh_failed(self, exc: BaseException) -> None:
        self._refreshing = False
        self.refresh_button.setEnabled(True)
        self.status.setText("")
        self.failed("refresh messages", exc)

    def _refreshed(self, result: RefreshResult | None) -> None:
        self._refreshing = False
        self.refresh_button.setEnabled(True)
        if result is None:  # another panel's refresh runs: its broadcast reloads this one
            self._list()
            return
        self.last_refresh = result
        self.status.setText(f"Planning day {result.planning_day}: {result.new} new, "
                            f"{result.still_open} still open, {result.reappeared} raised again, "
                            f"{result.resolved} resolved.")
        self._list()

    def _list(self) -> None:
        """The first page at once (the pickers' filters and the limit applied in SQL), then the
        whole table (the pickers filter it in place)."""
        closed = self.include_closed.isChecked()
        filters = {n: str(c.currentData() or "") for n, c in self.queue.pickers.items()}
        filters.update(self._wanted)
        self._full = False
        self.query(exception_table, closed, limit=FIRST_PAGE,
                   filters={k: v for k, v in filters.items() if v}, then=self._first_page,
                   key="exception-page")
        self.query(exception_table, closed, then=self._show, key="exception-table",
                   progress="Reading exception messages…")

    def _first_page(self, answer: ExceptionTable) -> None:
        if self._full:  # the whole table came first
            return
        self._show(answer, complete=False)
        if answer.total > answer.rows:
            self.queue.count.setText(f"first {answer.rows:,} of {answer.total:,}…")

    def _show(self, answer: ExceptionTable, complete: bool = True) -> None:
        self._full = self._full or complete
        current = self.queue.current_key()
        row = self.queue.view.currentIndex().row()
        self.planning_day = answer.planning_day
        self.queue.model.set_table(answer.table)
        if complete:
            for name, _label in FILTERS:
                self.queue.set_picker_values(name, answer.table.distinct(name))
            self._apply_wanted()
        if not self.queue.model.rowCount():
            self.summary.setHtml("<p>No exception message to show.</p>" if answer.planning_day
                                 else "<p>No messages computed yet: press "
                                      "<b>Refresh messages</b>.</p>")
            return
        if current is None or not self.queue.select_key(current):
            self.queue.select_row(min(max(row, 0), self.queue.model.rowCount() - 1))

    # --- filters (also from the Overview) ---------------------------------------------------
    def focus_on(self, target: Any) -> None:
        """A dict of filters (column -> value, e.g. {"role": "buyer", "age_band": "3-7 d"}),
        the other filters cleared; or a message id."""
        if isinstance(target, int):
            self.queue.select_key(target)
            return
        if isinstance(target, dict):
            self._wanted = {str(k): str(v) for k, v in target.items()}
            self._apply_wanted()

    def _apply_wanted(self) -> None:
        if not self._wanted or not self.queue.model.total_rows:
            return
        wanted, self._wanted = self._wanted, {}
        for name, combo in self.queue.pickers.items():
            value = wanted.get(name, "")
            idx = combo.findData(value) if value else 0
            if idx < 0:  # no message with that value (any more): show none rather than all
                combo.addItem(value, value)
                idx = combo.count() - 1
            combo.setCurrentIndex(idx)
        if self.queue.model.rowCount():
            self.queue.select_row(0)

    # --- evidence ---------------------------------------------------------------------------
    def _selected(self, key: Any) -> None:
        if key is None:
            return
        self.query(exception_detail, int(key), then=self._show_detail, key="detail")

    def _show_detail(self, d: MessageDetail | None) -> None:
        self.detail = d
        if d is None:
            return
        m = d.message
        self.summary.setHtml(evidence_html(d))
        unit = str(m.get("unit") or "")
        import pandas as pd

        rows = [{"peg": p.get("peg", ""), "item_label": "", "due_date": p.get("due_date"),
                 "quantity": p.get("quantity"), "unit": unit} for p in m.get("endangers") or []]
        self._endangered = pd.DataFrame(rows, columns=[c.name for c in ENDANGER_COLUMNS])
        self.endangers.model.set_frame(self._endangered, "peg")
        if rows:
            self.query(locate_orders, [r["peg"] for r in rows], then=self._name_endangered,
                       key="endangered")
        decidable = d.kind in DECIDABLE and hasattr(ops, "decide_messages")
        self.approve_button.setEnabled(decidable)
        self.reject_button.setEnabled(decidable)
        supplier = str(m.get("supplier_name") or m.get("supplier") or "")
        self.bulk_button.setEnabled(bool(m.get("supplier")) and
                                    hasattr(ops, "approve_supplier_reschedules"))
        self.bulk_button.setText(f"Approve reschedules of {supplier}" if supplier
                                 else "Approve reschedules of the supplier")
        item, site = str(m.get("item") or ""), str(m.get("site") or "")
        if item and site:
            element = str(m.get("element") or "")
            if m.get("element_type") == "planned_order" or element.startswith("planned:"):
                element = f"planned:{item}@{site}"
            self.elements.show_item(item, site, select=element)

    def _name_endangered(self, places: dict[str, OrderRef]) -> None:
        frame = self._endangered
        if frame is None:
            return
        frame["item_label"] = [
            f"{places[p].item} {places[p].description} at {places[p].site}".strip()
            if p in places else "" for p in frame["peg"]]
        self.endangers.model.set_frame(frame, "peg")
        self.endangers.fit_columns()

    # --- drill-down -------------------------------------------------------------------------
    def open_element_list(self) -> None:
        """The element list of the selected message's item at its site, in Shortages."""
        if self.detail is not None:
            m = self.detail.message
            if m.get("item") and m.get("site"):
                self.navigate.emit("shortages", (str(m["item"]), str(m["site"]),
                                                 str(m.get("element") or "")))

    def open_demand(self, peg: Any) -> None:
        """A pegged demand: find its order, then open its element list in Shortages."""
        if peg:
            self.query(locate_order, str(peg), then=self._open_order, key="locate")

    def _open_order(self, ref: OrderRef | None) -> None:
        if ref is None:
            self.status.setText("That demand is no longer in the plan.")
            return
        self.navigate.emit("shortages", (ref.item, ref.site, ref.element))

    # --- triage -----------------------------------------------------------------------------
    def _ids(self) -> list[int]:
        keys = self.queue.selected_keys() or (
            [self.queue.current_key()] if self.queue.current_key() is not None else [])
        return [int(k) for k in keys]

    def _set_deciding(self, busy: bool) -> None:
        for b in (self.ack_button, self.snooze_button):
            b.setEnabled(not busy)
        decide = hasattr(ops, "decide_messages")
        for b in (self.approve_button, self.reject_button):
            b.setEnabled(not busy and decide)
        self.bulk_button.setEnabled(not busy and hasattr(ops, "approve_supplier_reschedules"))

    def acknowledge(self) -> None:
        ids = self._ids()
        if ids:
            self._run(ops.acknowledge_exceptions, ids, self.ctx.settings.user,
                      done=f"{len(ids)} acknowledged")

    def snooze(self) -> None:
        ids = self._ids()
        if not ids:
            return
        until = (self.planning_day or dt.date.today()) + dt.timedelta(
            days=self.snooze_days.value())
        self._run(ops.snooze_exceptions, ids, until, self.ctx.settings.user,
                  done=f"{len(ids)} snoozed until {until}")

    def approve(self) -> None:
        self._decide("approve")

    def reject(self) -> None:
        self._decide("reject")

    def _decide(self, verdict: str) -> None:
        ids = self._ids()
        if not ids or not hasattr(ops, "decide_messages"):
            return
        self._run(ops.decide_messages, ids, verdict, self.ctx.settings.user,
                  done=f"{len(ids)} {verdict}d", expected_versions=self._versions(ids))

    def _versions(self, ids: list[int]) -> dict[int, int]:
        """Message id -> the decision version of its element as the list was read (issue 17
        §2): on a team cache another buyer's decision since is refused, not overwritten."""
        table = self.queue.model.table
        found: dict[int, int] = {}
        if table is None or "decision_version" not in table.arrays:
            return found
        for i in ids:
            at = table.position_of(i)
            value = None if at is None else table.arrays["decision_version"][at]
            if value is not None and value == value:  # NaN: not known, not checked
                found[i] = int(value)
        return found

    def approve_supplier(self) -> None:
        if self.detail is None or not hasattr(ops, "approve_supplier_reschedules"):
            return
        supplier = str(self.detail.message.get("supplier") or "")
        if supplier:
            self._run(ops.approve_supplier_reschedules, supplier, self.ctx.settings.user,
                      done=f"reschedules of {supplier} approved")

    def _run(self, fn: Any, *args: Any, done: str, **kwargs: Any) -> None:
        self._set_deciding(True)
        self.change(fn, *args, **kwargs, then=partial(self._done, done), key="triage",
                    on_failure=lambda exc: self.failed(done.split()[-1], exc),
                    on_finished=lambda: self._set_deciding(False))

    def _done(self, what: str, value: Any) -> None:
        errors = [o for o in value if getattr(o, "error", None)] if isinstance(value, list) \
            else []
        text = f"{what}." if not errors else \
            f"{what}; {len(errors)} not decided: {errors[0].error}"
        if isinstance(value, list) and value and hasattr(value[0], "written_back"):
            queued = sum(1 for o in value if o.written_back)
            text = (f"{len(value) - len(errors)} decision(s) stored, {queued} queued for "
                    f"write-back" + (f"; {len(errors)} refused: {errors[0].error}"
                                     if errors else "."))
            conflicts = [o for o in errors if getattr(o, "conflict", None)]
            if conflicts:  # another buyer decided first (a team cache): name their decision
                text = conflict_text(conflicts[0].conflict, len(value) - len(errors),
                                     len(conflicts))
        self.status.setText(text)
        self._list()  # at once, also when no window broadcasts the change

    def next_row(self) -> None:
        self.queue.select_row(self.queue.view.currentIndex().row() + 1)

    def previous_row(self) -> None:
        self.queue.select_row(max(self.queue.view.currentIndex().row() - 1, 0))

    # --- state ------------------------------------------------------------------------------
    def save_state(self) -> dict[str, Any]:
        return {"pickers": {n: c.currentData() for n, c in self.queue.pickers.items()},
                "snooze_days": self.snooze_days.value()}

    def restore_state(self, state: dict[str, Any]) -> None:
        self.snooze_days.setValue(int(state.get("snooze_days", 7) or 7))

    def splitters(self) -> dict[str, Any]:
        return {"main": self.split, "right": self.right, "elements": self.elements.split}


def conflict_text(conflict: dict[str, Any], stored: int, refused: int) -> str:
    """What the panel says when another buyer decided an element first: their decision (who,
    login, role, when, what) and the user's own, not stored (as the Approvals panel says it)."""
    from workbench.services.decisions import describe

    what = str(conflict.get("target_kind") or "").replace("_", " ")
    more = f" ({refused - 1} more refused the same way)" if refused > 1 else ""
    return (f"Not stored: {what} {conflict.get('target')} was decided meanwhile by "
            f"{describe(conflict.get('theirs') or {})}. Yours was "
            f"{describe(conflict.get('ours') or {})}{more}."
            + (f" {stored} other decision(s) stored." if stored else "")
            + " The list is reloaded: look at their decision, then decide again.")


def _field(label: str, value: Any) -> str:
    return f"<tr><td style='color:#555;padding-right:8px'>{label}</td><td>{value}</td></tr>" \
        if value not in (None, "") else ""


def evidence_html(d: MessageDetail) -> str:
    """The message as the evidence pane shows it: code, kind and reason, the element with its
    item, site and supplier named, the dates, the advice with its unit, the state."""
    import html

    m = d.message
    unit = str(m.get("unit") or "")

    def q(v: Any) -> str:
        return "" if v is None else f"{format_value(float(v), 'qty')} {unit}".strip()

    item = f"{m.get('item', '')} {m.get('item_description') or ''}".strip()
    site = f"{m.get('site', '')} {m.get('site_name') or ''}".strip()
    supplier = f"{m.get('supplier_name') or ''} ({m['supplier']})" if m.get("supplier") else ""
    advice = " ".join(x for x in (f"to {m['suggested_date']}" if m.get("suggested_date") else "",
                                  f"quantity {q(m.get('suggested_quantity'))}"
                                  if m.get("suggested_quantity") is not None else "") if x)
    state = d.state + (f" by {d.acknowledged_by}" if d.acknowledged_by else "") + \
        (f" until {d.snoozed_until}" if d.snoozed_until else "")
    rows = "".join(_field(k, html.escape(str(v))) for k, v in (
        ("Element", f"{m.get('element', '')} ({str(m.get('element_type', '')).replace('_', ' ')})"),
        ("Item", item), ("Site", site), ("Supplier", supplier),
        ("Due", m.get("due_date")), ("Needed", m.get("need_date")),
        ("Open quantity", q(m.get("quantity"))), ("Advice", advice),
        ("Days", format_value(float(m["days"]), "days") if m.get("days") is not None else ""),
        ("Role", f"{m.get('role', '').replace('_', ' ')}, severity {m.get('severity', '')}"),
        ("Planner / buyer", " / ".join(x for x in (m.get("planner"), m.get("buyer")) if x)),
        ("State", f"{state}, open {d.age_days} d (first seen {d.first_seen})")))
    title = html.escape(f"{d.code} {d.kind.replace('_', ' ')}: {m.get('reason', '')}")
    return f"<p><b>{title}</b></p><table>{rows}</table>"


if __name__ == "__main__":
    from workbench.ui.panels.preview import preview

    preview(ExceptionsPanel)
