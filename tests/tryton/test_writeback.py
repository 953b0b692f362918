"""Decisions written back to a live Tryton: each kind, conflicts, replays, offline queue."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from planner_connectors.tryton import TrytonConnector
from planner_connectors.tryton.rpc import TrytonRPC

from tests.support.tryton.devserver import TrytonServer
from workbench.cache.db import open_cache
from workbench.cache.frames import read_entity_frame
from workbench.connect.port import ConflictError, PermanentError, PushRequest
from workbench.services.approvals import conflict_lines
from workbench.services.decisions import decisions_frame, record_decision
from workbench.services.sync import run_sync
from workbench.services.writeback import (
    audit_frame,
    cached_records,
    drain_outbox,
    outbox_frame,
    retry,
)

pytestmark = pytest.mark.tryton

FOR_REQUISITIONS = ["uoms", "sites", "suppliers", "items", "requisitions"]
T0 = dt.datetime(2030, 1, 1, 8, 0, 0)  # the worker's clock in these tests (UTC)


class Faulty(httpx.BaseTransport):
    """The real network, except once for ``method``: run ``before`` first (a concurrent user),
    or let the server do the call and then lose its response (``lose``)."""

    def __init__(
        self, method: str, *, lose: bool = False, before: Callable[[], None] | None = None
    ):
        self.inner = httpx.HTTPTransport()
        self.method, self.lose, self.before = method, lose, before
        self.fired = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not self.fired and json.loads(request.content)["method"] == self.method:
            self.fired = True
            if self.before:
                self.before()
            response = self.inner.handle_request(request)
            if self.lose:
                response.read()  # the server has committed and answered ...
                response.close()
                raise httpx.ReadError(
                    "connection reset by peer", request=request
                )  # ... we never hear
            return response
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def request_id(rpc: TrytonRPC, origin: str) -> int:
    """The id of the purchase request whose origin starts with ``origin``."""
    ids = rpc.search("purchase.request", [("origin", "like", f"{origin}%")], order=[("id", "ASC")])
    return ids[0]


def sync(cache, connector: TrytonConnector) -> None:  # type: ignore[no-untyped-def]
    result = run_sync(cache, connector, entities=FOR_REQUISITIONS)
    assert result.ok, result.error


def states(cache) -> dict[int, str]:  # type: ignore[no-untyped-def]
    frame = outbox_frame(cache)
    return dict(zip(frame["id"], frame["state"]))


def test_each_decision_kind_reaches_tryton(
    tryton_fresh: TrytonServer, make_connector, admin_rpc, cache
) -> None:  # type: ignore[no-untyped-def]
    connector = make_connector(tryton_fresh)
    sync(cache, connector)
    rpc = admin_rpc(tryton_fresh)
    mrp = request_id(rpc, "stock.order_point,-1")
    point_a, point_b = rpc.search(
        "purchase.request",
        [("origin", "like", "stock.order_point,%"), ("origin", "!=", "stock.order_point,-1")],
        order=[("id", "ASC")],
    )
    approved, approved_2 = rpc.search(
        "purchase.request",
        [("origin", "like", "purchase.requisition.line,%")],
        order=[("id", "ASC")],
    )

    def decide(code: str, action: str, **kw: Any):  # type: ignore[no-untyped-def]
        return record_decision(cache, code, "modify", decided_by="bea", action=action, **kw, now=T0)

    outcomes = [
        decide(f"REQ-{mrp}", "reduce", quantity=2),
        decide(f"REQ-{point_a}", "switch_source", supplier="SUP-03"),
        decide(f"REQ-{point_b}", "cancel", comment="covered by stock in WH2"),
        decide(f"REQ-{approved}", "order"),
        decide(f"REQ-{approved_2}", "increase", quantity=20),
        record_decision(cache, f"REQ-{mrp}", "reject", decided_by="bea", action="cancel", now=T0),
    ]
    assert [o.outbox is not None for o in outcomes] == [True] * 5 + [
        False
    ]  # a rejection sends nothing
    result = drain_outbox(cache, {"tryton": connector}, now=T0)
    assert sorted(result.sent) == sorted(o.outbox for o in outcomes[:5]), result
    assert result.failed == result.conflicts == result.retrying == []

    def read(rid: int, fields: list[str]) -> dict[str, Any]:
        return rpc.read("purchase.request", [rid], fields)[0]

    assert read(mrp, ["quantity"])["quantity"] == 2
    assert read(point_a, ["party.code"])["party."]["code"] == "SUP-03"
    assert (
        rpc.search("purchase.request", [("id", "=", point_b)]) == []
    )  # a draft request is deleted
    ordered = read(approved, ["state", "purchase", "purchase_line"])
    assert ordered["state"] == "purchased"
    (po,) = rpc.read("purchase.purchase", [ordered["purchase"]], ["state", "party.code", "lines"])
    assert (po["state"], po["party."]["code"]) == ("draft", "SUP-01")
    assert rpc.read("purchase.line", [ordered["purchase_line"]], ["quantity"])[0]["quantity"] == 12
    assert read(approved_2, ["quantity"])["quantity"] == 20
    # each applied decision left its idempotency key in a note on the record
    notes = rpc.search_read("ir.note", [("resource", "=", f"purchase.request,{mrp}")], ["message"])
    assert len(notes) == 1 and outcomes[0].idempotency_key in notes[0]["message"]

    # once ordered, the requisition's delivery date can be moved (on its purchase line)
    sync(cache, connector)
    later = (dt.date.today() + dt.timedelta(days=45)).isoformat()
    defer = decide(f"REQ-{approved}", "defer", date=later)
    assert drain_outbox(cache, {"tryton": connector}, now=T0).sent == [defer.outbox]
    line = rpc.read(
        "purchase.line", [ordered["purchase_line"]], ["delivery_date_store", "delivery_date"]
    )[0]
    assert line["delivery_date_store"].isoformat() == later == line["delivery_date"].isoformat()

    # every attempt is audited: who, what, when, result
    audit = audit_frame(cache)
    pushes = audit[audit["action"].str.startswith("push ")]
    assert (
        len(pushes) == 6 and set(pushes["result"]) == {"sent"} and set(pushes["actor"]) == {"bea"}
    )
    assert set(pushes["at"]) == {T0.isoformat()}
    # a sync that sees the written versions confirms the entries (the cancelled one is gone)
    sync(cache, connector)
    drain_outbox(cache, {"tryton": connector}, now=T0)
    assert set(states(cache).values()) == {"confirmed"}
    assert len(decisions_frame(cache)) == 7


def test_defer_a_confirmed_purchase_line(
    tryton_fresh: TrytonServer, make_connector, admin_rpc, cache
) -> None:  # type: ignore[no-untyped-def]
    connector = make_connector(tryton_fresh)
    rpc = admin_rpc(tryton_fresh)
    (line,) = rpc.search_read(
        "purchase.line",
        [("purchase.number", "=", "PO-0002")],
        ["_timestamp", "moves", "delivery_date"],
        order=[("id", "ASC")],
        limit=1,
    )
    new_date = line["delivery_date"] + dt.timedelta(days=9)
    result = connector.push(
        PushRequest(
            "key-defer-1",
            "defer",
            f"purchase.line,{line['id']}",
            line["_timestamp"],
            date=new_date.isoformat(),
        )
    )
    assert not result.already_applied
    moves = rpc.read("stock.move", line["moves"], ["planned_date", "state"])
    assert [m["planned_date"] for m in moves if m["state"] == "draft"] == [new_date]
    assert run_sync(cache, connector).ok
    pol = read_entity_frame(cache, "purchase_order_lines", parse_dates=False)
    row = pol.loc[pol["line"] == line["id"]]
    assert row["promised_date"].item() == new_date.isoformat()  # what Tryton now expects
    # the same entry again: applied once only
    again = connector.push(
        PushRequest(
            "key-defer-1",
            "defer",
            f"purchase.line,{line['id']}",
            line["_timestamp"],
            date=new_date.isoformat(),
        )
    )
    assert again.already_applied


def test_changed_in_tryton_becomes_a_conflict(
    tryton_fresh: TrytonServer, make_connector, admin_rpc, cache
) -> None:  # type: ignore[no-untyped-def]
    connector = make_connector(tryton_fresh)
    sync(cache, connector)
    rpc = admin_rpc(tryton_fresh)
    mrp = request_id(rpc, "stock.order_point,-1")
    rpc.write("purchase.request", [mrp], {"quantity": 99.0})  # someone else, after our analysis
    outcome = record_decision(
        cache, f"REQ-{mrp}", "modify", decided_by="bea", action="reduce", quantity=2, now=T0
    )
    result = drain_outbox(cache, {"tryton": connector}, now=T0)
    assert result.conflicts == [outcome.outbox]
    assert rpc.read("purchase.request", [mrp], ["quantity"])[0]["quantity"] == 99  # nothing written
    entry = outbox_frame(cache).iloc[0]
    assert (
        entry["state"] == "conflict"
        and "changed in Tryton since the analysis" in entry["last_error"]
    )
    conflict = json.loads(entry["conflict"])
    assert conflict["ours"]["quantity"] == 2 and conflict["theirs"]["quantity"] == 99
    # Tryton's record under the canonical requisition names, as the buyer compares them
    (now,) = rpc.read(
        "purchase.request",
        [mrp],
        ["_timestamp", "party.code", "product.code", "unit.symbol", "supply_date", "state"],
    )
    theirs = conflict["theirs"]
    assert theirs["version"] == now["_timestamp"] != conflict["ours"]["base_version"]
    assert theirs["suggested_supplier"] == (now["party."] or {}).get("code", "")
    assert theirs["item"] == now["product."]["code"]
    assert theirs["uom"] == now["unit."]["symbol"]
    assert theirs["need_date"] == now["supply_date"].isoformat()
    assert theirs["state"] == now["state"]
    cached = cached_records(cache)[int(outcome.outbox)]
    assert cached["version"] == conflict["ours"]["base_version"]  # what the analysis saw
    lines = {line.label: line for line in conflict_lines(entry["conflict"], cached)}
    assert lines["Record version"].theirs == now["_timestamp"]
    assert lines["Record version"].changed_in_source  # paired with the cache's, not a stray row
    assert (lines["Quantity"].ours, lines["Quantity"].theirs) == ("2", "99")
    assert lines["Supplier"].cached == lines["Supplier"].theirs  # unchanged there
    # newest first: the attempt, then the decision being queued
    assert audit_frame(cache, outcome.outbox)["result"].tolist() == ["conflict", "queued"]


def test_concurrent_write_is_refused_by_tryton(
    tryton_fresh: TrytonServer, make_connector, admin_rpc, cache
) -> None:  # type: ignore[no-untyped-def]
    """The other user writes between our read and our write: Tryton's _timestamp lock refuses."""
    rpc = admin_rpc(tryton_fresh)
    mrp = request_id(rpc, "stock.order_point,-1")
    race = Faulty(
        "model.purchase.request.write",
        before=lambda: rpc.write("purchase.request", [mrp], {"quantity": 55.0}),
    )
    connector = make_connector(tryton_fresh, transport=race)
    (row,) = rpc.read("purchase.request", [mrp], ["_timestamp"])
    with pytest.raises(ConflictError, match="changed in Tryton while we were writing") as caught:
        connector.push(
            PushRequest(
                "key-race", "reduce", f"purchase.request,{mrp}", row["_timestamp"], quantity=2
            )
        )
    assert race.fired
    assert caught.value.theirs["quantity"] == 55 and caught.value.ours["quantity"] == 2
    assert rpc.read("purchase.request", [mrp], ["quantity"])[0]["quantity"] == 55


@pytest.mark.parametrize("kind", ["quantity", "order"])
def test_replay_after_a_lost_response_applies_once(
    kind: str, tryton_fresh: TrytonServer, make_connector, admin_rpc, cache
) -> None:  # type: ignore[no-untyped-def]
    rpc = admin_rpc(tryton_fresh)
    if kind == "quantity":
        rid = request_id(rpc, "stock.order_point,-1")
        lost = Faulty("model.purchase.request.write", lose=True)
        decision = {"action": "reduce", "quantity": 1}
    else:
        rid = request_id(rpc, "purchase.requisition.line")
        lost = Faulty("wizard.purchase.request.create_purchase.execute", lose=True)
        decision = {"action": "order"}
    connector = make_connector(tryton_fresh, transport=lost)
    sync(cache, connector)
    purchases_before = rpc.search("purchase.purchase", [])
    outcome = record_decision(cache, f"REQ-{rid}", "modify", decided_by="bea", now=T0, **decision)

    first = drain_outbox(cache, {"tryton": connector}, now=T0)
    assert lost.fired and first.retrying == [outcome.outbox]  # we never heard back: retry later
    entry = outbox_frame(cache).iloc[0]
    assert (
        entry["state"] == "queued"
        and entry["next_attempt_at"] == (T0 + dt.timedelta(seconds=30)).isoformat()
    )
    second = drain_outbox(cache, {"tryton": connector}, now=T0 + dt.timedelta(minutes=1))
    assert second.already_applied == [outcome.outbox]
    assert states(cache) == {outcome.outbox: "sent"}

    after = rpc.read("purchase.request", [rid], ["quantity", "state", "purchase"])[0]
    if kind == "quantity":
        assert after["quantity"] == 1
    else:  # exactly one purchase was created for it
        new = sorted(set(rpc.search("purchase.purchase", [])) - set(purchases_before))
        assert after["state"] == "purchased" and new == [after["purchase"]]
    assert audit_frame(cache, outcome.outbox)["result"].tolist() == [
        "already_applied",
        "transient",
        "queued",
    ]


def test_offline_decisions_wait_and_survive_a_restart(
    tryton_fresh: TrytonServer, make_connector, admin_rpc, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "offline.sqlite"
    engine = open_cache(path)
    connector = make_connector(tryton_fresh)
    sync(engine, connector)
    rpc = admin_rpc(tryton_fresh)
    mrp = request_id(rpc, "stock.order_point,-1")
    approved = request_id(rpc, "purchase.requisition.line")
    tryton_fresh.stop()  # the ERP goes down

    a = record_decision(
        engine, f"REQ-{mrp}", "modify", decided_by="bea", action="reduce", quantity=1, now=T0
    )
    b = record_decision(
        engine,
        f"REQ-{approved}",
        "modify",
        decided_by="bea",
        action="increase",
        quantity=30,
        now=T0,
    )
    offline = drain_outbox(engine, {"tryton": connector}, now=T0)
    assert offline.retrying == [a.outbox] and offline.waiting == [b.outbox]
    assert "cannot reach the Tryton server" in offline.messages[0]
    # not due yet: nothing is tried, nothing counted
    assert drain_outbox(
        engine, {"tryton": connector}, now=T0 + dt.timedelta(seconds=10)
    ).waiting == [a.outbox, b.outbox]
    engine.dispose()  # the app is closed ...

    tryton_fresh.start()  # ... the ERP comes back on the same address, the app starts again
    engine = open_cache(path)
    assert set(states(engine).values()) == {"queued"}
    back = drain_outbox(engine, {"tryton": connector}, now=T0 + dt.timedelta(minutes=5))
    assert back.sent == [a.outbox, b.outbox]
    assert rpc.read("purchase.request", [mrp], ["quantity"])[0]["quantity"] == 1
    assert rpc.read("purchase.request", [approved], ["quantity"])[0]["quantity"] == 30
    entries = outbox_frame(engine).set_index("id")
    assert entries.loc[a.outbox, "attempts"] == 2 and entries.loc[b.outbox, "attempts"] == 1
    engine.dispose()


def test_backoff_grows_and_permanent_errors_stop(
    tryton_fresh: TrytonServer, make_connector, admin_rpc, cache
) -> None:  # type: ignore[no-untyped-def]
    connector = make_connector(tryton_fresh)
    sync(cache, connector)
    rpc = admin_rpc(tryton_fresh)
    mrp = request_id(rpc, "stock.order_point,-1")
    # a draft request's dates are Tryton's to compute: refused, with the reason
    bad = record_decision(
        cache,
        f"REQ-{mrp}",
        "modify",
        decided_by="bea",
        action="expedite",
        date="2030-01-05",
        now=T0,
    )
    tryton_fresh.stop()
    t = T0
    for attempt, pause in ((1, 30), (2, 60), (3, 120)):
        result = drain_outbox(cache, {"tryton": connector}, now=t)
        assert result.retrying == [bad.outbox]
        entry = outbox_frame(cache).iloc[0]
        assert entry["attempts"] == attempt
        assert entry["next_attempt_at"] == (t + dt.timedelta(seconds=pause)).isoformat()
        t += dt.timedelta(seconds=pause)
    tryton_fresh.start()
    failed = drain_outbox(cache, {"tryton": connector}, now=t)
    assert failed.failed == [bad.outbox]
    entry = outbox_frame(cache).iloc[0]
    assert (
        entry["state"] == "failed"
        and "computes the dates of a draft purchase request" in entry["last_error"]
    )
    assert retry(cache, [bad.outbox]) == 1 and states(cache) == {bad.outbox: "queued"}
    assert audit_frame(cache, bad.outbox)["result"].tolist() == [
        "queued",
        "failed",
        "transient",
        "transient",
        "transient",
        "queued",
    ]  # retry, ..., decision


def test_the_same_decision_is_queued_once(
    tryton_fresh: TrytonServer, make_connector, admin_rpc, cache
) -> None:  # type: ignore[no-untyped-def]
    connector = make_connector(tryton_fresh)
    sync(cache, connector)
    mrp = request_id(admin_rpc(tryton_fresh), "stock.order_point,-1")
    first = record_decision(
        cache, f"REQ-{mrp}", "modify", decided_by="bea", action="reduce", quantity=2
    )
    again = record_decision(
        cache, f"REQ-{mrp}", "modify", decided_by="bea", action="reduce", quantity=2
    )
    other = record_decision(
        cache, f"REQ-{mrp}", "modify", decided_by="bea", action="reduce", quantity=3
    )
    assert again.duplicate and (again.outbox, again.idempotency_key) == (
        first.outbox,
        first.idempotency_key,
    )
    assert not other.duplicate and other.idempotency_key != first.idempotency_key
    assert len(outbox_frame(cache)) == 2 and len(decisions_frame(cache)) == 2


def test_an_entry_left_sending_by_a_crash_is_sent_once(
    tryton_fresh: TrytonServer, make_connector, admin_rpc, cache
) -> None:  # type: ignore[no-untyped-def]
    """The app died after claiming an entry and writing to Tryton, before recording the result."""
    connector = make_connector(tryton_fresh)
    sync(cache, connector)
    rpc = admin_rpc(tryton_fresh)
    approved = request_id(rpc, "purchase.requisition.line")
    outcome = record_decision(
        cache, f"REQ-{approved}", "modify", decided_by="bea", action="order", now=T0
    )
    # what the dead process did: claimed the entry, and Tryton applied it
    with cache.begin() as conn:
        conn.exec_driver_sql("UPDATE outbox SET state = 'sending', attempts = 1")
        (raw,) = conn.exec_driver_sql("SELECT payload FROM outbox").one()
    connector.push(PushRequest(**json.loads(raw)))
    purchases = rpc.search("purchase.purchase", [])
    result = drain_outbox(cache, {"tryton": connector}, now=T0)
    assert result.already_applied == [outcome.outbox]
    assert rpc.search("purchase.purchase", []) == purchases  # not ordered a second time
    entry = outbox_frame(cache).iloc[0]
    assert (entry["state"], entry["attempts"]) == ("sent", 2)


def test_cancel_an_ordered_requisition(
    tryton_fresh: TrytonServer, make_connector, admin_rpc
) -> None:  # type: ignore[no-untyped-def]
    """Ordered on a draft purchase of its own: the purchase is cancelled, then the request."""
    connector = make_connector(tryton_fresh)
    rpc = admin_rpc(tryton_fresh)
    rid = request_id(rpc, "purchase.requisition.line")
    target = f"purchase.request,{rid}"

    def version() -> str:
        return str(rpc.read("purchase.request", [rid], ["_timestamp"])[0]["_timestamp"])

    connector.push(PushRequest("key-order", "order", target, version()))
    (req,) = rpc.read("purchase.request", [rid], ["state", "purchase"])
    assert req["state"] == "purchased"
    purchase = req["purchase"]
    result = connector.push(PushRequest("key-cancel", "cancel", target, version()))
    assert result.detail["what"] == "cancelled" and not result.already_applied
    (req,) = rpc.read("purchase.request", [rid], ["state", "exception_ignored"])
    assert req["state"] == "cancelled" and bool(req["exception_ignored"])
    assert rpc.read("purchase.purchase", [purchase], ["state"])[0]["state"] == "cancelled"
    assert connector.push(PushRequest("key-cancel", "cancel", target, version())).already_applied


def test_a_switch_to_an_alternate_product_is_refused_and_the_decision_stays(
    tryton_fresh: TrytonServer, make_connector, admin_rpc, cache
) -> None:  # type: ignore[no-untyped-def]
    """Tryton keeps a purchase request's product read-only: the push says so, writes nothing,
    and the buyer's decision (with its alternate) stays in the cache."""
    connector = make_connector(tryton_fresh)
    sync(cache, connector)
    rpc = admin_rpc(tryton_fresh)
    mrp = request_id(rpc, "stock.order_point,-1")
    fields = ["product", "product.code", "quantity", "party", "_timestamp"]
    (before,) = rpc.read("purchase.request", [mrp], fields)
    items = read_entity_frame(cache, "items")
    alternate = min(items.loc[items["code"] != before["product."]["code"], "code"])
    outcome = record_decision(
        cache,
        f"REQ-{mrp}",
        "modify",
        decided_by="bea",
        action="switch_source",
        item=alternate,
        quantity=3,
        now=T0,
    )
    result = drain_outbox(cache, {"tryton": connector}, now=T0)
    assert result.failed == [outcome.outbox] and result.sent == []
    entry = outbox_frame(cache).iloc[0]
    assert entry["state"] == "failed"
    assert f"cannot switch purchase.request,{mrp} to alternate {alternate}" in entry["last_error"]
    assert "product of a purchase request is read-only" in entry["last_error"]
    (after,) = rpc.read("purchase.request", [mrp], fields)
    assert after == before  # nothing written, not even a note's timestamp bump
    assert rpc.search("ir.note", [("resource", "=", f"purchase.request,{mrp}")]) == []
    (decided,) = decisions_frame(cache).to_dict("records")
    assert (decided["action"], decided["item"], decided["outbox_state"]) == (
        "switch_source",
        alternate,
        "failed",
    )
    # why the push does not even try: Tryton itself refuses to change the product
    (other,) = rpc.search("product.product", [("code", "=", alternate)])
    with pytest.raises(PermanentError, match='not allowed to modify the field "Product"'):
        rpc.write("purchase.request", [mrp], {"product": other})
    assert rpc.read("purchase.request", [mrp], ["product"])[0]["product"] == before["product"]
