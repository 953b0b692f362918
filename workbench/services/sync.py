"""Sync runs: pull from a connector, validate, convert units, upsert into the cache — atomically.

One run is one SQLite transaction (``BEGIN IMMEDIATE`` … ``COMMIT``): a failure, a cancel or a
killed process leaves the cache exactly as it was before the run. The ``sync_runs`` row of a
successful run is written inside that transaction; a failed or cancelled run is recorded
afterwards, in a transaction of its own, together with its rejected rows, so the user can see
what went wrong without any of the run's data having landed.

Per batch the service:
1. validates the raw dicts into canonical records (pydantic, whole batch at once);
2. checks references (component, item, site, supplier, unit exist in the cache or earlier in the
   run) and converts quantities to the item's stock unit, keeping the source's figures;
3. upserts with ``INSERT … ON CONFLICT DO UPDATE … WHERE <row differs>``, so unchanged rows are
   not written and the change counts are true counts; the history triggers (promise dates, BOM
   revision status) fire only on real changes.

Bad rows are collected (entity, key, field, file, row, reason), with the rows a connector could
not even parse (``Batch.rejected``). Unless the caller asked for a partial load, any bad row fails
the whole run. A batch that names the fields its records carry (``Batch.fields``, e.g. a CSV
header) updates only those columns of cached rows (see
:func:`workbench.domain.validation.written_fields`); its warnings end up in the result.
A complete set (``Batch.complete``) marks deleted the rows of the same source(s) it did not send;
an empty complete set stands for the connector's own source name (its ``source``, else ``name``).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Engine, insert, select

from workbench.cache.schema import (
    ENTITY_TABLES,
    NEW_STAMP,
    entity_columns,
    sync_rejections,
    sync_runs,
    watermarks,
)
from workbench.connect.port import Connector, ConnectorError
from workbench.domain.enums import SyncRunStatus
from workbench.domain.models import ENTITY_MODELS, REFERENCES
from workbench.domain.uom import UomConverter, UomError
from workbench.domain.validation import RecordError, validate_rows, written_fields
from workbench.services.tasks import Cancelled, TaskState, check_cancelled


@dataclass
class SyncResult:
    connector: str
    status: SyncRunStatus
    run_id: int | None = None
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    rejected: list[RecordError] = field(default_factory=list)
    #: what the user should know that rejected nothing (e.g. columns a package reset)
    warnings: list[str] = field(default_factory=list)
    watermarks: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status in (SyncRunStatus.SUCCEEDED, SyncRunStatus.PARTIAL)

    def total(self, what: str = "changed") -> int:
        return sum(c.get(what, 0) for c in self.counts.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "connector": self.connector,
            "status": str(self.status),
            "run_id": self.run_id,
            "counts": self.counts,
            "rejected": [e.to_dict() for e in self.rejected],
            "warnings": self.warnings,
            "watermarks": self.watermarks,
            "error": self.error,
            "duration_s": round(self.duration_s, 3),
        }


class _RejectedRows(Exception):
    pass


def _now_iso() -> str:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds")


class _Lookups:
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


class _EntityWriter:
    """Turns validated rows of one entity into cache rows (column-wise) and upserts them."""

    def __init__(self, entity: str, run_id: int) -> None:
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
        self._sql_by_fields: dict[frozenset[str], str] = {}

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
        differs = " OR ".join(f"{t}.{c} IS NOT excluded.{c}" for c in compare_cols) or "0"
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
        lookups: _Lookups,
        file: str | None = None,
        numbers: list[int] | None = None,
        written: frozenset[str] | None = None,
    ) -> tuple[list[tuple[Any, ...]], dict[str, list[Any]], list[RecordError]]:
        """Cache rows for valid records, their columns (for lookups), and reference errors.

        A reference field the records do not carry (not in ``written``) keeps the cached value
        of a live row, so only rows that will be inserted are checked for it.

        Works column by column: a batch of 20,000 rows costs a few list comprehensions per
        field instead of per-row Python, which keeps the sync near raw SQLite insert speed.
        """
        n = len(records)
        cols = self._columns(records)
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
        out_cols = [cols[c] for c in self._base]
        if self.model.quantity_fields:
            out_cols += self._convert(cols, lookups, bad, n)
        out_cols.append([self.run_id] * n)
        rows = list(zip(*out_cols))
        errors: list[RecordError] = []
        if bad:
            keep = [i for i in range(n) if i not in bad]
            for i in sorted(bad):
                key = "/".join(str(cols[k][i]) for k in self.model.key_fields)
                row = numbers[i] if numbers else None
                errors.append(RecordError(self.entity, key, bad[i][0], bad[i][1], file, row))
            rows = [rows[i] for i in keep]
            cols = {c: [v[i] for i in keep] for c, v in cols.items()}
        return rows, cols, errors

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
        self, cols: dict[str, list[Any]], lookups: _Lookups, bad: dict[int, tuple[str, str]], n: int
    ) -> list[list[Any]]:
        """Convert quantity columns to the stock unit in place; return the original columns."""
        qty_fields = self.model.quantity_fields
        item_field = self.model.item_field
        items = cols[item_field] if item_field else [""] * n
        stock = [lookups.stock_uom.get(it) for it in items] if item_field else [None] * n
        units = [u or s for u, s in zip(cols.get("uom", [None] * n), stock)]
        originals = [list(cols[q]) for q in qty_fields]
        for i in range(n):
            unit, stock_unit = units[i], stock[i]
            if stock_unit is None or unit is None or unit == stock_unit or i in bad:
                continue
            try:
                factor = lookups.uom.factor(items[i], unit, stock_unit)
            except UomError as exc:
                bad[i] = ("uom", str(exc))
                continue
            for q in qty_fields:
                if cols[q][i] is not None:
                    cols[q][i] = cols[q][i] * factor
        return [units, *originals]

    def upsert(
        self, conn: Connection, rows: list[tuple[Any, ...]], present: tuple[str, ...] | None = None
    ) -> int:
        if not rows:
            return 0
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(self.sql_for(present), rows)
            written = int(cursor.rowcount)
            if written:
                cursor.execute(NEW_STAMP)
            return written
        finally:
            cursor.close()

    def mark_deleted(self, conn: Connection, keys: Iterable[tuple[Any, ...]], when: str) -> int:
        keys = list(keys)
        if not keys:
            return 0
        where = " AND ".join(f"{k} = ?" for k in self.model.key_fields)
        sql = (
            f"UPDATE {self.entity} SET deleted_at = ?, sync_run = ? "
            f"WHERE {where} AND deleted_at IS NULL"
        )
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
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
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            missing = [k for k in cursor.execute(sql, sorted(sources)) if k not in seen]
        finally:
            cursor.close()
        return self.mark_deleted(conn, missing, when)


def _observed_at(connector: Connector, now: dt.datetime | None) -> str:
    if now is not None:
        return now.isoformat(timespec="seconds")
    today = connector.today
    if isinstance(today, dt.date):
        return dt.datetime.combine(today, dt.time(0, 0)).isoformat(timespec="seconds")
    return _now_iso()


def _stored_watermarks(conn: Connection, connector: str) -> dict[str, str]:
    rows = conn.execute(
        select(watermarks.c.entity, watermarks.c.watermark).where(
            watermarks.c.connector == connector
        )
    )
    return {e: w for e, w in rows if w is not None}


def _save_watermark(conn: Connection, connector: str, entity: str, mark: str) -> None:
    conn.exec_driver_sql(
        "INSERT INTO watermarks (connector, entity, watermark, updated_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (connector, entity) DO UPDATE SET watermark = excluded.watermark, "
        "updated_at = excluded.updated_at",
        (connector, entity, mark, _now_iso()),
    )


def _record_rejections(conn: Connection, run_id: int, errors: list[RecordError]) -> None:
    if errors:
        conn.execute(
            insert(sync_rejections),
            [
                {
                    "sync_run": run_id,
                    "entity": e.entity,
                    "key": e.key,
                    "field": e.field,
                    "reason": e.reason,
                    "file": e.file,
                    "row": e.row,
                }
                for e in errors
            ],
        )


def run_sync(
    engine: Engine,
    connector: Connector,
    *,
    entities: Iterable[str] | None = None,
    partial: bool = False,
    full: bool = False,
    state: TaskState | None = None,
    now: dt.datetime | None = None,
    on_batch: Callable[[str, int], None] | None = None,
) -> SyncResult:
    """Run one sync of ``connector`` into the cache; never raises for data or source errors.

    ``partial``: keep the good rows when some are rejected (default: reject the whole run).
    ``full``: ignore stored watermarks and pull everything.
    """
    name = connector.name
    started = time.perf_counter()
    started_at = _now_iso()
    result = SyncResult(connector=name, status=SyncRunStatus.RUNNING)
    wanted = list(entities) if entities is not None else connector.entities()
    try:
        with engine.begin() as conn:
            run_id = conn.execute(
                insert(sync_runs).values(
                    connector=name, started_at=started_at, status=SyncRunStatus.RUNNING
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            result.run_id = run_id
            observed = _observed_at(connector, now)
            conn.exec_driver_sql(
                "INSERT OR REPLACE INTO sync_context (key, value) VALUES ('observed_at', ?)",
                (observed,),
            )
            lookups = _Lookups(conn)
            stored = {} if full else _stored_watermarks(conn, name)
            for n, entity in enumerate(wanted):
                check_cancelled(state)
                if state:
                    state.set_status(f"{name}: {entity}")
                    state.set_progress(n, len(wanted))
                _sync_entity(
                    conn, connector, entity, stored.get(entity), run_id, lookups, result,
                    observed, state, on_batch,
                )
            if result.rejected and not partial:
                raise _RejectedRows()
            result.status = SyncRunStatus.PARTIAL if result.rejected else SyncRunStatus.SUCCEEDED
            for entity, mark in result.watermarks.items():
                _save_watermark(conn, name, entity, mark)
            _record_rejections(conn, run_id, result.rejected)
            conn.exec_driver_sql("DELETE FROM sync_context WHERE key = 'observed_at'")
            result.duration_s = time.perf_counter() - started
            conn.execute(
                sync_runs.update()
                .where(sync_runs.c.id == run_id)
                .values(
                    finished_at=_now_iso(),
                    status=result.status,
                    counts=json.dumps(result.counts),
                    rejected=len(result.rejected),
                    duration_s=result.duration_s,
                    watermarks=json.dumps(result.watermarks),
                )
            )
        if state:
            state.set_progress(len(wanted), len(wanted))
        return result
    except _RejectedRows:
        n = len(result.rejected)
        result.status = SyncRunStatus.FAILED
        result.error = (
            f"{n} row{'s' if n != 1 else ''} rejected, nothing was loaded (first: "
            f"{result.rejected[0]}); fix the source or sync with partial loads allowed"
        )
    except Cancelled:
        result.status = SyncRunStatus.CANCELLED
        result.error = "cancelled by the user; the cache is unchanged"
    except ConnectorError as exc:
        result.status = SyncRunStatus.FAILED
        result.error = f"{name}: {exc}; the cache is unchanged"
    except Exception as exc:  # noqa: BLE001 - any failure must leave a recorded, failed run
        result.status = SyncRunStatus.FAILED
        result.error = f"{type(exc).__name__}: {exc}; the cache is unchanged"
    result.duration_s = time.perf_counter() - started
    _record_failed_run(engine, result, started_at)
    return result


def _sync_entity(
    conn: Connection,
    connector: Connector,
    entity: str,
    since: str | None,
    run_id: int,
    lookups: _Lookups,
    result: SyncResult,
    observed: str,
    state: TaskState | None,
    on_batch: Callable[[str, int], None] | None,
) -> None:
    writer = _EntityWriter(entity, run_id)
    counts = result.counts.setdefault(entity, {"received": 0, "changed": 0, "deleted": 0})
    seen: set[tuple[Any, ...]] | None = None
    sources: set[str] = set()
    complete = False
    for batch in connector.pull(entity, since):
        check_cancelled(state)
        records, positions, errors = validate_rows(
            entity, batch.records, file=batch.file, row_numbers=batch.row_numbers
        )
        numbers = batch.row_numbers
        if numbers and positions is not None:
            numbers = [numbers[p] for p in positions]
        counts["received"] += len(batch.records) + len(batch.rejected)
        written = written_fields(entity, batch.fields)[0] if batch.fields is not None else None
        rows, kept, ref_errors = writer.rows(records, lookups, batch.file, numbers, written)
        result.rejected.extend(batch.rejected)
        result.rejected.extend(errors)
        result.rejected.extend(ref_errors)
        result.warnings.extend(w for w in batch.warnings if w not in result.warnings)
        counts["changed"] += writer.upsert(conn, rows, batch.fields)
        lookups.learn(entity, kept, written)
        counts["deleted"] += writer.mark_deleted(conn, batch.deleted_keys, observed)
        if batch.complete:
            complete = True
            seen = seen if seen is not None else set()
            seen.update(zip(*(kept[k] for k in writer.model.key_fields)))
            sources.update(kept["source"])
        if batch.watermark is not None:
            old = result.watermarks.get(entity)
            result.watermarks[entity] = max(old, batch.watermark) if old else batch.watermark
        if on_batch:
            on_batch(entity, len(batch.records))
    if complete and seen is not None:
        counts["deleted"] += writer.mark_missing_deleted(
            conn, seen, sources or {connector.source or connector.name}, observed
        )


def _record_failed_run(engine: Engine, result: SyncResult, started_at: str) -> None:
    """Record a run that did not commit, with its rejected rows, in a transaction of its own."""
    try:
        with engine.begin() as conn:
            run_id = conn.execute(
                insert(sync_runs).values(
                    connector=result.connector,
                    started_at=started_at,
                    finished_at=_now_iso(),
                    status=result.status,
                    counts=json.dumps(result.counts),
                    rejected=len(result.rejected),
                    duration_s=result.duration_s,
                    error=result.error,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            _record_rejections(conn, run_id, result.rejected)
            result.run_id = run_id
    except Exception:  # noqa: BLE001 - e.g. the disk is full: the result still reports the error
        result.run_id = None
