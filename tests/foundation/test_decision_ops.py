"""The decision and outbox operations of workbench.app, run through the inline runner as the CLI
runs them: their kinds, the changes each reports, typed answers, and the same re-evaluation as
the service the CLI used before (evaluate on the planning session, then store)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from workbench.app import decisions as dops
from workbench.app import outbox as oops
from workbench.app.ops import NOTHING, Changes, Kind, kind_of
from workbench.app.runner import InlineRunner
from workbench.app.sync import demo_source, load_source
from workbench.cache.db import local_base, open_cache
from workbench.services.approvals import ConflictLine
from workbench.services.planning import open_session
from workbench.services.reevaluate import run_reevaluation


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ops") / "cache.sqlite"
    engine = open_cache(path)
    assert InlineRunner(engine).run(load_source, demo_source()).value.results[0].ok
    engine.dispose()
    return path


@pytest.fixture(scope="module")
def pg_template_db(pg_server: Any, pg_template: str) -> tuple[str, Path]:
    """The demo loaded into a PostgreSQL cache (copied per test with CREATE DATABASE …
    TEMPLATE): its name and where its local files (the demo ledger) start."""
    pg_server.create_database("ops_template", template=pg_template)
    engine = open_cache(pg_server.url("ops_template"))
    assert InlineRunner(engine).run(load_source, demo_source()).value.results[0].ok
    base = local_base(engine)
    engine.dispose()
    assert base is not None
    return "ops_template", base


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, template: Path, tmp_path: Path) -> Engine:
    """A copy of the demo cache on each engine, with its demo ledger."""
    if request.param == "postgresql":
        server = request.getfixturevalue("pg_server")
        name, source_base = request.getfixturevalue("pg_template_db")
        copy = f"ops{next(_COPIES)}"
        engine = open_cache(server.create_database(copy, template=name))
        request.addfinalizer(lambda: (engine.dispose(), server.drop_database(copy)))
        target_base = local_base(engine)
        assert target_base is not None
        if Path(f"{source_base}.demo-ledger.jsonl").exists():
            shutil.copy(f"{source_base}.demo-ledger.jsonl", f"{target_base}.demo-ledger.jsonl")
        return engine
    target = tmp_path / "cache.sqlite"
    for suffix in ("", ".demo-ledger.jsonl"):
        if Path(f"{template}{suffix}").exists():
            shutil.copy(f"{template}{suffix}", f"{target}{suffix}")
    return open_cache(target)


_COPIES = iter(range(1, 10**9))


def test_each_operation_has_its_kind() -> None:
    assert {f.__name__: kind_of(f).name for f in (
        dops.approval_queue, dops.decision_history, dops.unit_tables, oops.outbox_entries,
        oops.audit_log)} == dict.fromkeys(
        ["approval_queue", "decision_history", "unit_tables", "outbox_entries", "audit_log"],
        "CACHE")
    assert kind_of(dops.evaluate) is Kind.PLANNING
    assert {kind_of(f) for f in (dops.decide, dops.record, dops.store_recommendations,
                                 oops.send_pending, oops.retry, oops.resend_on_source_version,
                                 oops.discard_conflicts)} == {Kind.COMMAND}


def test_reevaluating_through_the_runner_is_the_services_answer(engine: Engine) -> None:
    """unit tables (cache) -> evaluate (planning) -> store (command): the JSON ``workbench
    reevaluate`` prints, equal to run_reevaluation's on the same cache and day."""
    expected = run_reevaluation(engine, open_session(engine), save=False)
    runner = InlineRunner(engine)
    evaluation = runner.run(dops.evaluate, runner.run(dops.unit_tables))
    dry = runner.run(dops.store_recommendations, evaluation, save=False)
    assert dry.changes == NOTHING and dry.value.stored == 0
    assert dry.value.to_dict() == expected
    stored = runner.run(dops.store_recommendations, evaluation)
    assert stored.changes == Changes(decisions=True)
    assert stored.value.stored == len(expected["recommendations"]) > 0
    queue = runner.run(dops.approval_queue)
    assert sorted(queue["requisition"]) == sorted(
        r["requisition"] for r in expected["recommendations"] if r["status"] == "open")


def test_deciding_reports_decisions_and_outbox_and_the_history_shows_it(engine: Engine) -> None:
    runner = InlineRunner(engine)
    runner.run(dops.store_recommendations, runner.run(dops.evaluate, runner.run(dops.unit_tables)))
    queue = runner.run(dops.approval_queue).sort_values("requisition")
    sends = queue[queue["action"] == "reduce"].iloc[0]
    keeps = queue[queue["action"] == "keep"].iloc[0]
    choices = [dops.Choice(int(sends["id"]), str(sends["requisition"]), comment="ok"),
               dops.Choice(int(keeps["id"]), str(keeps["requisition"]))]
    outcome = runner.run(dops.decide, choices, "approve", "ana")
    assert outcome.changes == Changes(decisions=True, outbox=True)
    first, second = outcome.value
    assert first.outbox is not None and second.outbox is None  # keep sends nothing
    history = runner.run(dops.decision_history, str(sends["requisition"]))
    assert history[["verdict", "action", "decided_by", "comment", "outbox_state"]].values.tolist() \
        == [["approve", "reduce", "ana", "ok", "queued"]]
    again = runner.run(dops.record, str(sends["requisition"]), "approve", decided_by="ana",
                       recommendation=int(sends["id"]), comment="ok")
    assert again.value.duplicate and again.changes == NOTHING


def test_outbox_commands_and_the_conflict_comparison(engine: Engine) -> None:
    runner = InlineRunner(engine)
    runner.run(dops.store_recommendations, runner.run(dops.evaluate, runner.run(dops.unit_tables)))
    queue = runner.run(dops.approval_queue)
    rec = queue[queue["action"] == "reduce"].iloc[0]
    [decided] = runner.run(dops.decide, [dops.Choice(int(rec["id"]), str(rec["requisition"]))],
                           "approve", "ana").value
    entry = int(decided.outbox or 0)
    snapshot = runner.run(oops.outbox_entries)
    assert snapshot.counts() == {"queued": 1} and snapshot.conflicts == {}
    retried = runner.run(oops.retry, [entry], "bo")  # queued: not retryable, left as it is
    assert (retried.value, retried.changes) == (0, Changes(decisions=True, outbox=True))
    with engine.begin() as conn:  # the source reported a conflict on the last send
        conn.exec_driver_sql(
            "UPDATE outbox SET state = 'conflict', conflict = ? WHERE id = ?",
            ('{"ours": {"action": "reduce", "quantity": 5.0}, "theirs": {"quantity": 7.0, '
             '"version": "v9"}}', entry))
    snapshot = runner.run(oops.outbox_entries)
    lines = snapshot.conflicts[entry]
    assert all(isinstance(line, ConflictLine) for line in lines)
    quantity = next(line for line in lines if line.label == "Quantity")
    assert (quantity.ours, quantity.theirs, quantity.differs) == ("5", "7", True)
    resent = runner.run(oops.resend_on_source_version, [entry], "bo").value
    assert resent.done == [entry]
    log = runner.run(oops.audit_log, entry)
    assert log.iloc[0]["action"] == "resend on source version" and log.iloc[0]["actor"] == "bo"
    assert runner.run(oops.outbox_entries).counts() == {"queued": 1}
