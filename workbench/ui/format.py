"""How values read on screen: what a planner reads without translating (issue 18 §3).

One place for the display rules every table, label and detail view follows:

- **no raw values**: ``None``, ``nan``, ``NaN``, ``NaT`` read as an empty cell;
- **local times**: an ISO date-time (``2026-12-05T16:14:47``, the cache stores UTC without a
  zone) reads as local time ``2026-12-05 17:14`` (:func:`local_datetime`); a date stays a date;
- **no raw keys**: an internal reference such as ``work_order:WO-000026``, ``lot_size:…`` or
  Tryton's ``purchase.request,7`` reads as ``work order WO-000026``, ``purchase request 7``
  (:func:`readable`);
- **names beside codes**: an item, supplier or site column (``Col(names="item")``) shows
  ``CODE — Name`` from the cache's master data (:class:`workbench.app.names.DisplayNames`);
- **units beside quantities**: a quantity column (``Col(unit_of="item")``) shows the stock unit
  of the row's item after the number (``1,200 EA``).

The names and units are read once per window from the cache (``workbench.app.names``) and kept
here (:func:`set_names`); until they arrive, codes and numbers show alone. Qt-free on purpose:
the rules are tested without a window.
"""

from __future__ import annotations

import datetime as dt
import re

from workbench.app.names import DisplayNames, with_name

__all__ = ["DisplayNames", "local_datetime", "names", "quantity_with_unit", "readable",
           "set_names", "with_name"]

#: a value that means "nothing" and must never be shown as such
_RAW_NOTHING = frozenset({"None", "none", "nan", "NaN", "NaT", "null", "<NA>"})
_ISO_DATETIME = re.compile(r"\b(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?"
                           r"(Z|[+-]\d{2}:?\d{2})?")
#: ``kind:CODE`` references of the planning engine (pegging, evidence, exception elements)
_RAW_KEY = re.compile(r"\b([a-z]+(?:_[a-z]+)+|[a-z]{3,}s?):(?=[A-Z0-9])")
#: Tryton's ``model.name,id`` references
_TRYTON_REF = re.compile(r"\b([a-z]+)\.([a-z_]+),(\d+)\b")
#: the key kinds that read better in the singular
_SINGULAR = {"requisitions": "requisition", "items": "item", "demands": "demand",
             "purchase_order_lines": "PO line", "purchase_orders": "purchase order",
             "work_orders": "work order", "sites": "site", "suppliers": "supplier"}


def local_datetime(value: str | dt.datetime, *, seconds: bool = False) -> str:
    """``2026-12-05 17:14`` in the local time zone; an ISO text without zone is UTC."""
    when = value
    if isinstance(when, str):
        try:
            when = dt.datetime.fromisoformat(when.replace("Z", "+00:00"))
        except ValueError:
            return value if isinstance(value, str) else ""
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone().strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def _local(match: re.Match[str]) -> str:
    return local_datetime(match.group(0))


def _key(match: re.Match[str]) -> str:
    kind = match.group(1)
    return _SINGULAR.get(kind, kind.replace("_", " ")) + " "


def _tryton(match: re.Match[str]) -> str:
    return f"{match.group(1)} {match.group(2).replace('_', ' ')} {match.group(3)}"


def readable(text: str) -> str:
    """``text`` as a planner reads it: raw nothing blank, ISO date-times local, raw keys in
    words (module doc). Plain text comes back unchanged (and fast: most cells have no digit
    followed by "T" and no colon)."""
    if text in _RAW_NOTHING:
        return ""
    if "T" in text and "-" in text:
        text = _ISO_DATETIME.sub(_local, text)
    if ":" in text:
        text = _RAW_KEY.sub(_key, text)
    if "," in text and "." in text:
        text = _TRYTON_REF.sub(_tryton, text)
    return text


_names = DisplayNames()


def set_names(names: DisplayNames) -> None:
    """Keep the names the window read from its cache (every table formats with them)."""
    global _names
    _names = names


def names() -> DisplayNames:
    """The names of the cache on show (empty before the window read them)."""
    return _names


def quantity_with_unit(text: str, unit: str) -> str:
    """``1,200 EA``: a formatted quantity and its unit (the number alone without a unit or
    without a number)."""
    return f"{text} {unit}" if text and unit else text
