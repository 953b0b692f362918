"""Sync runs: pull from a connector, validate, convert units, upsert into the cache — atomically.

One run is one SQLite transaction (``BEGIN IMMEDIATE`` … ``COMMIT``): a failure, a cancel or a
killed process leaves the cache exactly as it was before the run. The ``sync_runs`` row of a
successful run is written inside that transaction; a failed or cancelled run is recorded
afterwards, in a transaction of its own, together with its rejected rows, so the user can see
what went wrong without any of the run's data having landed.

Per batch the service:
1. validates the raw records into canonical ones (pydantic, whole batch at once): a batch given
   column-wise (:class:`workbench.connect.port.ColumnBatch`, e.g. the demo's) a column at a
   time (:func:`workbench.domain.validation.validate_columns`), no dict per record;
2. checks references (component, item, site, supplier, unit exist in the cache or earlier in the
   run) and converts quantities to the item's stock unit, keeping the source's figures;
3. upserts with ``INSERT … ON CONFLICT DO UPDATE … WHERE <row differs>``, so unchanged rows are
   not written and the change counts are true counts; the history triggers (promise dates, BOM
   revision status) fire only on real changes. PO line fields a supplier's EDI message set stay
   while the source still sends the value it had before the message (docs/edi.md).

The SQL is the cache's: the bulk writer and the lookups in :mod:`workbench.cache.upsert`, the
held EDI fields in :mod:`workbench.cache.holds`, the run's rows, rejections, watermarks and
clock in :mod:`workbench.cache.runs`; this module orchestrates.

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
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine

from workbench.cache import runs, sync_changes
from workbench.cache.stamp import seal_in_transaction, stamp_in_transaction
from workbench.cache.upsert import EntityWriter, Lookups
from workbench.connect.port import Connector, ConnectorError
from workbench.domain.enums import SyncRunStatus
from workbench.domain.validation import (
    RecordError,
    validate_columns,
    validate_rows,
    written_fields,
)
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


def _observed_at(connector: Connector, now: dt.datetime | None) -> str:
    if now is not None:
        return now.isoformat(timespec="seconds")
    today = connector.today
    if isinstance(today, dt.date):
        return dt.datetime.combine(today, dt.time(0, 0)).isoformat(timespec="seconds")
    return _now_iso()


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
            run_id = runs.start_run(conn, name, started_at, SyncRunStatus.RUNNING)
            result.run_id = run_id
            sync_changes.mark_run(conn, run_id, wanted)  # what it adds lies above the marks
            stamp_before = stamp_in_transaction(conn)  # the state the frame snapshot may hold
            observed = _observed_at(connector, now)
            runs.set_observed_at(conn, observed)
            lookups = Lookups(conn)
            stored = {} if full else runs.stored_watermarks(conn, name)
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
                runs.save_watermark(conn, name, entity, mark, _now_iso())
            runs.record_rejections(conn, run_id, result.rejected)
            runs.clear_observed_at(conn)
            result.duration_s = time.perf_counter() - started
            runs.finish_run(
                conn, run_id, finished_at=_now_iso(), status=result.status, counts=result.counts,
                rejected=len(result.rejected), duration_s=result.duration_s,
                watermarks=result.watermarks,
            )
            stamp_after = seal_in_transaction(conn)  # names exactly what this run commits
        if stamp_after != stamp_before:  # the frame snapshot brought up to date (frame_patch)
            from workbench.services.frame_patch import patch_after_sync

            patch_after_sync(engine, run_id, stamp_before, stamp_after, result.counts)
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
    lookups: Lookups,
    result: SyncResult,
    observed: str,
    state: TaskState | None,
    on_batch: Callable[[str, int], None] | None,
) -> None:
    writer = EntityWriter(entity, run_id, defer_indexes=True)  # finish() below
    counts = result.counts.setdefault(entity, {"received": 0, "changed": 0, "deleted": 0})
    seen: set[tuple[Any, ...]] | None = None
    sources: set[str] = set()
    complete = False
    for batch in connector.pull(entity, since):
        check_cancelled(state)
        given = batch.columns
        columns: dict[str, list[Any]] | None = None
        records: list[dict[str, Any]] = []
        if given is not None:  # a column batch: validated and written a column at a time
            columns, positions, errors = validate_columns(
                entity, given, file=batch.file, row_numbers=batch.row_numbers, dates_as_text=True
            )
        else:
            records, positions, errors = validate_rows(
                entity, batch.records, file=batch.file, row_numbers=batch.row_numbers
            )
        numbers = batch.row_numbers
        if numbers and positions is not None:
            numbers = [numbers[p] for p in positions]
        counts["received"] += batch.size + len(batch.rejected)
        written = written_fields(entity, batch.fields)[0] if batch.fields is not None else None
        rows, kept, ref_errors = writer.rows(records, lookups, batch.file, numbers, written,
                                             columns=columns)
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
            on_batch(entity, batch.size)
    if complete and seen is not None:
        counts["deleted"] += writer.mark_missing_deleted(
            conn, seen, sources or {connector.source or connector.name}, observed
        )
    writer.finish(conn)  # the indexes a first load left for the end


def _record_failed_run(engine: Engine, result: SyncResult, started_at: str) -> None:
    """Record a run that did not commit, with its rejected rows, in a transaction of its own."""
    try:
        with engine.begin() as conn:
            run_id = runs.record_run(
                conn, connector=result.connector, started_at=started_at, finished_at=_now_iso(),
                status=result.status, counts=result.counts, rejected=len(result.rejected),
                duration_s=result.duration_s, error=result.error,
            )
            runs.record_rejections(conn, run_id, result.rejected)
            result.run_id = run_id
    except Exception:  # noqa: BLE001 - e.g. the disk is full: the result still reports the error
        result.run_id = None
