"""Mapping profiles as use cases: inspect a folder of exports, suggest a profile, check one.

The steps an import wizard (or a person with a text editor) goes through, each a plain function
with a typed result, no Qt and no cache:

1. :func:`inspect_folder` — every file and sheet of a folder with its header, sample rows and
   the canonical field each column seems to be (by name and label);
2. :func:`suggest_profile` — a draft profile (TOML text) from those matches, to adjust;
3. :func:`check_mapping` — the profile read against the folder: the first rows as canonical
   records per entity and every problem (profile errors with file and line, rejected rows with
   file, sheet, row, column and reason, values a value map misses), touching no cache;
4. saving is writing the text; loading is an ordinary sync of a files source with
   ``mapping=PROFILE`` (:func:`workbench.services.sync.run_sync`), atomic like every sync.

The profile format: docs/mapping.md. The engine is the files connector's, reached through the
connector registry (``mapping_tools`` of the ``files`` connector class).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.connect.port import PermanentError, get_connector_class
from workbench.domain.models import ENTITY_MODELS
from workbench.domain.validation import RecordError

#: other names plants give a canonical field (compared without case, spaces or punctuation)
SYNONYMS: dict[str, tuple[str, ...]] = {
    "code": ("partno", "partnumber", "itemno", "itemnumber", "itemcode", "article", "artikel",
             "artikelnr", "material", "materialno", "materialnumber", "sku", "number"),
    "item": ("partno", "partnumber", "itemno", "itemnumber", "itemcode", "article", "artikel",
             "artikelnr", "material", "materialno", "sku", "component"),
    "description": ("desc", "bezeichnung", "text", "materialdescription", "itemdescription"),
    "stock_uom": ("uom", "unit", "baseunit", "me", "einheit", "unitofmeasure"),
    "uom": ("unit", "me", "einheit", "unitofmeasure", "orderunit"),
    "make_buy": ("makebuy", "makeorbuy", "procurement", "procurementtype", "beschaffungsart"),
    "lead_time_days": ("leadtime", "leadtimedays", "lt", "wbz", "wiederbeschaffungszeit"),
    "safety_stock": ("safetystock", "sicherheitsbestand", "ss"),
    "standard_cost": ("stdcost", "standardcost", "cost", "unitcost", "standardpreis"),
    "quantity": ("qty", "menge", "onhand", "qtyonhand", "stock", "bestand"),
    "quantity_per": ("qty", "qtyper", "quantity", "menge", "qtyperassembly"),
    "quantity_ordered": ("qty", "qtyordered", "orderqty", "orderedqty", "bestellmenge", "quantity"),
    "quantity_received": ("qtyreceived", "receivedqty", "received", "gelieferte menge"),
    "site": ("plant", "werk", "sitecode", "facility"),
    "location": ("storagelocation", "lagerort", "bin", "warehouse", "lager", "sloc"),
    "lot": ("batch", "charge", "lotnumber", "lotno"),
    "status": ("state", "stockstatus", "orderstatus"),
    "supplier": ("vendor", "lieferant", "vendorno", "suppliercode", "vendorcode"),
    "purchase_order": ("ponumber", "pono", "po", "order", "bestellung", "purchaseorder"),
    "line": ("itemno", "poitem", "lineno", "position", "pos", "linenumber"),
    "unit_price": ("price", "netprice", "preis", "nettopreis"),
    "requested_date": ("reqdate", "requesteddate", "deliverydate", "needdate", "liefertermin"),
    "promised_date": ("confdate", "confirmeddate", "promisedate", "bestaetigt"),
    "as_of": ("date", "stand", "asof", "snapshotdate"),
    "due_date": ("duedate", "date", "termin"),
    "revision": ("rev", "revision", "version", "index", "aenderungsstand"),
    "scrap_pct": ("scrap", "scrappct", "scrappercent", "ausschuss"),
    "position": ("findno", "findnumber", "pos", "position", "itemno"),
    "level": ("level", "lvl", "stufe", "ebene", "bomlevel"),
    "external_code": ("externalcode", "othercode", "fremdnummer"),
}


def _tools() -> Any:
    """The files connector's profile engine (through the registry, like every connector: its
    ``mapping_tools``)."""
    tools = get_connector_class("files").mapping_tools
    if tools is None:
        raise PermanentError("the installed files connector reads no mapping profiles")
    return tools


def _norm(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.casefold())


@dataclass
class FileColumns:
    """One table of the folder (a CSV file or a sheet) and what its columns seem to be."""

    file: str
    sheet: str | None
    label: str
    header_row: int
    columns: list[str]
    samples: list[list[str]]
    entity: str | None
    layout: str
    #: column -> the canonical field it matched (unmatched columns are absent)
    matches: dict[str, str]
    encoding: str | None = None
    delimiter: str | None = None
    decimal: str = "."
    #: the thousands separator the samples show ("" none)
    thousands: str = ""


@dataclass
class EntityPreview:
    entity: str
    records: list[dict[str, Any]] = field(default_factory=list)
    read: int = 0
    rejected: list[RecordError] = field(default_factory=list)


@dataclass
class MappingCheck:
    """What :func:`check_mapping` found: previews per entity and every problem, in words."""

    profile: str
    folder: str
    entities: list[EntityPreview] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "folder": self.folder,
            "ok": self.ok,
            "entities": [
                {"entity": p.entity, "read": p.read, "rejected": len(p.rejected),
                 "records": p.records}
                for p in self.entities
            ],
            "problems": self.problems,
        }


def _labels(field_name: str) -> set[str]:
    return {_norm(field_name), *(_norm(s) for s in SYNONYMS.get(field_name, ()))}


def match_columns(header: list[str]) -> tuple[str | None, str, dict[str, str]]:
    """The entity a header most likely holds, its layout and column -> field matches.

    A column matches a field by its name or a label in :data:`SYNONYMS`; the entity whose
    required fields are best covered wins (a level column means an indented BOM)."""
    named = [h for h in header if h]
    if any(_norm(h) in _labels("level") for h in named):
        bom = ("level", "item", "revision", "quantity_per", "uom", "scrap_pct", "position")
        return "bom_lines", "indented", _match(named, bom)
    best: tuple[float, str | None, dict[str, str]] = (0.0, None, {})
    for entity, model in ENTITY_MODELS.items():
        fields = tuple(f for f in model.model_fields if f not in ("source", "source_key",
                                                                  "source_version"))
        matches = _match(named, fields)
        required = [f for f, info in model.model_fields.items() if info.is_required()]
        covered = sum(1 for f in required if f in matches.values())
        score = len(matches) + 2 * covered - 2 * (len(required) - covered)
        if matches and score > best[0]:
            best = (score, entity, matches)
    return best[1], "table", best[2]


def _match(columns: list[str], fields: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    taken: set[str] = set()
    for exact in (True, False):
        for column in columns:
            if column in out:
                continue
            key = _norm(column)
            for f in fields:
                if f in taken:
                    continue
                if (key == _norm(f)) if exact else (key in _labels(f)):
                    out[column] = f
                    taken.add(f)
                    break
    return out


def _text(cell: Any) -> str:
    return str(_tools().as_text(cell))


def _decimal_of(samples: list[list[str]]) -> str:
    """The decimal sign the sample numbers use: ``1,5`` or ``1.234,5`` say comma, ``1.5`` or
    ``1,234.5`` say point (``1.250`` says nothing)."""
    comma_re = re.compile(r"-?(\d+,\d{1,2}|\d{1,3}(\.\d{3})+,\d*|\d+,\d{4,})")
    point_re = re.compile(r"-?(\d+\.\d{1,2}|\d{1,3}(,\d{3})+\.\d*|\d+\.\d{4,})")
    comma = sum(1 for row in samples for c in row if comma_re.fullmatch(c.strip()))
    point = sum(1 for row in samples for c in row if point_re.fullmatch(c.strip()))
    return "," if comma > point else "."


def _thousands_of(samples: list[list[str]], decimal: str) -> str:
    """The thousands separator the sample numbers use with ``decimal`` (``1,250.50`` says ``,``
    with a decimal point, ``1.234,5`` says ``.`` with a decimal comma); "" when none shows."""
    sep = "," if decimal == "." else "."
    grouped = re.compile(r"-?\d{1,3}(" + re.escape(sep) + r"\d{3})+(" + re.escape(decimal) + r"\d*)?")
    found = any(grouped.fullmatch(c.strip()) for row in samples for c in row)
    return sep if found or decimal == "," else ""


def inspect_folder(folder: str | Path, sample_rows: int = 5,
                   files: list[str] | None = None) -> list[FileColumns]:
    """Every CSV file and sheet of ``folder`` (or only the ``files`` named, in that folder):
    header (the first non-blank row), samples and suggested matches."""
    tools = _tools()
    folder = Path(folder)
    out: list[FileColumns] = []
    paths = sorted(folder.iterdir()) if files is None else [folder / f for f in files]
    for path in paths:
        if not path.is_file() or path.suffix.lower() not in (*tools.SPREADSHEETS, ".csv", ".txt",
                                                             ".tsv"):
            continue
        try:
            tables: list[Any] = list(tools.read_tables(path, ("*",), 1, tools.Reading()))
        except PermanentError as exc:
            out.append(FileColumns(path.name, None, f"{path.name} ({exc})", 1, [], [], None,
                                   "table", {}))
            continue
        for table in tables:
            header_row, header, rows = _first_header(table, sample_rows)
            entity, layout, matches = match_columns(header)
            sheet = table.label.split(", sheet ", 1)[1].strip("'") if ", sheet " in table.label else None
            out.append(FileColumns(
                path.name, sheet, table.label, header_row, header, rows, entity, layout, matches,
                table.encoding, table.delimiter, _decimal_of(rows),
            ))
            out[-1].thousands = _thousands_of(rows, out[-1].decimal)
    return out


def _first_header(table: Any, sample_rows: int) -> tuple[int, list[str], list[list[str]]]:
    """Title lines above the header are common: the header is the first row with at least two
    named cells (or the table's first row)."""
    header, header_row = table.header, table.header_row
    samples: list[list[str]] = []
    if sum(1 for h in header if h) < 2:
        for number, cells in table.rows:
            texts = [_text(c).strip() for c in cells]
            if sum(1 for t in texts if t) >= 2:
                header, header_row = texts, number
                break
    for _, cells in table.rows:
        samples.append([_text(c) for c in cells])
        if len(samples) >= sample_rows:
            break
    return header_row, header, samples


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def suggest_profile(folder: str | Path) -> str:
    """A draft profile (TOML) for the exports in ``folder``: each table's columns matched to
    canonical fields by name and label. Check every line, then ``workbench mapping check``."""
    folder = Path(folder)
    tables = inspect_folder(folder)
    lines = [
        f"# Mapping profile drafted by `workbench mapping suggest {folder}`.",
        "# Columns were matched by name; check each line, fill what is marked TODO, then run",
        "# `workbench mapping check PROFILE DIR` to see the first rows as canonical records.",
        "",
        "[profile]",
        f"source = {_q(folder.name or 'files')}",
    ]
    for t in tables:
        if t.entity is None:
            lines += ["", f"# {t.label}: no column matched a canonical field; not mapped"]
            continue
        head = f"[[{t.entity}]]" if sum(1 for x in tables if x.entity == t.entity) > 1 else f"[{t.entity}]"
        lines += ["", head, f"files = [{_q(t.file)}]"]
        if t.sheet is not None:
            lines.append(f"sheets = [{_q(t.sheet)}]")
        if t.header_row != 1:
            lines.append(f"header_row = {t.header_row}")
        if t.layout == "indented":
            lines.append('layout = "indented"')
        if t.encoding:
            lines.append(f"encoding = {_q(t.encoding.replace('-sig', ''))}")
        if t.delimiter and t.delimiter != ",":
            lines.append(f"delimiter = {_q(t.delimiter)}")
        if t.decimal == ",":
            lines.append('decimal = ","')
        if t.thousands:
            lines.append(f"thousands = {_q(t.thousands)}")
        lines.append(f"[{t.entity}.columns]")
        for column in t.columns:
            if not column:
                continue
            if column in t.matches:
                lines.append(f"{_q(column)} = {_q(t.matches[column])}")
            else:
                lines.append(f"# {_q(column)} = \"\"   # not matched")
        lines += _todo_required(t)
    return "\n".join(lines) + "\n"


def _todo_required(t: FileColumns) -> list[str]:
    assert t.entity is not None
    if t.layout == "indented":
        required = ["level", "item", "quantity_per"]
    else:
        model = ENTITY_MODELS[t.entity]
        required = [f for f, info in model.model_fields.items() if info.is_required()]
    missing = [f for f in required if f not in t.matches.values()]
    return [f"# TODO: required field {f} has no column: map one above or add [{t.entity}.constants]"
            for f in missing]


def check_mapping(profile: str | Path, folder: str | Path, rows: int = 5,
                  cache: str | Path | None = None) -> MappingCheck:
    """Read every row of ``folder`` through ``profile`` without touching any cache: the first
    ``rows`` canonical records per entity and every problem found. ``cache``: its item
    cross-references are also used by ``xref`` rules, as a sync into it does (read only)."""
    result = MappingCheck(str(profile), str(folder))
    folder = Path(folder)
    if not folder.is_dir():
        result.problems.append(f"{folder} is not a folder")
        return result
    tools = _tools()
    try:
        source = tools.MappedSource(folder, tools.load_profile(profile), "files", cache=cache)
    except tools.ProfileError as exc:
        result.problems.append(str(exc))
        return result
    for entity in source.entities():
        preview = EntityPreview(entity)
        result.entities.append(preview)
        try:
            for chunk in source.chunks(entity, 20_000):
                preview.read += len(chunk.records) + len(chunk.rejected)
                if len(preview.records) < rows:
                    preview.records.extend(_plain(r) for r in chunk.records[: rows - len(preview.records)])
                preview.rejected.extend(chunk.rejected)
        except PermanentError as exc:
            result.problems.append(f"{entity}: {exc}")
            continue
        result.problems.extend(f"{entity}: {e}" for e in preview.rejected)
    return result


def _plain(record: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in record.items()}


def canonical_profile(folder: str | Path) -> str:
    """A profile reading a canonical data package as plant exports (each ``<entity>.csv`` with
    its columns mapped to the fields of the same name): the mapped reader's reference point,
    and a start for a plant whose exports are close to the canonical layout."""
    from workbench.domain.models import ENTITIES

    folder = Path(folder)
    lines = ["[profile]", 'encoding = "utf-8"', 'delimiter = ","']
    for entity in ENTITIES:
        path = folder / f"{entity}.csv"
        if not path.is_file():
            continue
        header = path.read_text(encoding="utf-8-sig").splitlines()[0].split(",")
        lines += ["", f"[{entity}]", f"files = [{_q(path.name)}]", f"[{entity}.columns]"]
        lines += [f"{_q(h.strip())} = {_q(h.strip())}" for h in header if h.strip()]
    return "\n".join(lines) + "\n"
