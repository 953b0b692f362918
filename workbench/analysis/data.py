"""The planning engine's input: one DataFrame per cache entity, columns named as in the cache.

Services build a :class:`PlanningData` from the cache; tests build it from hand-written rows or
from canonical records (:meth:`PlanningData.from_records`). Either way :meth:`PlanningData.normalised`
gives every frame all of its columns with one dtype per kind of field (dates as ``datetime64``,
quantities as float, codes as str with ``""`` for missing), so the analysis code never has to
guess what a cache or a test handed it. Quantities are in the item's stock unit, as the cache
keeps them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import types
import typing
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.domain.models import ENTITY_MODELS, Record

#: Entities the planning engine reads (``purchase_orders`` only for order dates in slippage).
PLANNING_ENTITIES: tuple[str, ...] = (
    "items",
    "bom_revisions",
    "bom_lines",
    "inventory",
    "demands",
    "work_orders",
    "work_order_components",
    "purchase_orders",
    "purchase_order_lines",
    "promise_changes",
    "requisitions",
    "suppliers",
)

#: Day number used for a missing date in integer date arrays (far before any real date).
NO_DATE = np.iinfo(np.int64).min // 4


def _kind(annotation: Any) -> str:
    """'date', 'datetime', 'float', 'int' or 'str' for a pydantic field annotation."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _kind(args[0])
    if origin in (typing.Union, types.UnionType):
        return _kind(next(a for a in args if a is not type(None)))
    if annotation is dt.datetime:
        return "datetime"
    if annotation is dt.date:
        return "date"
    if annotation is float:
        return "float"
    if annotation is int or annotation is bool:
        return "int"
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return "str"
    return "str"


def column_kinds(entity: str) -> dict[str, str]:
    """Cache column name -> kind, following the cache's naming (``uom`` kept as ``orig_uom``)."""
    model = ENTITY_MODELS[entity]
    kinds: dict[str, str] = {}
    for name, info in model.model_fields.items():
        if name == "uom":
            continue
        kinds[name] = _kind(info.annotation)
    if model.quantity_fields:
        kinds["orig_uom"] = "str"
        for q in model.quantity_fields:
            kinds[f"orig_{q}"] = "float"
    if entity == "promise_changes":
        kinds["origin"] = "str"
    return kinds


_EMPTY_DTYPE = {"date": "datetime64[s]", "datetime": "datetime64[s]", "float": "float64",
                "int": "int64", "str": object}


def _default(entity: str, column: str) -> Any:
    model = ENTITY_MODELS[entity]
    info = model.model_fields.get(column)
    if info is None or info.is_required() or info.default is None:
        return None
    value = info.default
    return value.value if isinstance(value, enum.Enum) else value


def normalise_frame(entity: str, frame: pd.DataFrame | Mapping[str, Any] | None,
                    omit: Iterable[str] = ()) -> pd.DataFrame:
    """All cache columns of ``entity`` (but ``omit``) with one dtype per kind; missing columns
    get the default. ``frame`` may also be a mapping of column name to array (a bulk load)."""
    frame = pd.DataFrame() if frame is None else frame
    out: dict[str, Any] = {}
    n = len(frame) if isinstance(frame, pd.DataFrame) else \
        len(next(iter(frame.values()))) if len(frame) else 0
    if n == 0:
        return pd.DataFrame({c: pd.Series(dtype=_EMPTY_DTYPE[k])
                             for c, k in column_kinds(entity).items() if c not in omit})
    index = pd.RangeIndex(n)
    for column, kind in column_kinds(entity).items():
        if column in omit:
            continue
        default = _default(entity, column)
        if column in frame:
            values = frame[column]
        else:
            values = np.array([default] * n, dtype=object)
        if kind in ("date", "datetime"):
            out[column] = pd.Series(_dates(values, kind), index=index)
        elif kind == "float":
            numbers = _numbers(values)
            _refuse_infinite(entity, column, numbers)
            if default is not None:
                numbers = np.where(np.isnan(numbers), default, numbers)
            out[column] = pd.Series(numbers, index=index, dtype="float64")
        elif kind == "int":
            numbers = _numbers(values)
            _refuse_infinite(entity, column, numbers)
            numbers = np.where(np.isnan(numbers), default or 0, numbers)
            out[column] = pd.Series(numbers.astype("int64"), index=index)
        else:
            text = np.asarray(values.to_numpy(dtype=object) if isinstance(values, pd.Series)
                              else values, dtype=object)
            missing = pd.isna(text)
            if missing.any():
                text = text.copy()
                text[missing] = default or ""
            out[column] = pd.Series(text, index=index, dtype=str)
    return pd.DataFrame(out, index=index)


class NonFiniteNumber(ValueError):
    """A planning frame holds an infinite number: planning refuses it rather than plan NaN."""


def _refuse_infinite(entity: str, column: str, numbers: np.ndarray) -> None:
    """Every number a plan uses is finite: the canonical model refuses ``inf``/``NaN`` from any
    connector, and a value that reached the cache another way stops the load here, named
    (NaN cannot be told from a missing value, which takes the column's default)."""
    bad = np.flatnonzero(np.isinf(numbers))
    if len(bad):
        raise NonFiniteNumber(
            f"{entity}.{column} holds {len(bad)} infinite value{'s' if len(bad) > 1 else ''} "
            f"(first in row {bad[0] + 1} of {len(numbers)}): planning refuses non-finite "
            "numbers; correct the source and sync again"
        )


def _numbers(values: Any) -> np.ndarray:
    """Float64 of numbers, NaN for missing or unreadable values (as ``pd.to_numeric`` with
    ``errors="coerce"``, without its per-value pass when the values already are numbers)."""
    if isinstance(values, pd.Series) and values.dtype.kind in "fiub":
        return values.to_numpy(dtype=float)
    try:
        return _by_distinct(values, lambda v: np.asarray(v, dtype=float), np.nan)  # None: NaN
    except (TypeError, ValueError):
        return pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)


def _by_distinct(values: Any, convert: Any, missing: Any) -> np.ndarray:
    """``convert`` applied to the distinct values of an object array only (a bulk load's text
    columns repeat the same few str objects), ``missing`` where a value is missing."""
    codes, distinct = pd.factorize(np.asarray(values, dtype=object))
    converted = convert(np.asarray(distinct, dtype=object))
    out = converted[np.maximum(codes, 0)] if len(converted) else \
        np.full(len(codes), missing, dtype=converted.dtype)
    out[codes < 0] = missing
    return out


def _dates(values: Any, kind: str) -> np.ndarray:
    """datetime64[s] (days only for a date), NaT for missing or unreadable values.

    ISO text and date/datetime objects are read by numpy in one C pass; anything numpy declines
    or warns about (time zones, other spellings) goes through ``pd.to_datetime`` as before.
    """
    if isinstance(values, pd.Series) and values.dtype.kind == "M":
        parsed = values.to_numpy().astype("datetime64[s]")
    else:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                parsed = _by_distinct(values, lambda v: np.asarray(v, dtype="datetime64[s]"),
                                      np.datetime64("NaT"))
        except (TypeError, ValueError, OverflowError, Warning):
            parsed = pd.to_datetime(pd.Series(values), errors="coerce", format="mixed")
            parsed = parsed.to_numpy().astype("datetime64[s]")
    if kind == "date":
        parsed = parsed.astype("datetime64[D]").astype("datetime64[s]")
    return parsed


@dataclass
class PlanningData:
    """The cache frames planning reads; every frame has the cache's columns for its entity."""

    items: pd.DataFrame = field(default_factory=pd.DataFrame)
    bom_revisions: pd.DataFrame = field(default_factory=pd.DataFrame)
    bom_lines: pd.DataFrame = field(default_factory=pd.DataFrame)
    inventory: pd.DataFrame = field(default_factory=pd.DataFrame)
    demands: pd.DataFrame = field(default_factory=pd.DataFrame)
    work_orders: pd.DataFrame = field(default_factory=pd.DataFrame)
    work_order_components: pd.DataFrame = field(default_factory=pd.DataFrame)
    purchase_orders: pd.DataFrame = field(default_factory=pd.DataFrame)
    purchase_order_lines: pd.DataFrame = field(default_factory=pd.DataFrame)
    promise_changes: pd.DataFrame = field(default_factory=pd.DataFrame)
    requisitions: pd.DataFrame = field(default_factory=pd.DataFrame)
    suppliers: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: derived arrays (item numbering, coded BOM lines) computed once per set of frames; each
    #: entry checks the identity of the frames it came from, so :meth:`replace` may share them
    _derived: dict[str, tuple[tuple[object, ...], Any]] = field(
        default_factory=dict, init=False, repr=False, compare=False)

    def derived(self, name: str, frames: tuple[object, ...], build: Any) -> Any:
        """``build()``, computed once while ``frames`` are the very same objects.

        Planning numbers item codes and codes the 2M BOM lines once per load instead of on every
        plan, where-used graph or what-if (string hashing dominated the large-demo profile).
        Frames are treated as immutable once handed to the engine.
        """
        hit = self._derived.get(name)
        if hit is not None and len(hit[0]) == len(frames) and \
                all(a is b for a, b in zip(hit[0], frames)):
            return hit[1]
        value = build()
        self._derived[name] = (frames, value)
        return value

    def normalised(self, omit: Mapping[str, Iterable[str]] | None = None) -> PlanningData:
        """A copy whose frames all have every cache column (but those ``omit`` names per
        entity), typed (see module doc)."""
        omit = omit or {}
        return PlanningData(**{name: normalise_frame(name, getattr(self, name), omit.get(name, ()))
                               for name in PLANNING_ENTITIES})

    def replace(self, **frames: pd.DataFrame) -> PlanningData:
        copy = dataclasses.replace(self, **frames)
        copy._derived.update(self._derived)  # safe: entries check the identity of their frames
        return copy

    @classmethod
    def from_rows(cls, **rows: Iterable[dict[str, Any]]) -> PlanningData:
        """Build from plain dict rows per entity (cache column names), normalised."""
        unknown = set(rows) - set(PLANNING_ENTITIES)
        if unknown:
            raise ValueError(f"not planning entities: {sorted(unknown)}")
        return cls(**{k: pd.DataFrame(list(v)) for k, v in rows.items()}).normalised()

    @classmethod
    def from_records(cls, records: Iterable[Record]) -> PlanningData:
        """Build from canonical records whose quantities are already in the stock unit.

        The unit a record states becomes ``orig_uom`` and every quantity is copied into its
        ``orig_`` column, as the cache would store a record that needed no conversion.
        """
        rows: dict[str, list[dict[str, Any]]] = {}
        for record in records:
            if record.entity not in PLANNING_ENTITIES:
                continue
            row = record.model_dump(mode="python")
            if "uom" in row:
                row["orig_uom"] = row.pop("uom")
            for q in record.quantity_fields:
                row[f"orig_{q}"] = row[q]
            rows.setdefault(record.entity, []).append(row)
        return cls.from_rows(**rows)


#: Code columns numbered when planning prepares (item numbering, revision codes of the lines):
#: a bulk load hands over the numbering it already did for them (see :func:`seed_codes`).
CODE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("items", "code"), ("bom_lines", "parent"), ("bom_lines", "component"),
    ("bom_lines", "revision"), ("bom_revisions", "parent"), ("inventory", "item"),
    ("demands", "item"), ("work_orders", "item"), ("work_order_components", "component"),
    ("purchase_order_lines", "item"), ("requisitions", "item"),
)


def column_codes(data: PlanningData, entity: str, column: str) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize`` of one code column (numbers in order of first appearance, the distinct
    codes), computed once per frame unless a bulk load seeded it (:func:`seed_codes`)."""
    frame = getattr(data, entity)
    return data.derived(
        f"codes:{entity}.{column}", (frame,),
        lambda: pd.factorize(frame[column].astype(str).to_numpy(object)))


def seed_codes(data: PlanningData, entity: str, column: str, ids: np.ndarray) -> None:
    """Record that ``ids`` number ``data``'s ``entity.column`` in order of first appearance
    (equal numbers for equal values; two numbers may share a value, they are merged here), so
    :func:`column_codes` does not hash the column again."""
    frame = getattr(data, entity)
    if len(ids) == 0:
        return
    first = np.flatnonzero(np.concatenate([[True], ids[1:] > np.maximum.accumulate(ids)[:-1]]))
    merged, distinct = pd.factorize(frame[column].astype(str).to_numpy(object)[first])
    # int32 numbers when they fit (always, below 2**31 distinct codes): the large demo's seeded
    # columns hold 35 MiB less than as intp (issue 16 §3); readers index with them or add
    # them to int64 arrays, which numpy does alike
    if len(distinct) < 2**31 - 1:
        merged = merged.astype(np.int32)
    data._derived[f"codes:{entity}.{column}"] = ((frame,), (merged[ids], distinct))


def factorize_codes(values: np.ndarray | Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize`` of object arrays of str codes numbered as if concatenated (numbers in
    order of first appearance, the distinct codes); see :func:`combine_codes`."""
    parts = [values] if isinstance(values, np.ndarray) else list(values)
    ids, distinct = combine_codes([pd.factorize(np.asarray(p, dtype=object)) for p in parts])
    return (np.concatenate(ids) if ids else np.zeros(0, np.intp)), distinct


def combine_codes(local: Sequence[tuple[np.ndarray, Any]]) -> tuple[list[np.ndarray], np.ndarray]:
    """One numbering of several factorized arrays, as if they were factorized concatenated:
    (numbers per array, the distinct codes).

    Only the distinct codes are numbered together, so millions of objects are never hashed or
    concatenated twice. Order of first appearance is kept: each array's distinct codes come in
    the order they first appear in it.
    """
    if not local:
        return [], np.zeros(0, object)
    numbers, distinct = pd.factorize(np.concatenate([np.asarray(u, dtype=object)
                                                     for _, u in local]))
    offsets = np.cumsum([0] + [len(u) for _, u in local])
    ids = [np.where(codes >= 0, numbers[np.maximum(codes, 0) + offsets[k]], -1)
           if len(numbers) else codes for k, (codes, _) in enumerate(local)]
    return ids, np.asarray(distinct, dtype=object)


class CodeLookup:
    """Position of codes in a fixed list of distinct codes (``pd.Index.get_indexer``), looking
    up each distinct value once (see :func:`factorize_codes`)."""

    def __init__(self, codes: np.ndarray):
        self.index = pd.Index(np.asarray(codes, dtype=object), dtype=object)
        # pandas builds an index's hash table on its first lookup: do it now, with the
        # numbering, rather than in the first question asked (0.1 s for 200k codes)
        self.index.get_indexer(self.index[:1])

    def __call__(self, values: np.ndarray) -> np.ndarray:
        """Positions of ``values`` (-1 for a code not listed)."""
        codes, distinct = pd.factorize(np.asarray(values, dtype=object))
        found = self.index.get_indexer(pd.Index(np.asarray(distinct, dtype=object), dtype=object))
        if len(found) == 0:
            return np.full(len(codes), -1, np.intp)
        return np.where(codes >= 0, found[np.maximum(codes, 0)], -1)


_trim: Any = None


def release_free_memory() -> None:
    """Give the heap pages freed by a large step back to the operating system (glibc's
    ``malloc_trim``; nothing where there is none).

    Preparing the large demo's planning data allocates and frees ~250 MiB of temporary arrays
    and frames in blocks below glibc's (dynamic) mmap threshold: freed, they stay in the
    process's heap, counted in its resident memory, and later steps reuse only part of them
    (issue 16 §3: max RSS after the where-used graph and one impact 1.74 -> 1.68 GiB with a
    trim after preparation; the trim itself takes milliseconds)."""
    global _trim
    if _trim is None:
        _trim = False
        try:
            import ctypes
            import sys

            if sys.platform.startswith("linux"):
                _trim = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):  # not glibc: nothing to trim
            _trim = False
    if _trim:
        _trim(0)


def day_numbers(values: pd.Series | np.ndarray) -> np.ndarray:
    """Dates as int64 days since 1970-01-01; a missing date becomes :data:`NO_DATE`."""
    arr = np.asarray(values, dtype="datetime64[D]")
    days = arr.astype(np.int64)
    days[np.isnat(arr)] = NO_DATE
    return days


def day_number(date: dt.date) -> int:
    return int(np.datetime64(date, "D").astype(np.int64))


def date_of(day: int) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(days=int(day))
