"""Decisions on exception messages of PO lines written back to a live Tryton (issue 13 §3):
a cancel raised by the plan, reschedules of a draft and of a confirmed purchase's lines, what
Tryton refuses (and why), and a conflict when the line changed in Tryton after our sync."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from tests.support.tryton.devserver import TrytonServer
from workbench.cache.frames import read_entity_frame
from workbench.cache.outbox import OutboxRepository
from workbench.services import exceptions as svc
from workbench.services.message_decisions import record_line_decision, record_message_decision
from workbench.services.planning import open_session
from workbench.services.sync import run_sync
from workbench.services.writeback import drain_outbox, outbox_frame

pytestmark = pytest.mark.tryton

T0 = dt.datetime(2030, 1, 1, 8, 0, 0)


def _sync(cache, connector) -> None:  # type: ignore[no-untyped-def]
    result = run_sync(cache, connector)
    assert result.ok, result.error


def _line(cache, element: str) -> dict[str, Any] | None:  # type: ignore[no-untyped-def]
    pol = read_entity_frame(cache, "purchase_order_lines", parse_dates=False)
    po, _, line = element.rpartition("/")
    rows = pol[(pol["purchase_order"] == po) & (pol["line"] == int(line))].to_dict("records")
    return rows[0] if rows else None


def _entry(cache, outbox_id: int | None):  # type: ignore[no-untyped-def]
    assert outbox_id is not None
    with cache.connect() as conn:
        return OutboxRepository(conn).get(outbox_id)


def _messages(cache) -> dict[tuple[str, str], svc.StoredMessage]:  # type: ignore[no-untyped-def]
    return {(m.kind, m.element): m
            for m in svc.list_exceptions(cache, include_snoozed=True, include_resolved=True)}


def test_cancel_messages_and_reschedules_reach_tryton(
    tryton_fresh: TrytonServer, make_connector, admin_rpc, cache
) -> None:  # type: ignore[no-untyped-def]
    connector = make_connector(tryton_fresh)
    rpc = admin_rpc(tryton_fresh)
    _sync(cache, connector)
    svc.refresh_exceptions(cache, open_session(cache))
    messages = _messages(cache)
    # the draft purchase (no number yet: purchase#<id>) has two lines nobody needs: E03 each
    draft_lines = sorted(e for k, e in messages if k == "cancel" and e.startswith("purchase#"))
    assert len(draft_lines) == 2
    first, second = draft_lines
    first_id = int(first.rpartition("/")[2])
    second_id = int(second.rpartition("/")[2])
    cancel = record_message_decision(cache, messages[("cancel", first)].id, "approve",
                                     decided_by="bea", now=T0)
    assert _entry(cache, cancel.outbox).payload["target"] == f"purchase.line,{first_id}"
    # the other line of that draft purchase: moved to a new delivery date (its own)
    new_draft_date = (dt.date.today() + dt.timedelta(days=21)).isoformat()
    expedite = record_line_decision(cache, second, "expedite", "modify", decided_by="bea",
                                    date=new_draft_date, now=T0)
    # a line of a confirmed purchase (PO-0002, processing): moved through its stock moves
    confirmed, other = sorted(e for k, e in messages if k == "cancel" and e.startswith("PO-0002/"))
    line_id = int(confirmed.rpartition("/")[2])
    (moves_before,) = rpc.read("purchase.line", [line_id], ["moves"])
    later = (dt.date.today() + dt.timedelta(days=50)).isoformat()
    defer = record_line_decision(cache, confirmed, "defer", "modify", decided_by="bea",
                                 date=later, now=T0)
    # ... and Tryton refuses to cancel a line of it: the reason is kept
    refused_cancel = record_message_decision(cache, messages[("cancel", other)].id,
                                             "approve", decided_by="bea", now=T0)
    result = drain_outbox(cache, {"tryton": connector}, now=T0)
    assert sorted(result.sent) == sorted([cancel.outbox, expedite.outbox, defer.outbox]), result
    assert result.failed == [refused_cancel.outbox], result
    assert "Tryton cancels a purchase only while draft or quotation" in \
        str(_entry(cache, refused_cancel.outbox).last_error)

    # in Tryton: the first draft line deleted, the second's own delivery date moved
    assert rpc.search("purchase.line", [("id", "=", first_id)]) == []
    (kept,) = rpc.read("purchase.line", [second_id], ["delivery_date_store", "delivery_date"])
    assert kept["delivery_date_store"].isoformat() == new_draft_date
    moves = rpc.read("stock.move", moves_before["moves"], ["planned_date", "state"])
    assert [m["planned_date"].isoformat() for m in moves if m["state"] == "draft"] == [later]

    # the next sync shows all of it: the entries confirmed, the cancel message resolved
    _sync(cache, connector)
    drain_outbox(cache, {"tryton": connector}, now=T0)
    assert _line(cache, first) is None  # the deleted line is gone from the cache
    assert _line(cache, second)["requested_date"] == new_draft_date  # type: ignore[index]
    assert _line(cache, confirmed)["promised_date"] == later  # type: ignore[index]
    states = dict(zip(outbox_frame(cache)["id"], outbox_frame(cache)["state"]))
    assert {states[o.outbox] for o in (cancel, expedite, defer)} == {"confirmed"}
    svc.refresh_exceptions(cache, open_session(cache))
    after = _messages(cache)
    assert after[("cancel", first)].state == "resolved"


def test_quantity_of_a_confirmed_purchase_line_is_refused(
    tryton_fresh: TrytonServer, make_connector, cache
) -> None:  # type: ignore[no-untyped-def]
    connector = make_connector(tryton_fresh)
    _sync(cache, connector)
    reduce = record_line_decision(cache, "PO-0003/5", "reduce", "modify", decided_by="bea",
                                  quantity=20, now=T0)
    assert drain_outbox(cache, {"tryton": connector}, now=T0).failed == [reduce.outbox]
    assert "Tryton only changes line quantities of draft purchases" in \
        str(_entry(cache, reduce.outbox).last_error)


def test_a_line_changed_in_tryton_after_our_sync_is_a_conflict_with_both_states(
    tryton_fresh: TrytonServer, make_connector, admin_rpc, cache
) -> None:  # type: ignore[no-untyped-def]
    connector = make_connector(tryton_fresh)
    rpc = admin_rpc(tryton_fresh)
    _sync(cache, connector)
    seen = _line(cache, "PO-0003/5")
    assert seen is not None
    line_id = int(str(seen["source_key"]).partition(",")[2])
    ours = (dt.date.today() + dt.timedelta(days=60)).isoformat()
    defer = record_line_decision(cache, "PO-0003/5", "defer", "modify", decided_by="bea",
                                 date=ours, now=T0)
    # after our sync, someone in Tryton moves the line's delivery (its stock move)
    (line,) = rpc.read("purchase.line", [line_id], ["moves"])
    theirs = dt.date.today() + dt.timedelta(days=30)
    rpc.write("stock.move", line["moves"], {"planned_date": theirs})
    result = drain_outbox(cache, {"tryton": connector}, now=T0)
    assert result.conflicts == [defer.outbox] and result.sent == []
    entry = _entry(cache, defer.outbox)
    conflict = json.loads(entry.conflict)
    assert conflict["ours"]["date"] == ours
    assert conflict["ours"]["base_version"] == seen["source_version"]
    assert conflict["theirs"]["version"] != seen["source_version"]
    assert conflict["theirs"]["delivery_date"] == theirs.isoformat()
    # nothing written: Tryton keeps the other user's date
    moves = rpc.read("stock.move", line["moves"], ["planned_date"])
    assert {m["planned_date"] for m in moves} == {theirs}
