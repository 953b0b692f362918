"""A sync brings the planning frame snapshot up to date with the rows it wrote.

Without this, any write made the snapshot beside the cache stale and the next planner process read
every planning frame from SQLite again (11 s on the large demo). A sync knows what it wrote: every
row it inserts, updates or marks deleted carries its run id in ``sync_run`` (the promise history
its triggers write too). So after a successful sync, :func:`patch_after_sync` reads only those
rows, replaces them in the snapshot's frames (:func:`workbench.cache.snapshot.patch_frame`, in
rowid order, as a full read gives them) and writes the snapshot again under the stamp the sync
committed.

Version stamps make it safe (see :mod:`workbench.cache.snapshot`):

- inside the sync's transaction, first thing, the stamp is read (``before``): with the write lock
  held it names exactly the state the run starts from; at the end the stamp is sealed (marked
  observed) and read again (``after``): it names exactly the state the run commits, since any
  later write draws a new one;
- the snapshot is patched only if it is the snapshot of ``before`` (else it was stale already:
  the next load reads SQLite as before), and the patch is written only if the cache still shows
  ``after`` when the run's rows are read (one read transaction) and every patched frame has the
  count and rowid sum of the table's live rows;
- the patched snapshot is written atomically (temporary file, fsync, rename) under ``after``.
  A crash between the sync's commit and that rename leaves the snapshot of ``before`` on disk,
  which never loads for ``after``: the next load reads SQLite. A failed or cancelled sync rolls
  back and is never patched into the snapshot (the hook runs after a commit only).

When a plan is stored beside the cache (:mod:`workbench.services.plan_store`), the patch also
records what the rows it wrote change (items, BOM parents, item master), so the next planner
process replans only that from the stored plan.

A sync that rewrote more than :data:`MAX_SHARE` of the rows is not patched: reading them is most
of a full read, which the next planning load does anyway.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

#: A sync that wrote more than this share of the snapshot's rows leaves it to the next load
#: (reading them would be most of a full read).
MAX_SHARE = 0.3

#: Planning tables the cache's triggers write when a sync writes a table (migration 0002: a PO
#: line's promise date or quantity observed into ``promise_changes``, with the run's id). A test
#: (tests/foundation/test_frame_snapshot_patch.py) reads every trigger of the cache's schema and
#: fails when one writes a planning table not listed here.
WRITTEN_BY_TRIGGERS: dict[str, tuple[str, ...]] = {"purchase_order_lines": ("promise_changes",)}


@dataclass(frozen=True)
class PatchResult:
    """What :func:`patch_after_sync` did: ``patched`` (the snapshot now reflects ``stamp``),
    else ``reason``; rows read from the cache and seconds taken."""

    patched: bool
    reason: str = ""
    stamp: int | None = None
    rows_read: int = 0
    seconds: float = 0.0


def patch_after_sync(engine: Engine, run_id: int, before: int | None, after: int | None,
                     counts: Mapping[str, Mapping[str, int]] | None = None) -> PatchResult:
    """Bring the snapshot of ``before`` up to the state ``after`` the sync run ``run_id``
    committed (see the module doc); never raises (a problem is logged, the patch skipped).

    ``counts``: the run's rows changed and deleted per entity (``SyncResult.counts``); only the
    tables it names, and those their triggers write (:data:`WRITTEN_BY_TRIGGERS`), are searched
    for the run's rows (None: every planning table)."""
    started = time.perf_counter()
    from workbench.cache.db import local_base  # not the snapshot module: no pandas yet

    base = local_base(engine)
    if before is None or after is None or base is None or not Path(f"{base}.frames").exists():
        return PatchResult(False, "no snapshot for this cache")  # and no pandas imported
    try:
        result = _patch(engine, run_id, before, after, counts)
    except Exception as exc:  # noqa: BLE001 - the sync committed: a patch problem costs a load
        log.warning("frame snapshot not patched after sync run %s (%s: %s)", run_id,
                    type(exc).__name__, exc)
        result = PatchResult(False, f"{type(exc).__name__}: {exc}")
    result = PatchResult(result.patched, result.reason, result.stamp, result.rows_read,
                         time.perf_counter() - started)
    log.info("frame snapshot after sync run %s: %s in %.2f s", run_id,
             "patched" if result.patched else f"not patched ({result.reason})", result.seconds)
    return result


def _touched(counts: Mapping[str, Mapping[str, int]] | None) -> list[str]:
    from workbench.analysis.data import PLANNING_ENTITIES

    if counts is None:
        return list(PLANNING_ENTITIES)
    wrote = {e for e, c in counts.items() if c.get("changed", 0) or c.get("deleted", 0)}
    wrote |= {t for e in wrote for t in WRITTEN_BY_TRIGGERS.get(e, ())}
    return [e for e in PLANNING_ENTITIES if e in wrote]


def _patch(engine: Engine, run_id: int, before: int | None, after: int | None,
           counts: Mapping[str, Mapping[str, int]] | None) -> PatchResult:
    from workbench.analysis.data import normalise_frame
    from workbench.cache import snapshot_patch
    from workbench.cache.db import read_transaction
    from workbench.cache.frames import (
        live_row_census,
        read_entity_columns,
        rows_written_by_run,
    )
    from workbench.cache.snapshot import read_snapshot, snapshot_manifest, snapshot_path, stamp_on
    from workbench.domain.models import ENTITY_MODELS
    from workbench.services.planning import frame_snapshot_layout, planning_columns

    touched = _touched(counts)
    path = snapshot_path(engine)
    if path is None or before is None or after is None:
        return PatchResult(False, "no snapshot for this cache")
    if after == before:
        return PatchResult(False, "the sync changed nothing: the snapshot stays valid", before)
    manifest = snapshot_manifest(path) or {}
    if manifest.get("stamp") != before:
        return PatchResult(False, "the snapshot was not the state the sync started from")
    total = sum(int(f["rows"]) for f in manifest.get("frames", {}).values())
    layout = frame_snapshot_layout()
    from workbench.services import plan_store  # what the rows change, for a stored plan

    saved = read_snapshot(path, before, layout, rowids=True,
                          only=touched + plan_store.extra_entities(touched))
    if saved is None or not set(touched) <= set(saved.rowids):
        return PatchResult(False, "the snapshot cannot be patched (other layout, no rowids)")
    frames, rowids = dict(saved.frames), dict(saved.rowids)
    rows_read = 0
    with read_transaction(engine) as connection:
        if stamp_on(connection) != after:
            return PatchResult(False, "the cache was written again after the sync")
        written = {e: rows_written_by_run(connection, e, run_id) for e in touched}
        if sum(len(w) for w in written.values()) > MAX_SHARE * max(total, 1):
            return PatchResult(False, "the sync rewrote most rows: the next load reads SQLite")
        for entity, run_rows in written.items():
            if not len(run_rows):
                continue
            text, numbers, omit = planning_columns(entity)
            ids: list[np.ndarray] = []
            rows = normalise_frame(entity, read_entity_columns(
                engine, entity, text, numbers, connection=connection, rowids=ids,
                changed_by_run=run_id), omit)
            rows_read += len(rows)
            frames[entity], rowids[entity] = snapshot_patch.patch_frame(
                frames[entity], rowids[entity], run_rows, rows, ids[0],
                ENTITY_MODELS[entity].key_fields)
            if not len(frames[entity]):  # as a read of an empty table gives it
                frames[entity] = normalise_frame(entity, None, omit)
            count, rowid_sum = live_row_census(connection, entity)
            if count != len(frames[entity]) or rowid_sum != int(rowids[entity].sum()):
                return PatchResult(False, f"{entity}: the patched frame does not match the "
                                          "table's live rows")
    # the frames the run left alone are copied byte for byte
    changed = [e for e in touched if len(written[e])]
    snapshot_patch.rewrite_snapshot(path, before, after, layout, {e: frames[e] for e in changed},
                     {e: rowids[e] for e in changed})
    plan_store.record_sync_change(engine, before, after, saved.frames, frames,
                                  sum(len(w) for w in written.values()),
                                  manifest.get("frames", {}).get("items", {}).get("rows"))
    return PatchResult(True, stamp=after, rows_read=rows_read)


__all__ = ["MAX_SHARE", "WRITTEN_BY_TRIGGERS", "PatchResult", "patch_after_sync"]
