"""The outbox in Sync & Outbox (send, failure with its error, retry) and how errors reach the
user: a plain message with what to do next, the details in the log file."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from workbench.cache.frames import read_entity_frame
from workbench.services.decisions import record_decision
from workbench.services.writeback import outbox_frame
from workbench.ui.errors import log_path, setup_logging
from workbench.ui.panels.sync import SyncPanel


def _queued_decision(ctx) -> str:  # type: ignore[no-untyped-def]
    req = read_entity_frame(ctx.engine, "requisitions", "status = 'open'").sort_values("code")
    code = str(req["code"].iloc[0])
    outcome = record_decision(ctx.engine, code, "modify", decided_by="tester", action="reduce",
                              quantity=10.0, comment="half is enough")
    assert outcome.outbox is not None
    return code


def test_send_fails_with_the_sources_reason_and_retry_queues_again(qtbot, ctx) -> None:  # type: ignore[no-untyped-def]
    code = _queued_decision(ctx)
    panel = SyncPanel(ctx)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.loaded, timeout=10_000):
        panel.show()
    panel.tabs.setCurrentIndex(1)
    outbox = panel.outbox
    qtbot.waitUntil(lambda: outbox.table.model.rowCount() == 1, timeout=10_000)
    assert outbox.table.model.value(0, "state") == "queued"
    assert outbox.table.model.value(0, "requisition") == code

    qtbot.mouseClick(outbox.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: outbox.table.model.rowCount() == 1
                    and outbox.table.model.value(0, "state") == "failed", timeout=30_000)
    assert "read-only" in outbox.table.model.value(0, "last_error")
    assert "1 failed" in outbox.note.text()

    outbox.table.select_row(0)
    qtbot.mouseClick(outbox.retry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: outbox_frame(ctx.engine)["state"].tolist() == ["queued"],
                    timeout=30_000)
    qtbot.waitUntil(lambda: outbox.table.model.value(0, "state") == "queued", timeout=10_000)


def test_errors_are_shown_in_plain_words_and_logged(qtbot, ctx) -> None:  # type: ignore[no-untyped-def]
    setup_logging()
    panel = SyncPanel(ctx)
    qtbot.addWidget(panel)
    try:
        raise PermissionError("/srv/exports/items.xlsx")
    except PermissionError as exc:
        panel.failed("export", exc)
    box = next(w for w in QApplication.topLevelWidgets()
               if isinstance(w, QMessageBox) and w.isVisible())
    assert box.text() == "No permission: /srv/exports/items.xlsx"
    assert "Choose a folder you can write to." in box.informativeText()
    assert str(log_path()) in box.informativeText()
    for handler in logging.getLogger().handlers:
        handler.flush()
    logged = log_path().read_text(encoding="utf-8")
    assert "Sync & Outbox: export failed" in logged and "PermissionError" in logged
    box.close()
