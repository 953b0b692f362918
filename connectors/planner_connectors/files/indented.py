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
from dataclasses import dataclass, field
from itertools import islice
from operator import itemgetter
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
from planner_connectors.files.runs import constant as _constant
from planner_connectors.files.runs import picker as _picker
from planner_connectors.files.runs import units as _units
from planner_connectors.files.tables import Table, paused_gc
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
    """Every record the section yields, per entity (chunks of each file or sheet, in runs of
    rows as :func:`_units` cuts them)."""
    with paused_gc():  # the rows and the state are gone before it is on again
        return _read_indented(folder, profile, mapping, source, xrefs, limit)


def _read_indented(
    folder: Path, profile: Profile, mapping: EntityMapping, source: str,
    xrefs: dict[str, dict[str, str]], limit: int | None,
) -> dict[str, list[MappedChunk]]:
    out: dict[str, list[MappedChunk]] = {e: [] for e in indented_entities(mapping)}
    state = _State(mapping, source)
    for table in section_tables(folder, profile, mapping):
        columns = _Columns(table, profile, mapping, xrefs)
        state.stack = []
        for unit in (_units(columns, table) if limit is None
                     else [list(islice(table.rows, limit))]):
            chunks = {e: MappedChunk(e, table.label) for e in out}
            state.read(columns, unit, chunks)
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

    def values(self, table: list[Sequence[Any]]) -> list[list[Any]]:
        """The converted columns, in the order of ``names``."""
        return [c.convert(table[i]) for c, i in zip(self.converters, self.indices)]

    def rows(self, values: list[list[Any]], n: int) -> list[tuple[Any, ...]]:
        if not self.names:
            return [()] * n
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

    def last_top(self, block: list[tuple[int, list[Any]]]) -> int:
        """The index of the block's last row at level 0 (-1: none), looked for from the end
        (a top assembly's rows are few against a block's)."""
        at = self.part["item"][0] if self.mapping.indent or self.level is None else self.level[0]
        for k in range(len(block) - 1, -1, -1):
            cells = block[k][1]
            cell = cells[at] if at < len(cells) else ""
            if self.mapping.indent:  # as :meth:`levels` reads it
                text = as_text(cell)
                if (len(text) - len(text.lstrip(" .\t"))) // self.mapping.indent_width == 0:
                    return k
                continue
            try:
                level = _level(cell)
            except CellError:
                continue
            if level == 0:
                return k
        return -1

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
        #: (parent, revision, position) -> (component, converted line cells) of the first listing
        self.lines: dict[tuple[str, str, Any], tuple[Any, ...]] = {}
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
        # the item columns are converted where the fast reading needs them (see _scan_items)
        values = {e: g.values(table) if e in ("bom_lines", "bom_revisions") else []
                  for e, g in groups.items()}
        line_rows = groups["bom_lines"].rows(values["bom_lines"], n)
        if FAST and self._fast(columns, block, chunks, table, levels, codes, revisions, values,
                               line_rows):
            return
        if "items" in chunks:
            values["items"] = groups["items"].values(table)
        item_rows = groups["items"].rows(values["items"], n) if "items" in chunks else [()] * n
        revision_rows = groups["bom_revisions"].rows(values["bom_revisions"], n)
        self.check_cells = columns.bad
        for k, (number, _) in enumerate(block):
            self.row(columns, number, levels[k], codes[k], revisions[k], line_rows[k],
                     item_rows[k], revision_rows[k], chunks)

    def _fast(self, columns: _Columns, block: list[tuple[int, list[Any]]],
              chunks: dict[str, MappedChunk], table: list[Sequence[Any]], levels: list[Any],
              codes: list[Any], revisions: list[Any], values: dict[str, list[list[Any]]],
              line_rows: list[tuple[Any, ...]]) -> bool:
        """The records of a table with nothing to reject, made column-wise: one lean loop over
        the rows finds each row's parent, position and whether it repeats a sub-assembly, and
        the chunks get columns (:meth:`MappedChunk.add_given`), no dict per record. The same
        records, numbers and state as :meth:`row` row by row (tests/files compare both);
        False, with nothing changed, when any row would be rejected or a fixed value shadows a
        column (then :meth:`row` does it, with its messages)."""
        if not _fast_possible(columns, codes, levels):
            return False
        revs = [r or self.mapping.default_revision for r in revisions]
        line_names = columns.groups["bom_lines"].names
        at = line_names.index("position") if "position" in line_names else None
        scan = self._scan(levels, codes, revs, line_rows,
                          values["bom_lines"][at] if at is not None else None)
        if scan is None:
            return False
        items: tuple[list[int], dict[int, tuple[Any, ...]]] = ([], {})
        if "items" in chunks:
            found = self._scan_items(columns, table, codes)
            if found is None:
                return False
            items = found
        self._take(columns, block, chunks, codes, revs, values, scan, items)
        return True

    def _scan(self, levels: list[int], codes: list[Any], revs: list[Any],
              line_rows: list[tuple[Any, ...]], given: list[Any] | None) -> _Scan | None:
        """Each line's parent and position, the repeats checked; None if a row is rejected."""
        scan = _Scan()
        count = [0] * len(levels)
        stack: list[int] = []
        previous = -1
        # the loop runs once a row (195,000 lines on the medium bench): names bound locally
        expanded, first, lines, old_lines = self.expanded, scan.first, scan.lines, self.lines
        listed, add_line = first.setdefault, scan.line_at.append
        add_parent, add_position = scan.parent_at.append, scan.positions.append
        add_revision = scan.revision_at.append
        for k, level in enumerate(levels):
            if level > previous + 1:
                return None
            previous = level
            del stack[level:]
            stack.append(k)
            if not level:
                continue
            p = stack[level - 1]
            rev = revs[p]
            if not rev:
                return None
            n = count[p] = count[p] + 1
            position = n * 10 if given is None or given[k] is None else given[k]
            code = codes[p]
            line_key = (code, rev, position)
            signature = (codes[k], line_rows[k])
            pair = (code, rev)
            if pair in expanded or listed(pair, p) != p:  # listed again: must be the same BOM
                if lines.get(line_key, old_lines.get(line_key)) != signature:
                    return None
                continue
            if line_key in lines:
                return None
            lines[line_key] = signature
            if n == 1:
                add_revision(p)
            add_line(k)
            add_parent(p)
            add_position(position)
        return scan

    def _scan_items(self, columns: _Columns, table: list[Sequence[Any]], codes: list[str],
                    ) -> tuple[list[int], dict[int, tuple[Any, ...]]] | None:
        """The rows of the new items' first listings and each item's converted fields at its
        first listing; None if an item is described differently or a cell cannot be read.

        Every row repeats its item's fields (11 columns on the bench): the rows are compared
        as they are in the sheet, and converted only at each item's first listing (the same
        cells convert to the same values); when the cells differ somewhere (``EA`` and
        `` EA``), every row is converted and compared as converted."""
        group = columns.groups["items"]
        n = len(codes)
        raw = list(zip(*[table[i] for i in group.indices])) if group.indices else [()] * n
        # each code's first row (the dict keeps the last value given: rows read backwards)
        first = dict(zip(reversed(codes), range(n - 1, -1, -1)))
        firsts = sorted(first.values())
        # every row described as the code's first row, compared at C speed
        if list(map(raw.__getitem__, map(first.__getitem__, codes))) == raw:
            pick = _picker(firsts)
            converted = [c.convert(pick(table[i])) for c, i in zip(group.converters,
                                                                      group.indices)]
            described = dict(zip(firsts, zip(*converted) if converted else [()] * len(firsts)))
        else:
            item_rows = group.rows(group.values(table), n)
            if list(map(item_rows.__getitem__, map(first.__getitem__, codes))) != item_rows:
                return None
            described = {k: item_rows[k] for k in firsts}
        if group.bad:
            return None
        known = self.items
        again = first.keys() & known.keys()  # items a run before described: the same here?
        if again and list(map(itemgetter(0), map(known.__getitem__, again))) != list(
                map(described.__getitem__, map(first.__getitem__, again))):
            return None
        return sorted(map(first.__getitem__, first.keys() - known.keys())), described

    def _take(self, columns: _Columns, block: list[tuple[int, list[Any]]],
              chunks: dict[str, MappedChunk], codes: list[Any], revs: list[Any],
              values: dict[str, list[list[Any]]], scan: _Scan,
              items: tuple[list[int], dict[int, tuple[Any, ...]]]) -> None:
        """The state and the chunks take a scanned table."""
        label = columns.label
        numbers = list(map(itemgetter(0), block))
        self.expanded.update((key, f"{label}, row {numbers[p]}") for key, p in scan.first.items())
        self.lines.update(scan.lines)
        self.line_rows.update(zip(scan.lines, map(numbers.__getitem__, scan.line_at)))
        item_at, described = items
        self.items.update((codes[k], (described[k], f"{label}, row {numbers[k]}"))
                          for k in item_at)
        self.stack = []
        groups = columns.groups
        pick, parents = _picker(scan.line_at), _picker(scan.parent_at)
        group = groups["bom_lines"]
        chunks["bom_lines"].add_given({
            "parent": parents(codes), "revision": parents(revs), "position": scan.positions,
            "component": pick(codes),
            **{name: pick(column) for name, column in zip(group.names, values["bom_lines"])
               if name != "position"},
            **_constant(group.fixed, len(scan.line_at)),
            "source": [self.source] * len(scan.line_at),
        }, pick(numbers))
        of_parent = _picker(scan.revision_at)
        group = groups["bom_revisions"]
        chunks["bom_revisions"].add_given({
            "parent": of_parent(codes), "revision": of_parent(revs),
            **{name: of_parent(column)
               for name, column in zip(group.names, values["bom_revisions"])},
            **_constant(group.fixed, len(scan.revision_at)),
            "source": [self.source] * len(scan.revision_at),
        }, of_parent(numbers))
        if "items" in chunks:
            of_item = _picker(item_at)
            group = groups["items"]
            fields = list(zip(*map(described.__getitem__, item_at))) or [()] * len(group.names)
            chunks["items"].add_given({
                "code": of_item(codes),
                **{name: list(column) for name, column in zip(group.names, fields)},
                **_constant(group.fixed, len(item_at)),
                "source": [self.source] * len(item_at),
            }, of_item(numbers))

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
        signature = (component, line_row)
        if first != where:  # listed again under another parent: must be the same BOM
            if self.lines.get((parent.item, parent.revision, position)) != signature:
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
        self.lines[line_key] = signature
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


@dataclass
class _Scan:
    """What :meth:`_State._scan` found in a table: the lines' rows, parents and positions, the
    parent rows whose revision is first listed, the first listing of each (parent, revision)
    and the lines' signatures."""

    first: dict[tuple[str, str], int] = field(default_factory=dict)
    lines: dict[tuple[str, str, Any], tuple[Any, ...]] = field(default_factory=dict)
    line_at: list[int] = field(default_factory=list)
    parent_at: list[int] = field(default_factory=list)
    positions: list[Any] = field(default_factory=list)
    revision_at: list[int] = field(default_factory=list)


def _fast_possible(columns: _Columns, codes: list[Any], levels: list[Any]) -> bool:
    """No unreadable cell, every row an item code and a level, no fixed value over a column."""
    if columns.bad or not all(codes) or not set(map(type, levels)) <= {int}:
        return False
    if {"parent", "revision", "component"} & set(columns.groups["bom_lines"].names):
        return False
    return not any("source" in g.fixed or "source" in g.names or set(g.fixed) & set(g.names)
                   for g in columns.groups.values())


#: the column-wise reading of a table with nothing to reject (:meth:`_State._fast`); off: every
#: row through :meth:`_State.row` (the tests compare both)
FAST = True


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
