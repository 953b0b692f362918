"""Column arrays behind a table, with filtering and sorting done in numpy (no Qt here).

A ``QSortFilterProxyModel`` sorts by calling ``data()`` from Python for every comparison: on
200,000 items that is millions of calls and seconds of frozen UI. Instead a table's rows are
loaded once (off the UI thread) into column arrays, and a query — filter text, exact-match column
filters, sort column — returns the positions of the rows to show. Text columns are fixed-width
unicode arrays, so numpy's sort and string search run in C without holding the GIL for long, and
a query on the large plant takes tens of milliseconds.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    haystack: np.ndarray
    #: optional per-row tone ("added", "removed", "changed", "short", "late", ...) for colouring
    tones: np.ndarray | None = None
    extra: dict[str, Any] = field(default_factory=dict)

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
            joined = np.strings.lower(arrays[search[0]]) if search[0] in arrays else _text_array(
                frame[search[0]]
            )
            for name in search[1:]:
                part = arrays[name] if name in arrays else _text_array(frame[name])
                joined = np.strings.add(np.strings.add(joined, "\x1f"), np.strings.lower(part))
            haystack = joined
        else:
            haystack = np.full(len(frame), "", dtype=np.str_)
        tones = _text_array(frame[tone]) if tone and tone in frame.columns else None
        return cls(list(columns), keys, arrays, haystack, tones)

    def query(self, q: Query) -> np.ndarray:
        """Positions of the rows matching ``q``, in display order."""
        n = len(self.keys)
        mask: np.ndarray | None = None
        text = q.text.strip().lower()
        if text:
            for word in text.split():
                hit = np.strings.find(self.haystack, word) >= 0
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

    def frame(self, rows: np.ndarray | None = None) -> pd.DataFrame:
        """The displayed columns of ``rows`` (all when None) with their titles, for export."""
        import pandas as pd
        rows = np.arange(len(self.keys)) if rows is None else rows
        data = {}
        for col in self.columns:
            values = self.arrays[col.name][rows]
            if col.kind == "date":
                data[col.title] = pd.to_datetime(values).date if len(values) else []
            else:
                data[col.title] = values
        return pd.DataFrame(data)


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
