"""Every data problem of a mapped file is named by file, sheet, row, column and reason, and a
sync with one rejected row loads nothing (unless partial)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter
from planner_connectors.files import FilesConnector
from planner_connectors.files.profile import ProfileError
from planner_connectors.files.source import MappedSource

from workbench.cache.db import open_cache
from workbench.domain.enums import SyncRunStatus
from workbench.services.sync import run_sync

PROFILE = """\
[profile]
source = "wms"
decimal = ","
thousands = "."
date_formats = ["%d.%m.%Y"]

[maps.site]
"1000" = "S1"

[inventory]
files = ["stock*.csv"]
[inventory.columns]
"Artikel" = "item"
"Werk" = "site"
"Status" = "status"
"Menge" = "quantity"
"Stand" = "as_of"
[inventory.codes.site]
map = "site"
[inventory.values.status]
"frei" = "available"
"gesperrt" = "quality_hold"
"""
HEADER = "Artikel;Werk;Status;Menge;Stand\n"


def _folder(tmp_path: Path, rows: str, profile: str = PROFILE, name: str = "stock.csv",
            encoding: str = "utf-8") -> tuple[Path, Path]:
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    (folder / name).write_bytes((HEADER + rows).encode(encoding))
    (tmp_path / "wms.toml").write_text(profile, encoding="utf-8")
    return folder, tmp_path / "wms.toml"


def _read(folder: Path, profile: Path, entity: str = "inventory") -> tuple[list[dict[str, Any]],
                                                                           list[str]]:
    source = MappedSource(folder, profile, "files")
    good: list[dict[str, Any]] = []
    bad: list[str] = []
    for chunk in source.chunks(entity, 1000):
        good.extend(chunk.records)
        bad.extend(str(e) for e in chunk.rejected)
    return good, bad


def test_value_map_missing_a_value_names_the_row_column_and_profile_line(tmp_path: Path) -> None:
    folder, profile = _folder(tmp_path, "A1;1000;frei;1;30.11.2026\nA2;1000;Sperre;2;30.11.2026\n")
    good, bad = _read(folder, profile)
    assert [r["item"] for r in good] == ["A1"]
    assert bad == [
        "stock.csv, row 3: inventory 'A2/S1/?/?/?/?', field status (column 'Status'): value "
        "'Sperre' is not in the value map of status (wms.toml, line 20: frei, gesperrt); add it "
        "there"]


def test_numbers_with_the_profiles_separators_and_wrong_ones_refused(tmp_path: Path) -> None:
    folder, profile = _folder(
        tmp_path, "A1;1000;frei;1.234,5;30.11.2026\nA2;1000;frei;1,2,3;30.11.2026\n"
                  "A3;1000;frei;12.5;30.11.2026\nA4;1000;frei;7-;30.11.2026\n")
    good, bad = _read(folder, profile)
    assert [(r["item"], r["quantity"]) for r in good] == [("A1", 1234.5)]
    assert bad[0] == ("stock.csv, row 3: inventory 'A2/S1/?/?/available/?', field quantity "
                      "(column 'Menge'): '1,2,3' is not a number (decimal ',', thousands '.', as the "
                      "profile says)")
    assert bad[1].startswith("stock.csv, row 4: inventory 'A3/S1/?/?/available/?', field quantity "
                             "(column 'Menge'): '12.5' is not a number")
    # a trailing minus is a negative number; the model refuses negative stock, named by column
    assert bad[2] == ("stock.csv, row 5: inventory 'A4/S1/?/?/available/?', field quantity (column "
                      "'Menge'): Input should be greater than or equal to 0")


def test_dates_in_the_profiles_formats_or_iso(tmp_path: Path) -> None:
    folder, profile = _folder(tmp_path, "A1;1000;frei;1;2026-11-30\nA2;1000;frei;1;11/30/2026\n")
    good, bad = _read(folder, profile)
    assert str(good[0]["as_of"]) == "2026-11-30"
    assert bad == ["stock.csv, row 3: inventory 'A2/S1/?/?/available/?', field as_of (column 'Stand'): "
                   "'11/30/2026' is not a date in the profile's formats (%d.%m.%Y) nor ISO "
                   "(2026-12-31)"]


def test_code_map_missing_a_code(tmp_path: Path) -> None:
    folder, profile = _folder(tmp_path, "A1;2000;frei;1;30.11.2026\n")
    _, bad = _read(folder, profile)
    assert bad == ["stock.csv, row 2: inventory 'A1/?/?/?/available/?', field site (column 'Werk'): code "
                   "'2000' is not in the code map [maps.site] (wms.toml, line 7)"]


def test_cross_reference_missing(tmp_path: Path) -> None:
    text = PROFILE + '[inventory.codes.item]\nxref = "WMS"\n[xrefs.WMS]\n"A1" = "P-1"\n'
    folder, profile = _folder(tmp_path, "A1;1000;frei;1;30.11.2026\nA9;1000;frei;1;30.11.2026\n",
                              text)
    good, bad = _read(folder, profile)
    assert [r["item"] for r in good] == ["P-1"]
    assert bad == ["stock.csv, row 3: inventory '?/S1/?/?/available/?', field item (column 'Artikel'): "
                   "code 'A9' has no cross-reference of system 'WMS' (item_xrefs of this source, "
                   "[xrefs.WMS] in wms.toml, line 23, or one item in the cache's "
                   "cross-references)"]


def test_duplicate_key_across_files_names_both_rows(tmp_path: Path) -> None:
    folder, profile = _folder(tmp_path, "A1;1000;frei;1;30.11.2026\n")
    (folder / "stock2.csv").write_text(HEADER + "A2;1000;frei;1;30.11.2026\nA1;1000;frei;5;"
                                                "30.11.2026\n", encoding="utf-8")
    good, bad = _read(folder, profile)
    assert len(good) == 2
    assert bad == ["stock2.csv, row 3: inventory 'A1/S1///available/', field item, site, "
                   "location, lot, status, allocated_to: duplicate key: stock.csv, row 2 has the "
                   "same key"]


def test_a_mapped_column_missing_from_the_file_names_the_profile_line(tmp_path: Path) -> None:
    folder, profile = _folder(tmp_path, "A1;1000;frei;1;30.11.2026\n",
                              PROFILE.replace('"Stand" = "as_of"', '"Datum" = "as_of"'))
    with pytest.raises(ProfileError) as info:
        _read(folder, profile)
    assert str(info.value) == (
        "stock.csv, row 1: no column 'Datum' (mapped to as_of at wms.toml, line 17); the columns "
        "are: Artikel, Werk, Status, Menge, Stand")


def test_no_file_matches(tmp_path: Path) -> None:
    folder, profile = _folder(tmp_path, "", name="other.csv")
    with pytest.raises(ProfileError) as info:
        _read(folder, profile)
    assert str(info.value) == f"wms.toml, line 11: no file in {folder} matches 'stock*.csv'"


def test_encodings_detected_utf8_bom_and_cp1252_and_undefined_bytes_refused(tmp_path: Path) -> None:
    rows = "Stahl\u00e4;1000;frei;1;30.11.2026\n"
    for encoding in ("utf-8", "utf-8-sig", "cp1252"):
        folder, profile = _folder(tmp_path, rows, encoding=encoding)
        good, bad = _read(folder, profile)
        assert (good[0]["item"], bad) == ("Stahl\u00e4", []), encoding
    (folder / "stock.csv").write_bytes(HEADER.encode() + b"A\x81;1000;frei;1;30.11.2026\n")
    with pytest.raises(ProfileError) as info:
        _read(folder, profile)
    assert str(info.value) == ("stock.csv: byte 0x81 at offset 33 is neither UTF-8 nor cp1252; "
                               "state the file's encoding in the profile (encoding = \"...\")")


def test_delimiter_detected_from_the_header(tmp_path: Path) -> None:
    folder, profile = _folder(tmp_path, "")
    (folder / "stock.csv").write_text('Artikel\tWerk\tStatus\tMenge\tStand\n"A;1"\t1000\tfrei\t'
                                      '2\t30.11.2026\n', encoding="utf-8")
    good, _ = _read(folder, profile)
    assert [(r["item"], r["quantity"]) for r in good] == [("A;1", 2.0)]


def _bom(tmp_path: Path, rows: list[list[Any]], extra: str = "") -> tuple[Path, Path]:
    folder = tmp_path / "plm"
    folder.mkdir(exist_ok=True)
    book = xlsxwriter.Workbook(str(folder / "bom.xlsx"))
    sheet = book.add_worksheet("Struktur")
    sheet.write_row(0, 0, ["Level", "Part", "Rev", "Qty", "Text"])
    for i, row in enumerate(rows, start=1):
        for j, value in enumerate(row):
            if value is not None:
                sheet.write(i, j, value)
    book.close()
    text = ('[bom_lines]\nfiles = ["bom.xlsx"]\nlayout = "indented"\n[bom_lines.columns]\n'
            '"Level" = "level"\n"Part" = "item"\n"Rev" = "revision"\n"Qty" = "quantity_per"\n'
            '"Text" = "item.description"\n' + extra)
    (tmp_path / "plm.toml").write_text(text, encoding="utf-8")
    return folder, tmp_path / "plm.toml"


def test_indented_bom_yields_items_revisions_and_lines_numbered_by_position(tmp_path: Path) -> None:
    folder, profile = _bom(tmp_path, [
        [0, "TOP", "C", 1, "Top"], [1, "SUB", "A", 2, "Sub"], [2, "BOLT", None, 4, "Bolt"],
        [1, "NUT", None, 8, "Nut"], [0, "TOP2", "A", 1, "Top 2"], [1, "NUT", None, 3, "Nut"],
    ])
    lines, bad = _read(folder, profile, "bom_lines")
    assert bad == []
    assert [(r["parent"], r["revision"], r["position"], r["component"], r["quantity_per"])
            for r in lines] == [("TOP", "C", 10, "SUB", 2.0), ("SUB", "A", 10, "BOLT", 4.0),
                                ("TOP", "C", 20, "NUT", 8.0), ("TOP2", "A", 10, "NUT", 3.0)]
    items, _ = _read(folder, profile, "items")
    assert [(r["code"], r["description"]) for r in items] == [
        ("TOP", "Top"), ("SUB", "Sub"), ("BOLT", "Bolt"), ("NUT", "Nut"), ("TOP2", "Top 2")]
    revisions, _ = _read(folder, profile, "bom_revisions")
    assert [(r["parent"], r["revision"]) for r in revisions] == [
        ("TOP", "C"), ("SUB", "A"), ("TOP2", "A")]


def test_indented_bom_structure_errors(tmp_path: Path) -> None:
    folder, profile = _bom(tmp_path, [
        [1, "ORPHAN", None, 1, "x"],          # row 2: no level 0 above
        [0, "TOP", "A", 1, "Top"],
        [2, "DEEP", None, 1, "Deep"],         # row 4: level skipped
        [1, "SUB", None, 1, "Sub"],
        [2, "BOLT", None, 1, "Bolt"],         # row 6: parent SUB has no revision
        [1, "NUT", None, 1, "Nut, M8"],       # row 7: described differently below
        [0, "TOP", "A", 1, "Top"],
        [1, "PIN", None, 1, "Pin"],           # row 9: TOP/A listed again, other components
        [1, "NUT", None, 1, "Nut"],           # row 10
    ])
    _, bad = _read(folder, profile, "bom_lines")
    assert bad == [
        "bom.xlsx, sheet 'Struktur', row 2: bom_lines 'ORPHAN', field level: level 1 with no row "
        "at level 0 above it",
        "bom.xlsx, sheet 'Struktur', row 4: bom_lines 'DEEP', field level: level 2 directly "
        "under level 0 (row 3): a level is skipped",
        "bom.xlsx, sheet 'Struktur', row 6: bom_lines 'SUB/?', field revision: its parent SUB "
        "(row 5) has no revision: fill column 'Rev' there or set default_revision in the profile",
        "bom.xlsx, sheet 'Struktur', row 9: bom_lines 'TOP/A/10', field component: TOP revision "
        "A is listed again at bom.xlsx, sheet 'Struktur', row 8 with other components than at "
        "bom.xlsx, sheet 'Struktur', row 3",
    ]
    _, item_errors = _read(folder, profile, "items")
    assert item_errors == [
        "bom.xlsx, sheet 'Struktur', row 10: items 'NUT', field description (column 'Text'): "
        "'Nut' here, 'Nut, M8' at bom.xlsx, sheet 'Struktur', row 7: one item, two descriptions"]


def test_indentation_levels_and_dotted_levels(tmp_path: Path) -> None:
    folder, profile = _bom(tmp_path, [[".0", "TOP", "A", 1, "t"], ["..1", "X", None, 2, "x"]])
    lines, bad = _read(folder, profile, "bom_lines")
    assert bad == [] and [(r["parent"], r["component"]) for r in lines] == [("TOP", "X")]
    folder, profile = _bom(tmp_path, [[None, "TOP", "A", 1, "t"], [None, "  X", None, 2, "x"],
                                      [None, "    Y", None, 3, "y"]],
                           "")
    text = profile.read_text().replace('"Level" = "level"\n', "").replace(
        'layout = "indented"',
        'layout = "indented"\nindent = true\nindent_width = 2\ndefault_revision = "01"')
    profile.write_text(text)
    lines, bad = _read(folder, profile, "bom_lines")
    assert bad == []
    assert [(r["parent"], r["revision"], r["component"]) for r in lines] == [
        ("TOP", "A", "X"), ("X", "01", "Y")]


def test_sheet_not_in_workbook(tmp_path: Path) -> None:
    folder, profile = _bom(tmp_path, [[0, "TOP", "A", 1, "t"]])
    profile.write_text(profile.read_text().replace('layout = "indented"',
                                                   'layout = "indented"\nsheets = ["BOM"]'))
    with pytest.raises(ProfileError, match=r"^bom.xlsx: no sheet 'BOM' \(sheets: Struktur\)$"):
        _read(folder, profile, "bom_lines")


def _master(tmp_path: Path) -> Path:
    pkg = tmp_path / "master"
    pkg.mkdir()
    (pkg / "uoms.csv").write_text("code\nEA\n")
    (pkg / "sites.csv").write_text("code\nS1\n")
    (pkg / "items.csv").write_text("code\nA1\nA2\nA3\n")
    return pkg


def test_a_sync_with_a_rejected_row_loads_nothing_unless_partial(tmp_path: Path) -> None:
    engine = open_cache(tmp_path / "c.sqlite")
    assert run_sync(engine, FilesConnector(_master(tmp_path))).ok
    folder, profile = _folder(tmp_path, "A1;1000;frei;1;30.11.2026\nA2;1000;frei;x;30.11.2026\n"
                                        "A3;1000;frei;3;30.11.2026\n")
    result = run_sync(engine, FilesConnector(dir=folder, mapping=profile))
    assert result.status == SyncRunStatus.FAILED
    assert [str(e) for e in result.rejected] == [
        "stock.csv, row 3: inventory 'A2/S1/?/?/available/?', field quantity (column 'Menge'): 'x' is "
        "not a number (decimal ',', thousands '.', as the profile says)"]
    assert result.error is not None and "1 row rejected, nothing was loaded" in result.error
    con = sqlite3.connect(tmp_path / "c.sqlite")
    assert con.execute("SELECT count(*) FROM inventory").fetchone() == (0,)
    partial = run_sync(engine, FilesConnector(dir=folder, mapping=profile, complete=False),
                       partial=True)
    assert partial.status == SyncRunStatus.PARTIAL
    assert con.execute("SELECT item, quantity, source FROM inventory ORDER BY item").fetchall() == [
        ("A1", 1.0, "wms"), ("A3", 3.0, "wms")]
    con.close()


def test_a_reference_to_an_unknown_item_is_named_by_file_and_row(tmp_path: Path) -> None:
    engine = open_cache(tmp_path / "c.sqlite")
    assert run_sync(engine, FilesConnector(_master(tmp_path))).ok
    folder, profile = _folder(tmp_path, "ZZ;1000;frei;1;30.11.2026\n")
    result = run_sync(engine, FilesConnector(dir=folder, mapping=profile))
    assert result.status == SyncRunStatus.FAILED
    assert str(result.rejected[0]).startswith("stock.csv, row 2: inventory 'ZZ/S1")
    assert "item" in result.rejected[0].field
