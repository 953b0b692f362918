"""The Items panel's list, in chunks: the first rows show at once, the table fills while the
user looks at it (issue 16 §4: 200,000 items listed within a second of a usable window).

:func:`item_chunk` (reader process) answers the next rows by item code as column arrays
(:data:`workbench.app.columns.ITEM_COLUMNS`): no pandas, no per-row formatting (the Qt model
formats a cell when it is drawn), no search text (built on the first text search). The first
chunk is small and also says how many rows follow and how wide each text column is, so the UI
copies each later chunk into arrays allocated once (:class:`workbench.app.tables.TableFill`).
Importing this module loads neither pandas nor numpy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from workbench.app.ops import cache_query

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
