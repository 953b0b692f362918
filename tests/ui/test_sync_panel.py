"""Sync & Outbox: Sync runs in the background with progress and Cancel; rejected rows show their
file, row and field."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from PySide6.QtCore import Qt, QTimer

from tests.ui.conftest import DEMO, make_context
from workbench.services.settings import SourceConfig
from workbench.services.status import recent_runs
from workbench.ui.operations import Op
from workbench.ui.panels.sync import SyncPanel


def _panel(qtbot, ctx) -> SyncPanel:  # type: ignore[no-untyped-def]
    panel = SyncPanel(ctx)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.loaded, timeout=10_000):
        panel.show()
    return panel


def test_sync_button_runs_in_the_background_and_lists_the_run(qtbot, ctx) -> None:  # type: ignore[no-untyped-def]
    ctx.settings.sources[0] = DEMO.model_copy(update={"params": {"scale": "small", "day": 14}})
    panel = _panel(qtbot, ctx)
    runs_before = len(recent_runs(ctx.engine))
    assert panel.runs.model.rowCount() == runs_before

    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    qtbot.mouseClick(panel.sync_button, Qt.MouseButton.LeftButton)
    handle = panel.sync_handle
    assert handle is not None and not handle.done  # the click returned before the sync finished
    assert not panel.sync_button.isEnabled() and panel.cancel_button.isEnabled()
    assert panel.progress.isVisible()
    with qtbot.waitSignal(handle.signals.finished, timeout=60_000):
        pass
    timer.stop()
    # the event loop kept turning while the sync ran in its worker
    assert len(ticks) >= 5
    result = panel.last_results[0]
    assert result.ok, result.error
    assert result.total("changed") > 0  # two weeks later, promise dates moved
    assert panel.sync_button.isEnabled() and not panel.cancel_button.isEnabled()
    # the demo's run, then the run taking what its suppliers sent (EDI acknowledgements and ship
    # notices, docs/edi.md), as `workbench sync --demo` does: two runs listed, newest first
    messages = panel.last_results[1]
    assert [r.connector for r in panel.last_results] == ["demo", "demo-edi"] and messages.ok
    qtbot.waitUntil(lambda: panel.runs.model.rowCount() == runs_before + 2, timeout=5000)
    source_run, newest = recent_runs(ctx.engine)[1], recent_runs(ctx.engine)[0]
    assert source_run["status"] == "succeeded" and source_run["id"] == result.run_id
    assert newest["id"] == messages.run_id == panel.runs.model.key_at(0)
    assert panel.runs.model.key_at(1) == result.run_id
    assert "changed" in panel.status.text()


def test_cancel_leaves_the_cache_unchanged(qtbot, ctx) -> None:  # type: ignore[no-untyped-def]
    ctx.settings.sources[0] = DEMO.model_copy(update={"params": {"scale": "small", "day": 30}})
    panel = _panel(qtbot, ctx)
    runs_before = [r["id"] for r in recent_runs(ctx.engine)]
    with ctx.engine.connect() as conn:
        before = conn.exec_driver_sql(
            "SELECT promised_date FROM purchase_order_lines ORDER BY purchase_order, line").all()
    # another write (say, a decision being stored) holds the single cache writer, so the sync
    # waits in line; the planner cancels it before it could touch the cache
    release = threading.Event()
    Op(lambda _s: release.wait(30), name="other write", writes=True).run()
    handle = panel.start_sync()
    assert handle is not None
    qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    assert not panel.cancel_button.isEnabled()
    with qtbot.waitSignal(handle.signals.finished, timeout=60_000):
        release.set()
    assert "cancel" in panel.status.text().lower()
    with ctx.engine.connect() as conn:
        after = conn.exec_driver_sql(
            "SELECT promised_date FROM purchase_order_lines ORDER BY purchase_order, line").all()
    assert after == before
    assert handle.cancelled and panel.last_results == []
    assert [r["id"] for r in recent_runs(ctx.engine)] == runs_before  # it never started
    assert panel.sync_button.isEnabled() and not panel.progress.isVisible()


def test_rejected_rows_show_file_row_and_field(qtbot, cache_path: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "suppliers.csv").write_text(
        "code,name,lead_time_days\nS-NEW,New supplier,10\nS-BAD,Bad supplier,-3\n",
        encoding="utf-8")
    source = SourceConfig(name="erp-export", connector="files", params={"folder": str(package)})
    ctx = make_context(cache_path, tmp_path, sources=[source])
    panel = _panel(qtbot, ctx)
    with qtbot.waitSignal(panel.start_sync().signals.finished, timeout=30_000):
        pass
    assert not panel.last_results[0].ok
    assert "rejected" in panel.status.text()
    qtbot.waitUntil(lambda: panel.rejected.model.rowCount() == 1, timeout=5000)
    model = panel.rejected.model
    assert model.value(0, "file") == "suppliers.csv"
    assert model.value(0, "row") == 3  # header is row 1, S-BAD is the second record
    assert model.value(0, "field") == "lead_time_days"
    # nothing of the run landed
    with ctx.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM suppliers WHERE code='S-NEW'").scalar() == 0
    ctx.engine.dispose()
