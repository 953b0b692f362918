"""Cache schema versions: migrate older caches, refuse newer ones without touching them."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from workbench.cache.db import APPLICATION_ID, CacheError, open_cache
from workbench.cache.migrations import LATEST_VERSION, MIGRATIONS
from workbench.cache.schema import metadata


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _schema1_cache(path: Path) -> None:
    """A cache as version 0.1 of the app wrote it: only the first migration, with data."""
    con = sqlite3.connect(path, isolation_level=None)
    for statement in MIGRATIONS[0].statements():
        con.execute(statement)
    con.execute(f"PRAGMA application_id={APPLICATION_ID}")
    con.execute("PRAGMA user_version=1")
    con.execute("INSERT INTO sites (code, name) VALUES ('P1', 'Plant 1')")
    con.execute("INSERT INTO uoms (code) VALUES ('EA')")
    con.execute("INSERT INTO items (code, stock_uom) VALUES ('BOLT', 'EA')")
    con.execute("INSERT INTO purchase_orders (code, supplier, site) VALUES ('PO1', 'S1', 'P1')")
    con.close()


def test_older_cache_is_migrated_keeping_its_data_and_a_backup(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    _schema1_cache(path)
    engine = open_cache(path)
    with engine.begin() as conn:
        assert conn.exec_driver_sql("PRAGMA user_version").scalar_one() == LATEST_VERSION
        assert conn.exec_driver_sql("SELECT name FROM sites").scalar_one() == "Plant 1"
        # migration 2's trigger now records promise history on the migrated cache
        conn.exec_driver_sql(
            "INSERT INTO purchase_order_lines (purchase_order, line, item, supplier, site, "
            "quantity_ordered, requested_date, promised_date) "
            "VALUES ('PO1', 1, 'BOLT', 'S1', 'P1', 5, '2026-12-01', '2026-12-04')")
        history = conn.exec_driver_sql(
            "SELECT promised_date, origin FROM promise_changes").all()
    assert history == [("2026-12-04", "observed")]
    backup = tmp_path / "cache.sqlite.schema1.bak"
    con = sqlite3.connect(backup)
    assert con.execute("PRAGMA user_version").fetchone()[0] == 1
    con.close()


def test_newer_cache_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    engine = open_cache(path)
    engine.dispose()
    con = sqlite3.connect(path)
    con.execute(f"PRAGMA user_version={LATEST_VERSION + 1}")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    before = _sha(path)
    with pytest.raises(CacheError, match=r"written by a newer Planner Workbench .*The file was not changed"):
        open_cache(path)
    assert _sha(path) == before
    assert not (tmp_path / "cache.sqlite-wal").exists() or (tmp_path / "cache.sqlite-wal").stat().st_size == 0


def test_a_foreign_sqlite_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE notes (text)")
    con.commit()
    con.close()
    with pytest.raises(CacheError, match="is not a Planner Workbench cache"):
        open_cache(path)


def test_migrations_build_exactly_the_declared_schema(tmp_path: Path) -> None:
    engine = open_cache(tmp_path / "cache.sqlite")
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            cols = [r[1] for r in conn.exec_driver_sql(f"PRAGMA table_info({table.name})")]
            assert sorted(cols) == sorted(c.name for c in table.columns), table.name
        fk = conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one()
        mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar_one()
    assert (fk, mode) == (1, "wal")
