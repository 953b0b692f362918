"""Approvals: a buyer filters the queue, approves with the A key, rejects with R, modifies,
bulk-approves; every decision is in the cache at once and the sending ones are in the outbox."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from PySide6.QtCore import QDate, Qt

from workbench.cache.frames import read_entity_frame
from workbench.services.decisions import decisions_frame, query_frame
from workbench.services.reevaluate import store
from workbench.services.writeback import outbox_frame
from workbench.ui.panels.approvals import ApprovalsPanel


def _advise(ctx) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Store recommendations for the first six open requisitions, as a re-evaluation would."""
    req = read_entity_frame(ctx.engine, "requisitions", "status = 'open'").sort_values("code")
    req = req.head(6)
    actions = ["cancel", "reduce", "expedite", "increase", "defer", "reduce"]
    recs = pd.DataFrame({
        "requisition": req["code"].to_numpy(),
        "action": actions,
        "proposed_quantity": [0.0] + [float(q) * 0.5 for q in req["quantity"].iloc[1:]],
        "proposed_date": pd.Series([None] + [d.date() - dt.timedelta(days=7)
                                             for d in req["need_date"].iloc[1:]], dtype=object),
        "proposed_supplier": [""] * 6,
        "reason": [f"test advice {a}" for a in actions],
        "evidence": [{"uncovered_quantity": 0.0, "first_need": "2026-11-30"}] * 6,
        "base_version": req["source_version"].to_numpy(),
    })
    assert store(ctx.engine, recs) == 6
    return recs


def _panel(qtbot, ctx) -> ApprovalsPanel:  # type: ignore[no-untyped-def]
    panel = ApprovalsPanel(ctx)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.loaded, timeout=30_000):
        panel.show()
    return panel


def test_queue_filters_by_action_and_shows_evidence(qtbot, ctx) -> None:  # type: ignore[no-untyped-def]
    recs = _advise(ctx)
    panel = _panel(qtbot, ctx)
    model = panel.queue.model
    assert sorted(model.visible_keys()) == sorted(model.table.keys.tolist()) and model.rowCount() == 6
    combo = panel.queue.pickers["action"]
    combo.setCurrentIndex(combo.findData("reduce"))
    assert [model.value(r, "action") for r in range(model.rowCount())] == ["reduce", "reduce"]
    panel.queue.select_row(0)
    text = panel.evidence.toPlainText()
    assert "test advice reduce" in text and "uncovered quantity" in text
    assert set(model.visible_frame()["Requisition"]) == set(
        recs.loc[recs["action"] == "reduce", "requisition"])


def test_keyboard_approve_reject_and_modify_store_decisions(qtbot, ctx) -> None:  # type: ignore[no-untyped-def]
    recs = _advise(ctx)
    panel = _panel(qtbot, ctx)
    view = panel.queue.view
    view.setFocus()
    panel.queue.select_row(0)
    first = panel._frame.loc[panel.queue.current_key()]["requisition"]
    qtbot.keyClick(view, Qt.Key.Key_A)  # approve as proposed
    qtbot.waitUntil(lambda: panel.queue.model.rowCount() == 5, timeout=30_000)
    decided = decisions_frame(ctx.engine)
    assert decided.iloc[0]["requisition"] == first and decided.iloc[0]["verdict"] == "approve"
    assert decided.iloc[0]["decided_by"] == "tester"
    assert decided.iloc[0]["outbox_state"] == "queued"  # queued for write-back at once

    panel.queue.select_row(0)
    second = panel._frame.loc[panel.queue.current_key()]["requisition"]
    qtbot.keyClick(view, Qt.Key.Key_R)  # reject: stored, nothing to send
    qtbot.waitUntil(lambda: panel.queue.model.rowCount() == 4, timeout=30_000)
    decided = decisions_frame(ctx.engine)
    row = decided[decided["requisition"] == second].iloc[0]
    assert row["verdict"] == "reject" and pd.isna(row["outbox"])

    panel.queue.select_row(0)
    third = panel._frame.loc[panel.queue.current_key()]["requisition"]
    panel.quantity.setValue(123.5)
    panel.date.setDate(QDate(2027, 1, 15))
    panel.comment.setText("split with the next order")
    qtbot.keyClick(view, Qt.Key.Key_M)
    qtbot.waitUntil(lambda: panel.queue.model.rowCount() == 3, timeout=30_000)
    row = decisions_frame(ctx.engine).set_index("requisition").loc[third]
    assert (row["verdict"], row["quantity"], row["date"], row["comment"]) == (
        "modify", 123.5, "2027-01-15", "split with the next order")
    assert set(outbox_frame(ctx.engine)["requisition"]) == {first, third}
    assert len(recs) == 6


def test_bulk_approve_of_the_selection(qtbot, ctx) -> None:  # type: ignore[no-untyped-def]
    _advise(ctx)
    panel = _panel(qtbot, ctx)
    view = panel.queue.view
    view.selectAll()
    chosen = {panel._frame.loc[k]["requisition"] for k in panel.queue.selected_keys()}
    assert len(chosen) == 6
    qtbot.mouseClick(panel.bulk_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.queue.model.rowCount() == 0, timeout=15_000)
    decided = decisions_frame(ctx.engine)
    assert set(decided["requisition"]) == chosen and set(decided["verdict"]) == {"approve"}
    assert "6 decisions (approve) stored" in panel.status.text()


def test_next_and_previous_keys_move_through_the_queue(qtbot, ctx) -> None:  # type: ignore[no-untyped-def]
    _advise(ctx)
    panel = _panel(qtbot, ctx)
    view = panel.queue.view
    view.setFocus()
    panel.queue.select_row(0)
    qtbot.keyClick(view, Qt.Key.Key_J)
    qtbot.keyClick(view, Qt.Key.Key_J)
    assert view.currentIndex().row() == 2
    qtbot.keyClick(view, Qt.Key.Key_K)
    assert view.currentIndex().row() == 1
    assert decisions_frame(ctx.engine).empty  # moving decides nothing


def test_a_switch_to_an_alternate_says_so_and_is_approved_with_its_item(qtbot, ctx) -> None:  # type: ignore[no-untyped-def]
    req = read_entity_frame(ctx.engine, "requisitions", "status = 'open'").sort_values("code")
    alt_req, sup_req = req.iloc[0], req.iloc[1]
    items = read_entity_frame(ctx.engine, "items")
    alternate = str(items.loc[items["code"] != alt_req["item"], "code"].iloc[0])
    recs = pd.DataFrame({
        "requisition": [alt_req["code"], sup_req["code"]],
        "action": ["switch_source", "switch_source"],
        "proposed_quantity": [22.5, float(sup_req["quantity"])],
        "proposed_date": pd.Series([alt_req["need_date"].date(), sup_req["need_date"].date()],
                                   dtype=object),
        "proposed_supplier": ["", "FAST"],
        "proposed_item": [alternate, ""],
        "reason": [f"Switch to alternate {alternate}: test", "Switch to FAST: test"],
        "evidence": [{"alternate": {"item": alternate, "quantity": 22.5}}, {}],
        "base_version": [alt_req["source_version"], sup_req["source_version"]],
    })
    assert store(ctx.engine, recs) == 2
    panel = _panel(qtbot, ctx)
    model = panel.queue.model
    shown = {model.value(r, "requisition"): (model.value(r, "switch_to"), model.value(r, "supplier"))
             for r in range(model.rowCount())}
    assert shown == {alt_req["code"]: (f"alternate {alternate}", ""),
                     sup_req["code"]: ("supplier FAST", "FAST")}
    panel.queue.select_key(int(panel._frame.index[panel._frame["requisition"] == alt_req["code"]][0]))
    text = panel.evidence.toPlainText()
    assert text.startswith(f"{alt_req['code']}: switch to alternate {alternate} — instead of "
                           f"{alt_req['item']}")
    assert panel.quantity_label.text() == f"Quantity of {alternate}"
    assert panel.quantity.value() == 22.5
    view = panel.queue.view
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_A)
    qtbot.waitUntil(lambda: panel.queue.model.rowCount() == 1, timeout=30_000)
    decided = decisions_frame(ctx.engine).iloc[0]
    assert (decided["requisition"], decided["action"], decided["item"], decided["quantity"]) == \
        (alt_req["code"], "switch_source", alternate, 22.5)
    payload = json.loads(query_frame(ctx.engine, "SELECT payload FROM outbox WHERE decision = ?",
                                     (int(decided["id"]),)).iloc[0]["payload"])
    assert (payload["action"], payload["item"], payload["quantity"]) == \
        ("switch_source", alternate, 22.5)


def _reevaluated(ctx) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """The real re-evaluation of the small demo, stored; its recommendations by id."""
    from workbench.services.planning import open_session
    from workbench.services.reevaluate import run_reevaluation

    run_reevaluation(ctx.engine, open_session(ctx.engine), with_pegs=False)
    return query_frame(ctx.engine, "SELECT id, requisition, action, evidence FROM "
                                   "recommendations WHERE status = 'open' ORDER BY id")


def test_evidence_is_a_table_that_adds_up_with_units_and_the_decision_history(qtbot, ctx) -> None:  # type: ignore[no-untyped-def]
    from workbench.services.decisions import record_decision

    recs = _reevaluated(ctx)
    rec = recs[recs["action"] == "reduce"].iloc[0]
    evidence = json.loads(rec["evidence"])
    record_decision(ctx.engine, rec["requisition"], "modify", decided_by="ana",
                    action="reduce", quantity=float(evidence["covered_quantity"]) + 1,
                    comment="one spare")  # a decision without a recommendation: history only
    panel = _panel(qtbot, ctx)
    assert panel.queue.select_key(int(rec["id"]))
    model = panel.pane.coverage_model
    shown = model.visible_frame()
    assert list(shown.columns) == ["Need by", "Required", "Stock", "Open orders",
                                   "Earlier req.", "This req.", "Still open"]
    assert len(shown) == len(evidence["coverage"]) and shown.iloc[-1]["Need by"] == "total"
    for line in evidence["coverage"]:  # each line adds up, as stored
        assert line["required"] == pytest.approx(
            line["from_stock"] + line["from_open_orders"] + line["from_earlier_requisitions"]
            + line["from_this_requisition"] + line["still_short"])
    total = evidence["coverage"][-1]
    assert total["from_this_requisition"] == pytest.approx(evidence["covered_quantity"])
    unit = evidence["unit"]
    assert panel.pane.coverage_title.text() == (
        f"What covers the need of {evidence['item']} at {evidence['site']} "
        f"(quantities in {unit})")
    text = panel.evidence.toPlainText()
    assert f"Requisition: {evidence['requisition_quantity']:,.0f} {unit} needed" in \
        text.replace(".0 ", " ")
    assert "{" not in text and "covered_needs" not in text  # sentences, not a dump of keys
    qtbot.waitUntil(lambda: panel.pane.history_model.rowCount() == 1, timeout=30_000)
    hist = panel.pane.history_model.visible_frame().iloc[0]
    assert (hist["Who"], hist["Verdict"], hist["Action"], hist["Why (comment)"]) == \
        ("ana", "modify", "reduce", "one spare")
    assert panel.pane.history_title.text() == "Decisions on this requisition (1)"


def test_the_evidence_opens_the_items_shortage_timeline(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    recs = _reevaluated(window.ctx)
    rec = recs[recs["action"] == "reduce"].iloc[0]
    evidence = json.loads(rec["evidence"])
    panel = window.go_to("approvals")
    qtbot.waitUntil(lambda: panel.queue.model.rowCount() > 0, timeout=30_000)
    assert panel.queue.select_key(int(rec["id"]))
    item, site = evidence["item"], evidence["site"]
    assert panel.pane.timeline_button.text() == f"Shortage timeline of {item} at {site} →"
    qtbot.mouseClick(panel.pane.timeline_button, Qt.MouseButton.LeftButton)
    shortages = window.panels["shortages"]
    assert window.current_panel is shortages
    qtbot.waitUntil(lambda: shortages.caption.text().startswith(f"{item} at {site} — "),
                    timeout=60_000)
