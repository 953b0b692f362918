"""After an approved decision the plan and the message list reflect it without a manual refresh
(issue 13 §3): in the window, approving the reschedule-in of PO1/1 (hand-computed plant of
tests/foundation/test_exception_overlay.py) broadcasts Changes(data, decisions, outbox); the
Exceptions panel computes the messages again and the one acted on leaves the open list, and
the Shortages list shows X short first in week 7 (D2) instead of week 2 (D1)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt

from tests.fixtures_connector import MemoryConnector
from tests.foundation.test_exception_overlay import plant, week
from tests.ui.conftest import make_context
from workbench.cache.db import open_cache
from workbench.services.sync import run_sync
from workbench.ui.mainwindow import MainWindow
from workbench.ui.panels.exceptions import ExceptionsPanel


def test_approving_updates_the_shortage_list_and_the_exception_list(qtbot, tmp_path: Path  # type: ignore[no-untyped-def]
                                                                    ) -> None:
    cache = tmp_path / "cache.sqlite"
    engine = open_cache(cache)
    assert run_sync(engine, MemoryConnector(plant())).ok
    engine.dispose()
    ctx = make_context(cache, tmp_path, sources=[])
    win = MainWindow(ctx, qsettings=QSettings(str(tmp_path / "w.ini"),
                                              QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.populated, timeout=20_000):
        win.show()
    shortages = win.go_to("shortages")
    model = shortages.table.model if hasattr(shortages, "table") else None
    assert model is not None

    def first_shortage() -> str:
        row = model.row_of(("X", "P1"))
        return "" if row is None else str(model.value(row, "first_shortage_date"))[:10]

    qtbot.waitUntil(lambda: first_shortage() == week(2), timeout=60_000)
    panel = win.go_to("exceptions")
    assert isinstance(panel, ExceptionsPanel)
    queue = panel.queue.model
    qtbot.waitUntil(lambda: not panel.is_loading and any(
        queue.value(r, "element") == "PO1/1" and queue.value(r, "kind_label").startswith("E01")
        for r in range(queue.rowCount())), timeout=60_000)
    row = next(r for r in range(queue.rowCount()) if queue.value(r, "element") == "PO1/1"
               and queue.value(r, "kind_label").startswith("E01"))
    panel.queue.select_row(row)
    first = int(panel.queue.current_key())
    qtbot.waitUntil(lambda: panel.detail is not None and panel.detail.id == first,
                    timeout=30_000)
    qtbot.mouseClick(panel.approve_button, Qt.MouseButton.LeftButton)
    # no refresh pressed: the broadcast recomputes the messages; E01 of PO1/1 is resolved
    qtbot.waitUntil(lambda: not panel.is_loading and panel.last_refresh is not None
                    and panel.last_refresh.resolved >= 1 and queue.row_of(first) is None,
                    timeout=60_000)
    win.go_to("shortages")
    qtbot.waitUntil(lambda: first_shortage() == week(7), timeout=60_000)
