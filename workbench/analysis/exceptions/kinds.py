"""The exception kinds, their stable codes, default role and severity, and the message frame.

Codes are stable: a code once given to a kind is never reused for another (docs/exceptions.md
lists every kind with its trigger, formula and a worked example). A message's identity is its
kind and its element (:func:`message_key`), so the same cause keeps its identity across plans.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.analysis.data import NO_DATE


@dataclass(frozen=True)
class Kind:
    code: str
    name: str
    role: str  # default role; some rules choose per message (a work order goes to the planner)
    severity: str  # high, medium, low
    title: str


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("E01", "reschedule_in", "buyer", "high", "reschedule in"),
    Kind("E02", "reschedule_out", "buyer", "low", "reschedule out"),
    Kind("E03", "cancel", "buyer", "medium", "cancel: no need in the horizon"),
    Kind("E04", "reduce", "buyer", "low", "reduce: more than needed"),
    Kind("E05", "increase", "buyer", "medium", "increase: more needed in its bucket"),
    Kind("E06", "release_past_due", "planner", "high", "planned order release date passed"),
    Kind("E07", "order_past_due", "buyer", "high", "firm order past due"),
    Kind("E08", "below_safety_stock", "planner", "medium",
         "projected below safety stock within lead time"),
    Kind("E09", "demand_late", "planner", "high", "demand cannot be met on time"),
    Kind("E10", "confirmation_missing", "buyer", "medium", "supplier confirmation missing"),
    Kind("E11", "confirmation_differs", "buyer", "medium",
         "supplier confirmation differs from the request"),
    Kind("E12", "ship_notice_mismatch", "buyer", "medium", "ship notice does not match its line"),
    Kind("E13", "revision_conflict", "engineering", "medium",
         "open supply of a component the revision in force no longer uses"),
    Kind("E14", "draft_revision_pending", "engineering", "low",
         "draft revision awaiting release while orders are open against another"),
    Kind("E15", "data_problem", "data_steward", "high", "source data that cannot be right"),
)}
CODES: dict[str, str] = {k.code: k.name for k in KINDS.values()}
ROLES = ("planner", "buyer", "engineering", "data_steward")
SEVERITIES = ("high", "medium", "low")

#: The columns of a message frame, in order (dates as datetime64, NaT when not applicable).
#: key: kind|element (the identity); element_type: purchase_order_line, work_order,
#: planned_order, demand, item_site, revision, record; quantity: the element's open quantity
#: in the item's stock unit; suggested_quantity/suggested_date: the advice (NaN/NaT: none);
#: days: how many days early/late/overdue (see each kind); endangers: list of
#: {peg, due_date, quantity} of the top-level demands the element serves (pegging; a rule's
#: own frame holds None there until :func:`workbench.analysis.exceptions.compute_exceptions`
#: fills every message's list at once)
MESSAGE_COLUMNS: tuple[str, ...] = (
    "key", "code", "kind", "severity", "role", "element", "element_type", "item", "site",
    "supplier", "due_date", "need_date", "suggested_date", "quantity", "suggested_quantity",
    "days", "reason", "endangers",
)
#: The name columns :func:`workbench.analysis.exceptions.name_messages` adds.
NAME_COLUMNS: tuple[str, ...] = (
    "item_description", "unit", "site_name", "supplier_name", "planner", "buyer")


def message_key(kind: str, element: str) -> str:
    """A message's stable identity: kind and element (``reschedule_in|PO-1/2``)."""
    return f"{kind}|{element}"


def dates(days: Any) -> np.ndarray:
    """Day numbers as datetime64[s], NaT for :data:`NO_DATE`."""
    arr = np.asarray(days, dtype=np.int64)
    out = arr.astype("datetime64[D]").astype("datetime64[s]")
    out[arr == NO_DATE] = np.datetime64("NaT")
    return out


def frame(kind: str, n: int, columns: Mapping[str, Any]) -> pd.DataFrame:
    """A message frame of ``n`` messages of ``kind``: ``columns`` given (day numbers under
    ``due_day``, ``need_day``, ``suggested_day``), the rest defaulted."""
    return as_frame(message_columns(kind, n, columns))


def as_frame(columns: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """The message frame of :func:`message_columns`' arrays: :data:`MESSAGE_COLUMNS` in order
    (text columns inferred as pandas' ``str``), then the hidden ones (``_row`` ...) as given."""
    n = len(columns["key"])
    # no copy: the arrays are the frame's own (made for it; pandas' str arrays as they are)
    out = pd.DataFrame({c: columns[c] for c in MESSAGE_COLUMNS}, index=pd.RangeIndex(n),
                       copy=False)
    for name, value in columns.items():
        if name.startswith("_"):
            out[name] = value
    return out


def message_columns(kind: str, n: int, columns: Mapping[str, Any]) -> dict[str, Any]:
    """The arrays of :func:`frame` before they become a frame: every one of
    :data:`MESSAGE_COLUMNS` (text as object arrays, dates as datetime64[s], numbers as float,
    ``endangers`` a list), then the hidden columns given (names starting with ``_``) as they
    are. :func:`workbench.analysis.exceptions.compute_exceptions` puts every rule's arrays
    together and makes one frame, after the order is known."""
    spec = KINDS[kind]
    out: dict[str, Any] = {}
    for name in MESSAGE_COLUMNS:
        if name in columns:
            value = columns[name]
        elif name in ("due_date", "need_date", "suggested_date"):
            value = dates(columns.get(name.replace("_date", "_day"), np.full(n, NO_DATE)))
        elif name in ("quantity", "suggested_quantity", "days"):
            value = np.full(n, np.nan)
        elif name == "endangers":
            value = [None] * n  # filled once for every message at the end
        elif name == "code":
            value = spec.code
        elif name == "kind":
            value = kind
        elif name == "severity":
            value = spec.severity
        elif name == "role":
            value = spec.role
        elif name == "key":
            continue
        else:
            value = ""
        if name == "endangers":
            out[name] = list(value)
        elif name in ("quantity", "suggested_quantity", "days"):
            out[name] = np.broadcast_to(np.asarray(value, float), (n,)).copy()
        elif name in ("due_date", "need_date", "suggested_date"):
            out[name] = np.broadcast_to(np.asarray(value), (n,)).copy()
        else:  # text: one shared object for a constant, object arrays as they are
            out[name] = _texts(value, n)
    joined = _joined(kind, out["element"])  # every key a str: pandas' str array as it is
    out["key"] = str_array(joined) if joined is not None else _keys(kind, out["element"])
    hidden = {name: value for name, value in columns.items() if name.startswith("_")}
    return {**{c: out[c] for c in MESSAGE_COLUMNS}, **hidden}


def _keys(kind: str, elements: np.ndarray) -> np.ndarray:
    """``kind|element`` per message (:func:`message_key`) as an object array; ``str``
    elements joined in one list comprehension (the same texts as the pandas string
    concatenation, which serves any other element; no check of every element's type first:
    that alone took as long as the joining, 40 ms for 242k messages)."""
    joined = _joined(kind, elements)
    if joined is not None:
        return joined
    return (kind + "|" + pd.Series(elements, dtype=object).astype(str)).to_numpy()


def _joined(kind: str, elements: Any) -> np.ndarray | None:
    """``kind|element`` of every element as an object array when every element is a
    ``str`` (else None)."""
    prefix = kind + "|"
    try:  # a text that is not a str (None, a number) stops the comprehension
        return np.array([prefix + e for e in elements.tolist()], dtype=object)
    except TypeError:
        return None


def _texts(value: Any, n: int) -> np.ndarray:
    """A text column as an object array: a constant is one object ``n`` times (no fixed-width
    array of ``n`` copies for the frame to turn into ``n`` strings again: a third of the time
    the rules took on the large demo), a sequence its items (fixed-width arrays as str)."""
    if isinstance(value, str) or np.ndim(value) == 0:
        # fill, not np.full: np.full makes the text a unicode array and n new str of it
        out = np.empty(n, dtype=object)
        out.fill(value.item() if isinstance(value, np.generic) else value)
        return str_array(out) if isinstance(out[0] if n else None, str) else out
    if isinstance(value, pd.api.extensions.ExtensionArray) and value.dtype == STR:
        return value  # texts known to be str (:func:`str_array`)
    arr = np.asarray(value) if not isinstance(value, np.ndarray) else value
    if arr.dtype.kind == "U":
        return str_array(arr.astype(object))  # every element a str
    return arr if arr.dtype == object else arr.astype(object)


#: the dtype pandas infers for a column of texts (``str`` from pandas 3 on)
STR = pd.Series(np.array(["x"], dtype=object)).dtype


def str_array(values: np.ndarray) -> Any:
    """An object array of ``str`` only (none missing, at least one) as the array pandas
    infers for it (``str``: the same objects, not copied), so a frame takes it as it is: no
    inference, no copy of every element (the frames' construction was most of what the
    rules spent). Empty, or where pandas infers no text dtype: the array as it is."""
    if len(values) and STR != np.dtype(object):
        return pd.array(values, dtype=STR, copy=False)
    return values


def choice(flag: Any, if_false: str, if_true: str) -> np.ndarray:
    """``np.where(flag, if_true, if_false)`` for two texts as an object array of the two
    shared strings (no fixed-width array, no string per row)."""
    return np.array([if_false, if_true], dtype=object)[np.asarray(flag, bool).astype(np.intp)]


def empty() -> pd.DataFrame:
    return frame("data_problem", 0, {})


@dataclass(frozen=True)
class ExceptionSettings:
    """Tolerances and horizons of the exception rules (planning settings; defaults stated
    here and in docs/exceptions.md; ``workbench.services.settings.PlanningDefaults`` stores
    them, the CLI overrides them)."""

    #: a firm receipt due more than this many days after its need is rescheduled in (E01)
    reschedule_in_tolerance_days: int = 0
    #: a firm receipt due more than this many days before its need is rescheduled out (E02)
    reschedule_out_tolerance_days: int = 7
    #: an order more than this many days overdue is past due (E07)
    past_due_tolerance_days: int = 0
    #: a sent PO line without an acknowledgement this many days after its order date (E10)
    confirmation_days: int = 5
    #: a promise this many days or less from the requested date still matches it (E11)
    confirmation_tolerance_days: int = 0
    #: a ship notice arriving this many days or less after the line's due date matches (E12)
    ship_notice_tolerance_days: int = 0
    #: a ship notice quantity within this percentage of the open quantity matches (E12)
    ship_notice_tolerance_pct: float = 0.0
    #: endangered top-level demands listed per message (largest quantity first)
    max_endangered: int = 10
