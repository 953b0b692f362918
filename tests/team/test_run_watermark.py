"""A copy's pull never steps over a team run that is still running: an EDI run commits its files
one group at a time under one run id, so a later run may commit before the EDI run's last files;
a watermark past the EDI run would skip those files for good."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from tests.team.test_offline_copy import _connector, _copy, _open_team, sqlite_team, team
from workbench.cache import runs
from workbench.cache.schema import ENTITY_TABLES
from workbench.services.sync import run_sync

__all__ = ["sqlite_team", "team"]  # the fixtures, used by name


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def test_rows_an_unfinished_run_commits_later_still_reach_the_copy(team: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    local, first_pull, local_path = _copy(team, tmp_path)
    first_pull.close()
    engine = _open_team(team)
    items = ENTITY_TABLES["items"]
    with engine.connect() as conn:
        first, second, third = conn.execute(
            select(items.c.code).order_by(items.c.code).limit(3)).scalars()
    with engine.begin() as conn:  # an EDI run starts (its row committed, "running")
        edi = runs.start_run(conn, "edi", _now(), "running")
    with engine.begin() as conn:  # its first file group
        conn.execute(update(items).where(items.c.code == first)
                     .values(description="EDI file 1", sync_run=edi))
    with engine.begin() as conn:  # a later run starts and finishes meanwhile
        later = runs.start_run(conn, "demo", _now(), "running")
        conn.execute(update(items).where(items.c.code == second)
                     .values(description="later run", sync_run=later))
        runs.finish_run(conn, later, finished_at=_now(), status="succeeded", counts={},
                        rejected=0, duration_s=0.1)
    assert later > edi
    pull = _connector(team, local_path)
    assert run_sync(local, pull).ok  # the copy pulls
    pull.close()
    with engine.begin() as conn:  # the EDI run's last file group, then its end
        conn.execute(update(items).where(items.c.code == third)
                     .values(description="EDI file 2", sync_run=edi))
        runs.finish_run(conn, edi, finished_at=_now(), status="succeeded", counts={},
                        rejected=0, duration_s=0.2)
    pull = _connector(team, local_path)
    assert run_sync(local, pull).ok  # the next pull
    pull.close()
    with local.connect() as conn:
        got = dict(conn.execute(select(items.c.code, items.c.description)
                                .where(items.c.code.in_([first, second, third]))).all())
    local.dispose()
    assert got == {first: "EDI file 1", second: "later run", third: "EDI file 2"}
