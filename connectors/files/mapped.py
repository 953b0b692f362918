"""Mapped reading: the rows of a plant's files turned into canonical records by a profile.

:func:`read_entity` reads every file and sheet an entity section of the profile names and
yields :class:`MappedChunk` s — records (dicts of canonical fields) with their row numbers, and
the rows that could not become records. A rejected row names the file, the sheet, the row, the
column (with the field it fills) and the reason; it is never guessed at. The checks:

- every column the profile maps must be in the file's header (else the file is refused, naming
  the profile line that maps it);
- each cell is read as :mod:`connectors.files.cells` says (numbers, dates, value maps, codes);
- the record is validated by the canonical model here already, so a value out of range is
  named by its column too (the sync validates again, as for every connector);
- a key given twice in the source (across all its files) is rejected naming both rows.

Records carry the fields the profile fills (columns, constants, defaults): a field the profile
does not fill keeps its cached value, as a left-out column of a data package does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors.files.cells import CellError, CellReader, cell_reader, constant_value
from connectors.files.profile import EntityMapping, Profile, ProfileError
from connectors.files.tables import Table, TableError, read_tables
from workbench.domain.models import ENTITY_MODELS
from workbench.domain.validation import RecordError, validate_rows


@dataclass
class MappedChunk:
    entity: str
    label: str
    records: list[dict[str, Any]] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)
    rejected: list[RecordError] = field(default_factory=list)


def section_files(folder: Path, profile: Profile, mapping: EntityMapping) -> list[Path]:
    """The files of the folder the section's patterns match, in name order; none is an error."""
    found: list[Path] = []
    for pattern in mapping.files:
        for p in sorted(folder.glob(pattern)):
            if p.is_file() and p not in found:
                found.append(p)
    if not found:
        raise ProfileError(
            f"{profile.where(*mapping.at, 'files')}: no file in {folder} matches "
            f"{', '.join(repr(f) for f in mapping.files)}"
        )
    return found


def section_tables(folder: Path, profile: Profile, mapping: EntityMapping) -> Iterator[Table]:
    for path in section_files(folder, profile, mapping):
        yield from read_tables(path, mapping.sheets, mapping.header_row, mapping.reading)


def column_plan(table: Table, profile: Profile, mapping: EntityMapping) -> list[tuple[int, str, str]]:
    """(cell index, field, column) of every mapped column; a mapped column the file lacks is an
    error naming the profile line (a column of the file the profile does not map is ignored)."""
    index = {h: i for i, h in enumerate(table.header) if h}
    folded = {h.casefold(): i for h, i in index.items()}
    plan = []
    for column, name in mapping.columns.items():
        i = index.get(column, folded.get(column.casefold()))
        if i is None:
            line = mapping.column_lines.get(column, mapping.line)
            named = [h for h in table.header if h]
            hint = ""
            if len(named) == 1 and table.delimiter:
                other = [d for d in ",;\t|" if d in named[0] and d != table.delimiter]
                if other:
                    hint = (f" (one column holding {other[0]!r}: is the delimiter "
                            f"{table.delimiter!r} right?)")
            raise TableError(
                f"{table.label}, row {table.header_row}: no column {column!r} "
                f"(mapped to {name} at {profile.path.name}, line {line}); "
                f"the columns are: {', '.join(named)}{hint}"
            )
        plan.append((i, name, column))
    return plan


def fixed_values(mapping: EntityMapping, entity: str, source: str) -> dict[str, Any]:
    """Constants of the section (and the source, unless a column gives each row's), as typed
    values."""
    out = {f: constant_value(entity, f, v, mapping.reading) for f, v in mapping.constants.items()}
    if "source" not in mapping.columns.values():
        out.setdefault("source", source)
    return out


def field_label(name: str, column: str | None) -> str:
    return f"{name} (column {column!r})" if column else name


class KeyTracker:
    """Rejects a key already given on an earlier row of the source (any of its files)."""

    def __init__(self, entity: str) -> None:
        self.entity = entity
        self.keys = ENTITY_MODELS[entity].key_fields
        self.first: dict[tuple[Any, ...], tuple[str, int]] = {}
        self.records: dict[tuple[Any, ...], dict[str, Any]] = {}

    def check(self, record: dict[str, Any], label: str, number: int,
              distinct: bool = False) -> RecordError | None:
        """None for a new key; with ``distinct``, :data:`SAME` for a repeat of the same record."""
        key = tuple(_key_part(record.get(k)) for k in self.keys)
        first = self.first.setdefault(key, (label, number))
        if first == (label, number):
            if distinct:
                self.records[key] = record
            return None
        if distinct and self.records.get(key) == record:
            return SAME
        where = f"row {first[1]}" if first[0] == label else f"{first[0]}, row {first[1]}"
        return RecordError(
            self.entity, "/".join(str(k) for k in key), ", ".join(self.keys),
            f"duplicate key: {where} has the same key"
            + (" and other values" if distinct else ""), label, number,
        )


#: a repeated row of a ``distinct`` section: the same record again, skipped
SAME = RecordError("", "", "", "same record again")


def _key_part(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip()
    return "" if value is None else value


def validate_chunk(chunk: MappedChunk, columns: dict[str, str]) -> None:
    """Validate the chunk's records with the canonical model; move the bad ones to ``rejected``
    with their column named."""
    if not chunk.records:
        return
    _, positions, errors = validate_rows(chunk.entity, chunk.records, file=chunk.label,
                                         row_numbers=chunk.numbers)
    if not errors:
        return
    keep = set(positions or [])
    chunk.rejected.extend(
        RecordError(e.entity, e.key, field_label(e.field, columns.get(e.field)), e.reason,
                    e.file, e.row)
        for e in errors
    )
    chunk.records = [r for i, r in enumerate(chunk.records) if i in keep]
    chunk.numbers = [n for i, n in enumerate(chunk.numbers) if i in keep]


def read_entity(
    folder: Path, profile: Profile, mapping: EntityMapping, source: str,
    xrefs: dict[str, dict[str, str]], batch_size: int, limit: int | None = None,
    keys: KeyTracker | None = None,
) -> Iterator[MappedChunk]:
    """Every record of a table-layout section, in chunks (see the module doc).

    ``limit``: stop after that many rows (a preview)."""
    entity = mapping.entity
    fixed = fixed_values(mapping, entity, source)
    defaults = {f: constant_value(entity, f, v, mapping.reading) for f, v in mapping.defaults.items()}
    keys = keys or KeyTracker(entity)
    seen = 0
    for table in section_tables(folder, profile, mapping):
        plan = column_plan(table, profile, mapping)
        readers: list[tuple[int, str, str, CellReader]] = [
            (i, name, column, cell_reader(entity, name, mapping.reading, profile,
                                          mapping.codes.get(name), mapping.values.get(name), xrefs))
            for i, name, column in plan
        ]
        columns = {name: column for _, name, column in plan}
        chunk = MappedChunk(entity, table.label)
        for number, cells in table.rows:
            seen += 1
            if limit is not None and seen > limit:
                break
            record = dict(defaults)
            problem = None
            width = len(cells)
            for i, name, column, read in readers:
                cell = cells[i] if i < width else ""
                try:
                    value = read(cell)
                except CellError as exc:
                    if problem is None:  # the first problem; the other cells still show the key
                        problem = RecordError(entity, "?", field_label(name, column), str(exc),
                                              table.label, number)
                    continue
                if value is not None:
                    record[name] = value
            record.update(fixed)
            if problem is None:
                problem = keys.check(record, table.label, number, mapping.distinct)
                if problem is SAME:
                    continue
            if problem is not None:
                chunk.rejected.append(_with_key(problem, record))
                continue
            chunk.records.append(record)
            chunk.numbers.append(number)
            if len(chunk.records) >= batch_size:
                validate_chunk(chunk, columns)
                yield chunk
                chunk = MappedChunk(entity, table.label)
        validate_chunk(chunk, columns)
        yield chunk
        if limit is not None and seen > limit:
            return


def _with_key(error: RecordError, record: dict[str, Any]) -> RecordError:
    if error.key != "?":
        return error
    model = ENTITY_MODELS[error.entity]
    return RecordError(error.entity, model.key_of(record), error.field, error.reason,
                       error.file, error.row)


def written(mapping: EntityMapping) -> tuple[str, ...]:
    """The fields the section's records carry (what a sync writes over cached rows)."""
    return (*sorted(mapping.mapped_fields()), "source")
