"""The entity tables' stamp inside a transaction (no pandas: the sync imports it).

See :mod:`workbench.cache.snapshot` for what the stamp is; a sync reads it first thing in its
writing transaction and seals it last (:mod:`workbench.services.frame_patch`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection


def stamp_on(connection: Any) -> int | None:
    """The stamp as seen by a DB-API ``connection`` (e.g. inside a read transaction)."""
    cur = connection.cursor()
    try:
        row = cur.execute("SELECT stamp FROM entity_stamp WHERE id = 1").fetchone()
    finally:
        cur.close()
    return None if row is None else int(row[0])


def stamp_in_transaction(conn: Connection) -> int | None:
    """The stamp as the writing transaction of ``conn`` sees it (a sync calls it first thing:
    then it names exactly the state the run starts from).

    On PostgreSQL the stamp row is locked until the transaction ends, as SQLite's write lock
    does: a reader observing the stamp meanwhile waits (and gives up: no snapshot this time).
    Without it a reader could observe the unchanged stamp, read the frames without this run's
    rows, and the run then commit under that same stamp (its writes drew no new one: the stamp
    was not observed when they ran)."""
    from workbench.cache import dialect

    lock = " FOR UPDATE" if dialect.is_postgres(conn) else ""
    row = conn.exec_driver_sql(f"SELECT stamp FROM entity_stamp WHERE id = 1{lock}").fetchone()
    return None if row is None else int(row[0])


def seal_in_transaction(conn: Connection) -> int | None:
    """Mark the stamp observed inside the writing transaction of ``conn`` (a sync's last
    statement) and return it: the stamp then names exactly the state this transaction commits
    (any later write draws a new one), so a snapshot patched with the run's rows may carry it.
    A run that wrote nothing leaves the stamp it started from."""
    conn.exec_driver_sql("UPDATE entity_stamp SET observed = 1 WHERE id = 1 AND observed = 0")
    return stamp_in_transaction(conn)


__all__ = ["seal_in_transaction", "stamp_in_transaction", "stamp_on"]
