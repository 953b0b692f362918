"""A first load (a table empty when the run first writes to it) goes in by plain INSERT without a
savepoint, its secondary indexes built once at the end of the entity (EntityWriter._execute and
finish; issue 16 §5)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from tests.foundation.test_validate_columns import DATA, _Columns
from workbench.cache.db import open_cache
from workbench.cache.upsert import EntityWriter
from workbench.services.sync import run_sync


def _indexes(con: Any, table: str) -> list[tuple[str, str]]:
    return con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                       "AND sql IS NOT NULL ORDER BY name", (table,)).fetchall()


def test_a_first_load_builds_the_secondary_indexes_at_the_end(tmp_path: Path) -> None:
    engine = open_cache(tmp_path / "c.sqlite")
    with engine.connect() as conn:
        before = _indexes(conn.connection.driver_connection, "bom_lines")
    assert [name for name, _ in before] == ["ix_bom_lines_component"]
    row = ("demo", "k", "v", "P", "A", 10, "C", 1.0, 0.0, "", 0, "EA", 1.0, 1)
    with engine.begin() as conn:
        writer = EntityWriter("bom_lines", 1, defer_indexes=True)
        dbapi: Any = conn.connection.driver_connection
        assert writer._execute(dbapi.cursor(), writer.sql, [row]) == 1
        assert _indexes(dbapi, "bom_lines") == []  # dropped for the load
        writer.finish(conn)
        assert _indexes(dbapi, "bom_lines") == before  # the same index again
        writer.finish(conn)  # a second finish has nothing left to build
        assert _indexes(dbapi, "bom_lines") == before
    # a writer not asked to defer keeps the indexes
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM bom_lines")
        writer = EntityWriter("bom_lines", 2)
        dbapi = conn.connection.driver_connection
        assert dbapi is not None
        writer._execute(dbapi.cursor(), writer.sql, [row])
        assert _indexes(dbapi, "bom_lines") == before


def test_a_failed_first_load_keeps_the_indexes(tmp_path: Path) -> None:
    """The drop is part of the run's transaction: a run rejected after BOM lines were loaded
    leaves the schema as it was."""
    engine = open_cache(tmp_path / "c.sqlite")
    con = sqlite3.connect(tmp_path / "c.sqlite")
    before = _indexes(con, "bom_lines")
    bad: dict[str, dict[str, list[Any]]] = {**DATA, "requisitions": {
        "code": ["R1"], "item": ["BOLT"], "site": ["NOWHERE"], "quantity": [1],
        "need_date": ["2026-01-01"]}}
    result = run_sync(engine, _Columns(bad))
    assert not result.ok and result.counts["bom_lines"]["changed"] == 2
    assert _indexes(con, "bom_lines") == before
    assert con.execute("SELECT count(*) FROM bom_lines").fetchone() == (0,)


def test_a_key_sent_twice_in_a_first_load_rolls_nothing_back(tmp_path: Path) -> None:
    """The rows before the conflicting one stay in (no savepoint, no journal of the pages
    earlier batches wrote); that row and the rest go through the upsert: the same rowids,
    values and counts as the upsert throughout."""
    engine = open_cache(tmp_path / "c.sqlite")
    statements: list[str] = []
    data: dict[str, dict[str, list[Any]]] = {
        # batches of two: (EA, BOX), (G, EA again: conflicts after G is in), (KG, KG)
        "uoms": {"code": ["EA", "BOX", "G", "EA", "KG", "KG"],
                 "name": ["each", "box", "gram", "piece", "kilo", "kilogram"]},
    }
    with engine.connect() as conn:
        dbapi: Any = conn.connection.driver_connection
        dbapi.set_trace_callback(statements.append)
    result = run_sync(engine, _Columns(data))
    assert result.ok, result.error
    assert result.counts["uoms"] == {"received": 6, "changed": 6, "deleted": 0}
    assert not [s for s in statements if "SAVEPOINT" in s.upper() or "ROLLBACK" in s.upper()]
    con = sqlite3.connect(tmp_path / "c.sqlite")
    assert con.execute("SELECT rowid, code, name FROM uoms ORDER BY rowid").fetchall() == [
        (1, "EA", "piece"), (2, "BOX", "box"), (3, "G", "gram"), (4, "KG", "kilogram")]


def test_column_rows_are_made_one_at_a_time_and_read_as_a_list_would() -> None:
    """Rows made column-wise (EntityWriter.rows with columns) are a ColumnRows: the driver takes
    each tuple as it is made; read, sliced, taken and compared they act as the list of tuples."""
    from workbench.cache.upsert import ColumnRows

    rows = ColumnRows([["A", "B", "C"], [1, 2, 3], [7, 7, 7]])
    assert len(rows) == 3 and list(rows) == [("A", 1, 7), ("B", 2, 7), ("C", 3, 7)]
    assert rows[1] == ("B", 2, 7) and rows[1:] == [("B", 2, 7), ("C", 3, 7)]
    assert rows.taken([2, 0]) == [("C", 3, 7), ("A", 1, 7)]
    assert rows != [("A", 1, 7)] and rows != [["A", 1, 7], ["B", 2, 7], ["C", 3, 7]]
    assert rows == [("A", 1, 7), ("B", 2, 7), ("C", 3, 7)]
    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE t (a, b, c)")
    con.executemany("INSERT INTO t VALUES (?, ?, ?)", rows)
    assert con.execute("SELECT * FROM t ORDER BY rowid").fetchall() == list(rows)


def test_a_column_batch_gives_column_rows_without_the_bad_ones(tmp_path: Path) -> None:
    from workbench.cache.upsert import ColumnRows, Lookups

    engine = open_cache(tmp_path / "c.sqlite")
    assert run_sync(engine, _Columns({"uoms": DATA["uoms"], "items": DATA["items"]})).ok
    with engine.begin() as conn:
        writer = EntityWriter("item_xrefs", 1)
        rows, cols, errors = writer.rows([], Lookups(conn), "x.cols", [2, 3, 4], columns={
            "item": ["BOLT", "GHOST", "NUT"], "system": ["erp"] * 3,
            "external_code": ["b", "g", "n"]})
    assert isinstance(rows, ColumnRows)
    assert [(r[3], r[5]) for r in rows] == [("BOLT", "b"), ("NUT", "n")]
    assert cols["item"] == ["BOLT", "NUT"] and [e.row for e in errors] == [3]
