"""A frame snapshot never carries a stamp that a writer still running will keep.

The stamp names the state of the entity tables; a reader observes it before reading the frames
and a later write draws a new one. On SQLite a writer holds the file's write lock, so observing
waits for it (and gives up: no snapshot this time). On PostgreSQL the writer held no lock when the
stamp was not observed yet: a reader could observe, read the frames without the writer's rows,
and the writer then committed under the same stamp — a snapshot (and a stored plan) missing those
rows, used until the next write (review finding). Now a writer locks the stamp row: the sync when
its transaction starts, an upsert batch or EDI file when it draws, so the reader's observation
waits (and gives up) or comes first (and the writer draws a new stamp)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from tests.fixtures_connector import MemoryConnector
from tests.foundation.plant import tiny_plant
from workbench.cache import dialect
from workbench.cache.snapshot import observe_stamp, read_stamp
from workbench.cache.stamp import stamp_in_transaction
from workbench.services.sync import run_sync


def _unobserved(engine: Any) -> None:
    """The state after a write nobody has observed yet (observed = 0)."""
    assert run_sync(engine, MemoryConnector(tiny_plant())).ok  # seals: observed = 1
    with engine.begin() as conn:
        conn.execute(text("UPDATE items SET description = 'changed' WHERE code = 'BIKE'"))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT observed FROM entity_stamp")).scalar() == 0


def _race(engine: Any, start_writer: Any) -> None:
    with engine.begin() as writer:  # as the sync writes (SQLite: BEGIN IMMEDIATE)
        start_writer(writer)  # the writer's rows, before the reader comes
        observed = observe_stamp(engine, wait_ms=200)  # the reader, while the writer runs
    # either the reader could not observe (no snapshot), or the writer's commit drew a new stamp
    assert observed is None or read_stamp(engine) != observed


def test_a_sync_transaction_started_before_the_reader_observes(any_cache: Any) -> None:
    _unobserved(any_cache)

    def sync(conn: Any) -> None:
        stamp_in_transaction(conn)  # the sync's first step
        conn.execute(text("UPDATE items SET description = 'synced' WHERE code = 'BIKE'"))

    _race(any_cache, sync)


def test_a_batch_drawing_the_stamp_before_the_reader_observes(any_cache: Any) -> None:
    _unobserved(any_cache)

    def batch(conn: Any) -> None:
        conn.execute(text("UPDATE items SET description = 'batch' WHERE code = 'BIKE'"))
        conn.exec_driver_sql(dialect.new_stamp_sql(conn))

    _race(any_cache, batch)
