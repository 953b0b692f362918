"""The same cache behaviour on SQLite and PostgreSQL (issue 17 §1): the entity stamp that
invalidates the planning frame snapshot, the history triggers, a planning session and its
multi-level where-used, read from each engine (``any_cache``: a real PostgreSQL server)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine

from tests.fixtures_connector import MemoryConnector
from tests.foundation.plant import tiny_plant
from workbench.cache.snapshot import observe_stamp, read_stamp
from workbench.services.planning import where_used
from workbench.services.planning_data import open_session
from workbench.services.sync import run_sync


def _observed(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.exec_driver_sql("SELECT observed FROM entity_stamp WHERE id = 1").scalar_one())


def _write(engine: Engine, sql: str) -> int:
    with engine.begin() as conn:
        return int(conn.exec_driver_sql(sql).rowcount)


def test_the_entity_stamp_moves_at_the_first_change_after_it_was_observed(any_cache: Engine) -> None:
    engine = any_cache
    assert run_sync(engine, MemoryConnector(tiny_plant())).ok
    seen = observe_stamp(engine)
    assert seen is not None and read_stamp(engine) == seen and _observed(engine) == 1
    # a statement that changes no row keeps the stamp
    assert _write(engine, "UPDATE items SET description = 'x' WHERE code = 'NONE'") == 0
    assert read_stamp(engine) == seen and _observed(engine) == 1
    # the first change draws a new stamp and clears the flag
    assert _write(engine, "UPDATE items SET description = 'Bike 2' WHERE code = 'BIKE'") == 1
    moved = read_stamp(engine)
    assert moved is not None and moved != seen and _observed(engine) == 0
    # later changes (until observed again) only read the flag
    assert _write(engine, "UPDATE items SET description = 'Bike 3' WHERE code = 'BIKE'") == 1
    assert read_stamp(engine) == moved
    # a delete, after the stamp was observed again, draws another one
    assert observe_stamp(engine) == moved
    assert _write(engine, "DELETE FROM item_xrefs") >= 0
    assert _write(engine, "DELETE FROM uom_conversions WHERE item = 'BOLT'") == 1
    assert read_stamp(engine) not in (seen, moved)


def test_the_history_triggers_record_promise_and_revision_changes(any_cache: Engine) -> None:
    engine = any_cache
    data = tiny_plant()
    assert run_sync(engine, MemoryConnector(data), now=dt.datetime(2026, 11, 2, 8, 0)).ok
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO sync_context (key, value) VALUES "
                             "('observed_at', '2026-11-05T09:30:00')")
        conn.exec_driver_sql("UPDATE purchase_order_lines SET promised_date = '2026-12-24'")
        conn.exec_driver_sql("UPDATE purchase_order_lines SET unit_price = 3")  # not history
        conn.exec_driver_sql("UPDATE bom_revisions SET status = 'obsolete' WHERE parent = 'FRAME'")
        conn.exec_driver_sql("DELETE FROM sync_context WHERE key = 'observed_at'")
    with engine.connect() as conn:
        observed = conn.exec_driver_sql(
            "SELECT changed_at, promised_date, origin FROM promise_changes "
            "WHERE origin = 'observed' ORDER BY changed_at").all()
        revisions = conn.exec_driver_sql(
            "SELECT parent, old_status, new_status, observed_at FROM bom_revision_history "
            "ORDER BY id").all()
    assert [tuple(r) for r in observed][-1] == ("2026-11-05T09:30:00", "2026-12-24", "observed")
    assert len(observed) == 2  # the first sync's observation, then the change
    assert [tuple(r) for r in revisions][-1] == ("FRAME", "released", "obsolete",
                                                 "2026-11-05T09:30:00")
    assert [r[1] for r in revisions[:2]] == [None, None]  # the two revisions' first sight


def test_a_planning_session_and_multi_level_where_used_read_the_same(any_cache: Engine) -> None:
    engine = any_cache
    assert run_sync(engine, MemoryConnector(tiny_plant())).ok
    session = open_session(engine, today=dt.date(2026, 11, 2))
    answer = where_used(session, "PAINT", multi_level=True).result
    direct = answer.direct[["parent", "quantity_per"]].values.tolist()
    ancestors = answer.ancestors.set_index("item")
    # PAINT is in FRAME (250 G = 0.25 KG a frame), FRAME once in BIKE: 0.25 KG a bike
    assert direct == [["FRAME", pytest.approx(0.25)]]
    assert sorted(ancestors.index) == ["BIKE", "FRAME"]
    assert ancestors.loc["BIKE", "extended_quantity"] == pytest.approx(0.25)
    assert ancestors.loc["BIKE", "max_level"] == 2


def test_the_item_list_pages_the_same_on_both_engines(any_cache: Engine) -> None:
    """The Items panel's chunks: by code, ``after`` the last one, the first with the count and
    the text widths (PostgreSQL: the rest through the same paging, SQLite one joined read)."""
    from workbench.app.item_list import item_chunk, item_rest

    engine = any_cache
    assert run_sync(engine, MemoryConnector(tiny_plant())).ok
    first = item_chunk(engine, None, 2)
    assert list(first.table.keys) == ["BIKE", "BOLT"] and first.after == "BOLT"
    assert first.total == 4 and first.widths["description"] == 5  # "Frame", "Paint"
    rest = item_rest(engine, first.after)
    assert list(rest.table.keys) == ["FRAME", "PAINT"] and rest.after is None


def test_the_dialect_upsert_builder_is_the_same_statement_on_both(any_cache: Engine) -> None:
    from workbench.cache import dialect
    from workbench.cache.schema import metadata

    sync_context = metadata.tables["sync_context"]
    with any_cache.begin() as conn:
        for value in ("a", "b"):
            stmt = dialect.insert(conn, sync_context).values(key="k", value=value)
            conn.execute(stmt.on_conflict_do_update(index_elements=["key"],
                                                    set_={"value": stmt.excluded.value}))
        conn.execute(dialect.insert(conn, sync_context).values(key="k", value="c")
                     .on_conflict_do_nothing())
        assert conn.exec_driver_sql("SELECT key, value FROM sync_context").all() == [("k", "b")]


def test_percent_and_question_marks_in_literals_survive_the_placeholder_rewrite(
        any_cache: Engine) -> None:
    from workbench.cache import dialect

    with any_cache.connect() as conn:
        assert conn.exec_driver_sql("SELECT 'a%b?'").scalar() == "a%b?"
        assert conn.exec_driver_sql("SELECT 'a%b?' WHERE 1 = ?", (1,)).scalar() == "a%b?"
        cur = dialect.raw_cursor(conn)
        assert cur.execute("SELECT 'x%y'").fetchone()[0] == "x%y"
        assert cur.execute("SELECT 'x%y', ? || '%'", ("z",)).fetchone() == ("x%y", "z%")
        cur.close()


def test_a_bulk_upsert_leaves_the_same_rows_on_both_engines(any_cache: Engine) -> None:
    """PostgreSQL takes an upsert of many rows through COPY and one INSERT … SELECT
    (dialect.QmarkCursor): the rows it leaves, and the count of rows it wrote, are those of the
    rows one after another — a key sent twice ends with its last row."""
    from workbench.cache import dialect

    sql = ("INSERT INTO watermarks (connector, entity, watermark, updated_at) VALUES (?, ?, ?, ?) "
           "ON CONFLICT (connector, entity) DO UPDATE SET watermark = excluded.watermark "
           "WHERE watermarks.watermark IS DISTINCT FROM excluded.watermark")
    rows = [("c", f"e{i:03d}", f"w{i}", "2026-12-05") for i in range(300)]
    assert len(rows) >= dialect.COPY_UPSERT_ROWS
    with any_cache.begin() as conn:
        cur = dialect.raw_cursor(conn)
        cur.executemany(sql, rows)
        assert cur.rowcount == 300
        again = [*rows[:250], ("c", "e001", "changed", "2026-12-06"), *rows[250:]]
        cur.executemany(sql, again)  # e001 sent twice: stored, then changed by its last row
        written = cur.rowcount
        cur.executemany(sql, [*rows[:299], ("c", "e299", "x", "d"), ("c", "e299", "last", "d")])
        cur.close()
        stored = dict(conn.exec_driver_sql(
            "SELECT entity, watermark FROM watermarks WHERE entity IN ('e001', 'e299', 'e150')"
        ).all())
    assert written == 1
    assert stored == {"e001": "w1", "e299": "last", "e150": "w150"}  # the third batch: w1 again
