"""The Items panel's list, in chunks: the first rows show at once, the table fills while the
user looks at it (issue 16 §4: 200,000 items listed within a second of a usable window).

:func:`item_chunk` answers the next rows by item code as column arrays
(:data:`workbench.app.columns.ITEM_COLUMNS`): no pandas, no per-row formatting (the Qt model
formats a cell when it is drawn), no search text (built on the first text search). The first
chunk is small and also says how many rows follow and how wide each text column is, so the UI
copies each later chunk into arrays allocated once (:class:`workbench.app.tables.TableFill`).
Importing this module loads neither pandas nor numpy.

After the first chunk, :func:`item_rest` reads every later row in one pass of the table
(:func:`workbench.cache.itemlist.item_list_rest`: one joined string per text column, no row
tuples) and sorts it by code here; the panel appends it in slices of :data:`CHUNK_ROWS`, one
per turn of the event loop. Paging the rest by the code index instead (four chunks of 50,000)
took 1.2-2.5 s on the large demo under load against 0.4-0.6 s.

Both are *quick reads* (:func:`workbench.app.ops.quick`): the process runner answers it on a
worker thread of the UI process, not in the reader process. The Items panel is typically
opened right after start-up, while the reader process still waits behind its fork server
(which imports the planning engine first): 3.6-6 s on the large demo, against ~0.15 s for the
first chunk and ~0.3 s for each later one read here (one keyset range of the items' primary
key index; ``sqlite3`` lets go of the GIL while SQLite steps, and the chunks arrive as a
handful of signals, so the UI thread's gaps stay far under 100 ms:
tests/ui/test_item_list_fill.py). The rows are the same either way (same function, same SQL).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workbench.app.ops import cache_query, quick

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from workbench.app.tables import TableData

#: rows of the first chunk (on screen at once) and of each later one
FIRST_CHUNK_ROWS = 2_000
CHUNK_ROWS = 50_000
#: columns a text search in the item list looks in
ITEM_SEARCH = ("code", "description", "planner", "buyer", "default_supplier")


@dataclass
class ItemChunk:
    """Rows of the item list in code order.

    ``table``: the rows (columns of :data:`~workbench.app.columns.ITEM_COLUMNS`, key ``code``);
    ``after``: the code to ask the next chunk after (None: this was the last chunk);
    ``total``: live items in the cache, and ``widths``: the longest text per text column —
    both only in the first chunk (asked with ``after=None``); ``distinct``: the make/buy and
    planner values of these rows (the pickers' values, merged by the panel).
    """

    table: TableData
    after: str | None
    total: int | None = None
    widths: dict[str, int] = field(default_factory=dict)
    distinct: dict[str, list[str]] = field(default_factory=dict)


@quick
@cache_query
def item_chunk(engine: Engine, after: str | None = None, limit: int = FIRST_CHUNK_ROWS
               ) -> ItemChunk:
    """The next ``limit`` items by code after ``after`` (None: the first ones, with the count
    and text widths of the whole list)."""
    from workbench.app.columns import ITEM_COLUMNS
    from workbench.app.tables import TableData
    from workbench.cache.itemlist import item_list_rows, item_list_size

    names = [c.name for c in ITEM_COLUMNS]
    values = item_list_rows(engine, names, after, limit)
    table = TableData.from_columns(ITEM_COLUMNS, "code", values, search=ITEM_SEARCH)
    size = None
    if after is None:
        size = item_list_size(engine, [c.name for c in ITEM_COLUMNS
                                       if not c.numeric and c.kind != "date"])
    more = len(table) == limit
    return ItemChunk(table, str(table.keys[-1]) if more else None,
                     size.rows if size else None, size.widths if size else {},
                     {name: table.distinct(name) for name in ("make_buy", "planner")})


@quick
@cache_query
def item_rest(engine: Engine, after: str | None) -> ItemChunk:
    """Every item after ``after`` (None: all) in code order, read in one pass
    (:func:`workbench.cache.itemlist.item_list_rest`), with the pickers' values; ``after`` of
    the answer is None. The same table :func:`item_chunk` gives for these rows (text NULL as
    "", numbers NULL as NaN). On a database other than SQLite: :func:`item_chunk` without a
    limit."""
    import numpy as np

    from workbench.app.columns import ITEM_COLUMNS
    from workbench.app.tables import TableData
    from workbench.cache.itemlist import item_list_rest

    names = [c.name for c in ITEM_COLUMNS]
    numbers = [c.name for c in ITEM_COLUMNS if c.numeric]
    widths: dict[str, int] = {}
    values = item_list_rest(engine, names, numbers, after, empty_for_null=True, widths=widths)
    if values is None or any(c.kind == "date" for c in ITEM_COLUMNS):
        return item_chunk(engine, after, 1 << 62)
    # by code, as ORDER BY code gives (BINARY collation: UTF-8 bytes order code points, as
    # numpy compares them); the other columns are put in that order as object pointers,
    # before they become fixed-width text (copying that would cost more)
    codes = _fixed_width(np.array(values["code"], dtype=object), widths["code"])
    order = np.argsort(codes, kind="stable")
    keys = np.array(values["code"], dtype=object)[order]
    arrays: dict[str, np.ndarray] = {}
    distinct: dict[str, list[str]] = {}
    for col in ITEM_COLUMNS:
        if col.name == "code":
            arrays[col.name] = codes[order]
        elif col.numeric:
            arrays[col.name] = np.asarray(
                [np.nan if v is None else v for v in values[col.name]]
                if isinstance(values[col.name], list) else values[col.name], dtype=float)[order]
        else:
            arrays[col.name] = _fixed_width(np.array(values[col.name], dtype=object)[order],
                                            widths[col.name])
        if col.name in ("make_buy", "planner"):  # as TableData.distinct gives them
            seen = sorted(set(values[col.name]))[:500]
            distinct[col.name] = [v for v in seen if v]
    table = TableData(list(ITEM_COLUMNS), keys, arrays, None, search=ITEM_SEARCH)
    return ItemChunk(table, None, None, {}, distinct)


#: rows converted at a time in :func:`_fixed_width`: each step holds the GIL for a few
#: milliseconds, so the UI thread's event loop keeps turning while 200,000 rows convert
_BLOCK = 16_384


def _fixed_width(values: Any, width: int) -> Any:
    """An object array of str, none longer than ``width``, as a fixed-width text array, in
    blocks."""
    import numpy as np

    out = np.empty(len(values), dtype=f"<U{max(1, width)}")
    for start in range(0, len(values), _BLOCK):
        out[start:start + _BLOCK] = values[start:start + _BLOCK]
    return out
