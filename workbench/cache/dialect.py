"""The ONE place where SQL differs between the cache's two engines, SQLite and PostgreSQL
(issue 17). Everything else in :mod:`workbench.cache` writes one SQL for both.

What differs, and how each difference is handled here:

- **Placeholders**: the cache's hand-written SQL uses SQLite's ``?``. On PostgreSQL, statements
  run through ``conn.exec_driver_sql`` are rewritten to psycopg's ``%s`` (and a literal ``%`` to
  ``%%``) by an engine event (:func:`install`); raw DB-API cursors come from :func:`raw_cursor`,
  which does the same. SQLAlchemy-built statements need nothing.
- **Upserts**: ``INSERT … ON CONFLICT (…) DO UPDATE SET x = excluded.x`` and ``ON CONFLICT DO
  NOTHING`` are the same on both; SQLite's ``INSERT OR REPLACE`` / ``OR IGNORE`` are not used.
  Built with SQLAlchemy: :func:`insert` (the dialect's ``insert`` with ``on_conflict_do_*``).
  Many rows at once (``executemany`` of an upsert, from :data:`COPY_UPSERT_ROWS`) go through
  COPY into a staging table and one ``INSERT … SELECT`` on PostgreSQL: the medium demo's sync
  took 34 s row by row, 17 s so (SQLite 9-10 s; load average 10-11 on 2 shared cores).
- **Random entity stamp**: SQLite's ``random()`` is a signed 64-bit number, PostgreSQL's a float
  in [0, 1): :func:`new_stamp_sql` (PostgreSQL: ``pwb_random_stamp()`` of pg/0014_baseline.sql).
- **"now"** written by triggers: ``strftime('%Y-%m-%dT%H:%M:%S', 'now')`` vs ``pwb_now_text()``.
- **Days between ISO dates**: SQLite's ``julianday`` vs a cast to date (:class:`days_between`).
- **Text aggregation**: ``group_concat(x, sep)`` vs ``string_agg(x, sep)``, and a full scan
  in rowid order needs an ``ORDER BY rowid`` on PostgreSQL (:func:`group_concat`).
- **rowid**: SQLite's implicit rowid is a real column ``rowid`` (identity) of every entity table
  on PostgreSQL, so ``SELECT rowid``, ``max(rowid)`` and ``sum(rowid)`` read the same.
- **Schema version**: ``PRAGMA user_version`` vs ``cache_meta`` (:func:`schema_version`).
- **Null-safe comparison**: SQLite's ``a IS NOT b`` is ``a IS DISTINCT FROM b`` on PostgreSQL;
  the cache's SQL writes ``IS DISTINCT FROM`` only through SQLAlchemy's ``is_distinct_from``.
- **Recursive CTEs**: ``WITH RECURSIVE`` is the same on both; PostgreSQL wants the types of the
  anchor and the recursive part equal (cast literals).
- **LIKE**: case-insensitive for ASCII on SQLite, case-sensitive on PostgreSQL: write
  SQLAlchemy's ``ilike`` (``lower(x) LIKE lower(y)`` on SQLite, ``ILIKE`` on PostgreSQL).
- **Booleans**: stored as integers 0/1 on both (``entity_stamp.observed``), never as bool.
- **Locks**: SQLite's writer takes the database's write lock (``BEGIN IMMEDIATE``, the
  ``.writer`` note); PostgreSQL locks rows, so :mod:`workbench.cache.db` skips both there.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Float

POSTGRESQL = "postgresql"
SQLITE = "sqlite"

#: SQLite's "now" as the cache writes it (UTC, ISO-8601 to the second)
_SQLITE_NOW = "strftime('%Y-%m-%dT%H:%M:%S', 'now')"
_PG_NOW = "pwb_now_text()"


def name(bind: Connection | Engine | Any) -> str:
    """``"sqlite"`` or ``"postgresql"`` for an engine, a connection or a dialect."""
    dialect = bind.dialect if isinstance(bind, (Connection, Engine)) else bind
    return POSTGRESQL if isinstance(dialect, PGDialect) else SQLITE


def is_postgres(bind: Connection | Engine | Any) -> bool:
    return name(bind) == POSTGRESQL


# --- placeholders --------------------------------------------------------------------------------

_TOKENS = re.compile(
    r"--[^\n]*"  # a line comment (its ' or ? is no literal, no placeholder)
    r"|/\*.*?\*/"  # a block comment
    r"|(?<![\w$])\$(?P<tag>[A-Za-z_]\w*|)\$.*?\$(?P=tag)\$"  # a dollar-quoted string
    r"|'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\?|%", re.DOTALL)


def pyformat(sql: str) -> str:
    """``sql`` written with ``?`` placeholders as psycopg wants it: ``?`` -> ``%s``, ``%`` ->
    ``%%`` (outside quoted literals and identifiers, ``--`` and ``/* */`` comments and
    ``$tag$...$tag$`` strings, which are kept as they are)."""
    def repl(m: re.Match[str]) -> str:
        token = m.group(0)
        if token == "?":
            return "%s"
        if token == "%":
            return "%%"
        return token.replace("%", "%%")  # psycopg reads % inside literals too

    return _TOKENS.sub(repl, sql)


def install(engine: Engine) -> None:
    """On a PostgreSQL engine, rewrite the ``?`` of driver-level SQL (``exec_driver_sql``) to
    psycopg's placeholders; statements SQLAlchemy compiled are left alone."""
    if not is_postgres(engine):
        return

    @event.listens_for(engine, "before_cursor_execute", retval=True)
    def _qmark(conn: Connection, cursor: Any, statement: str, parameters: Any, context: Any,
               executemany: bool) -> tuple[str, Any]:
        if context is not None and getattr(context, "compiled", None) is None:
            statement = pyformat(statement)
        return statement, parameters


#: from this many rows an upsert's ``executemany`` goes through COPY (:class:`QmarkCursor`)
COPY_UPSERT_ROWS = 200
_UPSERT = re.compile(
    r"\s*INSERT INTO (?P<table>\w+) \((?P<columns>[\w, ]+)\) VALUES \([?, ]+\) "
    r"(?P<tail>ON CONFLICT \((?P<keys>[\w, ]+)\) .*)$", re.DOTALL)


class QmarkCursor:
    """A psycopg cursor that takes SQLite-style SQL (``?`` placeholders): what
    :func:`raw_cursor` gives on PostgreSQL, so code written against ``sqlite3.Cursor`` runs."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor
        self._rowcount: int | None = None

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> QmarkCursor:
        self._rowcount = None
        # always with a parameter tuple: psycopg then reads %% as % (pyformat doubled them)
        self._cursor.execute(pyformat(sql), tuple(params) if params is not None else ())
        return self

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> QmarkCursor:
        self._rowcount = None
        batch = [tuple(r) for r in rows]
        upsert = _UPSERT.match(sql) if len(batch) >= COPY_UPSERT_ROWS else None
        if upsert is not None:
            self._rowcount = self._copy_upsert(upsert, batch)
        else:
            self._cursor.executemany(pyformat(sql), batch)
        return self

    def _copy_upsert(self, upsert: re.Match[str], batch: list[tuple[Any, ...]]) -> int:
        """``INSERT INTO t (cols) VALUES (?, …) ON CONFLICT (keys) …`` for many rows: COPY them
        into a staging table, then one ``INSERT … SELECT … ON CONFLICT`` (what a row at a time
        costs in round trips, COPY does not). A key given twice in the batch counts once, its
        last row winning — as the rows one after another would leave it."""
        table, columns, keys, tail = upsert.group("table", "columns", "keys", "tail")
        cur = self._cursor
        cur.execute("DROP TABLE IF EXISTS pg_temp.pwb_stage")
        cur.execute(f"CREATE TEMP TABLE pwb_stage AS SELECT {columns} FROM {table} WITH NO DATA")
        cur.execute("ALTER TABLE pwb_stage ADD COLUMN pwb_n bigint GENERATED ALWAYS AS IDENTITY")
        with cur.copy(f"COPY pwb_stage ({columns}) FROM STDIN") as copy:
            for row in batch:
                copy.write_row(row)
        cur.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM (SELECT DISTINCT ON ({keys}) "
            f"* FROM pwb_stage ORDER BY {keys}, pwb_n DESC) AS last ORDER BY pwb_n {pyformat(tail)}",
            ())
        written = int(cur.rowcount)
        cur.execute("DROP TABLE pg_temp.pwb_stage")
        return written

    def fetchone(self) -> Any:
        return self._cursor.fetchone()

    def fetchall(self) -> list[Any]:
        return list(self._cursor.fetchall())

    def fetchmany(self, size: int) -> list[Any]:
        return list(self._cursor.fetchmany(size))

    def __iter__(self) -> Any:
        return iter(self._cursor)

    @property
    def rowcount(self) -> int:
        return int(self._cursor.rowcount) if self._rowcount is None else self._rowcount

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def lastrowid(self) -> int | None:
        """Not kept by PostgreSQL: use ``RETURNING id`` (see :func:`insert_returning_id`)."""
        return None

    def close(self) -> None:
        self._cursor.close()


def is_postgres_cursor(cursor: Any) -> bool:
    """True for a cursor :func:`raw_cursor` or :func:`cursor_of` gave on PostgreSQL."""
    return isinstance(cursor, QmarkCursor)


def raw_cursor(conn: Connection) -> Any:
    """A DB-API cursor on ``conn``'s connection (inside its transaction) that takes the cache's
    ``?`` SQL on both engines: the sqlite3 cursor itself, or a :class:`QmarkCursor`."""
    dbapi = conn.connection.driver_connection
    assert dbapi is not None
    cursor = dbapi.cursor()
    return QmarkCursor(cursor) if is_postgres(conn) else cursor


def is_postgres_dbapi(dbapi_connection: Any) -> bool:
    """True for a raw DB-API connection (or SQLAlchemy's proxy of one) of PostgreSQL."""
    driver = getattr(dbapi_connection, "driver_connection", None) or dbapi_connection
    return not isinstance(driver, sqlite3.Connection)


def cursor_of(dbapi_connection: Any) -> Any:
    """A cursor of a raw DB-API connection (``engine.raw_connection()``) taking ``?`` SQL."""
    cursor = dbapi_connection.cursor()
    return QmarkCursor(cursor) if is_postgres_dbapi(dbapi_connection) else cursor


def begin_read(cursor: Any, dbapi_connection: Any) -> None:
    """Start one read transaction that sees a single committed state on a raw connection:
    SQLite's deferred ``BEGIN``; on PostgreSQL (the driver begins by itself) REPEATABLE READ."""
    if is_postgres_dbapi(dbapi_connection):
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
    else:
        cursor.execute("BEGIN")


def scan_order(bind_or_dbapi: Any) -> tuple[str, str]:
    """(table hint, ORDER BY) that make a full scan of an entity table return rows in rowid
    order: SQLite's ``NOT INDEXED`` (its scan is in rowid order), PostgreSQL's ``ORDER BY
    rowid`` (its heap order is not guaranteed)."""
    if is_postgres(bind_or_dbapi) or (not hasattr(bind_or_dbapi, "dialect")
                                      and is_postgres_dbapi(bind_or_dbapi)):
        return "", " ORDER BY rowid"
    return " NOT INDEXED", ""


def insert_returning_id(cursor: Any, sql: str, params: Sequence[Any]) -> int:
    """Run an INSERT (``?`` SQL) and return the new row's ``id`` on both engines."""
    cursor.execute(sql.rstrip().rstrip(";") + " RETURNING id", params)
    return int(cursor.fetchone()[0])


def insert(bind: Connection | Engine | Any, table: Any) -> Any:
    """SQLAlchemy's INSERT of the engine's dialect, with ``on_conflict_do_nothing`` and
    ``on_conflict_do_update(index_elements=…, set_=…)`` (the same upsert on both engines)."""
    if is_postgres(bind):
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


# --- expressions ---------------------------------------------------------------------------------

def now_sql(bind: Connection | Engine | Any) -> str:
    """SQL for "now" as the cache writes text timestamps (UTC, to the second)."""
    return _PG_NOW if is_postgres(bind) else _SQLITE_NOW


def new_stamp_sql(bind: Connection | Engine | Any) -> str:
    """The statement drawing a new entity stamp when the last one was observed.

    PostgreSQL: the row is updated (and so locked until the writer commits) even when the stamp
    was not observed, as SQLite's write lock is held: a reader's observation then waits for the
    writer, or came first and this draws (see :func:`workbench.cache.stamp.stamp_in_transaction`)."""
    if is_postgres(bind):
        return ("UPDATE entity_stamp SET stamp = CASE WHEN observed = 1 THEN pwb_random_stamp() "
                "ELSE stamp END, observed = 0 WHERE id = 1")
    return "UPDATE entity_stamp SET stamp = random(), observed = 0 WHERE id = 1 AND observed = 1"


def schema_version(conn: Connection) -> int:
    """The cache's schema version (``PRAGMA user_version`` / ``cache_meta``)."""
    if is_postgres(conn):
        found = conn.exec_driver_sql(
            "SELECT value FROM cache_meta WHERE key = 'schema_version'").scalar()
        return int(found or 0)
    return int(conn.exec_driver_sql("PRAGMA user_version").scalar_one())


class days_between(FunctionElement[float]):
    """``days_between(later, earlier)``: days between two ISO-8601 date texts, as a float."""

    type = Float()
    inherit_cache = True
    name = "days_between"


@compiles(days_between)
def _days_sqlite(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return f"(julianday({compiler.process(later, **kw)}) - julianday({compiler.process(earlier, **kw)}))"


@compiles(days_between, POSTGRESQL)
def _days_pg(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return (f"(CAST({compiler.process(later, **kw)} AS date) - "
            f"CAST({compiler.process(earlier, **kw)} AS date))::float8")


def group_concat(postgres: bool, expr: str, sep: str) -> str:
    """SQL aggregating ``expr`` (text) into one string joined by ``sep`` in rowid order."""
    if postgres:
        return f"string_agg({expr}, '{sep}' ORDER BY rowid)"
    return f"group_concat({expr}, '{sep}')"
