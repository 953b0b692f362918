"""Items panel start (issue 16 §4): the item list's chunks are quick reads, answered on a worker
thread of the UI process, so the list does not wait for the reader process to start (behind its
fork server, seconds on the large demo) — and they are the rows the reader would give."""

from __future__ import annotations

from pathlib import Path

from workbench.app.item_list import item_chunk
from workbench.app.ops import is_quick
from workbench.app.runner import ProcessRunner
from workbench.cache.db import open_cache


def test_the_item_list_is_read_without_starting_the_reader_process(cache_path: Path) -> None:
    assert is_quick(item_chunk)
    runner = ProcessRunner(cache_path)
    try:
        first = runner.run(item_chunk, None, 5)
        rest = runner.run(item_chunk, first.after, 1_000_000)
        assert runner.reader.pid is None  # no reader process was started for the list
        assert rest.after is None
    finally:
        runner.shutdown()
    # the same rows as read directly, by code, none twice or left out
    con = open_cache(cache_path).raw_connection()
    try:
        codes = [r[0] for r in con.cursor().execute(
            "SELECT code FROM items WHERE deleted_at IS NULL ORDER BY code").fetchall()]
    finally:
        con.close()
    assert first.total == len(codes) > 5
    assert list(first.table.keys) + list(rest.table.keys) == codes


def test_the_rest_read_in_one_pass_is_the_table_paging_gives(cache_path: Path) -> None:
    """item_rest (one scan in rowid order, joined text, sorted by code here) answers exactly
    what paging by the code index answers: same rows, order, text (NULL as ""), numbers (NULL
    as NaN), a value holding the separator or non-ASCII text, and the pickers' values."""
    import sqlite3

    import numpy as np

    from workbench.app.columns import ITEM_COLUMNS
    from workbench.app.item_list import item_rest

    con = sqlite3.connect(cache_path)
    con.executemany(  # inserted in an order unlike the codes' (rowid order is not code order)
        "INSERT INTO items (source, source_key, code, description, stock_uom, make_buy, "
        "lead_time_days, safety_stock, standard_cost, planner, buyer, default_supplier) "
        "VALUES ('demo', ?, ?, ?, 'EA', ?, ?, ?, ?, ?, NULL, NULL)",
        [("K3", "ZZ-3", "tab\x1fbed", "make", None, 0.1 + 0.2, None, "Zoë"),
         ("K1", "ZZ-1", None, None, 7, None, 1 / 3, None),
         ("K2", "AA-0", "Ünïcode ✓", "buy", 3, 2.5, 12345.678901234567, "P")])
    con.execute("UPDATE items SET deleted_at = '2026-01-01' WHERE code = 'ZZ-1'")
    con.commit()
    con.close()
    engine = open_cache(cache_path)
    paged = item_chunk(engine, None, 1_000_000)
    whole = item_rest(engine, None)
    assert whole.after is None and len(whole.table) == len(paged.table) > 3
    assert list(whole.table.keys) == list(paged.table.keys)
    assert "ZZ-1" not in list(whole.table.keys)  # deleted
    for col in ITEM_COLUMNS:
        mine, theirs = whole.table.arrays[col.name], paged.table.arrays[col.name]
        if col.numeric:
            assert np.array_equal(mine, theirs, equal_nan=True), col.name
        else:
            assert mine.tolist() == theirs.tolist(), col.name
    row = list(whole.table.keys).index("ZZ-3")
    assert whole.table.arrays["description"][row] == "tab\x1fbed"
    assert whole.table.arrays["safety_stock"][row] == 0.1 + 0.2  # exact, not 15 digits
    assert np.isnan(whole.table.arrays["lead_time_days"][row])
    assert whole.distinct == {n: paged.table.distinct(n) for n in ("make_buy", "planner")}
    # after a code: only the rows after it
    after = str(paged.table.keys[10])
    rest = item_rest(engine, after)
    assert list(rest.table.keys) == list(paged.table.keys[11:])


def test_the_whole_list_arriving_before_the_first_chunk_waits_for_it(qtbot, ctx,  # type: ignore[no-untyped-def]
                                                                     monkeypatch) -> None:
    """The first chunk and the one-pass read run side by side; when the pass answers first,
    its rows are appended only after the first chunk's, none twice; a reload while the list
    fills leaves one whole list."""
    import time

    import numpy as np

    from workbench.app.bom import load_item_table
    from workbench.app.item_list import item_rest
    from workbench.app.ops import cache_query, quick
    from workbench.ui.panels import items as items_module
    from workbench.ui.panels.items import ItemsPanel

    marks: dict[str, float] = {}

    @quick
    @cache_query
    def slow_first(engine, after=None, limit=7):  # type: ignore[no-untyped-def]
        time.sleep(0.4)  # the one-pass read answers first
        answer = item_chunk(engine, after, limit)
        marks.setdefault("first_done", time.monotonic())
        return answer

    @quick
    @cache_query
    def whole_list(engine, after=None):  # type: ignore[no-untyped-def]
        marks.setdefault("whole_started", time.monotonic())
        return item_rest(engine, after)

    monkeypatch.setattr(items_module, "item_chunk", slow_first)
    monkeypatch.setattr(items_module, "item_rest", whole_list)
    monkeypatch.setattr(items_module, "FIRST_CHUNK_ROWS", 7)
    monkeypatch.setattr(items_module, "CHUNK_ROWS", 50)
    whole = load_item_table(ctx.engine)
    assert len(whole) > 100
    panel = ItemsPanel(ctx)
    qtbot.addWidget(panel)
    model = panel.items.model
    seen: list[int] = []
    model.rowsInserted.connect(lambda *_: seen.append(model.rowCount()))
    with qtbot.waitSignal(panel.loaded, timeout=20_000):
        panel.show()
    assert not panel.filling and seen[0] == 7 + 50 and seen[-1] == len(whole)
    # side by side: the pass was under way before the first chunk was answered (before, it
    # was asked only after the first chunk was shown)
    assert marks["whole_started"] < marks["first_done"]
    codes = sorted(str(k) for k in whole.keys)
    assert model.visible_keys() == codes  # each item once, by code
    # a reload while the list fills: one whole list in the end, loaded once it is in
    panel.reload()
    qtbot.waitUntil(lambda: panel.filling, timeout=5_000)
    panel.reload()
    qtbot.waitUntil(lambda: not panel.filling and not panel._loading, timeout=20_000)
    assert model.visible_keys() == codes
    for col in ("description", "planner"):
        order = np.argsort(whole.keys.astype(str), kind="stable")
        assert list(model.table.arrays[col][model._rows]) == list(whole.arrays[col][order])


def test_a_filter_can_be_picked_while_the_rest_of_the_list_is_read(qtbot, ctx,  # type: ignore[no-untyped-def]
                                                                   monkeypatch) -> None:
    """The pickers offer the first rows' values as soon as they are shown, and a filter picked
    then holds when the rest arrives (before, the pickers were filled only once every row was
    in: under load a planner, or a saved view, found "buy" missing and the filter unset)."""
    import threading

    from sqlalchemy import text

    from workbench.app.item_list import item_rest
    from workbench.app.ops import cache_query, quick
    from workbench.ui.panels import items as items_module
    from workbench.ui.panels.items import ItemsPanel

    release = threading.Event()

    @quick
    @cache_query
    def held_rest(engine, after=None):  # type: ignore[no-untyped-def]
        release.wait(20)  # the rest of the list is still being read
        return item_rest(engine, after)

    monkeypatch.setattr(items_module, "item_rest", held_rest)
    monkeypatch.setattr(items_module, "FIRST_CHUNK_ROWS", 40)
    with ctx.engine.connect() as conn:
        bought = set(conn.execute(text(
            "SELECT code FROM items WHERE make_buy = 'buy' AND deleted_at IS NULL")).scalars())
    panel = ItemsPanel(ctx)
    qtbot.addWidget(panel)
    panel.show()
    model, combo = panel.items.model, panel.items.pickers["make_buy"]
    try:
        qtbot.waitUntil(lambda: model.rowCount() == 40, timeout=20_000)
        assert panel.filling
        assert combo.findData("buy") > 0  # offered from the first 40 rows
        combo.setCurrentIndex(combo.findData("buy"))
        qtbot.waitUntil(lambda: 0 < model.rowCount() < 40, timeout=5_000)
    finally:
        release.set()
    qtbot.waitUntil(lambda: not panel.filling, timeout=20_000)
    qtbot.waitUntil(lambda: set(model.visible_keys()) == bought, timeout=20_000)
    assert combo.currentData() == "buy"
