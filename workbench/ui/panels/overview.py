"""Overview: the counts a planner checks first, each clickable to the panel that explains it.

Cheap counts (outbox, open advice, freshness) come from the cache
(:func:`workbench.app.sync.cache_counts`, reader process); the shortage and late-PO counts need
the planning session (:func:`workbench.app.planning.planning_counts`) and arrive when it is ready.
The exception cards (open messages by severity, by role and age band, by kind, the oldest) count
what the Exceptions panel lists (:func:`workbench.app.exception_views.exception_overview`); the
messages are computed first when they are older than the data. A click opens the Exceptions
panel filtered to what was clicked.
"""

from __future__ import annotations

from typing import Any, ClassVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workbench.app.exception_views import (
    AGE_BANDS,
    ExceptionOverview,
    age_band,
    exception_overview,
    exceptions_stale,
)
from workbench.app.planning import PlanningCounts, planning_counts
from workbench.app.sync import CacheCounts, age_text, cache_counts
from workbench.ui.messagerefresh import refresh_messages
from workbench.ui.panels.base import Panel, PanelContext
from workbench.ui.widgets import CountCard, heading, hint


class OverviewPanel(Panel):
    name = "overview"
    title = "Overview"
    cares_about: ClassVar[tuple[str, ...]] = ("data", "decisions", "outbox")

    def __init__(self, ctx: PanelContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.cards: dict[str, CountCard] = {}
        grid = QGridLayout()
        grid.setSpacing(14)
        specs = [
            ("short", "Items short in the horizon", "shortages", None),
            ("late", "Late PO lines (past their promised date)", "suppliers", None),
            ("advice", "Open recommendations waiting for a buyer", "approvals", None),
            ("outbox", "Outbox: decisions not yet confirmed by the source", "sync", None),
            ("failed", "Outbox: failed or in conflict", "sync", None),
            ("fresh", "Data freshness", "sync", None),
            ("exceptions", "Open exception messages", "exceptions", {}),
            ("high", "High-severity exception messages", "exceptions", {"severity": "high"}),
            ("oldest", "Oldest open exception message", "exceptions", {}),
        ]
        for i, (key, caption, target, arg) in enumerate(specs):
            card = CountCard(caption)
            card.setObjectName("countCard")
            card.setAccessibleName(key)
            card.clicked.connect(lambda k=key, t=target, a=arg: self._open(k, t, a))
            card.setMinimumHeight(130)
            self.cards[key] = card
            grid.addWidget(card, i // 3, i % 3)
        self.by_role = QTableWidget(0, len(AGE_BANDS))
        self.by_role.setObjectName("exceptionsByRoleAndAge")
        self.by_role.setHorizontalHeaderLabels([b[0] for b in AGE_BANDS])
        self.by_role.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.by_role.setToolTip("Open exception messages by role and age (days open); click a "
                                "number to list them")
        self.by_role.cellClicked.connect(self._role_clicked)
        self.kinds = QTableWidget(0, 2)
        self.kinds.setObjectName("exceptionsByKind")
        self.kinds.setHorizontalHeaderLabels(["Kind", "Open"])
        self.kinds.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.kinds.verticalHeader().setVisible(False)
        self.kinds.horizontalHeader().setStretchLastSection(True)
        self.kinds.setToolTip("Open exception messages by kind; click one to list them")
        self.kinds.cellClicked.connect(self._kind_clicked)
        self._oldest_band = ""
        self.day = QLabel("")
        lists = QHBoxLayout()
        for title, widget in (("Open messages by role and age", self.by_role),
                              ("Open messages by kind", self.kinds)):
            box = QVBoxLayout()
            box.addWidget(heading(title, 11))
            box.addWidget(widget, 1)
            lists.addLayout(box, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(heading(self.title, 14))
        layout.addWidget(hint("Click a card to open the panel that explains it."))
        layout.addWidget(self.day)
        layout.addLayout(grid)
        layout.addLayout(lists, 1)

    def reload(self) -> None:
        self.query(cache_counts, then=self._show_cache)
        self.query(planning_counts, then=self._show_plan)
        self.query(exceptions_stale, then=self._exceptions)

    # --- exception messages -----------------------------------------------------------------
    def _exceptions(self, stale: bool) -> None:
        if stale:  # computed first: the Overview is where the day starts
            refresh_messages(self, lambda _r: self._read_exceptions(),
                             on_failure=lambda exc: self.failed("exception messages", exc))
        else:
            self._read_exceptions()

    def _read_exceptions(self) -> None:
        self.query(exception_overview, then=self._show_exceptions)

    def _show_exceptions(self, e: ExceptionOverview) -> None:
        if e.planning_day is None:
            for key in ("exceptions", "high", "oldest"):
                self.cards[key].set_value("–", "not computed yet: open Exceptions", "")
            return
        sev = e.by_severity
        self.cards["exceptions"].set_value(
            e.open_total, f"{sev.get('high', 0)} high, {sev.get('medium', 0)} medium, "
                          f"{sev.get('low', 0)} low", "warn" if e.open_total else "good")
        high = sev.get("high", 0)
        self.cards["high"].set_value(high, "act on these first", "bad" if high else "good")
        if e.oldest_age_days is None:
            self.cards["oldest"].set_value("none", "no open message", "good")
            self._oldest_band = ""
        else:
            self._oldest_band = age_band(e.oldest_age_days)
            self.cards["oldest"].set_value(f"{e.oldest_age_days} d",
                                           f"{e.oldest_kind} (message {e.oldest_id})",
                                           "warn" if e.oldest_age_days > 7 else "")
        roles = sorted(e.by_role_and_age)
        self.by_role.setRowCount(len(roles))
        self.by_role.setVerticalHeaderLabels(roles)
        for r, role in enumerate(roles):
            for c, (band, _lo, _hi) in enumerate(AGE_BANDS):
                cell = QTableWidgetItem(f"{e.by_role_and_age[role].get(band, 0):,}")
                cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                cell.setData(Qt.ItemDataRole.UserRole, {"role": role, "age_band": band})
                self.by_role.setItem(r, c, cell)
        self.kinds.setRowCount(len(e.by_kind))
        for r, (label, n) in enumerate(e.by_kind.items()):
            for c, text in enumerate((label, f"{n:,}")):
                cell = QTableWidgetItem(text)
                cell.setData(Qt.ItemDataRole.UserRole, label)
                if c:
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.kinds.setItem(r, c, cell)
        self.kinds.resizeColumnToContents(0)

    def _open(self, key: str, target: str, arg: Any) -> None:
        if key == "oldest" and self._oldest_band:
            arg = {"age_band": self._oldest_band}
        self.navigate.emit(target, arg)

    def _role_clicked(self, row: int, column: int) -> None:
        cell = self.by_role.item(row, column)
        if cell is not None:
            self.navigate.emit("exceptions", cell.data(Qt.ItemDataRole.UserRole))

    def _kind_clicked(self, row: int, _column: int) -> None:
        cell = self.kinds.item(row, 0)
        if cell is not None:
            self.navigate.emit("exceptions", {"kind_label": cell.data(Qt.ItemDataRole.UserRole)})

    def _show_cache(self, c: CacheCounts) -> None:
        advice = c.open_recommendations
        total = sum(advice.values())
        self.cards["advice"].set_value(
            total, ", ".join(f"{n} {a.replace('_', ' ')}" for a, n in advice.items()) or
            "run Re-evaluate in Approvals", "warn" if total else "good")
        box = c.outbox
        waiting = c.outbox_count("queued", "sending", "sent")
        self.cards["outbox"].set_value(
            waiting, f"{box.get('queued', 0)} queued, {box.get('sent', 0)} sent, "
                     f"{box.get('confirmed', 0)} confirmed", "")
        bad = c.outbox_count("failed", "conflict")
        self.cards["failed"].set_value(
            bad, f"{box.get('failed', 0)} failed, {box.get('conflict', 0)} conflicts",
            "bad" if bad else "good")
        sources = c.sources
        if sources:
            oldest = min((s.last_success_at for s in sources if s.last_success_at), default=None)
            detail = "\n".join(f"{s.connector}: {age_text(s.last_success_at)} ({s.last_run_status})"
                               for s in sources)
            self.cards["fresh"].set_value(age_text(oldest), detail, "")
        else:
            self.cards["fresh"].set_value("never", "no sync yet", "bad")

    def _show_plan(self, c: PlanningCounts) -> None:
        self.day.setText(f"Planning day {c.planning_day} (the cache's as-of day), horizon "
                         f"{self.ctx.settings.planning.horizon_weeks} weeks.")
        first = f", first on {c.first}" if c.first else ""
        self.cards["short"].set_value(
            c.short_items, f"{c.short_rows} item/site rows{first}",
            "bad" if c.short_items else "good")
        self.cards["late"].set_value(c.late_po_lines, "open lines, by promised date",
                                     "warn" if c.late_po_lines else "good")


if __name__ == "__main__":
    from workbench.ui.panels.preview import preview

    preview(OverviewPanel)
