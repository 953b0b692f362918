"""The offline copy of a team cache (issue 17 §2): a workstation's local SQLite cache filled
from the team cache by the ordinary sync of a ``team`` source, and the decisions made on the
copy pushed back into the team's decisions and outbox with the version check.

Real caches only: the team cache is a demo plant loaded by the ordinary sync into a SQLite
cache, and into a real PostgreSQL database when the test server can run (``pg_url``)."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from planner_connectors.team import TeamConnector
from sqlalchemy import Engine, select

from tests.team.buyers import demo_team_file
from workbench.analysis.slippage import _history, promise_history
from workbench.cache import runs
from workbench.cache.db import open_cache
from workbench.cache.outbox import OutboxRepository, request_fields
from workbench.cache.schema import ENTITY_TABLES, decisions, entity_columns, outbox
from workbench.cache.upsert import EntityWriter
from workbench.connect.port import PushRequest
from workbench.domain.models import ENTITY_MODELS
from workbench.services.decisions import record_decision
from workbench.services.sources import demo_connector
from workbench.services.sync import run_sync
from workbench.services.team import push_offline
from workbench.services.writeback import retry


@pytest.fixture(scope="module")
def sqlite_team(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_team_file(tmp_path_factory, "team")


@pytest.fixture(params=["sqlite", "postgresql"])
def team(request: pytest.FixtureRequest, sqlite_team: Path, tmp_path: Path) -> Iterator[str]:
    """Where the team cache is: a SQLite file, or a PostgreSQL database (the same demo load)."""
    if request.param == "sqlite":
        target = tmp_path / "team.sqlite"
        for suffix in ("", ".demo-ledger.jsonl"):
            if Path(f"{sqlite_team}{suffix}").exists():
                shutil.copy(f"{sqlite_team}{suffix}", f"{target}{suffix}")
        where = str(target)
    else:
        where = request.getfixturevalue("pg_url")
        engine = open_cache(where)
        assert run_sync(engine, demo_connector(cache=tmp_path / "team-demo")).ok
        engine.dispose()
    yield where
    while _OPENED:
        _OPENED.pop().dispose()


#: team engines a test opened, disposed when its team cache goes (no connection outlives it)
_OPENED: list[Engine] = []


def _open_team(team: str) -> Engine:
    engine = open_cache(team if "://" in team else Path(team))
    _OPENED.append(engine)
    return engine


def _connector(team: str, local: Path) -> TeamConnector:
    return TeamConnector(cache=team, local=str(local))


def _rows(engine: Engine, entity: str) -> list[tuple[Any, ...]]:
    """Every row of ``entity`` with the columns a copy must equal (not source nor sync_run),
    live rows only, sorted."""
    table = ENTITY_TABLES[entity]
    cols = [c for c in entity_columns(ENTITY_MODELS[entity]) if c != "source"]
    with engine.connect() as conn:
        rows = conn.execute(select(*(table.c[c] for c in cols))
                            .where(table.c.deleted_at.is_(None))).all()
    return sorted((tuple(r) for r in rows), key=repr)


def _copy(team: str, tmp_path: Path) -> tuple[Engine, TeamConnector, Path]:
    local_path = tmp_path / "local.sqlite"
    local = open_cache(local_path)
    connector = _connector(team, local_path)
    first = run_sync(local, connector)
    assert first.ok, first.error
    return local, connector, local_path


def test_a_pull_copies_the_team_cache(team: str, tmp_path: Path) -> None:
    local, connector, _ = _copy(team, tmp_path)
    team_engine = _open_team(team)
    for entity in ENTITY_MODELS:
        assert _rows(local, entity) == _rows(team_engine, entity), entity
    assert len(_rows(local, "items")) == len(_rows(team_engine, "items")) > 0
    with local.connect() as conn:
        sources = {r[0] for r in conn.execute(select(ENTITY_TABLES["requisitions"].c.source)
                                              .distinct())}
        marks = runs.stored_watermarks(conn, "team")
    assert sources == {"team"}  # decisions on the copy are queued for the team, not the ERP
    assert marks["requisitions"] == "r000000000001/d000000000000"
    connector.close()


def _delete_on_team(team_engine: Engine, entity: str, key: tuple[Any, ...]) -> int:
    """A team run that marks one row deleted, as a sync whose source lost it does."""
    now = "2026-01-13T00:00:00"
    with team_engine.begin() as conn:
        run_id = runs.start_run(conn, "demo", now, "succeeded")
        assert EntityWriter(entity, run_id).mark_deleted(conn, [key], now) == 1
        runs.finish_run(conn, run_id, finished_at=now, status="succeeded", counts={},
                        rejected=0, duration_s=0.0, watermarks={})
    return run_id


def test_an_incremental_pull_takes_only_what_changed_on_the_team(team: str,
                                                                 tmp_path: Path) -> None:
    local, connector, _ = _copy(team, tmp_path)
    team_engine = _open_team(team)
    day7 = run_sync(team_engine, demo_connector(day=7, cache=tmp_path / "demo"))
    assert day7.ok
    req = ENTITY_TABLES["requisitions"]
    with team_engine.connect() as conn:
        gone = conn.execute(select(req.c.code).where(req.c.deleted_at.is_(None),
                                                     req.c.sync_run == 1)  # not changed by day 7
                            .order_by(req.c.code).limit(1)).scalar_one()
        pc = ENTITY_TABLES["promise_changes"]
        history = conn.execute(select(pc.c.line).where(pc.c.sync_run > 1)).all()
    _delete_on_team(team_engine, "requisitions", (gone,))
    changed = {e: c["changed"] for e, c in day7.counts.items() if c["changed"]}

    again = run_sync(local, _connector(team, tmp_path / "local.sqlite"))
    assert again.ok, again.error
    received = {e: c["received"] for e, c in again.counts.items() if c["received"]}
    # only the rows the day-7 run changed, and the one deletion; promise history: every row
    # of the team's that run wrote, the source's and the team's own observations (triggers)
    assert {e: n for e, n in received.items() if e != "promise_changes"} == {
        e: n for e, n in changed.items() if e != "promise_changes"}
    assert received["promise_changes"] == len(history) > changed["promise_changes"]
    # the demo's week approves RQ-000008/09/34 and cancels RQ-000010/23 (its records)
    assert changed["requisitions"] == received["requisitions"] == 5
    assert again.counts["requisitions"]["deleted"] == 1
    for entity in ENTITY_MODELS:
        if entity == "promise_changes":  # the copy observes changes too (docs/team-cache.md)
            assert set(_rows(team_engine, entity)) <= set(_rows(local, entity))
            continue
        assert _rows(local, entity) == _rows(team_engine, entity), entity
    with local.connect() as conn:
        deleted_at = conn.execute(select(req.c.deleted_at).where(req.c.code == gone)).scalar()
    assert deleted_at is not None
    # what the copy's extra observations change for the slippage analysis: nothing
    assert _moves(local).equals(_moves(team_engine))
    assert int(_moves(team_engine)["promise_changes"].sum()) > 0
    connector.close()


def _moves(engine: Engine) -> pd.DataFrame:
    """Per PO line: first and last promise and how often it moved, as slippage counts them."""
    pc = ENTITY_TABLES["promise_changes"]
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(select(
            pc.c.purchase_order, pc.c.line, pc.c.changed_at, pc.c.promised_date, pc.c.origin)
            .where(pc.c.deleted_at.is_(None))).mappings().all())
    history = _history(promise_history(frame))
    cols = ["purchase_order", "line", "first_promise", "last_seen_promise", "promise_changes"]
    return history[cols].sort_values(cols[:2]).reset_index(drop=True)


def _open_requisition(engine: Engine) -> str:
    req = ENTITY_TABLES["requisitions"]
    with engine.connect() as conn:
        return str(conn.execute(select(req.c.code).where(req.c.deleted_at.is_(None))
                                .order_by(req.c.code).limit(1)).scalar_one())


def _team_decisions(team_engine: Engine, code: str) -> list[dict[str, Any]]:
    with team_engine.connect() as conn:
        rows = conn.execute(select(decisions).where(decisions.c.requisition == code)
                            .order_by(decisions.c.id)).mappings().all()
    return [dict(r) for r in rows]


def _local_entry(local: Engine, entry_id: int) -> dict[str, Any]:
    with local.connect() as conn:
        return dict(conn.execute(select(outbox).where(outbox.c.id == entry_id))
                    .mappings().one())


def test_an_offline_decision_goes_into_the_team_decisions_and_outbox(team: str,
                                                                      tmp_path: Path) -> None:
    local, connector, _ = _copy(team, tmp_path)
    code = _open_requisition(local)
    mine = record_decision(local, code, "modify", action="reduce", quantity=12.5,
                           decided_by="ann", now=dt.datetime(2026, 1, 6, 9, 30))
    assert mine.outbox is not None
    assert _local_entry(local, mine.outbox)["connector"] == "team"

    result = push_offline(local, connector)
    assert result.sent == [mine.outbox] and not result.conflicts
    team_engine = _open_team(team)
    (theirs,) = _team_decisions(team_engine, code)
    assert (theirs["decided_by"], theirs["decided_at"], theirs["verdict"], theirs["action"],
            theirs["quantity"]) == ("ann", "2026-01-06T09:30:00", "modify", "reduce", 12.5)
    assert theirs["workstation_user"] == getpass.getuser()  # the workstation it was made on
    with team_engine.connect() as conn:
        entry = conn.execute(select(outbox).where(outbox.c.decision == theirs["id"])
                             ).mappings().one()
    # queued for the team's own worker, to the requisition's own source (the demo plant)
    assert (entry["state"], entry["connector"]) == ("queued", "demo")
    assert entry["idempotency_key"] == mine.idempotency_key
    assert json.loads(entry["payload"])["quantity"] == 12.5
    assert _local_entry(local, mine.outbox)["state"] == "sent"  # handed to the team

    # pushed again (a second push, or a sync of the team source): nothing twice
    assert push_offline(local, connector).sent == []
    assert len(_team_decisions(team_engine, code)) == 1
    connector.close()


def test_an_offline_decision_on_a_requisition_decided_meanwhile_is_a_conflict(
        team: str, tmp_path: Path) -> None:
    local, connector, _ = _copy(team, tmp_path)
    code = _open_requisition(local)
    team_engine = _open_team(team)
    bob = record_decision(team_engine, code, "modify", action="defer", date="2026-02-20",
                          decided_by="bob", now=dt.datetime(2026, 1, 6, 8, 0))
    ann = record_decision(local, code, "modify", action="reduce", quantity=12.5,
                          decided_by="ann", now=dt.datetime(2026, 1, 6, 9, 30))
    assert ann.outbox is not None and bob.decision is not None

    result = push_offline(local, connector)
    assert result.conflicts == [ann.outbox] and result.sent == []
    entry = _local_entry(local, ann.outbox)
    assert entry["state"] == "conflict"
    both = json.loads(entry["conflict"])
    assert (both["ours"]["decided_by"], both["ours"]["action"], both["ours"]["quantity"]) == (
        "ann", "reduce", 12.5)
    assert (both["theirs"]["decided_by"], both["theirs"]["action"], both["theirs"]["date"],
            both["theirs"]["id"]) == ("bob", "defer", "2026-02-20", bob.decision)
    assert "bob decided requisition" in entry["last_error"]
    # nothing overwritten: the team still holds bob's decision only
    (kept,) = _team_decisions(team_engine, code)
    assert (kept["decided_by"], kept["action"]) == ("bob", "defer")
    connector.close()

    # ann has seen bob's decision (a pull since), and keeps hers: retried, it goes in after his
    pull = _connector(team, tmp_path / "local.sqlite")
    assert run_sync(local, pull).ok
    pull.close()
    assert retry(local, [ann.outbox], actor="ann") == 1
    pusher = _connector(team, tmp_path / "local.sqlite")
    again = push_offline(local, pusher)
    pusher.close()
    assert again.sent == [ann.outbox]
    assert [(d["decided_by"], d["action"]) for d in _team_decisions(team_engine, code)] == [
        ("bob", "defer"), ("ann", "reduce")]


def test_a_push_while_the_team_is_unreachable_keeps_the_decision_queued(
        sqlite_team: Path, tmp_path: Path) -> None:
    team_path = tmp_path / "team.sqlite"
    shutil.copy(sqlite_team, team_path)
    local, connector, local_path = _copy(str(team_path), tmp_path)
    connector.close()
    code = _open_requisition(local)
    mine = record_decision(local, code, "approve", action="cancel", decided_by="ann")
    assert mine.outbox is not None
    moved = tmp_path / "elsewhere.sqlite"
    team_path.rename(moved)  # the team cache is gone (the server is down, the laptop away)
    offline = TeamConnector(cache=str(team_path), local=str(local_path))
    result = push_offline(local, offline)
    assert result.retrying == [mine.outbox] and not result.sent
    entry = _local_entry(local, mine.outbox)
    assert (entry["state"], entry["attempts"]) == ("queued", 1)
    assert "team cache not reachable" in entry["last_error"]
    assert entry["next_attempt_at"] > entry["created_at"]  # the outbox's back-off: 30 s

    moved.rename(team_path)  # back in the office: the next push (after the pause) takes it
    later = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(minutes=1)
    back = push_offline(local, TeamConnector(cache=str(team_path), local=str(local_path)),
                        now=later)
    assert back.sent == [mine.outbox]
    (taken,) = _team_decisions(open_cache(team_path), code)
    assert (taken["decided_by"], taken["action"]) == ("ann", "cancel")


def test_a_push_cut_short_is_taken_again_and_stored_once(team: str, tmp_path: Path) -> None:
    """The process pushing dies after the team stored the decision but before the copy
    recorded it: the entry is still ``sending`` on the copy; the next push takes it again and
    the team, knowing its idempotency key, stores nothing twice."""
    local, connector, _ = _copy(team, tmp_path)
    code = _open_requisition(local)
    mine = record_decision(local, code, "modify", action="reduce", quantity=3.0,
                           decided_by="ann")
    assert mine.outbox is not None
    with local.begin() as conn:  # what the drain does before pushing: the claim
        repo = OutboxRepository(conn)
        entry = repo.get(mine.outbox)
        assert entry is not None and repo.claim(entry, "2026-01-06T10:00:00")
    connector.push(PushRequest(**request_fields(entry.payload)))  # ... it reaches the team: killed
    assert _local_entry(local, mine.outbox)["state"] == "sending"

    again = push_offline(local, _connector(team, tmp_path / "local.sqlite"))
    assert again.already_applied == [mine.outbox]
    assert _local_entry(local, mine.outbox)["state"] == "sent"
    (taken,) = _team_decisions(_open_team(team), code)
    assert (taken["decided_by"], taken["quantity"]) == ("ann", 3.0)
    connector.close()


def test_a_pull_reads_the_team_as_of_one_moment(team: str, tmp_path: Path) -> None:
    """A team sync committing while a copy is being pulled is seen whole or not at all: every
    entity of one pull is read in one snapshot (else PO lines could arrive without the items
    and orders the same team run added)."""
    connector = TeamConnector(cache=team)
    (items,) = connector.pull("items", None)  # the pull's snapshot starts with its first read
    day7 = run_sync(_open_team(team), demo_connector(day=7, cache=tmp_path / "demo"))
    assert day7.ok and day7.counts["requisitions"]["changed"] == 5  # 3 approved, 2 cancelled
    (requisitions,) = connector.pull("requisitions", None)
    assert items.watermark == requisitions.watermark == "r000000000001/d000000000000"
    connector.close()
    fresh = TeamConnector(cache=team)
    (after,) = fresh.pull("requisitions", None)
    assert after.watermark == f"r{day7.run_id:012d}/d000000000000"
    now = {r["code"]: r for r in after.records}
    then = {r["code"]: r for r in requisitions.records}
    assert sum(now[c] != then.get(c) for c in now) == 5  # the 5 the day-7 run changed
    fresh.close()


def test_a_reject_made_offline_reaches_the_team_and_queues_nothing_for_the_erp(
        team: str, tmp_path: Path) -> None:
    """A reject sends nothing, so it has no outbox entry of its own; on a copy it still goes to
    the team (the other buyers must see it), where nothing is queued for the ERP."""
    local, connector, _ = _copy(team, tmp_path)
    code = _open_requisition(local)
    rejected = record_decision(local, code, "reject", action="reduce", decided_by="ann")
    assert rejected.outbox is None and rejected.decision is not None

    result = push_offline(local, connector)
    (entry,) = result.sent
    team_engine = _open_team(team)
    (theirs,) = _team_decisions(team_engine, code)
    assert (theirs["decided_by"], theirs["verdict"], theirs["action"]) == (
        "ann", "reject", "reduce")
    with team_engine.connect() as conn:
        assert conn.execute(select(outbox.c.id)).all() == []  # nothing for the ERP
    local_entry = _local_entry(local, entry)
    assert (local_entry["decision"], local_entry["connector"], local_entry["state"]) == (
        rejected.decision, "team", "sent")

    assert push_offline(local, connector).sent == []  # pushed again: nothing twice
    assert len(_team_decisions(team_engine, code)) == 1
    connector.close()


def test_check_says_whether_the_team_is_reachable(team: str, tmp_path: Path) -> None:
    connector = TeamConnector(cache=team)
    answer = connector.check()
    assert (answer.ok, answer.message) == (True, "team cache reachable, last team run 1")
    connector.close()
    away = TeamConnector(cache=str(tmp_path / "not-mounted" / "team.sqlite")).check()
    assert not away.ok and away.message.startswith("team cache not reachable")
