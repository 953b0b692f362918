"""Exception messages across two syncs of the demo plant (day 0, then day 7): the first-seen day
is kept, messages whose cause is gone are marked resolved, acknowledge and snooze are stored
and checked against the transition table, and the CLI lists and triages them."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest

from tests.foundation.clirun import cli
from workbench.cache.db import open_cache
from workbench.cache.exceptions import MessageStateError, exception_messages
from workbench.domain.enums import SyncRunStatus
from workbench.services import exceptions as svc
from workbench.services.planning import open_session
from workbench.services.sources import demo_connector
from workbench.services.sync import run_sync


@pytest.fixture(scope="module")
def aged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, svc.RefreshResult,
                                                           svc.RefreshResult, set[str]]:
    path = tmp_path_factory.mktemp("aging") / "cache.sqlite"
    engine = open_cache(path)
    assert run_sync(engine, demo_connector(scale="small", day=0)).status == \
        SyncRunStatus.SUCCEEDED
    first = svc.refresh_exceptions(engine, open_session(engine))
    keys_day0 = {m.key for m in svc.list_exceptions(engine, include_snoozed=True)}
    assert run_sync(engine, demo_connector(scale="small", day=7)).status == \
        SyncRunStatus.SUCCEEDED
    second = svc.refresh_exceptions(engine, open_session(engine))
    return path, first, second, keys_day0


def test_first_seen_is_kept_and_messages_age(aged: tuple[Path, svc.RefreshResult,
                                                         svc.RefreshResult, set[str]]) -> None:
    path, first, second, keys_day0 = aged
    assert first.new == len(keys_day0) > 0
    # the demo's day 7 is planned on its own as-of day (the inventory snapshot date)
    age = (second.planning_day - first.planning_day).days
    assert age > 0
    engine = open_cache(path)
    open_now = svc.list_exceptions(engine, include_snoozed=True)
    kept = [m for m in open_now if m.key in keys_day0]
    assert len(kept) == second.still_open > 0
    assert {(m.first_seen, m.age_days) for m in kept} == {(first.planning_day, age)}
    fresh = [m for m in open_now if m.key not in keys_day0]
    assert len(fresh) == second.new
    assert {(m.first_seen, m.age_days) for m in fresh} <= {(second.planning_day, 0)}
    assert len(svc.list_exceptions(engine, min_age=age)) == len(kept)


def test_messages_whose_cause_is_gone_are_resolved(
        aged: tuple[Path, svc.RefreshResult, svc.RefreshResult, set[str]]) -> None:
    path, first, second, keys_day0 = aged
    assert second.resolved > 0
    engine = open_cache(path)
    everything = svc.list_exceptions(engine, include_snoozed=True, include_resolved=True)
    resolved = [m for m in everything if m.state == "resolved"]
    assert len(resolved) == second.resolved
    assert {m.key for m in resolved} <= keys_day0
    assert {(m.resolved_on, m.first_seen, m.age_days) for m in resolved} == {
        (second.planning_day, first.planning_day,
         (second.planning_day - first.planning_day).days)}


def test_acknowledge_and_snooze_follow_the_transition_table(
        aged: tuple[Path, svc.RefreshResult, svc.RefreshResult, set[str]]) -> None:
    path, _, second, _ = aged
    engine = open_cache(path)
    listed = svc.list_exceptions(engine)
    a, b = listed[0].id, listed[1].id
    svc.acknowledge(engine, [a], "lea")
    svc.snooze(engine, [b], second.planning_day + dt.timedelta(days=3), "lea")
    after = {m.id: m for m in svc.list_exceptions(engine, include_snoozed=True)}
    assert (after[a].state, after[a].acknowledged_by) == ("acknowledged", "lea")
    assert (after[b].state, after[b].snoozed_until) == (
        "snoozed", second.planning_day + dt.timedelta(days=3))
    assert b not in {m.id for m in svc.list_exceptions(engine)}  # snoozed: hidden by default
    resolved = next(m for m in svc.list_exceptions(engine, include_resolved=True)
                    if m.state == "resolved")
    with pytest.raises(MessageStateError, match="is resolved: it cannot be acknowledged"):
        svc.acknowledge(engine, [a, resolved.id], "lea")
    with pytest.raises(MessageStateError, match="before the planning day"):
        svc.snooze(engine, [a], second.planning_day - dt.timedelta(days=1), "lea")
    kpis = svc.exception_kpis(engine)
    open_count = len(svc.list_exceptions(engine, include_snoozed=True))
    assert sum(sum(bands.values()) for bands in kpis.open_by_role_and_age.values()) == open_count
    assert kpis.ack_cycle_lines > 0 and kpis.ack_cycle_days_median is not None
    assert set(kpis.sync_lag_hours) == {"demo"}


def test_the_table_is_the_declared_one(
        aged: tuple[Path, svc.RefreshResult, svc.RefreshResult, set[str]]) -> None:
    con = sqlite3.connect(aged[0])
    cols = [r[1] for r in con.execute("PRAGMA table_info(exception_messages)")]
    con.close()
    assert sorted(cols) == sorted(c.name for c in exception_messages.columns)


def test_cli_lists_and_triages(aged: tuple[Path, svc.RefreshResult, svc.RefreshResult,
                                           set[str]]) -> None:
    path = aged[0]
    age = (aged[2].planning_day - aged[1].planning_day).days
    run = cli("exceptions", "--cache", path, "--role", "buyer", "--min-age", str(age), "--json")
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["total"] > 0
    assert {(m["role"], m["age_days"] >= age) for m in out["messages"]} == {("buyer", True)}
    assert out["refresh"]["new"] == 0 and out["refresh"]["resolved"] == 0  # same plan again
    target = out["messages"][0]["id"]
    run = cli("exceptions", "ack", str(target), "--cache", path, "--by", "sam")
    assert (run.returncode, run.stdout.strip()) == (0, "1 message(s) acknowledged")
    bad = cli("exceptions", "snooze", "999999", "--until", "2030-01-01", "--cache", path)
    assert bad.returncode == 2 and "no exception message with id 999999" in bad.stderr
    bad = cli("exceptions", "--kind", "E99", "--no-refresh", "--cache", path)
    assert bad.returncode == 2 and "--kind 'E99': expected one of E01" in bad.stderr
    item, site = out["messages"][0]["item"], out["messages"][0]["site"]
    run = cli("elements", item, "--site", site, "--bucket", "month", "--cache", path, "--json")
    assert run.returncode == 0, run.stderr
    el = json.loads(run.stdout)
    assert out["messages"][0]["code"] in {c for line in el["lines"]
                                          for c in line["exception"].split(",")}
    running = 0.0
    for line in el["lines"]:
        running += line["receipt"] - line["requirement"]
        assert line["available"] == pytest.approx(running)


def test_array_pegging_equals_pegging(aged: tuple[Path, svc.RefreshResult, svc.RefreshResult,
                                                  set[str]]) -> None:
    """The pegs on messages come from the same pegging the Shortages panel shows."""
    from workbench.analysis.exceptions.pegs import FastPegging
    from workbench.analysis.pegging import Pegging

    session = open_session(open_cache(aged[0]))
    plan = session.plan()
    fast, slow = FastPegging(plan), Pegging(plan)
    rows = [r for r in range(len(plan.key)) if plan.level[r] > 0][:150]
    assert rows
    for row in rows:
        assert [(r.bucket, r.quantity, r.kind, r.ref, r.pegs, r.day) for r in
                fast.requirements(row)] == [(r.bucket, r.quantity, r.kind, r.ref, r.pegs, r.day)
                                            for r in slow.requirements(row)]
        assert fast.order_pegs(row) == slow.order_pegs(row)
