"""The roles and grants of docs/team-cache.md, run as written on a real PostgreSQL server: the
owner creates the schema, the planner role pulls an offline copy and pushes a decision, and
cannot drop, truncate, alter or create anything."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
from planner_connectors.team import TeamConnector
from sqlalchemy import select

from workbench.cache.db import open_cache
from workbench.cache.schema import ENTITY_TABLES, decisions
from workbench.services.decisions import record_decision
from workbench.services.sources import demo_connector
from workbench.services.sync import run_sync
from workbench.services.team import push_offline

DOC = Path(__file__).resolve().parents[2] / "docs" / "team-cache.md"


def _sql_blocks() -> list[str]:
    """The ```sql blocks of the doc's section 2, in order (superuser's, then owner's)."""
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("## 2. Roles and grants"):text.index("## 3.")]
    return re.findall(r"```sql\n(.*?)```", section, flags=re.S)


def _run(url: str, sql: str) -> None:
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(sql)  # type: ignore[call-overload]  # several statements, no parameters


@pytest.fixture
def plant(pg_server: Any) -> Iterator[Any]:
    """The doc's database ``planner`` and roles ``planner_owner`` and ``planner``."""
    pg_server.admin("CREATE DATABASE planner")
    try:
        yield pg_server
    finally:
        pg_server.drop_database("planner")
        for role in ("planner_sync", "planner", "planner_owner"):
            pg_server.admin(f"DROP ROLE IF EXISTS {role}")


def _host(server: Any) -> str:
    """The test server's address without a role, as a team source's ``cache=`` names it."""
    parts = urlsplit(server.url("planner"))
    return parts._replace(netloc=parts.netloc.split("@")[-1]).geturl()


def test_the_documented_roles_pull_and_push_and_cannot_drop(plant: Any, tmp_path: Path) -> None:
    superuser, owner_sql = _sql_blocks()
    _run(plant.url("planner"), superuser)  # as the postgres superuser, in the new database
    owner = plant.url("planner", user="planner_owner")
    open_cache(owner).dispose()  # the owner creates the schema (any command opening it does)
    _run(owner, owner_sql)
    # the scheduled sync runs as a role with the planner's grants (docs, section 4)
    _run(plant.url("planner"), "CREATE ROLE planner_sync LOGIN IN ROLE planner")
    team = open_cache(plant.url("planner", user="planner_sync"))
    synced = run_sync(team, demo_connector(cache=tmp_path / "demo"))
    assert synced.ok, synced.error
    team.dispose()

    planner = plant.url("planner", user="planner")
    open_cache(planner).dispose()  # a workstation opens the current schema: nothing to migrate
    local_path = tmp_path / "laptop.sqlite"
    local = open_cache(local_path)
    connector = TeamConnector(cache=_host(plant), role="planner", local=str(local_path))
    assert connector.cache == planner
    pulled = run_sync(local, connector)
    assert pulled.ok, pulled.error
    req = ENTITY_TABLES["requisitions"]
    with local.connect() as conn:
        code = conn.execute(select(req.c.code).order_by(req.c.code).limit(1)).scalar_one()
    mine = record_decision(local, code, "modify", action="reduce", quantity=2.0,
                           decided_by="ann")
    assert push_offline(local, connector).sent == [mine.outbox]
    connector.close()
    checked = open_cache(owner)
    with checked.connect() as conn:
        (row,) = conn.execute(select(decisions.c.decided_by, decisions.c.db_role)
                              .where(decisions.c.requisition == code)).all()
    checked.dispose()
    assert tuple(row) == ("ann", "planner")  # who decided, and the role that wrote it

    for statement, refusal in (
            ("DROP TABLE decisions", "must be owner of table decisions"),
            ("TRUNCATE outbox", "permission denied for table outbox"),
            ("ALTER TABLE items ADD COLUMN x integer", "must be owner of table items"),
            ("CREATE TABLE mine (a integer)", "permission denied for schema public")):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match=refusal):
            _run(planner, statement)
