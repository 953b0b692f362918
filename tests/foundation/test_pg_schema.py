"""The cache on PostgreSQL (issue 17 §1): the schema of both engines, opening and refusing a
PostgreSQL database, the password's ways in and that it is never shown. A real server started by
the tests (tests/support/pgserver.py); no mocks."""

from __future__ import annotations

import logging
import sqlite3
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text

from workbench.cache import pg
from workbench.cache.db import CacheError, open_cache
from workbench.cache.migrations import LATEST_VERSION, MIGRATIONS, PG_BASELINE, PG_MIGRATIONS

SECRET = "s3cret-Pw-17"


def test_every_sqlite_migration_after_the_baseline_has_a_postgresql_twin() -> None:
    sqlite_names = {m.version: m.name for m in MIGRATIONS}
    pg_names = {m.version: m.name for m in PG_MIGRATIONS}
    assert PG_MIGRATIONS[0].name == f"{PG_BASELINE:04d}_baseline.sql"
    for version in range(PG_BASELINE + 1, LATEST_VERSION + 1):
        assert pg_names.get(version) == sqlite_names[version], f"pg/{sqlite_names[version]} missing"
    assert max(pg_names) == LATEST_VERSION


def test_the_sqlite_loader_reads_no_postgresql_file() -> None:
    top = {e.name for e in resources.files("workbench.cache.migrations").iterdir() if e.is_file()}
    assert {m.name for m in MIGRATIONS} <= top
    assert all("baseline" not in m.name for m in MIGRATIONS)
    assert len(MIGRATIONS) == LATEST_VERSION


def _sqlite_columns(path: Path) -> dict[str, list[str]]:
    con = sqlite3.connect(path)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        return {t: sorted(r[1] for r in con.execute(f'PRAGMA table_info("{t}")')) for t in tables}
    finally:
        con.close()


def test_both_engines_have_the_same_tables_columns_and_triggers(tmp_path: Path,
                                                                pg_url: str) -> None:
    sqlite_path = tmp_path / "cache.sqlite"
    open_cache(sqlite_path).dispose()
    engine = open_cache(pg_url)
    try:
        insp = inspect(engine)
        pg_cols = {t: sorted(c["name"] for c in insp.get_columns(t)) for t in insp.get_table_names()}
        with engine.connect() as conn:
            pg_triggers = {r[0] for r in conn.execute(text(
                "SELECT trigger_name FROM information_schema.triggers"))}
    finally:
        engine.dispose()
    # PostgreSQL only: cache_meta (SQLite's PRAGMAs) and the entity tables' rowid column
    # (SQLite's implicit rowid)
    assert set(pg_cols.pop("cache_meta")) == {"key", "value"}
    entity_tables = {t for t, cols in pg_cols.items() if "rowid" in cols}
    assert "purchase_order_lines" in entity_tables and "decisions" not in entity_tables
    for t in entity_tables:
        pg_cols[t].remove("rowid")
    assert pg_cols == _sqlite_columns(sqlite_path)
    con = sqlite3.connect(sqlite_path)
    sqlite_triggers = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    con.close()
    assert pg_triggers == sqlite_triggers
    assert len(pg_triggers) >= 38  # 2 + 2 history, 17 entity tables x (update, delete) stamp


def _meta(url: str) -> dict[str, str]:
    import psycopg

    with psycopg.connect(url) as con:
        return dict(con.execute("SELECT key, value FROM cache_meta").fetchall())  # type: ignore[arg-type]


def _tables(url: str) -> set[str]:
    import psycopg

    with psycopg.connect(url) as con:
        return {r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")}


def test_an_empty_database_gets_the_schema_and_opens_again_unchanged(pg_url: str) -> None:
    engine = open_cache(pg_url)
    engine.dispose()
    assert _meta(pg_url) == {"application": "planner-workbench",
                             "schema_version": str(LATEST_VERSION)}
    with engine.begin() as conn:  # a write transaction on PostgreSQL too
        conn.execute(text("INSERT INTO sync_context (key, value) VALUES ('k', 'v')"))
    again = open_cache(pg_url)
    with again.connect() as conn:
        assert conn.execute(text("SELECT value FROM sync_context WHERE key = 'k'")).scalar() == "v"
    again.dispose()
    engine.dispose()


def test_a_database_of_a_newer_schema_is_refused_as_on_sqlite(pg_url: str, tmp_path: Path) -> None:
    open_cache(pg_url).dispose()
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute("UPDATE cache_meta SET value = %s WHERE key = 'schema_version'",
                    (str(LATEST_VERSION + 1),))
    with pytest.raises(CacheError) as pg_refusal:
        open_cache(pg_url)
    assert _meta(pg_url)["schema_version"] == str(LATEST_VERSION + 1)
    # the SQLite wording, word for word up to what was not changed
    sqlite_path = tmp_path / "newer.sqlite"
    open_cache(sqlite_path).dispose()
    con = sqlite3.connect(sqlite_path)
    con.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    con.close()
    with pytest.raises(CacheError) as sqlite_refusal:
        open_cache(sqlite_path)
    words = f"was written by a newer Planner Workbench (cache schema {LATEST_VERSION + 1}; this is"
    assert words in str(pg_refusal.value) and words in str(sqlite_refusal.value)
    assert str(pg_refusal.value).split(" was written")[0] == pg_url.replace("postgres@", "postgres@")
    assert "Update the application, or open another cache with --cache." in str(pg_refusal.value)


def test_a_database_that_is_not_a_cache_is_refused_and_left_alone(pg_url: str) -> None:
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute("CREATE TABLE customers (id int PRIMARY KEY, name text)")
    with pytest.raises(CacheError, match="is not a Planner Workbench cache"):
        open_cache(pg_url)
    assert _tables(pg_url) == {"customers"}


@pytest.fixture
def password_db(pg_server: Any) -> Any:
    role = pg_server.create_password_role(SECRET)
    pg_server.admin(f"CREATE DATABASE pwdb OWNER {role}")
    yield f"{role}@127.0.0.1:{pg_server.port}/pwdb"
    pg_server.drop_database("pwdb")
    pg_server.admin(f"DROP ROLE IF EXISTS {role}")


def test_a_password_in_the_url_is_used_and_never_shown(password_db: str,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    user, rest = password_db.split("@", 1)
    engine = open_cache(f"postgresql://{user}:{SECRET}@{rest}")
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT current_user")).scalar() == user
        assert SECRET not in str(engine.url) and SECRET not in repr(engine.url)
        assert SECRET not in repr(engine)
    finally:
        engine.dispose()
    with pytest.raises(CacheError) as wrong:
        open_cache(f"postgresql://{user}:wrong-{SECRET}@{rest}")
    assert "password authentication failed" in str(wrong.value)
    assert SECRET not in str(wrong.value)
    assert SECRET not in caplog.text


def test_the_password_comes_from_the_keyring(password_db: str, memory_keyring: Any) -> None:
    url = f"postgresql://{password_db}"
    with pytest.raises(CacheError, match="password"):
        open_cache(url)  # nothing in the keyring, no pgpass: refused by the server
    port = url.split(":")[-1].split("/")[0]
    account = f"postgresql:pwb_password_user@127.0.0.1:{port}/pwdb"
    assert pg.keyring_account(pg.parse_url(url)) == account
    memory_keyring.set_password("PlannerWorkbench", account, SECRET)
    engine = open_cache(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT current_user")).scalar() == "pwb_password_user"
    engine.dispose()


def test_the_password_comes_from_a_pgpass_file(password_db: str, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    pgpass = tmp_path / "pgpass"
    port = password_db.split(":")[-1].split("/")[0]
    pgpass.write_text(f"127.0.0.1:{port}:pwdb:pwb_password_user:{SECRET}\n", encoding="utf-8")
    pgpass.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    engine = open_cache(f"postgresql://{password_db}")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT current_user")).scalar() == "pwb_password_user"
    engine.dispose()


def test_the_local_files_of_a_postgresql_cache_are_under_the_user_data_dir(pg_cache_url: str) -> None:
    from workbench.cache.db import local_base

    engine = open_cache(pg_cache_url)
    try:
        base = local_base(engine)
    finally:
        engine.dispose()
    assert base is not None
    port = pg_cache_url.split(":")[-1].split("/")[0]
    db = pg_cache_url.rsplit("/", 1)[1]
    assert base.parent.name == f"127.0.0.1-{port}-{db}"
    assert base.parent.parent.name == "team-caches"
    assert str(base).startswith(str(Path.home())) or "data" in str(base)


def test_a_password_in_the_url_query_is_used_and_never_shown(
        password_db: str, caplog: pytest.LogCaptureFixture) -> None:
    """``?password=`` as libpq takes it: the connection works (the role needs its password), the
    engine's URL, the migration log lines and a refusal's message never hold it."""
    caplog.set_level(logging.DEBUG)
    user = password_db.split("@", 1)[0]
    engine = open_cache(f"postgresql://{password_db}?password={SECRET}&application_name=x")
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT current_user")).scalar() == user
        assert SECRET not in str(engine.url) and SECRET not in repr(engine.url)
        assert "password" not in dict(engine.url.query)
    finally:
        engine.dispose()
    assert "migrated to schema" in caplog.text
    with pytest.raises(CacheError) as wrong:
        open_cache(f"postgresql://{password_db}?password=wrong-{SECRET}")
    assert "password authentication failed" in str(wrong.value)
    assert SECRET not in str(wrong.value)
    assert SECRET not in caplog.text
    assert all(SECRET not in r.getMessage() for r in caplog.records)


def test_mask_and_display_drop_password_parameters() -> None:
    url = f"postgresql://u:{SECRET}@h:5432/db?sslmode=require&password={SECRET}&sslpassword={SECRET}"
    assert pg.mask(url) == "postgresql://u:***@h:5432/db?sslmode=require"
    assert pg.display(pg.parse_url(url)) == "postgresql://u@h:5432/db?sslmode=require"
    assert SECRET not in pg.mask(f"postgresql://u@h:5432/db?password={SECRET} broken[")
    with pytest.raises(pg.PgCacheError) as bad:
        pg.parse_url(f"postgresql://u@h:notaport/db?password={SECRET}")
    assert SECRET not in str(bad.value)


def test_placeholders_outside_comments_and_dollar_quotes() -> None:
    from workbench.cache.dialect import pyformat

    assert pyformat("SELECT 1 -- don't\n, ?, 'q'") == "SELECT 1 -- don't\n, %s, 'q'"
    assert pyformat("SELECT /* why? it's 5% */ ?") == "SELECT /* why? it%%s 5%% */ %s".replace(
        "it%%s", "it's")
    assert pyformat("SELECT $$a ? 'b$$, ?, $fn$ x ? $fn$") == "SELECT $$a ? 'b$$, %s, $fn$ x ? $fn$"
    assert pyformat("SELECT 'a?', \"c?\", ?, 10 % 3") == "SELECT 'a?', \"c?\", %s, 10 %% 3"
