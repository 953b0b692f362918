"""What a sync run changed, entity by entity and row by row (read back from the cache).

Every entity row keeps ``sync_run``, the run that last wrote it (an insert, an update that
changed it, or marking it deleted: the upsert writes only rows that differ), and ``deleted_at``.
What the run *added*, as opposed to changed, is told by the row's rowid: before a run writes,
:func:`mark_run` keeps each entity table's largest rowid in ``sync_run_marks`` (migration
0012); ``INSERT … ON CONFLICT DO UPDATE`` keeps the rowid of a row it updates and gives a new
row a larger one. So, for run ``r`` and its mark ``m``:

- **added**: ``sync_run = r``, live, ``rowid > m``;
- **changed**: ``sync_run = r``, live, ``rowid <= m`` (a row deleted earlier and sent again
  counts here: it was there before, deleted);
- **removed**: ``sync_run = r``, ``deleted_at`` set.

A row a later run wrote again is that later run's (its ``sync_run`` moved on): for the latest
run — what a sync's result shows — the numbers are exact. A run without marks (made before
migration 0012) reports every live row it wrote as changed. A run of supplier messages (EDI)
marks PO lines and promise history when it starts and stamps each line a message sets
(workbench/cache/edi.py), so it is counted like a source's run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Engine

from workbench.cache import dialect
from workbench.cache.schema import ENTITY_TABLES

#: the row states of :func:`changed_rows`
ADDED, CHANGED, REMOVED = "added", "changed", "removed"


def mark_run(conn: Connection, run_id: int, entities: Iterable[str]) -> None:
    """Keep each entity table's largest rowid before run ``run_id`` writes (in its
    transaction): what the run inserts lies above it."""
    rows = []
    for entity in entities:
        if entity not in ENTITY_TABLES:
            continue
        top = conn.exec_driver_sql(f"SELECT coalesce(max(rowid), 0) FROM {entity}").scalar_one()
        rows.append((run_id, entity, int(top)))
    if rows:
        cursor = dialect.raw_cursor(conn)
        try:
            cursor.executemany("INSERT INTO sync_run_marks (sync_run, entity, max_rowid) "
                               "VALUES (?, ?, ?) ON CONFLICT (sync_run, entity) DO UPDATE SET "
                               "max_rowid = excluded.max_rowid", rows)
        finally:
            cursor.close()


def _marks(conn: Connection, run_id: int) -> dict[str, int]:
    return {str(e): int(m) for e, m in conn.exec_driver_sql(
        "SELECT entity, max_rowid FROM sync_run_marks WHERE sync_run = ?", (run_id,))}


def entity_changes(engine: Engine, run_id: int) -> dict[str, tuple[int, int, int]]:
    """Per entity the run wrote: (added, changed, removed), in the cache's entity order;
    entities it did not change are left out."""
    out: dict[str, tuple[int, int, int]] = {}
    with engine.connect() as conn:
        marks = _marks(conn, run_id)
        for entity in ENTITY_TABLES:
            mark = marks.get(entity, -1)  # no mark: nothing counts as added
            added, changed, removed = conn.exec_driver_sql(
                f"SELECT coalesce(sum(CASE WHEN deleted_at IS NULL AND rowid > ? THEN 1 END), 0), "
                f"coalesce(sum(CASE WHEN deleted_at IS NULL AND rowid <= ? THEN 1 END), 0), "
                f"coalesce(sum(CASE WHEN deleted_at IS NOT NULL THEN 1 END), 0) "
                f"FROM {entity} WHERE sync_run = ?",
                (mark if mark >= 0 else 2**62, mark if mark >= 0 else 2**62, run_id)).one()
            if added or changed or removed:
                out[entity] = (int(added), int(changed), int(removed))
    return out


def changed_rows(engine: Engine, run_id: int, entity: str, columns: Sequence[str],
                 limit: int = 10_000) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The rows of ``entity`` run ``run_id`` wrote, added first, then changed, then removed
    (each in key order): the column names (``state`` then ``columns``) and the rows, at most
    ``limit``."""
    if entity not in ENTITY_TABLES:
        raise ValueError(f"not a synced entity: {entity!r}")
    table = ENTITY_TABLES[entity]
    unknown = [c for c in columns if c not in table.c]
    if unknown:
        raise ValueError(f"{entity} has no column {unknown[0]!r}")
    keys = [c.name for c in table.primary_key.columns]
    with engine.connect() as conn:
        mark = _marks(conn, run_id).get(entity, 2**62)
        state = (f"CASE WHEN deleted_at IS NOT NULL THEN '{REMOVED}' WHEN rowid > ? THEN "
                 f"'{ADDED}' ELSE '{CHANGED}' END")
        order = "CASE WHEN deleted_at IS NOT NULL THEN 2 WHEN rowid > ? THEN 0 ELSE 1 END"
        picked = ", ".join(columns)
        rows = conn.exec_driver_sql(
            f"SELECT {state} AS state{', ' + picked if picked else ''} FROM {entity} "
            f"WHERE sync_run = ? ORDER BY {order}, {', '.join(keys)} LIMIT ?",
            (mark, run_id, mark, limit)).all()
    return ["state", *columns], [tuple(r) for r in rows]
