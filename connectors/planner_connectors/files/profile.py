"""Mapping profiles: how a plant's own exports (CSV, XLSX) become canonical records.

A profile is a TOML file (read with the standard library's :mod:`tomllib`), one per source. It
says, per canonical entity, which files or sheets to read, where the header row is, which column
fills which field, and how cells are read (numbers, dates, status words, codes). The format is
documented with examples in docs/mapping.md; a short one::

    [profile]
    source = "wms"            # the source the records are recorded under
    encoding = "cp1252"       # CSV only; left out: detected (UTF-8 with or without BOM, cp1252)
    delimiter = ";"           # CSV only; left out: detected from the header line
    decimal = ","             # decimal comma
    thousands = "."           # thousands separator
    date_formats = ["%d.%m.%Y"]

    [maps.site]               # a code map: another system's site codes -> ours
    "HH" = "HAM"

    [inventory]
    files = ["stock_*.csv"]   # glob patterns in the source folder (XLSX: `sheets = [...]`)
    header_row = 3
    [inventory.columns]       # column -> field
    "Artikel" = "item"
    "Lager" = "site"
    "Menge" = "quantity"
    [inventory.constants]     # a field every record gets, whatever the file says
    status = "available"
    [inventory.defaults]      # a field's value where the cell is empty
    uom = "EA"
    [inventory.values.status] # a value map: status words -> canonical values
    "frei" = "available"
    [inventory.codes.item]    # code transformations, applied in this order
    trim = true
    strip_leading_zeros = true
    case = "upper"
    prefix = ""
    suffix = ""
    map = "item"              # look the code up in [maps.item] ...
    xref = "WMS"              # ... or in the item cross-references of system WMS

An entity section with ``layout = "indented"`` reads an indented multi-level BOM (see
:mod:`planner_connectors.files.indented`).

Reading and checking a profile file is :mod:`planner_connectors.files.profile_file`: every problem
that can be found without data names the profile's file and line; what only the data shows (a
value the map misses, a file no pattern finds) is reported when reading, with the profile's line
too.
"""


from __future__ import annotations

import datetime as dt
import enum
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.connect.port import PermanentError
from workbench.domain.models import ENTITY_MODELS

#: pseudo-fields of an indented BOM row (see planner_connectors.files.indented)
INDENTED_FIELDS = (
    "level", "item", "revision", "quantity_per", "uom", "scrap_pct", "position",
    "alternate_group", "alternate_priority",
)
#: the entities an indented BOM section yields, and the prefixes of their extra fields
INDENTED_PREFIXES = {"item.": "items", "revision.": "bom_revisions"}


class ProfileError(PermanentError):
    """A profile that cannot be used as written; the message names its file and line."""


@dataclass(frozen=True)
class CodeRule:
    """How a code cell becomes our code: trim, strip leading zeros, case, prefix/suffix, then a
    lookup in a code map or the item cross-references of another system."""

    trim: bool = True
    strip_leading_zeros: bool = False
    case: str | None = None  # "upper" | "lower"
    prefix: str = ""
    suffix: str = ""
    map: str | None = None
    xref: str | None = None
    line: int = 0

    def apply(self, text: str) -> str:
        if self.trim:
            text = text.strip()
        if self.strip_leading_zeros:
            text = text.lstrip("0") or ("0" if text else "")
        if self.case == "upper":
            text = text.upper()
        elif self.case == "lower":
            text = text.lower()
        if text:
            text = f"{self.prefix}{text}{self.suffix}"
        return text


@dataclass(frozen=True)
class ValueMap:
    """Source words -> canonical values of one field (complete: a word it misses is an error)."""

    pairs: dict[str, str]
    line: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "_folded", {k.strip().casefold(): v for k, v in self.pairs.items()})
        object.__setattr__(self, "_targets", set(self.pairs.values()))

    def get(self, word: str) -> str | None:
        """The canonical value of ``word`` (case and surrounding blanks ignored); a word that is
        already one of the map's canonical values stands for itself; None when missing."""
        found: str | None = self._folded.get(word.strip().casefold())  # type: ignore[attr-defined]
        if found is None and word.strip() in self._targets:  # type: ignore[attr-defined]
            return word.strip()
        return found


@dataclass
class EntityMapping:
    """One entity section of a profile."""

    entity: str
    files: tuple[str, ...]
    sheets: tuple[str, ...] | None
    header_row: int
    columns: dict[str, str]
    constants: dict[str, str]
    defaults: dict[str, str]
    values: dict[str, ValueMap]
    codes: dict[str, CodeRule]
    layout: str
    reading: Reading
    line: int
    #: for each column, the profile line that maps it
    column_lines: dict[str, int] = field(default_factory=dict)
    indent: bool = False
    indent_width: int = 1
    default_revision: str | None = None
    #: rows giving the same record twice are one record (a header entity read from line rows)
    distinct: bool = False
    #: False: the section is read only for cross-references (item_xrefs), not loaded
    load: bool = True
    #: the section's path in the profile (``("items",)``, ``("item_xrefs", "1")``)
    at: tuple[str, ...] = ()

    def mapped_fields(self) -> set[str]:
        return set(self.columns.values()) | set(self.constants) | set(self.defaults)


@dataclass(frozen=True)
class Reading:
    """How cells are read: CSV encoding and delimiter (None: detected), numbers and dates."""

    encoding: str | None = None
    delimiter: str | None = None
    decimal: str = "."
    thousands: str = ""
    date_formats: tuple[str, ...] = ()


@dataclass
class Profile:
    path: Path
    text: str
    source: str | None
    maps: dict[str, dict[str, str]]
    xrefs: dict[str, dict[str, str]]
    #: per entity, its sections (``[[entity]]`` gives several, e.g. one per file layout)
    entities: dict[str, list[EntityMapping]]
    lines: dict[tuple[str, ...], int]

    def where(self, *path: str) -> str:
        """``profile.toml, line N`` for a key of the profile (its section's line if not found)."""
        for n in range(len(path), 0, -1):
            line = self.lines.get(tuple(path[:n]))
            if line:
                return f"{self.path.name}, line {line}"
        return self.path.name


# --- field kinds -------------------------------------------------------------------------


def field_kind(entity: str, name: str) -> tuple[str, tuple[str, ...]]:
    """How a cell of this field is read: ``text``, ``float``, ``int``, ``date``, ``datetime`` or
    ``enum`` (with the allowed values)."""
    info = ENTITY_MODELS[entity].model_fields[name]
    ann: Any = info.annotation
    if typing.get_origin(ann) in (typing.Union, types.UnionType):
        ann = next(a for a in typing.get_args(ann) if a is not type(None))
    if isinstance(ann, type) and issubclass(ann, enum.Enum):
        return "enum", tuple(str(m.value) for m in ann)
    if ann is dt.datetime:
        return "datetime", ()
    if ann is dt.date:
        return "date", ()
    if ann is bool:
        return "bool", ()
    if ann is int:
        return "int", ()
    if ann is float:
        return "float", ()
    return "text", ()


def entity_fields(entity: str, layout: str = "table") -> dict[str, str]:
    """The fields a section may fill, each with the entity whose field it is."""
    if layout == "indented":
        out = {f: "bom_lines" for f in INDENTED_FIELDS}
        for prefix, target in INDENTED_PREFIXES.items():
            out.update({f"{prefix}{f}": target for f in ENTITY_MODELS[target].model_fields
                        if f not in ("code", "parent", "revision")})
        return out
    return {f: entity for f in ENTITY_MODELS[entity].model_fields}


def target_of(name: str) -> tuple[str | None, str]:
    """For an indented BOM field: (the entity of a prefixed field, the plain field name)."""
    for prefix, target in INDENTED_PREFIXES.items():
        if name.startswith(prefix):
            return target, name[len(prefix):]
    return None, name
