"""The item list read in chunks by item code, for a table that fills while the user looks at it.

Keyset paging on the primary key (``code > ?  ORDER BY code LIMIT n``): each chunk is one index
range, however far into the list it starts, and rows added or removed between two chunks are
neither repeated nor skipped. Rows come back as columns (the cursor's tuples transposed once),
not dicts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Engine

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
