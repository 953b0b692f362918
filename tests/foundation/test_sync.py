"""Sync runs: atomic, incremental, unit-converting, reference-checking, history-keeping."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.fixtures_connector import MemoryConnector
from tests.foundation.cachedump import dump
from tests.foundation.plant import tiny_plant
from workbench.cache.db import open_cache
from workbench.cache.frames import read_entity_frame
from workbench.domain.enums import SyncRunStatus
from workbench.services.sync import run_sync
from workbench.services.tasks import SimpleState

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", "postgresql"])
def cache(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path | str, Engine]:
    """A fresh cache on each engine: (its file or URL, its engine)."""
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_cache_url")
        return url, open_cache(url)
    path = tmp_path / "cache.sqlite"
    return path, open_cache(path)


def test_first_sync_loads_and_converts_to_stock_units(cache) -> None:
    _path, engine = cache
    result = run_sync(engine, MemoryConnector(tiny_plant()))
    assert result.status == SyncRunStatus.SUCCEEDED, result.error
    assert result.counts["bom_lines"] == {"received": 4, "changed": 4, "deleted": 0}
    lines = read_entity_frame(engine, "bom_lines").set_index("position", drop=False)
    frame = lines[lines.parent == "FRAME"].set_index("component")
    # 250 G of paint per frame = 0.25 KG (the global KG->G conversion, inverted)
    assert frame.loc["PAINT", "quantity_per"] == pytest.approx(0.25)
    assert (frame.loc["PAINT", "orig_quantity_per"], frame.loc["PAINT", "orig_uom"]) == (250, "G")
    # 1 BOX of bolts = 50 EA (item-specific conversion)
    assert frame.loc["BOLT", "quantity_per"] == 50
    pol = read_entity_frame(engine, "purchase_order_lines").iloc[0]
    assert (pol.quantity_ordered, pol.orig_quantity_ordered, pol.orig_uom) == (100, 2, "BOX")
    inv = read_entity_frame(engine, "inventory").set_index("item")
    assert inv.loc["BOLT", "quantity"] == 150 and inv.loc["PAINT", "orig_uom"] == "KG"


def test_second_run_moves_only_changed_rows_and_records_promise_history(cache) -> None:
    _path, engine = cache
    data = tiny_plant()
    connector = MemoryConnector(data)
    first = run_sync(engine, connector, now=dt.datetime(2026, 11, 2, 8, 0))
    assert first.total("changed") == 23
    assert first.watermarks["purchase_order_lines"] == "1"

    unchanged = run_sync(engine, connector, now=dt.datetime(2026, 11, 3, 8, 0))
    assert unchanged.total("received") == 0 and unchanged.total("changed") == 0

    data["purchase_order_lines"][0].update(promised_date="2026-12-10", source_version="2")
    data["items"][2].update(safety_stock=40, source_version="2")
    second = run_sync(engine, connector, now=dt.datetime(2026, 11, 9, 8, 0))
    assert second.total("received") == 2
    assert {e: c["changed"] for e, c in second.counts.items() if c["changed"]} == {
        "items": 1,
        "purchase_order_lines": 1,
    }
    history = read_entity_frame(engine, "promise_changes").sort_values("changed_at")
    assert [
        (str(r.changed_at.date()), str(r.promised_date.date()), r.origin)
        for r in history.itertuples()
    ] == [("2026-11-02", "2026-12-03", "observed"), ("2026-11-09", "2026-12-10", "observed")]


def test_same_record_again_with_a_new_version_but_same_values_is_not_rewritten(cache) -> None:
    _, engine = cache
    data = tiny_plant()
    run_sync(engine, MemoryConnector(data))
    data["sites"][0]["source_version"] = "2"
    result = run_sync(engine, MemoryConnector(data))
    assert result.counts["sites"] == {"received": 1, "changed": 1, "deleted": 0}  # version moved
    result = run_sync(engine, MemoryConnector(data), full=True)
    assert result.counts["sites"]["changed"] == 0


def test_failure_mid_run_leaves_the_cache_exactly_as_before(cache) -> None:
    path, engine = cache
    data = tiny_plant()
    run_sync(engine, MemoryConnector(data))
    engine.dispose()
    before = dump(path)
    for entity in ("items", "bom_lines", "purchase_order_lines"):
        for row in data[entity]:
            row["source_version"] = "2"
            row["description" if entity == "items" else "source_key"] = "changed"
    data["items"].append({"code": "NEW", "source": "memory", "source_version": "2"})
    broken = MemoryConnector(data, batch_size=2)
    broken.fail_on = "purchase_order_lines"  # items and BOM lines are already written by then
    engine = open_cache(path)
    result = run_sync(engine, broken)
    assert result.status == SyncRunStatus.FAILED
    assert "connection lost while reading purchase_order_lines" in result.error
    engine.dispose()
    after = dump(path)
    failed_run = after.pop("sync_runs")
    before.pop("sync_runs")
    assert after == before
    assert [r[4] for r in failed_run] == ["succeeded", "failed"]


def test_rejected_rows_fail_the_run_unless_partial(cache) -> None:
    _path, engine = cache
    data = tiny_plant()
    data["bom_lines"].append({"parent": "BIKE", "revision": "A", "position": 30,
                              "component": "SADDLE", "quantity_per": 1, "source": "memory"})
    data["inventory"].append({"item": "BOLT", "site": "P1", "quantity": 2, "uom": "CRATE",
                              "source": "memory"})
    result = run_sync(engine, MemoryConnector(data))
    assert result.status == SyncRunStatus.FAILED
    assert [(e.entity, e.key, e.field, e.reason) for e in result.rejected] == [
        ("bom_lines", "BIKE/A/30", "component", "unknown item 'SADDLE'"),
        ("inventory", "BOLT/P1///available/", "uom", "unknown uom 'CRATE'"),
    ]
    assert read_entity_frame(engine, "items").empty  # nothing landed
    partial = run_sync(engine, MemoryConnector(data), partial=True)
    assert partial.status == SyncRunStatus.PARTIAL
    assert len(read_entity_frame(engine, "bom_lines")) == 4
    with engine.connect() as conn:
        stored = conn.exec_driver_sql(
            "SELECT s.status, count(r.id) FROM sync_runs s LEFT JOIN sync_rejections r "
            "ON r.sync_run = s.id GROUP BY s.id ORDER BY s.id").all()
    assert stored == [("failed", 2), ("partial", 2)]


def test_cancel_leaves_the_cache_unchanged(cache) -> None:
    _, engine = cache
    state = SimpleState()
    state.cancel()
    result = run_sync(engine, MemoryConnector(tiny_plant()), state=state)
    assert result.status == SyncRunStatus.CANCELLED
    assert read_entity_frame(engine, "uoms").empty


def test_killed_process_mid_run_leaves_the_cache_as_before(tmp_path: Path) -> None:
    """SIGKILL during a run (after rows were written inside the transaction) changes nothing."""
    path = tmp_path / "cache.sqlite"
    engine = open_cache(path)
    run_sync(engine, MemoryConnector(tiny_plant()))
    engine.dispose()
    before = dump(path)
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(REPO)!r})
        from tests.fixtures_connector import MemoryConnector
        from tests.foundation.plant import tiny_plant
        from workbench.cache.db import open_cache
        from workbench.services.sync import run_sync

        class Slow(MemoryConnector):
            def pull(self, entity, since):
                yield from super().pull(entity, since)
                if entity == "bom_lines":
                    print("written", flush=True)
                    time.sleep(60)

        data = tiny_plant()
        for rows in data.values():
            for r in rows:
                r["source_version"] = "9"
        data["items"][0]["description"] = "renamed by the killed run"
        run_sync(open_cache({str(path)!r}), Slow(data))
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "written"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert dump(path) == before


def test_a_complete_set_marks_only_its_own_missing_rows_deleted(cache) -> None:
    """A source that sends its complete set deletes what it no longer has — never others' rows."""
    from workbench.connect.port import Batch

    class Complete(MemoryConnector):
        name = "plm"

        def pull(self, entity, since):
            for batch in super().pull(entity, since):
                yield Batch(batch.entity, batch.records, batch.watermark, complete=True)

    _, engine = cache
    erp = MemoryConnector({"uoms": [{"code": "EA", "source": "erp"}, {"code": "KG", "source": "erp"}]})
    plm_rows = [{"code": c, "source": "plm"} for c in ("M", "CM", "MM")]
    assert run_sync(engine, erp).ok and run_sync(engine, Complete({"uoms": plm_rows}, 10)).ok
    second = run_sync(engine, Complete({"uoms": plm_rows[:2]}, 10), full=True)
    assert second.counts["uoms"] == {"received": 2, "changed": 0, "deleted": 1}
    live = read_entity_frame(engine, "uoms")
    assert sorted(live.code) == ["CM", "EA", "KG", "M"]
    gone = read_entity_frame(engine, "uoms", columns=["code", "deleted_at"], include_deleted=True,
                             parse_dates=False).set_index("code")
    assert gone.loc["MM", "deleted_at"] is not None
