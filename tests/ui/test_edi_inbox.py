"""The EDI inbox in Sync & Outbox and the promise history by message in Suppliers, on real
message files (written by tests/edi/messages.py) in a configured ``edi`` source's inbox.

Hand-checked: the interchange C1 (good.edi, 1 Dec 2026 10:15) accepts PO-1/1 (120 EA, C62 = EA)
for 11 Dec; C2 (bad.edi, same time) accepts PO-1/2 (50 KG, KGM = KG) for 15 Dec but names the
resin by the supplier's number A-777, which has no cross-reference: rejected at segment 7
(UNB 1, UNH 2, BGM 3, DTM 4, RFF 5, NAD 6, LIN 7). Once the ERP sends the cross-reference,
Replay applies it: PO-1/2 acknowledged (accepted: 50 KG confirmed = 50 ordered) on 1 Dec,
promised 15 Dec, and its promise history names bad.edi, control C2.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from sqlalchemy import Engine

from tests.edi.conftest import PARTNERS, SENDER_A, plant, pol
from tests.edi.messages import Line, ordrsp
from tests.fixtures_connector import MemoryConnector
from tests.ui.conftest import DEMO, make_context
from workbench.app.edi import inbox_view
from workbench.app.runner import InlineRunner
from workbench.cache.db import open_cache
from workbench.services.sync import run_sync
from workbench.ui.panels.base import PanelContext
from workbench.ui.panels.settings import SettingsPanel
from workbench.ui.panels.suppliers import SuppliersPanel
from workbench.ui.panels.sync import SyncPanel


def _named_plant() -> dict[str, list[dict[str, Any]]]:
    data = plant()
    names = {"SUP-A": "Acme Fasteners", "SUP-B": "Borealis Plastics"}
    for s in data["suppliers"]:
        s["name"] = names[s["code"]]
    descriptions = {"BOLT": "Hex bolt M8 x 40", "RESIN": "Epoxy resin, 2-part"}
    for i in data["items"]:
        i["description"] = descriptions[i["code"]]
    for row in (r for rows in data.values() for r in rows):
        row.setdefault("source", "erp")
    return data


@pytest.fixture
def erp_cache(tmp_path: Path) -> Path:
    path = tmp_path / "cache.sqlite"
    engine = open_cache(path)
    result = run_sync(engine, MemoryConnector(_named_plant(), batch_size=100),
                      now=dt.datetime(2026, 11, 26, 8, 0))
    assert result.ok, result.error
    engine.dispose()
    return path


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    """The supplier-edi source's inbox: good.edi and bad.edi (see the module doc)."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "good.edi").write_text(ordrsp(SENDER_A, "C1", "R1", "202612011015", "PO-1", [
        Line("PO-1", 1, 120, "C62", "5", "20261211")]), encoding="utf-8")
    (inbox / "bad.edi").write_text(ordrsp(SENDER_A, "C2", "R2", "202612011015", "PO-1", [
        Line("PO-1", 2, 50, "KGM", "5", "20261215", supplier_item="A-777")]), encoding="utf-8")
    return inbox


@pytest.fixture
def edi_ctx(erp_cache: Path, tmp_path: Path) -> PanelContext:
    """The ERP cache with no source configured yet (the test adds the edi source in Settings)."""
    return make_context(erp_cache, tmp_path, sources=[])


def _add_edi_source_in_settings(qtbot: Any, ctx: PanelContext, inbox: Path) -> None:
    settings = SettingsPanel(ctx)
    qtbot.addWidget(settings)
    with qtbot.waitSignal(settings.loaded, timeout=30_000):
        settings.show()
    settings.source_name.setText("supplier-edi")
    settings.connector.setCurrentText("edi")
    settings.params.setPlainText(f"inbox = {inbox}\npartners = {PARTNERS}\n")
    with qtbot.waitSignal(settings.changed, timeout=5000):
        assert settings.save_source()
    assert [(s.name, s.connector, s.params) for s in ctx.settings.sources] == [
        ("supplier-edi", "edi", {"inbox": str(inbox), "partners": PARTNERS})]
    settings.close()


def _sync_panel(qtbot: Any, ctx: PanelContext) -> SyncPanel:
    panel = SyncPanel(ctx)
    qtbot.addWidget(panel)
    panel.resize(1280, 720)
    with qtbot.waitSignal(panel.loaded, timeout=30_000):
        panel.show()
    panel.tabs.setCurrentWidget(panel.edi_inbox)
    return panel


def _sync(qtbot: Any, panel: SyncPanel) -> None:
    qtbot.mouseClick(panel.sync_button, Qt.MouseButton.LeftButton)
    assert panel.sync_handle is not None
    with qtbot.waitSignal(panel.sync_handle.signals.finished, timeout=60_000):
        pass


def _rows(panel: SyncPanel) -> dict[str, dict[str, Any]]:
    """The visible rows of the inbox table by file name."""
    model = panel.edi_inbox.table.model
    return {model.value(r, "file"): {"id": model.key_at(r), **{c: model.value(r, c) for c in (
        "outcome", "kind", "supplier", "supplier_name", "control_ref", "where",
        "lines_text")}} for r in range(model.rowCount())}


def test_inbox_shows_applied_and_rejected_files_and_replay_applies_the_fixed_one(
        qtbot: Any, edi_ctx: PanelContext, inbox: Path) -> None:
    _add_edi_source_in_settings(qtbot, edi_ctx, inbox)
    panel = _sync_panel(qtbot, edi_ctx)
    assert panel.edi_inbox.table.model.rowCount() == 0
    assert "No supplier message yet" in panel.edi_inbox.note.text()

    # the GUI syncs the configured edi source like any other source: each file all or nothing
    _sync(qtbot, panel)
    [run] = panel.last_results
    assert (run.connector, run.status) == ("supplier-edi", "partial")
    assert "2 message files: 1 applied, 1 rejected (bad.edi); 1 PO lines changed" in \
        panel.status.text()
    qtbot.waitUntil(lambda: panel.edi_inbox.table.model.rowCount() == 2, timeout=10_000)
    # the run is the configured source's (recorded under its name), not an unconfigured one;
    # the sources list reloads by its own query (it may land after the inbox's)
    sources = panel.sources.model

    def status() -> dict[str, str]:
        return {sources.value(r, "title"): sources.value(r, "last_status")
                for r in range(sources.rowCount())}
    qtbot.waitUntil(lambda: status().get("supplier-edi") != "never synced", timeout=10_000)
    assert status()["supplier-edi"] == "partial"
    assert not any("supplier-edi (" in t for t in status())
    rows = _rows(panel)
    good, bad = rows["good.edi"], rows["bad.edi"]
    assert (good["outcome"], good["kind"], good["supplier"], good["supplier_name"],
            good["control_ref"], good["lines_text"], good["where"]) == (
        "applied", "ORDRSP D96A", "SUP-A", "Acme Fasteners", "C1", "1 of 1", "")
    assert bad["outcome"] == "rejected"
    # rejected while mapping: the view still says what it is (envelope of the file)
    assert (bad["kind"], bad["supplier"], bad["supplier_name"], bad["control_ref"]) == (
        "ORDRSP D96A", "SUP-A", "Acme Fasteners", "C2")
    assert bad["where"].startswith("message 1, segment 7, item number (SA/VN/VP): item "
                                   "cross-reference missing: SUP-A number 'A-777'")
    assert "None" not in str(rows) and "nan" not in str(rows)
    assert pol(edi_ctx.engine, "PO-1", 1)["promised_date"] == "2026-12-11"
    assert pol(edi_ctx.engine, "PO-1", 2)["ack_status"] == "none"  # nothing of bad.edi applied

    # the outcome filter: rejected only
    picker = panel.edi_inbox.table.pickers["outcome"]
    picker.setCurrentIndex(picker.findData("rejected"))
    qtbot.waitUntil(lambda: panel.edi_inbox.table.model.rowCount() == 1, timeout=5000)
    assert list(_rows(panel)) == ["bad.edi"]
    panel.edi_inbox.table.select_key(bad["id"])
    assert (f"File {bad['id']}: bad.edi — ORDRSP D96A from SUP-A Acme Fasteners (sender "
            "5400000000001), received ") in panel.edi_inbox.detail.text()
    assert ": rejected — message 1, segment 7, item number (SA/VN/VP): item cross-reference " \
           "missing" in panel.edi_inbox.detail.text()
    _shot(panel, "edi-inbox.png")

    # replayed before the cause is fixed: still rejected, and it says why
    qtbot.mouseClick(panel.edi_inbox.replay_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "bad.edi: rejected" in panel.edi_inbox.note.text(), timeout=30_000)
    assert pol(edi_ctx.engine, "PO-1", 2)["ack_status"] == "none"

    # the ERP sends the cross-reference; Replay selected applies the archived file
    fix = MemoryConnector({"item_xrefs": [{"item": "RESIN", "system": "SUP-A",
                                           "external_code": "A-777", "source": "erp2"}]})
    assert run_sync(edi_ctx.engine, fix).ok
    qtbot.waitUntil(lambda: panel.edi_inbox.table.current_key() == bad["id"], timeout=5000)
    panel.edi_inbox.table.select_key(bad["id"])
    qtbot.mouseClick(panel.edi_inbox.replay_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "bad.edi: applied, 1 of 1 lines applied" in
                    panel.edi_inbox.note.text(), timeout=30_000)
    line = pol(edi_ctx.engine, "PO-1", 2)
    assert (line["ack_status"], line["ack_date"], line["promised_date"], line["status"]) == \
        ("accepted", "2026-12-01", "2026-12-15", "acknowledged")
    assert line["quantity_ordered"] == 50  # the order itself is the buyer's: unchanged
    # the view shows it applied (the rejected filter now shows nothing)
    qtbot.waitUntil(lambda: panel.edi_inbox.table.model.rowCount() == 0, timeout=10_000)
    picker.setCurrentIndex(0)
    qtbot.waitUntil(lambda: panel.edi_inbox.table.model.rowCount() == 2, timeout=5000)
    bad = _rows(panel)["bad.edi"]  # read whole now: what it is and from whom
    assert (bad["outcome"], bad["kind"], bad["supplier_name"], bad["control_ref"], bad["where"],
            bad["lines_text"]) == ("applied", "ORDRSP D96A", "Acme Fasteners", "C2", "", "1 of 1")

    # Suppliers: the line's promise history names the message each change came from
    suppliers = SuppliersPanel(edi_ctx)
    qtbot.addWidget(suppliers)
    suppliers.resize(1280, 720)
    with qtbot.waitSignal(suppliers.loaded, timeout=30_000):
        suppliers.show()
    suppliers.focus_on("SUP-A")
    qtbot.waitUntil(lambda: suppliers.lines.model.row_of(("PO-1", 2)) is not None, timeout=30_000)
    row = suppliers.lines.model.row_of(("PO-1", 2))
    assert row is not None and suppliers.lines.model.value(row, "description") == "Epoxy resin, 2-part"
    suppliers.lines.select_key(("PO-1", 2))
    qtbot.waitUntil(lambda: "PO-1/2" in suppliers.history_plot.getPlotItem().titleLabel.text,
                    timeout=10_000)
    assert "PO-1/2 (RESIN)" in suppliers.history_plot.getPlotItem().titleLabel.text
    h = suppliers.history.model
    assert h.rowCount() == 1  # the change the sync observed is the message's: counted once
    assert (h.value(0, "changed_at"), str(h.value(0, "promised_date")), h.value(0, "quantity_ordered"),
            h.value(0, "via"), h.value(0, "document_number"), h.value(0, "source")) == \
        ("2026-12-01T10:15:00", "2026-12-15", 50.0, "EDI ORDRSP D96A bad.edi, control C2", "R2",
         "supplier-edi")
    _shot(suppliers, "suppliers-promise-history-by-message.png")


def test_promise_history_tells_messages_from_syncs(erp_cache: Path, tmp_path: Path) -> None:
    """PO-1/1: first promised by the ERP (observed by the sync), then the supplier's message."""
    from workbench.app.suppliers import promise_history
    from workbench.services.edi import sync_inbox

    engine: Engine = open_cache(erp_cache)
    data = _named_plant()
    data["purchase_order_lines"][0]["promised_date"] = dt.date(2026, 12, 10)
    assert run_sync(engine, MemoryConnector({"purchase_order_lines": data["purchase_order_lines"]}),
                    now=dt.datetime(2026, 11, 27, 9, 0)).ok
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "c7.edi").write_text(ordrsp(SENDER_A, "C7", "R7", "202612021200", "PO-1", [
        Line("PO-1", 1, 120, "C62", "5", "20261218")]), encoding="utf-8")
    from planner_connectors.edi import EdiConnector

    assert sync_inbox(engine, EdiConnector(inbox, partners=PARTNERS), "supplier-edi").ok
    h = InlineRunner(engine).run(promise_history, "PO-1", 1)
    assert h[["changed_at", "promised_date", "origin"]].values.tolist() == [
        ["2026-11-27T09:00:00", "2026-12-10", "observed"],
        ["2026-12-02T12:00:00", "2026-12-18", "edi"]]
    first, second = h.iloc[0], h.iloc[1]
    assert first["via"].startswith("sync of") and first["file"] == "" and first["message"] == 0
    assert first["sync_run"] > 0 and first["run_started_at"] != ""
    assert (second["via"], second["file"], second["control_ref"], second["message_type"]) == (
        "EDI ORDRSP D96A c7.edi, control C7", "c7.edi", "C7", "ORDRSP D96A")
    assert not h.isna().any().any()
    engine.dispose()


def test_inbox_view_counts_and_the_demo_inbox_through_the_gui_sync(
        qtbot: Any, cache_path: Path, tmp_path: Path) -> None:
    """The demo plant's suppliers answer too: a GUI sync of the demo a week later takes their
    messages into the same inbox view (source demo-edi), as `workbench sync --demo` does."""
    ctx = make_context(cache_path, tmp_path,
                       sources=[DEMO.model_copy(update={"params": {"scale": "small", "day": 7}})])
    panel = _sync_panel(qtbot, ctx)
    _sync(qtbot, panel)
    demo_run, messages = panel.last_results
    assert (demo_run.connector, messages.connector) == ("demo", "demo-edi")
    received = messages.counts["edi_messages"]["received"]
    assert received > 0
    qtbot.waitUntil(lambda: panel.edi_inbox.table.model.rowCount() == received, timeout=10_000)
    view = InlineRunner(ctx.engine).run(inbox_view)
    assert sum(view.counts.values()) == received == len(view.frame)
    assert view.counts["applied"] == messages.counts["edi_messages"]["applied"]
    assert set(view.frame["source"]) == {"demo-edi"}
    assert not view.frame.isna().any().any()
    assert (view.frame["supplier_name"] != "").all()  # the demo's suppliers have names
    assert f"{view.counts['applied']:,} applied" in panel.edi_inbox.note.text()
    sources = panel.sources.model
    assert [sources.value(r, "title") for r in range(sources.rowCount())] == \
        ["demo", "demo: supplier messages"]
    _shot(panel, "edi-inbox-demo.png")

    # Suppliers: a demo line a supplier's ORDRSP of day 7 promised later than requested
    with ctx.engine.connect() as conn:
        po, line, supplier, promised = conn.exec_driver_sql(
            "SELECT e.purchase_order, e.line, p.supplier, p.promised_date FROM promise_changes e "
            "JOIN purchase_order_lines p ON p.purchase_order = e.purchase_order "
            "AND p.line = e.line WHERE e.origin = 'edi' AND e.promised_date > p.requested_date "
            "ORDER BY 1, 2 LIMIT 1").one()
    suppliers = SuppliersPanel(ctx)
    qtbot.addWidget(suppliers)
    suppliers.resize(1280, 720)
    with qtbot.waitSignal(suppliers.loaded, timeout=30_000):
        suppliers.show()
    suppliers.focus_on(supplier)
    qtbot.waitUntil(lambda: suppliers.lines.model.row_of((po, line)) is not None, timeout=30_000)
    suppliers.lines.select_key((po, line))
    qtbot.waitUntil(lambda: f"{po}/{line} " in suppliers.history_plot.getPlotItem().titleLabel.text,
                    timeout=10_000)
    h = suppliers.history.model
    rows = [{c: h.value(r, c) for c in ("via", "source", "changed_at")} for r in range(h.rowCount())]
    # the demo's suppliers are the senders; day 7's ORDRSP interchange is D0007A<supplier>
    assert rows[-1]["via"] == f"EDI ORDRSP D96A demo-day0007-ordrsp-{supplier}.edi, control " \
                              f"D0007A{supplier}"
    assert str(h.value(h.rowCount() - 1, "promised_date"))[:10] == promised
    assert rows[-1]["source"] == "demo-edi"
    _shot(suppliers, "suppliers-promise-history-demo.png")


def _shot(widget: QWidget, name: str) -> None:
    """The view as a user sees it at 1280×720, saved when ``PWB_SCREENSHOTS`` names a folder
    (``PWB_SCREENSHOTS=docs/screenshots pytest tests/ui/test_edi_inbox.py`` makes the ones in
    docs/screenshots/); an ordinary run writes nothing into the repository."""
    folder = os.environ.get("PWB_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        assert widget.grab().save(str(Path(folder) / name))


def test_replay_of_a_sources_own_supplier_messages_and_of_an_unknown_source(
        erp_cache: Path) -> None:
    """A file from the inbox a source's own suppliers write beside the cache (source
    ``<connector>-edi``, the demo plant's) is replayed by an EDI connector on that inbox,
    without any configured source; a file of a source no longer configured is named."""
    from planner_connectors.edi import EdiConnector

    from workbench.app.edi import inbox_entries, replay
    from workbench.services.edi import inbox_folder, sync_inbox

    engine: Engine = open_cache(erp_cache)
    runner = InlineRunner(engine)
    folder = inbox_folder(engine)
    folder.mkdir()
    # the sender is the supplier's code (no partners setting), its item number has no xref
    (folder / "own.edi").write_text(ordrsp("SUP-A", "K1", "R9", "202612031000", "PO-1", [
        Line("PO-1", 2, 40, "KGM", "3", "20261219", supplier_item="A-555")]), encoding="utf-8")
    assert not sync_inbox(engine, EdiConnector(folder), "erp-edi").ok
    (gone_dir := erp_cache.parent / "gone").mkdir()
    (gone_dir / "g.edi").write_text(ordrsp("SUP-A", "K2", "R10", "202612031000", "PO-1", [
        Line("PO-1", 2, 40, "KGM", "3", "20261219", supplier_item="A-555")]), encoding="utf-8")
    assert not sync_inbox(engine, EdiConnector(gone_dir), "gone").ok
    own, gone = runner.run(inbox_entries, rejected_only=True)
    assert (own.source, own.file, gone.source) == ("erp-edi", "own.edi", "gone")

    assert run_sync(engine, MemoryConnector({"item_xrefs": [
        {"item": "RESIN", "system": "SUP-A", "external_code": "A-555", "source": "erp2"}]})).ok
    with pytest.raises(LookupError, match="no source named 'gone' \\(none configured\\)"):
        runner.run(replay, [gone.id], [])
    outcome = runner.run(replay, [own.id], [])
    [done] = outcome.value
    assert (done.outcome, done.applied_lines) == ("applied", 1) and outcome.changes.data
    line = pol(engine, "PO-1", 2)
    # 40 KG confirmed of 50 ordered: changed, promised 19 Dec, acknowledged 3 Dec
    assert (line["ack_status"], line["promised_date"], line["ack_date"]) == \
        ("changed", "2026-12-19", "2026-12-03")
    engine.dispose()
