"""Versioned schema migrations of the cache.

Each migration is a numbered SQL file beside this module (``0001_initial.sql``, ...), applied in
order, each in one transaction that also sets ``PRAGMA user_version``. Migrations are frozen once
released: change the schema by adding a file, never by editing one.
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
        if name.endswith(".sql") and name[:4].isdigit():
            out.append(Migration(int(name[:4]), name, entry.read_text(encoding="utf-8")))
    out.sort(key=lambda m: m.version)
    for expected, m in enumerate(out, start=1):
        if m.version != expected:
            raise RuntimeError(f"cache migrations are not numbered 1..n: {m.name}")
    return out


MIGRATIONS: list[Migration] = _load()
LATEST_VERSION: int = MIGRATIONS[-1].version if MIGRATIONS else 0
