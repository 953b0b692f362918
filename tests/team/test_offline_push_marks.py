"""What an offline copy had seen when its buyer decided (docs/team-cache.md, offline copy):
an entry queued on a team copy records the copy's team decision mark, and its push is checked
against THAT mark, not the copy's mark at push time (which a pull in between raises); and a
reject/keep whose push was cut short is no conflict with itself. Both engines (the fixtures of
test_offline_copy)."""
# ruff: noqa: F811 - the fixtures of test_offline_copy are imported, then asked for by name

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine, update

from tests.team.test_offline_copy import (  # noqa: F401 - fixtures
    _connector,
    _copy,
    _local_entry,
    _open_requisition,
    _open_team,
    _team_decisions,
    sqlite_team,
    team,
)
from workbench.cache.outbox import TEAM_SEEN, OutboxRepository, request_fields
from workbench.cache.schema import outbox
from workbench.connect.port import PushRequest
from workbench.services.decisions import record_decision
from workbench.services.sync import run_sync
from workbench.services.team import push_offline, queue_for_team


def _pull_then_push(local: Engine, team: str, tmp_path: Path, entry: int) -> list[int]:
    """A pull from the team, then the entry's back-off ends and the copy pushes: the
    entries that conflicted."""
    assert run_sync(local, _connector(team, tmp_path / "local.sqlite")).ok
    with local.begin() as conn:
        conn.execute(update(outbox).where(outbox.c.id == entry).values(next_attempt_at=None))
    return list(push_offline(local, _connector(team, tmp_path / "local.sqlite")).conflicts)


def test_an_entry_in_back_off_keeps_what_the_copy_had_seen(team: str, tmp_path: Path) -> None:
    """Ann decides offline; the push fails transiently (back-off); Bob decides the same
    requisition on the team; the next sync pushes (the entry is not due: skipped), then pulls
    (the copy's mark rises past Bob's decision). The later push is a conflict, not an overwrite
    of Bob's decision."""
    local, connector, _ = _copy(team, tmp_path)
    code = _open_requisition(local)
    mine = record_decision(local, code, "modify", action="reduce", quantity=3.0,
                           decided_by="ann")
    assert mine.outbox is not None
    assert TEAM_SEEN in _local_entry(local, mine.outbox)["payload"]
    with local.begin() as conn:  # its push failed a moment ago: due later
        conn.execute(update(outbox).where(outbox.c.id == mine.outbox)
                     .values(next_attempt_at="2999-01-01T00:00:00"))
    record_decision(_open_team(team), code, "modify", action="reduce", quantity=7.0,
                    decided_by="bob")
    push_offline(local, connector)
    assert _pull_then_push(local, team, tmp_path, mine.outbox) == [mine.outbox]
    assert [(d["decided_by"], d["quantity"]) for d in _team_decisions(_open_team(team), code)
            ] == [("bob", 7.0)]
    connector.close()


def test_an_entry_queued_before_marks_gets_the_mark_before_the_pull(team: str,
                                                                    tmp_path: Path) -> None:
    """An entry queued before entries recorded the mark (none in its payload) gets the copy's
    mark at the next push, before the pull: the same conflict."""
    local, connector, _ = _copy(team, tmp_path)
    code = _open_requisition(local)
    mine = record_decision(local, code, "modify", action="reduce", quantity=3.0,
                           decided_by="ann")
    assert mine.outbox is not None
    with local.begin() as conn:
        entry = OutboxRepository(conn).get(mine.outbox)
        assert entry is not None
        conn.execute(update(outbox).where(outbox.c.id == mine.outbox).values(
            payload=json.dumps(request_fields(entry.payload)),
            next_attempt_at="2999-01-01T00:00:00"))
    record_decision(_open_team(team), code, "modify", action="reduce", quantity=7.0,
                    decided_by="bob")
    push_offline(local, connector)
    assert TEAM_SEEN in _local_entry(local, mine.outbox)["payload"]
    assert _pull_then_push(local, team, tmp_path, mine.outbox) == [mine.outbox]
    connector.close()


def test_a_reject_whose_push_was_cut_short_is_no_conflict(team: str, tmp_path: Path) -> None:
    """A reject reached the team, then the pushing process died (the entry still
    ``sending``): the next push finds the same decision there before any check of decisions
    made meanwhile (its own is one), and the entry becomes ``sent``; stored once."""
    local, connector, _ = _copy(team, tmp_path)
    code = _open_requisition(local)
    record_decision(local, code, "reject", action="reduce", decided_by="ann")
    assert queue_for_team(local) == 1
    with local.begin() as conn:
        repo = OutboxRepository(conn)
        (entry,) = repo.entries(["queued"])
        assert repo.claim(entry, "2026-01-06T10:00:00")
    connector.push(PushRequest(**request_fields(entry.payload)))  # reached the team: killed
    again = push_offline(local, _connector(team, tmp_path / "local.sqlite"))
    assert again.conflicts == []
    assert _local_entry(local, entry.id)["state"] == "sent"
    assert len(_team_decisions(_open_team(team), code)) == 1
    connector.close()
