"""Large tables export in the background (issue 15 §4): a 200,000-row table is written by the
reader process with progress and Cancel while the UI thread's event loop keeps turning."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from tests.ui.gapmeter import GapMeter
from tests.ui.test_items_panel import _large_items
from workbench.app.exports import PackedFrame
from workbench.app.tables import Col, TableData
from workbench.services.tasks import Cancelled
from workbench.ui.panels.base import PanelContext
from workbench.ui.panels.items import ITEM_COLUMNS
from workbench.ui.widgets import TablePane

ROWS = 200_000


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The temporary directory the export's scratch file goes to (none left after)."""
    where = tmp_path / "scratch"
    where.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(where))
    return where


@pytest.fixture
def pane(qtbot: Any, ctx: PanelContext) -> TablePane:
    table = TableData.from_frame(_large_items(ROWS), ITEM_COLUMNS, "code")
    pane = TablePane(ITEM_COLUMNS, title="Items")
    pane.export_runner = ctx.runner  # as a panel's table finds its panel's runner
    qtbot.addWidget(pane)
    pane.show()
    pane.model.set_table(table)
    qtbot.waitUntil(lambda: pane.model.rowCount() == ROWS, timeout=10_000)
    return pane


def _export(qtbot: Any, pane: TablePane, path: Path, cancel_after: int | None = None
            ) -> tuple[Any, list[tuple[int, int | None]], GapMeter]:
    progress: list[tuple[int, int | None]] = []
    meter = GapMeter()
    meter.start()
    handle = pane.export_to(path)
    handle.signals.progress.connect(lambda done, total: progress.append((done, total)))
    if cancel_after is not None:
        qtbot.waitUntil(lambda: len(progress) >= cancel_after, timeout=60_000)
        handle.cancel()
    with qtbot.waitSignal(handle.signals.finished, timeout=180_000):
        pass
    meter.stop()
    return handle, progress, meter


@pytest.mark.slow
def test_200k_rows_export_to_xlsx_in_the_reader_process_with_progress(
        qtbot: Any, pane: TablePane, tmp_path: Path, scratch: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "items.xlsx"
    runner = pane.export_runner
    assert runner is not None
    ran: list[str] = []
    real_run = runner.run
    monkeypatch.setattr(runner, "run", lambda fn, *a, **k: (ran.append(fn.__name__),
                                                            real_run(fn, *a, **k))[1])
    started = time.perf_counter()
    handle, progress, meter = _export(qtbot, pane, path)
    assert ran == ["export_table"]  # a cache query: written by the reader process
    print(f"200k rows to XLSX in {time.perf_counter() - started:.1f} s; {meter.report()}")
    assert handle.error is None and handle.result == path
    # progress reached the UI, rising to the whole table
    rows = [done for done, total in progress if total == ROWS]
    assert len(rows) >= 5 and rows == sorted(rows) and rows[-1] == ROWS
    # the event loop kept turning the whole time (no freeze a user would see)
    assert meter.max_blocked < 0.25, meter.report()
    assert len(meter.raw) > 100
    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Export").to_python()
    assert len(sheet) == ROWS + 1
    assert sheet[0][0] == "Item" and sheet[1][0] == "IT-000000" and sheet[-1][0] == "IT-199999"
    assert not list(tmp_path.glob(".*writing*"))
    assert not list(scratch.glob("planner-export-*"))  # the columns' scratch file is removed


def test_200k_rows_export_to_csv_with_progress_ui_turning(
        qtbot: Any, pane: TablePane, tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    handle, progress, meter = _export(qtbot, pane, path)
    assert handle.error is None and handle.result == path
    assert [d for d, t in progress if t == ROWS][-1] == ROWS
    assert meter.max_blocked < 0.25, meter.report()
    back = pd.read_csv(path)
    assert len(back) == ROWS and back["Item"].iloc[-1] == "IT-199999"


def test_a_cancelled_export_leaves_no_file_and_keeps_the_earlier_one(
        qtbot: Any, pane: TablePane, tmp_path: Path, scratch: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    path = out / "items.xlsx"
    path.write_bytes(b"the export of yesterday")
    handle, progress, _ = _export(qtbot, pane, path, cancel_after=2)
    assert isinstance(handle.error, Cancelled)
    assert progress[-1][0] < ROWS
    assert path.read_bytes() == b"the export of yesterday"
    assert sorted(p.name for p in out.iterdir()) == ["items.xlsx"]  # no half-written file
    assert not list(scratch.glob("planner-export-*"))


def test_a_packed_table_comes_back_as_the_frame_the_pane_shows(tmp_path: Path) -> None:
    items = _large_items(1000)
    items["due"] = pd.date_range("2026-01-01", periods=1000, freq="D")
    columns = [*ITEM_COLUMNS, Col("due", "Due", "date")]
    table = TableData.from_frame(items, columns, "code")
    rows = np.arange(999, -1, -3)  # as a filter and a descending sort leave them
    packed = PackedFrame.of_table(table, rows, directory=str(tmp_path))
    assert [p.name for p in tmp_path.iterdir()] == [Path(packed.path).name]
    back = packed.unpack()
    packed.discard()
    assert not list(tmp_path.iterdir())
    pd.testing.assert_frame_equal(back, table.frame(rows))
    assert list(back.columns) == [c.title for c in columns]
    assert back["Item"].tolist() == items["code"].iloc[rows].tolist()
    lead = next(c.title for c in columns if c.name == "lead_time_days")
    assert back[lead].tolist() == items["lead_time_days"].iloc[rows].tolist()
    assert back["Due"].tolist() == [d.date() for d in items["due"].iloc[rows]]


def test_a_column_of_python_objects_travels_pickled(tmp_path: Path) -> None:
    items = _large_items(10)
    table = TableData.from_frame(items, ITEM_COLUMNS, "code")
    table.arrays["description"] = np.array([f"{d} ✓" for d in table.arrays["description"]],
                                           dtype=object)
    packed = PackedFrame.of_table(table, np.array([9, 0, 4]), directory=str(tmp_path))
    title = next(c.title for c in ITEM_COLUMNS if c.name == "description")
    assert packed.dtypes[[c.name for c in ITEM_COLUMNS].index("description")] == ""
    back = packed.unpack()
    assert back[title].tolist() == [f"{items['description'].iloc[i]} ✓" for i in (9, 0, 4)]
    assert back["Item"].tolist() == ["IT-000009", "IT-000000", "IT-000004"]


def test_a_scratch_file_left_a_day_ago_is_removed_by_the_next_export(tmp_path: Path) -> None:
    import os

    from workbench.app.exports import STALE_AFTER_S

    old, recent = tmp_path / "planner-export-old.columns", tmp_path / "planner-export-new.columns"
    for f in (old, recent):
        f.write_bytes(b"left by a process that died")
    day_ago = time.time() - STALE_AFTER_S - 60
    os.utime(old, (day_ago, day_ago))
    table = TableData.from_frame(_large_items(3), ITEM_COLUMNS, "code")
    packed = PackedFrame.of_table(table, np.arange(3), directory=str(tmp_path))
    assert not old.exists() and recent.exists()  # another export may be writing that one
    packed.discard()
    packed.discard()  # twice: nothing to remove, no error
    assert sorted(p.name for p in tmp_path.iterdir()) == [recent.name]
