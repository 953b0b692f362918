"""The import wizard's steps as operations (Qt-free): plant exports -> a mapping profile -> a load.

The wizard (:mod:`workbench.ui.import_wizard`) and any other caller go through the same steps:

1. :func:`inspect_exports` (cache query) — the picked files, every table (CSV file or sheet)
   with its header, sample rows and the canonical field each column seems to be (the matcher of
   ``workbench mapping suggest``), as a :class:`Draft`; the cache's units come along as the
   choices of unit value maps;
2. the person adjusts the draft (entity per table, field per column, decimal sign and thousands
   separator, value maps); :func:`profile_toml` renders it as a profile (TOML, docs/mapping.md);
3. :func:`preview_mapping` (cache query) — the profile read against the files exactly as
   ``workbench mapping check`` does (the first canonical records per entity, every rejected row
   with file, sheet, row, column and reason), plus the words of value fields that still need a
   value map entry; nothing is written;
4. :func:`load_mapped` (command) — the profile saved where the person said, then one ordinary
   sync of a ``files`` source with ``mapping=PROFILE``: atomic, so a rejected row changes
   nothing in the cache and the answer says why.

Importing this module loads neither pandas nor Qt.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.app.ops import Changes, Outcome, cache_query, command

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from workbench.services.mapping import MappingCheck
    from workbench.services.settings import SourceConfig
    from workbench.services.sync import SyncResult
    from workbench.services.tasks import TaskState

#: fields whose words are mapped to canonical values (besides every enum field)
UNIT_FIELDS = ("uom", "stock_uom", "item.stock_uom", "from_uom", "to_uom")
#: fields holding codes (upper-cased when a table's ``upper_codes`` says so)
CODE_FIELDS = ("code", "item", "component", "parent", "supplier", "site", "location",
               "purchase_order", "default_supplier", "work_order")
#: what a table's columns may map to, besides the entity's fields: nothing
UNMAPPED = ""


@dataclass
class TableDraft:
    """One table of the picked files (a CSV file or a sheet) and how it is to be read."""

    file: str
    sheet: str | None
    label: str
    header_row: int
    columns: list[str]
    samples: list[list[str]]
    #: the canonical entity the table holds (None: not loaded)
    entity: str | None
    #: ``table`` or ``indented`` (a multi-level BOM with a level column)
    layout: str
    #: column -> canonical field (columns not mapped are absent)
    fields: dict[str, str]
    encoding: str | None = None
    delimiter: str | None = None
    decimal: str = "."
    thousands: str = ""
    #: field -> {word in the file: canonical value}
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    #: codes (item, supplier, site, ... codes) upper-cased: " p-100 " -> "P-100"
    upper_codes: bool = False

    def samples_of(self, column: str, n: int = 3) -> list[str]:
        """The first ``n`` non-empty sample values of ``column``."""
        i = self.columns.index(column)
        out = [row[i] for row in self.samples if i < len(row) and str(row[i]).strip()]
        return out[:n]


@dataclass
class Draft:
    """What the wizard builds: the folder of the picked files, the source name, the tables."""

    folder: str
    source: str
    tables: list[TableDraft] = field(default_factory=list)
    #: the cache's unit codes (choices of a unit value map)
    units: list[str] = field(default_factory=list)


@dataclass
class MappingPreview:
    """:func:`preview_mapping`'s answer: the check and the words still to map, per table."""

    check: MappingCheck
    #: (table index, field) -> words of the file the field cannot take as they are
    words: dict[tuple[int, str], list[str]]
    profile: str


@dataclass
class MappedLoad:
    """:func:`load_mapped`'s answer: where the profile went, the source and the sync run."""

    profile: Path
    source: SourceConfig
    result: SyncResult

    @property
    def ok(self) -> bool:
        return self.result.ok


def field_choices(entity: str, layout: str = "table") -> list[str]:
    """The fields a column of a table of ``entity`` may fill (``layout = "indented"``: the
    indented BOM's row fields and its ``item.*`` / ``revision.*`` fields)."""
    from workbench.services.mapping import _tools

    names = _tools().entity_fields(entity, layout)
    return [n for n in names if n not in ("source", "source_key", "source_version")]


def value_choices(entity: str, name: str, layout: str, units: list[str]) -> list[str] | None:
    """The canonical values a value map of this field maps to (None: not a value field)."""
    tools = _connector_tools()
    target, plain = tools.target_of(name) if layout == "indented" else (None, name)
    if layout == "indented" and target is None:
        target = "bom_lines"
    of = target or entity
    if name in UNIT_FIELDS or plain in UNIT_FIELDS:
        return list(units)
    try:
        kind, allowed = tools.field_kind(of, plain)
    except KeyError:
        return None
    return list(allowed) if kind == "enum" else None


def _connector_tools() -> Any:
    from workbench.services.mapping import _tools

    return _tools()


@cache_query
def inspect_exports(engine: Engine, files: list[str], sample_rows: int = 5) -> Draft:
    """The picked files (all in one folder) as a :class:`Draft`: each table's header, samples,
    entity and column matches as ``workbench mapping suggest`` finds them."""
    from workbench.cache.readmodels import unit_frames
    from workbench.services.mapping import inspect_folder

    paths = [Path(f) for f in files]
    if not paths:
        raise ValueError("pick at least one CSV or XLSX file")
    folder = paths[0].parent
    other = [p for p in paths if p.parent != folder]
    if other:
        raise ValueError(f"pick files of one folder: {other[0]} is not in {folder}")
    tables = inspect_folder(folder, sample_rows, files=[p.name for p in paths])
    units = sorted(str(u) for u in unit_frames(engine)[0]["code"].tolist())
    drafts = [TableDraft(t.file, t.sheet, t.label, t.header_row, t.columns, t.samples, t.entity,
                         t.layout, dict(t.matches), t.encoding, t.delimiter, t.decimal,
                         t.thousands) for t in tables]
    return Draft(str(folder), folder.name or "files", drafts, units)


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def profile_toml(draft: Draft) -> str:
    """The draft as a profile (TOML, the format of docs/mapping.md): one section per table that
    holds an entity and maps a column, ``[[entity]]`` when several tables hold one."""
    lines = ["# Mapping profile made by the import wizard (docs/mapping.md).", "",
             "[profile]", f"source = {_q(draft.source)}"]
    used = [t for t in draft.tables if t.entity and t.fields]
    for t in used:
        assert t.entity is not None
        many = sum(1 for x in used if x.entity == t.entity) > 1
        lines += ["", f"[[{t.entity}]]" if many else f"[{t.entity}]", f"files = [{_q(t.file)}]"]
        if t.sheet is not None:
            lines.append(f"sheets = [{_q(t.sheet)}]")
        if t.header_row != 1:
            lines.append(f"header_row = {t.header_row}")
        if t.layout == "indented":
            lines.append('layout = "indented"')
        if t.encoding:
            lines.append(f"encoding = {_q(t.encoding.replace('-sig', ''))}")
        if t.delimiter:
            lines.append(f"delimiter = {_q(t.delimiter)}")
        lines.append(f"decimal = {_q(t.decimal)}")
        if t.thousands:
            lines.append(f"thousands = {_q(t.thousands)}")
        lines.append(f"[{t.entity}.columns]")
        lines += [f"{_q(c)} = {_q(t.fields[c])}" for c in t.columns if t.fields.get(c)]
        if t.upper_codes:
            for name in t.fields.values():
                if name in CODE_FIELDS:
                    lines += [f"[{t.entity}.codes.{_q(name)}]", 'case = "upper"']
        for name, pairs in t.values.items():
            if name in t.fields.values() and pairs:
                lines.append(f"[{t.entity}.values.{_q(name)}]")
                lines += [f"{_q(w)} = {_q(v)}" for w, v in pairs.items() if v]
    return "\n".join(lines) + "\n"


def _words(draft: Draft, index: int, name: str, allowed: list[str]) -> list[str]:
    """Words of the column mapped to ``name`` that are not values it takes and not yet in its
    value map (every row of the table is read)."""
    tools = _connector_tools()
    t = draft.tables[index]
    column = next(c for c, f in t.fields.items() if f == name)
    reading = tools.Reading(encoding=t.encoding, delimiter=t.delimiter)
    sheets = (t.sheet,) if t.sheet is not None else None
    path = Path(draft.folder) / t.file
    table = next(iter(tools.read_tables(path, sheets, t.header_row, reading)))
    i = table.header.index(column)
    found: set[str] = set()
    for _, cells in table.rows:
        if i < len(cells):
            found.add(str(tools.as_text(cells[i])).strip())
    # an enum takes its values in any case; a unit code must be the cache's exactly
    fold = (lambda w: w) if name in UNIT_FIELDS or name.endswith("uom") else str.casefold
    known = {fold(a) for a in allowed}
    mapped = {w.strip().casefold() for w in t.values.get(name, {})}
    return sorted(w for w in found
                  if w and fold(w) not in known and w.casefold() not in mapped)


@cache_query
def preview_mapping(engine: Engine, draft: Draft, rows: int = 20) -> MappingPreview:
    """The draft's profile checked against the files (nothing written): the first ``rows``
    canonical records per entity, every problem, and the words still to map per value field."""
    from workbench.services.mapping import check_mapping

    text = profile_toml(draft)
    with tempfile.TemporaryDirectory(prefix="wizard-") as tmp:
        path = Path(tmp) / f"{draft.source}.toml"
        path.write_text(text, encoding="utf-8")
        check = check_mapping(path, draft.folder, rows=rows, cache=_cache_file(engine))
    words: dict[tuple[int, str], list[str]] = {}
    for index, t in enumerate(draft.tables):
        if not t.entity or not t.fields:
            continue
        for name in t.fields.values():
            allowed = value_choices(t.entity, name, t.layout, draft.units) if name else None
            if allowed is None:
                continue
            missing = _words(draft, index, name, allowed)
            if missing:
                words[(index, name)] = missing
    return MappingPreview(check, words, text)


def _cache_file(engine: Engine) -> Path | None:
    from workbench.services.sources import cache_path

    return cache_path(engine)


@command
def load_mapped(engine: Engine, draft: Draft, profile_path: str, source_name: str, *,
                state: TaskState) -> Outcome[MappedLoad]:
    """Save the draft's profile at ``profile_path`` and load the files through it: one sync of a
    ``files`` source (``folder``, ``mapping``), atomic — a rejected row rejects the whole run
    and the cache keeps what it had (the answer's result says which row, column and why)."""
    from workbench.app.sync import changes_of, new_source, sync_sources

    path = Path(profile_path).expanduser().absolute()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(profile_toml(draft), encoding="utf-8")
    source = new_source(source_name, "files", {"folder": draft.folder, "mapping": str(path)})
    state.set_status(f"loading {draft.folder} through {path.name}")
    results = sync_sources(engine, [source], state)
    result = results[0]
    changes = changes_of(results) | Changes(outbox=True)  # a failed run is listed too
    return Outcome(MappedLoad(path, source, result), changes)
