"""The item list read in chunks by item code, for a table that fills while the user looks at it.

Keyset paging on the primary key (``code > ?  ORDER BY code LIMIT n``): each chunk is one index
range, however far into the list it starts, and rows added or removed between two chunks are
neither repeated nor skipped. Rows come back as columns (the cursor's tuples transposed once),
not dicts. The whole list in one pass: :func:`item_list_rest`; kept beside the cache under the
entity tables' stamp, so a start that finds the cache unchanged maps it instead of reading
200,000 rows again: :func:`read_item_list` / :func:`write_item_list`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Engine

log = logging.getLogger(__name__)

#: the columns the item list may show (an allow-list: the names go into the SQL text)
ITEM_LIST_COLUMNS = ("code", "description", "make_buy", "stock_uom", "lead_time_days",
                     "safety_stock", "standard_cost", "planner", "buyer", "default_supplier")


@dataclass(frozen=True)
class ItemListSize:
    """How many live items there are and the longest text of each asked text column."""

    rows: int
    widths: dict[str, int]


def _check(columns: tuple[str, ...] | list[str]) -> None:
    unknown = [c for c in columns if c not in ITEM_LIST_COLUMNS]
    if unknown or "code" not in columns:
        raise ValueError(f"item list columns must include code and be among "
                         f"{ITEM_LIST_COLUMNS}: {columns}")


def item_list_size(engine: Engine, text_columns: list[str]) -> ItemListSize:
    """One pass over the live items: their number and each text column's longest value."""
    _check(["code", *text_columns])
    widths = ", ".join(f"max(length({c}))" for c in text_columns)
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        row = cur.execute(f"SELECT count(*){', ' + widths if widths else ''} FROM items "
                          "WHERE deleted_at IS NULL").fetchone()
        cur.close()
    finally:
        raw.close()
    return ItemListSize(int(row[0]), {c: int(w or 0) for c, w in zip(text_columns, row[1:])})


def item_list_rows(engine: Engine, columns: list[str], after: str | None,
                   limit: int) -> dict[str, tuple[Any, ...]]:
    """The next ``limit`` live items by code after ``after`` (None: from the first), as one
    tuple of values per column (NULL as None)."""
    _check(columns)
    sql = (f"SELECT {', '.join(columns)} FROM items WHERE deleted_at IS NULL"
           f"{' AND code > ?' if after is not None else ''} ORDER BY code LIMIT ?")
    params: tuple[Any, ...] = (after, int(limit)) if after is not None else (int(limit),)
    from workbench.cache import dialect

    raw = engine.raw_connection()
    try:
        cur = dialect.cursor_of(raw)  # ?-SQL on both engines
        rows = cur.execute(sql, params).fetchall()
        cur.close()
    finally:
        raw.close()
    if not rows:
        return {c: () for c in columns}
    return dict(zip(columns, zip(*rows), strict=True))


#: stand for NULL and separate values in :func:`item_list_rest`'s joined columns
_NULL, _SEP = "\x1e", "\x1f"


def item_list_rest(engine: Engine, columns: list[str], numbers: list[str],
                   after: str | None, *, empty_for_null: bool = False,
                   widths: dict[str, int] | None = None) -> dict[str, Any] | None:
    """Every live item after ``after`` (None: all), in one pass, as one list per column in
    **table order** (rowid order, not by code: the caller sorts). ``numbers`` (a subset of
    ``columns``) come back as floats, NaN for NULL; text NULL as None, or as "" with
    ``empty_for_null``. ``widths``, when given, receives the longest text (characters) of each
    text column of these rows. None for a database other than SQLite (the caller pages with
    :func:`item_list_rows` then).

    Reading the rest of the list by the code index visits the table once per row in code order
    (random pages: 0.25 s of SQLite alone for 200,000 items, and a row tuple per item to build
    and transpose); here one scan in rowid order returns each text column as one joined string
    (``group_concat``) that splits into the column's values (the rows' order is the same in
    every aggregate of one statement, and the numbers are read in the same read transaction
    and the same scan order). A value holding the separator is read row by row.
    """
    if engine.dialect.name != "sqlite":
        return None
    _check(columns)
    text = [c for c in columns if c not in numbers]
    # NOT INDEXED: a full scan in rowid order in both statements (not the code index's order)
    where = "FROM items NOT INDEXED WHERE deleted_at IS NULL" + \
        (" AND code > ?" if after is not None else "")
    params: tuple[Any, ...] = (after,) if after is not None else ()
    out: dict[str, Any] = {}
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("BEGIN")  # both statements read one state of the cache
        try:
            null = "" if empty_for_null else _NULL
            concat = ", ".join(f"group_concat(ifnull({c}, '{null}'), '{_SEP}')" for c in text)
            longest = "".join(f", max(length({c}))" for c in text)
            count, *joined = cur.execute(f"SELECT count(*){longest}, {concat} {where}",
                                         params).fetchone()
            if widths is not None:
                widths.update({c: int(w or 0) for c, w in zip(text, joined[:len(text)])})
            for column, value in zip(text, joined[len(text):]):
                parts: list[Any] = [] if value is None else value.split(_SEP)
                if len(parts) != count:  # a value held the separator
                    parts = [("" if r[0] is None and empty_for_null else r[0])
                             for r in cur.execute(f"SELECT {column} {where}", params)]
                elif not empty_for_null and _NULL in value:
                    parts = [None if p == _NULL else p for p in parts]
                out[column] = parts
            if numbers:
                out.update(_numbers(cur, where, params, numbers))
        finally:
            cur.execute("COMMIT")
            cur.close()
    finally:
        raw.close()
    return {c: out[c] for c in columns}


#: the number columns of the item list (floats, NaN for NULL; the rest is text) and the text
#: columns whose values the Items panel's pickers offer
ITEM_LIST_NUMBERS = ("lead_time_days", "safety_stock", "standard_cost")
ITEM_LIST_PICKERS = ("make_buy", "planner")
#: rows converted at a time in :func:`_fixed_width`: each step holds the GIL for a few
#: milliseconds, so a UI thread's event loop keeps turning while 200,000 rows convert
_BLOCK = 16_384


def build_item_list(engine: Engine, columns: list[str], numbers: list[str],
                    after: str | None = None
                    ) -> tuple[dict[str, Any], dict[str, list[str]], dict[str, int]] | None:
    """Every live item after ``after`` (None: all) as the kept list holds it: one array per
    column **in code order** (text fixed-width, "" for NULL; ``numbers`` as floats, NaN for
    NULL), the pickers' values (:data:`ITEM_LIST_PICKERS` among ``columns``: distinct, sorted,
    non-empty, the first 500) and the longest text of each text column. Read in one pass
    (:func:`item_list_rest`); None on a database other than SQLite.

    Sorted by code as ``ORDER BY code`` gives (BINARY collation: UTF-8 bytes order code points,
    as numpy compares them); the other columns are put in that order as object pointers, before
    they become fixed-width text (copying that would cost more)."""
    import numpy as np

    widths: dict[str, int] = {}
    values = item_list_rest(engine, columns, numbers, after, empty_for_null=True, widths=widths)
    if values is None:
        return None
    codes = _fixed_width(np.array(values["code"], dtype=object), widths["code"])
    order = np.argsort(codes, kind="stable")
    arrays: dict[str, Any] = {}
    distinct: dict[str, list[str]] = {}
    for name in columns:
        if name == "code":
            arrays[name] = codes[order]
        elif name in numbers:
            arrays[name] = np.asarray(
                [np.nan if v is None else v for v in values[name]]
                if isinstance(values[name], list) else values[name], dtype=float)[order]
        else:
            arrays[name] = _fixed_width(np.array(values[name], dtype=object)[order],
                                        widths[name])
        if name in ITEM_LIST_PICKERS:  # as TableData.distinct gives them
            seen = sorted(set(values[name]))[:500]
            distinct[name] = [v for v in seen if v]
    return arrays, distinct, widths


def _fixed_width(values: Any, width: int) -> Any:
    """An object array of str, none longer than ``width``, as a fixed-width text array, in
    blocks."""
    import numpy as np

    out = np.empty(len(values), dtype=f"<U{max(1, width)}")
    for start in range(0, len(values), _BLOCK):
        out[start:start + _BLOCK] = values[start:start + _BLOCK]
    return out


def _numbers(cur: Any, where: str, params: tuple[Any, ...],
             columns: list[str]) -> dict[str, Any]:
    """Number columns straight from the cursor into one float array (NaN for NULL): no list of
    row tuples to build and transpose, and the GIL is let go at every row SQLite steps to (a
    transposition of 200,000 rows held it for 0.1-0.2 s). A stored value that is not a number:
    the rows as they are (the table's own conversion decides)."""
    import itertools

    import numpy as np

    # NULL as the text 'nan', which numpy reads as NaN (as a stored numeric text is read as
    # its number, the way the item table's own conversion reads it)
    select = "SELECT " + ", ".join(f"ifnull({c}, 'nan')" for c in columns) + f" {where}"
    try:
        values = np.fromiter(itertools.chain.from_iterable(cur.execute(select, params)),
                             dtype=float)
    except (TypeError, ValueError):  # a text value that is no number: row by row
        rows = cur.execute(f"SELECT {', '.join(columns)} {where}", params).fetchall()
        return {c: [r[j] for r in rows] for j, c in enumerate(columns)}
    matrix = values.reshape(-1, len(columns))
    return {c: matrix[:, j] for j, c in enumerate(columns)}


# --- the whole list kept beside the cache -----------------------------------------------------

#: the item list's files beside the cache file: ``<cache>.itemlist/<stamp>.json`` and
#: ``<stamp>.<column>.npy`` (see :func:`read_item_list`)
LIST_SUFFIX = ".itemlist"


def item_list_folder(engine: Engine) -> Path | None:
    """``<cache file>.itemlist`` for an SQLite cache on disk; None otherwise (a PostgreSQL
    cache pages its list, see :func:`item_list_rest`)."""
    if engine.dialect.name != "sqlite":
        return None
    from workbench.cache.db import local_base

    base = local_base(engine)
    return None if base is None else base.with_name(base.name + LIST_SUFFIX)


def observed_stamp(engine: Engine, wait_ms: int = 100) -> int | None:
    """The entity tables' stamp, marked observed (the next write of an entity table, items
    included, draws a new one: see :mod:`workbench.cache.snapshot`). A list read after this
    call and kept under the stamp is the list as long as the cache shows that stamp. None: no
    stamp, or it could not be marked within ``wait_ms`` (a sync holds the write lock)."""
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        try:
            row = cur.execute("SELECT stamp, observed FROM entity_stamp WHERE id = 1").fetchone()
            if row is None:
                return None
            if not row[1]:  # mark it (a write, only when no one has observed it yet)
                before = cur.execute("PRAGMA busy_timeout").fetchone()[0]
                cur.execute(f"PRAGMA busy_timeout = {int(wait_ms)}")
                try:
                    cur.execute("UPDATE entity_stamp SET observed = 1 WHERE id = 1 "
                                "AND observed = 0")
                    row = cur.execute("SELECT stamp, observed FROM entity_stamp "
                                      "WHERE id = 1").fetchone()
                    raw.commit()
                finally:
                    cur.execute(f"PRAGMA busy_timeout = {int(before)}")
            return int(row[0])
        finally:
            cur.close()
    except Exception as exc:  # noqa: BLE001 - locked, read-only, no stamp table: no file
        log.info("item list: entity stamp not observed (%s): the list is not kept", exc)
        try:
            raw.rollback()
        except Exception:  # noqa: BLE001 - the connection is closed next anyway
            pass
        return None
    finally:
        raw.close()


@dataclass(frozen=True)
class KeptList:
    """The whole item list as kept beside the cache: ``arrays`` one array per column in code
    order (memory-mapped, read-only), ``distinct`` the pickers' values, ``widths`` the longest
    text of each text column (characters)."""

    arrays: dict[str, Any]
    distinct: dict[str, list[str]]
    widths: dict[str, int]


def read_item_list(folder: Path, stamp: int, columns: list[str]) -> KeptList | None:
    """The whole list kept under ``stamp`` (:func:`write_item_list`); None when no complete list
    of these columns is kept under that stamp."""
    import json

    import numpy as np

    try:
        meta = json.loads((folder / f"{stamp}.json").read_text(encoding="utf-8"))
        if meta.get("columns") != columns or meta.get("stamp") != stamp:
            return None
        arrays = {c: np.load(folder / f"{stamp}.{c}.npy", mmap_mode="r", allow_pickle=False)
                  for c in columns}
    except (OSError, ValueError, KeyError, TypeError):
        return None
    rows = int(meta.get("rows", -1))
    if any(a.ndim != 1 or len(a) != rows for a in arrays.values()):
        return None
    return KeptList(arrays, {k: [str(v) for v in vs] for k, vs in meta.get("distinct", {}).items()},
                    {k: int(v) for k, v in meta.get("widths", {}).items()})


def write_item_list(folder: Path, stamp: int, arrays: dict[str, Any],
                    distinct: dict[str, list[str]], widths: dict[str, int] | None = None) -> None:
    """Keep the whole list (``arrays``: one array per column in code order, text as fixed-width
    unicode, numbers as floats; no object arrays) under ``stamp``: the column files first, the
    ``<stamp>.json`` that names them last, each through a temporary file (a fresh name, 0600,
    flushed to disk) and a rename (a reader sees a complete list or none); lists of other
    stamps are removed, and temporary files over an hour old (a crashed write's). The folder
    is made 0700: the list holds the cache's items, and the cache is private (0600)."""
    import json

    import numpy as np

    from workbench.cache.private_files import remove_stale, write_file

    rows = {len(a) for a in arrays.values()}
    if len(rows) != 1:
        raise ValueError("item list columns of different lengths")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # private, as the cache file is
    try:
        if folder.stat().st_mode & 0o077:  # kept by an older version (0755)
            folder.chmod(0o700)
    except OSError:
        pass
    remove_stale(folder, ".", _STALE_TMP_S, suffix=".tmp")  # a crashed write's leftovers

    def put(name: str, write: Any) -> None:
        # a fresh name (O_EXCL, 0600), on disk before it replaces the old file
        write_file(folder, name, write, prefix=f".{name}.", suffix=".tmp")

    for column, values in arrays.items():
        put(f"{stamp}.{column}.npy", lambda fh, v=values: _save(fh, np.ascontiguousarray(v)))
    if widths is None:
        widths = {c: a.dtype.itemsize // 4 for c, a in arrays.items() if a.dtype.kind == "U"}
    meta = {"stamp": stamp, "columns": list(arrays), "rows": rows.pop(), "distinct": distinct,
            "widths": widths}
    put(f"{stamp}.json", lambda fh: fh.write(json.dumps(meta).encode("utf-8")))
    for path in folder.iterdir():  # older lists
        if not path.name.startswith((f"{stamp}.", ".")):
            path.unlink(missing_ok=True)


#: a ``.<name>.<pid>.*.tmp`` file older than this (seconds) is a crashed write's leftover
_STALE_TMP_S = 3600.0
#: rows written at a time by :func:`_save`
_SAVE_ROWS = 16_384


def _save(fh: Any, values: Any) -> None:
    """``np.save`` of a plain array in blocks of rows: the file is written while the UI thread
    fills the table, and each block holds the GIL for about a millisecond (one ``np.save`` of a
    200,000-row text column held it long enough to stall the event loop)."""
    from numpy.lib import format as npy

    npy.write_array_header_1_0(fh, npy.header_data_from_array_1_0(values))
    for start in range(0, len(values), _SAVE_ROWS):
        fh.write(values[start:start + _SAVE_ROWS].tobytes())


@dataclass(frozen=True)
class KeptAfterWrite:
    """What :func:`keep_item_list` did: ``written`` the list was read and kept under ``stamp``
    (else ``reason`` says why not: already kept for that stamp, no SQLite file, stamp not
    observed); the wall and CPU seconds it took (the process's CPU time)."""

    stamp: int | None
    written: bool
    reason: str
    seconds: float
    cpu_seconds: float


def keep_item_list(engine: Engine) -> KeptAfterWrite:
    """Keep the whole item list beside the cache under its current entity stamp, read now (by
    the process that just wrote the cache: a sync, after its commit), so the next start lists
    every item from the kept files instead of reading and sorting them (issue 16 §4: the first
    start after a sync). Nothing is read when a list is already kept for the stamp (a sync that
    changed nothing) or there is no list file for this cache (PostgreSQL, in memory).

    The stamp is marked observed first and the rows read after it, as the Items panel's own
    read does: a write in between draws a new stamp, and the list kept under the old one is
    never answered. The columns are :data:`ITEM_LIST_COLUMNS` (the Items panel's, checked by
    tests/ui/test_item_list_after_sync.py). A failure is logged, never raised: the
    next start reads the list from the cache then."""
    import time

    wall, cpu = time.perf_counter(), time.process_time()

    def done(stamp: int | None, written: bool, reason: str) -> KeptAfterWrite:
        return KeptAfterWrite(stamp, written, reason, time.perf_counter() - wall,
                              time.process_time() - cpu)

    columns = list(ITEM_LIST_COLUMNS)
    folder = item_list_folder(engine)
    if folder is None:
        return done(None, False, "no list file for this cache")
    stamp = observed_stamp(engine)
    if stamp is None:
        return done(None, False, "entity stamp not observed")
    try:
        if read_item_list(folder, stamp, columns) is not None:
            return done(stamp, False, "already kept for this stamp")
        built = build_item_list(engine, columns, list(ITEM_LIST_NUMBERS))
        if built is None:
            return done(stamp, False, "no list file for this cache")
        write_item_list(folder, stamp, *built)
    except Exception as exc:  # a copy of the list: reading it again is the fallback
        log.warning("item list not kept in %s", folder, exc_info=True)
        return done(stamp, False, f"failed: {exc}")
    return done(stamp, True, "written")
