"""Dump a cache's content for before/after comparisons."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from workbench.cache.schema import ENTITY_TABLES


def dump(path: Path | str, *, tables: list[str] | None = None,
         skip_cols: tuple[str, ...] = ()) -> dict:
    """Every row of every table (sorted), optionally without some bookkeeping columns. ``path``
    may be a ``postgresql://`` URL (a team cache; its entity tables' ``rowid`` column, SQLite's
    implicit rowid, is left out as SQLite's is)."""
    if str(path).startswith("postgresql://"):
        return _dump_pg(str(path), tables, skip_cols)
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


def _dump_pg(url: str, tables: list[str] | None, skip_cols: tuple[str, ...]) -> dict:
    import psycopg

    with psycopg.connect(url) as con:
        names = tables or [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
            "AND table_name <> 'cache_meta' ORDER BY table_name")]
        out = {}
        for t in names:
            cols = [r[0] for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                "ORDER BY ordinal_position", (t,)) if r[0] not in (*skip_cols, "rowid")]
            rows = con.execute(f"SELECT {', '.join(cols)} FROM {t}").fetchall()  # type: ignore[arg-type]
            out[t] = sorted(rows, key=repr)
        return out


ENTITY_NAMES = list(ENTITY_TABLES)
