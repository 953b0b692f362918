"""Sync run bookkeeping: ``sync_runs`` rows, their rejected rows, watermarks and the sync clock.

Every sync of the cache — a pulled source (:mod:`workbench.services.sync`) or a supplier message
inbox (:mod:`workbench.services.edi`) — is recorded here, inside the caller's transaction:

* :func:`start_run` / :func:`finish_run`: the ``sync_runs`` row of a run, written when it starts
  (status ``running``) and completed when it ends (status, counts, rejected, duration,
  watermarks, error); :func:`record_run` writes a finished run in one insert (a run that did not
  commit, recorded afterwards in a transaction of its own).
* :func:`record_rejections`: the run's rejected rows (entity, key, field, reason, file, row).
* :func:`stored_watermarks` / :func:`save_watermark`: where a connector's incremental pull of
  an entity stopped.
* :func:`set_observed_at` / :func:`clear_observed_at`: the ``sync_context`` clock the history
  triggers of migration 0002 stamp their rows with (the connector's notion of now).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, insert, select, text

from workbench.cache import dialect, joblock
from workbench.cache.schema import sync_rejections, sync_runs, watermarks
from workbench.domain.validation import RecordError

#: the PostgreSQL advisory lock that makes sync runs take their ids in commit order
RUN_ORDER_LOCK = "sync-run-order"


def start_run(conn: Connection, connector: str, started_at: str, status: str) -> int:
    """Insert the ``sync_runs`` row of a run that starts; its id.

    Run ids must commit in their order: a team copy pulls "rows of runs after the last run it
    saw" (:mod:`workbench.cache.team`), so a run committing after a later one would be skipped
    for good. SQLite's write lock already serialises runs; on PostgreSQL the run takes a
    transaction-level advisory lock here, held until its transaction ends (a sync's whole
    write; the short start of an EDI run, whose later files a copy waits for while the run
    reads ``running``)."""
    if dialect.is_postgres(conn):
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": joblock.lock_key(RUN_ORDER_LOCK)})
    result = conn.execute(
        insert(sync_runs).values(connector=connector, started_at=started_at, status=status)
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def finish_run(
    conn: Connection,
    run_id: int,
    *,
    finished_at: str,
    status: str,
    counts: Mapping[str, Any],
    rejected: int,
    duration_s: float,
    watermarks: Mapping[str, str] | None = None,
    error: str | None = None,
) -> None:
    """Complete the row of run ``run_id`` (``watermarks`` None: left as it is)."""
    values: dict[str, Any] = {
        "finished_at": finished_at,
        "status": status,
        "counts": json.dumps(counts),
        "rejected": rejected,
        "duration_s": duration_s,
        "error": error,
    }
    if watermarks is not None:
        values["watermarks"] = json.dumps(watermarks)
    conn.execute(sync_runs.update().where(sync_runs.c.id == run_id).values(**values))


def record_run(
    conn: Connection,
    *,
    connector: str,
    started_at: str,
    finished_at: str,
    status: str,
    counts: Mapping[str, Any],
    rejected: int,
    duration_s: float,
    error: str | None,
) -> int:
    """Insert the row of a run that ended before it could be recorded (failed, cancelled); its
    id."""
    result = conn.execute(
        insert(sync_runs).values(
            connector=connector,
            started_at=started_at,
            finished_at=finished_at,
            status=status,
            counts=json.dumps(counts),
            rejected=rejected,
            duration_s=duration_s,
            error=error,
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def record_rejections(conn: Connection, run_id: int, errors: Sequence[RecordError]) -> None:
    """The rejected rows of run ``run_id``: entity, key, field, reason, file and row of each."""
    if errors:
        conn.execute(insert(sync_rejections), [{"sync_run": run_id, **e.to_dict()} for e in errors])


def stored_watermarks(conn: Connection, connector: str) -> dict[str, str]:
    """Entity -> the watermark the last successful run of ``connector`` stored (none: absent)."""
    rows = conn.execute(
        select(watermarks.c.entity, watermarks.c.watermark).where(
            watermarks.c.connector == connector
        )
    )
    return {e: w for e, w in rows if w is not None}


def save_watermark(conn: Connection, connector: str, entity: str, mark: str, now: str) -> None:
    conn.exec_driver_sql(
        "INSERT INTO watermarks (connector, entity, watermark, updated_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (connector, entity) DO UPDATE SET watermark = excluded.watermark, "
        "updated_at = excluded.updated_at",
        (connector, entity, mark, now),
    )


def set_observed_at(conn: Connection, when: str) -> None:
    """The time the history triggers stamp the changes of this transaction with."""
    conn.exec_driver_sql(
        "INSERT INTO sync_context (key, value) VALUES ('observed_at', ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (when,)
    )


def clear_observed_at(conn: Connection) -> None:
    conn.exec_driver_sql("DELETE FROM sync_context WHERE key = 'observed_at'")
