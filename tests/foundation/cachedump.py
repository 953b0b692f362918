"""Dump a cache's content for before/after comparisons."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from workbench.cache.schema import ENTITY_TABLES


def dump(path: Path, *, tables: list[str] | None = None, skip_cols: tuple[str, ...] = ()) -> dict:
    """Every row of every table (sorted), optionally without some bookkeeping columns."""
    con = sqlite3.connect(path)
    try:
        names = tables or [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        out = {}
        for t in names:
            cols = [r[1] for r in con.execute(f"PRAGMA table_info({t})") if r[1] not in skip_cols]
            rows = con.execute(f"SELECT {', '.join(cols)} FROM {t}").fetchall()
            out[t] = sorted(rows, key=repr)
        return out
    finally:
        con.close()


ENTITY_NAMES = list(ENTITY_TABLES)
