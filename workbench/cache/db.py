"""Opening the cache: location, connection settings, schema version checks and migrations.

The cache is one SQLite file in WAL mode with foreign keys on. Its schema version lives in
``PRAGMA user_version`` and its identity in ``PRAGMA application_id``. Opening a cache written by
an older version migrates it (after a backup copy beside it); a cache written by a newer version is
refused before anything touches the file.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from pathlib import Path

import platformdirs
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import QueuePool

from workbench import APP_NAME, __version__
from workbench.cache.migrations import LATEST_VERSION, MIGRATIONS

# Dates are stored as ISO-8601 text (the default adapters are deprecated from Python 3.12).
sqlite3.register_adapter(dt.date, dt.date.isoformat)
sqlite3.register_adapter(dt.datetime, dt.datetime.isoformat)

#: "PWB1" — marks a SQLite file as a Planner Workbench cache
APPLICATION_ID = 0x50574231


class CacheError(RuntimeError):
    """The cache cannot be opened; the message says why and what to do."""


def default_cache_path() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "cache.sqlite"


def _read_header(path: Path) -> tuple[int, int, bool]:
    """(application_id, user_version, has_tables) read without changing the file."""
    uri = f"file:{path}?mode=ro"
    con = sqlite3.connect(uri, uri=True)
    try:
        app_id = con.execute("PRAGMA application_id").fetchone()[0]
        version = con.execute("PRAGMA user_version").fetchone()[0]
        tables = con.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise CacheError(f"{path} is not a readable cache file ({exc})") from None
    finally:
        con.close()
    return app_id, version, tables > 0


def check_openable(path: Path) -> int:
    """The schema version of an existing cache, or raise :class:`CacheError` if we must not open it."""
    app_id, version, has_tables = _read_header(path)
    if has_tables and app_id != APPLICATION_ID:
        raise CacheError(f"{path} is not a Planner Workbench cache; choose another file with --cache")
    if version > LATEST_VERSION:
        raise CacheError(
            f"{path} was written by a newer Planner Workbench (cache schema {version}; this is "
            f"version {__version__} with schema {LATEST_VERSION}). Update the application, or "
            f"open another cache with --cache. The file was not changed."
        )
    return version


def _configure(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        # Let SQLAlchemy's "begin" below own transactions, so DDL and DML are both transactional.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.execute("PRAGMA cache_size=-65536")  # 64 MiB page cache
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:  # type: ignore[no-untyped-def]
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def migrate(path: Path, from_version: int) -> None:
    """Apply every migration above ``from_version``, each in its own transaction."""
    if from_version >= LATEST_VERSION:
        return
    if from_version > 0:
        backup = path.with_name(f"{path.name}.schema{from_version}.bak")
        shutil.copy2(path, backup)
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.execute("PRAGMA journal_mode=WAL")
        for migration in MIGRATIONS:
            if migration.version <= from_version:
                continue
            con.execute("BEGIN IMMEDIATE")
            try:
                for statement in migration.statements():
                    con.execute(statement)
                con.execute(f"PRAGMA application_id={APPLICATION_ID}")
                con.execute(f"PRAGMA user_version={migration.version}")
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
    finally:
        con.close()


def open_cache(path: Path | str | None = None) -> Engine:
    """Open (creating or migrating as needed) the cache at ``path`` and return its engine."""
    path = Path(path) if path else default_cache_path()
    path = path.expanduser().resolve()
    if path.exists() and path.stat().st_size > 0:
        version = check_openable(path)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        version = 0
    migrate(path, version)
    # The pool hands a connection to one thread at a time (UI thread, sync worker, network
    # worker), so connections may move between threads.
    engine = create_engine(
        f"sqlite:///{path}",
        poolclass=QueuePool,
        pool_size=4,
        max_overflow=4,
        connect_args={"check_same_thread": False, "timeout": 30},
    )
    _configure(engine)
    return engine
