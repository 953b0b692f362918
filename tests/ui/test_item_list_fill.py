"""Items panel (issue 16 §4): the list arrives in chunks by item code and fills while the event
loop keeps turning; the filled list is the same table the one-piece load gave; a selection, a
filter or a sort made while it fills holds for every row that arrives after."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from tests.ui.conftest import make_context
from tests.ui.gapmeter import GapMeter
from workbench.app.bom import load_item_table
from workbench.app.columns import ITEM_COLUMNS
from workbench.app.item_list import item_chunk
from workbench.app.tables import Query, TableData, TableFill
from workbench.ui.models import FrameTableModel
from workbench.ui.panels import items as items_module
from workbench.ui.panels.items import ItemsPanel

LIMIT_S = 0.100


def _small_chunks(monkeypatch: pytest.MonkeyPatch, first: int, more: int) -> None:
    monkeypatch.setattr(items_module, "FIRST_CHUNK_ROWS", first)
    monkeypatch.setattr(items_module, "CHUNK_ROWS", more)


def _panel(qtbot, ctx) -> ItemsPanel:  # type: ignore[no-untyped-def]
    panel = ItemsPanel(ctx)
    qtbot.addWidget(panel)
    return panel


def test_the_list_filled_in_chunks_is_the_one_piece_table(qtbot, ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _small_chunks(monkeypatch, 7, 50)
    whole = load_item_table(ctx.engine)
    assert len(whole) > 150  # several chunks
    panel = _panel(qtbot, ctx)
    seen: list[int] = []
    panel.items.model.rowsInserted.connect(lambda *_: seen.append(panel.items.model.rowCount()))
    with qtbot.waitSignal(panel.loaded, timeout=20_000):
        panel.show()
    model = panel.items.model
    assert not panel.filling
    assert seen[0] == 7 + 50 and seen[-1] == len(whole)  # rows appended chunk by chunk
    order = np.argsort(whole.keys.astype(str), kind="stable")
    assert model.visible_keys() == list(whole.keys[order])  # by item code, as the view sorts
    for col in ITEM_COLUMNS:
        mine = model.table.arrays[col.name][model._rows]
        theirs = whole.arrays[col.name][order]
        if col.numeric:
            assert np.array_equal(mine, theirs, equal_nan=True), col.name
        else:
            assert list(mine) == list(theirs), col.name
    for name in ("make_buy", "planner"):
        combo = panel.items.pickers[name]
        values = [combo.itemData(i) for i in range(1, combo.count())]
        assert values == whole.distinct(name), name


def test_a_selection_and_a_filter_made_while_filling_hold(qtbot, ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _small_chunks(monkeypatch, 20, 30)
    whole = load_item_table(ctx.engine)
    panel = _panel(qtbot, ctx)
    model = panel.items.model
    panel.show()
    qtbot.waitUntil(lambda: model.rowCount() >= 20, timeout=10_000)
    assert panel.filling
    first = model.key_at(3)
    panel.items.select_key(first)
    qtbot.waitUntil(lambda: model.rowCount() >= 80, timeout=10_000)
    assert panel.items.current_key() == first  # rows were inserted, not the model reset
    # a word typed while rows keep arriving: the filter holds for the later chunks too
    word = str(whole.arrays["planner"][0]).lower()
    panel.items.filter.setText(word)
    panel.items._run_filter()
    qtbot.waitUntil(lambda: not panel.filling and not model.pending, timeout=20_000)
    expected = {k for k, p in zip(whole.keys, whole.arrays["planner"]) if word in p.lower()}
    assert set(model.visible_keys()) == expected and 0 < len(expected) < len(whole)


def test_rows_out_of_the_sort_order_are_sorted_again(qtbot) -> None:  # type: ignore[no-untyped-def]
    cols = ITEM_COLUMNS[:2]

    def chunk(codes: list[str]) -> TableData:
        return TableData.from_columns(cols, "code", {"code": codes,
                                                     "description": [c.lower() for c in codes]},
                                      search=("code", "description"))

    model = FrameTableModel(cols)
    model.set_query(Query(sort="code"))
    fill = TableFill(chunk(["B", "D"]), 4, {"code": 1, "description": 1})
    model.set_table(fill.table())
    model.extend_table(fill.add(chunk(["E"])))  # in order: appended
    assert model.visible_keys() == ["B", "D", "E"]
    model.extend_table(fill.add(chunk(["AA"])))  # before B, and wider than announced
    assert model.visible_keys() == ["AA", "B", "D", "E"]
    assert model.table.arrays["description"].tolist() == ["b", "d", "e", "aa"]
    model.set_filter_text("a")  # the search text is built on the first search
    assert model.visible_keys() == ["AA"]


def test_item_chunk_pages_by_code_and_announces_the_size(ctx) -> None:  # type: ignore[no-untyped-def]
    whole = load_item_table(ctx.engine)
    codes = sorted(str(k) for k in whole.keys)
    first = item_chunk(ctx.engine, None, 10)
    assert first.total == len(codes) and list(first.table.keys) == codes[:10]
    assert first.widths["description"] == max(len(str(d)) for d in whole.arrays["description"])
    assert first.after == codes[9]
    rest = item_chunk(ctx.engine, first.after, len(codes))
    assert list(rest.table.keys) == codes[10:] and rest.after is None and rest.total is None


def _add_items(cache: Path, n: int) -> None:
    con = sqlite3.connect(cache)
    con.executemany(
        "INSERT INTO items (source, source_key, code, description, stock_uom, make_buy, "
        "lead_time_days, safety_stock, standard_cost, planner, buyer, default_supplier) "
        "VALUES ('demo', ?, ?, ?, 'EA', 'buy', 5, 10.0, 2.5, 'Planner P', 'Buyer B', NULL)",
        ((f"ZZ{i:06d}", f"ZZ{i:06d}", f"Extra part number {i} for the fill test")
         for i in range(n)))
    con.commit()
    con.close()


@pytest.mark.slow
def test_the_event_loop_turns_while_200k_items_fill(qtbot, cache_path: Path,  # type: ignore[no-untyped-def]
                                                    tmp_path: Path) -> None:
    _add_items(cache_path, 200_000)
    ctx = make_context(cache_path, tmp_path)
    panel = _panel(qtbot, ctx)
    model = panel.items.model
    sizes: list[int] = []
    model.rowsInserted.connect(lambda *_: sizes.append(model.rowCount()))
    meter = GapMeter()
    meter.start()
    with qtbot.waitSignal(panel.loaded, timeout=120_000):
        panel.show()
    meter.stop()
    print(f"200,000 items filling: {meter.report()}")
    assert model.rowCount() > 200_000
    assert len(sizes) >= 2 and sizes[0] < 200_000  # shown in parts while it filled
    assert len(meter.raw) > 20  # the timer really ran while the list filled
    assert meter.max_blocked < LIMIT_S, meter.report()
