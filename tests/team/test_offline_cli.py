"""The offline copy from the command line, as a planner runs it (real processes, real caches):
``sources add NAME team cache=…``, ``sync --source NAME`` (which pushes first), ``team push``."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from planner_connectors.team import TeamConnector
from sqlalchemy import select

from tests.foundation.clirun import cli
from tests.team.buyers import demo_team_file
from workbench.cache.db import open_cache
from workbench.cache.schema import ENTITY_TABLES, decisions, outbox
from workbench.services.decisions import record_decision
from workbench.services.sources import demo_connector
from workbench.services.sync import run_sync


@pytest.fixture(scope="module")
def demo_team(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_team_file(tmp_path_factory, "team-cli")


@pytest.fixture(params=["sqlite", "postgresql"])
def team(request: pytest.FixtureRequest, demo_team: Path, tmp_path: Path) -> tuple[str, list[str]]:
    """The team cache as ``sources add`` names it: (its location, the options)."""
    if request.param == "sqlite":
        shutil.copy(demo_team, tmp_path / "team.sqlite")
        return str(tmp_path / "team.sqlite"), [f"cache={tmp_path / 'team.sqlite'}"]
    url = request.getfixturevalue("pg_url")
    engine = open_cache(url)
    assert run_sync(engine, demo_connector(cache=tmp_path / "demo")).ok
    engine.dispose()
    parts = urlsplit(url)  # the role apart from the URL, as the settings keep it
    return url, [f"cache={parts._replace(netloc=parts.netloc.split('@')[-1]).geturl()}",
                 f"role={parts.username}"]


def _codes(where: str | Path) -> list[str]:
    req = ENTITY_TABLES["requisitions"]
    engine = open_cache(where)
    try:
        with engine.connect() as conn:
            return [str(c) for (c,) in conn.execute(
                select(req.c.code).where(req.c.deleted_at.is_(None)).order_by(req.c.code))]
    finally:
        engine.dispose()  # no pooled connection outlives the test database


def test_the_role_joins_the_url_apart_from_the_settings() -> None:
    connector = TeamConnector(cache="postgresql://db.example:5433/planner?sslmode=verify-full",
                              role="planner")
    assert connector.cache == "postgresql://planner@db.example:5433/planner?sslmode=verify-full"
    assert TeamConnector(cache="/srv/team.sqlite", role="x").cache == "/srv/team.sqlite"


def test_sources_add_sync_and_push_from_the_command_line(team: tuple[str, list[str]],
                                                         tmp_path: Path) -> None:
    where, options = team
    local = tmp_path / "laptop.sqlite"
    refused = cli("sources", "add", "office", "team",
                  "cache=postgresql://planner:secret@db.example/planner")
    assert refused.returncode == 2 and "holds a database password" in refused.stderr
    assert "~/.pgpass" in refused.stderr and "secret" not in refused.stderr
    assert "secret" not in cli("sources", "list").stdout

    assert cli("sources", "add", "office", "team", *options).returncode == 0
    first = cli("sync", "--source", "office", "--cache", local)
    assert first.returncode == 0, first.stderr
    assert _codes(local) == _codes(where)
    nothing = cli("team", "push", "--cache", local)
    assert (nothing.returncode, nothing.stdout.splitlines()[0]) == (
        0, "0 decisions taken into the team (office)")

    first_code, second_code, third_code = _codes(local)[:3]
    record_decision(open_cache(local), first_code, "modify", action="reduce", quantity=7.0,
                    decided_by="ann", now=dt.datetime(2026, 1, 6, 9, 0))
    pushed = cli("team", "push", "--cache", local)
    assert (pushed.returncode, pushed.stdout.splitlines()[0]) == (
        0, "1 decision taken into the team (office)")
    # the outbox's Send on the copy goes to the team too, never to a source system
    sent = record_decision(open_cache(local), third_code, "modify", action="expedite",
                           date="2026-01-20", decided_by="ann", now=dt.datetime(2026, 1, 6, 9, 5))
    assert cli("outbox", "--send", "--cache", local).returncode == 0
    assert not list(tmp_path.glob("laptop.sqlite.demo-ledger*"))  # no demo plant written to

    # bob decides online on the team; ann, offline, decides the same requisition: her next
    # sync pushes first, and the push is a conflict showing both; the team keeps bob's
    team_engine = open_cache(where)
    record_decision(team_engine, second_code, "reject", action="keep", decided_by="bob",
                    now=dt.datetime(2026, 1, 6, 10, 0))
    ann = record_decision(open_cache(local), second_code, "modify", action="defer",
                          date="2026-03-02", decided_by="ann", now=dt.datetime(2026, 1, 6, 11, 0))
    again = cli("sync", "--source", "office", "--cache", local)
    assert again.returncode == 0, again.stderr
    listed = cli("outbox", "--json", "--cache", local)
    entries = {e["id"]: e for e in json.loads(listed.stdout)["entries"]}
    mine = entries[ann.outbox]
    assert mine["state"] == "conflict"
    both = json.loads(mine["conflict"])
    assert (both["ours"]["decided_by"], both["theirs"]["decided_by"],
            both["theirs"]["verdict"]) == ("ann", "bob", "reject")
    with team_engine.connect() as conn:
        on_team = conn.execute(select(decisions.c.decided_by, decisions.c.action)
                               .order_by(decisions.c.id)).all()
        queued = conn.execute(select(outbox.c.connector, outbox.c.state)).all()
    team_engine.dispose()
    assert [tuple(r) for r in on_team] == [("ann", "reduce"), ("ann", "expedite"),
                                           ("bob", "keep")]
    # for the team's own worker, to the requisitions' source (bob's reject sends nothing)
    assert [tuple(r) for r in queued] == [("demo", "queued"), ("demo", "queued")]
    assert entries[sent.outbox]["state"] == "sent"  # handed to the team

    gone = cli("sources", "remove", "office")
    assert gone.returncode == 0
    assert cli("team", "push", "--cache", local).returncode == 2  # no team source configured
