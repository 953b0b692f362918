"""Versioned schema migrations of the cache.

Each migration is a numbered SQL file beside this module (``0001_initial.sql``, ...), applied in
order, each in one transaction that also sets ``PRAGMA user_version``. Migrations are frozen once
released: change the schema by adding a file, never by editing one.

PostgreSQL caches (issue 17) have their own files in ``pg/``: ``pg/0014_baseline.sql`` is the
whole schema at version 14, and every later SQLite migration ``NNNN_name.sql`` has a twin
``pg/NNNN_name.sql`` (tests/foundation/test_pg_schema.py checks the pairing). The SQLite loader
reads only the files directly in this folder; :data:`PG_MIGRATIONS` only those in ``pg/``. A
PostgreSQL file runs as one script (plpgsql bodies keep their semicolons).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    def statements(self) -> Iterator[str]:
        """The file's statements, one at a time (trigger bodies keep their inner semicolons)."""
        buf = ""
        for line in self.sql.splitlines(keepends=True):
            if not buf and (not line.strip() or line.lstrip().startswith("--")):
                continue
            buf += line
            if sqlite3.complete_statement(buf):
                yield buf.strip()
                buf = ""
        if buf.strip():
            raise ValueError(f"migration {self.name}: incomplete statement at the end")


def _load() -> list[Migration]:
    out = []
    for entry in resources.files(__package__).iterdir():
        name = entry.name
        if entry.is_file() and name.endswith(".sql") and name[:4].isdigit():
            out.append(Migration(int(name[:4]), name, entry.read_text(encoding="utf-8")))
    out.sort(key=lambda m: m.version)
    for expected, m in enumerate(out, start=1):
        if m.version != expected:
            raise RuntimeError(f"cache migrations are not numbered 1..n: {m.name}")
    return out


def _load_pg() -> list[Migration]:
    """The PostgreSQL migrations; none in a build that left the ``pg`` folder out (an SQLite
    cache still opens there; a PostgreSQL one is refused by :mod:`workbench.cache.pg`)."""
    folder = resources.files(__package__).joinpath("pg")
    if not folder.is_dir():
        return []
    out = sorted((Migration(int(e.name[:4]), e.name, e.read_text(encoding="utf-8"))
                  for e in folder.iterdir()
                  if e.is_file() and e.name.endswith(".sql") and e.name[:4].isdigit()),
                 key=lambda m: m.version)
    if not out or out[0].version != PG_BASELINE:
        raise RuntimeError(f"PostgreSQL cache migrations must start at {PG_BASELINE:04d}_baseline.sql")
    for expected, m in enumerate(out, start=PG_BASELINE):
        if m.version != expected:
            raise RuntimeError(f"PostgreSQL cache migrations are not numbered {PG_BASELINE}..n: {m.name}")
    return out


MIGRATIONS: list[Migration] = _load()
LATEST_VERSION: int = MIGRATIONS[-1].version if MIGRATIONS else 0
#: the SQLite schema version the PostgreSQL baseline equals
PG_BASELINE = 14
#: the PostgreSQL migrations: the baseline, then one twin per later SQLite migration
PG_MIGRATIONS: list[Migration] = _load_pg()
