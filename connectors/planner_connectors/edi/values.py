"""Reading the values of a message element: numbers, dates and times, each failure an EdiError."""

from __future__ import annotations

import datetime as dt
import math

from planner_connectors.edi.model import EdiError

#: the largest quantity a message may state (the canonical model's bound on every number)
MAX_QUANTITY = 1e15


def quantity(text: str, element: str, segment: int, decimal: str = ".") -> float:
    """A non-negative, finite quantity (``decimal``: the message's decimal mark)."""
    raw = text.strip()
    if decimal != ".":
        raw = raw.replace(decimal, ".")
    try:
        value = float(raw)
    except ValueError:
        raise EdiError(f"{text!r} is not a number", segment=segment, element=element,
                       expected="a quantity such as 120 or 12.5") from None
    if not math.isfinite(value) or value < 0 or value > MAX_QUANTITY or not raw[:1].isdigit():
        raise EdiError(f"quantity {text!r} out of range", segment=segment, element=element,
                       expected=f"a number from 0 to {MAX_QUANTITY:.0e}")
    return value


#: the full width of each date format's value
_LENGTHS = {"102": 8, "D8": 8, "203": 12, "204": 14, "D6": 6}


def date_time(text: str, fmt: str, element: str, segment: int) -> dt.datetime:
    """A date/time in EDIFACT format ``fmt`` (2379: 102 CCYYMMDD, 203 CCYYMMDDHHMM, 204
    CCYYMMDDHHMMSS) or X12's CCYYMMDD (``fmt`` "D8") / YYMMDD ("D6")."""
    layouts = {"102": "%Y%m%d", "D8": "%Y%m%d", "203": "%Y%m%d%H%M", "204": "%Y%m%d%H%M%S",
               "D6": "%y%m%d"}
    layout = layouts.get(fmt)
    if layout is None:
        raise EdiError(f"date format {fmt!r} not read", segment=segment, element=element,
                       expected="format 102, 203 or 204")
    value = text.strip()
    try:
        if not value.isdigit():
            raise ValueError(value)
        if len(value) == _LENGTHS.get(fmt) and fmt != "D6":
            # the usual full-width value: by slicing, as strptime reads it but 10x faster
            # (every other width goes through strptime, which also takes e.g. 2026121)
            return dt.datetime(int(value[:4]), int(value[4:6]), int(value[6:8]),
                               int(value[8:10] or 0), int(value[10:12] or 0),
                               int(value[12:14] or 0))
        return dt.datetime.strptime(value, layout)
    except ValueError:
        raise EdiError(f"{text!r} is not a date of format {fmt}", segment=segment,
                       element=element, expected=f"a date like {dt.date(2026, 12, 1).strftime(layout)}"
                       ) from None


def x12_time(date_text: str, time_text: str, element: str, segment: int) -> dt.datetime:
    """An X12 date (CCYYMMDD, or YYMMDD in ISA) with an optional HHMM[SS] time."""
    day = date_time(date_text, "D8" if len(date_text.strip()) == 8 else "D6", element, segment)
    t = time_text.strip()[:4]
    if not t:
        return day
    if len(t) != 4 or not t.isdigit() or int(t[:2]) > 23 or int(t[2:]) > 59:
        raise EdiError(f"{time_text!r} is not a time", segment=segment, element=element,
                       expected="HHMM")
    return day.replace(hour=int(t[:2]), minute=int(t[2:]))
