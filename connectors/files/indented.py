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

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from connectors.files.cells import CellError, CellReader, as_text, cell_reader, constant_value
from connectors.files.mapped import (
    KeyTracker,
    MappedChunk,
    column_plan,
    field_label,
    section_tables,
    validate_chunk,
)
from connectors.files.profile import EntityMapping, Profile, target_of
from workbench.domain.validation import RecordError

#: the entities an indented BOM section yields, in load order
INDENTED_ENTITIES = ("items", "bom_revisions", "bom_lines")


def indented_entities(mapping: EntityMapping) -> list[str]:
    """The entities this section yields (items only when an ``item.*`` field is mapped)."""
    has_items = any(f.startswith("item.") for f in mapping.mapped_fields())
    return [e for e in INDENTED_ENTITIES if e != "items" or has_items]


@dataclass
class _Part:
    level: int
    item: str | None  # None: the row was rejected, rows under it are too
    revision: str | None
    row: int
    revision_fields: dict[str, Any]
    lines: int = 0


def read_indented(
    folder: Path, profile: Profile, mapping: EntityMapping, source: str,
    xrefs: dict[str, dict[str, str]], limit: int | None = None,
) -> dict[str, list[MappedChunk]]:
    """Every record the section yields, per entity (one chunk per file or sheet)."""
    out: dict[str, list[MappedChunk]] = {e: [] for e in indented_entities(mapping)}
    state = _State(mapping)
    for table in section_tables(folder, profile, mapping):
        chunks = {e: MappedChunk(e, table.label) for e in out}
        reader = _TableReader(table.label, column_plan(table, profile, mapping), profile, mapping,
                              xrefs, source)
        state.stack = []
        for n, (number, cells) in enumerate(table.rows, start=1):
            if limit is not None and n > limit:
                break
            state.row(reader, number, cells, chunks)
        for entity, chunk in chunks.items():
            validate_chunk(chunk, reader.columns.get(entity, {}))
            out[entity].append(chunk)
    return out


class _TableReader:
    """The cell readers of one table, per pseudo-field."""

    def __init__(self, label: str, plan: list[tuple[int, str, str]], profile: Profile,
                 mapping: EntityMapping, xrefs: dict[str, dict[str, str]], source: str) -> None:
        self.label = label
        self.source = source
        self.readers: list[tuple[int, str, str, CellReader]] = []
        self.columns: dict[str, dict[str, str]] = {}
        self.item_column: int | None = None
        for i, name, column in plan:
            target, plain = target_of(name)
            entity = target or "bom_lines"
            if name == "level":
                continue
            if name == "item":
                self.item_column = i
            rule_entity = entity if plain in _model_fields(entity) else "bom_lines"
            self.readers.append((i, name, column, cell_reader(
                rule_entity, plain, mapping.reading, profile, mapping.codes.get(name),
                mapping.values.get(name), xrefs)))
            self.columns.setdefault(entity, {})[plain] = column
        self.level_column = next(((i, c) for i, n, c in plan if n == "level"), None)
        if "item" in self.columns.get("bom_lines", {}):
            self.columns["bom_lines"]["component"] = self.columns["bom_lines"]["item"]
            self.columns.setdefault("items", {})["code"] = self.columns["bom_lines"]["item"]


def _model_fields(entity: str) -> dict[str, Any]:
    from workbench.domain.models import ENTITY_MODELS

    return ENTITY_MODELS[entity].model_fields


class _State:
    """The parts above the current row, and what was already read (for repeated sub-assemblies)."""

    def __init__(self, mapping: EntityMapping) -> None:
        self.mapping = mapping
        self.stack: list[_Part] = []
        self.expanded: dict[tuple[str, str], str] = {}  # (parent, revision) -> where first listed
        self.lines: dict[tuple[str, str, int], dict[str, Any]] = {}
        self.items: dict[str, tuple[dict[str, Any], str]] = {}
        self.line_keys = KeyTracker("bom_lines")
        split: dict[str, dict[str, Any]] = {"bom_lines": {}, "items": {}, "bom_revisions": {}}
        for kind, values in (("defaults", mapping.defaults), ("constants", mapping.constants)):
            for name, value in values.items():
                target, plain = target_of(name)
                entity = target or "bom_lines"
                if plain in _model_fields(entity):
                    split[entity][f"{kind}:{plain}"] = constant_value(entity, plain, value,
                                                                      mapping.reading)
        self.fixed = split

    def _fixed(self, entity: str, kind: str) -> dict[str, Any]:
        prefix = f"{kind}:"
        return {k[len(prefix):]: v for k, v in self.fixed[entity].items() if k.startswith(prefix)}

    def row(self, reader: _TableReader, number: int, cells: list[Any],
            chunks: dict[str, MappedChunk]) -> None:
        label = reader.label
        values: dict[str, dict[str, Any]] = {"bom_lines": self._fixed("bom_lines", "defaults"),
                                             "items": self._fixed("items", "defaults"),
                                             "bom_revisions": self._fixed("bom_revisions", "defaults")}
        part: dict[str, Any] = {}
        reject = chunks["bom_lines"].rejected
        try:
            level = self._level(reader, cells)
        except CellError as exc:
            column = reader.level_column[1] if reader.level_column else self._item_col(reader)
            reject.append(RecordError("bom_lines", "?", field_label("level", column), str(exc),
                                      label, number))
            self.stack.append(_Part(10**9, None, None, number, {}))  # nothing attaches below it
            return
        width = len(cells)
        problem: RecordError | None = None
        for i, name, column, read in reader.readers:
            try:
                value = read(cells[i] if i < width else "")
            except CellError as exc:
                if problem is None:
                    problem = RecordError("bom_lines", "?", field_label(name, column), str(exc),
                                          label, number)
                continue
            if value is None:
                continue
            target, plain = target_of(name)
            if target is None and name in ("item", "revision"):
                part[name] = value
            else:
                values[target or "bom_lines"][plain] = value
        while self.stack and self.stack[-1].level >= level:
            self.stack.pop()
        parent = self.stack[-1] if self.stack else None
        item = part.get("item")
        if problem is None and not item:
            problem = RecordError("bom_lines", "?", field_label("item", self._item_col(reader)),
                                  "no item code", label, number)
        if problem is None:
            problem = self._place(level, parent, number)
            if problem is not None:
                problem = replace(problem, key=item or "?", file=label)
        revision = part.get("revision") or self.mapping.default_revision
        if problem is not None:
            reject.append(problem)
            self.stack.append(_Part(level, None, None, number, {}))
            return
        assert isinstance(item, str)
        me = _Part(level, item, revision, number,
                   {**values["bom_revisions"], **self._fixed("bom_revisions", "constants")})
        if "items" in chunks:
            self._item(item, {**values["items"], **self._fixed("items", "constants")}, reader,
                       number, chunks["items"])
        if parent is not None:
            assert parent.item is not None
            self._line(parent, item, values["bom_lines"], reader, number, chunks)
        self.stack.append(me)

    def _item_col(self, reader: _TableReader) -> str | None:
        return reader.columns.get("bom_lines", {}).get("item")

    def _level(self, reader: _TableReader, cells: list[Any]) -> int:
        if self.mapping.indent:
            if reader.item_column is None:
                raise CellError("indent = true needs the item column")
            cell = cells[reader.item_column] if reader.item_column < len(cells) else ""
            text = as_text(cell)
            depth = len(text) - len(text.lstrip(" .\t"))
            return depth // self.mapping.indent_width
        assert reader.level_column is not None
        i = reader.level_column[0]
        cell = cells[i] if i < len(cells) else ""
        if isinstance(cell, (int, float)) and not isinstance(cell, bool) and float(cell).is_integer():
            return int(cell)
        text = as_text(cell).strip()
        digits = text.lstrip(".")
        if digits.isdigit():
            return int(digits)
        if text and not digits and set(text) == {"."}:
            return len(text)
        raise CellError(f"{text!r} is not a level (0, 1, 2, … or .1, ..2, …)")

    def _place(self, level: int, parent: _Part | None, number: int) -> RecordError | None:
        if parent is None:
            if level == 0:
                return None
            return RecordError("bom_lines", "?", "level",
                               f"level {level} with no row at level {level - 1} above it", None,
                               number)
        if parent.item is None:
            return RecordError("bom_lines", "?", "level",
                               f"its parent row {parent.row} was rejected", None, number)
        if level > parent.level + 1:
            return RecordError("bom_lines", "?", "level",
                               f"level {level} directly under level {parent.level} "
                               f"(row {parent.row}): a level is skipped", None, number)
        return None

    def _line(self, parent: _Part, component: str, fields: dict[str, Any],
              reader: _TableReader, number: int, chunks: dict[str, MappedChunk]) -> None:
        label = reader.label
        reject = chunks["bom_lines"].rejected
        assert parent.item is not None
        if not parent.revision:
            column = reader.columns.get("bom_lines", {}).get("revision")
            reject.append(RecordError(
                "bom_lines", f"{parent.item}/?", "revision",
                f"its parent {parent.item} (row {parent.row}) has no revision: "
                + (f"fill column {column!r} there" if column else "map a revision column")
                + " or set default_revision in the profile", label, number))
            return
        parent.lines += 1
        where = f"{label}, row {parent.row}"
        key = (parent.item, parent.revision)
        first = self.expanded.setdefault(key, where)
        position = fields.pop("position", parent.lines * 10)
        record = {"parent": parent.item, "revision": parent.revision, "position": position,
                  "component": component, **fields, **self._fixed("bom_lines", "constants"),
                  "source": reader.source}
        if first != where:  # listed again under another parent: must be the same BOM
            known = self.lines.get((parent.item, parent.revision, position))
            if known != record:
                reject.append(RecordError(
                    "bom_lines", f"{parent.item}/{parent.revision}/{position}", "component",
                    f"{parent.item} revision {parent.revision} is listed again at {where} with "
                    f"other components than at {first}", label, number))
            return
        duplicate = self.line_keys.check(record, label, number)
        if duplicate is not None:
            reject.append(duplicate)
            return
        self.lines[(parent.item, parent.revision, position)] = record
        if parent.lines == 1:
            chunks["bom_revisions"].records.append(
                {"parent": parent.item, "revision": parent.revision, **parent.revision_fields,
                 "source": reader.source})
            chunks["bom_revisions"].numbers.append(parent.row)
        chunks["bom_lines"].records.append(record)
        chunks["bom_lines"].numbers.append(number)

    def _item(self, code: str, fields: dict[str, Any], reader: _TableReader, number: int,
              chunk: MappedChunk) -> None:
        record = {"code": code, **fields, "source": reader.source}
        known = self.items.get(code)
        if known is None:
            self.items[code] = (record, f"{reader.label}, row {number}")
            chunk.records.append(record)
            chunk.numbers.append(number)
            return
        if known[0] != record:
            differs = next(f for f in sorted(set(record) | set(known[0]))
                           if record.get(f) != known[0].get(f))
            column = reader.columns.get("items", {}).get(differs)
            chunk.rejected.append(RecordError(
                "items", code, field_label(differs, column),
                f"{record.get(differs)!r} here, {known[0].get(differs)!r} at {known[1]}: "
                "one item, two descriptions", reader.label, number))


def indented_written(mapping: EntityMapping, entity: str) -> tuple[str, ...]:
    """The fields each yielded entity's records carry."""
    fields: set[str] = set()
    for name in mapping.mapped_fields():
        target, plain = target_of(name)
        if (target or "bom_lines") == entity and plain in _model_fields(entity):
            fields.add(plain)
    if entity == "bom_lines":
        fields |= {"parent", "revision", "position", "component"}
    elif entity == "bom_revisions":
        fields |= {"parent", "revision"}
    else:
        fields.add("code")
    return (*sorted(fields), "source")

