"""Several buyers deciding at once on one team cache (issue 17 §2), on SQLite and PostgreSQL:
two real connections (two engines, as two workstations), no mocks.

- Two decisions on the same requisition (or PO line) made on the version both buyers saw: the
  first is stored, the second is refused with a conflict showing both decisions (who, when,
  what); nothing of the second is stored (no decision, no outbox entry), the conflict is audited.
- A decision whose transaction starts while another's holds the target waits for it, then sees
  its decision (FOR UPDATE on PostgreSQL, BEGIN IMMEDIATE on SQLite): no lost update.
- A sync running while a buyer decides: both are kept.
- Who: the workstation login and the database role on decisions and audit events.
"""

from __future__ import annotations

import datetime as dt
import getpass
import threading
import time
from typing import Any

import pytest
from sqlalchemy import Engine, make_url, select

from tests.team.buyers import RecordingConnector, plant, team_cache
from workbench.cache.db import open_cache
from workbench.cache.decisions import DecisionStore
from workbench.cache.schema import ENTITY_TABLES, audit_events, decisions, outbox
from workbench.services.decisions import (
    DecisionConflict,
    decision_version,
    record_decision,
    store_decision,
)
from workbench.services.message_decisions import record_line_decision
from workbench.services.sync import run_sync

__all__ = ["team_cache"]  # the fixture, imported to be used here

T_ANN = dt.datetime(2026, 12, 5, 9, 0, 0)
T_BOB = dt.datetime(2026, 12, 5, 9, 0, 30)


def _role(engine: Engine) -> str:
    """The database role expected: the URL's user on PostgreSQL, the OS login on SQLite."""
    if engine.dialect.name == "postgresql":
        return str(make_url(str(engine.url)).username)
    return getpass.getuser()


def _rows(engine: Engine, table: Any) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(table).order_by(table.c.id)).mappings()]


def test_two_buyers_on_one_requisition_first_stored_second_conflict(team_cache: str) -> None:
    ann, bob = open_cache(team_cache), open_cache(team_cache)  # two workstations
    try:
        # both look at REQ-03 (30 EA, never decided: version 0)
        seen = decision_version(ann, "REQ-03")
        assert seen == decision_version(bob, "REQ-03") == 0
        first = record_decision(ann, "REQ-03", "modify", decided_by="Ann", action="reduce",
                                quantity=25.0, now=T_ANN, expected_version=seen)
        with pytest.raises(DecisionConflict) as caught:
            record_decision(bob, "REQ-03", "modify", decided_by="Bob", action="increase",
                            quantity=40.0, now=T_BOB, expected_version=seen)
        conflict = caught.value
        # both decisions, who / when / what
        assert conflict.theirs["decision"] == first.decision
        assert (conflict.theirs["decided_by"], conflict.theirs["decided_at"],
                conflict.theirs["action"], conflict.theirs["quantity"]) == (
            "Ann", "2026-12-05T09:00:00", "reduce", 25.0)
        assert (conflict.ours["decided_by"], conflict.ours["decided_at"],
                conflict.ours["action"], conflict.ours["quantity"]) == (
            "Bob", "2026-12-05T09:00:30", "increase", 40.0)
        assert conflict.ours["decision"] is None  # not stored
        assert (conflict.expected_version, conflict.current_version) == (0, 1)
        login, role = getpass.getuser(), _role(ann)
        assert conflict.theirs["workstation_user"] == conflict.ours["workstation_user"] == login
        assert conflict.theirs["db_role"] == role
        text = str(conflict)
        assert "requisition REQ-03 was decided by another buyer" in text
        assert "Ann (login " in text and "modify reduce 25" in text
        assert "Bob (login " in text and "modify increase 40" in text
        # the first is stored, nothing of the second
        stored = _rows(ann, decisions)
        assert [(d["decided_by"], d["action"], d["quantity"]) for d in stored] == [
            ("Ann", "reduce", 25.0)]
        assert (stored[0]["workstation_user"], stored[0]["db_role"]) == (login, role)
        assert [e["decision"] for e in _rows(ann, outbox)] == [first.decision]
        assert decision_version(bob, "REQ-03") == 1
        # the conflict is in the audit log, with both decisions, as Bob, on this workstation
        events = _rows(ann, audit_events)
        assert [(e["actor"], e["action"], e["result"]) for e in events] == [
            ("Ann", "decide modify reduce", "queued"), ("Bob", "decide", "conflict")]
        assert all((e["workstation_user"], e["db_role"]) == (login, role) for e in events)
        assert '"decided_by": "Ann"' in events[1]["detail"]
        # Bob sees Ann's decision (version 1) and decides again on it: stored
        again = record_decision(bob, "REQ-03", "modify", decided_by="Bob", action="increase",
                                quantity=40.0, now=T_BOB, expected_version=1)
        assert again.decision is not None and not again.duplicate
        assert decision_version(ann, "REQ-03") == 2
        # another requisition has its own version
        assert decision_version(ann, "REQ-04") == 0
    finally:
        ann.dispose()
        bob.dispose()


def test_two_buyers_racing_on_one_po_line(team_cache: str) -> None:
    """Two threads, two connections, started together on PO line PO1/1 (2 BOX = 100 EA): one
    reduce to 60 EA, one to 80 EA, both on version 0. Exactly one is stored."""
    engines = [open_cache(team_cache), open_cache(team_cache)]
    start = threading.Barrier(2)
    outcomes: dict[str, Any] = {}

    def decide(n: int, who: str, quantity: float) -> None:
        start.wait()
        try:
            outcomes[who] = record_line_decision(
                engines[n], "PO1/1", "reduce", "modify", decided_by=who, quantity=quantity,
                expected_version=0)
        except DecisionConflict as exc:
            outcomes[who] = exc

    threads = [threading.Thread(target=decide, args=(0, "Ann", 60.0)),
               threading.Thread(target=decide, args=(1, "Bob", 80.0))]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        conflicts = [o for o in outcomes.values() if isinstance(o, DecisionConflict)]
        stored = [o for o in outcomes.values() if not isinstance(o, DecisionConflict)]
        assert len(conflicts) == 1 and len(stored) == 1, outcomes
        [conflict], [won] = conflicts, stored
        assert conflict.target_kind == "purchase_order_line" and conflict.target == "PO1/1"
        assert conflict.theirs["decision"] == won.decision
        assert {conflict.theirs["quantity"], conflict.ours["quantity"]} == {60.0, 80.0}
        assert conflict.theirs["decided_by"] != conflict.ours["decided_by"]
        assert "purchase order line PO1/1 was decided by another buyer" in str(conflict)
        rows = _rows(engines[0], decisions)
        assert [(d["requisition"], d["quantity"]) for d in rows] == [
            ("PO1/1", conflict.theirs["quantity"])]
        [entry] = _rows(engines[0], outbox)
        assert entry["decision"] == won.decision
        assert decision_version(engines[1], "PO1/1", "purchase_order_line") == 1
    finally:
        for e in engines:
            e.dispose()


def test_a_decision_waits_for_the_one_in_flight_then_conflicts(team_cache: str) -> None:
    """Ann's transaction holds REQ-05 (its version row taken) and stores her decision 0.5 s
    later; Bob decides meanwhile on version 0: his transaction waits for hers (SELECT … FOR
    UPDATE on PostgreSQL, the write lock on SQLite), then finds version 1: a conflict."""
    ann, bob = open_cache(team_cache), open_cache(team_cache)
    holding, result = threading.Event(), dict[str, Any]()

    def ann_decides() -> None:
        with ann.begin() as conn:
            store = DecisionStore(conn)
            taken = store.take_version(None, "REQ-05")
            holding.set()
            time.sleep(0.5)
            decision = store.add_decision({
                "requisition": "REQ-05", "verdict": "reject", "action": "order",
                "decided_by": "Ann", "decided_at": "2026-12-05T09:00:00"})
            store.bump_version(taken, decision)

    def bob_decides() -> None:
        holding.wait(30)
        started = time.perf_counter()
        try:
            record_decision(bob, "REQ-05", "reject", decided_by="Bob", action="order",
                            now=T_BOB, expected_version=0)
            result["outcome"] = "stored"
        except DecisionConflict as exc:
            result["outcome"] = exc
        result["waited"] = time.perf_counter() - started

    threads = [threading.Thread(target=ann_decides), threading.Thread(target=bob_decides)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        conflict = result["outcome"]
        assert isinstance(conflict, DecisionConflict), result
        assert conflict.theirs["decided_by"] == "Ann" and conflict.ours["decided_by"] == "Bob"
        assert result["waited"] >= 0.3  # it waited for Ann's transaction
        assert [d["decided_by"] for d in _rows(ann, decisions)] == ["Ann"]
    finally:
        ann.dispose()
        bob.dispose()


def test_the_same_decision_twice_is_a_duplicate_not_a_conflict(team_cache: str) -> None:
    """A double click (or two buyers asking the very same): the second is the first's twin."""
    engine = open_cache(team_cache)
    try:
        first = record_decision(engine, "REQ-02", "modify", decided_by="Ann", action="reduce",
                                quantity=15.0, now=T_ANN, expected_version=0)
        twin = record_decision(engine, "REQ-02", "modify", decided_by="Ann", action="reduce",
                               quantity=15.0, now=T_ANN, expected_version=0)
        assert twin.duplicate and (twin.decision, twin.outbox) == (first.decision, first.outbox)
        assert decision_version(engine, "REQ-02") == 1
    finally:
        engine.dispose()


def test_store_decision_takes_an_offline_decision_with_the_version_check(team_cache: str
                                                                         ) -> None:
    """What the offline copy pushes: kept as made (who, when), queued under its key; pushed
    again it is a duplicate; made on a version someone decided since, a conflict."""
    engine = open_cache(team_cache)
    offline = {"requisition": "REQ-07", "verdict": "modify", "action": "reduce",
               "quantity": 50.0, "decided_by": "Cleo", "decided_at": "2026-12-04T17:00:00",
               "base_version": "1", "workstation_user": "cleo-laptop", "db_role": "cleo"}
    request = {"action": "reduce", "target": "REQ-07", "base_version": "1", "quantity": 50.0,
               "date": None, "supplier": None, "comment": ""}
    try:
        out = store_decision(engine, offline, expected_version=0, connector="memory",
                             request=request)
        again = store_decision(engine, offline, expected_version=0, connector="memory",
                               request=request)
        assert again.duplicate and again.outbox == out.outbox
        [row] = _rows(engine, decisions)
        assert (row["decided_by"], row["decided_at"], row["workstation_user"],
                row["db_role"]) == ("Cleo", "2026-12-04T17:00:00", "cleo-laptop", "cleo")
        with pytest.raises(DecisionConflict) as caught:
            store_decision(engine, {**offline, "quantity": 45.0, "decided_by": "Dan"},
                           expected_version=0, connector="memory",
                           request={**request, "quantity": 45.0})
        assert caught.value.theirs["decided_by"] == "Cleo"
        assert caught.value.ours["quantity"] == 45.0
        assert len(_rows(engine, decisions)) == 1
    finally:
        engine.dispose()


class _HeldSync(RecordingConnector):
    """The plant, one new version of REQ-01 (quantity 11) and a new requisition REQ-99; the
    pull of requisitions stops halfway until ``go`` is set: a sync whose transaction is open
    while a buyer decides."""

    def __init__(self) -> None:
        data = plant()
        data["requisitions"][0].update(quantity=11.0, source_version="2")
        data["requisitions"].append({**data["requisitions"][1], "code": "REQ-99",
                                     "source_key": "REQ-99", "source_version": "2"})
        super().__init__(data)
        self.batch_size = 1
        self.holding, self.go = threading.Event(), threading.Event()

    def pull(self, entity: str, since: str | None) -> Any:
        for n, batch in enumerate(super().pull(entity, since)):
            yield batch
            if entity == "requisitions" and n == 0:
                self.holding.set()
                self.go.wait(30)


def test_a_sync_while_a_buyer_decides_keeps_both(team_cache: str) -> None:
    sync_engine, buyer = open_cache(team_cache), open_cache(team_cache)
    source, done = _HeldSync(), dict[str, Any]()

    def sync() -> None:
        done["sync"] = run_sync(sync_engine, source)

    def decide() -> None:
        source.holding.wait(30)
        done["decision"] = record_decision(buyer, "REQ-06", "modify", decided_by="Ann",
                                           action="reduce", quantity=55.0, now=T_ANN,
                                           expected_version=0)

    threads = [threading.Thread(target=sync), threading.Thread(target=decide)]
    try:
        for t in threads:
            t.start()
        source.holding.wait(30)
        time.sleep(0.3)  # the buyer's transaction starts while the sync's is open
        source.go.set()
        for t in threads:
            t.join(60)
        assert done["sync"].ok, done["sync"]
        assert done["decision"].decision is not None
        reqs = ENTITY_TABLES["requisitions"]
        with buyer.connect() as conn:
            got = dict(conn.execute(select(reqs.c.code, reqs.c.quantity)
                                    .where(reqs.c.code.in_(["REQ-01", "REQ-06", "REQ-99"]))
                                    ).all())
        assert got == {"REQ-01": 11.0, "REQ-06": 60.0, "REQ-99": 20.0}  # the sync's rows
        assert [(d["requisition"], d["quantity"]) for d in _rows(buyer, decisions)] == [
            ("REQ-06", 55.0)]  # and the decision
        assert len(_rows(buyer, outbox)) == 1
    finally:
        sync_engine.dispose()
        buyer.dispose()
