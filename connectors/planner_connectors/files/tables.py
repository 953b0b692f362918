"""Reading the rows of a plant export: CSV (dialect and encoding detected) or XLSX (calamine).

A :class:`Table` is one CSV file or one sheet of a workbook: its name as messages show it
(``stock.csv``, ``po.xlsx, sheet 'Open POs'``), its header row and an iterator of
``(row number, cells)`` as a spreadsheet numbers them (the header row of a file with two title
lines above it is row 3). Blank rows are skipped (their number still counts).

CSV encoding: a UTF-8 byte-order mark always means UTF-8 (whatever the profile states); when the
profile states none, text
that decodes as UTF-8 is UTF-8; anything else is read as cp1252 (Windows Western, what Excel
and most Windows tools write), and a byte cp1252 does not define is refused with the file and
the byte's position — no silent replacement characters. The delimiter, when the profile does
not state one, is whichever of ``, ; TAB |`` the header line holds most often (outside quotes).
(The canonical data package reader stays UTF-8 only: see :mod:`planner_connectors.files.reading`.)

XLSX (and XLSM/XLS/ODS) go through python-calamine: numbers arrive as numbers and dates as
dates, whatever the sheet's display format; a code typed as a number (``123``) reads ``123``.
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import hashlib
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain, compress, count, islice, repeat
from operator import ne
from pathlib import Path
from typing import Any

from planner_connectors.files.profile import ProfileError, Reading
from planner_connectors.files.xlsx_parts import Part, Unsplittable, sheet_parts

#: rows of a sheet turned into lists at a time (a block)
BLOCK_ROWS = 20_000
SPREADSHEETS = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
_DELIMITERS = (",", ";", "\t", "|")

Cell = str | float | int | bool | dt.date | dt.datetime | dt.time | dt.timedelta


class TableError(ProfileError):
    """A file that cannot be read as a table at all (named, with the reason)."""


@dataclass
class Table:
    label: str
    header: list[str]
    header_row: int
    rows: Iterator[tuple[int, list[Cell]]]
    #: CSV: the encoding and delimiter used (detected or stated)
    encoding: str | None = None
    delimiter: str | None = None
    #: the same rows in lists (a sheet's): a reader wanting them all takes these, not ``rows``
    blocks: Iterator[list[tuple[int, list[Cell]]]] | None = None

    def all_rows(self) -> list[tuple[int, list[Cell]]]:
        """Every (remaining) row at once."""
        if self.blocks is None:
            return list(self.rows)
        out: list[tuple[int, list[Cell]]] = []
        for block in self.blocks:
            out += block
        return out


@contextmanager
def paused_gc() -> Iterator[None]:
    """The cyclic garbage collector off while a table's rows are made into records (restored
    after). Reading makes millions of lists and tuples, none in a cycle, and every 700 of them
    started a collection that walks the young ones: 1.0-1.2 s of the medium mapped import's
    4.8-6.0 s of reading CPU (tests/benchmarks/bench_mapped_import.py, docs/mapping.md)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def digest(paths: list[Path], extra: str = "") -> str:
    """SHA-256 over ``extra`` (the profile's text) and every file's name and content."""
    h = hashlib.sha256(extra.encode())
    for p in paths:
        h.update(p.name.encode() + b"\x00")
        with p.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return f"sha256:{h.hexdigest()}"


def detect_encoding(data: bytes, name: str) -> str:
    """``utf-8-sig`` (byte-order mark), ``utf-8`` or ``cp1252``; refuses undecodable bytes."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        data.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError as exc:
        raise TableError(
            f"{name}: byte 0x{data[exc.start]:02X} at offset {exc.start} is neither UTF-8 nor "
            "cp1252; state the file's encoding in the profile (encoding = \"...\")"
        ) from None


def detect_delimiter(line: str) -> str:
    """The delimiter the header line uses most (outside quotes); ``,`` when none."""
    counts = dict.fromkeys(_DELIMITERS, 0)
    quoted = False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _header(cells: list[Any], label: str, header_row: int) -> list[str]:
    header = [_as_text(c).strip() for c in cells]
    while header and not header[-1]:
        header.pop()
    if not any(header):
        raise TableError(f"{label}, row {header_row}: the header row is empty "
                         "(set header_row in the profile to the row holding the column names)")
    seen: dict[str, int] = {}
    for i, h in enumerate(header, start=1):
        if h and h in seen:
            raise TableError(f"{label}, row {header_row}: column {h!r} is named twice "
                             f"(cells {seen[h]} and {i})")
        seen[h] = i
    return header


def _as_text(cell: Any) -> str:
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, (dt.date, dt.datetime)):
        return cell.isoformat()
    return "" if cell is None else str(cell)


def read_csv(path: Path, header_row: int, reading: Reading) -> Table:
    data = path.read_bytes()
    if not data.strip():
        raise TableError(f"{path.name} is empty: no header row")
    if reading.encoding and not data.startswith(b"\xef\xbb\xbf"):
        encoding = reading.encoding
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            raise TableError(f"{path.name}: byte 0x{data[exc.start]:02X} at offset {exc.start} "
                             f"is not {encoding} (the profile's encoding)") from None
        if encoding.replace("-", "").lower() == "utf8" and text.startswith("\ufeff"):
            text = text[1:]
    else:
        encoding = detect_encoding(data, path.name)
        text = data.decode(encoding)
    lines = text.splitlines()
    if len(lines) < header_row:
        raise TableError(f"{path.name}: no row {header_row} (header_row of the profile); "
                         f"the file has {len(lines)} lines")
    delimiter = reading.delimiter or detect_delimiter(lines[header_row - 1])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    number = 0
    header: list[str] | None = None
    for row in reader:
        number += 1
        if number == header_row:
            header = _header(row, path.name, header_row)
            break
    if header is None:
        raise TableError(f"{path.name}: no row {header_row} (header_row of the profile)")

    def rows() -> Iterator[tuple[int, list[Cell]]]:
        n = number
        try:
            for row in reader:
                n += 1
                if "".join(row).strip():
                    yield n, row  # type: ignore[misc]  # str cells are cells
        except csv.Error as exc:
            raise TableError(f"{path.name}, row {n + 1}: cannot be read as CSV ({exc})") from None

    return Table(path.name, header, header_row, rows(), encoding, delimiter)


def sheet_names(path: Path) -> list[str]:
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # noqa: BLE001 - calamine raises several kinds for a bad workbook
        raise TableError(f"{path.name} cannot be read as a workbook ({exc})") from None
    return list(book.sheet_names)


def read_sheets(path: Path, sheets: tuple[str, ...] | None, header_row: int) -> Iterator[Table]:
    """One table per sheet asked for (None: the first sheet; ``"*"``: every sheet)."""
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # noqa: BLE001 - calamine raises several kinds for a bad workbook
        raise TableError(f"{path.name} cannot be read as a workbook ({exc})") from None
    names = list(book.sheet_names)
    if sheets is None:
        wanted = names[:1]
    elif "*" in sheets:
        wanted = names
    else:
        wanted = list(sheets)
        for name in wanted:
            if name not in names:
                raise TableError(f"{path.name}: no sheet {name!r} (sheets: {', '.join(names)})")
    for name in wanted:
        parts = sheet_parts(path, name)
        if parts is None:
            yield _sheet_table(path, book.get_sheet_by_name(name), name, header_row)
        else:
            yield _parts_table(path, name, header_row, _or_whole(book, name, parts))


def _or_whole(book: Any, name: str, parts: Iterator[Part]) -> Iterator[Part]:
    """The parts, and when the sheet turns out not to split, the rest of it read whole."""
    done = 0  # the rows up to this number were given
    try:
        for part in parts:
            yield part
            done = part[0] + len(part[2])
    except Unsplittable:
        sheet = book.get_sheet_by_name(name)
        first_row, first_col = sheet.start or (0, 0)
        skip = max(0, done - first_row)
        yield first_row + skip, first_col, sheet.to_python()[skip:]


def _parts_table(path: Path, name: str, header_row: int, parts: Iterator[Part]) -> Table:
    """The table of a sheet read in parts (:mod:`planner_connectors.files.xlsx_parts`): the same
    header checks, row numbers, columns and blank rows left out as :func:`_sheet_table`; a row
    may lack the trailing empty cells of a wider part."""
    label = f"{path.name}, sheet {name!r}"
    given = (part for part in parts if part[2])
    first = next(given, None)
    first_row = first[0] if first is not None else 0
    if header_row <= first_row:
        raise TableError(f"{label}, row {header_row}: the header row is empty "
                         f"(the sheet's first row with data is {first_row + 1})")
    header: list[str] | None = None
    rest: Part = (0, 0, [])
    for start, column, rows in chain([first] if first is not None else [], given):
        if start + len(rows) < header_row:
            continue
        at = header_row - 1 - start
        header = _header([""] * column + list(rows[at]) if at >= 0 else [], label, header_row)
        rest = (header_row, column, rows[at + 1:])
        break
    if header is None:
        raise TableError(f"{label}: no row {header_row} (header_row of the profile)")

    def blocks() -> Iterator[list[tuple[int, list[Cell]]]]:
        for start, column, rows in chain([rest], given):
            if column:
                pad = [""] * column
                rows = [pad + cells for cells in rows]
            yield _numbered(rows, start + 1)

    parts_ = blocks()
    return Table(label, header, header_row, chain.from_iterable(parts_), blocks=parts_)


def _sheet_table(path: Path, sheet: Any, name: str, header_row: int) -> Table:
    label = f"{path.name}, sheet {name!r}"
    first_row, first_col = sheet.start or (0, 0)
    rows = iter(sheet.iter_rows())
    number = first_row
    header: list[str] | None = None
    if header_row <= first_row:
        raise TableError(f"{label}, row {header_row}: the header row is empty "
                         f"(the sheet's first row with data is {first_row + 1})")
    for cells in rows:
        number += 1
        if number == header_row:
            header = _header([""] * first_col + list(cells), label, header_row)
            break
    if header is None:
        raise TableError(f"{label}: no row {header_row} (header_row of the profile)")
    pad = [""] * first_col

    def blocks() -> Iterator[list[tuple[int, list[Cell]]]]:
        """Rows numbered, blank ones left out, 20,000 at a time by a comprehension (a
        row-by-row generator costs twice as much on a 200,000-row sheet)."""
        n = number
        while True:
            part = list(islice(rows, BLOCK_ROWS))
            if not part:
                return
            if first_col:
                part = [pad + cells for cells in part]
            yield _numbered(part, n + 1)
            n += len(part)

    parts = blocks()
    return Table(label, header, header_row, chain.from_iterable(parts), blocks=parts)


def _numbered(rows: list[list[Cell]], first: int) -> list[tuple[int, list[Cell]]]:
    """The rows with their numbers from ``first``, blank ones left out (a blank row is not a
    record), at C speed (a comprehension costs twice as much on 200,000 rows)."""
    filled = map(ne, map(list.count, rows, repeat("")), map(len, rows))
    return list(compress(zip(count(first), rows), filled))


def read_tables(path: Path, sheets: tuple[str, ...] | None, header_row: int,
                reading: Reading) -> Iterator[Table]:
    """Every table of one file: a CSV file is one, a workbook one per sheet asked for."""
    if path.suffix.lower() in SPREADSHEETS:
        yield from read_sheets(path, sheets, header_row)
    else:
        yield read_csv(path, header_row, reading)
