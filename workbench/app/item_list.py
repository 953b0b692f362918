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
    kept = _kept_list(engine)
    if kept is not None:
        return _kept_chunk(kept, after, limit)
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
    limit.

    The whole list is kept beside the cache under the entity tables' stamp
    (:func:`workbench.cache.itemlist.write_item_list`, written by a background thread after the
    answer is made, and by a sync after its last write: :func:`workbench.app.sync.
    keep_item_list_after_sync`); while the cache shows that stamp, the list is mapped from
    there instead of read and sorted again (a start after any other write to an entity table
    reads it once more)."""
    from workbench.cache.itemlist import item_list_folder, observed_stamp

    kept = _kept_list(engine)
    if kept is not None:
        return _kept_chunk(kept, after, None)
    folder = item_list_folder(engine)
    stamp = observed_stamp(engine) if folder is not None else None
    chunk, arrays, widths = _read_rest(engine, after)
    if folder is not None and stamp is not None and after is None and arrays is not None:
        _keep_later(folder, stamp, arrays, chunk.distinct, widths)
    return chunk


def _kept_list(engine: Engine) -> Any:
    """The whole list kept beside the cache for its current stamp
    (:class:`workbench.cache.itemlist.KeptList`), or None: none kept for it, the stamp could not
    be marked observed, or not an SQLite cache."""
    from workbench.app.columns import ITEM_COLUMNS
    from workbench.cache.itemlist import item_list_folder, observed_stamp, read_item_list

    folder = item_list_folder(engine)
    stamp = observed_stamp(engine) if folder is not None else None
    if folder is None or stamp is None:
        return None
    return read_item_list(folder, stamp, [c.name for c in ITEM_COLUMNS])


def _read_rest(engine: Engine, after: str | None
               ) -> tuple[ItemChunk, dict[str, Any] | None, dict[str, int]]:
    """:func:`item_rest` read from the cache: the chunk, its column arrays (None when the rows
    were paged instead) and the text widths (the reading and sorting:
    :func:`workbench.cache.itemlist.build_item_list`)."""
    from workbench.app.columns import ITEM_COLUMNS
    from workbench.app.tables import TableData
    from workbench.cache.itemlist import build_item_list

    names = [c.name for c in ITEM_COLUMNS]
    numbers = [c.name for c in ITEM_COLUMNS if c.numeric]
    built = None if any(c.kind == "date" for c in ITEM_COLUMNS) else \
        build_item_list(engine, names, numbers, after)
    if built is None:
        return item_chunk(engine, after, 1 << 62), None, {}
    arrays, distinct, widths = built
    keys = arrays["code"].astype(object)
    table = TableData(list(ITEM_COLUMNS), keys, arrays, None, search=ITEM_SEARCH)
    return ItemChunk(table, None, None, {}, distinct), arrays, widths


def _kept_chunk(kept: Any, after: str | None, limit: int | None) -> ItemChunk:
    """:func:`item_chunk` (``limit`` rows) or :func:`item_rest` (``limit`` None) answered from
    the list kept beside the cache: its rows are in code order, so the rows after ``after`` are
    a slice, found by a binary search."""
    import numpy as np

    from workbench.app.columns import ITEM_COLUMNS
    from workbench.app.tables import TableData

    codes = kept.arrays["code"]
    start = 0 if after is None else int(np.searchsorted(codes, after, side="right"))
    end = len(codes) if limit is None else min(len(codes), start + limit)
    picked = {name: values[start:end] for name, values in kept.arrays.items()}
    keys = np.asarray(picked["code"]).astype(object)
    table = TableData(list(ITEM_COLUMNS), keys, picked, None, search=ITEM_SEARCH)
    if limit is None:
        return ItemChunk(table, None, None, {}, kept.distinct)
    first = after is None
    return ItemChunk(table, str(keys[-1]) if end < len(codes) and len(keys) else None,
                     len(codes) if first else None, dict(kept.widths) if first else {},
                     {name: table.distinct(name) for name in ("make_buy", "planner")})


#: the thread writing the list beside the cache (tests wait for it)
keeping: Any = None


def _keep_later(folder: Any, stamp: int, arrays: dict[str, Any],
                distinct: dict[str, list[str]], widths: dict[str, int]) -> None:
    """Write the list beside the cache on a background thread: the answer does not wait for
    ~70 MB of files (a failed write only means the next start reads the list again)."""
    import logging
    import threading

    from workbench.cache.itemlist import write_item_list

    def write() -> None:
        try:
            write_item_list(folder, stamp, arrays, distinct, widths)
        except Exception:  # a cache of the list: reading it again is the fallback
            logging.getLogger(__name__).warning("item list not kept in %s", folder,
                                                exc_info=True)

    global keeping
    keeping = threading.Thread(target=write, name="item-list-file", daemon=True)
    keeping.start()
