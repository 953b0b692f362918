"""Items & BOM: the item list filters and sorts; 200,000 items stay responsive; export."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from PySide6.QtCore import QPoint, Qt

from tests.ui.gapmeter import GapMeter
from workbench.app.tables import TableData
from workbench.cache.frames import read_entity_frame
from workbench.ui.panels.items import ITEM_COLUMNS, ItemsPanel
from workbench.ui.widgets import FILTER_DEBOUNCE_MS, TablePane


def _panel(qtbot, ctx) -> ItemsPanel:  # type: ignore[no-untyped-def]
    panel = ItemsPanel(ctx)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.loaded, timeout=10_000):
        panel.show()
    return panel


def test_items_table_filters_as_the_planner_types(qtbot, ctx) -> None:  # type: ignore[no-untyped-def]
    panel = _panel(qtbot, ctx)
    items = read_entity_frame(ctx.engine, "items")
    model = panel.items.model
    assert model.rowCount() == len(items)
    # a word from some description, typed letter by letter
    word = items["description"].str.split().str[0].value_counts().index[0].lower()
    expected = items[items["code"].str.lower().str.contains(word, regex=False)
                     | items["description"].str.lower().str.contains(word, regex=False)
                     | items["planner"].str.lower().str.contains(word, regex=False)
                     | items["buyer"].str.lower().str.contains(word, regex=False)
                     | items["default_supplier"].str.lower().str.contains(word, regex=False)]
    with qtbot.waitSignal(model.query_applied, timeout=5000):
        qtbot.keyClicks(panel.items.filter, word)
    assert 0 < model.rowCount() == len(expected) < len(items)
    assert set(model.visible_keys()) == set(expected["code"])
    assert panel.items.count.text() == f"{len(expected):,} of {len(items):,}"
    # the picker narrows further to one planner
    planner = expected["planner"].value_counts().index[0]
    combo = panel.items.pickers["planner"]
    combo.setCurrentIndex(combo.findData(planner))
    assert set(model.visible_keys()) == set(expected.loc[expected["planner"] == planner, "code"])
    # clearing the box brings every item back
    with qtbot.waitSignal(model.query_applied, timeout=5000):
        panel.items.filter.clear()
    combo.setCurrentIndex(0)
    assert model.rowCount() == len(items)


def test_header_click_sorts_by_lead_time(qtbot, ctx) -> None:  # type: ignore[no-untyped-def]
    panel = _panel(qtbot, ctx)
    view = panel.items.view
    column = [c.name for c in ITEM_COLUMNS].index("lead_time_days")
    header = view.horizontalHeader()
    x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(x, 5))
    model = panel.items.model
    values = [model.value(r, "lead_time_days") for r in range(model.rowCount())]
    assert values == sorted(values)
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(x, 5))
    values = [model.value(r, "lead_time_days") for r in range(model.rowCount())]
    assert values == sorted(values, reverse=True)


def test_selecting_an_item_shows_its_bom(qtbot, ctx) -> None:  # type: ignore[no-untyped-def]
    panel = _panel(qtbot, ctx)
    parents = read_entity_frame(ctx.engine, "bom_revisions")["parent"]
    code = min(set(parents))
    panel.focus_on(code)
    assert panel.items.current_key() == code
    assert panel.bom.item == code


def _large_items(n: int = 200_000) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    words = np.array(["Bracket", "Housing", "Shaft", "Gear", "Cable", "Bolt", "Panel", "Valve"])
    return pd.DataFrame({
        "code": [f"IT-{i:06d}" for i in range(n)],
        "description": [f"{w} {s} mm" for w, s in zip(words[rng.integers(0, 8, n)],
                                                     rng.integers(1, 500, n))],
        "make_buy": rng.choice(["make", "buy"], n),
        "stock_uom": "EA",
        "lead_time_days": rng.integers(0, 90, n),
        "safety_stock": rng.integers(0, 100, n).astype(float),
        "standard_cost": rng.random(n) * 100,
        "planner": rng.choice([f"planner{i}" for i in range(20)], n),
        "buyer": rng.choice([f"buyer{i}" for i in range(14)], n),
        "default_supplier": rng.choice([f"S{i:03d}" for i in range(800)], n),
    })


def test_200k_items_filter_and_sort_without_freezing(qtbot) -> None:  # type: ignore[no-untyped-def]
    frame = _large_items()
    table = TableData.from_frame(frame, ITEM_COLUMNS, "code")
    pane = TablePane(ITEM_COLUMNS, title="Items")
    qtbot.addWidget(pane)
    pane.resize(1200, 700)
    pane.show()
    pane.model.set_table(table)
    qtbot.waitUntil(lambda: pane.model.rowCount() == 200_000, timeout=10_000)

    expected = frame["description"].str.lower().str.contains("gear", regex=False) & (
        frame["description"].str.lower().str.contains("12", regex=False)
        | frame["code"].str.contains("12", regex=False)
        | frame["default_supplier"].str.contains("12", regex=False)
        | frame["planner"].str.contains("12", regex=False)
        | frame["buyer"].str.contains("12", regex=False))
    meter = GapMeter()  # computing the expectation above must not count as a UI freeze
    meter.start()
    started = time.perf_counter()
    with qtbot.waitSignal(pane.model.query_applied, timeout=10_000):
        qtbot.keyClicks(pane.filter, "gear 12")
    assert pane.model.rowCount() == int(expected.sum())
    with qtbot.waitSignal(pane.model.query_applied, timeout=10_000):
        pane.filter.clear()
    with qtbot.waitSignal(pane.model.query_applied, timeout=10_000):
        pane.view.sortByColumn(1, Qt.SortOrder.AscendingOrder)  # description: a text sort
    elapsed = time.perf_counter() - started
    meter.stop()
    descriptions = [pane.model.value(r, "description") for r in range(0, 200_000, 997)]
    assert descriptions == sorted(descriptions)
    # the UI thread kept serving events: no gap anywhere near a visible freeze
    print(meter.report())
    assert meter.max_blocked < 0.1, meter.report()
    assert elapsed < 5
    assert FILTER_DEBOUNCE_MS <= 300


def test_export_writes_the_filtered_rows(qtbot, ctx, tmp_path) -> None:  # type: ignore[no-untyped-def]
    panel = _panel(qtbot, ctx)
    model = panel.items.model
    combo = panel.items.pickers["make_buy"]
    with qtbot.waitSignal(model.query_applied, timeout=5000):
        combo.setCurrentIndex(combo.findData("make"))
    shown = model.visible_keys()
    assert 0 < len(shown) < model.total_rows
    for suffix in (".csv", ".xlsx"):
        path = tmp_path / f"items{suffix}"
        with qtbot.waitSignal(panel.items.export_to(path).signals.finished, timeout=20_000):
            pass
        frame = pd.read_csv(path) if suffix == ".csv" else pd.read_excel(path, engine="calamine")
        assert list(frame.columns) == [c.title for c in ITEM_COLUMNS]
        assert list(frame["Item"]) == shown
