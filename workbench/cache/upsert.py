"""The sync's bulk writer: what a run knows exists, and the upsert of one entity's rows.

:class:`Lookups` holds what a run can refer to (keys of referenced entities, item stock units,
unit conversions), read once per run and extended by each batch. :class:`EntityWriter` turns
validated records of one entity into cache rows column by column (references checked,
quantities converted to the stock unit with the source's figures kept) and upserts them through
the driver's cursor with ``INSERT … ON CONFLICT DO UPDATE … WHERE <row differs>``, so unchanged
rows are not written, the change counts are true counts and the history triggers fire only on
real changes. This path is measured by tests/benchmarks/bench_sync.py: it stays near raw SQLite
``executemany`` speed (no per-row Python beyond the column transposition, no SQLAlchemy per
statement).

PO line fields a supplier's EDI message set are held against the line's source
(:mod:`workbench.cache.holds`): :meth:`EntityWriter.upsert` writes the message's value where
the source still sends the value it had before the message.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import compress, repeat
from operator import eq, itemgetter, ne
from typing import Any, overload

from sqlalchemy import Connection, select

from workbench.cache import dialect, holds
from workbench.cache.schema import ENTITY_TABLES, entity_columns
from workbench.domain.models import ENTITY_MODELS, REFERENCES
from workbench.domain.uom import UomConverter, UomError
from workbench.domain.validation import RecordError, written_fields


class Lookups:
    """What the run knows exists: keys per referenced entity, item stock units, conversions."""

    def __init__(self, conn: Connection) -> None:
        self.keys: dict[str, set[str]] = {}
        targets = {t for refs in REFERENCES.values() for _, t in refs}
        for entity in targets:
            table = ENTITY_TABLES[entity]
            (key,) = ENTITY_MODELS[entity].key_fields
            rows = conn.execute(select(table.c[key]).where(table.c.deleted_at.is_(None)))
            self.keys[entity] = {r[0] for r in rows}
        items = ENTITY_TABLES["items"]
        self.stock_uom: dict[str, str] = dict(
            conn.execute(select(items.c.code, items.c.stock_uom)).all()
        )
        self.uom = UomConverter(known_units=set(self.keys["uoms"]))
        conv = ENTITY_TABLES["uom_conversions"]
        for item, f, t, factor in conn.execute(
            select(conv.c.item, conv.c.from_uom, conv.c.to_uom, conv.c.factor).where(
                conv.c.deleted_at.is_(None)
            )
        ):
            self.uom.add_conversion(item, f, t, factor)

    def learn(
        self, entity: str, columns: dict[str, list[Any]], written: frozenset[str] | None = None
    ) -> None:
        """Make the rows of this batch referable by the batches after it.

        ``written``: the fields the rows wrote (None: all); an item whose stock unit was not
        given keeps its cached unit (a new or revived item takes the default)."""
        if entity == "items" and written is not None and "stock_uom" not in written:
            live = self.keys["items"]
            for code, unit in zip(columns["code"], columns["stock_uom"]):
                if code not in live:
                    self.stock_uom[code] = unit
            columns = {**columns, "stock_uom": [self.stock_uom[c] for c in columns["code"]]}
        if entity in self.keys:
            (key,) = ENTITY_MODELS[entity].key_fields
            self.keys[entity].update(columns[key])
        if entity == "uoms":
            self.uom.known_units.update(columns["code"])
        elif entity == "items":
            self.stock_uom.update(zip(columns["code"], columns["stock_uom"]))
        elif entity == "uom_conversions":
            for conv in zip(columns["item"], columns["from_uom"], columns["to_uom"], columns["factor"]):
                self.uom.add_conversion(*conv)


#: the fields :meth:`Lookups.learn` reads of an entity's rows (besides its key)
_LEARNED: dict[str, tuple[str, ...]] = {
    "items": ("code", "stock_uom"),
    "uoms": ("code",),
    "uom_conversions": ("item", "from_uom", "to_uom", "factor"),
}


def _drop_secondary_indexes(cursor: sqlite3.Cursor, table: str) -> list[str]:
    """Drop ``table``'s indexes made by ``CREATE INDEX`` that enforce nothing (not unique; the
    key's own index stays); their statements, to make them again."""
    plain = {name for _, name, unique, origin, _ in cursor.execute(f"PRAGMA index_list({table})")
             if origin == "c" and not unique}
    made = [(name, sql) for name, sql in cursor.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
        "AND sql IS NOT NULL ORDER BY name", (table,)) if name in plain]
    for name, _ in made:
        cursor.execute(f'DROP INDEX "{name}"')
    return [sql for _, sql in made]


def _tuple_getter(fields: list[str]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """``record -> tuple of fields`` in C (itemgetter returns a bare value for one field)."""
    if len(fields) == 1:
        (only,) = fields
        return lambda r: (r[only],)
    return itemgetter(*fields)


class _Columns(dict[str, list[Any]]):
    """A batch's columns made on first use from its records (which carry every field)."""

    def __init__(self, records: list[dict[str, Any]]) -> None:
        super().__init__()
        self.records = records

    def __missing__(self, field: str) -> list[Any]:
        column = self[field] = [r[field] for r in self.records]
        return column

    def get(self, field: str, default: Any = None) -> Any:
        return self[field] if (self.records and field in self.records[0]) else default


class ColumnRows(Sequence[tuple[Any, ...]]):
    """A batch's cache rows held as their columns; a row's tuple is made when it is read.

    ``executemany`` takes the rows one at a time, so each tuple is made, bound and freed in
    turn instead of a list of them all being built first (on the medium demo a list of 200,000
    fifteen-field tuples cost 4-5 times what making and dropping them one by one costs: fresh
    memory for every tuple)."""

    def __init__(self, columns: list[list[Any]]) -> None:
        self._columns = columns
        self._n = len(columns[0]) if columns else 0

    def __len__(self) -> int:
        return self._n

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return zip(*self._columns)

    @overload
    def __getitem__(self, index: int) -> tuple[Any, ...]: ...
    @overload
    def __getitem__(self, index: slice) -> ColumnRows: ...
    def __getitem__(self, index: int | slice) -> tuple[Any, ...] | ColumnRows:
        if isinstance(index, slice):
            return ColumnRows([c[index] for c in self._columns])
        return tuple(c[index] for c in self._columns)

    def taken(self, positions: list[int]) -> ColumnRows:
        """The rows at ``positions``, in that order."""
        return ColumnRows([[c[i] for i in positions] for c in self._columns])

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (ColumnRows, list, tuple)):
            return len(self) == len(other) and all(map(eq, self, other))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # a sequence of rows compares by value


class EntityWriter:
    """Turns validated rows of one entity into cache rows (column-wise) and upserts them."""

    def __init__(self, entity: str, run_id: int, *, defer_indexes: bool = False) -> None:
        """``defer_indexes``: a first load (see :meth:`_execute`) drops the table's secondary
        indexes and :meth:`finish` builds them again once every batch is in; the caller must
        call :meth:`finish` (the sync does, at the end of each entity)."""
        self.entity = entity
        self.model = ENTITY_MODELS[entity]
        self.run_id = run_id
        self.table = ENTITY_TABLES[entity]
        self.columns = entity_columns(self.model)
        self.references = REFERENCES.get(entity, ())
        self.defaults = {
            name: (None if info.is_required() else info.default)
            for name, info in self.model.model_fields.items()
        }
        self._base = [c for c in self.columns if c != "orig_uom" and not c.startswith("orig_")]
        self.sql = self._upsert_sql(None)
        self._row_columns = [*self.columns, "sync_run"]  # the layout of :meth:`rows`' tuples
        self._base_getter = _tuple_getter(self._base)
        self._quantity_at = [(q, self._base.index(q)) for q in self.model.quantity_fields]
        #: the columns :meth:`rows` returns for every entity (keys, source, what lookups learn)
        self._kept_fields = tuple(dict.fromkeys(
            [*self.model.key_fields, "source", *_LEARNED.get(entity, ())]))
        self._holds: holds.Holds | None = None  # PO lines: read at the first upsert of a run
        self._sql_by_fields: dict[frozenset[str], str] = {}
        #: the table held no row when the run first wrote to it (see :meth:`_execute`)
        self._fresh: bool | None = None
        self._defer_indexes = defer_indexes
        self._loaded = 0  # rows the first load has inserted so far
        self._dropped: list[str] = []  # CREATE INDEX statements :meth:`finish` runs again
        cols = self._row_columns
        self._insert_sql = (
            f"INSERT INTO {self.entity} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        )

    def _upsert_sql(self, written: frozenset[str] | None) -> str:
        """The upsert; with ``written`` (see :func:`written_fields`), an update of a live row
        changes only those fields' columns and keeps the others (a deleted row coming back
        takes every column from the record)."""
        cols = self.columns + ["sync_run"]
        keys = self.model.key_fields
        t = self.entity

        def field_of(column: str) -> str:
            if column == "orig_uom":
                return "uom"
            return column[len("orig_"):] if column.startswith("orig_") else column

        kept = [c for c in self.columns if written is not None and field_of(c) not in written]
        updates = ", ".join(
            f"{c}=CASE WHEN {t}.deleted_at IS NULL THEN {t}.{c} ELSE excluded.{c} END"
            if c in kept else f"{c}=excluded.{c}"
            for c in cols if c not in keys
        )
        compare_cols = [c for c in self.columns if c not in keys and c not in kept]
        differs = " OR ".join(f"{t}.{c} IS DISTINCT FROM excluded.{c}"
                              for c in compare_cols) or "false"
        return (
            f"INSERT INTO {t} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
            f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}, deleted_at=NULL "
            f"WHERE {t}.deleted_at IS NOT NULL OR {differs}"
        )

    def sql_for(self, present: tuple[str, ...] | None) -> str:
        """The upsert for records carrying the fields ``present`` (None: every field)."""
        if present is None:
            return self.sql
        written, _ = written_fields(self.entity, present)
        sql = self._sql_by_fields.get(written)
        if sql is None:
            full = written >= set(self.model.model_fields)
            sql = self._sql_by_fields[written] = self.sql if full else self._upsert_sql(written)
        return sql

    def rows(
        self,
        records: list[dict[str, Any]],
        lookups: Lookups,
        file: str | None = None,
        numbers: list[int] | None = None,
        written: frozenset[str] | None = None,
        columns: dict[str, list[Any]] | None = None,
    ) -> tuple[Sequence[tuple[Any, ...]], dict[str, list[Any]], list[RecordError]]:
        """Cache rows for valid records, their columns (for lookups), and reference errors.

        A reference field the records do not carry (not in ``written``) keeps the cached value
        of a live row, so only rows that will be inserted are checked for it.

        Works column by column: a batch of 20,000 rows costs a few list comprehensions per
        field instead of per-row Python, which keeps the sync near raw SQLite insert speed.
        ``columns``: the valid records given column-wise instead (``records`` is then ignored;
        :func:`workbench.domain.validation.validate_columns`), absent fields taking defaults.
        Rows made column-wise are a :class:`ColumnRows`: each tuple is made when the driver
        takes it, never a list of them all.
        """
        if columns is not None:
            n = len(next(iter(columns.values()), ()))
            whole = False
            cols = {c: columns[c] if c in columns else [d] * n for c, d in self.defaults.items()}
        else:
            n = len(records)
            whole = self._carries_every_field(records)
            cols = _Columns(records) if whole else self._columns(records)
        bad: dict[int, tuple[str, str]] = {}
        for f, target in self.references:
            values = cols[f]
            unknown = set(values) - lookups.keys[target] - {None, ""}
            if unknown:
                label = target[:-1].replace("_", " ")
                live: set[Any] = set()
                if written is not None and f not in written and self.entity in lookups.keys:
                    live = lookups.keys[self.entity]
                (first_key, *_) = self.model.key_fields
                for i, v in enumerate(values):
                    if v in unknown and i not in bad and cols[first_key][i] not in live:
                        bad[i] = (f, f"unknown {label} {v!r}")
        rows: Sequence[tuple[Any, ...]]
        if whole:
            rows = self._rows_of(records, cols, lookups, bad)
        else:
            out_cols = [cols[c] for c in self._base]
            if self.model.quantity_fields:
                out_cols += self._convert(cols, lookups, bad, n)[0]
            out_cols.append([self.run_id] * n)
            rows = ColumnRows(out_cols)
        for c in self._kept_fields:  # what lookups.learn and the complete-set keys read
            cols[c]  # materialises the column (a _Columns makes them on first use)
        errors: list[RecordError] = []
        if bad:
            keep = [i for i in range(n) if i not in bad]
            for i in sorted(bad):
                key = "/".join(str(cols[k][i]) for k in self.model.key_fields)
                row = numbers[i] if numbers else None
                errors.append(RecordError(self.entity, key, bad[i][0], bad[i][1], file, row))
            if isinstance(rows, ColumnRows):
                rows = rows.taken(keep)
            else:
                rows = [rows[i] for i in keep]
            cols = {c: [v[i] for i in keep] for c, v in cols.items()}
        return rows, cols, errors

    def _carries_every_field(self, records: list[dict[str, Any]]) -> bool:
        """Every record has every field of the model (validated records have no other keys):
        then rows are built straight from the records (:meth:`_rows_of`)."""
        if not records or len(records[0]) != len(self.defaults):
            return False
        width = len(self.defaults)
        return set(map(len, records)) == {width} and all(f in records[0] for f in self.defaults)

    def _rows_of(self, records: list[dict[str, Any]], cols: dict[str, list[Any]],
                 lookups: Lookups, bad: dict[int, tuple[str, str]]) -> list[tuple[Any, ...]]:
        """The cache rows of records carrying every field, each taken from its dict in C
        (``itemgetter``) instead of transposing the batch into columns and back: only the
        columns a check reads (references, quantities, their item and unit) are made. Rows
        whose quantities were converted to the stock unit get the converted figures."""
        n = len(records)
        base = list(map(self._base_getter, records))
        tail: Iterable[tuple[Any, ...]]
        if self.model.quantity_fields:
            extra, converted = self._convert(cols, lookups, bad, n)
            tail = zip(*extra, repeat(self.run_id))
            for i in converted:
                row = list(base[i])
                for q, at in self._quantity_at:
                    row[at] = cols[q][i]
                base[i] = tuple(row)
        else:
            tail = repeat((self.run_id,))
        return list(map(tuple.__add__, base, tail))

    def _columns(self, records: list[dict[str, Any]]) -> dict[str, list[Any]]:
        """Column lists of every model field, defaults filled in.

        Connectors usually send the same fields in every record of a batch; then the batch is
        transposed in C (itemgetter + zip) instead of one dict lookup per field per row.
        """
        n = len(records)
        if not n:
            return {c: [] for c in self.defaults}
        present = [c for c in self.defaults if c in records[0]]
        if len(present) == len(records[0]) and set(map(len, records)) == {len(present)}:
            # same length and every present key found (else KeyError) => same fields in all rows
            try:
                if len(present) == 1:
                    transposed = [[r[present[0]] for r in records]]
                else:
                    transposed = [list(c) for c in zip(*map(itemgetter(*present), records))]
            except KeyError:
                pass
            else:
                cols = dict(zip(present, transposed))
                for c, default in self.defaults.items():
                    if c not in cols:
                        cols[c] = [default] * n
                return cols
        return {c: [r.get(c, d) for r in records] for c, d in self.defaults.items()}

    def _convert(
        self, cols: dict[str, list[Any]], lookups: Lookups, bad: dict[int, tuple[str, str]], n: int
    ) -> tuple[list[list[Any]], list[int]]:
        """Convert quantity columns to the stock unit in place; return the unit and original
        columns, and the rows converted."""
        qty_fields = self.model.quantity_fields
        item_field = self.model.item_field
        items = cols[item_field] if item_field else [""] * n
        stock = list(map(lookups.stock_uom.get, items)) if item_field else [None] * n
        given = cols.get("uom")
        units: list[Any]
        if given is None or not any(given):  # no unit given: the stock unit (scanned in C)
            units = stock
        elif None in given or "" in given:
            units = [u or s for u, s in zip(given, stock)]
        else:
            units = list(given)
        originals = [list(cols[q]) for q in qty_fields]
        converted: list[int] = []
        factors: dict[tuple[str, str, str], float | UomError] = {}  # each (item, unit) once
        # only rows whose unit is not the stock unit can need a factor: found in C (compress)
        for i in compress(range(n), map(ne, units, stock)):
            unit, stock_unit = units[i], stock[i]
            if stock_unit is None or unit is None or unit == stock_unit or i in bad:
                continue
            key = (items[i], unit, stock_unit)
            factor = factors.get(key)
            if factor is None:
                try:
                    factor = factors[key] = lookups.uom.factor(*key)
                except UomError as exc:
                    factor = factors[key] = exc
            if isinstance(factor, UomError):
                bad[i] = ("uom", str(factor))
                continue
            converted.append(i)
            for q in qty_fields:
                if cols[q][i] is not None:
                    cols[q][i] = cols[q][i] * factor
        return [units, *originals], converted

    def upsert(
        self, conn: Connection, rows: Sequence[tuple[Any, ...]],
        present: tuple[str, ...] | None = None,
    ) -> int:
        if not rows:
            return 0
        cursor = dialect.raw_cursor(conn)
        try:
            ended: list[tuple[str, int, str]] = []
            if self.entity == "purchase_order_lines":
                rows, ended = self._keep_held(cursor, rows, present)
            written = self._execute(cursor, self.sql_for(present), rows)
            if ended:
                holds.release(cursor, ended)
            if written:
                cursor.execute(dialect.new_stamp_sql(conn))
            return written
        finally:
            cursor.close()

    def _execute(self, cursor: Any, sql: str, rows: Sequence[tuple[Any, ...]]) -> int:
        """Write ``rows`` with the upsert ``sql``; the rows written.

        Into a table that held no row at all when the run first wrote to it (a first load), the
        rows go in by plain ``INSERT``: no conflict is possible but a key sent twice in the run,
        and SQLite's upsert searches the key's index once more per row. Each row is a statement
        of its own, so when one conflicts the rows before it are in (counted in the table) and
        the upsert writes that row and the rest, as every later batch of the run then is
        (tests/foundation/test_validate_columns.py) — the same rows, values, rowids and counts
        as the upsert throughout. (It was a savepoint rolled back: SQLite then journals every
        page an earlier batch wrote, 244 MB of temporary-file writes on the medium demo.) With
        ``defer_indexes`` the table's secondary indexes are dropped for the first load and
        built again by :meth:`finish` (one sort instead of an index insert at a random place
        per row). SQLite only (another driver always takes the upsert)."""
        if self._fresh is None:
            self._fresh = isinstance(cursor, sqlite3.Cursor) and cursor.execute(
                f"SELECT NOT EXISTS (SELECT 1 FROM {self.entity})").fetchone()[0] == 1
            if self._fresh and self._defer_indexes:
                self._dropped = _drop_secondary_indexes(cursor, self.entity)
        if self._fresh:
            try:
                cursor.executemany(self._insert_sql, rows)
            except sqlite3.IntegrityError:
                self._fresh = False
                (count,) = cursor.execute(f"SELECT count(*) FROM {self.entity}").fetchone()
                done = int(count) - self._loaded
                cursor.executemany(sql, rows[done:])
                return done + int(cursor.rowcount)
            self._loaded += len(rows)
            return len(rows)
        cursor.executemany(sql, rows)
        return int(cursor.rowcount)

    def finish(self, conn: Connection) -> None:
        """Build again the secondary indexes a first load dropped (``defer_indexes``), inside
        the run's transaction: a failed run rolls back the drop with everything else."""
        if not self._dropped:
            return
        cursor = dialect.raw_cursor(conn)
        try:
            for sql in self._dropped:
                cursor.execute(sql)
        finally:
            cursor.close()
        self._dropped = []

    def _keep_held(
        self, cursor: Any, rows: Sequence[tuple[Any, ...]], present: tuple[str, ...] | None
    ) -> tuple[Sequence[tuple[Any, ...]], list[tuple[str, int, str]]]:
        """PO lines: the fields a supplier message set stay where the source still sends the
        value it had before the message (:func:`workbench.cache.holds.keep_held`); the holds
        the source overrode are returned, to be released."""
        if self._holds is None:
            self._holds = holds.load(cursor)
        written = written_fields(self.entity, present)[0] if present is not None else None
        if not self._holds:
            return rows, []
        return holds.keep_held(list(rows), self._row_columns, self._holds, written)

    def mark_deleted(self, conn: Connection, keys: Iterable[tuple[Any, ...]], when: str) -> int:
        keys = list(keys)
        if not keys:
            return 0
        where = " AND ".join(f"{k} = ?" for k in self.model.key_fields)
        sql = (
            f"UPDATE {self.entity} SET deleted_at = ?, sync_run = ? "
            f"WHERE {where} AND deleted_at IS NULL"
        )
        cursor = dialect.raw_cursor(conn)
        try:
            cursor.executemany(sql, [(when, self.run_id, *k) for k in keys])
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def mark_missing_deleted(
        self, conn: Connection, seen: set[tuple[Any, ...]], sources: set[str], when: str
    ) -> int:
        """For a source that sent its complete set: its rows it no longer has are marked deleted.

        Only rows of the same source(s) are considered: other sources' rows in the cache are not
        this source's to delete.
        """
        keys = self.model.key_fields
        if any(self.model.model_fields[k].annotation in (dt.date, dt.datetime) for k in keys):
            # the cache holds dates as ISO text (the sqlite3 adapters of workbench.cache.db)
            seen = {
                tuple(v.isoformat() if isinstance(v, dt.date) else v for v in k) for k in seen
            }
        marks = ", ".join("?" * len(sources))
        sql = (
            f"SELECT {', '.join(keys)} FROM {self.entity} "
            f"WHERE deleted_at IS NULL AND source IN ({marks})"
        )
        # the driver's plain tuples compare with ``seen`` directly: no Row objects for the
        # tens of thousands of keys a complete set sends
        cursor = dialect.raw_cursor(conn)
        try:
            missing = [k for k in cursor.execute(sql, sorted(sources)) if k not in seen]
        finally:
            cursor.close()
        return self.mark_deleted(conn, missing, when)
