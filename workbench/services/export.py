"""Writing what a table shows to CSV or XLSX, with its filters applied.

No Qt here: the table pane hands over what it shows (``TableData.frame`` of the shown rows) and
runs this in a background op (``state`` gets progress and is checked for cancel every few thousand rows).

XLSX a planner can reuse (written by xlsxwriter in constant memory, row by row, so 200k rows
stream out without holding a second copy of the table):

- a frozen header row and an autofilter over the table;
- number formats per column: whole numbers ``#,##0``, quantities ``#,##0.000``, money
  (``price``, ``cost``, ``value``, ``amount`` in the name) ``#,##0.00``, dates and times as
  Excel dates (``yyyy-mm-dd`` / ``yyyy-mm-dd hh:mm``); ``formats`` overrides per column;
- the key column first (``key``, else the first of ``code``, ``item``, ``key`` the frame has);
- a second sheet ``About``: the source, the as-of time, the filters and the command or view
  that produced the export (:class:`ExportInfo`), the row count and when it was written.

Safe to open: text a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``,
tab or carriage return) never becomes one. CSV: such text gets a quote in front, as OWASP
recommends (:func:`workbench.services.packages.neutralise_frame`, shared with the data package
export). XLSX: every text is written as a string cell, unchanged. Numbers stay numbers in both.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.services.tasks import TaskState, check_cancelled

if TYPE_CHECKING:
    import pandas as pd

#: Excel's hard row limit (one row is the header).
XLSX_MAX_ROWS = 1_048_575
#: number formats by kind of column
NUMBER_FORMATS = {
    "integer": "#,##0",
    "quantity": "#,##0.000",
    "money": "#,##0.00",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm",
}
_MONEY_WORDS = ("price", "cost", "value", "amount", "money")
_KEY_COLUMNS = ("code", "item", "key")
_PROGRESS_EVERY = 5_000


class ExportError(ValueError):
    """The export cannot be written as asked; the message says what to do instead."""


@dataclass(frozen=True)
class ExportInfo:
    """What the ``About`` sheet of an XLSX export says about where its rows came from."""

    source: str = ""
    as_of: str = ""
    filters: str = ""
    produced_by: str = ""


def export_frame(
    frame: pd.DataFrame,
    path: str | Path,
    state: TaskState | None = None,
    *,
    info: ExportInfo | None = None,
    key: str | None = None,
    formats: dict[str, str] | None = None,
) -> Path:
    """Write ``frame`` to ``path``; the suffix (.csv or .xlsx) picks the format.

    The file is written beside ``path`` under a temporary name and renamed over it when
    complete: a cancelled or failed export leaves neither a half-written file nor a changed
    earlier one. Progress is reported every few thousand rows, Cancel checked as often."""
    path = Path(path)
    suffix = path.suffix.lower()
    check_cancelled(state)
    if suffix not in (".csv", ".xlsx"):
        raise ExportError(f"cannot export to {path.name}: choose a .csv or .xlsx file")
    if suffix == ".xlsx" and len(frame) > XLSX_MAX_ROWS:
        raise ExportError(
            f"{len(frame):,} rows do not fit in one Excel sheet (limit {XLSX_MAX_ROWS:,}); "
            "filter the table first or export to CSV"
        )
    if state:
        state.set_status(f"writing {len(frame):,} rows to {path.name}")
    partial = path.with_name(f".{path.stem}.writing{path.suffix}")
    try:
        if suffix == ".csv":
            _write_csv(frame, partial, state)
        else:
            write_xlsx(frame, partial, state, info=info or ExportInfo(), key=key,
                       formats=formats or {})
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    if state:
        state.set_progress(1, 1)
    return path


def _write_csv(frame: pd.DataFrame, path: Path, state: TaskState | None) -> None:
    """CSV in blocks of rows (progress and Cancel between blocks); formula text neutralised."""
    from workbench.services.packages import neutralise_frame

    safe = neutralise_frame(frame)
    total = len(safe)
    step = _PROGRESS_EVERY * 4
    with path.open("w", encoding="utf-8", newline="") as handle:
        for start in range(0, max(total, 1), step):
            check_cancelled(state)
            # CRLF rows (RFC 4180): text holding a bare carriage return is then quoted too
            safe.iloc[start:start + step].to_csv(handle, index=False, header=start == 0,
                                                 lineterminator="\r\n")
            if state:
                state.set_progress(min(start + step, total), total)


def key_first(frame: pd.DataFrame, key: str | None) -> pd.DataFrame:
    """The frame with its key column first (``key``, else the first of code/item/key)."""
    columns = [str(c) for c in frame.columns]
    chosen = key if key in columns else next(
        (c for c in columns if c.casefold() in _KEY_COLUMNS), None)
    if chosen is None or columns[0] == chosen:
        return frame
    if key is not None and key not in columns:
        raise ExportError(f"no column {key!r} to put first")
    return frame[[chosen] + [c for c in frame.columns if str(c) != chosen]]


def column_kind(name: str, values: pd.Series) -> str:
    """``integer``, ``quantity``, ``money``, ``date``, ``datetime``, ``bool`` or ``text``."""
    from pandas.api import types

    dtype = values.dtype
    if types.is_bool_dtype(dtype):
        return "bool"
    if types.is_datetime64_any_dtype(dtype):
        times = values.dropna()
        return "date" if (times == times.dt.normalize()).all() else "datetime"
    if types.is_integer_dtype(dtype):
        return "integer"
    if types.is_float_dtype(dtype):
        if any(w in name.casefold() for w in _MONEY_WORDS):
            return "money"
        finite = values.dropna()
        return "integer" if len(finite) and (finite % 1 == 0).all() else "quantity"
    sample = values.dropna().head(50).tolist()
    if sample and all(isinstance(v, dt.datetime) for v in sample):
        return "datetime"
    if sample and all(isinstance(v, dt.date) for v in sample):
        return "date"
    return "text"


def write_xlsx(
    frame: pd.DataFrame,
    path: Path,
    state: TaskState | None = None,
    *,
    info: ExportInfo,
    key: str | None = None,
    formats: dict[str, str] | None = None,
) -> None:
    """The XLSX writer (see the module doc): streaming, one pass over each column's values."""
    import xlsxwriter

    frame = key_first(frame, key)
    names = [str(c) for c in frame.columns]
    formats = formats or {}
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                           "strings_to_urls": False, "strings_to_numbers": False})
    try:
        sheet = book.add_worksheet("Export")
        header = book.add_format({"bold": True, "bottom": 1})
        kinds = [formats.get(n) or column_kind(n, frame[c]) for n, c in zip(names, frame.columns)]
        cell_formats = [
            book.add_format({"num_format": NUMBER_FORMATS.get(k, k)})
            if k not in ("text", "bool") else None
            for k in kinds
        ]
        for i, (name, kind) in enumerate(zip(names, kinds)):
            sample = [str(v) for v in frame.iloc[:200, i].tolist()]
            width = max([len(name)] + [len(s) for s in sample]) + 2
            if kind in ("date", "datetime"):
                width = max(width, 12 if kind == "date" else 17)
            sheet.set_column(i, i, min(width, 60))
            sheet.write_string(0, i, name, header)
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, max(len(frame), 1), max(len(names) - 1, 0))
        writers = [_cell_writer(sheet, kind, fmt) for kind, fmt in zip(kinds, cell_formats)]
        columns = [frame.iloc[:, i].tolist() for i in range(len(names))]
        total = len(frame)
        for r, row in enumerate(zip(*columns), start=1):
            for c, (write, value) in enumerate(zip(writers, row)):
                write(r, c, value)
            if r % _PROGRESS_EVERY == 0:
                check_cancelled(state)
                if state:
                    state.set_progress(r, total)
        _about_sheet(book, info, total)
    finally:
        book.close()


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    try:
        import pandas as pd

        return bool(value is pd.NaT or (not isinstance(value, str) and pd.isna(value)))
    except (TypeError, ValueError):
        return False


def _cell_writer(sheet: Any, kind: str, fmt: Any) -> Any:
    """One function per column writing a value as the column's kind (text never a formula)."""
    if kind in ("date", "datetime"):
        return _date_writer(sheet, fmt)
    if kind == "bool":
        return _bool_writer(sheet)
    if kind == "text":
        return _text_writer(sheet)
    return _number_writer(sheet, fmt)


def _date_writer(sheet: Any, fmt: Any) -> Any:
    """A date or timestamp as an Excel date in ``fmt``; anything else as text."""
    def write_date(r: int, c: int, v: Any) -> None:
        if _missing(v):
            return
        if hasattr(v, "to_pydatetime"):
            v = v.to_pydatetime()
        if isinstance(v, (dt.date, dt.datetime)):
            sheet.write_datetime(r, c, v, fmt)
        else:
            sheet.write_string(r, c, str(v))
    return write_date


def _bool_writer(sheet: Any) -> Any:
    def write_bool(r: int, c: int, v: Any) -> None:
        if not _missing(v):
            sheet.write_boolean(r, c, bool(v))
    return write_bool


def _text_writer(sheet: Any) -> Any:
    """Text as a string (never a formula); a number in a text column stays a number."""
    def write_text(r: int, c: int, v: Any) -> None:
        if _missing(v):
            return
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            sheet.write_number(r, c, v)
        else:
            sheet.write_string(r, c, str(v))
    return write_text


def _number_writer(sheet: Any, fmt: Any) -> Any:
    """A finite number in ``fmt``; anything else (inf, nan as text, a word) as text."""
    def write_number(r: int, c: int, v: Any) -> None:
        if _missing(v):
            return
        if isinstance(v, (int, float)) and math.isfinite(v):
            sheet.write_number(r, c, v, fmt)
        else:
            sheet.write_string(r, c, str(v))
    return write_number


def _about_sheet(book: Any, info: ExportInfo, rows: int) -> None:
    sheet = book.add_worksheet("About")
    bold = book.add_format({"bold": True})
    written = dt.datetime.now(dt.UTC).replace(microsecond=0, tzinfo=None).isoformat(sep=" ")
    lines = [
        ("Source", info.source or "not given"),
        ("As of", info.as_of or "not given"),
        ("Filters", info.filters or "none"),
        ("Produced by", info.produced_by or "Planner Workbench export"),
        ("Rows", str(rows)),
        ("Written (UTC)", written),
    ]
    sheet.set_column(0, 0, 16)
    sheet.set_column(1, 1, 80)
    for r, (label, value) in enumerate(lines):
        sheet.write_string(r, 0, label, bold)
        sheet.write_string(r, 1, value)
