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


# --- PostgreSQL (issue 17): the same forward migration, in one transaction ----------------------

def _pg_at_baseline(url: str) -> None:
    """A PostgreSQL cache as the first team-cache version wrote it: the baseline (schema 14)
    only, with a site, an item and a purchase order."""
    import psycopg

    from workbench.cache.migrations import PG_MIGRATIONS
    from workbench.cache.pg import APPLICATION

    baseline = PG_MIGRATIONS[0]
    assert baseline.version == 14
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(baseline.sql)  # type: ignore[arg-type]
        con.execute("INSERT INTO cache_meta VALUES ('application', %s), ('schema_version', '14')",
                    (APPLICATION,))
        con.execute("INSERT INTO sites (code, name) VALUES ('P1', 'Plant 1')")
        con.execute("INSERT INTO items (code, stock_uom) VALUES ('BOLT', 'EA')")
        con.execute("INSERT INTO purchase_orders (code, supplier, site) VALUES ('PO1', 'S1', 'P1')")


def _pg_tables(url: str) -> set[str]:
    import psycopg

    with psycopg.connect(url) as con:
        return {r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")}


def test_an_older_postgresql_cache_migrates_forward_keeping_its_data(pg_url: str) -> None:
    _pg_at_baseline(pg_url)
    assert "decision_versions" not in _pg_tables(pg_url)  # a table of migration 15
    engine = open_cache(pg_url)
    with engine.begin() as conn:
        assert conn.exec_driver_sql(
            "SELECT value FROM cache_meta WHERE key = 'schema_version'").scalar_one() == str(LATEST_VERSION)
        assert conn.exec_driver_sql("SELECT name FROM sites").scalar_one() == "Plant 1"
        conn.exec_driver_sql(
            "INSERT INTO purchase_order_lines (purchase_order, line, item, supplier, site, "
            "quantity_ordered, requested_date, promised_date) "
            "VALUES ('PO1', 1, 'BOLT', 'S1', 'P1', 5, '2026-12-01', '2026-12-04')")
        history = conn.exec_driver_sql("SELECT promised_date, origin FROM promise_changes").all()
    engine.dispose()
    assert [tuple(r) for r in history] == [("2026-12-04", "observed")]
    assert "decision_versions" in _pg_tables(pg_url)


def test_a_failing_postgresql_migration_leaves_the_database_as_it_was(
        pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """DDL is transactional: every pending migration runs in one transaction, which is the
    backup before migrating — a failure in the last statement undoes the tables it created."""
    from workbench.cache import pg
    from workbench.cache.migrations import PG_MIGRATIONS, Migration

    _pg_at_baseline(pg_url)
    broken = [PG_MIGRATIONS[0], *(Migration(m.version, m.name, m.sql + "\nSELECT 1 / 0;")
                                  for m in PG_MIGRATIONS[1:])]
    monkeypatch.setattr(pg, "PG_MIGRATIONS", broken)
    with pytest.raises(CacheError, match="division by zero"):
        open_cache(pg_url)
    assert "decision_versions" not in _pg_tables(pg_url)
    import psycopg

    with psycopg.connect(pg_url) as con:
        assert con.execute("SELECT value FROM cache_meta WHERE key = 'schema_version'"
                           ).fetchone() == ("14",)
        assert con.execute("SELECT name FROM sites").fetchall() == [("Plant 1",)]


def test_postgresql_migrations_build_exactly_the_declared_schema(pg_url: str) -> None:
    from sqlalchemy import inspect

    engine = open_cache(pg_url)
    insp = inspect(engine)
    for table in metadata.sorted_tables:
        cols = [c["name"] for c in insp.get_columns(table.name) if c["name"] != "rowid"]
        assert sorted(cols) == sorted(c.name for c in table.columns), table.name
    engine.dispose()
