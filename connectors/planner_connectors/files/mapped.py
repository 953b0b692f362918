"""Mapped reading: the rows of a plant's files turned into canonical records by a profile.

:func:`read_entity` reads every file and sheet an entity section of the profile names and
yields :class:`MappedChunk` s — records (dicts of canonical fields) with their row numbers, and
the rows that could not become records. A rejected row names the file, the sheet, the row, the
column (with the field it fills) and the reason; it is never guessed at. The checks:

- every column the profile maps must be in the file's header (else the file is refused, naming
  the profile line that maps it);
- each cell is read as :mod:`planner_connectors.files.cells` says (numbers, dates, value maps, codes);
- the record is validated by the canonical model here already, a column at a time, so a value
  out of range is named by its column too (the sync validates again, as for every connector;
  the batches carry the valid records column-wise, see :class:`MappedChunk`);
- a key given twice in the source (across all its files) is rejected naming both rows.

Records carry the fields the profile fills (columns, constants, defaults): a field the profile
does not fill keeps its cached value, as a left-out column of a data package does.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import Any

from planner_connectors.files.cells import Bad, Column, cell_reader, constant_value
from planner_connectors.files.profile import EntityMapping, Profile, ProfileError
from planner_connectors.files.tables import Table, TableError, paused_gc, read_tables
from workbench.domain.models import ENTITY_MODELS
from workbench.domain.validation import RecordError, validate_columns


class MappedChunk:
    """Records of one entity from one file or sheet, with their row numbers and the rows that
    could not become records.

    A reader gives the records as dicts (``records``) or column-wise (:meth:`add_given`:
    field -> one value per record, None where a record does not give the field); ``records``
    is then made from the columns only when something asks for it (a preview). Once validated
    (:func:`validate_chunk`), ``columns`` holds the valid records column-wise: what the
    batches carry to the sync (:class:`workbench.connect.port.ColumnBatch`)."""

    def __init__(self, entity: str, label: str, records: list[dict[str, Any]] | None = None,
                 numbers: list[int] | None = None,
                 rejected: list[RecordError] | None = None) -> None:
        self.entity = entity
        self.label = label
        self._records: list[dict[str, Any]] | None = records if records is not None else []
        self.numbers: list[int] = numbers if numbers is not None else []
        self.rejected: list[RecordError] = rejected if rejected is not None else []
        #: the records column-wise as a reader gave them (None: as dicts in ``records``)
        self.given: dict[str, list[Any]] | None = None
        #: the valid records column-wise, once validated
        self.columns: dict[str, list[Any]] | None = None

    def add_given(self, columns: dict[str, list[Any]], numbers: list[int]) -> None:
        """The chunk's records given column-wise (the chunk held none)."""
        assert not self._records and not self.numbers
        self.given = columns
        self.numbers = numbers
        self._records = None

    @property
    def records(self) -> list[dict[str, Any]]:
        if self._records is None:
            given = self.given or {}
            names = list(given)
            self._records = [{f: v for f, v in zip(names, values) if v is not None}
                             for values in zip(*given.values())]
        return self._records

    @records.setter
    def records(self, value: list[dict[str, Any]]) -> None:
        self._records = value
        self.given = None

    @property
    def size(self) -> int:
        return len(self.numbers)

    def part(self, start: int, stop: int, rejected: list[RecordError]) -> MappedChunk:
        """The records ``start:stop`` (as dicts or columns, as held; validated columns too)."""
        out = MappedChunk(self.entity, self.label, rejected=rejected)
        if self._records is None and self.given is not None:
            out.add_given({f: v[start:stop] for f, v in self.given.items()},
                          self.numbers[start:stop])
        else:
            out.records = self.records[start:stop]
            out.numbers = self.numbers[start:stop]
        if self.columns is not None:
            out.columns = {f: v[start:stop] for f, v in self.columns.items()}
        return out


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
    """Validate the chunk's records with the canonical model, a column at a time
    (:func:`workbench.domain.validation.validate_columns`); move the bad ones to ``rejected``
    with their column named, and keep the valid ones' columns in ``chunk.columns``."""
    if not chunk.numbers:
        chunk.columns = {}
        return
    given = chunk.given
    if given is not None:
        # a field no record gives is left out, as from records (which leave out None values)
        given = {f: v for f, v in given.items() if v.count(None) != len(v)}
    else:
        records = chunk.records
        present = set().union(*records)
        given = {f: [r.get(f) for r in records]
                 for f in ENTITY_MODELS[chunk.entity].model_fields if f in present}
    valid, positions, errors = validate_columns(chunk.entity, given, file=chunk.label,
                                                row_numbers=chunk.numbers)
    chunk.columns = valid
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

    Cells are converted a column at a time (:class:`planner_connectors.files.cells.Column`), a block of
    ``batch_size`` rows at once. ``limit``: stop after that many rows (a preview)."""
    entity = mapping.entity
    fixed = fixed_values(mapping, entity, source)
    keys = keys or KeyTracker(entity)
    seen = 0
    for table in section_tables(folder, profile, mapping):
        converters = table_columns(table, profile, mapping, entity, xrefs)
        columns = {name: column for _, name, column, _ in converters}
        block: list[tuple[int, list[Any]]] = []
        rows = iter(table.rows)
        while True:
            with paused_gc():  # a block's rows, cells and records: no cycles among them
                block = list(islice(rows, batch_size))
                if limit is not None:
                    block = block[: max(limit - seen, 0)]
                seen += len(block)
                if not block and seen:
                    break
                chunk = _convert_block(entity, table.label, block, converters, fixed, keys,
                                       mapping.distinct)
                validate_chunk(chunk, columns)
            yield chunk
            if len(block) < batch_size or (limit is not None and seen >= limit):
                break
        if limit is not None and seen >= limit:
            return


def table_columns(table: Table, profile: Profile, mapping: EntityMapping, entity: str,
                  xrefs: dict[str, dict[str, str]]) -> list[tuple[int, str, str, Column]]:
    """(cell index, field, column, converter) of every mapped column of a table."""
    defaults = {f: constant_value(entity, f, v, mapping.reading) for f, v in mapping.defaults.items()}
    return [
        (i, name, column, Column(cell_reader(entity, name, mapping.reading, profile,
                                             mapping.codes.get(name), mapping.values.get(name),
                                             xrefs), defaults.get(name)))
        for i, name, column in column_plan(table, profile, mapping)
    ]


def cells_of(block: list[tuple[int, list[Any]]], index: int) -> list[Any]:
    """The cells of one column of a block of rows ("" where a row is short)."""
    return [cells[index] if index < len(cells) else "" for _, cells in block]


def transpose(block: list[tuple[int, list[Any]]], width: int) -> list[Sequence[Any]]:
    """The columns of a block of rows (at least ``width``; short rows padded with ""), as
    tuples, at C speed: ``zip(*rows)`` (with the collector paused, as the readers call it,
    0.40 s on the medium bench's 199,782 rows of 24 cells, against 0.53 s through a numpy
    object array)."""
    if not block:
        return [()] * width
    rows = [cells for _, cells in block]
    width = max(width, *map(len, rows))
    if min(map(len, rows)) != width:
        rows = [r if len(r) == width else [*r, *([""] * (width - len(r)))] for r in rows]
    return list(zip(*rows))


def _convert_block(
    entity: str, label: str, block: list[tuple[int, list[Any]]],
    converters: list[tuple[int, str, str, Column]], fixed: dict[str, Any], keys: KeyTracker,
    distinct: bool,
) -> MappedChunk:
    chunk = MappedChunk(entity, label)
    names = [name for _, name, _, _ in converters]
    table = transpose(block, 1 + max((i for i, _, _, _ in converters), default=-1))
    values = [conv.convert(table[i]) for i, _, _, conv in converters]
    problems: dict[int, tuple[str, str, str]] = {}
    for (_, name, column, conv), col in zip(converters, values):
        if not conv.bad:
            continue
        for k, v in enumerate(col):
            if v.__class__ is Bad and k not in problems:
                problems[k] = (name, column, v.reason)
    for k, ((number, _), row) in enumerate(zip(block, zip(*values))):
        record = {n: v for n, v in zip(names, row) if v is not None}
        record.update(fixed)
        if k in problems:
            name, column, reason = problems[k]
            record = {n: v for n, v in record.items() if v.__class__ is not Bad}
            chunk.rejected.append(RecordError(entity, ENTITY_MODELS[entity].key_of(record),
                                              field_label(name, column), reason, label, number))
            continue
        duplicate = keys.check(record, label, number, distinct)
        if duplicate is SAME:
            continue
        if duplicate is not None:
            chunk.rejected.append(duplicate)
            continue
        chunk.records.append(record)
        chunk.numbers.append(number)
    return chunk


def written(mapping: EntityMapping) -> tuple[str, ...]:
    """The fields the section's records carry (what a sync writes over cached rows)."""
    return (*sorted(mapping.mapped_fields()), "source")
