"""Opening the cache: location, connection settings, schema version checks and migrations.

A cache is an SQLite file (this module) or, for a team, a PostgreSQL database: a
``postgresql://`` location is handed to :mod:`workbench.cache.pg`, and the SQL that differs
between the two lives in :mod:`workbench.cache.dialect`. :func:`local_base` answers, for both,
where the files a cache keeps outside the database (frame snapshot, EDI archive) live.

The SQLite cache is one file in WAL mode with foreign keys on. Its schema version lives in
``PRAGMA user_version`` and its identity in ``PRAGMA application_id``. Opening a cache written by
an older version migrates it (after a backup copy beside it); a cache written by a newer version is
refused before anything touches the file, and so is any SQLite file that is not a cache (a
"foreign" database is never converted into one).

Opening never goes through a formatted URL: SQLite is opened by a connection *creator* with the
path quoted into an SQLite URI (:func:`sqlite_uri`), so a path holding ``#``, ``?``, ``%`` or
spaces opens exactly that file. A path that cannot be a cache (a folder, an unreadable or
read-only file, a read-only folder) is refused with one line naming the reason
(:class:`CacheError`; the CLI exits with code 3).

Readers and writers (see :class:`CacheEngine`):

- ``engine.connect()`` reads: its transaction is a plain deferred ``BEGIN``, which in WAL mode
  never waits for, and never blocks, a writer — it sees the last committed state.
- ``engine.begin()`` writes: ``BEGIN IMMEDIATE`` takes the write lock at once. While another
  process holds it (a large sync, the GUI's writer) the wait is announced once through
  :data:`wait_notice` (the CLI prints it on stderr) and, after :func:`busy_wait_s`, ends in
  :class:`CacheBusyError` naming the holder ("a sync by PID 4242 since 09:12:03 UTC"), which every
  writer leaves beside the cache in ``<cache>.writer`` while it holds the lock.

A query that fails on a damaged file is explained by :func:`explain_failure`, which runs
``PRAGMA quick_check`` and names the way out (the backup copy the last migration kept, or a fresh
sync); :func:`verify_cache` is the same check for a sync that must not report success on a
damaged file. More in docs/reliability.md.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import shutil
import sqlite3
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import platformdirs
from sqlalchemy import URL, Connection, Engine, create_engine, event
from sqlalchemy.pool import QueuePool

from workbench import APP_NAME, __version__
from workbench.cache.migrations import LATEST_VERSION, MIGRATIONS
from workbench.cache.pg import PgCacheError, is_postgres_url, mask, open_pg_cache
from workbench.cache.pg import display as pg_display
from workbench.cache.pg import local_base as pg_local_base

log = logging.getLogger(__name__)

# Dates are stored as ISO-8601 text (the default adapters are deprecated from Python 3.12).
sqlite3.register_adapter(dt.date, dt.date.isoformat)
sqlite3.register_adapter(dt.datetime, dt.datetime.isoformat)

#: "PWB1" — marks a SQLite file as a Planner Workbench cache
APPLICATION_ID = 0x50574231
#: the file beside the cache naming the process that holds the write lock
WRITER_SUFFIX = ".writer"
#: how long a writer waits for the write lock before giving up (seconds); the environment
#: variable ``PLANNER_WORKBENCH_BUSY_WAIT_S`` overrides it
BUSY_WAIT_S = 30.0
#: how long a writer tries quietly before it announces that it waits
_QUIET_WAIT_MS = 300
#: SQLite's own wait for a lock inside a transaction (a reader during a WAL reset, a commit)
_STATEMENT_WAIT_MS = 5000
#: what the process is, as the busy message of another process names it ("a sync", "the
#: desktop app"); the CLI sets it from the sub-command
activity = "the desktop app"
#: called with one line when a writer starts waiting for the lock (the CLI prints it on stderr)
wait_notice: Callable[[str], None] = log.warning


class CacheError(RuntimeError):
    """The cache cannot be opened or used; the message says why and what to do."""


class CacheBusyError(CacheError):
    """Another process held the write lock for longer than this one would wait."""


class CacheDamagedError(CacheError):
    """The cache file has damaged pages (``PRAGMA quick_check`` found problems)."""


def default_cache_path() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "cache.sqlite"


def local_base(engine: Engine) -> Path | None:
    """Where the local files of the cache of ``engine`` start — the one answer for both engines.
    The frame snapshot is this path + ``.frames``, the EDI archive + ``.edi-archive``, the inbox
    + ``.edi-inbox``, the writer note + ``.writer``, migration backups + ``.schemaN.bak``. For an
    SQLite cache it is the cache file itself (they sit beside it); for a PostgreSQL cache a path
    in a per-database folder under the user data dir (:func:`workbench.cache.pg.local_base`).
    None for an in-memory SQLite database."""
    if engine.dialect.name == "postgresql":
        return pg_local_base(engine.url)
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    return Path(database)


def as_location(value: Path | str) -> Path | str:
    """A cache location as :func:`open_cache` takes it: a ``postgresql://`` URL stays text (a
    Path would fold its ``//``), anything else is a file path (``~`` expanded)."""
    if is_postgres_url(value):
        return str(value).strip()
    return Path(value).expanduser()


def location_text(engine: Engine) -> str:
    """The cache's location as a user reads it: the file, or the PostgreSQL URL without its
    password (``postgresql://planner@db:5432/plant``)."""
    if engine.dialect.name == "postgresql":
        return pg_display(engine.url)
    return str(engine.url.database)


def sqlite_uri(path: Path, *, read_only: bool = False) -> str:
    """An SQLite URI opening exactly ``path``: ``#``, ``?``, ``%`` and spaces are %-escaped, so
    none of them can end the path or start a query string (``file:///a%20b%23?mode=ro``)."""
    posix = path.as_posix()  # C:/x on Windows: the URI names it file:///C:/x
    uri = "file://" + ("" if posix.startswith("/") else "/") + quote(posix, safe="/:")
    return uri + ("?mode=ro" if read_only else "?mode=rw")


def busy_wait_s() -> float:
    try:
        return float(os.environ.get("PLANNER_WORKBENCH_BUSY_WAIT_S", BUSY_WAIT_S))
    except ValueError:
        return BUSY_WAIT_S


# --- checking a path before SQLite sees it ------------------------------------------------------

def _check_path(path: Path) -> bool:
    """Raise :class:`CacheError` when ``path`` cannot hold a cache; True when it holds a file."""
    if path.is_dir():
        raise CacheError(f"{path} is a folder, not a cache file; give a file path with --cache")
    folder = path.parent
    if path.exists():
        if not path.is_file():
            raise CacheError(f"{path} is not a regular file; give a cache file path with --cache")
        if not os.access(path, os.R_OK):
            raise CacheError(f"cannot read {path}: permission denied (the file's permissions)")
        if not os.access(path, os.W_OK):
            raise CacheError(f"{path} is read-only: the cache must be writable (the file's "
                             f"permissions); copy it to a writable place or fix its permissions")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise CacheError(f"the folder {folder} is read-only: the cache keeps its write-ahead "
                             f"log beside the file; copy it to a writable folder")
        return path.stat().st_size > 0
    existing = folder
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise CacheError(f"cannot create {path}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise CacheError(f"cannot create {path}: the folder {existing} is read-only")
    return False


def _create_private(path: Path) -> None:
    """Create the folder (0700 where created) and an empty cache file readable by the user only
    (0600, whatever the umask); SQLite gives its -wal and -shm files the file's mode."""
    missing = []
    folder = path.parent
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for created in reversed(missing):
        created.mkdir(mode=0o700)
        os.chmod(created, 0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.fchmod(fd, 0o600)
    os.close(fd)


def _read_header(path: Path) -> tuple[int, int, bool]:
    """(application_id, user_version, has_tables) read without changing the file."""
    try:
        con = sqlite3.connect(sqlite_uri(path, read_only=True), uri=True)
    except sqlite3.Error as exc:
        raise CacheError(f"cannot open {path} ({exc})") from None
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
    if app_id != APPLICATION_ID and (has_tables or version):
        raise CacheError(f"{path} is not a Planner Workbench cache (an SQLite database of "
                         f"something else; it was not changed): choose another file with --cache")
    if version > LATEST_VERSION:
        raise CacheError(
            f"{path} was written by a newer Planner Workbench (cache schema {version}; this is "
            f"version {__version__} with schema {LATEST_VERSION}). Update the application, or "
            f"open another cache with --cache. The file was not changed."
        )
    return version


# --- connections -------------------------------------------------------------------------------

def _connect(path: Path) -> sqlite3.Connection:
    """A connection to exactly ``path`` (never a formatted URL), in autocommit mode: the engine's
    begin events own transactions, so DDL and DML are both transactional."""
    con = sqlite3.connect(sqlite_uri(path), uri=True, check_same_thread=False,
                          isolation_level=None)
    cur = con.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={_STATEMENT_WAIT_MS}")
    cur.execute("PRAGMA cache_size=-65536")  # 64 MiB page cache
    cur.close()
    return con


class CacheEngine(Engine):
    """An engine whose ``begin()`` writes and whose ``connect()`` reads (see the module doc):
    ``begin()`` marks its connection, and the begin event takes the write lock only for it."""

    @contextlib.contextmanager
    def begin(self) -> Iterator[Connection]:
        with self.connect() as conn:
            conn.info["cache_write"] = True
            try:
                with conn.begin():
                    yield conn
            finally:
                conn.info.pop("cache_write", None)


def _configure(engine: Engine, path: Path) -> None:
    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.info.get("cache_write"):
            dbapi = conn.connection.driver_connection
            assert isinstance(dbapi, sqlite3.Connection)
            begin_write(dbapi, path)
        else:
            conn.exec_driver_sql("BEGIN")

    @event.listens_for(engine, "commit")
    def _on_commit(conn: Connection) -> None:
        if conn.info.get("cache_write"):
            _clear_writer(path)

    @event.listens_for(engine, "rollback")
    def _on_rollback(conn: Connection) -> None:
        if conn.info.get("cache_write"):
            _clear_writer(path)


def begin_write(con: sqlite3.Connection, path: Path) -> None:
    """``BEGIN IMMEDIATE`` on ``con``: at once, or after announcing the wait for the process
    holding the write lock; :class:`CacheBusyError` when it is still held after
    :func:`busy_wait_s`. The holder's line is then left in ``<cache>.writer``."""
    wait_s = busy_wait_s()
    try:
        for wait_ms in (_QUIET_WAIT_MS, int(wait_s * 1000)):
            con.execute(f"PRAGMA busy_timeout={wait_ms}")
            try:
                con.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):
                    raise
                if wait_ms != _QUIET_WAIT_MS:
                    raise CacheBusyError(busy_message(path)) from None
                wait_notice(f"waiting up to {wait_s:.0f} s for the cache: {busy_holder(path)}")
    finally:
        con.execute(f"PRAGMA busy_timeout={_STATEMENT_WAIT_MS}")
    _record_writer(path)


def busy_message(path: Path) -> str:
    return f"the cache is busy: {busy_holder(path)}; try again when it has finished"


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _writer_file(path: Path) -> Path:
    return path.with_name(path.name + WRITER_SUFFIX)


def _record_writer(path: Path) -> None:
    line = json.dumps({"pid": os.getpid(), "activity": activity,
                       "since": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")})
    try:
        fd = os.open(_writer_file(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(line)
    except OSError:
        pass  # only a courtesy for a waiting process's message


def _clear_writer(path: Path) -> None:
    with contextlib.suppress(OSError, ValueError, AttributeError):
        writer = _writer_file(path)
        if json.loads(writer.read_text(encoding="utf-8")).get("pid") == os.getpid():
            writer.unlink()


def busy_holder(path: Path) -> str:
    """Who holds the write lock, in a user's words: "a sync by PID 4242 since 09:12:03 UTC
    (2 min)", from ``<cache>.writer``; "another process is writing to it" when unknown."""
    try:
        info: dict[str, Any] = json.loads(_writer_file(path).read_text(encoding="utf-8"))
        pid = int(info["pid"])
        since = dt.datetime.fromisoformat(str(info["since"]))
    except (OSError, ValueError, KeyError, TypeError):
        return "another process is writing to it"
    if pid != os.getpid() and not _alive(pid):
        return "another process is writing to it"
    age = int((dt.datetime.now(dt.UTC) - since).total_seconds())
    took = f"{age} s" if age < 120 else f"{age // 60} min"
    return f"{info.get('activity') or 'a process'} by PID {pid} since {since:%H:%M:%S} UTC ({took})"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, another user's
    return True


@contextlib.contextmanager
def read_transaction(engine: Engine) -> Iterator[Any]:
    """One DB-API connection of ``engine`` inside one read transaction (a deferred ``BEGIN`` and
    a first read, which fixes the state it sees): every statement on it reads that same
    committed state, whatever other processes commit meanwhile (WAL), and no writer waits for it.
    On PostgreSQL the same: one REPEATABLE READ, READ ONLY transaction. Used for a planning
    load, so it never reads half of a sync."""
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if engine.dialect.name == "postgresql":  # the driver began it: one snapshot for all
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cur.execute("SELECT 1")
        else:
            cur.execute("BEGIN")
            cur.execute("SELECT count(*) FROM sqlite_master")
        cur.close()
        yield raw
    finally:
        try:
            raw.rollback()
        finally:
            raw.close()


# --- damage ------------------------------------------------------------------------------------

def quick_check(path: Path, limit: int = 5) -> list[str]:
    """The problems ``PRAGMA quick_check`` finds in the file (empty: none), read-only."""
    try:
        con = sqlite3.connect(sqlite_uri(path, read_only=True), uri=True)
    except sqlite3.Error as exc:
        return [str(exc)]
    try:
        rows = con.execute(f"PRAGMA quick_check({int(limit)})").fetchall()
    except sqlite3.DatabaseError as exc:
        return [str(exc)]
    finally:
        con.close()
    # one row may hold several lines ("*** in database main ***\nPage 63: ...")
    problems = [line.strip() for r in rows for line in str(r[0]).splitlines()
                if line.strip() and not line.startswith("*** in database")]
    return [] if problems == ["ok"] else problems


def damaged_message(path: Path, problems: list[str]) -> str:
    """One line: the file is damaged, the first problem, and the way out."""
    backups = sorted(path.parent.glob(path.name + ".schema*.bak"))
    more = f" and {len(problems) - 1} more problems" if len(problems) > 1 else ""
    out = f"the cache {path} is damaged ({problems[0]}{more}); "
    if backups:
        out += f"restore the backup copy {backups[-1]} (made before the last migration), or "
    return out + "move the file aside and sync again (decisions not yet sent are in the damaged file)"


def verify_cache(path: Path | str) -> None:
    """Raise :class:`CacheDamagedError` when ``PRAGMA quick_check`` finds damaged pages."""
    path = Path(path)
    problems = quick_check(path)
    if problems:
        raise CacheDamagedError(damaged_message(path, problems))


def explain_failure(path: Path | str | None, exc: BaseException) -> CacheError | None:
    """The one-line :class:`CacheError` for a database error ``exc`` raised on the cache at
    ``path`` — busy, damaged, full disk, read-only — or None when it is none of those."""
    text = str(getattr(exc, "orig", None) or exc)
    lower = text.lower()
    if path is None:
        return None
    if is_postgres_url(path):  # no file to check: the server said what went wrong
        if any(w in lower for w in ("could not connect", "connection", "server closed",
                                    "terminating")):
            return CacheError(f"cannot reach the cache {mask(str(path))} "
                              f"({text.strip().splitlines()[0]}); nothing was changed by the "
                              f"unfinished command")
        return None
    path = Path(path)
    if "locked" in lower or "busy" in lower:
        return CacheBusyError(busy_message(path))
    if "readonly" in lower or "read-only" in lower:
        return CacheError(f"the cache {path} cannot be written ({text}): check the permissions "
                          f"of the file and its folder")
    if "disk is full" in lower or "database or disk is full" in lower:
        return CacheError(f"the disk holding {path} is full; the cache was not changed")
    problems = quick_check(path)
    if problems or "malformed" in lower or "not a database" in lower:
        return CacheDamagedError(damaged_message(path, problems or [text]))
    return None


# --- migrations and the engine -----------------------------------------------------------------

def migrate(path: Path, from_version: int) -> None:
    """Apply every migration above ``from_version``, each in its own transaction. A cache that is
    current is not touched (no write transaction), so a reader never waits here for a writer."""
    if from_version >= LATEST_VERSION:
        return
    if from_version > 0:
        backup = path.with_name(f"{path.name}.schema{from_version}.bak")
        shutil.copy2(path, backup)
        os.chmod(backup, 0o600)
    con = _connect(path)
    try:
        for migration in MIGRATIONS:
            if migration.version <= from_version:
                continue
            begin_write(con, path)
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
                _clear_writer(path)
    finally:
        con.close()


def open_cache(path: Path | str | None = None) -> Engine:
    """Open (creating or migrating as needed) the cache at ``path`` and return its engine.

    ``path`` may also be a ``postgresql://user@host:port/db`` URL: the team cache on PostgreSQL
    (:mod:`workbench.cache.pg`; the password never comes from the settings).

    :class:`CacheError` (one line) when the path cannot hold a cache, the file is not a cache,
    was written by a newer version, is damaged, or is busy being migrated by another process."""
    if is_postgres_url(path):
        assert isinstance(path, str)
        try:
            pg_engine = open_pg_cache(path)
        except PgCacheError as exc:
            raise CacheError(str(exc)) from None
        pg_engine.__class__ = CacheEngine
        return pg_engine
    path = Path(path) if path else default_cache_path()
    path = path.expanduser().resolve()
    if _check_path(path):
        version = check_openable(path)
    else:
        if not path.exists():
            try:
                _create_private(path)
            except OSError as exc:
                raise CacheError(f"cannot create {path} ({exc.strerror})") from None
        version = 0
    try:
        migrate(path, version)
    except sqlite3.Error as exc:
        raise explain_failure(path, exc) or CacheError(f"cannot open {path} ({exc})") from None
    # The pool hands a connection to one thread at a time (UI thread, sync worker, network
    # worker), so connections may move between threads. The URL only names the file (the
    # snapshot and status read it); the creator opens it.
    engine = create_engine(
        URL.create("sqlite", database=str(path)),
        creator=lambda: _connect(path),
        poolclass=QueuePool,
        pool_size=4,
        max_overflow=4,
    )
    engine.__class__ = CacheEngine
    _configure(engine, path)
    return engine


def print_wait_notices() -> None:
    """Announce waits for the write lock on stderr (the CLI's choice)."""
    global wait_notice

    def _print(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    wait_notice = _print
