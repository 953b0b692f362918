"""Entity tables held column-wise, handed to the sync one batch of columns at a time.

The generator works on numpy arrays (item *indices*, day *offsets*, status *codes*); a batch's
columns only exist while it is in flight, so even the large plant's millions of records never sit
in memory as Python objects at once. Numbers go out as numpy arrays (the sync checks them in
numpy: :func:`workbench.domain.validation.validate_columns`), codes, words and dates as lists
drawn from their small tables (the same objects over and over, which the validation checks once
per distinct value); no dict per record (:class:`workbench.connect.port.ColumnBatch` makes
records only when asked).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from itertools import islice, repeat
from typing import Any, Protocol

import numpy as np

from planner_connectors.demo.clock import version
from workbench.domain.models import ENTITY_MODELS

SOURCE = "demo"
_SOURCE_FIELDS = ("source", "source_key", "source_version")


#: which rows of a table to take: positions, or a slice for a contiguous run
Rows = np.ndarray | slice


class Column(Protocol):
    def take(self, rows: Rows) -> Iterable[Any]: ...


class Values:
    """Numbers (or Python objects) stored directly: numbers go out as a numpy array, anything
    else as a list."""

    def __init__(self, data: np.ndarray) -> None:
        self.data = data

    def take(self, rows: Rows) -> Iterable[Any]:
        taken = self.data[rows]
        return taken if taken.dtype.kind in "fi" else taken.tolist()


class Lookup:
    """Values drawn from a small table (codes, dates, status words) by an index array."""

    def __init__(self, table: np.ndarray | list[Any], index: np.ndarray) -> None:
        self.table = np.asarray(table, dtype=object)
        self.index = index

    def take(self, rows: Rows) -> Iterable[Any]:
        return self.table[self.index[rows]].tolist()


class Const:
    def __init__(self, value: Any) -> None:
        self.value = value

    def take(self, rows: Rows) -> Iterable[Any]:
        return repeat(self.value)  # cut to the batch's length by column_batches


class Computed:
    """Values made per batch by a function of the row numbers (e.g. datetimes)."""

    def __init__(self, fn: Callable[[Rows], Iterable[Any]]) -> None:
        self.fn = fn

    def take(self, rows: Rows) -> Iterable[Any]:
        return self.fn(rows)


def _key_builder(entity: str) -> Callable[..., str]:
    """A function (key field values...) -> the record's ``source_key``
    (``entity:key1/key2...``, a datetime as ``%Y-%m-%dT%H:%M:%S``): ``str.format`` of a fixed
    pattern, called in C by ``map`` (no Python frame per record)."""
    model = ENTITY_MODELS[entity]
    parts = [
        "{:%Y-%m-%dT%H:%M:%S}" if model.model_fields[k].annotation is dt.datetime else "{}"
        for k in model.key_fields
    ]
    return (f"{entity}:" + "/".join(parts)).format


class EntityTable:
    """One entity's records as columns, plus the simulated day each record last changed.

    ``written``: for an entity the demo takes writes on (requisitions), the number of the write
    that last changed each record (0: none since its last simulated change), so its version is
    the pair (day, write) — see :func:`planner_connectors.demo.clock.version`.
    """

    def __init__(
        self,
        entity: str,
        columns: dict[str, Column],
        version: np.ndarray,
        version_stamps: np.ndarray,
        written: np.ndarray | None = None,
    ) -> None:
        expected = [f for f in ENTITY_MODELS[entity].model_fields if f not in _SOURCE_FIELDS]
        if set(columns) != set(expected):
            missing = sorted(set(expected) - set(columns))
            extra = sorted(set(columns) - set(expected))
            raise AssertionError(f"{entity}: columns missing {missing}, unexpected {extra}")
        self.entity = entity
        self.columns = [columns[f] for f in expected]
        self.version = version
        self.version_stamps = version_stamps
        self.written = written if written is not None and written.any() else None
        self.fields = expected
        self.key_fields = ENTITY_MODELS[entity].key_fields
        self.key = _key_builder(entity)

    def __len__(self) -> int:
        return len(self.version)

    def changed_since(self, since: tuple[int, int]) -> np.ndarray:
        """Positions of the records whose version (day, write) is later than ``since``."""
        day, write = since
        later = self.version > day
        if self.written is not None:
            later |= (self.version == day) & (self.written > write)
        return np.flatnonzero(later)

    def column_batches(
        self, since: tuple[int, int] | None, size: int
    ) -> Iterator[tuple[dict[str, Any], tuple[int, int]]]:
        """(columns, highest (day, write) among them) per batch, only records changed after
        ``since``: field -> values (a numpy array of numbers or a list), the fields in the
        model's order, ``source``, ``source_key`` and ``source_version`` last
        (:class:`workbench.connect.port.ColumnBatch`)."""
        n = len(self.version)
        rows = None if since is None else self.changed_since(since)
        for start in range(0, n if rows is None else len(rows), size):
            # a full pull reads contiguous slices (views), cheaper than fancy indexing
            chunk = (
                slice(start, min(n, start + size)) if rows is None else rows[start : start + size]
            )
            days = self.version[chunk]
            count = len(days)
            columns: dict[str, Any] = {}
            for f, column in zip(self.fields, self.columns):
                v = column.take(chunk)
                columns[f] = v if isinstance(v, (list, np.ndarray)) else list(islice(v, count))
            stamps, top = self._stamps(chunk, days)
            keys = (columns[k] for k in self.key_fields)
            columns["source"] = [SOURCE] * count
            columns["source_key"] = list(map(self.key, *(
                k.tolist() if isinstance(k, np.ndarray) else k for k in keys)))
            columns["source_version"] = stamps
            yield columns, top

    def _stamps(self, chunk: Rows, days: np.ndarray) -> tuple[list[str], tuple[int, int]]:
        written = None if self.written is None else self.written[chunk]
        if written is None or not written.any():
            return self.version_stamps[days].tolist(), (int(days.max()), 0)
        pairs = list(zip(days.tolist(), written.tolist()))
        return [version(d, w) for d, w in pairs], max(pairs)
