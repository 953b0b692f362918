"""Reading one cell of a plant export into a canonical field's value, as the profile says.

Each mapped column gets one converter, chosen once per table (:func:`cell_reader`), so a row
costs one call per cell. A converter returns the value, ``None`` for an empty cell, or raises
:class:`CellError` with the reason a person can act on. The order for every cell:

1. the cell as text (XLSX numbers and dates arrive typed and skip the text steps they need not);
2. code rules of the field (trim, strip leading zeros, case, prefix/suffix, then a code map or
   another system's item cross-reference);
3. the field's value map (a word the map misses is an error naming the map's profile line);
4. the field's type: numbers with the profile's decimal sign and thousands separator, dates in
   the profile's formats (ISO dates always read; an XLSX date cell is a date whatever its
   display; a number in a date column is an Excel serial day), enums checked against their values.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from typing import Any

from planner_connectors.files.profile import CodeRule, Profile, Reading, ValueMap, field_kind

CellReader = Callable[[Any], Any]
_EXCEL_EPOCH = dt.date(1899, 12, 30)


class CellError(ValueError):
    """A cell that cannot become the field's value; the message is the reason."""


def as_text(cell: Any) -> str:
    if isinstance(cell, str):
        return cell
    if isinstance(cell, bool):
        return "true" if cell else "false"
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, dt.datetime):
        return cell.isoformat(sep=" ")
    if isinstance(cell, dt.date):
        return cell.isoformat()
    return "" if cell is None else str(cell)


def number_parser(reading: Reading) -> Callable[[str], float]:
    """Text to a number with the profile's decimal sign and thousands separator; a separator in
    the wrong place (``1.2.3`` with decimal comma) is refused, never guessed. A trailing minus
    (``12,5-``, as SAP writes it) is a negative number."""
    dec = reading.decimal
    sep = " " if reading.thousands == "\u00a0" else reading.thousands
    grouped = re.compile(
        r"[+-]?\d{1,3}(?:" + re.escape(sep) + r"\d{3})+(?:" + re.escape(dec) + r"\d*)?$"
    ) if sep else None

    def parse(text: str) -> float:
        t = text.strip().replace("\u00a0", " ")
        if len(t) > 1 and t.endswith("-") and t[0] not in "+-":
            t = "-" + t[:-1]
        if sep and grouped is not None and sep in t:
            if not grouped.match(t):
                raise CellError(_bad_number(text, reading))
            t = t.replace(sep, "")
        if dec == ",":
            if "." in t:
                raise CellError(_bad_number(text, reading))
            t = t.replace(",", ".")
        elif "," in t:
            raise CellError(_bad_number(text, reading))
        try:
            value = float(t)
        except ValueError:
            raise CellError(_bad_number(text, reading)) from None
        if value != value or value in (float("inf"), float("-inf")):
            raise CellError(f"{text.strip()!r} is not a finite number")
        return value

    return parse


def _bad_number(text: str, reading: Reading) -> str:
    sep = f", thousands {reading.thousands!r}" if reading.thousands else ", no thousands separator"
    return f"{text!r} is not a number (decimal {reading.decimal!r}{sep}, as the profile says)"


def date_parser(reading: Reading, with_time: bool) -> Callable[[Any], Any]:
    formats = reading.date_formats

    def parse(cell: Any) -> Any:
        if isinstance(cell, dt.datetime):
            return cell if with_time else cell.date()
        if isinstance(cell, dt.date):
            return dt.datetime.combine(cell, dt.time()) if with_time else cell
        if isinstance(cell, (int, float)) and not isinstance(cell, bool):
            if not 1 <= cell <= 2_958_465:
                raise CellError(f"{cell!r} is not a date (nor an Excel day number)")
            moment = dt.datetime.combine(_EXCEL_EPOCH, dt.time()) + dt.timedelta(days=float(cell))
            return moment if with_time else moment.date()
        text = cell.strip()
        for fmt in formats:
            try:
                parsed = dt.datetime.strptime(text, fmt)
            except ValueError:
                continue
            return parsed if with_time else parsed.date()
        try:
            return dt.datetime.fromisoformat(text) if with_time else dt.date.fromisoformat(text)
        except ValueError:
            shown = ", ".join(formats) if formats else "none given"
            raise CellError(f"{text!r} is not a date in the profile's formats ({shown}) "
                            "nor ISO (2026-12-31)") from None

    return parse


def code_lookup(rule: CodeRule, profile: Profile, xrefs: dict[str, dict[str, str]],
                field: str) -> Callable[[str], str]:
    """The code rule of a field as one function (transform, then map or cross-reference)."""
    table: dict[str, str] | None = None
    missing = ""
    if rule.map is not None:
        table = profile.maps[rule.map]
        missing = (f"is not in the code map [maps.{rule.map}] ({profile.path.name}, "
                   f"line {profile.lines.get(('maps', rule.map), rule.line)})")
    elif rule.xref is not None:
        table = xrefs.get(rule.xref, {})
        missing = (f"has no cross-reference of system {rule.xref!r} (item_xrefs of this source, "
                   f"[xrefs.{rule.xref}] in {profile.path.name}, line {rule.line}, or one item "
                   "in the cache's cross-references)")

    def apply(text: str) -> str:
        code = rule.apply(text)
        if table is not None and code:
            found = table.get(code)
            if found is None:
                raise CellError(f"code {code!r} {missing}")
            return found
        return code

    return apply


def value_lookup(vmap: ValueMap, profile: Profile, field: str) -> Callable[[str], str]:
    shown = ", ".join(list(vmap.pairs)[:8]) + (", ..." if len(vmap.pairs) > 8 else "")

    def apply(text: str) -> str:
        found = vmap.get(text)
        if found is None:
            raise CellError(f"value {text.strip()!r} is not in the value map of {field} "
                            f"({profile.path.name}, line {vmap.line}: {shown}); add it there")
        return found

    return apply


def cell_reader(entity: str, field: str, reading: Reading, profile: Profile,
                code: CodeRule | None, vmap: ValueMap | None,
                xrefs: dict[str, dict[str, str]]) -> CellReader:
    """The converter of one mapped column (see the module doc for the steps)."""
    kind, allowed = field_kind(entity, field) if field in _fields(entity) else ("text", ())
    to_code = code_lookup(code, profile, xrefs, field) if code else None
    to_value = value_lookup(vmap, profile, field) if vmap else None
    if kind in ("float", "int"):
        return _number_reader(reading, kind == "int", to_value)
    if kind in ("date", "datetime"):
        return _date_reader(reading, kind == "datetime", to_value)
    return _text_reader(entity, field, allowed, to_code, to_value)


def _number_reader(reading: Reading, integral: bool, to_value: Callable[[str], str] | None) -> CellReader:
    """Numbers: a spreadsheet's number as it is, text through the value map, then the reading's
    number format; an int field refuses a fraction."""
    number = number_parser(reading)

    def read_number(cell: Any) -> Any:
        if isinstance(cell, (int, float)) and not isinstance(cell, bool):
            value = float(cell)
        else:
            text = as_text(cell)
            if not text.strip():
                return None
            if to_value:
                text = to_value(text)
            value = number(text)
        if integral:
            if not value.is_integer():
                raise CellError(f"{as_text(cell)!r} is not a whole number")
            return int(value)
        return value

    return read_number


def _date_reader(reading: Reading, with_time: bool, to_value: Callable[[str], str] | None) -> CellReader:
    """Dates: text through the value map, then the reading's date format (a spreadsheet's date as
    it is)."""
    parse_date = date_parser(reading, with_time)

    def read_date(cell: Any) -> Any:
        if isinstance(cell, str):
            if not cell.strip():
                return None
            if to_value:
                cell = to_value(cell)
        return parse_date(cell)

    return read_date


def _text_reader(entity: str, field: str, allowed: tuple[str, ...],
                 to_code: Callable[[str], str] | None, to_value: Callable[[str], str] | None) -> CellReader:
    """Text: the code rule, stripped, the value map, then (for an enum field) one of the allowed
    values, matched without case and with spaces for underscores."""

    def read_text(cell: Any) -> Any:
        text = as_text(cell)
        if to_code:
            text = to_code(text)
        text = text.strip()  # as the canonical model does with every text
        if not text:
            return None
        if to_value:
            text = to_value(text)
        if allowed:
            text = text.strip()
            if text not in allowed:
                folded = text.casefold()
                match = next((a for a in allowed if a == folded or a == folded.replace(" ", "_")),
                             None)
                if match is None:
                    raise CellError(f"unknown value {text!r} (one of: {', '.join(allowed)}); "
                                    f"map it in [{entity}.values.{field}]")
                text = match
        return text

    return read_text


def _fields(entity: str) -> dict[str, Any]:
    from workbench.domain.models import ENTITY_MODELS

    return ENTITY_MODELS[entity].model_fields


def constant_value(entity: str, field: str, value: str, reading: Reading) -> Any:
    """A constant or default of the profile as the field's value (checked at load already)."""
    kind, _ = field_kind(entity, field) if field in _fields(entity) else ("text", ())
    if kind == "float":
        return float(value)
    if kind == "int":
        return int(value)
    return value


class Bad:
    """A cell that could not be read (the reason), in a converted column."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


_MISS = object()


class Column:
    """A cell reader applied to a whole column at once, each distinct cell read only once (a
    unit, a status word, a component code repeats on many rows): the speed of mapped reading.

    :meth:`convert` gives, per cell, the value, ``default`` for an empty cell (None: not
    given) or a :class:`Bad` with the reason."""

    def __init__(self, read: CellReader, default: Any = None) -> None:
        self.read = read
        self.default = default
        self.memo: dict[Any, Any] = {}
        #: some cell could not be read (a Bad is in a converted column)
        self.bad = False

    def _miss(self, cell: Any) -> Any:
        try:
            value = self.read(cell)
        except CellError as exc:
            value = Bad(str(exc))
            self.bad = True
        if value is None:
            value = self.default
        try:
            self.memo[cell] = value
        except TypeError:  # an unhashable cell (none from CSV or calamine): not remembered
            pass
        return value

    def convert(self, cells: Sequence[Any]) -> list[Any]:
        memo = self.memo
        try:
            for cell in set(cells).difference(memo):  # each distinct new cell read once
                self._miss(cell)
            return list(map(memo.__getitem__, cells))  # then looked up at C speed
        except TypeError:  # an unhashable cell (none from CSV or calamine): one at a time
            get, miss = memo.get, self._miss
            return [v if (v := get(c, _MISS)) is not _MISS else miss(c) for c in cells]
