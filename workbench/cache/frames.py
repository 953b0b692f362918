"""Reading cache tables into pandas DataFrames for analysis and export.

Rows are fetched with the raw sqlite3 cursor and built with ``DataFrame.from_records`` — about
1.5x faster than ``pd.read_sql`` through SQLAlchemy for wide tables (see
shared/reference/qt-stack-notes.md). Deleted rows (``deleted_at`` set) are left out unless asked.
"""

from __future__ import annotations

import datetime as dt
import itertools
import typing
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from workbench.cache import dialect
from workbench.cache.schema import ENTITY_TABLES, entity_columns
from workbench.domain.models import ENTITY_MODELS


def date_fields(entity: str) -> list[str]:
    """Model fields of ``entity`` that hold dates or datetimes."""
    out = []
    for name, info in ENTITY_MODELS[entity].model_fields.items():
        ann = info.annotation
        args = typing.get_args(ann) or (ann,)
        if any(a in (dt.date, dt.datetime) for a in args):
            out.append(name)
    return out


def read_entity_frame(
    engine: Engine,
    entity: str,
    where_sql: str | None = None,
    params: tuple[object, ...] = (),
    *,
    columns: list[str] | None = None,
    include_deleted: bool = False,
    parse_dates: bool = True,
) -> pd.DataFrame:
    """The cache rows of ``entity`` as a DataFrame with the cache's column names.

    ``where_sql`` is an SQL condition on the entity table (with ``?`` placeholders filled from
    ``params``). Date columns become ``datetime64`` when ``parse_dates`` (missing dates are NaT).
    """
    if entity not in ENTITY_TABLES:
        raise KeyError(f"unknown entity {entity!r}")
    cols = columns or entity_columns(ENTITY_MODELS[entity])
    conditions = [] if include_deleted else ["deleted_at IS NULL"]
    if where_sql:
        conditions.append(f"({where_sql})")
    sql = f"SELECT {', '.join(cols)} FROM {entity}"
    if conditions:
        sql += " WHERE " + " AND ".join(conditions)
    sql += dialect.scan_order(engine)[1]  # PostgreSQL: rowid order, as SQLite's scan gives
    raw = engine.raw_connection()
    try:
        cur = dialect.cursor_of(raw)
        cur.execute(sql, params)
        rows = cur.fetchall()
        cur.close()
    finally:
        raw.close()
    frame = pd.DataFrame.from_records(rows, columns=cols)
    if parse_dates:
        for col in date_fields(entity):
            if col in frame.columns:
                frame[col] = pd.to_datetime(frame[col], format="ISO8601", errors="coerce")
    return frame


#: Separators for :func:`read_entity_columns`: between values, and standing for NULL.
_SEP, _NULL = "\x1f", "\x1e"


def read_entity_columns(engine: Engine, entity: str, text: list[str], numbers: list[str],
                        numbering: dict[str, np.ndarray] | None = None, *,
                        connection: Any = None, rowids: list[np.ndarray] | None = None,
                        changed_by_run: int | None = None) -> dict[str, np.ndarray]:
    """The live rows of ``entity`` as one array per column (in rowid order), for bulk loads.

    ``text`` columns (codes, statuses, ISO dates; integers are exact as text too) come back as
    object arrays of str with None for NULL; ``numbers`` (real quantities, which SQLite would
    render with only 15 digits as text) as float64 with NaN for NULL (object arrays of the stored
    values if a stored value is not a number).

    Text is fetched as one ``group_concat`` string per column: no row tuples to build and
    transpose (most of a 2M-row read). Short ASCII columns then keep one str object per distinct
    value (see :func:`_distinct_objects`); others are split. Both statements read one snapshot
    (one read transaction). A value holding the separator character is read row by row.

    ``numbering``, when given, receives for those text columns it could number that way the
    number of each row's value (in order of first appearance; equal values, equal numbers).

    ``connection``, when given, is a DB-API connection already inside a read transaction
    (:func:`workbench.cache.db.read_transaction`), so several entities read one state.

    ``rowids``, when given, receives the rows' SQLite rowids (int64, the order of the arrays):
    the frame snapshot keeps them to patch a frame after a sync in place
    (:func:`workbench.cache.snapshot.patch_frame`). ``changed_by_run`` reads only the live rows
    the sync run of that id wrote last (column ``sync_run``).
    """
    if entity not in ENTITY_TABLES:
        raise KeyError(f"unknown entity {entity!r}")
    # SQLite: NOT INDEXED: a full scan of the table visits rows in rowid order, in every
    # statement (an ORDER BY rowid would wrap the aggregate's input in a subquery, a third
    # slower); PostgreSQL: ORDER BY rowid, in the aggregate too (workbench.cache.dialect)
    raw = connection if connection is not None else engine.raw_connection()
    hint, order = dialect.scan_order(raw)
    where = f"FROM {entity}{hint} WHERE deleted_at IS NULL"
    if changed_by_run is not None:
        where += f" AND sync_run = {int(changed_by_run)}"
    try:
        cur = dialect.cursor_of(raw)
        if connection is None:
            dialect.begin_read(cur, raw)
        try:
            out = _text_columns(cur, where, text, numbering, order)
            if numbers:
                out.update(_number_columns(cur, where + order, numbers))
            if rowids is not None:
                rowids.append(_rowids(cur, f"SELECT rowid {where}{order}"))
        finally:
            if connection is None:
                cur.execute("COMMIT")
            cur.close()
    finally:
        if connection is None:
            raw.close()
    return {c: out[c] for c in text + numbers}


def _rowids(cur: Any, select: str, params: tuple[Any, ...] = ()) -> np.ndarray:
    return np.fromiter(itertools.chain.from_iterable(cur.execute(select, params)), dtype=np.int64)


def rows_written_by_run(connection: Any, entity: str, run_id: int) -> np.ndarray:
    """The rowids (ascending) of every row of ``entity`` the sync run ``run_id`` wrote last,
    live or marked deleted, on a DB-API ``connection`` (inside a read transaction)."""
    if entity not in ENTITY_TABLES:
        raise KeyError(f"unknown entity {entity!r}")
    cur = dialect.cursor_of(connection)
    try:
        return np.sort(_rowids(cur, f"SELECT rowid FROM {entity} WHERE sync_run = ?",
                               (int(run_id),)))
    finally:
        cur.close()


def live_row_census(connection: Any, entity: str) -> tuple[int, int]:
    """(number of live rows, sum of their rowids) of ``entity``: what a frame of its live rows
    must match (a cheap check that no row was removed unseen)."""
    if entity not in ENTITY_TABLES:
        raise KeyError(f"unknown entity {entity!r}")
    cur = dialect.cursor_of(connection)
    try:
        count, total = cur.execute(
            f"SELECT count(*), coalesce(sum(rowid), 0) FROM {entity} WHERE deleted_at IS NULL"
        ).fetchone()
    finally:
        cur.close()
    return int(count), int(total)


def _number_columns(cur: Any, where: str, columns: list[str]) -> dict[str, np.ndarray]:
    select = f"SELECT {', '.join(columns)} {where}"
    try:  # straight from the cursor into one array: no list of row tuples (40% faster)
        values = np.fromiter(itertools.chain.from_iterable(cur.execute(select)), dtype=float)
        values = values.reshape(-1, len(columns))
    except (TypeError, ValueError):  # a stored value that is not a number
        rows = cur.execute(select).fetchall()
        values = np.array(rows, dtype=object).reshape(len(rows), len(columns))
    return {c: values[:, j].copy() for j, c in enumerate(columns)}


def _text_columns(cur: Any, where: str, columns: list[str],
                  numbering: dict[str, np.ndarray] | None, order: str = "") -> dict[str, np.ndarray]:
    if not columns:
        return {}
    # the separators as literals: char(30) and char(31) would be function calls on every row
    pg = bool(order)  # PostgreSQL: its scans need an ORDER BY (workbench.cache.dialect)
    concat = ", ".join(dialect.group_concat(pg, f"coalesce({c}{'::text' if pg else ''}, '{_NULL}')",
                                            _SEP) for c in columns)
    cur.execute(f"SELECT count(*), {concat} {where}")
    count, *joined = cur.fetchone()
    out: dict[str, np.ndarray] = {}
    for column, text in zip(columns, joined):
        numbered = None if text is None else _distinct_objects(text, count)
        if numbered is not None:
            distinct, ids = numbered
            values = distinct[ids]
            if numbering is not None:
                numbering[column] = ids
        else:
            values = np.array([] if text is None else text.split(_SEP), dtype=object)
            if len(values) != count:  # a value held the separator: read it row by row
                cur.execute(f"SELECT {column} {where}{order}")
                values = np.array([r[0] for r in cur.fetchall()], dtype=object)
            elif text is not None and _NULL in text:
                values[values == _NULL] = None
        out[column] = values
    return out


#: An odd constant: multiplying by it is a bijection of 64-bit integers that spreads similar
#: ASCII bytes over a hash table.
_MIX = np.uint64(0x9E3779B97F4A7C15)


def _distinct_objects(text: str, count: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The distinct values of one joined column (None for NULL) and the number of each row's
    value, in order of first appearance; None when the column is not ASCII, has a value over 32
    characters or does not split into ``count`` values.

    Codes, statuses and dates repeat a lot (2M BOM lines, 200k items): their bytes are numbered
    as 8-byte words in numpy and only the distinct values become Python strings. Besides the
    memory, every later hash or comparison of the column meets the same few objects.
    """
    if not text.isascii():
        return None
    raw = np.frombuffer(text.encode("ascii"), np.uint8)
    sep = np.flatnonzero(raw == ord(_SEP))
    if len(sep) + 1 != count:
        return None
    starts = np.concatenate([[0], sep + 1])
    lengths = np.concatenate([sep, [len(raw)]]) - starts
    width = int(lengths.max())
    if width > 32:
        return None
    words = max(1, (width + 7) // 8)
    # each value's bytes padded with zeros to whole 8-byte words: a window of the text at its
    # start, cleared beyond its length
    padded = np.concatenate([raw, np.zeros(words * 8, np.uint8)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, words * 8)[starts]
    matrix = np.where(np.arange(words * 8) < lengths[:, None], windows, np.uint8(0))
    ids: np.ndarray | None = None
    for word in matrix.view(np.uint64).T:  # number the words, then (number so far, word) pairs
        part, distinct = pd.factorize((word * _MIX).view(np.int64))
        ids = part if ids is None else pd.factorize(ids * len(distinct) + part)[0]
    assert ids is not None
    first = np.flatnonzero(np.concatenate([[True], ids[1:] > np.maximum.accumulate(ids)[:-1]]))
    distinct_values = np.array([text[a:a + n] for a, n in zip(starts[first], lengths[first])],
                               dtype=object)
    distinct_values[distinct_values == _NULL] = None
    return distinct_values, ids
