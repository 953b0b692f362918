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
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        rows = cur.execute(sql, params).fetchall()
        cur.close()
    finally:
        raw.close()
    if not rows:
        return {c: () for c in columns}
    return dict(zip(columns, zip(*rows), strict=True))
