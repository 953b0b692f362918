"""A sync's result says what changed (issue 18 §3): per entity the rows added, changed and
removed, and the rows one click away.

The small demo at day 0, synced again at day 7 (a week later: stock moved, promise dates slipped,
work orders progressed). What changed is checked against the cache itself: every entity table
read before and after the sync and compared row by row (a key live only after: added; live only
before: removed; live in both with another value: changed) — a count that does not depend on
how the app tells added from changed rows (the rowid marks of workbench/cache/sync_changes.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex
from sqlalchemy import Engine

from tests.ui.conftest import DEMO, make_context
from workbench.app.sync_changes import ENTITY_TITLES, run_changes
from workbench.cache.db import open_cache
from workbench.cache.schema import ENTITY_TABLES
from workbench.services.sources import demo_connector
from workbench.services.sync import run_sync
from workbench.ui.panels.sync import SyncPanel

Rows = dict[str, dict[tuple[Any, ...], dict[str, Any]]]


def _cache_rows(engine: Engine) -> Rows:
    """Every row of every entity table by key (without the run that wrote it)."""
    out: Rows = {}
    with engine.connect() as conn:
        for entity, table in ENTITY_TABLES.items():
            keys = [c.name for c in table.primary_key.columns]
            cols = [c.name for c in table.c if c.name != "sync_run"]
            rows = conn.exec_driver_sql(f"SELECT {', '.join(cols)} FROM {entity}").mappings()
            out[entity] = {tuple(r[k] for k in keys): dict(r) for r in rows}
    return out


def _compared(before: Rows, after: Rows) -> dict[str, tuple[int, int, int]]:
    """Per entity (added, changed, removed) by comparing the rows; unchanged entities left out."""
    out = {}
    for entity in ENTITY_TABLES:
        b, a = before[entity], after[entity]
        live_b = {k for k, r in b.items() if r["deleted_at"] is None}
        live_a = {k for k, r in a.items() if r["deleted_at"] is None}
        counts = (len(live_a - live_b), sum(1 for k in live_a & live_b if a[k] != b[k]),
                  len(live_b - live_a))
        if any(counts):
            out[entity] = counts
    return out


def test_run_changes_count_what_the_sync_added_changed_and_removed(tmp_path: Path) -> None:
    engine = open_cache(tmp_path / "cache.sqlite")
    try:
        assert run_sync(engine, demo_connector("small", day=0)).ok
        before = _cache_rows(engine)
        result = run_sync(engine, demo_connector("small", day=7))
        assert result.ok, result.error
        expected = _compared(before, _cache_rows(engine))
        reported = {c.entity: (c.added, c.changed, c.removed)
                    for c in run_changes(engine, int(result.run_id or 0))}
        assert reported == expected
        # the demo a week later, as the comparison found it: 22 stock rows new (receipts put
        # away in new lots/locations: 22 (item, site, location, lot, status) keys in the
        # connector's day-7 records that day 0 has not) and 85 changed, every open work order,
        # component, PO and PO line the week moved, 5 requisitions (3 approved, 2 cancelled in
        # the connector's records); promise changes: the 63 the source sent (311 records on
        # day 7, 248 on day 0) and the 60 the cache recorded itself when promised dates moved
        assert reported == {
            "inventory": (22, 85, 0), "work_orders": (0, 14, 0),
            "work_order_components": (0, 89, 0), "purchase_orders": (0, 36, 0),
            "promise_changes": (123, 0, 0), "purchase_order_lines": (0, 93, 0),
            "requisitions": (0, 5, 0)}
        # the first sync added everything it received
        first = {c.entity: (c.added, c.changed, c.removed) for c in run_changes(engine, 1)}
        assert first["items"] == (300, 0, 0) and first["bom_lines"] == (2770, 0, 0)
    finally:
        engine.dispose()


def _rows(model: Any) -> list[list[str]]:
    return [[model.data(model.index(r, c)) for c in range(model.columnCount(QModelIndex()))]
            for r in range(model.rowCount())]


def test_the_sync_result_says_what_changed_and_lists_the_rows(qtbot, cache_path: Path,  # type: ignore[no-untyped-def]
                                                               tmp_path: Path) -> None:
    engine = open_cache(cache_path)
    before = _cache_rows(engine)
    engine.dispose()
    week_later = DEMO.model_copy(update={"params": {"scale": "small", "day": 7}})
    ctx = make_context(cache_path, tmp_path, [week_later])
    panel = SyncPanel(ctx)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.loaded, timeout=10_000):
        panel.show()
    handle = panel.start_sync()
    assert handle is not None
    with qtbot.waitSignal(handle.signals.finished, timeout=60_000):
        pass
    source_run, messages_run = panel.last_results  # the demo, then what its suppliers sent
    assert source_run.ok and messages_run.ok
    expected = _compared(before, _cache_rows(ctx.engine))
    # the result line of each run says what it changed, entity by entity
    qtbot.waitUntil(lambda: panel.status.text().count("What changed:") == 2, timeout=10_000)
    told = panel.status.text()
    assert "Stock: 22 added, 85 changed" in told
    assert "Requisitions: 5 changed" in told
    # both runs together changed exactly what the comparison of the cache found (each row
    # counted under the last run that wrote it; the messages' run stamps the PO lines it sets)
    both: dict[str, list[int]] = {}
    for run in (source_run, messages_run):
        for c in run_changes(ctx.engine, int(run.run_id or 0)):
            counts = both.setdefault(c.entity, [0, 0, 0])
            counts[0] += c.added
            counts[1] += c.changed
            counts[2] += c.removed
    assert {e: tuple(c) for e, c in both.items()} == expected

    # the demo's run in the list: its changes per entity, then one click lists the rows
    qtbot.waitUntil(lambda: panel.runs.model.row_of(messages_run.run_id) is not None,
                    timeout=10_000)
    assert panel.runs.select_key(source_run.run_id)
    qtbot.waitUntil(lambda: panel.shown_run == source_run.run_id
                    and panel.changes.model.rowCount() > 0, timeout=10_000)
    shown = {row[0]: row[1:] for row in _rows(panel.changes.model)}
    reported = {c.entity: c for c in run_changes(ctx.engine, int(source_run.run_id or 0))}
    assert shown == {ENTITY_TITLES[e]: [f"{c.added:,}", f"{c.changed:,}", f"{c.removed:,}"]
                     for e, c in reported.items()}
    assert shown["Stock"] == ["22", "85", "0"]
    assert panel.changes.select_key("inventory")
    qtbot.waitUntil(lambda: panel.run_rows.model.rowCount() == 22 + 85, timeout=10_000)
    rows = _rows(panel.run_rows.model)
    assert [c.title for c in panel.run_rows.model.columns][:3] == ["Change", "Item", "Site"]
    assert [r[0] for r in rows] == ["added"] * 22 + ["changed"] * 85  # added first
    # the rows listed are the stock rows the comparison found new or changed (item, site,
    # location, lot, status of the key; the listing shows codes with their names)
    b, a = before["inventory"], _cache_rows(ctx.engine)["inventory"]
    moved = {k[:5] for k, r in a.items() if r["deleted_at"] is None and b.get(k) != r}
    listed = {(r[1].split(" — ")[0], r[2].split(" — ")[0], r[3], r[4], r[5]) for r in rows}
    assert listed == moved
