"""Item cross-references held in the cache, read for a connector that maps other systems' codes.

The files connector's mapping profiles turn another system's item code into ours through
``xref = "SYSTEM"`` code rules (docs/mapping.md); besides the profile's own cross-references it
finds those other sources already loaded (an item master, EDI) in the cache's ``item_xrefs``.
The cache is opened read-only by path (a connector holds no engine), and a cache file that does
not exist yet holds none.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path


def item_xrefs_of(cache: str | Path, systems: Iterable[str]) -> dict[str, dict[str, str]]:
    """system -> {external code -> our item code} of the live cross-references of ``systems``
    (a code two items share in one system is left out: a row using it is rejected, not guessed)."""
    wanted = sorted(set(systems))
    out: dict[str, dict[str, str]] = {s: {} for s in wanted}
    path = Path(cache)
    if not wanted or not path.is_file():
        return out
    con = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
    try:
        if not con.execute("SELECT 1 FROM sqlite_master WHERE name = 'item_xrefs'").fetchone():
            return out
        marks = ", ".join("?" * len(wanted))
        rows = con.execute(
            "SELECT system, external_code, item FROM item_xrefs WHERE deleted_at IS NULL "
            f"AND external_code IS NOT NULL AND system IN ({marks}) "
            "ORDER BY system, external_code, item", wanted)
        ambiguous: set[tuple[str, str]] = set()
        for system, code, item in rows:
            code = str(code).strip()
            if out[system].setdefault(code, str(item)) != str(item):
                ambiguous.add((system, code))
        for system, code in ambiguous:  # two items under one code: never guessed between
            del out[system][code]
    finally:
        con.close()
    return out
