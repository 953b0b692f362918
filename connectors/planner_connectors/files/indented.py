"""An indented multi-level BOM (the usual PLM export) turned into BOM lines, revisions, items.

Each row is a part at a level: level 0 is a top assembly, and a row at level ``n + 1`` is a
component of the nearest row above it at level ``n``. The level comes from a column (``0``,
``1``, ``2`` or SAP's dotted ``.1``, ``..2``) mapped to ``level``, or, with ``indent = true``,
from the indentation of the item column (leading spaces or dots, ``indent_width`` per level).

Columns map to the row's part (``item``, ``revision`` — the part's own revision, i.e. the
revision of the BOM its children belong to), to the line under its parent (``quantity_per``,
``uom``, ``scrap_pct``, ``position``, ``alternate_group``, ``alternate_priority``), and with a
prefix to the part's item record (``item.description``, ``item.stock_uom``, ``item.make_buy``,
...) and to its BOM revision (``revision.status``, ``revision.effective_from``, ...).

What it yields:

- ``bom_lines``: one per row below level 0: parent = the row above at the level above, with
  that row's revision (its ``revision`` cell, else the section's ``default_revision``);
  position = the ``position`` cell, else 10, 20, 30, … in the order listed under the parent;
- ``bom_revisions``: one per part that has components listed, with its ``revision.*`` cells;
- ``items``: one per part, when any ``item.*`` field is mapped.

A sub-assembly listed again (under another parent) with the same components is read once;
listed again with other components, its rows are rejected naming both places. A level that
jumps (1 to 3), a row below level 0 with no row above it, and rows under a rejected row are
rejected, never attached to a guessed parent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from planner_connectors.files.cells import Bad, CellError, Column, as_text, cell_reader, constant_value
from planner_connectors.files.mapped import (
    MappedChunk,
    column_plan,
    field_label,
    section_tables,
    transpose,
    validate_chunk,
)
from planner_connectors.files.profile import EntityMapping, Profile, target_of
from planner_connectors.files.tables import Table
from workbench.domain.models import ENTITY_MODELS
from workbench.domain.validation import RecordError

#: the entities an indented BOM section yields, in load order
INDENTED_ENTITIES = ("items", "bom_revisions", "bom_lines")


def indented_entities(mapping: EntityMapping) -> list[str]:
    """The entities this section yields (items only when an ``item.*`` field is mapped)."""
    has_items = any(f.startswith("item.") for f in mapping.mapped_fields())
    return [e for e in INDENTED_ENTITIES if e != "items" or has_items]


def read_indented(
    folder: Path, profile: Profile, mapping: EntityMapping, source: str,
    xrefs: dict[str, dict[str, str]], limit: int | None = None,
) -> dict[str, list[MappedChunk]]:
    """Every record the section yields, per entity (one chunk per file or sheet)."""
    out: dict[str, list[MappedChunk]] = {e: [] for e in indented_entities(mapping)}
    state = _State(mapping, source)
    for table in section_tables(folder, profile, mapping):
        columns = _Columns(table, profile, mapping, xrefs)
        block = table.all_rows() if limit is None else list(islice(table.rows, limit))
        chunks = {e: MappedChunk(e, table.label) for e in out}
        state.stack = []
        state.read(columns, block, chunks)
        for entity, chunk in chunks.items():
            validate_chunk(chunk, columns.names.get(entity, {}))
            out[entity].append(chunk)
    return out


@dataclass
class _Group:
    """The converted columns of one target (the line, the item, the revision)."""

    names: list[str]
    columns: list[str]
    converters: list[Column]
    indices: list[int]
    fixed: dict[str, Any]

    def rows(self, table: list[Sequence[Any]], n: int) -> list[tuple[Any, ...]]:
        if not self.names:
            return [()] * n
        values = [c.convert(table[i]) for c, i in zip(self.converters, self.indices)]
        return list(zip(*values))

    @property
    def bad(self) -> bool:
        return any(c.bad for c in self.converters)

    def record(self, row: tuple[Any, ...]) -> dict[str, Any]:
        record = {n: v for n, v in zip(self.names, row) if v is not None}
        record.update(self.fixed)
        return record


class _Columns:
    """The converters of one table: level, item, revision, and the line, item and revision
    fields (each converting a whole column, see :class:`planner_connectors.files.cells.Column`)."""

    def __init__(self, table: Table, profile: Profile, mapping: EntityMapping,
                 xrefs: dict[str, dict[str, str]]) -> None:
        self.label = table.label
        self.mapping = mapping
        plan = column_plan(table, profile, mapping)
        self.width = 1 + max((i for i, _, _ in plan), default=-1)
        defaults: dict[str, dict[str, Any]] = {e: {} for e in INDENTED_ENTITIES}
        constants: dict[str, dict[str, Any]] = {e: {} for e in INDENTED_ENTITIES}
        for kind, given in ((defaults, mapping.defaults), (constants, mapping.constants)):
            for name, value in given.items():
                target, plain = target_of(name)
                entity = target or "bom_lines"
                if plain in ENTITY_MODELS[entity].model_fields:
                    kind[entity][plain] = constant_value(entity, plain, value, mapping.reading)
        self.groups = {e: _Group([], [], [], [], constants[e]) for e in INDENTED_ENTITIES}
        self.names: dict[str, dict[str, str]] = {e: {} for e in INDENTED_ENTITIES}
        self.part: dict[str, tuple[int, str, Column]] = {}
        self.level: tuple[int, str] | None = None
        for i, name, column in plan:
            target, plain = target_of(name)
            entity = target or "bom_lines"
            if name == "level":
                self.level = (i, column)
                continue
            model_field = plain in ENTITY_MODELS[entity].model_fields
            read = cell_reader(entity if model_field else "bom_lines",
                               plain if model_field else "component", mapping.reading, profile,
                               mapping.codes.get(name), mapping.values.get(name), xrefs)
            converter = Column(read, defaults[entity].get(plain))
            if name in ("item", "revision"):
                self.part[name] = (i, column, converter)
                self.names["bom_lines"][name if name == "revision" else "component"] = column
                if name == "item":
                    self.names["items"]["code"] = column
                    self.names["bom_revisions"]["parent"] = column
                continue
            group = self.groups[entity]
            group.names.append(plain)
            group.columns.append(column)
            group.converters.append(converter)
            group.indices.append(i)
            self.names[entity][plain] = column

    def levels(self, table: list[Sequence[Any]]) -> list[Any]:
        """Each row's level (an int, or a :class:`Bad`)."""
        if self.mapping.indent:
            width = self.mapping.indent_width
            return [(len(t) - len(t.lstrip(" .\t"))) // width
                    for t in map(as_text, table[self.part["item"][0]])]
        assert self.level is not None
        return Column(_level).convert(table[self.level[0]])

    def part_values(self, name: str, table: list[Sequence[Any]], n: int) -> list[Any]:
        found = self.part.get(name)
        if found is None:
            return [None] * n
        return found[2].convert(table[found[0]])

    @property
    def bad(self) -> bool:
        return any(c.bad for _, _, c in self.part.values()) or any(
            g.bad for g in self.groups.values())


def _level(cell: Any) -> int:
    if isinstance(cell, (int, float)) and not isinstance(cell, bool) and float(cell).is_integer():
        return int(cell)
    text = as_text(cell).strip()
    digits = text.lstrip(".")
    if digits.isdigit():
        return int(digits)
    if text and set(text) == {"."}:
        return len(text)
    raise CellError(f"{text!r} is not a level (0, 1, 2, … or .1, ..2, …)")


@dataclass
class _Part:
    level: int
    item: str | None  # None: the row was rejected, rows under it are too
    revision: str | None
    row: int
    revision_fields: tuple[Any, ...]
    lines: int = 0
    #: "file, row N" of the part, made when a line first needs it
    where: str = ""


class _State:
    """The parts above the current row, and what was already read (for repeated sub-assemblies)."""

    def __init__(self, mapping: EntityMapping, source: str) -> None:
        self.mapping = mapping
        self.source = source
        self.stack: list[_Part] = []
        self.expanded: dict[tuple[str, str], str] = {}  # (parent, revision) -> where first listed
        self.lines: dict[tuple[str, str, Any], dict[str, Any]] = {}
        self.line_rows: dict[tuple[str, str, Any], int] = {}
        self.items: dict[str, tuple[tuple[Any, ...], str]] = {}
        self.check_cells = True

    def read(self, columns: _Columns, block: list[tuple[int, list[Any]]],
             chunks: dict[str, MappedChunk]) -> None:
        n = len(block)
        table = transpose(block, columns.width)
        levels = columns.levels(table) if n else []
        codes = columns.part_values("item", table, n)
        revisions = columns.part_values("revision", table, n)
        groups = columns.groups
        line_rows = groups["bom_lines"].rows(table, n)
        item_rows = groups["items"].rows(table, n) if "items" in chunks else [()] * n
        revision_rows = groups["bom_revisions"].rows(table, n)
        self.check_cells = columns.bad
        for k, (number, _) in enumerate(block):
            self.row(columns, number, levels[k], codes[k], revisions[k], line_rows[k],
                     item_rows[k], revision_rows[k], chunks)

    def _problem(self, columns: _Columns, values: list[tuple[str, Any]],
                 rows: list[tuple[str, tuple[Any, ...]]]) -> tuple[str, str] | None:
        """(field label, reason) of the row's first unreadable cell."""
        for name, value in values:
            if value.__class__ is Bad:
                column = columns.part[name][1]
                return field_label(name, column), value.reason
        for entity, row in rows:
            group = columns.groups[entity]
            for plain, column, value in zip(group.names, group.columns, row):
                if value.__class__ is Bad:
                    prefix = {"items": "item.", "bom_revisions": "revision."}.get(entity, "")
                    return field_label(prefix + plain, column), value.reason
        return None

    def row(self, columns: _Columns, number: int, level: Any, code: Any, revision: Any,
            line_row: tuple[Any, ...], item_row: tuple[Any, ...],
            revision_row: tuple[Any, ...], chunks: dict[str, MappedChunk]) -> None:
        label = columns.label
        reject = chunks["bom_lines"].rejected
        shown = code if isinstance(code, str) else "?"
        if level.__class__ is Bad:
            column = columns.level[1] if columns.level else columns.part["item"][1]
            reject.append(RecordError("bom_lines", shown, field_label("level", column),
                                      level.reason, label, number))
            self.stack.append(_Part(10**9, None, None, number, ()))  # nothing attaches below it
            return
        while self.stack and self.stack[-1].level >= level:
            self.stack.pop()
        parent = self.stack[-1] if self.stack else None
        problem = self._problem(columns, [("item", code), ("revision", revision)],
                                [("bom_lines", line_row), ("items", item_row),
                                 ("bom_revisions", revision_row)]) if self.check_cells else None
        if problem is None and not code:
            problem = (field_label("item", columns.part["item"][1]), "no item code")
        if problem is None:
            placed = self._place(level, parent)
            problem = ("level", placed) if placed else None
        if problem is not None:
            reject.append(RecordError("bom_lines", shown, problem[0], problem[1], label, number))
            self.stack.append(_Part(level, None, None, number, ()))
            return
        revision = revision or self.mapping.default_revision
        if "items" in chunks:
            self._item(columns, code, item_row, number, chunks["items"])
        if parent is not None:
            self._line(columns, parent, code, line_row, number, chunks)
        self.stack.append(_Part(level, code, revision, number, revision_row))

    @staticmethod
    def _place(level: int, parent: _Part | None) -> str | None:
        if parent is None:
            return None if level == 0 else f"level {level} with no row at level {level - 1} above it"
        if parent.item is None:
            return f"its parent row {parent.row} was rejected"
        if level > parent.level + 1:
            return (f"level {level} directly under level {parent.level} (row {parent.row}): "
                    "a level is skipped")
        return None

    def _line(self, columns: _Columns, parent: _Part, component: str, line_row: tuple[Any, ...],
              number: int, chunks: dict[str, MappedChunk]) -> None:
        label = columns.label
        reject = chunks["bom_lines"].rejected
        assert parent.item is not None
        if not parent.revision:
            column = columns.names["bom_lines"].get("revision")
            reject.append(RecordError(
                "bom_lines", f"{parent.item}/?", "revision",
                f"its parent {parent.item} (row {parent.row}) has no revision: "
                + (f"fill column {column!r} there" if column else "map a revision column")
                + " or set default_revision in the profile", label, number))
            return
        parent.lines += 1
        where = parent.where
        if not where:
            where = parent.where = f"{label}, row {parent.row}"
        key = (parent.item, parent.revision)
        first = self.expanded.setdefault(key, where)
        record = {"parent": parent.item, "revision": parent.revision,
                  "position": parent.lines * 10, "component": component,
                  **columns.groups["bom_lines"].record(line_row), "source": self.source}
        position = record["position"]
        if first != where:  # listed again under another parent: must be the same BOM
            if self.lines.get((parent.item, parent.revision, position)) != record:
                reject.append(RecordError(
                    "bom_lines", f"{parent.item}/{parent.revision}/{position}", "component",
                    f"{parent.item} revision {parent.revision} is listed again at {where} with "
                    f"other components than at {first}", label, number))
            return
        line_key = (parent.item, parent.revision, position)
        if line_key in self.lines:
            reject.append(RecordError(
                "bom_lines", "/".join(map(str, line_key)), "parent, revision, position",
                f"duplicate key: row {self.line_rows[line_key]} has the same key", label, number))
            return
        self.lines[line_key] = record
        self.line_rows[line_key] = number
        if parent.lines == 1:
            revisions = chunks["bom_revisions"]
            revisions.records.append({"parent": parent.item, "revision": parent.revision,
                                      **columns.groups["bom_revisions"].record(
                                          parent.revision_fields), "source": self.source})
            revisions.numbers.append(parent.row)
        chunks["bom_lines"].records.append(record)
        chunks["bom_lines"].numbers.append(number)

    def _item(self, columns: _Columns, code: str, item_row: tuple[Any, ...], number: int,
              chunk: MappedChunk) -> None:
        known = self.items.get(code)
        if known is None:
            self.items[code] = (item_row, f"{columns.label}, row {number}")
            chunk.records.append({"code": code, **columns.groups["items"].record(item_row),
                                  "source": self.source})
            chunk.numbers.append(number)
            return
        if known[0] == item_row:
            return
        group = columns.groups["items"]
        k = next(i for i, (a, b) in enumerate(zip(item_row, known[0])) if a != b)
        chunk.rejected.append(RecordError(
            "items", code, field_label(group.names[k], group.columns[k]),
            f"{item_row[k]!r} here, {known[0][k]!r} at {known[1]}: one item, two descriptions",
            columns.label, number))


def indented_written(mapping: EntityMapping, entity: str) -> tuple[str, ...]:
    """The fields each yielded entity's records carry."""
    fields: set[str] = set()
    for name in mapping.mapped_fields():
        target, plain = target_of(name)
        if (target or "bom_lines") == entity and plain in ENTITY_MODELS[entity].model_fields:
            fields.add(plain)
    if entity == "bom_lines":
        fields |= {"parent", "revision", "position", "component"}
    elif entity == "bom_revisions":
        fields |= {"parent", "revision"}
    else:
        fields.add("code")
    return (*sorted(fields), "source")
