"""Overview: the counts a planner checks first, each clickable to the panel that explains it.

Cheap counts (outbox, open advice, freshness) come from the cache
(:func:`workbench.app.sync.cache_counts`, reader process); the shortage and late-PO counts need
the planning session (:func:`workbench.app.planning.planning_counts`) and arrive when it is ready.
"""

from __future__ import annotations

from typing import ClassVar

from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from workbench.app.planning import PlanningCounts, planning_counts
from workbench.app.sync import CacheCounts, age_text, cache_counts
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
        ]
        for i, (key, caption, target, arg) in enumerate(specs):
            card = CountCard(caption)
            card.setObjectName("countCard")
            card.setAccessibleName(key)
            card.clicked.connect(lambda t=target, a=arg: self.navigate.emit(t, a))
            card.setMinimumHeight(130)
            self.cards[key] = card
            grid.addWidget(card, i // 3, i % 3)
        self.day = QLabel("")
        layout = QVBoxLayout(self)
        layout.addWidget(heading(self.title, 14))
        layout.addWidget(hint("Click a card to open the panel that explains it."))
        layout.addWidget(self.day)
        layout.addLayout(grid)
        layout.addStretch(1)

    def reload(self) -> None:
        self.query(cache_counts, then=self._show_cache)
        self.query(planning_counts, then=self._show_plan)

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
