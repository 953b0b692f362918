"""``workbench team-sync`` as cron or a systemd timer runs it (issue 17 §2): a real process on a
team cache (SQLite, PostgreSQL), the configured sources synced one line each, the documented
exit codes, and the lock that keeps two runs from overlapping."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.foundation.clirun import cli
from workbench.cache.db import open_cache
from workbench.cache.joblock import JobBusy, job_lock
from workbench.cache.schema import outbox, sync_runs
from workbench.services.decisions import record_decision
from workbench.services.settings import Settings, SourceConfig, save_settings

DEMO = SourceConfig(name="erp", connector="demo", params={"scale": "small", "day": 0, "seed": 42})
BROKEN = SourceConfig(name="edi-in", connector="files", params={"folder": "/nonexistent/edi"})
COPY = SourceConfig(name="team", connector="team", params={"cache": "/srv/team.sqlite"})


@pytest.fixture(params=["sqlite", "postgresql"])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "team.sqlite")
    return str(request.getfixturevalue("pg_cache_url"))


def test_each_source_one_line_a_failure_does_not_stop_the_next(where: str) -> None:
    save_settings(Settings(sources=[BROKEN, DEMO]))
    run = cli("team-sync", "--cache", where)
    assert run.returncode == 1, run.stderr
    lines = run.stdout.splitlines()
    assert len(lines) == 2, run.stdout
    assert lines[0] == "edi-in  failed  package folder /nonexistent/edi does not exist"
    assert lines[1].startswith("erp     ok      run 1  received ")
    assert run.stderr.strip() == "workbench team-sync: 1 of 2 sources failed (edi-in)"
    engine = open_cache(where)
    try:
        with engine.connect() as conn:
            runs = conn.execute(select(sync_runs.c.connector, sync_runs.c.status)
                                .order_by(sync_runs.c.id)).all()
        assert tuple(runs[0]) == ("demo", "succeeded")
    finally:
        engine.dispose()
    # the next tick, only the ERP (named): nothing new, exit 0; JSON says the same
    again = cli("team-sync", "--cache", where, "--source", "erp", "--json")
    assert again.returncode == 0, again.stderr
    out = json.loads(again.stdout)
    assert out["status"] == "ok" and [s["source"] for s in out["sources"]] == ["erp"]
    assert (out["sources"][0]["status"], out["sources"][0]["changed"]) == ("ok", 0)


def test_default_sources_skip_team_copies_and_unknown_names_exit_2(tmp_path: Path) -> None:
    save_settings(Settings(sources=[COPY]))
    cache = tmp_path / "team.sqlite"
    run = cli("team-sync", "--cache", cache)
    assert (run.returncode, run.stdout) == (2, "")
    assert "no source to sync" in run.stderr
    run = cli("team-sync", "--cache", cache, "--source", "erp")
    assert run.returncode == 2 and "no source named 'erp' (team)" in run.stderr


def test_two_runs_never_overlap(where: str) -> None:
    """While a run holds the lock (here: this test), another stops at once with exit 75 and
    does nothing; after it, the next run goes ahead."""
    save_settings(Settings(sources=[DEMO]))
    engine = open_cache(where)
    try:
        with job_lock(engine, "team-sync"):
            busy = cli("team-sync", "--cache", where)
            assert busy.returncode == 75, busy.stderr
            assert busy.stdout == ""
            assert busy.stderr.startswith("workbench team-sync: team-sync is already running: ")
            holder = str(os.getpid()) if engine.dialect.name == "sqlite" else "database backend"
            assert holder in busy.stderr
            with pytest.raises(JobBusy):  # in-process too
                with job_lock(engine, "team-sync"):
                    pass
            with engine.connect() as conn:
                assert conn.execute(select(func.count()).select_from(sync_runs)).scalar() == 0
        done = cli("team-sync", "--cache", where)
        assert done.returncode == 0, done.stderr
    finally:
        engine.dispose()


def test_send_drains_the_team_outbox_once(where: str) -> None:
    save_settings(Settings(sources=[DEMO]))
    first = cli("team-sync", "--cache", where)
    assert first.returncode == 0, first.stderr
    engine = open_cache(where)
    try:
        with engine.connect() as conn:
            code = conn.exec_driver_sql(
                "SELECT min(code) FROM requisitions WHERE status = 'open'").scalar_one()
        decided = record_decision(engine, code, "modify", decided_by="Ann", action="reduce",
                                  quantity=1.0)
        run = cli("team-sync", "--cache", where, "--send")
        assert run.returncode == 0, run.stderr
        assert run.stdout.splitlines()[-1] == "outbox  sent 1  conflicts 0  failed 0  waiting 0"
        with engine.connect() as conn:
            state = conn.execute(select(outbox.c.state).where(
                outbox.c.id == decided.outbox)).scalar_one()
        assert state == "sent"
        again = cli("team-sync", "--cache", where, "--send")
        assert again.stdout.splitlines()[-1] == "outbox  sent 0  conflicts 0  failed 0  waiting 0"
    finally:
        engine.dispose()


def test_the_sample_systemd_units_run_team_sync_as_documented() -> None:
    """The sample service runs a command line the CLI accepts, treats the busy exit (75) as
    success, and the timer starts that service."""
    import configparser
    import shlex

    from workbench.cli import build_parser
    from workbench.cli.commands.team_sync import BUSY

    units = Path(__file__).resolve().parents[2] / "packaging" / "systemd"
    service = configparser.ConfigParser(interpolation=None, strict=False)
    service.read(units / "planner-workbench-team-sync.service")
    command = shlex.split(service["Service"]["ExecStart"].replace(
        "${PLANNER_TEAM_CACHE}", "postgresql://planner_sync@db/planner"))
    assert command[0] == "/usr/bin/planner-workbench"
    args = build_parser().parse_args(command[1:])
    assert (args.command, args.cache, args.send) == (
        "team-sync", "postgresql://planner_sync@db/planner", True)
    assert service["Service"]["SuccessExitStatus"] == str(BUSY) == "75"
    assert service["Service"]["Type"] == "oneshot"
    timer = configparser.ConfigParser(interpolation=None, strict=False)
    timer.read(units / "planner-workbench-team-sync.timer")
    assert timer["Timer"]["Unit"] == "planner-workbench-team-sync.service"
    assert timer["Install"]["WantedBy"] == "timers.target"
