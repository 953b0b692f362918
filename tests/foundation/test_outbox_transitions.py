"""The outbox's state machine: one table of allowed moves (workbench.cache.outbox.TRANSITIONS),
checked in one function; every allowed move passes, every other one is refused with a message
naming the entry, its state and where the move is allowed from — also on a real cache, where a
refused move writes nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.fixtures_connector import MemoryConnector
from workbench.cache.db import open_cache
from workbench.cache.outbox import (
    NEW,
    TRANSITIONS,
    OutboxMove,
    OutboxRepository,
    OutboxStateError,
    check_move,
)
from workbench.cache.readmodels import audit_frame, outbox_frame
from workbench.domain.enums import OutboxState
from workbench.services.decisions import record_decision
from workbench.services.sync import run_sync
from workbench.services.writeback import discard_conflicts, resend_on_source_version, retry

#: written out by hand from the write-back rules (services/writeback.py's module doc):
#: (state before, move) -> state after
EXPECTED = {
    ("(new)", "enqueue"): "queued",
    ("queued", "claim"): "sending",
    ("sending", "claim"): "sending",  # a send cut short by a crash is taken again
    ("sending", "deliver"): "sent",
    ("sending", "conflict"): "conflict",
    ("sending", "postpone"): "queued",
    ("sending", "fail"): "failed",
    ("sent", "confirm"): "confirmed",
    ("failed", "retry"): "queued",
    ("conflict", "retry"): "queued",
    ("conflict", "resend"): "queued",
    ("conflict", "discard"): "discarded",
}
STATES = [NEW, *(s.value for s in OutboxState)]


def test_the_table_is_exactly_the_write_back_rules() -> None:
    assert {(str(a), m.value): b.value for (a, m), b in TRANSITIONS.items()} == EXPECTED


@pytest.mark.parametrize(("before", "move"), sorted(EXPECTED))
def test_every_allowed_move_passes(before: str, move: str) -> None:
    assert check_move(before, OutboxMove(move)) == EXPECTED[(before, move)]


def test_every_other_move_is_refused() -> None:
    refused = [(s, m) for s in STATES for m in OutboxMove if (s, m.value) not in EXPECTED]
    assert len(refused) == len(STATES) * len(OutboxMove) - len(EXPECTED) == 8 * 10 - 12
    for state, move in refused:
        with pytest.raises(OutboxStateError):
            check_move(state, move)


def test_a_confirmed_entry_cannot_be_queued_again() -> None:
    with pytest.raises(OutboxStateError) as err:
        check_move("confirmed", OutboxMove.RETRY, "outbox entry 7")
    assert str(err.value) == ("outbox entry 7 is confirmed: it cannot retry "
                              "(allowed from conflict, failed)")
    with pytest.raises(OutboxStateError) as err:
        check_move("discarded", OutboxMove.CLAIM)
    assert str(err.value) == ("outbox entry is discarded: it cannot claim "
                              "(allowed from queued, sending)")


def _plant() -> dict[str, list[dict[str, Any]]]:
    return {
        "uoms": [{"code": "EA", "source_version": "1"}],
        "sites": [{"code": "S1", "source_version": "1"}],
        "suppliers": [{"code": "SUP", "source_version": "1"}],
        "items": [{"code": "X", "default_supplier": "SUP", "source_version": "1"}],
        "requisitions": [{"code": "RX", "item": "X", "site": "S1", "quantity": 100,
                          "need_date": "2030-01-14", "suggested_supplier": "SUP",
                          "source_key": "req,1", "source_version": "1"}],
    }


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Engine:
    """A synced cache on each engine (the transitions are the same SQL on both)."""
    where = (request.getfixturevalue("pg_cache_url") if request.param == "postgresql"
             else tmp_path / "cache.sqlite")
    e = open_cache(where)
    assert run_sync(e, MemoryConnector(_plant(), batch_size=50)).ok
    return e


def _set_state(engine: Engine, entry: int, state: str) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE outbox SET state = ? WHERE id = ?", (state, entry))


def test_a_refused_move_on_the_cache_writes_nothing(engine: Engine) -> None:
    outcome = record_decision(engine, "RX", "modify", decided_by="ana", action="reduce",
                              quantity=60.0)
    assert outcome.outbox is not None
    _set_state(engine, outcome.outbox, "confirmed")
    before = outbox_frame(engine)
    with pytest.raises(OutboxStateError, match=f"outbox entry {outcome.outbox} is confirmed: "
                                               "it cannot retry"):
        with engine.begin() as conn:
            OutboxRepository(conn).move(outcome.outbox, "confirmed",
                                        OutboxMove.RETRY, "2030-01-01T08:00:00")
    assert outbox_frame(engine).equals(before)


def test_user_moves_skip_entries_the_table_does_not_allow(engine: Engine) -> None:
    """Retry, resend and discard leave an entry in another state as it is (and say so),
    exactly as before the table existed; allowed ones move and are audited."""
    outcome = record_decision(engine, "RX", "modify", decided_by="ana", action="reduce",
                              quantity=60.0)
    entry = int(outcome.outbox or 0)
    now = dt.datetime(2030, 1, 1, 8)
    for state in ("queued", "sending", "sent", "confirmed", "discarded"):
        _set_state(engine, entry, state)
        assert retry(engine, [entry], actor="bo", now=now) == 0
        assert discard_conflicts(engine, [entry], actor="bo", now=now).skipped == [
            f"entry {entry} is not in conflict"]
        assert resend_on_source_version(engine, [entry], actor="bo", now=now).done == []
        assert outbox_frame(engine)["state"].tolist() == [state]
    _set_state(engine, entry, "failed")
    assert retry(engine, [entry], actor="bo", now=now) == 1
    assert outbox_frame(engine)["state"].tolist() == ["queued"]
    _set_state(engine, entry, "conflict")
    assert discard_conflicts(engine, [entry], actor="bo", now=now).done == [entry]
    assert outbox_frame(engine)["state"].tolist() == ["discarded"]
    log = audit_frame(engine, entry)
    assert log[["actor", "action", "result"]].values.tolist() == [
        ["bo", "discard", "discarded"], ["bo", "retry", "queued"],
        ["ana", "decide modify reduce", "queued"]]


DECISION_SERVICES = ("decisions", "approvals", "writeback", "reevaluate", "status")


@pytest.mark.parametrize("name", DECISION_SERVICES)
def test_the_decision_services_orchestrate_without_sql(name: str) -> None:
    """SQL lives in the cache package: these services import no table and no statement
    builder (only the Engine type) and hold no SQL text."""
    import ast

    import workbench.services

    path = Path(workbench.services.__file__).parent / f"{name}.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = {(node.module, alias.name) for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) for alias in node.names}
    assert {n for m, n in imported if m == "sqlalchemy"} <= {"Engine"}
    assert not {m for m, _ in imported if m == "workbench.cache.schema"}
    sql = [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)
           and isinstance(node.value, str)
           and node.value.lstrip().upper().startswith(("SELECT ", "UPDATE ", "INSERT ",
                                                        "DELETE ", "PRAGMA "))]
    assert sql == []
