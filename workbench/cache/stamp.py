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
    then it names exactly the state the run starts from)."""
    row = conn.exec_driver_sql("SELECT stamp FROM entity_stamp WHERE id = 1").fetchone()
    return None if row is None else int(row[0])


def seal_in_transaction(conn: Connection) -> int | None:
    """Mark the stamp observed inside the writing transaction of ``conn`` (a sync's last
    statement) and return it: the stamp then names exactly the state this transaction commits
    (any later write draws a new one), so a snapshot patched with the run's rows may carry it.
    A run that wrote nothing leaves the stamp it started from."""
    conn.exec_driver_sql("UPDATE entity_stamp SET observed = 1 WHERE id = 1 AND observed = 0")
    return stamp_in_transaction(conn)


__all__ = ["seal_in_transaction", "stamp_in_transaction", "stamp_on"]
