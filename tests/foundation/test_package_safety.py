"""A data package never silently overwrites good data (issue 11, section 1).

Each test loads a small hand-written package, then a damaged or edited one, and checks the
exact rejections (file, row, field) and the exact cached values afterwards.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from planner_connectors.files import FilesConnector
from planner_connectors.files.reading import FIELD_LIMIT

from tests.fixtures_connector import MemoryConnector
from tests.foundation.cachedump import ENTITY_NAMES, dump
from workbench.analysis.data import NonFiniteNumber, normalise_frame
from workbench.cache.db import open_cache
from workbench.cache.frames import read_entity_frame
from workbench.domain.enums import SyncRunStatus
from workbench.services.planning import load_planning_data
from workbench.services.sync import SyncResult, run_sync

BASE = {
    "uoms.csv": "code\nEA\nKG\nG\n",
    "sites.csv": "code,name\nP1,Plant one\n",
    "suppliers.csv": "code,name,lead_time_days\nS1,Steel Ltd,10\n",
    "items.csv": (
        "code,description,stock_uom,make_buy,lead_time_days,standard_cost\n"
        "A-1,Frame welded,EA,make,15,2122\n"
        "B-2,Steel sheet,KG,buy,5,3.5\n"
    ),
    "uom_conversions.csv": "item,from_uom,to_uom,factor\n,KG,G,1000\n",
    "purchase_orders.csv": "code,supplier,site\nPO1,S1,P1\n",
    "purchase_order_lines.csv": (
        "purchase_order,line,item,supplier,site,quantity_ordered,uom,requested_date\n"
        "PO1,1,B-2,S1,P1,40,KG,2026-12-01\n"
        "PO1,2,B-2,S1,P1,500,G,2026-12-08\n"
    ),
}


def _package(folder: Path, files: dict[str, str | bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


def _loaded(tmp_path: Path) -> tuple[Path, Path]:
    """A cache loaded from BASE, and the package folder (to edit)."""
    pkg = _package(tmp_path / "pkg", dict(BASE))
    cache = tmp_path / "c.sqlite"
    result = run_sync(open_cache(cache), FilesConnector(pkg))
    assert result.status == SyncRunStatus.SUCCEEDED, result.error
    return cache, pkg


def _sync(cache: Path, pkg: Path, partial: bool = False) -> SyncResult:
    """As `workbench sync --package PKG [--partial]` does it."""
    engine = open_cache(cache)
    try:
        return run_sync(engine, FilesConnector(pkg, complete=not partial), partial=partial)
    finally:
        engine.dispose()


def _items(cache: Path) -> dict[str, tuple[object, ...]]:
    frame = read_entity_frame(open_cache(cache), "items")
    return {r.code: (r.description, r.stock_uom, r.make_buy, r.lead_time_days, r.standard_cost)
            for r in frame.itertuples()}


def _entities(cache: Path) -> dict:
    return dump(cache, tables=ENTITY_NAMES)


def _where(result: SyncResult) -> list[tuple[str | None, int | None, str]]:
    return [(e.file, e.row, e.field) for e in result.rejected]


GOOD_ITEMS = {
    "A-1": ("Frame welded", "EA", "make", 15, 2122.0),
    "B-2": ("Steel sheet", "KG", "buy", 5, 3.5),
}


# -- cells and header -----------------------------------------------------------------------


def test_a_row_with_fewer_or_more_cells_than_the_header_is_rejected(tmp_path: Path) -> None:
    cache, pkg = _loaded(tmp_path)
    before = _entities(cache)
    (pkg / "items.csv").write_text(
        "code,description,stock_uom,make_buy,lead_time_days,standard_cost\n"
        "A-1,Frame welded\n"  # today: make -> buy, 15 -> 0, 2122 -> 0
        "B-2,Steel sheet,KG,buy,5,3.5,extra\n"
    )
    result = _sync(cache, pkg)
    assert result.status == SyncRunStatus.FAILED
    assert _where(result) == [("items.csv", 2, "stock_uom"), ("items.csv", 3, "(cell 7)")]
    assert "the row has 2 cells, the header 6" in result.rejected[0].reason
    assert "the row has 7 cells, the header 6" in result.rejected[1].reason
    assert _entities(cache) == before
    # partial: the bad rows are still not loaded, the cached values stay
    assert _sync(cache, pkg, partial=True).status == SyncRunStatus.PARTIAL
    assert _items(cache) == GOOD_ITEMS


def test_a_header_naming_a_column_twice_is_refused(tmp_path: Path) -> None:
    cache, pkg = _loaded(tmp_path)
    before = _entities(cache)
    (pkg / "items.csv").write_text("code,description,code\nA-1,Frame welded,Frame welded\n")
    result = _sync(cache, pkg)
    assert result.status == SyncRunStatus.FAILED
    assert "items.csv, row 1: column 'code' is named twice (cells 1 and 3)" in result.error
    assert _entities(cache) == before


def test_an_empty_file_is_an_error_and_a_header_only_file_means_none(tmp_path: Path) -> None:
    cache, pkg = _loaded(tmp_path)
    before = _entities(cache)
    (pkg / "purchase_order_lines.csv").write_bytes(b"")
    result = _sync(cache, pkg)
    assert result.status == SyncRunStatus.FAILED
    assert "purchase_order_lines.csv is empty (0 bytes)" in result.error
    assert _entities(cache) == before
    # the header alone says "this package has no PO lines": both lines are deleted
    (pkg / "purchase_order_lines.csv").write_text(BASE["purchase_order_lines.csv"].splitlines()[0])
    result = _sync(cache, pkg)
    assert result.counts["purchase_order_lines"]["deleted"] == 2
    assert read_entity_frame(open_cache(cache), "purchase_order_lines").empty


# -- left-out columns -------------------------------------------------------------------------


def test_a_left_out_optional_column_keeps_the_cached_values(tmp_path: Path) -> None:
    cache, pkg = _loaded(tmp_path)
    (pkg / "items.csv").write_text("code,lead_time_days\nA-1,20\nB-2,5\nC-3,2\n")
    result = _sync(cache, pkg)
    assert result.status == SyncRunStatus.SUCCEEDED, result.error
    assert result.counts["items"]["changed"] == 2  # A-1's lead time, the new C-3
    assert result.warnings == []
    assert _items(cache) == {
        "A-1": ("Frame welded", "EA", "make", 20, 2122.0),  # only the lead time changed
        "B-2": ("Steel sheet", "KG", "buy", 5, 3.5),  # description, unit, cost kept
        "C-3": ("", "EA", "buy", 2, 0.0),  # a new item takes the defaults
    }
    # B-2 kept its stock unit KG: a PO line in G still converts 500 G -> 0.5 KG
    pkg2 = _package(tmp_path / "pkg2", {
        "purchase_order_lines.csv": BASE["purchase_order_lines.csv"].replace(",500,", ",700,"),
    })
    assert _sync(cache, pkg2).ok
    lines = read_entity_frame(open_cache(cache), "purchase_order_lines").set_index("line")
    assert lines.loc[2, "quantity_ordered"] == pytest.approx(0.7)
    assert (lines.loc[2, "orig_quantity_ordered"], lines.loc[2, "orig_uom"]) == (700.0, "G")


def test_left_out_quantities_go_with_their_unit_and_are_reported_reset(tmp_path: Path) -> None:
    cache, pkg = _loaded(tmp_path)
    (pkg / "purchase_order_lines.csv").write_text(
        "purchase_order,line,item,supplier,site,quantity_ordered,quantity_received,uom,"
        "requested_date,asn_quantity\n"
        "PO1,1,B-2,S1,P1,40,10,KG,2026-12-01,30\n"
        "PO1,2,B-2,S1,P1,500,0,G,2026-12-08,0\n"
    )
    assert _sync(cache, pkg).ok
    (pkg / "purchase_order_lines.csv").write_text(BASE["purchase_order_lines.csv"])
    result = _sync(cache, pkg)
    assert result.ok, result.error
    assert result.warnings == [
        "purchase_order_lines.csv: no column quantity_received, asn_quantity: set to the default "
        "on every row (quantities go with their unit, uom); add the column to keep values"
    ]
    line1 = read_entity_frame(open_cache(cache), "purchase_order_lines").set_index("line").loc[1]
    assert (line1.quantity_received, line1.asn_quantity) == (0.0, 0.0)


# -- keys ---------------------------------------------------------------------------------------


def test_duplicate_keys_in_one_file_are_rejected_with_both_rows(tmp_path: Path) -> None:
    cache, pkg = _loaded(tmp_path)
    before = _entities(cache)
    (pkg / "items.csv").write_text(
        "code,description\nA-1,Frame welded\nB-2,Steel sheet\n A-1 ,Frame painted\n"
    )
    (pkg / "purchase_order_lines.csv").write_text(
        BASE["purchase_order_lines.csv"] + "PO1,01,B-2,S1,P1,41,KG,2026-12-01\n"
    )
    result = _sync(cache, pkg)
    assert result.status == SyncRunStatus.FAILED
    assert _where(result) == [
        ("items.csv", 4, "code"),
        ("purchase_order_lines.csv", 4, "purchase_order, line"),
    ]
    assert "rows 2 and 4" in result.rejected[0].reason
    assert "rows 2 and 4" in result.rejected[1].reason
    assert _entities(cache) == before


# -- complete set -----------------------------------------------------------------------------


def test_a_row_removed_from_a_file_is_deleted_and_no_longer_supply(tmp_path: Path) -> None:
    cache, pkg = _loaded(tmp_path)
    other = run_sync(open_cache(cache), MemoryConnector({"items": [
        {"code": "M-9", "source": "memory", "source_version": "1"}]}))
    assert other.ok
    (pkg / "purchase_order_lines.csv").write_text(
        BASE["purchase_order_lines.csv"].replace("PO1,2,B-2,S1,P1,500,G,2026-12-08\n", "")
    )
    (pkg / "items.csv").write_text(BASE["items.csv"].replace("B-2,Steel sheet,KG,buy,5,3.5\n", ""))
    # partial update: nothing deleted (B-2 is still referenced, and stays)
    partial = _sync(cache, pkg, partial=True)
    assert partial.ok and partial.total("deleted") == 0
    assert len(read_entity_frame(open_cache(cache), "purchase_order_lines")) == 2
    (pkg / "purchase_order_lines.csv").write_text(
        BASE["purchase_order_lines.csv"].replace("PO1,2,B-2,S1,P1,500,G,2026-12-08\n", "") + "\n"
    )  # a change, so the complete load reads the file again
    (pkg / "items.csv").write_text(BASE["items.csv"])
    result = _sync(cache, pkg)
    assert result.ok, result.error
    assert result.counts["purchase_order_lines"]["deleted"] == 1
    assert result.counts["items"]["deleted"] == 0  # M-9 is another source's item
    data = load_planning_data(open_cache(cache), prepare=False)
    assert data.purchase_order_lines[["purchase_order", "line", "quantity_ordered"]].values.tolist() \
        == [["PO1", 1, 40.0]]
    assert sorted(_items(cache)) == ["A-1", "B-2", "M-9"]


# -- change detection ---------------------------------------------------------------------------


def test_an_edit_that_keeps_size_and_modification_time_is_read(tmp_path: Path) -> None:
    cache, pkg = _loaded(tmp_path)
    path = pkg / "items.csv"
    stat = path.stat()
    path.write_text(BASE["items.csv"].replace("2122", "2221"))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size and path.stat().st_mtime_ns == stat.st_mtime_ns
    result = _sync(cache, pkg)
    assert result.counts["items"] == {"received": 2, "changed": 1, "deleted": 0}
    assert _items(cache)["A-1"][4] == 2221.0
    again = _sync(cache, pkg)
    assert again.counts["items"]["received"] == 0  # same content: skipped


# -- numbers ------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "NaN", "1e400", "Infinity", "2e15"])
def test_non_finite_and_out_of_range_numbers_are_rejected(tmp_path: Path, value: str) -> None:
    cache, pkg = _loaded(tmp_path)
    before = _entities(cache)
    (pkg / "items.csv").write_text(BASE["items.csv"].replace("2122", value))
    result = _sync(cache, pkg)
    assert result.status == SyncRunStatus.FAILED
    assert _where(result) == [("items.csv", 2, "standard_cost")]
    assert _entities(cache) == before


@pytest.mark.parametrize(("field", "value", "reason"), [
    ("lead_time_days", "9" * 5000, "exceeded maximum size"),
    ("lead_time_days", "36501", "less than or equal to 36500"),
    ("lead_time_days", "99999999999999999999", "less than or equal to 36500"),
])
def test_oversized_integers_are_rejected_with_file_row_and_field(
    tmp_path: Path, field: str, value: str, reason: str
) -> None:
    cache, pkg = _loaded(tmp_path)
    (pkg / "items.csv").write_text(BASE["items.csv"].replace(",15,", f",{value},"))
    result = _sync(cache, pkg)
    assert _where(result) == [("items.csv", 2, field)]
    assert reason in result.rejected[0].reason
    assert _items(cache) == GOOD_ITEMS


def test_any_connector_sending_non_finite_numbers_is_refused(tmp_path: Path) -> None:
    engine = open_cache(tmp_path / "c.sqlite")
    rows = {"uoms": [{"code": "EA"}], "items": [
        {"code": "X", "safety_stock": float("inf")}, {"code": "Y", "standard_cost": float("nan")},
        {"code": "Z", "lead_time_days": 10**19}]}
    result = run_sync(engine, MemoryConnector(rows, batch_size=10))
    assert result.status == SyncRunStatus.FAILED
    assert [(e.key, e.field) for e in result.rejected] == [
        ("X", "safety_stock"), ("Y", "standard_cost"), ("Z", "lead_time_days")]


def test_planning_refuses_infinite_numbers_with_a_named_error() -> None:
    frame = pd.DataFrame({"code": ["A", "B", "C"], "safety_stock": [1.0, np.inf, 2.0]})
    with pytest.raises(NonFiniteNumber, match=r"items.safety_stock holds 1 infinite value "
                                              r"\(first in row 2 of 3\)"):
        normalise_frame("items", frame)


# -- bytes the CSV reader cannot take ----------------------------------------------------------


def test_non_utf8_bytes_are_rejected_with_file_row_and_field(tmp_path: Path) -> None:
    cache, pkg = _loaded(tmp_path)
    before = _entities(cache)
    cp1252 = BASE["items.csv"].replace("Frame welded", "Cadre soudé").encode("cp1252")
    (pkg / "items.csv").write_bytes(cp1252)
    result = _sync(cache, pkg)
    assert _where(result) == [("items.csv", 2, "description")]
    assert "bytes that are not UTF-8 (0xE9)" in result.rejected[0].reason
    assert "save the file as UTF-8" in result.rejected[0].reason
    assert _entities(cache) == before
    # the same text in UTF-8 (with or without a byte-order mark) loads
    (pkg / "items.csv").write_bytes(b"\xef\xbb\xbf" + cp1252.decode("cp1252").encode("utf-8"))
    assert _sync(cache, pkg).ok
    assert _items(cache)["A-1"][0] == "Cadre soudé"


def test_a_cell_over_the_csv_field_limit_names_file_row_and_field(tmp_path: Path) -> None:
    cache, pkg = _loaded(tmp_path)
    before = _entities(cache)
    (pkg / "items.csv").write_text(
        "code,description,stock_uom\n"
        "A-1,Frame welded,EA\n"
        f'B-2,"{"x" * (FIELD_LIMIT + 10)}",KG\n'
        "C-3,Never read,EA\n"
    )
    result = _sync(cache, pkg)
    assert result.status == SyncRunStatus.FAILED
    assert _where(result) == [("items.csv", 3, "description")]
    assert f"a cell longer than {FIELD_LIMIT:,} characters" in result.rejected[0].reason
    assert _entities(cache) == before


# -- formula text round-trips -----------------------------------------------------------------


def test_quoted_formula_text_of_an_export_reads_back_as_it_was(tmp_path: Path) -> None:
    cache, pkg = _loaded(tmp_path)
    (pkg / "items.csv").write_text(
        "code,description\nA-1,'=HYPERLINK(x)\nB-2,'-5 mm sheet\nC-3,'quoted\n"
    )
    assert _sync(cache, pkg).ok
    assert {k: v[0] for k, v in _items(cache).items()} == {
        "A-1": "=HYPERLINK(x)", "B-2": "-5 mm sheet", "C-3": "'quoted"}


def test_a_header_only_file_deletes_the_records_of_the_packages_own_source(tmp_path: Path) -> None:
    pkg = _package(tmp_path / "pkg", {"uoms.csv": "code\nEA\n", "items.csv": "code\nA\nB\n"})
    engine = open_cache(tmp_path / "c.sqlite")
    assert run_sync(engine, FilesConnector(pkg, source="plm")).ok
    assert run_sync(engine, MemoryConnector({"items": [{"code": "M", "source": "memory"}]})).ok
    (pkg / "items.csv").write_text("code\n")
    result = run_sync(engine, FilesConnector(pkg, source="plm"))
    assert result.counts["items"]["deleted"] == 2
    assert read_entity_frame(engine, "items").code.tolist() == ["M"]


def test_a_complete_load_after_a_partial_one_deletes_what_the_file_no_longer_has(
    tmp_path: Path,
) -> None:
    cache, pkg = _loaded(tmp_path)
    (pkg / "purchase_order_lines.csv").write_text(
        BASE["purchase_order_lines.csv"].replace("PO1,2,B-2,S1,P1,500,G,2026-12-08\n", "")
    )
    assert _sync(cache, pkg, partial=True).total("deleted") == 0
    assert _sync(cache, pkg, partial=True).counts["purchase_order_lines"]["received"] == 0
    complete = _sync(cache, pkg)  # same file content: read again, as a complete set
    assert complete.counts["purchase_order_lines"] == {"received": 1, "changed": 0, "deleted": 1}
    assert _sync(cache, pkg).counts["purchase_order_lines"]["received"] == 0
