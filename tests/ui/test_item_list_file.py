"""The whole item list is kept beside the cache under the entity tables' stamp (issue 16 §4):
a start that finds the cache unchanged maps it instead of reading and sorting 200,000 rows;
any write to an entity table draws a new stamp, and the list is read again."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from workbench.app import item_list
from workbench.app.columns import ITEM_COLUMNS
from workbench.cache import itemlist
from workbench.cache.db import open_cache


def _kept(cache_path: Path) -> list[str]:
    if item_list.keeping is not None:
        item_list.keeping.join(30)
    folder = cache_path.with_name(cache_path.name + ".itemlist")
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _same(a: item_list.ItemChunk, b: item_list.ItemChunk) -> None:
    assert list(a.table.keys) == list(b.table.keys)
    for col in ITEM_COLUMNS:
        x, y = a.table.arrays[col.name], b.table.arrays[col.name]
        if col.numeric:
            assert np.array_equal(x, y, equal_nan=True), col.name
        else:
            assert np.asarray(x).tolist() == np.asarray(y).tolist(), col.name
    assert a.distinct == b.distinct


def test_an_unchanged_cache_answers_the_kept_list(cache_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    engine = open_cache(cache_path)
    first_read = item_list.item_chunk(engine, None, 5)
    second_read = item_list.item_chunk(engine, first_read.after, 5)
    read = item_list.item_rest(engine, None)
    stamp = itemlist.observed_stamp(engine)
    assert stamp is not None
    files = _kept(cache_path)
    assert f"{stamp}.json" in files
    assert {f"{stamp}.{c.name}.npy" for c in ITEM_COLUMNS} <= set(files)

    def no_read(*args: object, **kwargs: object) -> None:
        raise AssertionError("the list was read from the cache again")

    monkeypatch.setattr(itemlist, "item_list_rest", no_read)
    monkeypatch.setattr(itemlist, "item_list_rows", no_read)
    monkeypatch.setattr(itemlist, "item_list_size", no_read)
    first = item_list.item_chunk(engine, None, 5)  # the first rows, count and widths too
    assert list(first.table.keys) == list(first_read.table.keys)
    assert (first.after, first.total, first.distinct) == \
        (first_read.after, first_read.total, first_read.distinct)
    assert first.widths == first_read.widths
    for col in ITEM_COLUMNS:
        x, y = first.table.arrays[col.name], first_read.table.arrays[col.name]
        assert np.asarray(x).tolist() == np.asarray(y).tolist() or \
            np.array_equal(x, y, equal_nan=True), col.name
    second = item_list.item_chunk(engine, first.after, 5)
    assert list(second.table.keys) == list(second_read.table.keys)
    assert second.total is None and second.after == second_read.after
    kept = item_list.item_rest(engine, None)
    _same(kept, read)
    after = str(read.table.keys[10])
    rest = item_list.item_rest(engine, after)
    assert list(rest.table.keys) == list(read.table.keys[11:])


def test_a_write_to_the_items_reads_the_list_again(cache_path: Path) -> None:
    engine = open_cache(cache_path)
    first = item_list.item_rest(engine, None)
    old_stamp = itemlist.observed_stamp(engine)
    _kept(cache_path)
    code = str(first.table.keys[3])
    con = sqlite3.connect(cache_path)
    con.execute("UPDATE items SET description = 'changed after the list was kept' "
                "WHERE code = ?", (code,))
    con.commit()
    con.close()
    again = item_list.item_rest(engine, None)
    row = list(again.table.keys).index(code)
    assert again.table.arrays["description"][row] == "changed after the list was kept"
    new_stamp = itemlist.observed_stamp(engine)
    assert new_stamp != old_stamp
    files = _kept(cache_path)
    assert f"{new_stamp}.json" in files and f"{old_stamp}.json" not in files  # old list gone
    _same(item_list.item_rest(engine, None), again)  # and the new one is answered


def test_a_list_kept_for_other_columns_or_torn_is_not_used(tmp_path: Path) -> None:
    arrays = {"code": np.array(["A", "B"]), "lead_time_days": np.array([1.0, np.nan])}
    itemlist.write_item_list(tmp_path, 7, arrays, {"planner": ["P"]})
    kept = itemlist.read_item_list(tmp_path, 7, ["code", "lead_time_days"])
    assert kept is not None
    assert kept.arrays["code"].tolist() == ["A", "B"] and kept.distinct == {"planner": ["P"]}
    assert kept.widths == {"code": 1}
    assert itemlist.read_item_list(tmp_path, 8, ["code", "lead_time_days"]) is None
    assert itemlist.read_item_list(tmp_path, 7, ["code"]) is None
    (tmp_path / "7.lead_time_days.npy").write_bytes(b"torn")
    assert itemlist.read_item_list(tmp_path, 7, ["code", "lead_time_days"]) is None
