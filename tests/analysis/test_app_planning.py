"""The planning questions of workbench/app: declared operations of the right kind, answered the
same through the runner as the CLI prints them, picklable for the worker processes."""

from __future__ import annotations

import functools
import inspect
import json
import pickle
from pathlib import Path

import pytest

from tests.analysis.builders import week
from tests.analysis.test_services_cli import cli, plant
from tests.fixtures_connector import MemoryConnector
from workbench.app import bom, exceptions, packages, planning, suppliers
from workbench.app.ops import Kind, kind_of
from workbench.app.runner import InlineRunner
from workbench.cache.db import open_cache
from workbench.services.sync import run_sync

PLANNING, CACHE, COMMAND = Kind.PLANNING, Kind.CACHE, Kind.COMMAND
KINDS = {
    planning: {"planning_day": PLANNING, "shortages": PLANNING, "shortage_table": PLANNING,
               "timeline": PLANNING, "planning_counts": PLANNING, "where_used": PLANNING,
               "impact": PLANNING, "what_if": PLANNING},
    bom: {"load_item_table": CACHE, "item_revisions": PLANNING, "revisions_and_today": PLANNING,
          "bom_lines": PLANNING, "diff_frame": PLANNING},
    suppliers: {"ranking": PLANNING, "supplier_detail": PLANNING, "promise_history": CACHE,
                "slippage": PLANNING},
    exceptions: {"exception_site_names": CACHE, "exception_count_units": CACHE,
                 "compute_exception_messages": PLANNING,
                 "store_exception_messages": COMMAND, "list_exceptions": CACHE,
                 "acknowledge_exceptions": COMMAND, "snooze_exceptions": COMMAND,
                 "element_codes": CACHE, "elements": PLANNING,
                 "decide_message": COMMAND, "decide_messages": COMMAND,
                 "supplier_reschedules": CACHE, "approve_supplier_reschedules": COMMAND},
    packages: {"export_package": CACHE},
}


@pytest.mark.parametrize("module", list(KINDS), ids=lambda m: m.__name__)
def test_every_public_function_is_an_operation_of_its_kind(module) -> None:  # type: ignore[no-untyped-def]
    functions = {name: fn for name, fn in vars(module).items()
                 if inspect.isfunction(fn) and fn.__module__ == module.__name__
                 and not name.startswith("_")}
    assert {name: kind_of(fn) for name, fn in functions.items()} == KINDS[module]


@pytest.fixture(params=["sqlite", "postgresql"])
def cache(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """The analysis plant synced into a cache on each engine: its file or URL (test_services_cli's
    fixture, on SQLite and PostgreSQL)."""
    where: Path | str = (request.getfixturevalue("pg_cache_url") if request.param == "postgresql"
                         else tmp_path / "cache.sqlite")
    engine = open_cache(where)
    result = run_sync(engine, MemoryConnector(plant(), batch_size=50))
    engine.dispose()
    assert result.ok, result.error or result.rejected
    return where


def _json(value: object) -> object:
    return json.loads(json.dumps(value, default=str))


def test_the_runner_answers_what_the_cli_prints(cache: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    runner = InlineRunner(open_cache(cache))
    printed = cli(capsys, "shortages", "--cache", str(cache), "--details")
    asked = runner.run(planning.shortages, details=True)
    assert _json(asked.to_json()) == printed and printed["rows_total"] >= 1
    printed = cli(capsys, "where-used", "RAW", "--cache", str(cache))
    assert _json(runner.run(planning.where_used, "RAW").to_json()) == printed
    printed = cli(capsys, "impact", "FG", "--from", "A", "--to", "B", "--cache", str(cache))
    assert _json(runner.run(planning.impact, "FG", "A", "B").to_json()) == printed
    printed = cli(capsys, "slippage", "--cache", str(cache))
    assert _json(runner.run(suppliers.slippage).to_json()) == printed


def test_the_shortage_table_holds_the_rows_of_the_shortage_answer(cache: Path) -> None:
    runner = InlineRunner(open_cache(cache))
    answer = runner.run(planning.shortages)
    table = runner.run(planning.shortage_table)
    rows = answer.rows
    assert table.keys.tolist() == list(zip(rows["item"], rows["site"]))
    assert table.arrays["first_shortage_quantity"].tolist() == \
        [r["first_shortage_quantity"] for r in answer.to_json()["rows"]]
    counts = runner.run(planning.planning_counts)
    assert (counts.short_rows, counts.short_items) == (len(rows), rows["item"].nunique())
    assert counts.first == rows["first_shortage_date"].min().date()
    with pytest.raises(KeyError, match="no details"):  # the list was asked without details
        answer.detail(str(rows["item"].iloc[0]), str(rows["site"].iloc[0]))
    item, site = str(rows["item"].iloc[0]), str(rows["site"].iloc[0])
    t = runner.run(planning.timeline, item, site, False)
    detail = runner.run(planning.shortages, item=item, site=site).detail(item, site)
    assert t.record["projected_available"].tolist() == \
        [round(v, 6) for v in detail.record["projected_available"]]
    assert len(t.pegs) == len(detail.requirements)


def test_operations_and_their_answers_pickle_for_the_worker_processes(cache: Path) -> None:
    runner = InlineRunner(open_cache(cache))
    job = functools.partial(planning.shortages, item="RAW", details=True)
    assert pickle.loads(pickle.dumps(job)).func is planning.shortages
    answer = runner.run(job.func, **job.keywords)
    again = pickle.loads(pickle.dumps(answer))
    assert again.to_json() == answer.to_json()


@pytest.mark.parametrize("engine_name", ["sqlite", "postgresql"])
def test_a_refresh_through_the_three_operations_reports_decisions_changed(
        engine_name: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    from workbench.services import exceptions as svc

    rows = plant()  # PO1/1 promised a week ago and still open: past due (E07)
    rows["purchase_order_lines"][0]["promised_date"] = week(-1).isoformat()
    engine = open_cache(request.getfixturevalue("pg_cache_url") if engine_name == "postgresql"
                        else tmp_path / "late.sqlite")
    assert run_sync(engine, MemoryConnector(rows)).ok
    runner = InlineRunner(engine)
    names = runner.run(exceptions.exception_site_names)
    counts = runner.run(exceptions.exception_count_units)
    assert counts == svc.count_unit_codes(runner.engine) and "EA" in counts
    computed = runner.run(exceptions.compute_exception_messages, None, names, counts)
    outcome = runner.run(exceptions.store_exception_messages, computed)
    assert outcome.changes.decisions and not outcome.changes.data
    stored = runner.run(exceptions.list_exceptions, include_snoozed=True)
    assert outcome.value.new == len(computed.rows) == len(stored) >= 1
    assert "order_past_due" in {m.kind for m in stored}
    # the same plan again: nothing new, every message still open (the service's one-call refresh)
    again = svc.refresh_exceptions(runner.engine, runner.session())
    assert (again.new, again.still_open) == (0, len(stored))
