"""Cross-references "through item cross-references": a profile's ``xref`` rule also finds the
item cross-references other sources already loaded into the cache (issue 15 §1), as the sync
opens the connector (``open_connector(..., cache=...)``); the profile's own pairs win; a code two
items share in the cache is rejected, not guessed; a new cross-reference in the cache reads the
entity again at the next incremental sync."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from planner_connectors.files import FilesConnector

from workbench.cache.db import open_cache
from workbench.connect.factory import open_connector
from workbench.domain.enums import SyncRunStatus
from workbench.services.mapping import check_mapping
from workbench.services.sync import run_sync

PROFILE = """\
[profile]
source = "wms"
[inventory]
files = ["stock.csv"]
[inventory.columns]
"Artikel" = "item"
"Werk" = "site"
"Menge" = "quantity"
[inventory.constants]
status = "available"
as_of = "2026-11-30"
[inventory.codes.item]
strip_leading_zeros = true
xref = "WMS"
"""


def _setup(tmp_path: Path, xrefs: str, profile: str = PROFILE) -> tuple[Path, Path, Path]:
    """A cache holding items P-1..P-3 and the item cross-references ``xrefs`` (a canonical
    package of another source, "erp"), the stock export and its profile."""
    pkg = tmp_path / "erp"
    pkg.mkdir()
    (pkg / "uoms.csv").write_text("code\nEA\n")
    (pkg / "sites.csv").write_text("code\nS1\n")
    (pkg / "items.csv").write_text("code\nP-1\nP-2\nP-3\n")
    (pkg / "item_xrefs.csv").write_text("item,system,external_code\n" + xrefs)
    cache = tmp_path / "c.sqlite"
    engine = open_cache(cache)
    assert run_sync(engine, FilesConnector(pkg, source="erp")).ok
    engine.dispose()
    folder = tmp_path / "wms"
    folder.mkdir()
    (folder / "stock.csv").write_text("Artikel,Werk,Menge\n000100,S1,4\n000200,S1,7\n")
    (tmp_path / "wms.toml").write_text(profile)
    return cache, folder, tmp_path / "wms.toml"


def _stock(cache: Path) -> list[tuple[str, float, str]]:
    con = sqlite3.connect(cache)
    try:
        return con.execute("SELECT item, quantity, source FROM inventory WHERE deleted_at IS NULL "
                           "ORDER BY item").fetchall()
    finally:
        con.close()


def test_a_sync_finds_codes_through_the_caches_item_cross_references(tmp_path: Path) -> None:
    cache, folder, profile = _setup(tmp_path, "P-1,WMS,100\nP-2,WMS,200\nP-3,ERP,200\n")
    engine = open_cache(cache)
    # the connector opened as every sync opens it: the cache given, read-only
    connector = open_connector("files", {"dir": str(folder), "mapping": str(profile)}, cache=cache)
    result = run_sync(engine, connector)
    assert result.ok, result.error
    # "000100" -> strip zeros "100" -> WMS 100 = P-1 (the ERP's 200 is another system's code)
    assert _stock(cache) == [("P-1", 4.0, "wms"), ("P-2", 7.0, "wms")]
    # the same profile without the cache finds no cross-reference: the pairs came from the cache
    alone = check_mapping(profile, folder)
    assert [p.split(": code ")[1][:48] for p in alone.problems] == [
        "'100' has no cross-reference of system 'WMS' (it",
        "'200' has no cross-reference of system 'WMS' (it"]
    assert check_mapping(profile, folder, cache=cache).ok
    engine.dispose()


def test_the_profiles_own_cross_references_win_over_the_caches(tmp_path: Path) -> None:
    cache, folder, profile = _setup(tmp_path, "P-1,WMS,100\nP-2,WMS,200\n",
                                    PROFILE + '[xrefs.WMS]\n"200" = "P-3"\n')
    engine = open_cache(cache)
    connector = open_connector("files", {"dir": str(folder), "mapping": str(profile)}, cache=cache)
    assert run_sync(engine, connector).ok
    assert _stock(cache) == [("P-1", 4.0, "wms"), ("P-3", 7.0, "wms")]
    engine.dispose()


def test_a_code_two_items_share_in_the_cache_is_rejected_not_guessed(tmp_path: Path) -> None:
    cache, folder, profile = _setup(tmp_path, "P-1,WMS,100\nP-2,WMS,200\nP-3,WMS,200\n")
    engine = open_cache(cache)
    connector = open_connector("files", {"dir": str(folder), "mapping": str(profile)}, cache=cache)
    result = run_sync(engine, connector)
    assert result.status == SyncRunStatus.FAILED
    assert [(e.file, e.row, e.field) for e in result.rejected] == [
        ("stock.csv", 3, "item (column 'Artikel')")]
    assert "code '200' has no cross-reference of system 'WMS'" in result.rejected[0].reason
    assert _stock(cache) == []  # atomic: the good row is not loaded either
    engine.dispose()


def test_a_new_cross_reference_in_the_cache_reads_the_files_again(tmp_path: Path) -> None:
    cache, folder, profile = _setup(tmp_path, "P-1,WMS,100\nP-2,WMS,200\n")
    engine = open_cache(cache)
    params = {"dir": str(folder), "mapping": str(profile)}
    assert run_sync(engine, open_connector("files", params, cache=cache)).ok
    unchanged = run_sync(engine, open_connector("files", params, cache=cache))
    assert unchanged.ok and unchanged.total("received") == 0  # same files, same cross-references
    # the ERP now says article 200 is P-3: the stock row follows at the next sync
    (tmp_path / "erp" / "item_xrefs.csv").write_text(
        "item,system,external_code\nP-1,WMS,100\nP-3,WMS,200\n")
    assert run_sync(engine, FilesConnector(tmp_path / "erp", source="erp")).ok
    again = run_sync(engine, open_connector("files", params, cache=cache))
    assert again.ok and again.total("received") == 2
    assert _stock(cache) == [("P-1", 4.0, "wms"), ("P-3", 7.0, "wms")]
    engine.dispose()
