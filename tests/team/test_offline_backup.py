"""Backup and restore of a team cache as docs/team-cache.md says (``pg_dump -Fc``, then
``pg_restore --no-owner`` into an empty database), on a real PostgreSQL server: the restored
database opens as the same cache, holds every decision, draws new ids above the old ones, and an
offline copy pulls it in full."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from planner_connectors.team import TeamConnector
from sqlalchemy import Engine, func, select

from workbench.cache.db import open_cache
from workbench.cache.schema import ENTITY_TABLES, decisions, outbox
from workbench.services.decisions import record_decision
from workbench.services.sources import demo_connector
from workbench.services.sync import run_sync


def _count(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _client(server: Any, tool: str, *args: str) -> None:
    port = str(server.port)
    subprocess.run([str(server.bindir / tool), "-h", "127.0.0.1", "-p", port, "-U", "postgres",
                    *args], check=True, capture_output=True, timeout=300)


def test_a_dump_restored_into_an_empty_database_is_the_same_team_cache(
        pg_server: Any, tmp_path: Path) -> None:
    source = pg_server.create_database("team_before")
    team = open_cache(source)
    assert run_sync(team, demo_connector(cache=tmp_path / "demo")).ok
    req = ENTITY_TABLES["requisitions"]
    with team.connect() as conn:
        code = conn.execute(select(req.c.code).order_by(req.c.code).limit(1)).scalar_one()
    first = record_decision(team, code, "modify", action="reduce", quantity=4.0,
                            decided_by="bob")
    counts = {t.name: _count(team, t) for t in (req, decisions, outbox)}
    team.dispose()

    dump = tmp_path / "planner.dump"
    _client(pg_server, "pg_dump", "-Fc", "-d", "team_before", "-f", str(dump))
    restored_url = pg_server.create_database("team_restored")
    _client(pg_server, "pg_restore", "-d", "team_restored", "--no-owner", str(dump))

    restored = open_cache(restored_url)  # the same cache: its schema version, nothing migrated
    assert {t.name: _count(restored, t) for t in (req, decisions, outbox)} == counts
    assert counts["decisions"] == counts["outbox"] == 1
    again = record_decision(restored, code, "modify", action="reduce", quantity=5.0,
                            decided_by="ann")
    assert again.decision is not None and first.decision is not None
    assert again.decision > first.decision  # the sequences came back too
    restored.dispose()

    local_path = tmp_path / "laptop.sqlite"
    connector = TeamConnector(cache=restored_url, local=str(local_path))
    copy = run_sync(open_cache(local_path), connector, full=True)
    connector.close()
    assert copy.ok, copy.error
    assert copy.counts["requisitions"]["received"] == counts["requisitions"]
