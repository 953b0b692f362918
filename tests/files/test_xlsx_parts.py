"""A big sheet read in parts parsed beside the reading (planner_connectors.files.xlsx_parts) gives
what reading it whole gives: the header, every row with its number and columns (dates, numbers,
text, blank rows, a table starting in column B under title rows), shared or inline strings; a
sheet it cannot split is read whole; an indented BOM read in runs of rows gives the same
records as read at once."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter
from planner_connectors.files import indented, runs, tables, xlsx_parts
from planner_connectors.files.profile import Reading
from planner_connectors.files.source import MappedSource

RESOURCES = Path(__file__).resolve().parents[2] / "resources" / "mappings"


def _write(path: Path, inline: bool) -> None:
    """Two title rows, the header on row 3 from column B, 600 rows (every 50th blank)."""
    book = xlsxwriter.Workbook(str(path), {"constant_memory": inline})
    dates = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet = book.add_worksheet("Data")
    sheet.write_string(0, 1, "Open orders")
    sheet.write_string(1, 1, "as of today")
    for c, h in enumerate(["Part", "Qty", "Due", "Note"], start=1):
        sheet.write_string(2, c, h)
    for r in range(3, 603):
        if r % 50 == 0:
            continue
        sheet.write_string(r, 1, f"P-{r:04d}")
        sheet.write_number(r, 2, r / 4)
        sheet.write_datetime(r, 3, dt.datetime(2026, 1, 1) + dt.timedelta(days=r), dates)
        if r % 3:
            sheet.write_string(r, 4, "note <&> " * (r % 4))
    book.add_worksheet("Other").write_string(0, 0, "x")
    book.close()


def _tables(path: Path, header_row: int = 3) -> list[tuple[str, list[str], list[Any]]]:
    out = []
    for t in tables.read_tables(path, ("Data",), header_row, Reading()):
        rows = [(n, [*cells, *[""] * (5 - len(cells))]) for n, cells in t.all_rows()]
        out.append((t.label, t.header, rows))
    return out


@pytest.fixture
def parts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Sheets of 3 kB and more split into parts of about 1 kB (3 idle cores: 2 parsers); the
    parts parsed."""
    monkeypatch.setattr(xlsx_parts, "MIN_SHEET_BYTES", 3000)
    monkeypatch.setattr(xlsx_parts, "PART_BYTES", 1000)
    monkeypatch.setattr(xlsx_parts, "SHARED_STRING_FACTOR", 0)
    monkeypatch.setattr(xlsx_parts, "free_cores", lambda: 3.0)
    parsed: list[int] = []
    parse = xlsx_parts._parse

    def spy(data: bytes, name: str) -> Any:
        parsed.append(len(data))
        return parse(data, name)

    monkeypatch.setattr(xlsx_parts, "_parse", spy)
    return parsed


def _whole(path: Path, monkeypatch: pytest.MonkeyPatch, **kw: Any) -> Any:
    with monkeypatch.context() as m:
        m.setattr(xlsx_parts, "MIN_SHEET_BYTES", 1 << 40)
        return _tables(path, **kw)


@pytest.mark.parametrize("inline", [True, False], ids=["inline strings", "shared strings"])
def test_a_sheet_read_in_parts_reads_as_whole(tmp_path: Path, parts: list[int],
                                              monkeypatch: pytest.MonkeyPatch,
                                              inline: bool) -> None:
    path = tmp_path / "orders.xlsx"
    _write(path, inline)
    whole = _whole(path, monkeypatch)
    assert not parts
    split = _tables(path)
    assert len(parts) > 5  # the sheet went through many parts
    assert split == whole
    label, header, rows = split[0]
    assert (label, header) == ("orders.xlsx, sheet 'Data'", ["", "Part", "Qty", "Due", "Note"])
    # rows 4..603 less the 12 blank ones (r = 50, 100, ... 600 0-based: rows 51, 101, ... 601)
    assert len(rows) == 600 - 12
    # row 4 (r = 3): 3 / 4, 2026-01-01 + 3 days (a date format: a date), no note (3 % 3 == 0)
    assert rows[0] == (4, ["", "P-0003", 0.75, dt.date(2026, 1, 4), ""])
    # row 6 (r = 5): note repeated 5 % 4 = 1 time
    assert rows[2] == (6, ["", "P-0005", 1.25, dt.date(2026, 1, 6), "note <&> "])
    assert rows[-1][0] == 603 and rows[-1][1][1] == "P-0602"
    assert [n for n, _ in rows if n in (50, 51, 52)] == [50, 52]


def test_a_header_row_above_the_data_is_refused_the_same_way(
        tmp_path: Path, parts: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "orders.xlsx"
    _write(path, True)
    with pytest.raises(tables.TableError) as whole:
        _whole(path, monkeypatch, header_row=700)
    with pytest.raises(tables.TableError) as split:
        _tables(path, header_row=700)
    assert str(split.value) == str(whole.value) == (
        "orders.xlsx, sheet 'Data': no row 700 (header_row of the profile)")


def test_rows_without_numbers_are_read_whole(tmp_path: Path, parts: list[int],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows after the first parts lose their r="..." (allowed by the format): those parts
    cannot be placed, the rest of the sheet is read whole, nothing read twice or lost."""
    path = tmp_path / "orders.xlsx"
    _write(path, True)
    whole = _whole(path, monkeypatch)
    with zipfile.ZipFile(path) as src:
        entries = {i.filename: src.read(i) for i in src.infolist()}
    sheet = "xl/worksheets/sheet1.xml"
    xml = entries[sheet]
    at = len(xml) // 2
    entries[sheet] = xml[:at] + re.sub(rb'<row r="\d+"', b"<row", xml[at:])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, data in entries.items():
            dst.writestr(name, data)
    path.write_bytes(out.getvalue())
    assert _tables(path) == whole
    assert 1 < len(parts)


def test_a_busy_machine_reads_the_sheet_whole(tmp_path: Path, parts: list[int],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "orders.xlsx"
    _write(path, True)
    for free in (0.4, 1.0, 1.9):  # the reading thread's core and less than 2 more idle
        monkeypatch.setattr(xlsx_parts, "free_cores", lambda free=free: free)
        assert xlsx_parts.sheet_parts(path, "Data") is None
    assert _tables(path) == _whole(path, monkeypatch) and not parts


def _records(monkeypatch: pytest.MonkeyPatch, block_rows: int) -> dict[str, Any]:
    monkeypatch.setattr(tables, "BLOCK_ROWS", block_rows)
    source = MappedSource(RESOURCES / "plant", RESOURCES / "plm-bom.toml", "files")
    return {e: [(r, n, [str(x) for x in c.rejected])
                for c in source.chunks(e, 1 << 30) for r, n in zip(c.records, c.numbers)]
            for e in source.entities()}


def test_an_indented_bom_read_in_runs_of_rows_gives_the_same_records(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The sample PLM export's rows come in blocks of 1, 2, 3, ... rows: each run read starts at
    a level-0 row, the records, row numbers and messages are those of one block."""
    at_once = _records(monkeypatch, 10_000)
    assert sum(len(v) for v in at_once.values()) > 5
    cuts: list[int] = []
    units = runs.units

    def spy(columns: Any, table: Any) -> Any:
        for unit in units(columns, table):
            cuts.append(len(unit))
            yield unit

    monkeypatch.setattr(indented, "_units", spy)
    for size in (1, 2, 3, 5):
        cuts.clear()
        assert _records(monkeypatch, size) == at_once
        assert len(cuts) > 1


INDENTED = """[profile]
source = "plm"

[bom_lines]
files = ["bom.xlsx"]
layout = "indented"
indent = true
indent_width = 2
default_revision = "01"
[bom_lines.columns]
"Part" = "item"
"Qty" = "quantity_per"
"""


def test_an_indentation_bom_read_in_runs_cuts_where_the_level_is_0(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Levels from the item's indentation (2 per level): " T2" (one space) is level 0 as well;
    runs cut there and at "T1", "T3" give the lines of one block."""
    book = xlsxwriter.Workbook(str(tmp_path / "bom.xlsx"))
    sheet = book.add_worksheet("BOM")
    rows = [("Part", "Qty"), ("T1", 1), ("  A", 2), ("    B", 3), ("  C", 4), (" T2", 1),
            ("  A", 2), ("   D", 5), ("T3", 1), ("  C", 6)]
    for r, (part, qty) in enumerate(rows):
        sheet.write(r, 0, part)
        sheet.write(r, 1, qty)
    book.close()
    (tmp_path / "bom.toml").write_text(INDENTED, encoding="utf-8")

    def lines(block_rows: int) -> list[tuple[Any, ...]]:
        monkeypatch.setattr(tables, "BLOCK_ROWS", block_rows)
        source = MappedSource(tmp_path, tmp_path / "bom.toml", "files")
        out = []
        for c in source.chunks("bom_lines", 1 << 30):
            assert not c.rejected
            out += [(n, r["parent"], r["position"], r["component"], r["quantity_per"])
                    for r, n in zip(c.records, c.numbers)]
        return out

    # "   D" has 3 leading spaces: level 1 (3 // 2), a line of T2 like "  A"
    expected = [(3, "T1", 10, "A", 2.0), (4, "A", 10, "B", 3.0), (5, "T1", 20, "C", 4.0),
                (7, "T2", 10, "A", 2.0), (8, "T2", 20, "D", 5.0), (10, "T3", 10, "C", 6.0)]
    for size in (1, 2, 3, 4, 100):
        assert lines(size) == expected


ITEMS = """[profile]
source = "plm"

[bom_lines]
files = ["bom.csv"]
layout = "indented"
[bom_lines.columns]
"Level" = "level"
"Part" = "item"
"Rev" = "revision"
"Qty" = "quantity_per"
"Text" = "item.description"
"""


def _indented(folder: Path, fast: bool, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(indented, "FAST", fast)
    source = MappedSource(folder, folder / "bom.toml", "files")
    return {e: [(c.records, c.numbers, [str(x) for x in c.rejected], c.given is not None)
                for c in source.chunks(e, 1 << 30)] for e in source.entities()}


@pytest.mark.parametrize("last", ["' Part Y'", "Part Z"])
def test_an_item_listed_again_is_compared_as_read(tmp_path: Path, last: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Y is listed twice; the second time its text is " Part Y" (the same once trimmed: the
    column-wise reading, converting Y's cells at its first listing only) or "Part Z" (two
    descriptions: read row by row, rejected). Either way what the row-by-row reading gives."""
    text = last.strip("'")
    (tmp_path / "bom.csv").write_text(
        "Level,Part,Rev,Qty,Text\n0,TOP,A,1,Top\n1,X,B,2,Part X\n2,Y,,3,Part Y\n"
        f'1,Y,,4,"{text}"\n', encoding="utf-8")
    (tmp_path / "bom.toml").write_text(ITEMS, encoding="utf-8")
    fast = _indented(tmp_path, True, monkeypatch)
    slow = _indented(tmp_path, False, monkeypatch)
    assert [c[:3] for e in fast.values() for c in e] == [c[:3] for e in slow.values() for c in e]
    (items, numbers, rejected, given), = fast["items"]
    if text == " Part Y":
        assert given  # read column-wise
        assert [(r["code"], r["description"]) for r in items] == [
            ("TOP", "Top"), ("X", "Part X"), ("Y", "Part Y")]
        assert numbers == [2, 3, 4] and rejected == []
        lines, = fast["bom_lines"]
        assert [(r["parent"], r["revision"], r["position"], r["component"], r["quantity_per"])
                for r in lines[0]] == [("TOP", "A", 10, "X", 2.0), ("X", "B", 10, "Y", 3.0),
                                       ("TOP", "A", 20, "Y", 4.0)]
    else:
        assert not given
        assert len(rejected) == 1 and "one item, two descriptions" in rejected[0]
        assert "row 5" in rejected[0]
