"""Entity tables held column-wise, turned into record dicts one batch at a time.

The generator works on numpy arrays (item *indices*, day *offsets*, status *codes*); a record dict
only exists while its batch is in flight, so even the large plant's millions of records never sit
in memory as Python objects at once. Building the dicts is the hot path of a demo sync, hence the
generated record builder: a ``lambda`` with a dict display is about 1.5x faster than
``dict(zip(keys, row))``.
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
    """Numbers (or Python objects) stored directly."""

    def __init__(self, data: np.ndarray) -> None:
        self.data = data

    def take(self, rows: Rows) -> Iterable[Any]:
        return self.data[rows].tolist()


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
        return repeat(self.value)  # map() stops at the shortest column


class Computed:
    """Values made per batch by a function of the row numbers (e.g. datetimes)."""

    def __init__(self, fn: Callable[[Rows], Iterable[Any]]) -> None:
        self.fn = fn

    def take(self, rows: Rows) -> Iterable[Any]:
        return self.fn(rows)


def _record_builder(entity: str, fields: list[str]) -> Callable[..., dict[str, Any]]:
    """A function (field values..., version) -> record dict, with source and source_key filled."""
    model = ENTITY_MODELS[entity]
    pos = {f: i for i, f in enumerate(fields)}
    parts = []
    for k in model.key_fields:
        spec = ":%Y-%m-%dT%H:%M:%S" if model.model_fields[k].annotation is dt.datetime else ""
        parts.append(f"{{a{pos[k]}{spec}}}")
    key_expr = 'f"' + entity + ":" + "/".join(parts) + '"'
    items = [f"{f!r}: a{i}" for i, f in enumerate(fields)]
    items += [f"'source': {SOURCE!r}", f"'source_key': {key_expr}", "'source_version': v"]
    args = ", ".join([f"a{i}" for i in range(len(fields))] + ["v"])
    code = f"lambda {args}: {{{', '.join(items)}}}"
    # Field names come from the canonical model (identifiers), never from data.
    return eval(code, {})


def _key_builder(entity: str) -> Callable[..., str]:
    """A function (key field values...) -> the record's ``source_key``, as the record builder
    makes it."""
    model = ENTITY_MODELS[entity]
    parts = []
    for i, k in enumerate(model.key_fields):
        spec = ":%Y-%m-%dT%H:%M:%S" if model.model_fields[k].annotation is dt.datetime else ""
        parts.append(f"{{a{i}{spec}}}")
    args = ", ".join(f"a{i}" for i in range(len(model.key_fields)))
    # Field names come from the canonical model (identifiers), never from data.
    return eval(f'lambda {args}: f"{entity}:' + "/".join(parts) + '"', {})


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
        self.build = _record_builder(entity, expected)
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

    def batches(
        self, since: tuple[int, int] | None, size: int
    ) -> Iterator[tuple[list[dict[str, Any]], tuple[int, int]]]:
        """(records, highest (day, write) among them) per batch, only records changed after
        ``since``."""
        n = len(self.version)
        rows = None if since is None else self.changed_since(since)
        for start in range(0, n if rows is None else len(rows), size):
            # a full pull reads contiguous slices (views), cheaper than fancy indexing
            chunk = (
                slice(start, min(n, start + size)) if rows is None else rows[start : start + size]
            )
            days = self.version[chunk]
            values = [c.take(chunk) for c in self.columns]
            stamps, top = self._stamps(chunk, days)
            records = list(map(self.build, *values, stamps))
            yield records, top

    def column_batches(
        self, since: tuple[int, int] | None, size: int
    ) -> Iterator[tuple[dict[str, list[Any]], tuple[int, int]]]:
        """Like :meth:`batches`, the records given column-wise (field -> list, the fields in the
        order of the records' keys, ``source``, ``source_key`` and ``source_version`` last):
        what a sync validates and writes without a dict per record
        (:class:`workbench.connect.port.ColumnBatch`)."""
        n = len(self.version)
        rows = None if since is None else self.changed_since(since)
        for start in range(0, n if rows is None else len(rows), size):
            chunk = (
                slice(start, min(n, start + size)) if rows is None else rows[start : start + size]
            )
            days = self.version[chunk]
            count = len(days)
            values = [c.take(chunk) for c in self.columns]
            columns = {f: v if isinstance(v, list) else list(islice(v, count))
                       for f, v in zip(self.fields, values)}
            stamps, top = self._stamps(chunk, days)
            columns["source"] = [SOURCE] * count
            columns["source_key"] = list(map(self.key, *(columns[k] for k in self.key_fields)))
            columns["source_version"] = stamps
            yield columns, top

    def _stamps(self, chunk: Rows, days: np.ndarray) -> tuple[list[str], tuple[int, int]]:
        written = None if self.written is None else self.written[chunk]
        if written is None or not written.any():
            return self.version_stamps[days].tolist(), (int(days.max()), 0)
        pairs = list(zip(days.tolist(), written.tolist()))
        return [version(d, w) for d, w in pairs], max(pairs)
