"""Exports are safe to open and never destroy what they would replace (issue 11, sections 1, 4).

- CSV (table exports and data packages): text a spreadsheet would run as a formula gets a quote
  in front (OWASP); XLSX: such text is a string cell, never a formula; numbers stay numbers.
- `workbench export --package DIR --cache PATH` never creates a cache and never writes into a
  non-empty folder without --force.
"""

from __future__ import annotations

import csv
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from planner_connectors.files import FilesConnector

from tests.fixtures_connector import MemoryConnector
from workbench.cache.db import open_cache
from workbench.cache.frames import read_entity_frame
from workbench.domain.cells import neutralise, restore
from workbench.services.export import export_frame
from workbench.services.packages import export_package
from workbench.services.sync import run_sync

REPO = Path(__file__).resolve().parents[1]
DANGEROUS = ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "text": [*DANGEROUS, "plain", "'quoted"],
        "number": [-1.5, 2.0, -3.0, 4.0, 5.0, 6.0, -7.0, 8.0],
        "count": [-1, 2, 3, 4, 5, 6, 7, 8],
    })


def test_csv_export_quotes_formula_text_and_keeps_numbers(tmp_path: Path) -> None:
    path = export_frame(_frame(), tmp_path / "t.csv")
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["text", "number", "count"]
    assert [r[0] for r in rows[1:]] == [
        "'=HYPERLINK(\"http://x\",\"y\")", "'+1+1", "'-2+3", "'@SUM(A1)", "'\tcmd", "'\rcmd",
        "plain", "'quoted"]
    assert [r[1] for r in rows[1:]] == ["-1.5", "2.0", "-3.0", "4.0", "5.0", "6.0", "-7.0", "8.0"]
    assert [r[2] for r in rows[1:]] == ["-1", "2", "3", "4", "5", "6", "7", "8"]


def test_xlsx_export_writes_formula_text_as_string_cells(tmp_path: Path) -> None:
    frame = _frame().rename(columns={"count": "=count"})
    path = export_frame(frame, tmp_path / "t.xlsx")
    sheet = openpyxl.load_workbook(path).active
    cells = list(sheet.iter_rows(min_row=1))
    assert [(c.value, c.data_type) for c in cells[0]] == [
        ("text", "s"), ("number", "s"), ("=count", "s")]
    # values as Excel reads them: a carriage return is stored as the OOXML escape _x000D_,
    # which Excel and calamine decode and openpyxl's reader does not; the cell types by openpyxl
    from python_calamine import CalamineWorkbook

    values = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    assert [(v[0], r[0].data_type) for v, r in zip(values[1:], cells[1:])] == [
        (t, "s") for t in [*DANGEROUS, "plain", "'quoted"]]
    assert [(r[1].value, r[1].data_type) for r in cells[1:3]] == [(-1.5, "n"), (2, "n")]
    xml = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml  # no formula anywhere in the sheet


def test_neutralise_and_restore_round_trip_every_text() -> None:
    texts = [*DANGEROUS, "", "'", "''", "'=x", "''x", "'hello", "a=b", "-", "=", "@"]
    for text in texts:
        cell = neutralise(text)
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), text
        assert restore(cell) == text
    assert neutralise("plain") == "plain" and neutralise("'hello") == "'hello"


def test_a_data_package_export_quotes_formula_text_and_loads_back_exactly(tmp_path: Path) -> None:
    engine = open_cache(tmp_path / "a.sqlite")
    # the model strips leading whitespace (tab, CR); a CR inside text stays and is quoted
    texts = [t for t in DANGEROUS if not t[0].isspace()] + ["'=x", "'hello", "a\rb", "c\r\nd"]
    items = [{"code": f"I{n}", "description": text, "source": "memory"}
             for n, text in enumerate(texts)]
    assert run_sync(engine, MemoryConnector({"uoms": [{"code": "EA"}], "items": items})).ok
    export_package(engine, tmp_path / "pkg")
    with (tmp_path / "pkg" / "items.csv").open(newline="", encoding="utf-8") as fh:
        described = [r["description"] for r in csv.DictReader(fh)]
    assert described == ["'=HYPERLINK(\"http://x\",\"y\")", "'+1+1", "'-2+3", "'@SUM(A1)",
                         "''=x", "'hello", "a\rb", "c\r\nd"]
    copy = open_cache(tmp_path / "b.sqlite")
    assert run_sync(copy, FilesConnector(tmp_path / "pkg")).ok
    back = read_entity_frame(copy, "items").sort_values("code")
    assert back.description.tolist() == [i["description"] for i in items]


def _cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {"HOME": str(home), "XDG_CONFIG_HOME": str(home / "cfg"),
           "XDG_DATA_HOME": str(home / "data"), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, str(REPO / "main.py"), *args], capture_output=True,
                          text=True, env=env, cwd=REPO, timeout=120)


@pytest.fixture
def loaded_cache(tmp_path: Path) -> Path:
    path = tmp_path / "c.sqlite"
    engine = open_cache(path)
    assert run_sync(engine, MemoryConnector({"uoms": [{"code": "EA"}],
                                             "items": [{"code": "A"}, {"code": "B"}]})).ok
    engine.dispose()
    return path


def test_export_never_creates_a_cache(tmp_path: Path) -> None:
    typo = tmp_path / "cahce.sqlite"
    run = _cli("export", "--package", str(tmp_path / "out"), "--cache", str(typo), home=tmp_path)
    assert run.returncode == 3
    assert f"no cache at {typo}" in run.stderr
    assert not typo.exists() and not (tmp_path / "out").exists()
    # neither the default cache (none exists in this home)
    default = _cli("export", "--package", str(tmp_path / "out"), home=tmp_path)
    assert default.returncode == 3 and not (tmp_path / "data").exists()


def test_export_never_overwrites_a_non_empty_folder_without_force(
    tmp_path: Path, loaded_cache: Path
) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "items.csv").write_text("code\nKEEP-1\nKEEP-2\n")
    run = _cli("export", "--package", str(pkg), "--cache", str(loaded_cache), home=tmp_path)
    assert run.returncode == 2
    assert "is not empty: add --force" in run.stderr
    assert (pkg / "items.csv").read_text() == "code\nKEEP-1\nKEEP-2\n"
    assert sorted(p.name for p in pkg.iterdir()) == ["items.csv"]
    forced = _cli("export", "--package", str(pkg), "--cache", str(loaded_cache), "--force",
                  home=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert (pkg / "items.csv").read_text().splitlines()[1:] == [
        ",,,A,,EA,buy,0,0.0,0.0,0.0,0.0,,,", ",,,B,,EA,buy,0,0.0,0.0,0.0,0.0,,,"]
    # a new or empty folder needs no --force
    fresh = _cli("export", "--package", str(tmp_path / "new"), "--cache", str(loaded_cache),
                 home=tmp_path)
    assert fresh.returncode == 0, fresh.stderr
    assert (tmp_path / "new" / "items.csv").is_file()
