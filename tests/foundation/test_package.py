"""The canonical data package: export, import, bad rows named by file/row/column."""

from __future__ import annotations

from pathlib import Path

from planner_connectors.files import FilesConnector

from tests.fixtures_connector import MemoryConnector
from tests.foundation.cachedump import ENTITY_NAMES, dump
from tests.foundation.plant import tiny_plant
from workbench.cache.db import open_cache
from workbench.cache.frames import read_entity_frame
from workbench.domain.enums import SyncRunStatus
from workbench.services.packages import export_package
from workbench.services.sync import run_sync

BOOKKEEPING = ("sync_run",)


def _roundtrip(source_engine, source_path: Path, tmp_path: Path) -> None:
    written = export_package(source_engine, tmp_path / "pkg")
    assert set(written) == set(ENTITY_NAMES)
    target_path = tmp_path / "copy.sqlite"
    target = open_cache(target_path)
    result = run_sync(target, FilesConnector(tmp_path / "pkg"))
    assert result.status == SyncRunStatus.SUCCEEDED, result.error
    source_engine.dispose()
    target.dispose()
    a = dump(source_path, tables=ENTITY_NAMES, skip_cols=BOOKKEEPING)
    b = dump(target_path, tables=ENTITY_NAMES, skip_cols=BOOKKEEPING)
    assert a == b


def test_export_then_import_gives_the_same_cache_content(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    engine = open_cache(path)
    assert run_sync(engine, MemoryConnector(tiny_plant())).ok
    _roundtrip(engine, path, tmp_path)


def test_package_header_documents_canonical_columns(tmp_path: Path) -> None:
    engine = open_cache(tmp_path / "c.sqlite")
    run_sync(engine, MemoryConnector(tiny_plant()))
    export_package(engine, tmp_path / "pkg")
    header = (tmp_path / "pkg" / "bom_lines.csv").read_text().splitlines()[0]
    assert header == ("source,source_key,source_version,parent,revision,position,component,"
                      "quantity_per,uom,scrap_pct,alternate_group,alternate_priority")
    lines = (tmp_path / "pkg" / "bom_lines.csv").read_text().splitlines()
    row = [line for line in lines if ",PAINT," in line]
    assert row == ["memory,,1,FRAME,A,10,PAINT,250.0,G,0.0,,0"]  # the source's own unit


def _write(folder: Path, name: str, text: str) -> None:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text.lstrip(), encoding="utf-8")


def test_bad_rows_are_named_by_file_row_and_column_and_nothing_loads(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    _write(pkg, "uoms.csv", "code\nEA\n")
    _write(pkg, "items.csv", """
code,description,stock_uom,lead_time_days,make_buy
A-1,Good item,EA,5,buy

B-2,Negative lead time,EA,-4,buy
C-3,Unknown unit,PCS,1,buy
D-4,Unknown kind,EA,1,borrow
""")
    engine = open_cache(tmp_path / "c.sqlite")
    result = run_sync(engine, FilesConnector(pkg))
    assert result.status == SyncRunStatus.FAILED
    assert [(e.file, e.row, e.field) for e in result.rejected] == [
        ("items.csv", 4, "lead_time_days"),
        ("items.csv", 6, "make_buy"),
        ("items.csv", 5, "stock_uom"),
    ]
    assert "unknown uom 'PCS'" in result.rejected[2].reason
    assert result.error.startswith("3 rows rejected, nothing was loaded (first: items.csv, row 4:")
    assert read_entity_frame(engine, "uoms").empty and read_entity_frame(engine, "items").empty

    partial = run_sync(engine, FilesConnector(pkg), partial=True)
    assert partial.status == SyncRunStatus.PARTIAL
    assert read_entity_frame(engine, "items").code.tolist() == ["A-1"]


def test_unknown_column_is_refused_before_reading_rows(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    _write(pkg, "uoms.csv", "code,colour\nEA,blue\n")
    result = run_sync(open_cache(tmp_path / "c.sqlite"), FilesConnector(pkg))
    assert result.status == SyncRunStatus.FAILED
    assert "uoms.csv, row 1: unknown column 'colour'" in result.error


def test_unchanged_files_are_skipped_on_the_next_sync(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    _write(pkg, "uoms.csv", "code\nEA\nKG\n")
    engine = open_cache(tmp_path / "c.sqlite")
    assert run_sync(engine, FilesConnector(pkg)).counts["uoms"]["received"] == 2
    assert run_sync(engine, FilesConnector(pkg)).counts["uoms"]["received"] == 0
    _write(pkg, "uoms.csv", "code,name\nEA,each\nKG,\nG,gram\n")
    again = run_sync(engine, FilesConnector(pkg))
    assert again.counts["uoms"] == {"received": 3, "changed": 2, "deleted": 0}


def test_the_shipped_sample_package_loads_without_rejections(tmp_path: Path) -> None:
    sample = Path(__file__).resolve().parents[2] / "resources" / "sample-package"
    result = run_sync(open_cache(tmp_path / "c.sqlite"), FilesConnector(sample))
    assert result.status == SyncRunStatus.SUCCEEDED, result.error
    assert result.counts["items"]["changed"] == 300
