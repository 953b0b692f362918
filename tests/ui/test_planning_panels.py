"""Overview, Shortages, Items & BOM, Where-used & Impact: driven as a planner would, checked
against the planning services' own answers on the same cache."""

from __future__ import annotations

import datetime as dt
import time

import numpy as np
import pandas as pd
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QProgressDialog

from tests.analysis.builders import week
from tests.fixtures_connector import MemoryConnector
from tests.ui.conftest import make_context
from workbench.app import planning as app_planning
from workbench.app.ops import planning_query
from workbench.cache.db import open_cache
from workbench.services import planning
from workbench.services.decisions import query_frame
from workbench.services.sync import run_sync
from workbench.ui.mainwindow import MainWindow
from workbench.ui.operations import DIALOG_DELAY_MS
from workbench.ui.panels import whereused
from workbench.ui.panels.items import ItemsPanel
from workbench.ui.panels.shortages import ShortagesPanel, without_planned_orders
from workbench.ui.panels.whereused import WhereUsedPanel


def pg_seconds(day: dt.date) -> float:
    return float((day - dt.date(1970, 1, 1)).days * 86400)


def _show(qtbot, panel):  # type: ignore[no-untyped-def]
    qtbot.addWidget(panel)
    panel.resize(1300, 800)
    with qtbot.waitSignal(panel.loaded, timeout=30_000):
        panel.show()
    qtbot.waitUntil(lambda: not panel.is_loading, timeout=30_000)
    return panel


def test_overview_cards_match_the_plan_and_open_their_panel(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    overview = window.panels["overview"]
    qtbot.waitUntil(lambda: overview.has_loaded and not overview.is_loading, timeout=30_000)
    session = planning.open_session(window.ctx.engine)
    short = planning.shortages(session).to_json()
    items = {r["item"] for r in short["rows"]}
    assert overview.cards["short"].value.text() == f"{len(items):,}"
    assert f"{short['rows_total']} item/site rows" in overview.cards["short"].detail.text()
    assert overview.cards["outbox"].value.text() == "0"
    qtbot.mouseClick(overview.cards["short"], Qt.MouseButton.LeftButton)
    assert window.current_panel is window.panels["shortages"]
    window.go_to("overview")
    qtbot.mouseClick(overview.cards["failed"], Qt.MouseButton.LeftButton)
    assert window.current_panel is window.panels["sync"]


def test_shortage_table_and_timeline_of_the_selected_row(qtbot, ctx) -> None:  # type: ignore[no-untyped-def]
    panel = _show(qtbot, ShortagesPanel(ctx))
    session = planning.open_session(ctx.engine)
    expected = planning.shortages(session).to_json()
    model = panel.table.model
    assert model.total_rows == expected["rows_total"]
    # filter to one site with the picker, as a planner responsible for it would
    combo = panel.table.pickers["site"]
    site = combo.itemData(1)
    combo.setCurrentIndex(1)
    assert {model.value(r, "site") for r in range(model.rowCount())} == {site}
    assert model.rowCount() == sum(1 for r in expected["rows"] if r["site"] == site)
    with qtbot.waitSignal(panel.loaded, timeout=20_000):
        panel.table.select_row(0)
    item, site_ = panel.table.current_key()
    t = panel.current
    assert t is not None and (t.item, t.site) == (item, site_)
    detail = planning.shortages(session, item=item, site=site_).to_json()["rows"][0]
    record = pd.DataFrame(detail["record"])
    np.testing.assert_allclose(without_planned_orders(t.record), without_planned_orders(record))
    # the shortage is visible: the line goes below safety stock where the table says it starts
    below = without_planned_orders(record) < detail["safety_stock"] - 1e-9
    first_short = record["date"][below.argmax()]
    assert str(first_short) == str(model.value(0, "first_shortage_date"))
    names = [i.name() for i in panel.plot.getPlotItem().listDataItems() if i.name()]
    assert {"Projected available", "Safety stock"} <= set(names)
    regions = [i for i in panel.plot.getPlotItem().items if isinstance(i, pg.LinearRegionItem)]
    assert regions  # the shortage weeks are highlighted
    assert panel.pegs.model.rowCount() == len(detail["requirements"])
    # pegged quantities read as a planner writes them (1,249.56), never 1.25e+03
    for r, requirement in enumerate(detail["requirements"]):
        shown = panel.pegs.model.value(r, "pegged_to")
        for peg in requirement["pegs"]:
            assert f"{peg['peg']} ({peg['quantity']:,.3f}".rstrip("0").rstrip(".") in shown
        assert "e+" not in shown
    assert panel.plot.getPlotItem().getAxis("left").labelText == "Quantity (stock unit)"


def test_risk_adjusted_toggle_adds_the_line(qtbot, ctx) -> None:  # type: ignore[no-untyped-def]
    panel = _show(qtbot, ShortagesPanel(ctx))
    qtbot.waitUntil(lambda: panel.current is not None, timeout=20_000)
    with qtbot.waitSignal(panel.loaded, timeout=20_000):
        panel.risk.setChecked(True)
    assert panel.current.risk_record is not None
    names = [i.name() for i in panel.plot.getPlotItem().listDataItems()]
    assert "Risk-adjusted" in names


def test_bom_tree_and_coloured_revision_diff(qtbot, ctx) -> None:  # type: ignore[no-untyped-def]
    drafts = query_frame(ctx.engine, "SELECT parent, revision FROM bom_revisions WHERE status = "
                         "'draft' ORDER BY parent")
    parent, draft = drafts.iloc[0]["parent"], drafts.iloc[0]["revision"]
    panel = _show(qtbot, ItemsPanel(ctx))
    panel.focus_on(parent)
    bom = panel.bom
    qtbot.waitUntil(lambda: bom.tree_model.rowCount() > 0, timeout=10_000)
    in_force = bom.revision.currentData()
    lines = query_frame(ctx.engine, "SELECT component FROM bom_lines WHERE parent = ? AND "
                        "revision = ? AND deleted_at IS NULL ORDER BY position", (parent, in_force))
    tree = [bom.tree_model.item(r, 0).text() for r in range(bom.tree_model.rowCount())]
    assert tree == list(lines["component"])
    # expanding a sub-assembly reads its own BOM
    sub = next(r for r in range(bom.tree_model.rowCount()) if bom.tree_model.item(r, 0).hasChildren())
    index = bom.tree_model.index(sub, 0)
    bom.tree.expand(index)
    qtbot.waitUntil(lambda: bom.tree_model.item(sub, 0).child(0, 0).text() != "…", timeout=10_000)
    # compare with the draft: added / removed / changed rows carry their tone
    bom.compare.setCurrentIndex(bom.compare.findData(draft))
    diff = planning.impact(planning.open_session(ctx.engine), parent, in_force, draft).diff
    qtbot.waitUntil(lambda: bom.diff.model.rowCount() == len(diff), timeout=10_000)
    assert bom.diff_tones() == {d["component"]: d["change"] for d in diff}
    assert bom.diff.model.data(bom.diff.model.index(0, 0), Qt.ItemDataRole.BackgroundRole) is not None


def test_where_used_tree_and_revision_impact(qtbot, ctx) -> None:  # type: ignore[no-untyped-def]
    session = planning.open_session(ctx.engine)
    drafts = query_frame(ctx.engine, "SELECT parent, revision FROM bom_revisions WHERE status = "
                         "'draft' ORDER BY parent")
    parent = drafts.iloc[0]["parent"]
    component = query_frame(ctx.engine, "SELECT component FROM bom_lines WHERE parent = ? "
                            "ORDER BY position LIMIT 1", (parent,))["component"].iloc[0]
    panel = _show(qtbot, WhereUsedPanel(ctx))
    with qtbot.waitSignal(panel.loaded, timeout=20_000):
        qtbot.keyClicks(panel.item, component)
        qtbot.keyClick(panel.item, Qt.Key.Key_Return)
    answer = planning.where_used(session, component).to_json()
    assert panel.ancestors.model.rowCount() == len(answer["ancestors"])
    tops = {d["parent"] for d in answer["direct"]}
    roots = {panel.tree_model.item(r, 0).text() for r in range(panel.tree_model.rowCount())}
    assert roots == tops
    # the planner double-clicks the parent among the assemblies to study its draft revision
    with qtbot.waitSignal(panel.loaded, timeout=20_000):
        panel.set_parent(parent)
    assert panel.rev_to.currentData() == drafts.iloc[0]["revision"]
    with qtbot.waitSignal(panel.loaded, timeout=60_000):
        qtbot.mouseClick(panel.impact_button, Qt.MouseButton.LeftButton)
    imp = panel.last_impact and panel.last_impact.to_json()
    assert imp is not None and imp["item"] == parent
    assert panel.diff.model.rowCount() == len(imp["diff"])
    assert panel.orders.model.rowCount() == len(imp["work_orders"])
    assert panel.new.model.rowCount() == len(imp["new_requirements"])
    assert f"excess value {imp['excess_value']:,.2f}" in panel.impact_summary.text()
    on = panel.effective.date().toPython()
    what_if = planning.what_if(session, parent, drafts.iloc[0]["revision"], on).to_json()
    assert panel.whatif.model.rowCount() == len(what_if["rows"])
    # the what-if chart is the plan before vs after, week by week (issue 10: it was first-shortage
    # markers on a "First shortage date" axis without a year); its weeks carry the year
    axis = panel.whatif_plot.getPlotItem().getAxis("bottom")
    assert axis.labelText == "Week starting"
    assert axis.tickStrings([pg_seconds(on)], 1, 7 * 86400) == [on.strftime("%d %b %y")]


def _draft_shortage_plant() -> dict[str, list[dict]]:
    """P rev A: 2 x OLD + 1 x KEEP; draft B: 3 x KEEP + 1 x NEW, which nobody stocks — switching
    to B creates a new shortage (the case the what-if once failed on). W1 is released (keeps its
    components), W2 planned (follows B)."""
    day = (lambda b: week(b).isoformat())  # noqa: E731
    wo = [("W1", "released", 2), ("W2", "planned", 3)]
    return {
        "uoms": [{"code": "EA"}],
        "sites": [{"code": "S1"}],
        "items": [{"code": "TOP", "make_buy": "make"}, {"code": "P", "make_buy": "make"},
                  {"code": "OLD", "standard_cost": 4.0}, {"code": "KEEP", "standard_cost": 1.0},
                  {"code": "NEW", "lead_time_days": 14}],
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
        "work_orders": [{"code": c, "item": "P", "site": "S1", "quantity": 5, "start_date": day(b),
                         "due_date": day(b), "status": s, "bom_revision": "A"} for c, s, b in wo],
        "work_order_components": [
            {"work_order": c, "position": p, "component": comp, "required_quantity": q,
             "required_date": day(b)}
            for c, _s, b in wo for p, comp, q in ((10, "OLD", 10), (20, "KEEP", 5))],
    }


@planning_query
def slow_impact(session, *args, **kw):  # type: ignore[no-untyped-def]
    """The panel's impact query, slow enough for "Computing the impact…" to appear first."""
    time.sleep(DIALOG_DELAY_MS / 1000 + 0.6)
    return app_planning.impact(session, *args, **kw)


def _open_dialogs(panel: WhereUsedPanel) -> list[QProgressDialog]:
    return [d for d in panel.findChildren(QProgressDialog) if d.isVisible()]


def test_what_if_of_a_draft_creating_a_new_shortage(qtbot, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "hand.sqlite"
    assert run_sync(open_cache(path), MemoryConnector(_draft_shortage_plant())).ok
    ctx = make_context(path, tmp_path, sources=[])
    panel = _show(qtbot, WhereUsedPanel(ctx))
    assert panel.where_on.date().toPython() == week(0)  # the cache's planning day
    with qtbot.waitSignal(panel.loaded, timeout=20_000):
        panel.set_parent("P")
    assert (panel.rev_from.currentData(), panel.rev_to.currentData()) == ("A", "B")
    panel.effective.setDate(week(2))
    monkeypatch.setattr(whereused, "impact", slow_impact)
    with qtbot.waitSignal(panel.loaded, timeout=60_000):
        qtbot.mouseClick(panel.impact_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: bool(_open_dialogs(panel)), timeout=20_000)
    # no error, the progress dialog closed (the chart's TypeError once left it open for ever),
    # the button usable again
    qtbot.waitUntil(lambda: not _open_dialogs(panel), timeout=5_000)
    assert not [w for w in QApplication.topLevelWidgets()
                if isinstance(w, (QMessageBox, QProgressDialog)) and w.isVisible()]
    assert panel.impact_button.isEnabled()
    imp = planning.impact(planning.open_session(ctx.engine), "P", "A", "B", week(2)).to_json()
    summary = imp["summary"]
    assert panel.impact_summary.text() == summary["text"]
    # the summary counts what the tables show
    assert summary["new_shortage_rows"] == panel.new.model.rowCount() >= 1
    assert "NEW" in {panel.new.model.value(r, "item") for r in range(panel.new.model.rowCount())}
    assert f"{panel.new.model.rowCount()} row(s) with new shortages" in panel.impact_summary.text()
    assert summary["changed_rows"] == panel.whatif.model.rowCount() == len(imp["affected_rows"])
    assert f"{panel.whatif.model.rowCount()} row(s) change" in panel.impact_summary.text()
    assert panel.demands.model.rowCount() == summary["demands"] == len(imp["demands"]) == 2
    fates = {panel.orders.model.value(r, "code"): panel.orders.model.value(r, "after_change")
             for r in range(panel.orders.model.rowCount())}
    assert fates == {"W1": "keeps the components of A (released)",
                     "W2": "follows B (not released yet)"}
    assert f"{summary['planned_orders_follow']} planned order(s) follow B" in \
        panel.impact_summary.text()
    # the chart: the row short only after the change, before vs after, week by week
    assert panel.whatif.current_key() == ("NEW", "S1")
    names = {i.name() for i in panel.whatif_plot.getPlotItem().listDataItems() if i.name()}
    assert {"Before (A)", f"After (B from {week(2)})", "Safety stock"} <= names
    after = next(i for i in panel.whatif_plot.getPlotItem().listDataItems()
                 if i.name() == f"After (B from {week(2)})")
    weeks = {(r["item"], r["site"]): r for r in imp["weeks"]["rows"]}
    np.testing.assert_allclose(after.getData()[1], weeks[("NEW", "S1")]["projected_b"])
    axis = panel.whatif_plot.getPlotItem().getAxis("bottom")
    assert axis.tickStrings([pg_seconds(week(2))], 1, 7 * 86400) == [week(2).strftime("%d %b %y")]
    regions = [i for i in panel.whatif_plot.getPlotItem().items
               if isinstance(i, pg.LinearRegionItem)]
    assert regions  # the week short only after the change is shaded
    panel.grab().save(str(tmp_path / "impact.png"))


def test_impact_that_changes_nothing_says_why(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "hand.sqlite"
    assert run_sync(open_cache(path), MemoryConnector(_draft_shortage_plant())).ok
    ctx = make_context(path, tmp_path, sources=[])
    panel = _show(qtbot, WhereUsedPanel(ctx))
    with qtbot.waitSignal(panel.loaded, timeout=20_000):
        panel.set_parent("P")
    panel.effective.setDate(week(40))  # past the 26-week horizon
    with qtbot.waitSignal(panel.loaded, timeout=60_000):
        qtbot.mouseClick(panel.impact_button, Qt.MouseButton.LeftButton)
    assert panel.impact_summary.text().endswith(
        f"Nothing changes in the horizon, because {week(40)} is after the planning horizon, "
        f"which ends on {week(25, 6)}.")
    assert panel.whatif.model.rowCount() == 0
    texts = [i for i in panel.whatif_plot.getPlotItem().items if isinstance(i, pg.TextItem)]
    assert len(texts) == 1 and "after the planning horizon" in texts[0].toPlainText()


def test_where_used_on_a_date(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    rows = _draft_shortage_plant()
    # P rev A ends before week 4 and the draft is released from then on: NEW is used in P
    # (and so in TOP) only from week 4
    rows["bom_revisions"][1]["effective_to"] = week(3, 6).isoformat()
    rows["bom_revisions"][2].update(status="released", effective_from=week(4).isoformat())
    path = tmp_path / "hand.sqlite"
    assert run_sync(open_cache(path), MemoryConnector(rows)).ok
    ctx = make_context(path, tmp_path, sources=[])
    panel = _show(qtbot, WhereUsedPanel(ctx))
    panel.item.setText("NEW")
    with qtbot.waitSignal(panel.loaded, timeout=20_000):
        panel.show_where_used()
    assert panel.ancestors.model.rowCount() == 0
    assert f"on {week(0)}" in panel.summary.text()
    panel.where_on.setDate(week(5))
    with qtbot.waitSignal(panel.loaded, timeout=20_000):
        panel.show_where_used()
    got = {panel.ancestors.model.value(r, "item") for r in range(panel.ancestors.model.rowCount())}
    assert got == {"P", "TOP"}
    assert f"on {week(5)}" in panel.summary.text()


def test_a_failing_impact_closes_its_dialog_and_shows_the_error(qtbot, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "hand.sqlite"
    assert run_sync(open_cache(path), MemoryConnector(_draft_shortage_plant())).ok
    ctx = make_context(path, tmp_path, sources=[])
    panel = _show(qtbot, WhereUsedPanel(ctx))
    with qtbot.waitSignal(panel.loaded, timeout=20_000):
        panel.set_parent("P")
    panel.rev_to.setItemData(panel.rev_to.currentIndex(), "Z")  # a revision P does not have
    monkeypatch.setattr(whereused, "impact", slow_impact)
    with qtbot.waitSignal(panel.loaded, timeout=60_000):
        qtbot.mouseClick(panel.impact_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: bool(_open_dialogs(panel)), timeout=20_000)
    qtbot.waitUntil(lambda: not _open_dialogs(panel), timeout=5_000)
    boxes = [b for b in panel.findChildren(QMessageBox) if b.isVisible()]
    assert len(boxes) == 1 and "no revision 'Z' of 'P'" in boxes[0].text()
    assert boxes[0].windowTitle() == "Where-used & Impact: impact failed"
    assert panel.impact_button.isEnabled()
    boxes[0].close()
