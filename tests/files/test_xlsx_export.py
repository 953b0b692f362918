"""XLSX exports a planner can reuse: frozen header, autofilter, number formats per column, key
column first, an About sheet saying where the rows came from; written streaming."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from workbench.services.export import ExportInfo, column_kind, export_frame
from workbench.services.tasks import Cancelled


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "description": ["Housing", "Bolt M8", None],
        "code": ["P-111", "P-112", "P-113"],
        "on_hand": [1250.5, 3.0, float("nan")],
        "open_orders": [2, 0, 7],
        "unit_price": [44.9, 0.12, 3.0],
        "need_date": pd.to_datetime(["2026-12-14", "2027-01-04", None]),
        "changed_at": pd.to_datetime(["2026-12-01 08:30", "2026-12-02 17:05", "2026-12-03 00:00"]),
    })


def test_xlsx_has_frozen_header_autofilter_formats_key_first_and_about_sheet(tmp_path: Path) -> None:
    info = ExportInfo(source="cache /data/plant.sqlite (sources: erp, wms)",
                      as_of="2026-12-01 06:00", filters="site = S1; item contains P-11",
                      produced_by="workbench shortages --site S1")
    path = export_frame(_frame(), tmp_path / "t.xlsx", info=info)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Export", "About"]
    sheet = book["Export"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:G4"
    header = [c.value for c in sheet[1]]
    assert header == ["code", "description", "on_hand", "open_orders", "unit_price", "need_date",
                      "changed_at"]
    row2 = sheet[2]
    assert [c.value for c in row2[:5]] == ["P-111", "Housing", 1250.5, 2, 44.9]
    assert [c.number_format for c in row2[2:7]] == [
        "#,##0.000", "#,##0", "#,##0.00", "yyyy-mm-dd", "yyyy-mm-dd hh:mm"]
    assert row2[5].value == dt.datetime(2026, 12, 14)  # a date cell, not text
    assert row2[5].is_date and row2[6].value == dt.datetime(2026, 12, 1, 8, 30)
    assert sheet["C4"].value is None and sheet["F4"].value is None  # NaN / NaT: empty cells
    about = {r[0].value: r[1].value for r in book["About"].iter_rows()}
    assert about["Source"] == "cache /data/plant.sqlite (sources: erp, wms)"
    assert about["As of"] == "2026-12-01 06:00"
    assert about["Filters"] == "site = S1; item contains P-11"
    assert about["Produced by"] == "workbench shortages --site S1"
    assert about["Rows"] == "3"


def test_column_kinds() -> None:
    frame = _frame()
    assert [column_kind(c, frame[c]) for c in frame.columns] == [
        "text", "text", "quantity", "integer", "money", "date", "datetime"]
    assert column_kind("qty", pd.Series([1.0, 2.0])) == "integer"  # whole floats
    assert column_kind("due", pd.Series([dt.date(2026, 1, 1)], dtype=object)) == "date"


def test_an_explicit_key_and_format_override(tmp_path: Path) -> None:
    path = export_frame(_frame(), tmp_path / "t.xlsx", key="need_date",
                        formats={"open_orders": "quantity"})
    sheet = openpyxl.load_workbook(path)["Export"]
    assert sheet["A1"].value == "need_date"
    assert sheet["E2"].number_format == "#,##0.000"  # open_orders, now the 5th column


class _State:
    def __init__(self, cancel_at: int | None = None) -> None:
        self.progress: list[tuple[int, int]] = []
        self.cancel_at = cancel_at

    def set_progress(self, done: int, total: int) -> None:
        self.progress.append((done, total))

    def set_status(self, text: str) -> None:
        pass

    def is_cancelled(self) -> bool:
        return self.cancel_at is not None and len(self.progress) >= self.cancel_at


def test_large_export_reports_progress_streams_and_can_be_cancelled(tmp_path: Path) -> None:
    n = 20_000
    frame = pd.DataFrame({"code": [f"P-{i:06d}" for i in range(n)], "qty": [i * 0.5 for i in range(n)]})
    state = _State()
    export_frame(frame, tmp_path / "big.xlsx", state)  # type: ignore[arg-type]
    assert state.progress[:4] == [(5000, n), (10000, n), (15000, n), (20000, n)]
    with zipfile.ZipFile(tmp_path / "big.xlsx") as z:
        xml = z.read("xl/worksheets/sheet1.xml").decode()
    assert xml.count("<row ") == n + 1 and "<f>" not in xml
    with pytest.raises(Cancelled):
        export_frame(frame, tmp_path / "cancelled.xlsx", _State(cancel_at=1))  # type: ignore[arg-type]
