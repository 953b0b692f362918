"""Column arrays behind a table, with filtering and sorting done in numpy (no Qt here).

A ``QSortFilterProxyModel`` sorts by calling ``data()`` from Python for every comparison: on
200,000 items that is millions of calls and seconds of frozen UI. Instead a table's rows are
loaded once (off the UI thread) into column arrays, and a query — filter text, exact-match column
filters, sort column — returns the positions of the rows to show. Text columns are fixed-width
unicode arrays, so numpy's sort and string search run in C without holding the GIL for long, and
a query on the large plant takes tens of milliseconds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

#: Column kinds and how they display: text, int (thousands separators), qty (up to 3 decimals),
#: money (2 decimals), pct (1 decimal and %), date (ISO date), days (signed int).
KINDS = ("text", "int", "qty", "money", "pct", "date", "days")


@dataclass(frozen=True)
class Col:
    """One displayed column: the frame column ``name``, its header ``title`` and display kind."""

    name: str
    title: str
    kind: str = "text"
    tip: str = ""
    #: a code column shown as "CODE — Name": "item", "supplier" or "site" (workbench.ui.format)
    names: str = ""
    #: a quantity shown with the stock unit of the item in this frame column ("1,200 EA")
    unit_of: str = ""
    #: the widest the column is fitted to (px; 0: the table's default): long text is elided,
    #: the whole of it in the cell's tooltip, so the columns after it stay on screen
    width: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}")
        if self.names not in ("", "item", "supplier", "site"):
            raise ValueError(f"unknown name kind {self.names!r}")

    @property
    def numeric(self) -> bool:
        return self.kind in ("int", "qty", "money", "pct", "days")


@dataclass(frozen=True)
class Query:
    """What the user asked to see: ``text`` matched in any text column, ``equals`` per column."""

    text: str = ""
    equals: tuple[tuple[str, str], ...] = ()
    sort: str | None = None
    descending: bool = False

    def with_(self, **changes: Any) -> Query:
        return Query(**{**self.__dict__, **changes})


def _text_array(values: pd.Series) -> np.ndarray:
    return np.asarray(values.fillna("").astype(str).to_numpy(dtype=object), dtype=np.str_)


@dataclass
class TableData:
    """Row keys and column arrays of one table; ``query`` picks and orders rows."""

    columns: list[Col]
    keys: np.ndarray
    arrays: dict[str, np.ndarray]
    #: lower-cased text of the searchable columns, joined by a separator no search can span
    #: (None: built from ``search`` on the first text search, see :meth:`search_text`)
    haystack: np.ndarray | None = None
    #: optional per-row tone ("added", "removed", "changed", "short", "late", ...) for colouring
    tones: np.ndarray | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: the columns a text search looks in, when ``haystack`` is built lazily
    search: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.keys)

    @classmethod
    def empty(cls, columns: Sequence[Col]) -> TableData:
        arrays = {c.name: np.array([], dtype=np.str_ if not c.numeric else float) for c in columns}
        return cls(list(columns), np.array([], dtype=object), arrays, np.array([], dtype=np.str_))

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        columns: Sequence[Col],
        key: str | Sequence[str],
        *,
        search: Sequence[str] | None = None,
        tone: str | None = None,
    ) -> TableData:
        """Build the arrays of ``columns`` from ``frame``; ``key`` names the row-key column(s)."""
        import pandas as pd
        arrays: dict[str, np.ndarray] = {}
        for col in columns:
            values = frame[col.name] if col.name in frame.columns else pd.Series([None] * len(frame))
            if col.kind == "date":
                arrays[col.name] = pd.to_datetime(values, errors="coerce").to_numpy(
                    dtype="datetime64[D]"
                )
            elif col.numeric:
                arrays[col.name] = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
            else:
                arrays[col.name] = _text_array(values)
        for col in columns:  # the item column a quantity takes its unit from, also when hidden
            if col.unit_of and col.unit_of not in arrays and col.unit_of in frame.columns:
                arrays[col.unit_of] = _text_array(frame[col.unit_of])
        if isinstance(key, str):
            keys = frame[key].to_numpy(dtype=object)
        else:
            keys = np.empty(len(frame), dtype=object)
            keys[:] = list(zip(*(frame[k].tolist() for k in key))) if len(frame) else []
        texts = [c.name for c in columns if not c.numeric and c.kind != "date"]
        search = list(search) if search is not None else texts
        if search and len(frame):
            haystack = _haystack([arrays[name] if name in arrays else _text_array(frame[name])
                                  for name in search])
        else:
            haystack = np.full(len(frame), "", dtype=np.str_)
        tones = _text_array(frame[tone]) if tone and tone in frame.columns else None
        return cls(list(columns), keys, arrays, haystack, tones)

    @classmethod
    def from_columns(cls, columns: Sequence[Col], key: str, values: Mapping[str, Sequence[Any]],
                     *, search: Sequence[str] = ()) -> TableData:
        """Build the arrays straight from column lists (e.g. a cursor's rows transposed), with
        no pandas and no per-row formatting: text None -> "", numbers None -> NaN. The search
        text is built on the first text search (:meth:`search_text`), not here."""
        arrays: dict[str, np.ndarray] = {}
        for col in columns:
            if col.kind == "date":
                arrays[col.name] = np.array([v or "NaT" for v in values[col.name]],
                                            dtype="datetime64[D]")
            elif col.numeric:
                arrays[col.name] = np.array([np.nan if v is None else v for v in values[col.name]],
                                            dtype=float)
            else:
                arrays[col.name] = np.array(["" if v is None else v for v in values[col.name]],
                                            dtype=np.str_)
        for col in columns:  # the item column a quantity takes its unit from, also when hidden
            if col.unit_of and col.unit_of not in arrays and col.unit_of in values:
                arrays[col.unit_of] = np.array(["" if v is None else v
                                                for v in values[col.unit_of]], dtype=np.str_)
        keys = np.array(values[key], dtype=object)
        return cls(list(columns), keys, arrays, None, search=tuple(search))

    def search_text(self) -> np.ndarray:
        """The haystack a text search looks in (built once from ``search`` when it was left
        for later; numpy's string functions run without holding the GIL)."""
        if self.haystack is None:
            if self.search and len(self.keys):
                self.haystack = _haystack([self.arrays[name] for name in self.search])
            else:
                self.haystack = np.full(len(self.keys), "", dtype=np.str_)
        return self.haystack

    def query(self, q: Query) -> np.ndarray:
        """Positions of the rows matching ``q``, in display order."""
        n = len(self.keys)
        mask: np.ndarray | None = None
        text = q.text.strip().lower()
        if text:
            haystack = self.search_text()
            for word in text.split():
                hit = np.strings.find(haystack, word) >= 0
                mask = hit if mask is None else mask & hit
        for name, value in q.equals:
            if value == "" or name not in self.arrays:
                continue
            hit = self.arrays[name] == value
            mask = hit if mask is None else mask & hit
        rows = np.flatnonzero(mask) if mask is not None else np.arange(n)
        if q.sort and q.sort in self.arrays and len(rows) > 1:
            values = self.arrays[q.sort][rows]
            order = _sort_order(values, q.descending)
            rows = rows[order]
        return rows

    def position_of(self, key: Any) -> int | None:
        """The row position of ``key`` (keys may be tuples, which numpy cannot compare)."""
        index = self.extra.get("index")
        if index is None:
            index = {k: i for i, k in enumerate(self.keys.tolist())}
            self.extra["index"] = index
        return index.get(key)

    def distinct(self, name: str, limit: int = 500) -> list[str]:
        """The distinct values of a text column (for filter pickers), sorted; remembered, so a
        worker process can compute them before the table is handed to the UI thread."""
        cache = self.extra.setdefault("distinct", {})
        if name not in cache:
            values = np.unique(self.arrays[name])
            cache[name] = [str(v) for v in values[:limit] if str(v)]
        return list(cache[name])

    def export_columns(self, rows: np.ndarray | None = None) -> list[tuple[str, str, np.ndarray]]:
        """The displayed columns of ``rows`` (all when None) as ``(title, kind, values)``, the
        values as stored (fixed-width text, numbers, ``datetime64[D]``): a numpy take per column,
        cheap to pickle; :func:`frame_of` makes the export frame of them."""
        rows = np.arange(len(self.keys)) if rows is None else rows
        return [(col.title, col.kind, self.arrays[col.name][rows]) for col in self.columns]

    def frame(self, rows: np.ndarray | None = None) -> pd.DataFrame:
        """The displayed columns of ``rows`` (all when None) with their titles, for export."""
        return frame_of(self.export_columns(rows))


def frame_of(columns: Sequence[tuple[str, str, np.ndarray]]) -> pd.DataFrame:
    """The export frame of :meth:`TableData.export_columns`: dates as ``datetime.date``, text as
    Python strings (pandas makes one object per cell: ~0.1 s for 200,000 rows, so this runs where
    the file is written, never on the UI thread)."""
    import pandas as pd
    data: dict[str, Any] = {}
    for title, kind, values in columns:
        if kind == "date":
            data[title] = pd.to_datetime(values).date if len(values) else []
        else:
            data[title] = values
    return pd.DataFrame(data)


def _haystack(parts: list[np.ndarray]) -> np.ndarray:
    """Lower-cased text of ``parts`` joined row by row with a separator no search word holds
    (``\x1f`` is whitespace to ``str.split``)."""
    joined = np.strings.lower(parts[0])
    for part in parts[1:]:
        joined = np.strings.add(np.strings.add(joined, "\x1f"), np.strings.lower(part))
    return joined


class TableFill:
    """A table arriving in chunks (rows in their final order), copied into arrays allocated
    once for the announced number of rows and text widths: each chunk costs a copy of its own
    rows, never of the rows before it (re-concatenating 200,000 rows per chunk would hold the
    GIL for tens of milliseconds each time). :meth:`add` returns the rows so far as a
    :class:`TableData` of views. More rows than announced, or a wider text, fall back to one
    concatenation (e.g. a sync changed the table between two chunks)."""

    def __init__(self, first: TableData, rows: int, widths: dict[str, int]) -> None:
        """``first``: the first chunk (its arrays' names and kinds); ``rows``: the rows
        announced; ``widths``: the longest text of each text column (characters)."""
        self.columns = list(first.columns)
        self.search = first.search
        self.filled = 0
        self.keys = np.empty(rows, dtype=object)
        self.arrays: dict[str, np.ndarray] = {}
        for name, arr in first.arrays.items():
            dtype: Any = arr.dtype
            if arr.dtype.kind == "U":
                dtype = f"<U{max(1, widths.get(name, 0), arr.dtype.itemsize // 4)}"
            self.arrays[name] = np.empty(rows, dtype=dtype)
        self.add(first)

    def add(self, chunk: TableData) -> TableData:
        """Append ``chunk``'s rows; the table of every row so far."""
        start, end = self.filled, self.filled + len(chunk)
        if end > len(self.keys) or any(
                chunk.arrays[name].dtype.itemsize > arr.dtype.itemsize
                for name, arr in self.arrays.items() if arr.dtype.kind == "U"):
            self._grow(chunk, end)
        self.keys[start:end] = chunk.keys
        for name, arr in self.arrays.items():
            arr[start:end] = chunk.arrays[name]
        self.filled = end
        return self.table()

    def _grow(self, chunk: TableData, end: int) -> None:
        size = max(end, len(self.keys))
        keys = np.empty(size, dtype=object)
        keys[:self.filled] = self.keys[:self.filled]
        self.keys = keys
        for name, arr in list(self.arrays.items()):
            dtype = np.result_type(arr.dtype, chunk.arrays[name].dtype)
            grown = np.empty(size, dtype=dtype)
            grown[:self.filled] = arr[:self.filled]
            self.arrays[name] = grown

    def table(self) -> TableData:
        n = self.filled
        return TableData(self.columns, self.keys[:n], {k: a[:n] for k, a in self.arrays.items()},
                         None, search=self.search)


def _sort_order(values: np.ndarray, descending: bool) -> np.ndarray:
    """A stable order with missing values (NaN / NaT / "") last in both directions."""
    if values.dtype.kind == "f":
        missing = np.isnan(values)
    elif values.dtype.kind == "M":
        missing = np.isnat(values)
    else:
        missing = values == ""
    present = np.flatnonzero(~missing)
    order = np.argsort(values[present], kind="stable")
    if descending:
        order = order[::-1]
    return np.concatenate([present[order], np.flatnonzero(missing)])


def format_value(value: Any, kind: str) -> str:
    """How a cell reads: thousands separators, trimmed decimals, ISO dates, blank for missing."""
    if kind == "text":
        return str(value)
    if kind == "date":
        return "" if np.isnat(value) else str(value)
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    v = float(value)
    if kind == "int":
        return f"{v:,.0f}"
    if kind == "days":
        return f"{v:+,.0f}" if v else "0"
    if kind == "money":
        return f"{v:,.2f}"
    if kind == "pct":
        return f"{v:.1f} %"
    text = f"{v:,.3f}".rstrip("0").rstrip(".")
    return text if text != "-0" else "0"
