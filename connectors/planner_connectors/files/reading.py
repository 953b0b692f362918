"""Reading one CSV file of a data package, every problem named by file, row and field.

:func:`read_file` checks the header (known columns, none twice) before any row is read, then
turns each row into a record of the cells it has. A row that cannot become a record is not
guessed at: it is rejected with its file, row and field —

- a row with fewer or more cells than the header (a missing cell would otherwise read as the
  column's default and overwrite the cached value);
- bytes that are not UTF-8 (the package format is UTF-8; a file saved as cp1252 / Latin-1 is
  refused with the advice to save it as "CSV UTF-8", not decoded by guess);
- a key already given on an earlier row of the file (the error names both rows);
- a cell longer than the CSV field limit (usually an unclosed quote): the file cannot be read
  past it, so reading stops there.

Text written by the app's exports with a quote before formula text (see
:mod:`workbench.domain.cells`) is read back as it was. Numbers are checked by the canonical
model (finite, within range), like every connector's.

The file's SHA-256 is computed over exactly the bytes read: it is the entity's watermark.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from workbench.connect.port import PermanentError
from workbench.domain.cells import restore
from workbench.domain.models import ENTITY_MODELS
from workbench.domain.validation import RecordError

#: the csv module's limit on one cell (characters); a longer cell is refused, not read
FIELD_LIMIT = csv.field_size_limit()
_BAD_BYTE = re.compile("[\udc80-\udcff]")
_SEP = "\x00"


def file_digest(path: Path) -> str:
    """The watermark of a package file: the SHA-256 of its content (any edit changes it, even
    one that keeps the size and the modification time)."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return f"sha256:{h.hexdigest()}"


class _HashingReader(io.RawIOBase):
    """A binary file that hashes what is read from it."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.hash = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self.raw.readinto(buffer)  # type: ignore[attr-defined]
        if n:
            self.hash.update(memoryview(buffer)[:n])
        return int(n or 0)


@dataclass
class Chunk:
    """Records read from a file (each with its row number) and the rows rejected on the way."""

    records: list[dict[str, Any]] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)
    rejected: list[RecordError] = field(default_factory=list)


def _bad_bytes(cell: str) -> str:
    found = _BAD_BYTE.findall(cell)
    shown = " ".join(f"0x{ord(c) - 0xDC00:02X}" for c in found[:3])
    return (f"bytes that are not UTF-8 ({shown}); save the file as UTF-8 "
            "(in Excel: 'CSV UTF-8'), the package format's only encoding")


def _key_normalisers(entity: str) -> list[Any]:
    """For each key field, how to read a raw cell into the value the model will make of it
    (so `` A-1 `` and ``A-1``, ``10`` and ``010`` are one key), cheaply: it runs on every row."""
    model = ENTITY_MODELS[entity]
    out: list[Any] = []
    for name in model.key_fields:
        ann = model.model_fields[name].annotation
        if ann is int:
            out.append(_int_key)
        elif ann in (dt.date, dt.datetime):
            out.append(_date_key(ann))
        else:
            out.append(str.strip)
    return out


def _int_key(cell: str) -> str:
    if cell.isdigit() and cell[0] != "0":
        return cell
    text = cell.strip()
    if text.isdigit():
        return text.lstrip("0") or "0"
    try:
        return str(int(text))
    except ValueError:
        return text


def _date_key(kind: Any) -> Any:
    def parse(cell: str) -> str:
        text = cell.strip()
        try:
            return str(kind.fromisoformat(text))
        except ValueError:
            return text

    return parse


def _long_cell(text: str, limit: int) -> int:
    """Index of the first cell longer than ``limit`` in the CSV record at the start of ``text``."""
    cell, length, quoted, i = 0, 0, False, 0
    while i < len(text):
        ch = text[i]
        if quoted:
            if ch == '"' and text[i + 1 : i + 2] == '"':
                length, i = length + 1, i + 1
            elif ch == '"':
                quoted = False
            else:
                length += 1
        elif ch == '"':
            quoted = True
        elif ch == ",":
            cell, length = cell + 1, 0
        elif ch in "\r\n":
            break
        else:
            length += 1
        if length > limit:
            return cell
        i += 1
    return cell


def _record_text(path: Path, first_line: int) -> str:
    """The text from physical line ``first_line`` (1-based), enough to find an over-long cell."""
    with path.open(newline="", encoding="utf-8-sig", errors="surrogateescape") as fh:
        for _ in range(first_line - 1):
            if not fh.readline():
                return ""
        return fh.read(4 * FIELD_LIMIT)


def read_header(path: Path, entity: str, reader: Iterator[list[str]]) -> list[str]:
    """The header row, checked: every column known, none twice, the text UTF-8."""
    fields = ENTITY_MODELS[entity].model_fields
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise PermanentError(f"{path.name}, row 1: no header row") from None
    except csv.Error as exc:
        raise PermanentError(f"{path.name}, row 1: the header cannot be read ({exc})") from None
    if not any(header):
        raise PermanentError(f"{path.name}, row 1: no header row (the first line is empty)")
    for h in header:
        if _BAD_BYTE.search(h):
            raise PermanentError(f"{path.name}, row 1, column {h!r}: {_bad_bytes(h)}")
    unknown = [h for h in header if h not in fields]
    if unknown:
        raise PermanentError(
            f"{path.name}, row 1: unknown column {unknown[0]!r} "
            f"(expected columns: {', '.join(fields)})"
        )
    seen: dict[str, int] = {}
    for i, h in enumerate(header, start=1):
        if h in seen:
            raise PermanentError(
                f"{path.name}, row 1: column {h!r} is named twice (cells {seen[h]} and {i}); "
                "each column may appear once"
            )
        seen[h] = i
    return header


def read_file(
    path: Path, entity: str, source: str, batch_size: int
) -> Iterator[tuple[list[str], Chunk, str | None]]:
    """Read ``path`` (an ``entity`` file) in chunks of up to ``batch_size`` records.

    Yields ``(header, chunk, digest)``: ``digest`` is None except with the last chunk, where it
    is the SHA-256 of every byte read (the file's watermark). Raises PermanentError for a file
    that cannot be read at all (empty, bad header).
    """
    if path.stat().st_size == 0:
        raise PermanentError(
            f"{path.name} is empty (0 bytes): a package file needs at least its header row; "
            f"remove the file to leave {entity} as they are, or give the header to say "
            f"there are none"
        )
    model = ENTITY_MODELS[entity]
    with path.open("rb") as raw:
        hashing = _HashingReader(raw)
        text = io.TextIOWrapper(
            io.BufferedReader(hashing), encoding="utf-8-sig", errors="surrogateescape", newline=""
        )
        reader = csv.reader(text)
        header = read_header(path, entity, reader)
        width = len(header)
        key_cols = [header.index(k) if k in header else None for k in model.key_fields]
        normalisers = _key_normalisers(entity)
        first_rows: dict[tuple[str, ...], int] = {}
        chunk = Chunk()
        number = 1
        while True:
            start_line = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                number += 1
                chunk.rejected.append(_unreadable(path, entity, header, number, start_line, exc))
                text.read()  # the rest of the file still counts in its digest
                break
            number += 1
            joined = _SEP.join(row)
            if not joined.replace(_SEP, "").strip():
                continue  # a blank line is not a record; the numbering still counts it
            problem = None
            if len(row) != width or (not joined.isascii() and _BAD_BYTE.search(joined)):
                problem = _check_row(path, entity, header, row, number, width)
            if problem is None:
                cells = [row[c] if c is not None else "" for c in key_cols]
                key = tuple([f(c) for f, c in zip(normalisers, cells)])
                first = first_rows.setdefault(key, number)
                if first != number:
                    shown = "/".join(c.strip() for c in cells)
                    problem = RecordError(
                        entity, shown, ", ".join(model.key_fields),
                        f"duplicate key: row {first} has the same key (rows {first} and {number})",
                        path.name, number,
                    )
            if problem is not None:
                chunk.rejected.append(problem)
                continue
            if "'" in joined:
                row = [restore(cell) for cell in row]
            data: dict[str, Any] = {h: v for h, v in zip(header, row) if v != ""}
            data.setdefault("source", source)
            chunk.records.append(data)
            chunk.numbers.append(number)
            if len(chunk.records) >= batch_size:
                yield header, chunk, None
                chunk = Chunk()
        text.read()
        yield header, chunk, f"sha256:{hashing.hash.hexdigest()}"


def _check_row(
    path: Path, entity: str, header: list[str], row: list[str], number: int, width: int
) -> RecordError | None:
    model = ENTITY_MODELS[entity]
    key = "/".join(row[header.index(k)] if k in header and header.index(k) < len(row) else "?"
                   for k in model.key_fields)
    if len(row) != width:
        if len(row) < width:
            col = header[len(row)]
            reason = (f"the row has {len(row)} cells, the header {width}: "
                      f"no cell for column {col!r} and after (a separator too few?)")
        else:
            col = f"(cell {width + 1})"
            reason = (f"the row has {len(row)} cells, the header {width}: "
                      "cells beyond the header (a separator too many, or a comma in unquoted text?)")
        return RecordError(entity, key, col, reason, path.name, number)
    for h, cell in zip(header, row):
        if _BAD_BYTE.search(cell):
            return RecordError(entity, key, h, _bad_bytes(cell), path.name, number)
    return None


def _unreadable(
    path: Path, entity: str, header: list[str], number: int, start_line: int, exc: csv.Error
) -> RecordError:
    if "field larger than field limit" in str(exc):
        index = _long_cell(_record_text(path, start_line), FIELD_LIMIT)
        col = header[index] if index < len(header) else f"(cell {index + 1})"
        reason = (f"a cell longer than {FIELD_LIMIT:,} characters (an unclosed quote?); "
                  "the rest of the file was not read")
    else:
        col = "(row)"
        reason = f"the row cannot be read as CSV ({exc}); the rest of the file was not read"
    return RecordError(entity, "?", col, reason, path.name, number)
