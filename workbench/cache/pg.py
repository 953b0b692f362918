"""Opening a cache on PostgreSQL (issue 17): the team cache.

``open_cache("postgresql://planner@db.plant.local:5432/workbench")`` (and ``--cache`` with such a
URL) opens this engine instead of an SQLite file; everything else in :mod:`workbench.cache` runs
the same code on both, with the differences in :mod:`workbench.cache.dialect`.

- **Driver**: SQLAlchemy with psycopg 3 (``postgresql+psycopg``); ``postgres://`` and
  ``postgresql://`` URLs are accepted as they are written for libpq, query parameters (``sslmode``,
  ``service``, ``sslrootcert``…) go to libpq unchanged.
- **Password**: never in the settings, never in a log. It comes from (in this order) the URL typed
  on the command line, in its user part or as libpq's ``?password=`` / ``?sslpassword=``
  (accepted, used in memory only as connect arguments: every URL kept or shown has ``***`` or
  drops those parameters; a setting holding one is refused), the keyring (service
  ``PlannerWorkbench``, account ``postgresql:<user>@<host>:<port>/<database>``, see
  :func:`keyring_account`), or libpq's own files: ``~/.pgpass`` and a service file
  (``?service=plant`` in the URL).
- **Schema**: the schema version and the application marker live in the table ``cache_meta``
  (``schema_version``, ``application``). An empty database gets the schema from
  ``migrations/pg/0014_baseline.sql`` and every later twin migration; a database of a newer schema
  is refused with the same words as an SQLite cache; a database that holds tables but no marker is
  "not a Planner Workbench cache" and is never changed.
- **Backup before migrating**: PostgreSQL DDL is transactional, so all pending migrations run in
  ONE transaction (under an advisory lock, so two workstations opening an old team cache at once
  migrate it once): either the whole migration commits or the database stays as it was. No copy
  is made; a plant backs its server up with pg_dump (docs/team-cache.md).
- **Writers**: ``engine.begin()`` is a write transaction as on SQLite, but writers do not take a
  cache-wide lock and leave no ``.writer`` file: PostgreSQL locks rows, so two buyers write at
  once. ``engine.connect()`` reads in READ COMMITTED; :func:`workbench.cache.db.read_transaction`
  reads one REPEATABLE READ snapshot.
- **Local files** (the frame snapshot, EDI archive and inbox): a PostgreSQL cache has no folder of
  its own, so they live under the user data dir in ``team-caches/<host>-<port>-<database>/``
  (:func:`local_base`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
from pathlib import Path
from typing import Any

import platformdirs
from sqlalchemy import URL, Engine, create_engine, event, make_url, text
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.pool import QueuePool

from workbench import APP_NAME, __version__
from workbench.cache import dialect
from workbench.cache.migrations import LATEST_VERSION, PG_MIGRATIONS

log = logging.getLogger(__name__)

#: what cache_meta's "application" says in a Planner Workbench cache
APPLICATION = "planner-workbench"
#: the keyring service of database passwords (the one the connectors' passwords use)
KEYRING_SERVICE = APP_NAME
#: the advisory lock key that serializes migrations of one database ("PWB1" as for SQLite)
MIGRATION_LOCK = 0x50574231
_SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://")
#: the file in a PostgreSQL cache's local folder naming its database
DATABASE_MARKER = "database.url"


class PgCacheError(RuntimeError):
    """Raised inside this module; :func:`workbench.cache.db.open_cache` turns it into CacheError."""


def is_postgres_url(location: object) -> bool:
    """True when ``location`` (a --cache value, a setting) names a PostgreSQL database."""
    return isinstance(location, str) and location.strip().lower().startswith(_SCHEMES)


def parse_url(location: str) -> URL:
    """The SQLAlchemy URL (driver psycopg) of a ``postgresql://`` location."""
    try:
        url = make_url(location.strip())
    except ArgumentError:  # its text repeats the location: never shown
        raise PgCacheError(f"{mask(location)} is not a PostgreSQL URL") from None
    except ValueError as exc:  # a port that is not a number (the message names no password)
        raise PgCacheError(f"{mask(location)} is not a PostgreSQL URL ({exc})") from None
    return url.set(drivername="postgresql+psycopg")


#: query parameters that carry a secret as libpq takes them (``?password=``, ``?sslpassword=``):
#: used in memory only, dropped from every URL that is kept or shown
SECRET_PARAMETERS = ("password", "sslpassword")


def is_secret_parameter(key: str) -> bool:
    return key.strip().lower() in SECRET_PARAMETERS


def secret_parameters(url: URL) -> list[str]:
    """The query keys of ``url`` that hold a password (:data:`SECRET_PARAMETERS`)."""
    return [key for key in url.query if is_secret_parameter(key)]


_SECRET_IN_QUERY = re.compile(r"([?&](?:ssl)?password=)[^&#\s]*", re.IGNORECASE)
_USERINFO_PASSWORD = re.compile(r"://[^:/@?#]*:[^@/?#]*@")


def has_password(location: str) -> bool:
    """True when the ``postgresql://`` ``location`` holds a password (in its user part or as a
    ``password``/``sslpassword`` parameter): what a setting may not keep. An unreadable URL
    answers by its text."""
    try:
        url = make_url(location.strip())
    except (ArgumentError, ValueError):
        return bool(_USERINFO_PASSWORD.search(location) or _SECRET_IN_QUERY.search(location))
    return url.password is not None or bool(secret_parameters(url))


def _drop_secret_parameters(url: URL) -> URL:
    secrets = secret_parameters(url)
    return url.difference_update_query(secrets) if secrets else url


def mask(location: str | URL) -> str:
    """The URL with its password shown as ``***`` and no password parameter (what messages and
    logs may show)."""
    if isinstance(location, URL):
        return _drop_secret_parameters(location.set(drivername="postgresql")).render_as_string(
            hide_password=True)
    with contextlib.suppress(ArgumentError, ValueError):
        return _drop_secret_parameters(make_url(location.strip())).render_as_string(
            hide_password=True)
    masked = re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", location)
    return _SECRET_IN_QUERY.sub(r"\1***", masked)


def without_password(url: URL) -> URL:
    """``url`` with no password at all (``URL.set(password=None)`` would keep it), nor a
    ``password``/``sslpassword`` query parameter."""
    query = {k: v for k, v in url.query.items() if not is_secret_parameter(k)}
    return URL.create(url.drivername, username=url.username, password=None, host=url.host,
                      port=url.port, database=url.database, query=query)


def display(url: URL) -> str:
    """``postgresql://user@host:port/db`` without the password or driver, for messages."""
    return mask(without_password(url))


def keyring_account(url: URL) -> str:
    """The keyring account of a database's password: ``postgresql:user@host:port/db``."""
    return f"postgresql:{url.username or ''}@{url.host or 'localhost'}:{url.port or 5432}/" \
           f"{url.database or ''}"


def _keyring_password(url: URL) -> str | None:
    try:
        import keyring
        import keyring.errors
    except ImportError:
        return None
    try:
        return keyring.get_password(KEYRING_SERVICE, keyring_account(url))
    except Exception as exc:  # noqa: BLE001 - no usable backend: libpq's files may still serve
        log.debug("no keyring password for %s: %s", display(url), type(exc).__name__)
        return None


def local_base(url: URL) -> Path:
    """Where the local files of the PostgreSQL cache at ``url`` start: the frame snapshot is this
    path + ``.frames``, the EDI archive + ``.edi-archive`` (as they sit beside an SQLite file).
    The folder ``team-caches/<host>-<port>-<database>`` is created when missing."""
    host = url.host or "localhost"
    name = f"{host}-{url.port or 5432}-{url.database or 'postgres'}"
    name = re.sub(r"[^A-Za-z0-9._-]", "_", name)
    folder = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "team-caches" / name
    with contextlib.suppress(OSError):  # made on first use, readable by the user only
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        marker = folder / DATABASE_MARKER  # which database these files belong to (no password)
        named = display(url)
        if not marker.is_file() or marker.read_text(encoding="utf-8").strip() != named:
            marker.write_text(named + "\n", encoding="utf-8")
    return folder / "cache"


def database_of(base: Path | str) -> str | None:
    """The URL (without password) of the PostgreSQL cache whose local files start at ``base``
    (what :func:`local_base` gave), or None when ``base`` is not such a path: a connector given
    the cache's location as a path (``cache_reads``) finds the database this way."""
    marker = Path(base).with_name(DATABASE_MARKER)
    with contextlib.suppress(OSError):
        if marker.is_file():
            named = marker.read_text(encoding="utf-8").strip()
            return named if is_postgres_url(named) else None
    return None


# --- schema ------------------------------------------------------------------------------------

def _state(conn: Any) -> tuple[int, str | None, bool]:
    """(schema version, application marker, has other tables) of the connected database."""
    tables = {r[0] for r in conn.execute(text(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"))}
    if "cache_meta" not in tables:
        return 0, None, bool(tables)
    meta = dict(conn.execute(text("SELECT key, value FROM cache_meta")).all())
    try:
        version = int(meta.get("schema_version") or 0)
    except ValueError:
        version = 0
    return version, meta.get("application"), True


def newer_message(where: str, version: int) -> str:
    return (f"{where} was written by a newer Planner Workbench (cache schema {version}; this is "
            f"version {__version__} with schema {LATEST_VERSION}). Update the application, or "
            f"open another cache with --cache. The database was not changed.")


def _check(url: URL, version: int, app: str | None, has_tables: bool) -> None:
    where = display(url)
    if app != APPLICATION and has_tables:
        raise PgCacheError(f"{where} is not a Planner Workbench cache (a PostgreSQL database of "
                           f"something else; it was not changed): choose another database with "
                           f"--cache")
    if version > LATEST_VERSION:
        raise PgCacheError(newer_message(where, version))


def migrate(engine: Engine, url: URL) -> int:
    """Bring the database to the latest schema in one transaction; the version it had."""
    if not PG_MIGRATIONS or PG_MIGRATIONS[-1].version != LATEST_VERSION:
        raise PgCacheError(f"this build of Planner Workbench cannot open PostgreSQL caches (its "
                           f"PostgreSQL migrations are missing); open {display(url)} with a "
                           f"complete installation")
    with engine.connect() as conn:
        version, app, has_tables = _state(conn)
        conn.rollback()
    _check(url, version, app, has_tables)
    if version >= LATEST_VERSION:
        return version
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK})
        version, app, has_tables = _state(conn)  # another workstation may have migrated it
        _check(url, version, app, has_tables)
        for migration in PG_MIGRATIONS:
            if migration.version <= version:
                continue
            # the file as one script, without parameters (its '%' are not placeholders)
            with conn.connection.dbapi_connection.cursor() as cur:  # type: ignore[union-attr]
                cur.execute(migration.sql)
            log.info("cache %s migrated to schema %d", display(url), migration.version)
        conn.execute(text(
            "INSERT INTO cache_meta (key, value) VALUES ('application', :a), "
            "('schema_version', :v) ON CONFLICT (key) DO UPDATE SET value = excluded.value"),
            {"a": APPLICATION, "v": str(LATEST_VERSION)})
    return version


def open_pg_cache(location: str) -> Engine:
    """The engine of the PostgreSQL cache at ``location`` (created or migrated as needed);
    :class:`PgCacheError` (one line, password masked) when it cannot be opened."""
    import psycopg  # here: an SQLite-only session never loads the driver

    url = parse_url(location)
    connect_args: dict[str, Any] = {"connect_timeout": 10, "application_name": APP_NAME}
    # typed on the command line (in the user part or as ?password= / ?sslpassword=): used in
    # memory, never kept in the engine's URL
    typed = {k.strip().lower(): v for k, v in url.query.items() if is_secret_parameter(k)}
    for key, value in typed.items():
        value = value[-1] if isinstance(value, tuple) else value
        if value:
            connect_args[key] = value
    if url.password is not None:
        connect_args["password"] = url.password
    elif "password" not in connect_args:
        password = _keyring_password(url)
        if password:
            connect_args["password"] = password
    url = without_password(url)
    engine = create_engine(url, poolclass=QueuePool, pool_size=4, max_overflow=8,
                           pool_pre_ping=True, connect_args=connect_args,
                           hide_parameters=True)
    dialect.install(engine)
    event.listen(engine, "connect", _adapt_like_sqlite)
    try:
        migrate(engine, url)
    except PgCacheError:
        engine.dispose()
        raise
    except OperationalError as exc:
        engine.dispose()
        raise PgCacheError(f"cannot open the cache {display(url)} ({_first_line(exc)})") from None
    except DBAPIError as exc:
        engine.dispose()
        raise PgCacheError(f"cannot open the cache {display(url)} ({_first_line(exc)})") from None
    except psycopg.Error as exc:  # a migration script runs on the driver's cursor
        engine.dispose()
        raise PgCacheError(f"cannot migrate the cache {display(url)} ({_first_line(exc)}); "
                           f"it was not changed") from None
    return engine


def _adapt_like_sqlite(dbapi_connection: Any, _record: Any) -> None:
    """Parameters as the SQLite cache stores them: dates and datetimes as ISO-8601 text (the
    sqlite3 adapters of :mod:`workbench.cache.db`), booleans as 0/1, so one SQL compares the
    same values on both engines."""
    from psycopg.adapt import Dumper
    from psycopg.postgres import types

    text_oid = types["text"].oid
    int_oid = types["int8"].oid

    class IsoDumper(Dumper):
        oid = text_oid

        def dump(self, obj: Any) -> bytes:
            return str(obj.isoformat()).encode()

    class BoolAsIntDumper(Dumper):
        oid = int_oid

        def dump(self, obj: Any) -> bytes:
            return b"1" if obj else b"0"

    adapters = dbapi_connection.adapters
    adapters.register_dumper(dt.date, IsoDumper)
    adapters.register_dumper(dt.datetime, IsoDumper)
    adapters.register_dumper(bool, BoolAsIntDumper)


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
