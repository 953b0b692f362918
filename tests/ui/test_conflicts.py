"""A write-back conflict as the buyer meets it in Sync & Outbox, produced through the real path:
the analysis advises on a requisition of the demo plant, the buyer approves, a clerk changes the
requisition in the plant (a write into the demo's ledger beside the cache) before the decision
is sent, and sending it makes a conflict. The outbox shows both states field by field; the buyer
either sends ours on the source's version or discards ours and decides again later."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTableWidget

from tests.ui.conftest import DEMO
from tests.ui.test_outbox_and_errors import _outbox_with_one_entry
from workbench.app.sync import sync_sources
from workbench.cache.frames import read_entity_frame
from workbench.connect.port import PushRequest
from workbench.services.approvals import approval_queue, conflict_lines
from workbench.services.decisions import record_decision
from workbench.services.planning import open_session
from workbench.services.reevaluate import run_reevaluation
from workbench.services.sources import demo_connector
from workbench.services.tasks import SimpleState
from workbench.services.writeback import audit_frame, outbox_frame, send_pending
from workbench.ui.panels.outbox import OutboxView

#: the quantity the clerk sets in the plant after the analysis
CLERK_QUANTITY = 5.0


def _ledger_writes(cache: Path) -> list[dict[str, Any]]:
    lines = Path(f"{cache}.demo-ledger.jsonl").read_text().splitlines()
    return [w for w in map(json.loads, lines) if "write" in w]


def _conflict(ctx) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Analysis, approval, a change in the plant, then the decision is queued (not yet sent)."""
    run_reevaluation(ctx.engine, open_session(ctx.engine))
    queue = approval_queue(ctx.engine)
    quantity_advice = queue[queue["action"].isin(["reduce", "increase"])
                            & (queue["quantity"] > CLERK_QUANTITY)
                            & (queue["proposed_quantity"] != CLERK_QUANTITY)].sort_values("requisition")
    rec = quantity_advice.iloc[0]
    code = str(rec["requisition"])
    [req] = read_entity_frame(ctx.engine, "requisitions", "code = ?", (code,)).to_dict("records")
    assert req["source_version"] == "d00000"  # the version the analysis saw
    outcome = record_decision(ctx.engine, code, "approve", decided_by="tester",
                              recommendation=int(rec["id"]))
    assert outcome.outbox is not None
    # meanwhile a clerk changes the quantity in the plant (written into the demo's ledger)
    plant = demo_connector("small", 0, cache=ctx.cache_path)
    try:
        plant.push(PushRequest("plant-clerk-1", "reduce", req["source_key"], "d00000",
                               quantity=CLERK_QUANTITY))
    finally:
        plant.close()
    return {"code": code, "entry": outcome.outbox, "ours": float(rec["proposed_quantity"]),
            "action": str(rec["action"]), "need_date": str(req["need_date"])[:10],
            "ours_date": str(rec["proposed_date"])[:10], "status": str(req["status"]),
            "cached": float(req["quantity"]),
            "target": req["source_key"], "key": outcome.idempotency_key}


def _number(value: float) -> str:
    """A quantity as the comparison shows it: thousands separated, at most 3 decimals."""
    return f"{value:,.3f}".rstrip("0").rstrip(".")


def _send_to_conflict(qtbot, ctx) -> OutboxView:  # type: ignore[no-untyped-def]
    """Sync & Outbox open on its outbox; Send makes the queued entry a conflict."""
    outbox = _outbox_with_one_entry(qtbot, ctx)
    qtbot.mouseClick(outbox.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: outbox.table.model.value(0, "state") == "conflict", timeout=30_000)
    assert not outbox.conflict_box.isVisible()  # shown once the buyer picks the entry
    outbox.table.select_row(0)
    qtbot.waitUntil(lambda: outbox.conflict_box.isVisible()
                    and outbox.resend_button.height() > 0, timeout=5_000)  # laid out: clickable
    return outbox


def _comparison(table: QTableWidget) -> dict[str, tuple[str, str, str, bool, bool]]:
    """Field -> (in the cache, our decision, source now, highlighted as differing, source's
    value bold as changed there) as the buyer reads the table."""
    assert [table.horizontalHeaderItem(c).text() for c in range(4)] == [  # type: ignore[union-attr]
        "Field", "In the cache", "Our decision", "Source now"]
    out = {}
    for row in range(table.rowCount()):
        field, cached, ours, theirs = (table.item(row, c) for c in range(4))
        assert field and cached and ours and theirs
        highlighted = ours.background().color() == Qt.GlobalColor.yellow
        assert (theirs.background().color() == Qt.GlobalColor.yellow) == highlighted
        out[field.text()] = (cached.text(), ours.text(), theirs.text(), highlighted,
                             theirs.font().bold())
    return out


def test_the_buyer_sees_both_states_of_a_conflict(qtbot, ctx) -> None:  # type: ignore[no-untyped-def]
    case = _conflict(ctx)
    outbox = _send_to_conflict(qtbot, ctx)
    assert outbox.table.model.value(0, "requisition") == case["code"]
    assert outbox.table.model.value(0, "last_error") == (
        f"{case['code']} changed in the demo plant since the analysis "
        "(version d00000 -> d00000.w000001)")
    assert outbox.note.text() == "1 conflict"
    title = outbox.conflict_title.text()
    assert title.startswith(f"Entry {case['entry']}: approve {case['action']} of {case['code']}, "
                            "decided by tester at ")
    assert "changed in the demo plant since the analysis" in title

    lines = _comparison(outbox.conflict)
    assert list(lines)[:4] == ["Action", "Quantity", "Need date", "Supplier"]
    assert lines["Action"] == ("", case["action"], "", False, False)
    ours_text = _number(case["ours"])
    # the analysis saw the cached quantity; we asked for ours; the clerk set 5 in the plant
    assert lines["Quantity"] == (_number(case["cached"]), ours_text, "5", True, True)
    # approving takes the advice's date with it; the clerk left the need date as it was
    assert lines["Need date"] == (case["need_date"], case["ours_date"], case["need_date"],
                                  case["ours_date"] != case["need_date"], False)
    assert lines["Record version"] == ("d00000", "d00000", "d00000.w000001", True, True)
    assert lines["Status"] == (case["status"], "", case["status"], False, False)
    assert lines["Code"] == (case["code"], "", case["code"], False, False)
    assert lines["Unit"][1] == "" and lines["Unit"][0] == lines["Unit"][2] != ""
    # nothing of ours was written: the plant holds only the clerk's write
    assert [w["key"] for w in _ledger_writes(ctx.cache_path)] == ["plant-clerk-1"]

    outbox.resize(900, 600)
    outbox.grab().save("/tmp/conflict.png")


def test_retrying_a_conflict_conflicts_again(qtbot, ctx) -> None:  # type: ignore[no-untyped-def]
    """Retry sends the same request, still based on the analysed version: the plant refuses it
    again, which is why a conflict has its own two resolutions."""
    case = _conflict(ctx)
    outbox = _send_to_conflict(qtbot, ctx)
    qtbot.mouseClick(outbox.retry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: outbox.table.model.value(0, "state") == "queued", timeout=30_000)
    assert not outbox.conflict_box.isVisible()
    qtbot.mouseClick(outbox.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: outbox.table.model.value(0, "state") == "conflict", timeout=30_000)
    assert int(outbox_frame(ctx.engine)["attempts"].iloc[0]) == 2
    assert [w["key"] for w in _ledger_writes(ctx.cache_path)] == ["plant-clerk-1"]
    assert outbox_frame(ctx.engine)["idempotency_key"].tolist() == [case["key"]]


def test_sending_ours_on_the_sources_version_applies_it(qtbot, ctx) -> None:  # type: ignore[no-untyped-def]
    case = _conflict(ctx)
    outbox = _send_to_conflict(qtbot, ctx)
    qtbot.mouseClick(outbox.resend_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: outbox.table.model.value(0, "state") == "queued", timeout=30_000)
    assert not outbox.conflict_box.isVisible()
    [entry] = outbox_frame(ctx.engine).to_dict("records")
    payload = json.loads(_payload(ctx, entry["id"]))
    assert payload["base_version"] == "d00000.w000001"  # the version the plant holds now
    assert payload["quantity"] == pytest.approx(case["ours"])
    assert entry["idempotency_key"] == payload["idempotency_key"] != case["key"]
    resend = audit_frame(ctx.engine, entry["id"]).iloc[0]
    assert (resend["actor"], resend["action"], resend["result"]) == (
        "tester", "resend on source version", "queued")
    assert json.loads(resend["detail"])["was"] == "d00000"

    qtbot.mouseClick(outbox.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: outbox.table.model.value(0, "state") == "sent", timeout=30_000)
    assert outbox_frame(ctx.engine)["result_version"].tolist() == ["d00000.w000002"]
    writes = _ledger_writes(ctx.cache_path)
    assert [w["key"] for w in writes] == ["plant-clerk-1", entry["idempotency_key"]]
    assert writes[1]["set"]["quantity"] == pytest.approx(case["ours"])
    # the next sync shows our quantity in the cache and confirms the entry
    [result] = sync_sources(ctx.engine, [DEMO.model_copy(deep=True)], SimpleState())
    assert result.ok, result.error
    [req] = read_entity_frame(ctx.engine, "requisitions", "code = ?", (case["code"],)).to_dict(
        "records")
    assert req["quantity"] == pytest.approx(case["ours"])
    assert req["source_version"] == "d00000.w000002"
    assert outbox_frame(ctx.engine)["state"].tolist() == ["confirmed"]


def test_discarding_ours_keeps_the_sources_state_and_advice_comes_again(qtbot, ctx) -> None:  # type: ignore[no-untyped-def]
    case = _conflict(ctx)
    outbox = _send_to_conflict(qtbot, ctx)
    qtbot.mouseClick(outbox.discard_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: outbox.table.model.value(0, "state") == "discarded", timeout=30_000)
    assert not outbox.conflict_box.isVisible()
    assert outbox.note.text() == "1 discarded"
    discard = audit_frame(ctx.engine, case["entry"]).iloc[0]
    assert (discard["actor"], discard["action"], discard["result"]) == (
        "tester", "discard", "discarded")
    # sending leaves it alone: nothing of ours reaches the plant
    sent = send_pending(ctx.engine, [DEMO])
    assert (sent.sent, sent.conflicts, sent.waiting, sent.failed) == ([], [], [], [])
    assert outbox_frame(ctx.engine)["state"].tolist() == ["discarded"]
    assert [w["key"] for w in _ledger_writes(ctx.cache_path)] == ["plant-clerk-1"]
    # the decision stays stored; after a sync and a re-evaluation the requisition is advised
    # anew on the clerk's quantity and version, for the buyer to decide again in Approvals
    [result] = sync_sources(ctx.engine, [DEMO.model_copy(deep=True)], SimpleState())
    assert result.ok, result.error
    run_reevaluation(ctx.engine, open_session(ctx.engine))
    again = approval_queue(ctx.engine).set_index("requisition").loc[case["code"]]
    assert again["quantity"] == pytest.approx(CLERK_QUANTITY)
    assert outbox_frame(ctx.engine)["verdict"].tolist() == ["approve"]
    with ctx.engine.connect() as conn:
        base = conn.exec_driver_sql(
            "SELECT base_version FROM recommendations WHERE id = ?", (int(again["id"]),)
        ).scalar_one()
    assert base == "d00000.w000001"


def _payload(ctx, entry: int) -> str:  # type: ignore[no-untyped-def]
    with ctx.engine.connect() as conn:
        return str(conn.exec_driver_sql("SELECT payload FROM outbox WHERE id = ?",
                                        (entry,)).scalar_one())


def test_quantities_in_different_units_are_not_compared() -> None:
    """Our quantity and the cache's are in the item's stock unit; a source reporting boxes is
    not marked as differing on quantity, its unit line shows why the numbers differ."""
    conflict = {"ours": {"action": "reduce", "quantity": 100.0, "base_version": "v1"},
                "theirs": {"quantity": 10.0, "uom": "BOX", "version": "v2"}}
    lines = {ln.label: ln for ln in conflict_lines(conflict, {"quantity": 120.0, "uom": "EA",
                                                               "version": "v1"})}
    quantity = lines["Quantity"]
    assert (quantity.cached, quantity.ours, quantity.theirs) == ("120", "100", "10")
    assert not quantity.differs and not quantity.changed_in_source
    assert (lines["Unit"].cached, lines["Unit"].theirs, lines["Unit"].changed_in_source) == (
        "EA", "BOX", True)
    assert lines["Record version"].differs and lines["Record version"].changed_in_source
    # in the same unit, 1,250.5 against 1,000 is a difference in both senses
    same = conflict_lines({"ours": {"quantity": 1250.5}, "theirs": {"quantity": 1000.0}},
                          {"quantity": 1250.5})
    assert [(ln.label, ln.cached, ln.ours, ln.theirs, ln.differs, ln.changed_in_source)
            for ln in same] == [("Action", "", "", "", False, False),
                                ("Quantity", "1,250.5", "1,250.5", "1,000", True, True)]
