"""The demo plant through the real sync path: first load, a week later, and a package round trip."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from planner_connectors.files import FilesConnector

from tests.foundation.cachedump import ENTITY_NAMES, dump
from workbench.cache.db import open_cache
from workbench.cache.frames import read_entity_frame
from workbench.domain.enums import SyncRunStatus
from workbench.services.packages import export_package
from workbench.services.sources import demo_connector
from workbench.services.status import cache_status
from workbench.services.sync import run_sync


@pytest.fixture(scope="module")
def demo_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "cache.sqlite"
    result = run_sync(open_cache(path), demo_connector(scale="small"))
    assert result.status == SyncRunStatus.SUCCEEDED, result.error
    assert result.rejected == []
    return path


def test_small_demo_loads_completely(demo_cache: Path) -> None:
    status = cache_status(open_cache(demo_cache))
    counts = {e: sum(by.values()) for e, by in status.entities.items()}
    assert 250 <= counts["items"] <= 400
    for entity in ("bom_lines", "inventory", "purchase_order_lines", "requisitions", "work_orders",
                   "promise_changes", "demands"):
        assert counts[entity] > 0, entity
    assert [s.connector for s in status.sources] == ["demo"]


def test_a_week_later_only_changed_rows_move(demo_cache: Path, tmp_path: Path) -> None:
    copy = tmp_path / "cache.sqlite"
    src, dst = sqlite3.connect(demo_cache), sqlite3.connect(copy)
    src.backup(dst)  # a consistent copy, WAL included
    src.close()
    dst.close()
    engine = open_cache(copy)
    before = read_entity_frame(engine, "purchase_order_lines").set_index(["purchase_order", "line"])
    result = run_sync(engine, demo_connector(scale="small", day=7))
    assert result.status == SyncRunStatus.SUCCEEDED, result.error
    assert result.counts["items"]["received"] == 0  # master data did not change
    moved = result.counts["purchase_order_lines"]
    assert 0 < moved["changed"] <= moved["received"] < len(before)
    after = read_entity_frame(engine, "purchase_order_lines").set_index(["purchase_order", "line"])
    cols = [c for c in after.columns if c != "sync_run"]
    a, b = after[cols], before.loc[after.index, cols]
    changed = (a.ne(b) & ~(a.isna() & b.isna())).any(axis=1)
    assert int(changed.sum()) == moved["changed"]
    # every promise moved by the week is now in the history, observed on day 7
    old_promise = before.loc[after.index, "promised_date"]
    slipped = after.index[after.promised_date.ne(old_promise) & after.promised_date.notna()]
    assert len(slipped) > 0
    history = read_entity_frame(engine, "promise_changes")
    seen = history[history.changed_at >= "2026-11-09"].set_index(["purchase_order", "line"]).index
    assert set(slipped) <= set(seen)


def test_demo_package_round_trip(demo_cache: Path, tmp_path: Path) -> None:
    engine = open_cache(demo_cache)
    export_package(engine, tmp_path / "pkg")
    engine.dispose()
    target = tmp_path / "copy.sqlite"
    result = run_sync(open_cache(target), FilesConnector(tmp_path / "pkg"))
    assert result.status == SyncRunStatus.SUCCEEDED, result.error
    assert dump(demo_cache, tables=ENTITY_NAMES, skip_cols=("sync_run",)) == dump(
        target, tables=ENTITY_NAMES, skip_cols=("sync_run",))
