"""Suppliers: ranking by expected slip, the selected supplier's slip distribution and on-time
trend, and a PO line's promise-date history — checked against the slippage analysis."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest

from workbench.services import planning
from workbench.ui.panels.suppliers import SuppliersPanel


def test_ranking_charts_and_promise_history(qtbot, ctx) -> None:  # type: ignore[no-untyped-def]
    panel = SuppliersPanel(ctx)
    qtbot.addWidget(panel)
    panel.resize(1400, 850)
    with qtbot.waitSignal(panel.loaded, timeout=30_000):
        panel.show()
    qtbot.waitUntil(lambda: not panel.is_loading and panel.lines.model.rowCount() > 0,
                    timeout=30_000)
    slip = planning.slippage(planning.open_session(ctx.engine)).to_json()
    suppliers = sorted(slip["suppliers"], key=lambda s: (-s["expected_slip_days"], s["supplier"]))
    model = panel.ranking.model
    assert model.visible_keys() == [s["supplier"] for s in suppliers]  # worst first
    worst = suppliers[0]
    assert model.value(0, "expected_slip_days") == pytest.approx(worst["expected_slip_days"])
    assert worst["expected_slip_days"] > 0

    received = [ln for ln in slip_lines(ctx, worst["supplier"]) if ln["delivery_slip_days"] is not None]
    bars = [i for i in panel.slip_plot.getPlotItem().items if isinstance(i, pg.BarGraphItem)]
    assert int(np.sum(bars[0].opts["height"])) == len(received)
    assert panel.slip_plot.getPlotItem().getAxis("bottom").labelText.startswith("Slip (days")
    assert panel.lines.model.total_rows == len(slip_lines(ctx, worst["supplier"]))

    # the line with the most promise changes is selected; its history is drawn as steps
    po, line = panel.lines.current_key()
    changes = [c for c in planning.open_session(ctx.engine).data.promise_changes.itertuples()
               if c.purchase_order == po and c.line == line and c.promised_date is not None]
    qtbot.waitUntil(lambda: po in panel.history_plot.getPlotItem().titleLabel.text, timeout=10_000)
    scatter = [i for i in panel.history_plot.getPlotItem().items if isinstance(i, pg.ScatterPlotItem)]
    assert len(scatter[0].data) == len(changes) > 1


def slip_lines(ctx, supplier: str) -> list[dict]:  # type: ignore[no-untyped-def]
    lines = planning.slippage(planning.open_session(ctx.engine), supplier=supplier).to_json()["lines"]
    return lines
