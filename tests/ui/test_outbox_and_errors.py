"""The outbox in Sync & Outbox (send, failure with its error, retry; a decision approved on the
demo plant sent for real) and how errors reach the user: a plain message with what to do next,
the details in the log file."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from workbench.cache.frames import read_entity_frame
from workbench.services.decisions import record_decision
from workbench.services.reevaluate import store
from workbench.services.writeback import outbox_frame
from workbench.ui.errors import log_path, setup_logging
from workbench.ui.panels.approvals import ApprovalsPanel
from workbench.ui.panels.sync import SyncPanel


def _queued_decision(ctx) -> str:  # type: ignore[no-untyped-def]
    """A decision the demo plant refuses: it cannot reduce an ordered requisition."""
    req = read_entity_frame(ctx.engine, "requisitions", "status = 'ordered'").sort_values("code")
    code = str(req["code"].iloc[0])
    outcome = record_decision(ctx.engine, code, "modify", decided_by="tester", action="reduce",
                              quantity=10.0, comment="half is enough")
    assert outcome.outbox is not None
    return code


def _outbox_with_one_entry(qtbot, ctx):  # type: ignore[no-untyped-def]
    """The Sync & Outbox panel opened on its outbox tab, once the queued entry shows."""
    panel = SyncPanel(ctx)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.loaded, timeout=10_000):
        panel.show()
    panel.tabs.setCurrentIndex(1)
    outbox = panel.outbox
    qtbot.waitUntil(lambda: outbox.table.model.rowCount() == 1, timeout=10_000)
    return outbox


def test_send_fails_with_the_sources_reason_and_retry_queues_again(qtbot, ctx) -> None:  # type: ignore[no-untyped-def]
    code = _queued_decision(ctx)
    outbox = _outbox_with_one_entry(qtbot, ctx)
    assert outbox.table.model.value(0, "state") == "queued"
    assert outbox.table.model.value(0, "requisition") == code

    qtbot.mouseClick(outbox.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: outbox.table.model.rowCount() == 1
                    and outbox.table.model.value(0, "state") == "failed", timeout=30_000)
    assert "is ordered" in outbox.table.model.value(0, "last_error")
    assert "1 failed" in outbox.note.text()

    outbox.table.select_row(0)
    qtbot.mouseClick(outbox.retry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: outbox_frame(ctx.engine)["state"].tolist() == ["queued"],
                    timeout=30_000)
    qtbot.waitUntil(lambda: outbox.table.model.value(0, "state") == "queued", timeout=10_000)


def test_a_decision_approved_on_the_demo_is_sent(qtbot, ctx) -> None:  # type: ignore[no-untyped-def]
    """Approve in Approvals (the A key), send in Sync & Outbox: the demo plant takes it (into
    the ledger beside the cache) and the entry turns "sent"."""
    req = read_entity_frame(ctx.engine, "requisitions", "status = 'open'").sort_values("code")
    code, quantity = str(req["code"].iloc[0]), float(req["quantity"].iloc[0])
    store(ctx.engine, pd.DataFrame({
        "requisition": [code], "action": ["reduce"], "proposed_quantity": [quantity / 2],
        "proposed_date": pd.Series([None], dtype=object), "proposed_supplier": [""],
        "reason": ["half is enough"], "evidence": [{}],
        "base_version": [str(req["source_version"].iloc[0])],
    }))
    approvals = ApprovalsPanel(ctx)
    qtbot.addWidget(approvals)
    with qtbot.waitSignal(approvals.loaded, timeout=30_000):
        approvals.show()
    approvals.queue.view.setFocus()
    approvals.queue.select_row(0)
    qtbot.keyClick(approvals.queue.view, Qt.Key.Key_A)
    qtbot.waitUntil(lambda: outbox_frame(ctx.engine)["state"].tolist() == ["queued"],
                    timeout=30_000)

    outbox = _outbox_with_one_entry(qtbot, ctx)
    qtbot.mouseClick(outbox.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: outbox.table.model.value(0, "state") == "sent", timeout=30_000)
    assert outbox.table.model.value(0, "requisition") == code
    assert outbox_frame(ctx.engine)["result_version"].tolist() == ["d00000.w000001"]
    ledger = [json.loads(line) for line in
              Path(f"{ctx.cache_path}.demo-ledger.jsonl").read_text().splitlines()]
    assert [(w["target"], w["set"]["quantity"]) for w in ledger if "write" in w] == [
        (f"requisitions:{code}", quantity / 2)
    ]


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
