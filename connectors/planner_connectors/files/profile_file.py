"""Reading a mapping profile file: TOML text to a checked :class:`~planner_connectors.files.profile.Profile`.

:func:`load_profile` checks everything that can be checked without data and raises
:class:`~planner_connectors.files.profile.ProfileError` naming the profile's file and line
(:func:`line_index` finds where each key is written): unknown sections, keys and fields, a
required field no column, constant or default fills, a value map or constant giving a value the
field cannot take, a field filled twice. The format is in docs/mapping.md.
"""

from __future__ import annotations

import re
import tomllib
import typing
from pathlib import Path
from typing import Any

from planner_connectors.files.profile import (
    CodeRule,
    EntityMapping,
    Profile,
    ProfileError,
    Reading,
    ValueMap,
    entity_fields,
    field_kind,
    target_of,
)
from workbench.domain.models import ENTITY_MODELS

_PROFILE_KEYS = {"source", "encoding", "delimiter", "decimal", "thousands", "date_formats", "name"}
_READING_KEYS = {"encoding", "delimiter", "decimal", "thousands", "date_formats"}
_ENTITY_KEYS = _READING_KEYS | {
    "files", "sheets", "header_row", "columns", "constants", "defaults", "values", "codes",
    "layout", "indent", "indent_width", "default_revision", "distinct", "load",
}
_CODE_KEYS = {"trim", "strip_leading_zeros", "case", "prefix", "suffix", "map", "xref"}


# --- where each key is written ------------------------------------------------------------


_KEY_PART = re.compile(r'\s*(?:"((?:[^"\\]|\\.)*)"|\'([^\']*)\'|([A-Za-z0-9_\-]+))\s*')


def _split_key(text: str) -> tuple[list[str], str] | None:
    """The dotted key at the start of ``text`` and the rest after it, or None."""
    parts: list[str] = []
    pos = 0
    while True:
        m = _KEY_PART.match(text, pos)
        if not m or m.end() == pos:
            return None
        raw = m.group(1)
        parts.append(raw.encode().decode("unicode_escape") if raw is not None and "\\" in raw
                     else (raw if raw is not None else (m.group(2) if m.group(2) is not None
                                                        else m.group(3))))
        pos = m.end()
        if text[pos:pos + 1] == ".":
            pos += 1
            continue
        return parts, text[pos:]


def line_index(text: str) -> dict[tuple[str, ...], int]:
    """The line of each table header and key of a TOML text (as tomllib would read it; keys in
    inline tables take the line of the key holding the table)."""
    lines: dict[tuple[str, ...], int] = {}
    table: list[str] = []
    counts: dict[tuple[str, ...], int] = {}
    in_multiline = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if in_multiline:
            if line.count('"""') % 2 == 1 or line.count("'''") % 2 == 1:
                in_multiline = False
            continue
        if not line or line.startswith("#"):
            continue
        if line.startswith("[["):
            found = _split_key(line[2:])
            if found:
                path = tuple(found[0])
                counts[path] = counts.get(path, -1) + 1
                table = [*path, str(counts[path])]
                lines.setdefault(tuple(table), number)
            continue
        if line.startswith("["):
            found = _split_key(line[1:])
            if found:
                table = found[0]
                lines.setdefault(tuple(table), number)
            continue
        found = _split_key(line)
        if found and found[1].lstrip().startswith("="):
            lines.setdefault((*table, *found[0]), number)
            value = found[1].lstrip()[1:].strip()
            if value.startswith(('"""', "'''")) and value.count(value[:3]) == 1:
                in_multiline = True
    return lines


# --- loading -----------------------------------------------------------------------------


def load_profile(path: str | Path) -> Profile:
    """Read and check a profile; :class:`ProfileError` names the file and line of a problem."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ProfileError(f"mapping profile {path} cannot be read ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ProfileError(f"{path.name}: a mapping profile is UTF-8 text") from None
    return parse_profile(text, path)


def parse_profile(text: str, path: Path) -> Profile:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path.name}: not valid TOML ({exc})") from None
    lines = line_index(text)
    profile = Profile(path, text, None, {}, {}, {}, lines)

    def fail(where: tuple[str, ...], message: str) -> typing.NoReturn:
        raise ProfileError(f"{profile.where(*where)}: {message}")

    head = data.get("profile", {})
    _expect_table(head, ("profile",), fail)
    for key in head:
        if key not in _PROFILE_KEYS:
            fail(("profile", key), f"unknown key {key!r} in [profile] "
                                   f"(known: {', '.join(sorted(_PROFILE_KEYS))})")
    profile.source = _text(head, "source", ("profile",), fail)
    base = _reading(head, Reading(), ("profile",), fail)
    for name, pairs in data.get("maps", {}).items():
        _expect_table(pairs, ("maps", name), fail)
        profile.maps[name] = {str(k): _plain(v, ("maps", name, k), fail) for k, v in pairs.items()}
    for system, pairs in data.get("xrefs", {}).items():
        _expect_table(pairs, ("xrefs", system), fail)
        profile.xrefs[system] = {str(k): _plain(v, ("xrefs", system, k), fail)
                                 for k, v in pairs.items()}
    for name, section in data.items():
        if name in ("profile", "maps", "xrefs"):
            continue
        if name not in ENTITY_MODELS:
            fail((name,), f"unknown section [{name}]; an entity section is one of "
                          f"{', '.join(ENTITY_MODELS)} (or [profile], [maps.NAME], [xrefs.SYSTEM])")
        if isinstance(section, list):  # [[entity]]: several sections of one entity
            profile.entities[name] = [
                _entity(name, sub, base, profile, fail, (name, str(i)))
                for i, sub in enumerate(section)
            ]
            continue
        _expect_table(section, (name,), fail)
        profile.entities[name] = [_entity(name, section, base, profile, fail, (name,))]
    if not profile.entities:
        raise ProfileError(f"{path.name}: the profile maps no entity (add a section such as [items])")
    return profile


Fail = typing.Callable[[tuple[str, ...], str], typing.NoReturn]


def _expect_table(value: Any, where: tuple[str, ...], fail: Fail) -> None:
    if not isinstance(value, dict):
        fail(where, f"[{'.'.join(where)}] must be a table of keys and values")


def _plain(value: Any, where: tuple[str, ...], fail: Fail) -> str:
    if isinstance(value, (dict, list)):
        fail(where, f"{'.'.join(where)} must be a single value, not a table or list")
    return str(value).lower() if isinstance(value, bool) else str(value)


def _text(section: dict[str, Any], key: str, where: tuple[str, ...], fail: Fail) -> str | None:
    if key not in section:
        return None
    value = section[key]
    if not isinstance(value, str):
        fail((*where, key), f"{key} must be text in quotes")
    return value


def _reading(section: dict[str, Any], base: Reading, where: tuple[str, ...], fail: Fail) -> Reading:
    encoding = _text(section, "encoding", where, fail) or base.encoding
    if encoding is not None:
        import codecs

        try:
            codecs.lookup(encoding)
        except LookupError:
            fail((*where, "encoding"), f"unknown encoding {encoding!r} (e.g. utf-8, cp1252)")
    delimiter = _text(section, "delimiter", where, fail) or base.delimiter
    if delimiter is not None and len(delimiter) != 1:
        fail((*where, "delimiter"), f"delimiter must be one character, not {delimiter!r}")
    decimal = _text(section, "decimal", where, fail) or base.decimal
    if decimal not in (".", ","):
        fail((*where, "decimal"), f"decimal must be \".\" or \",\", not {decimal!r}")
    thousands = _text(section, "thousands", where, fail)
    thousands = base.thousands if thousands is None else thousands
    if thousands not in ("", ".", ",", " ", "'", "\u00a0"):
        fail((*where, "thousands"), f"thousands must be one of . , ' or a space, not {thousands!r}")
    if thousands and thousands == decimal:
        fail((*where, "thousands"), f"thousands separator and decimal sign are both {decimal!r}")
    formats = section.get("date_formats")
    if formats is None:
        date_formats = base.date_formats
    else:
        if isinstance(formats, str):
            formats = [formats]
        if not isinstance(formats, list) or not all(isinstance(f, str) for f in formats):
            fail((*where, "date_formats"), "date_formats must be a list of formats like \"%d.%m.%Y\"")
        for f in formats:
            if "%" not in f:
                fail((*where, "date_formats"),
                     f"date format {f!r} has no % directive (e.g. \"%d.%m.%Y\" for 31.12.2026)")
        date_formats = tuple(formats)
    return Reading(encoding, delimiter, decimal, thousands, date_formats)


def _entity(
    entity: str, section: dict[str, Any], base: Reading, profile: Profile, fail: Fail,
    at: tuple[str, ...],
) -> EntityMapping:
    """One entity section, checked in the order a reader meets its keys: the section's keys, layout,
    files and sheets, header row, columns, constants and defaults, value maps, code rules, then
    each constant and mapped value against its field, the layout's own keys and the flags."""
    _expect_table(section, at, fail)
    for key in section:
        if key not in _ENTITY_KEYS:
            fail((*at, key), f"unknown key {key!r} in [{entity}] "
                                f"(known: {', '.join(sorted(_ENTITY_KEYS))})")
    layout = _layout(entity, section, at, fail)
    files, sheets = _files_and_sheets(entity, section, at, fail)
    header_row = section.get("header_row", 1)
    if not isinstance(header_row, int) or isinstance(header_row, bool) or header_row < 1:
        fail((*at, "header_row"), f"header_row must be a row number from 1, not {header_row!r}")
    known = entity_fields(entity, layout)

    def check_field(name: str, where: tuple[str, ...]) -> str:
        if name not in known:
            fail(where, f"unknown field {name!r} of {entity} (fields: {', '.join(known)})")
        return name

    columns, column_lines, seen = _columns(section, at, profile, check_field, fail)
    constants, defaults = _constants_and_defaults(section, at, seen, check_field, fail)
    values = _value_maps(section, at, profile, check_field, fail)
    codes: dict[str, CodeRule] = {}
    code_table = section.get("codes", {})
    _expect_table(code_table, (*at, "codes"), fail)
    for name, rule in code_table.items():
        where = (*at, "codes", name)
        check_field(name, where)
        _expect_table(rule, where, fail)
        codes[name] = _code_rule(rule, where, profile, fail)
    for name, value in [*constants.items(), *defaults.items()]:
        _check_value(entity, layout, name, value, (*at, "constants", name), fail)
    for name, vmap in values.items():
        for word, value in vmap.pairs.items():
            _check_value(entity, layout, name, value, (*at, "values", name, word), fail)
    mapping = EntityMapping(
        entity, tuple(files), tuple(sheets) if sheets else None, header_row, columns, constants,
        defaults, values, codes, layout, _reading(section, base, at, fail),
        profile.lines.get(at, 0), column_lines,
    )
    if layout == "indented":
        _indented_keys(mapping, section, at, fail)
    mapping.at = at
    _flags(mapping, section, at, fail)
    _check_required(mapping, fail)
    return mapping


CheckField = typing.Callable[[str, tuple[str, ...]], str]


def _layout(entity: str, section: dict[str, Any], at: tuple[str, ...], fail: Fail) -> str:
    layout = _text(section, "layout", at, fail) or "table"
    if layout not in ("table", "indented"):
        fail((*at, "layout"), f"layout must be \"table\" or \"indented\", not {layout!r}")
    if layout == "indented" and entity != "bom_lines":
        fail((*at, "layout"), "only [bom_lines] can have layout = \"indented\"")
    return layout


def _files_and_sheets(entity: str, section: dict[str, Any], at: tuple[str, ...], fail: Fail
                      ) -> tuple[list[str], list[str] | None]:
    """``files`` (required; one name or pattern or a list) and ``sheets`` (optional, likewise)."""
    files = section.get("files")
    if isinstance(files, str):
        files = [files]
    if not files or not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        fail((*at, "files") if "files" in section else at,
             f"[{entity}] needs files = [\"name or pattern\", ...] (files of the source folder)")
    sheets = section.get("sheets")
    if isinstance(sheets, str):
        sheets = [sheets]
    if sheets is not None and (not isinstance(sheets, list)
                               or not all(isinstance(s, str) for s in sheets)):
        fail((*at, "sheets"), "sheets must be a list of sheet names (\"*\": every sheet)")
    return files, sheets


def _columns(section: dict[str, Any], at: tuple[str, ...], profile: Profile, check_field: CheckField,
             fail: Fail) -> tuple[dict[str, str], dict[str, int], dict[str, str]]:
    """``[ENTITY.columns]``: column -> field, the profile line of each column, and field -> column
    (a field filled by two columns is refused)."""
    columns: dict[str, str] = {}
    column_lines: dict[str, int] = {}
    seen: dict[str, str] = {}
    cols = section.get("columns", {})
    _expect_table(cols, (*at, "columns"), fail)
    for column, name in cols.items():
        where = (*at, "columns", column)
        if not isinstance(name, str):
            fail(where, f"column {column!r} must name a field in quotes")
        check_field(name, where)
        if name in seen:
            fail(where, f"field {name!r} is filled by two columns, {seen[name]!r} and {column!r}")
        seen[name] = column
        columns[column.strip()] = name
        column_lines[column.strip()] = profile.lines.get(where, profile.lines.get(at, 0))
    return columns, column_lines, seen


def _constants_and_defaults(section: dict[str, Any], at: tuple[str, ...], seen: dict[str, str],
                            check_field: CheckField, fail: Fail) -> tuple[dict[str, str], dict[str, str]]:
    """``[ENTITY.constants]`` and ``[ENTITY.defaults]`` (a constant for a mapped column is refused)."""
    constants: dict[str, str] = {}
    defaults: dict[str, str] = {}
    for kind, out in (("constants", constants), ("defaults", defaults)):
        table = section.get(kind, {})
        _expect_table(table, (*at, kind), fail)
        for name, value in table.items():
            where = (*at, kind, name)
            check_field(name, where)
            if kind == "constants" and name in seen:
                fail(where, f"field {name!r} has a constant and a column ({seen[name]!r}); keep one")
            out[name] = _plain(value, where, fail)
    return constants, defaults


def _value_maps(section: dict[str, Any], at: tuple[str, ...], profile: Profile, check_field: CheckField,
                fail: Fail) -> dict[str, ValueMap]:
    """``[ENTITY.values.FIELD]``: the plant's words for a field's values."""
    values: dict[str, ValueMap] = {}
    vals = section.get("values", {})
    _expect_table(vals, (*at, "values"), fail)
    for name, pairs in vals.items():
        where = (*at, "values", name)
        check_field(name, where)
        _expect_table(pairs, where, fail)
        values[name] = ValueMap({str(k): _plain(v, (*where, k), fail) for k, v in pairs.items()},
                                profile.lines.get(where, 0))
    return values


def _indented_keys(mapping: EntityMapping, section: dict[str, Any], at: tuple[str, ...], fail: Fail) -> None:
    """The keys of ``layout = "indented"``: indent, indent_width, default_revision."""
    mapping.indent = bool(section.get("indent", False))
    width = section.get("indent_width", 1)
    if not isinstance(width, int) or isinstance(width, bool) or width < 1:
        fail((*at, "indent_width"), "indent_width must be a whole number from 1")
    mapping.indent_width = width
    mapping.default_revision = _text(section, "default_revision", at, fail)


def _flags(mapping: EntityMapping, section: dict[str, Any], at: tuple[str, ...], fail: Fail) -> None:
    """``distinct`` (default false) and ``load`` (default true; false only for [[item_xrefs]])."""
    for flag in ("distinct", "load"):
        value = section.get(flag, flag == "load")
        if not isinstance(value, bool):
            fail((*at, flag), f"{flag} must be true or false")
        setattr(mapping, flag, value)
    if not mapping.load and mapping.entity != "item_xrefs":
        fail((*at, "load"), "load = false is for [[item_xrefs]] sections read only to look codes up")


def _code_rule(rule: dict[str, Any], where: tuple[str, ...], profile: Profile, fail: Fail) -> CodeRule:
    for key in rule:
        if key not in _CODE_KEYS:
            fail((*where, key), f"unknown code rule {key!r} (known: {', '.join(sorted(_CODE_KEYS))})")
    case = rule.get("case")
    if case not in (None, "upper", "lower"):
        fail((*where, "case"), f"case must be \"upper\" or \"lower\", not {case!r}")
    map_name = rule.get("map")
    if map_name is not None and map_name not in profile.maps:
        fail((*where, "map"), f"no code map [maps.{map_name}] in the profile "
                              f"(maps: {', '.join(profile.maps) or 'none'})")
    for flag in ("trim", "strip_leading_zeros"):
        if flag in rule and not isinstance(rule[flag], bool):
            fail((*where, flag), f"{flag} must be true or false")
    for text_key in ("prefix", "suffix", "xref"):
        if text_key in rule and not isinstance(rule[text_key], str):
            fail((*where, text_key), f"{text_key} must be text in quotes")
    return CodeRule(
        trim=rule.get("trim", True), strip_leading_zeros=rule.get("strip_leading_zeros", False),
        case=case, prefix=rule.get("prefix", ""), suffix=rule.get("suffix", ""), map=map_name,
        xref=rule.get("xref"), line=profile.lines.get(where, 0),
    )


def _check_value(entity: str, layout: str, name: str, value: str, where: tuple[str, ...],
                 fail: Fail) -> None:
    """A constant, default or value-map target must be a value the field can take."""
    target, plain = target_of(name) if layout == "indented" else (entity, name)
    if target is None:
        target = "bom_lines"
    if plain not in ENTITY_MODELS[target].model_fields:
        return  # indented pseudo-fields (level, item, revision) are text
    kind, allowed = field_kind(target, plain)
    if kind == "enum" and value not in allowed:
        fail(where, f"{value!r} is not a value of {name} (one of: {', '.join(allowed)})")


def _check_required(mapping: EntityMapping, fail: Fail) -> None:
    """Every required field of the entity must be filled by a column, a constant or a default."""
    given = mapping.mapped_fields()
    if mapping.layout == "indented":
        required = ["item", "quantity_per"] + ([] if mapping.indent else ["level"])
    else:
        model = ENTITY_MODELS[mapping.entity]
        required = [n for n, info in model.model_fields.items() if info.is_required()]
    missing = [f for f in required if f not in given]
    if missing:
        hint = (" (or indent = true to read the level from the item column's indentation)"
                if "level" in missing else "")
        fail((*mapping.at, "columns") if mapping.columns else mapping.at,
             f"required field{'s' if len(missing) > 1 else ''} {', '.join(missing)} of "
             f"{mapping.entity} not mapped: give a column, a constant or a default{hint}")
