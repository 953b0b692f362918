"""Overview, Shortages, Items & BOM, Where-used & Impact: driven as a planner would, checked
against the planning services' own answers on the same cache."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyqtgraph as pg
from PySide6.QtCore import Qt

from workbench.services import planning
from workbench.services.decisions import query_frame
from workbench.ui.mainwindow import MainWindow
from workbench.ui.panels.items import ItemsPanel
from workbench.ui.panels.shortages import ShortagesPanel, without_planned_orders
from workbench.ui.panels.whereused import WhereUsedPanel


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
    short = planning.shortages(session)
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
    expected = planning.shortages(session)
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
    detail = planning.shortages(session, item=item, site=site_)["rows"][0]
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
    diff = planning.impact(planning.open_session(ctx.engine), parent, in_force, draft)["diff"]
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
    answer = planning.where_used(session, component)
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
    imp = panel.last_impact
    assert imp is not None and imp["item"] == parent
    assert panel.diff.model.rowCount() == len(imp["diff"])
    assert panel.orders.model.rowCount() == len(imp["work_orders"])
    assert panel.new.model.rowCount() == len(imp["new_requirements"])
    assert f"excess value {imp['excess_value']:,.2f}" in panel.impact_summary.text()
    on = panel.effective.date().toPython()
    what_if = planning.what_if(session, parent, drafts.iloc[0]["revision"], on)
    assert panel.whatif.model.rowCount() == len(what_if["rows"])
    assert panel.whatif_plot.getPlotItem().getAxis("bottom").labelText == "First shortage date"
