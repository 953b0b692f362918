"""Acting on exception messages (issue 13 §3) against the real demo plant: a buyer approves a
PO line's reschedule, reduce or cancel → stored decision + outbox entry → sent → the demo ledger
and the next sync show the change → the next refresh resolves the message; a work order's
message is recorded, never sent; the same guarantees as requisition decisions (idempotency,
version check with both states, audit).

The small demo at day 0 (planning day Monday 2026-11-02). Expected values are computed by hand
from the cached line and the message's advice (quoted next to each assertion).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from workbench.app import exceptions as ops
from workbench.app.ops import Changes
from workbench.app.runner import InlineRunner
from workbench.app.sync import DEMO_SOURCE, sync_sources
from workbench.cache.db import open_cache
from workbench.cache.frames import read_entity_frame
from workbench.cache.outbox import OutboxRepository
from workbench.services import exceptions as svc
from workbench.services.decisions import DecisionError
from workbench.services.message_decisions import record_message_decision
from workbench.services.planning import open_session
from workbench.services.tasks import SimpleState
from workbench.services.writeback import audit_frame, outbox_frame, send_pending

LEDGER = ".demo-ledger.jsonl"


def _sync(engine: Engine) -> None:
    [result] = sync_sources(engine, [DEMO_SOURCE.model_copy(deep=True)], SimpleState())
    assert result.ok, result.error


def _refresh(engine: Engine) -> svc.RefreshResult:
    return svc.refresh_exceptions(engine, open_session(engine))


def _message(engine: Engine, kind: str, element: str) -> svc.StoredMessage:
    found = [m for m in svc.list_exceptions(engine, include_snoozed=True, include_resolved=True)
             if (m.kind, m.element) == (kind, element)]
    assert len(found) == 1, (kind, element, found)
    return found[0]


def _line(engine: Engine, element: str) -> dict[str, Any]:
    pol = read_entity_frame(engine, "purchase_order_lines", parse_dates=False)
    po, _, line = element.rpartition("/")
    rows = pol[(pol["purchase_order"] == po) & (pol["line"] == int(line))].to_dict("records")
    assert len(rows) == 1
    return rows[0]


def _payload(engine: Engine, outbox_id: int | None) -> dict[str, Any]:
    assert outbox_id is not None
    with engine.connect() as conn:
        entry = OutboxRepository(conn).get(outbox_id)
    assert entry is not None
    return entry.payload


def _writes(cache: Path) -> list[dict[str, Any]]:
    lines = Path(f"{cache}{LEDGER}").read_text().splitlines()
    return [e for e in map(json.loads, lines) if "write" in e]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small demo at day 0 with its ledger, messages refreshed."""
    path = tmp_path_factory.mktemp("msg-dec") / "cache.sqlite"
    engine = open_cache(path)
    _sync(engine)
    _refresh(engine)
    engine.dispose()
    return path


@pytest.fixture
def cache(template: Path, tmp_path: Path) -> Path:
    target = tmp_path / "cache.sqlite"
    for suffix in ("", "-wal", "-shm", LEDGER):
        if Path(f"{template}{suffix}").exists():
            shutil.copy(f"{template}{suffix}", f"{target}{suffix}")
    return target


def test_approve_reschedule_in_is_written_back_and_resolves_the_message(cache: Path) -> None:
    engine = open_cache(cache)
    runner = InlineRunner(engine)
    # PO-000072/1 (PP-00072 at P2, 457 EA, nothing received): requested 2026-11-05, the
    # supplier promised 2026-11-30 (ack "changed"): due 2026-11-30 (promise). PP-00072 at P2
    # has 40 EA in stock and one requirement, WO-000024's 392.7 EA on 2026-11-09: 40 < 392.7,
    # so the first need is 2026-11-09, 21 days before the line comes: E01
    msg = _message(engine, "reschedule_in", "PO-000072/1")
    assert (msg.message["due_date"], msg.message["suggested_date"]) == \
        ("2026-11-30", "2026-11-09")
    before = _line(engine, "PO-000072/1")
    outcome = runner.run(ops.decide_message, msg.id, "approve", "bea")
    assert outcome.changes == Changes(data=True, decisions=True, outbox=True)  # overlaid
    done = outcome.value
    assert (done.action, done.verdict, done.date, done.written_back) == \
        ("expedite", "approve", "2026-11-09", True)
    # stored first: the decision and its outbox entry, the message shows it before any send
    [entry] = outbox_frame(engine).to_dict("records")
    payload = _payload(engine, done.outbox)
    assert (entry["state"], payload["target"], payload["target_kind"], payload["date"],
            payload["base_version"]) == ("queued", "purchase_order_lines:PO-000072/1",
                                         "purchase_order_line", "2026-11-09",
                                         before["source_version"])
    shown = _message(engine, "reschedule_in", "PO-000072/1").decision
    assert shown is not None and (shown.label, shown.decided_by) == ("approved, queued", "bea")
    # sent: the demo ledger holds the write (requested and promised date moved)
    assert send_pending(engine, []).sent == [done.outbox]
    [write] = _writes(cache)
    assert (write["kind"], write["action"], write["set"]) == (
        "purchase_order_line", "expedite",
        {"requested_date": "2026-11-09", "promised_date": "2026-11-09"})
    # the next sync shows it, with the write's version; the refresh resolves the message
    _sync(engine)
    after = _line(engine, "PO-000072/1")
    assert (after["requested_date"], after["promised_date"], after["source_version"]) == \
        ("2026-11-09", "2026-11-09", "d00000.w000001")
    assert after["quantity_ordered"] == before["quantity_ordered"]
    _refresh(engine)
    resolved = _message(engine, "reschedule_in", "PO-000072/1")
    assert resolved.state == "resolved"
    assert resolved.decision is not None and resolved.decision.outbox_state == "confirmed"
    audit = audit_frame(engine)
    assert list(audit.sort_values("id")["result"]) == ["queued", "sent"]


def test_reduce_converts_to_the_line_unit_and_keeps_what_was_received(cache: Path) -> None:
    engine = open_cache(cache)
    # PO-000023/1 (PP-00047 at P1, stock unit EA, bought in BOX of 50: uom_conversions
    # PP-00047 BOX->EA 50): the source line orders 50 BOX and received 24 BOX, so ordered
    # 2,500 EA, received 1,200 EA, open 1,300 EA. PP-00047 at P1: 88 EA in stock, one
    # requirement (WO-000025, 1,080 EA on 2026-11-12): net 1,080 - 88 = 992 EA, up to the
    # order multiple 20 (min order 100) = 50 x 20 = 1,000 EA; E04 advises open 1,000 EA
    msg = _message(engine, "reduce", "PO-000023/1")
    line = _line(engine, "PO-000023/1")
    assert (line["quantity_ordered"], line["quantity_received"], line["orig_uom"],
            line["orig_quantity_ordered"]) == (2500.0, 1200.0, "BOX", 50.0)
    assert (msg.message["quantity"], msg.message["suggested_quantity"]) == (1300.0, 1000.0)
    done = record_message_decision(engine, msg.id, "approve", decided_by="bea")
    # new ordered quantity = received + new open = 1,200 + 1,000 = 2,200 EA
    #                      = 2,200 / 50 = 44 BOX (the line's own unit; not the open 1,000 / 50
    #                        = 20 BOX, nor 2,200 EA)
    payload = _payload(engine, done.outbox)
    assert (done.quantity, payload["quantity"], payload["action"]) == (1000.0, 44.0, "reduce")
    assert send_pending(engine, []).sent == [done.outbox]
    assert _writes(cache)[0]["set"] == {"quantity": 44.0}
    _sync(engine)
    after = _line(engine, "PO-000023/1")
    assert after["orig_quantity_ordered"] == 44.0
    assert after["quantity_ordered"] == pytest.approx(2200.0)
    assert after["quantity_ordered"] - after["quantity_received"] == pytest.approx(1000.0)
    _refresh(engine)
    assert _message(engine, "reduce", "PO-000023/1").state == "resolved"


def test_cancel_of_a_partly_received_line_closes_it_at_what_came(cache: Path) -> None:
    engine = open_cache(cache)
    # PO-000102/2 (RM-00011 at P1, M): ordered 1,166.62, received 571, open 595.62. E03 (no
    # need left): 2,637.29 M available (104.65 + 92.14 + 977.97 + 1,462.53) cover every
    # requirement without it: WO-000023 549.63 M (54,963 CM) less the 487 M allocated to it
    # = 62.63, WO-000036 1,347.3, WO-000039 692.85 (69,285 CM): 2,637.29 - 2,102.78 = 534.51
    msg = _message(engine, "cancel", "PO-000102/2")
    done = record_message_decision(engine, msg.id, "approve", decided_by="bea")
    assert (done.action, done.quantity, done.date) == ("cancel", None, None)
    assert send_pending(engine, []).sent == [done.outbox]
    assert _writes(cache)[0]["set"] == {"quantity": 571.0, "status": "received"}
    _sync(engine)
    after = _line(engine, "PO-000102/2")
    assert (after["quantity_ordered"], after["quantity_received"], after["status"]) == \
        (571.0, 571.0, "received")
    _refresh(engine)
    assert _message(engine, "cancel", "PO-000102/2").state == "resolved"


def test_cancel_of_an_open_line_cancels_it(cache: Path) -> None:
    engine = open_cache(cache)
    # PO-000003/3 (PP-00067 at P2, status sent): 701 EA, nothing received, covered by stock:
    # 1,350 EA available (133 + 1,217) less safety stock 123 = 1,227 cover WO-000026 332.16
    # (407.16 less the 75 EA allocated to it), WO-000029 160, WO-000050 241 and WO-000055 369
    # (together 1,102.16; 124.84 left): E03
    msg = _message(engine, "cancel", "PO-000003/3")
    done = record_message_decision(engine, msg.id, "approve", decided_by="bea")
    assert send_pending(engine, []).sent == [done.outbox]
    _sync(engine)
    assert _line(engine, "PO-000003/3")["status"] == "cancelled"
    _refresh(engine)
    assert _message(engine, "cancel", "PO-000003/3").state == "resolved"
    [entry] = outbox_frame(engine).to_dict("records")
    assert entry["state"] == "confirmed"


def test_a_work_order_message_is_recorded_not_sent(cache: Path) -> None:
    engine = open_cache(cache)
    runner = InlineRunner(engine)
    msg = next(m for m in svc.list_exceptions(engine)
               if m.kind == "reschedule_out" and m.message["element_type"] == "work_order")
    outcome = runner.run(ops.decide_message, msg.id, "approve", "pia")
    assert outcome.changes == Changes(decisions=True)  # nothing queued for the outbox
    done = outcome.value
    assert (done.element_type, done.written_back, done.outbox, done.date) == \
        ("work_order", False, None, msg.message["suggested_date"])
    assert done.decision is not None and len(outbox_frame(engine)) == 0
    [event] = audit_frame(engine).to_dict("records")
    assert event["result"] == "recorded (advice to the planner, not written back)"
    shown = _message(engine, msg.kind, msg.element).decision
    assert shown is not None and shown.label == "approved"
    assert send_pending(engine, []).sent == []


def test_the_same_decision_twice_is_queued_once_and_reject_sends_nothing(cache: Path) -> None:
    engine = open_cache(cache)
    runner = InlineRunner(engine)
    msg = _message(engine, "reschedule_in", "PO-000072/1")
    first = runner.run(ops.decide_message, msg.id, "approve", "bea").value
    again = runner.run(ops.decide_message, msg.id, "approve", "bea")
    assert again.value.duplicate and again.value.outbox == first.outbox
    assert not again.changes  # nothing new recorded
    other = _message(engine, "cancel", "PO-000003/3")
    rejected = runner.run(ops.decide_message, other.id, "reject", "bea").value
    assert (rejected.verdict, rejected.outbox, rejected.written_back) == ("reject", None, False)
    assert len(outbox_frame(engine)) == 1
    assert _message(engine, "cancel", "PO-000003/3").decision.label == "rejected"  # type: ignore[union-attr]


def test_a_second_decision_on_a_line_changed_since_is_a_conflict_with_both_states(
        cache: Path) -> None:
    engine = open_cache(cache)
    # PO-000072/1 has E01 (in to 2026-11-09) and E04 (reduce the open 457 EA to what
    # WO-000024 needs beyond stock: 392.7 - 40 = 352.7 EA, in whole EA (a count unit, the
    # line's own unit) 353 EA); both decided on version d00000
    first = record_message_decision(
        engine, _message(engine, "reschedule_in", "PO-000072/1").id, "approve", decided_by="bea")
    second = record_message_decision(
        engine, _message(engine, "reduce", "PO-000072/1").id, "approve", decided_by="bea")
    result = send_pending(engine, [])
    assert (result.sent, result.conflicts) == ([first.outbox], [second.outbox])
    entry = outbox_frame(engine).set_index("id").loc[second.outbox]
    conflict = json.loads(entry["conflict"])
    assert conflict["ours"]["base_version"] == "d00000"
    assert (conflict["theirs"]["version"], conflict["theirs"]["requested_date"]) == \
        ("d00000.w000001", "2026-11-09")
    assert len(_writes(cache)) == 1  # nothing written for the conflict


def test_bad_decisions_are_refused_by_name_and_store_nothing(cache: Path) -> None:
    engine = open_cache(cache)
    past_due = next(m for m in svc.list_exceptions(engine) if m.kind == "order_past_due")
    with pytest.raises(DecisionError, match="advises no change of a firm order"):
        record_message_decision(engine, past_due.id, "approve", decided_by="bea")
    # PO-000023/1: open 1,300 EA (2,500 ordered - 1,200 received; see the reduce test above)
    reduce = _message(engine, "reduce", "PO-000023/1")
    with pytest.raises(DecisionError, match="reduce to between 0 and the open 1300"):
        record_message_decision(engine, reduce.id, "approve", decided_by="bea", quantity=20000)
    with pytest.raises(DecisionError, match="takes a quantity, not a date"):
        record_message_decision(engine, reduce.id, "approve", decided_by="bea",
                                date="2026-12-01")
    with pytest.raises(DecisionError, match="no exception message with id 999999"):
        record_message_decision(engine, 999999, "approve", decided_by="bea")
    assert len(outbox_frame(engine)) == 0 and len(audit_frame(engine)) == 0


def test_approve_all_reschedules_of_one_supplier(cache: Path) -> None:
    engine = open_cache(cache)
    runner = InlineRunner(engine)
    expected = sorted(m.id for m in svc.list_exceptions(engine)
                      if m.kind in ("reschedule_in", "reschedule_out") and m.supplier == "S0001"
                      and m.message["element_type"] == "purchase_order_line")
    assert runner.run(ops.supplier_reschedules, "S0001") == expected and expected
    outcome = runner.run(ops.approve_supplier_reschedules, "S0001", "bea")
    assert sorted(o.message for o in outcome.value) == expected
    assert all(o.written_back and o.error is None for o in outcome.value)
    assert outcome.changes == Changes(data=True, decisions=True, outbox=True)  # overlaid
    assert runner.run(ops.supplier_reschedules, "S0001") == []  # all decided now


def test_the_port_names_the_target_kind_and_adapters_refuse_what_they_do_not_take(
        cache: Path) -> None:
    from planner_connectors.demo import DemoConnector

    from workbench.connect.port import (
        PermanentError,
        PushRequest,
        TargetKind,
        UnknownActionError,
        refuse_target,
    )

    stored = {"idempotency_key": "k", "action": "defer", "target": "x", "base_version": None}
    assert PushRequest(**stored).target_kind is TargetKind.REQUISITION  # payloads before kinds
    line = PushRequest(**stored, target_kind="purchase_order_line")
    assert line.target_kind is TargetKind.PURCHASE_ORDER_LINE
    with pytest.raises(UnknownActionError, match="unknown target kind 'work_order'"):
        PushRequest(**stored, target_kind="work_order")
    with pytest.raises(PermanentError, match="cannot write decisions on a purchase_order_line"):
        refuse_target(line, "files", frozenset({TargetKind.REQUISITION}))
    demo = DemoConnector(ledger=f"{cache}{LEDGER}")
    with pytest.raises(PermanentError, match="no purchase order line 'requisitions:RQ-000001'"):
        demo.push(PushRequest("k2", "defer", "requisitions:RQ-000001", "d00000",
                              date="2026-11-20", target_kind="purchase_order_line"))
    with pytest.raises(PermanentError, match="no requisition"):
        demo.push(PushRequest("k3", "defer", "purchase_order_lines:PO-000001/1", "d00000",
                              date="2026-11-20"))


def test_the_cli_approves_rejects_and_reports_refusals(cache: Path) -> None:
    from tests.foundation.clirun import cli

    engine = open_cache(cache)
    reschedule = _message(engine, "reschedule_in", "PO-000072/1").id  # advises 2026-11-09
    cancel = _message(engine, "cancel", "PO-000003/3").id
    engine.dispose()
    run = cli("exceptions", "approve", str(reschedule), "--date", "2026-11-06", "--by", "bea",
              "--cache", cache, "--json")
    assert run.returncode == 0, run.stderr
    [done] = json.loads(run.stdout)["results"]
    assert (done["verdict"], done["action"], done["date"], done["written_back"]) == \
        ("modify", "expedite", "2026-11-06", True)
    run = cli("exceptions", "reject", str(cancel), "--comment", "needed for a spare part order",
              "--cache", cache)
    assert (run.returncode, run.stdout.strip()) == \
        (0, f"message {cancel} PO-000003/3: reject cancel: recorded")
    bad = cli("exceptions", "approve", str(cancel), "999999", "--cache", cache)
    assert bad.returncode == 1 and "message 999999: no exception message with id 999999" \
        in bad.stderr
    run = cli("exceptions", "--no-refresh", "--cache", cache)
    assert "PO-000072/1" in run.stdout and "[modified, queued]" in run.stdout
