"""Item cross-references held in the cache, read for a connector that maps other systems' codes.

The files connector's mapping profiles turn another system's item code into ours through
``xref = "SYSTEM"`` code rules (docs/mapping.md); besides the profile's own cross-references it
finds those other sources already loaded (an item master, EDI) in the cache's ``item_xrefs``.
The cache is opened read-only by path (a connector holds no engine), and a cache file that does
not exist yet holds none. For a PostgreSQL cache the connector is given the path its local files
start with (:func:`workbench.cache.db.local_base`); the marker there names the database, which
is opened as the cache (password from the keyring or libpq's files).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def item_xrefs_of(cache: str | Path, systems: Iterable[str]) -> dict[str, dict[str, str]]:
    """system -> {external code -> our item code} of the live cross-references of ``systems``
    (a code two items share in one system is left out: a row using it is rejected, not guessed)."""
    wanted = sorted(set(systems))
    out: dict[str, dict[str, str]] = {s: {} for s in wanted}
    if not wanted:
        return out
    marks = ", ".join("?" * len(wanted))
    sql = ("SELECT system, external_code, item FROM item_xrefs WHERE deleted_at IS NULL "
           f"AND external_code IS NOT NULL AND system IN ({marks}) "
           "ORDER BY system, external_code, item")
    from workbench.cache.pg import database_of

    team = database_of(cache)  # the local files' path of a PostgreSQL cache: its database
    if team is not None:
        from workbench.cache.db import open_cache

        engine = open_cache(team)
        try:
            with engine.connect() as conn:
                return _collect(conn.exec_driver_sql(sql, tuple(wanted)), out)
        finally:
            engine.dispose()
    path = Path(cache)
    if not path.is_file():
        return out
    con = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
    try:
        if not con.execute("SELECT 1 FROM sqlite_master WHERE name = 'item_xrefs'").fetchone():
            return out
        return _collect(con.execute(sql, wanted), out)
    finally:
        con.close()


def _collect(rows: Iterable[Any], out: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    ambiguous: set[tuple[str, str]] = set()
    for system, code, item in rows:
        code = str(code).strip()
        if out[system].setdefault(code, str(item)) != str(item):
            ambiguous.add((system, code))
    for system, code in ambiguous:  # two items under one code: never guessed between
        del out[system][code]
    return out
