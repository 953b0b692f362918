"""The Where-used panel's what-if (table and chart) after a revision change comes from a replan
of what the change reaches (the delta replan, analysis.scenario.replan) and equals a full replan
of the changed data: each row of the what-if table has
the gross and net requirements of a full plan with revision A staying (before) and with B from
the date (after), and every row the table does not list is the same in both full plans."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from tests.analysis.builders import week
from tests.fixtures_connector import MemoryConnector
from tests.ui.conftest import make_context
from workbench.analysis import revisions
from workbench.analysis.netting import plan
from workbench.analysis.revisions import scenario_data
from workbench.analysis.scenario import replan as delta_replan
from workbench.cache.db import open_cache
from workbench.services import planning
from workbench.services.sync import run_sync
from workbench.ui.panels.whereused import WhereUsedPanel


def _plant() -> dict[str, list[dict]]:
    """TOP uses 1 P; P rev A: 2 x OLD + 1 x KEEP; draft B: 3 x KEEP + 1 x NEW (2 weeks' lead
    time, no stock). No work order: both sides are plain replans of the BOM."""
    day = (lambda b: week(b).isoformat())  # noqa: E731
    return {
        "uoms": [{"code": "EA"}],
        "sites": [{"code": "S1"}],
        "items": [{"code": "TOP", "make_buy": "make"}, {"code": "P", "make_buy": "make"},
                  {"code": "OLD"}, {"code": "KEEP"}, {"code": "NEW", "lead_time_days": 14}],
        "bom_revisions": [{"parent": "TOP", "revision": "A", "status": "released"},
                          {"parent": "P", "revision": "A", "status": "released"},
                          {"parent": "P", "revision": "B", "status": "draft"}],
        "bom_lines": [{"parent": "TOP", "revision": "A", "position": 10, "component": "P",
                       "quantity_per": 1},
                      *[{"parent": "P", "revision": r, "position": p, "component": c,
                         "quantity_per": q}
                        for r, p, c, q in (("A", 10, "OLD", 2), ("A", 20, "KEEP", 1),
                                           ("B", 20, "KEEP", 3), ("B", 30, "NEW", 1))]],
        "inventory": [{"item": "OLD", "site": "S1", "quantity": 15, "as_of": day(0)},
                      {"item": "KEEP", "site": "S1", "quantity": 40, "as_of": day(0)}],
        "demands": [{"code": "D1", "item": "P", "site": "S1", "quantity": 10, "due_date": day(1)},
                    {"code": "D2", "item": "P", "site": "S1", "quantity": 10, "due_date": day(3)},
                    {"code": "D3", "item": "TOP", "site": "S1", "quantity": 5, "due_date": day(4)}],
    }


def test_the_what_if_view_equals_a_full_replan(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "whatif.sqlite"
    assert run_sync(open_cache(path), MemoryConnector(_plant())).ok
    ctx = make_context(path, tmp_path, sources=[])
    # the impact's two scenarios (computed in the planner process) come from the delta replan:
    # only the revised parents' descendants re-netted, never a full plan
    assert revisions.replan is delta_replan
    panel = WhereUsedPanel(ctx)
    qtbot.addWidget(panel)
    panel.resize(1300, 800)
    with qtbot.waitSignal(panel.loaded, timeout=30_000):
        panel.show()
    qtbot.waitUntil(lambda: not panel.is_loading, timeout=30_000)
    with qtbot.waitSignal(panel.loaded, timeout=20_000):
        panel.set_parent("P")
    assert (panel.rev_from.currentData(), panel.rev_to.currentData()) == ("A", "B")
    panel.effective.setDate(week(2))
    with qtbot.waitSignal(panel.loaded, timeout=60_000):
        qtbot.mouseClick(panel.impact_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.whatif.model.rowCount() > 0, timeout=20_000)

    session = planning.open_session(ctx.engine)
    stay, move = scenario_data(session.data, "P", "A", "B", week(2))
    before, after = plan(stay, session.calendar), plan(move, session.calendar)

    def totals(p, item: str) -> tuple[float, float]:  # type: ignore[no-untyped-def]
        row = p.row(item, "S1")
        if row is None:
            return 0.0, 0.0
        return float(np.sum(p.gross[row])), float(np.sum(p.net[row]))

    model = panel.whatif.model
    listed = {model.value(r, "item") for r in range(model.rowCount())}
    assert {"OLD", "KEEP", "NEW"} <= listed  # rev B drops OLD, needs more KEEP, adds NEW
    for r in range(model.rowCount()):
        item = model.value(r, "item")
        assert np.allclose([model.value(r, "gross_a"), model.value(r, "net_a")],
                           totals(before, item)), item
        assert np.allclose([model.value(r, "gross_b"), model.value(r, "net_b")],
                           totals(after, item)), item
    for item in ("TOP", "P", "OLD", "KEEP", "NEW"):
        if item not in listed:
            assert np.allclose(totals(before, item), totals(after, item)), item
    # hand check: NEW (no stock) needs 1 per P planned from week 2 on
    new_row = next(r for r in range(model.rowCount()) if model.value(r, "item") == "NEW")
    assert model.value(new_row, "gross_a") == 0
    assert model.value(new_row, "net_b") == model.value(new_row, "gross_b") > 0
