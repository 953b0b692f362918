"""The sync keeps the whole item list beside the cache after its last write (issue 16 §4): the
first start after a sync lists every item from the kept files, not by reading and sorting them
from the cache again."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import pytest

from workbench.app import item_list
from workbench.app.columns import ITEM_COLUMNS
from workbench.app.sync import sync_sources
from workbench.cache import itemlist
from workbench.cache.db import open_cache
from workbench.services.settings import SourceConfig
from workbench.services.tasks import SimpleState

NEXT_DAY = SourceConfig(name="demo", connector="demo", params={"scale": "small", "day": 1})


def _no_read(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_read(*args: object, **kwargs: object) -> None:
        raise AssertionError("the list was read from the cache again")

    for name in ("item_list_rest", "item_list_rows", "item_list_size"):
        monkeypatch.setattr(itemlist, name, no_read)


def _items_by_sql(path: Path) -> list[tuple[object, ...]]:
    con = sqlite3.connect(path)
    try:
        return con.execute("SELECT code, description, planner, standard_cost FROM items "
                           "WHERE deleted_at IS NULL ORDER BY code").fetchall()
    finally:
        con.close()


def test_the_sync_keeps_the_columns_the_items_panel_lists() -> None:
    assert [c.name for c in ITEM_COLUMNS] == list(itemlist.ITEM_LIST_COLUMNS)
    assert [c.name for c in ITEM_COLUMNS if c.numeric] == list(itemlist.ITEM_LIST_NUMBERS)


def test_the_first_start_after_a_sync_answers_the_list_the_sync_kept(
        cache_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = open_cache(cache_path)
    [result] = sync_sources(engine, [NEXT_DAY], SimpleState())
    assert result.ok, result.error
    stamp = itemlist.observed_stamp(engine)
    folder = cache_path.with_name(cache_path.name + ".itemlist")
    assert (folder / f"{stamp}.json").exists()
    expected = _items_by_sql(cache_path)
    _no_read(monkeypatch)  # the start: every row from the kept files
    first = item_list.item_chunk(engine, None, 5)
    assert first.total == len(expected)
    listed = item_list.item_rest(engine, first.after)
    assert [str(k) for k in first.table.keys] + [str(k) for k in listed.table.keys] == \
        [row[0] for row in expected]
    rows = list(listed.table.keys).index(expected[7][0])
    assert listed.table.arrays["description"][rows] == (expected[7][1] or "")
    assert listed.table.arrays["planner"][rows] == (expected[7][2] or "")
    cost = listed.table.arrays["standard_cost"][rows]
    assert (math.isnan(cost) if expected[7][3] is None else cost == expected[7][3])


def test_a_list_is_kept_once_per_stamp_and_holds_the_written_rows(cache_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch
                                                                  ) -> None:
    engine = open_cache(cache_path)
    first = itemlist.keep_item_list(engine)
    assert first.written and first.reason == "written" and first.stamp is not None
    code = _items_by_sql(cache_path)[3][0]
    con = sqlite3.connect(cache_path)
    con.execute("UPDATE items SET description = 'written by a sync' WHERE code = ?", (code,))
    con.commit()
    con.close()
    second = itemlist.keep_item_list(engine)  # a new stamp: read again, the change in it
    assert second.written and second.stamp is not None and second.stamp != first.stamp
    kept = itemlist.read_item_list(cache_path.with_name(cache_path.name + ".itemlist"),
                                   second.stamp, list(itemlist.ITEM_LIST_COLUMNS))
    assert kept is not None
    row = list(kept.arrays["code"]).index(code)
    assert kept.arrays["description"][row] == "written by a sync"
    _no_read(monkeypatch)  # kept for this stamp already: nothing read
    third = itemlist.keep_item_list(engine)
    assert (third.written, third.reason, third.stamp) == \
        (False, "already kept for this stamp", second.stamp)


def test_workbench_sync_keeps_the_list_for_the_next_start(cache_path: Path) -> None:
    from workbench.app.sync import sync_source

    engine = open_cache(cache_path)
    report = sync_source(engine, NEXT_DAY, check=False, plan=False, state=SimpleState())
    assert report.value.result.ok
    stamp = itemlist.observed_stamp(engine)
    assert stamp is not None
    kept = itemlist.read_item_list(cache_path.with_name(cache_path.name + ".itemlist"), stamp,
                                   list(itemlist.ITEM_LIST_COLUMNS))
    assert kept is not None
    assert [str(c) for c in kept.arrays["code"]] == [row[0] for row in _items_by_sql(cache_path)]
