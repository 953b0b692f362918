"""A buyer's decision is remembered: advice the buyer modified or rejected is held until the
facts behind it change materially (rules in workbench.services.reevaluate), and the history of
decisions on a requisition is listed (who, when, what, why)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.analysis.builders import week
from tests.fixtures_connector import MemoryConnector
from workbench.cache.db import open_cache
from workbench.services.approvals import approval_queue
from workbench.services.decisions import record_decision
from workbench.services.planning import open_session
from workbench.services.reevaluate import material_change, run_reevaluation
from workbench.services.sync import run_sync

iso = week(0).isoformat


def plant(demand_qty: float = 40, demand_week: int = 2, req_version: str = "1",
          version: str = "1") -> dict[str, list[dict[str, Any]]]:
    """X: nothing in stock, a demand of ``demand_qty`` in week ``demand_week``; RX asks for 100
    in week 2 -> reduce to ``demand_qty`` (multiple 0, so the tolerance is 10 %)."""
    return {
        "uoms": [{"code": "EA", "source_version": "1"}],
        "sites": [{"code": "S1", "source_version": "1"}],
        "suppliers": [{"code": "SUP", "source_version": "1"}],
        "items": [{"code": "X", "default_supplier": "SUP", "source_version": "1"}],
        "inventory": [{"item": "X", "site": "S1", "quantity": 0, "as_of": iso(),
                       "source_version": "1"}],
        "demands": [{"code": "DX", "item": "X", "site": "S1", "quantity": demand_qty,
                     "due_date": week(demand_week).isoformat(), "source_version": version}],
        "requisitions": [{"code": "RX", "item": "X", "site": "S1", "quantity": 100,
                          "need_date": week(2).isoformat(), "suggested_supplier": "SUP",
                          "source_key": "req,1", "source_version": req_version}],
    }


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    e = open_cache(tmp_path / "cache.sqlite")
    assert run_sync(e, MemoryConnector(plant(), batch_size=50)).ok
    return e


def reevaluate(engine: Engine) -> dict[str, Any]:
    out = run_reevaluation(engine, open_session(engine), with_pegs=False)
    (rec,) = out["recommendations"]
    return {**rec, "held_count": out["held"]}


def resync(engine: Engine, **changes: Any) -> None:
    assert run_sync(engine, MemoryConnector(plant(**changes), batch_size=50)).ok


def queue_id(engine: Engine) -> int:
    (rid,) = approval_queue(engine)["id"].tolist()
    return int(rid)


def test_rejected_advice_is_held_until_the_net_requirement_moves_more_than_10_percent(
        engine: Engine) -> None:
    first = reevaluate(engine)
    assert (first["action"], first["proposed_quantity"], first["status"]) == ("reduce", 40, "open")
    record_decision(engine, "RX", "reject", decided_by="ana", action="reduce",
                    recommendation=queue_id(engine), comment="the supplier's minimum is 100")
    # same facts: held, not in the queue, the evidence names the decision
    again = reevaluate(engine)
    assert (again["status"], again["held_count"]) == ("held", 1)
    assert approval_queue(engine).empty
    held = again["evidence"]["held_by"]
    assert (held["decided_by"], held["verdict"], held["comment"], held["changed"]) == \
        ("ana", "reject", "the supplier's minimum is 100", "")
    # 40 -> 44: 10 % of 40 = 4, not more -> still held
    resync(engine, demand_qty=44, version="2")
    assert reevaluate(engine)["status"] == "held"
    # 40 -> 45: moved by 5 > 4 -> raised again, saying why
    resync(engine, demand_qty=45, version="3")
    raised = reevaluate(engine)
    assert (raised["status"], raised["proposed_quantity"]) == ("open", 45)
    assert raised["evidence"]["raised_again"]["changed"] == (
        "the net requirement moved from 40 to 45, more than 4 (10 % or one order multiple)")
    assert len(approval_queue(engine)) == 1


def test_modified_advice_is_held_until_the_need_date_moves_more_than_a_bucket(
        engine: Engine) -> None:
    reevaluate(engine)
    record_decision(engine, "RX", "modify", decided_by="ben", action="reduce", quantity=60,
                    date=week(2), recommendation=queue_id(engine), comment="keep a buffer")
    assert reevaluate(engine)["status"] == "held"
    # need from week 2 to week 3: 7 days, one bucket -> held (the demand's version changed,
    # the requisition's did not)
    resync(engine, demand_week=3, version="2")
    assert reevaluate(engine)["status"] == "held"
    # week 2 -> week 4: 14 days -> raised again
    resync(engine, demand_week=4, version="3")
    raised = reevaluate(engine)
    assert raised["status"] == "open"
    assert raised["evidence"]["raised_again"]["changed"] == (
        f"the first need moved from {week(2)} to {week(4)}, more than one bucket (7 days)")


def test_a_requisition_changed_in_its_source_raises_the_advice_again(engine: Engine) -> None:
    reevaluate(engine)
    record_decision(engine, "RX", "reject", decided_by="ana", action="reduce",
                    recommendation=queue_id(engine))
    resync(engine, req_version="2")  # someone edited the requisition in the ERP
    raised = reevaluate(engine)
    assert raised["status"] == "open"
    assert raised["evidence"]["raised_again"]["changed"] == \
        "the requisition changed in its source (version 2)"


def test_other_advice_is_raised_again_and_the_rule_on_multiples() -> None:
    def rec(action: str, net: float, first: str = "2025-03-17", mult: float = 0.0,
            version: str = "v1") -> dict[str, Any]:
        return {"action": action, "base_version": version, "evidence": {"basis": {
            "net_requirement": net, "first_need": first, "order_multiple": mult,
            "bucket_days": 7}}}

    assert material_change(rec("reduce", 40), rec("cancel", 0), {"v1"}) == \
        "the advice is now cancel, it was reduce"
    # one order multiple (25) is more than 10 % of 40: a move of 20 is not material
    assert material_change(rec("reduce", 40, mult=25), rec("reduce", 60, mult=25), {"v1"}) == ""
    assert material_change(rec("reduce", 40, mult=25), rec("reduce", 66, mult=25), {"v1"}) != ""
    # the version its own write-back produced is no change
    assert material_change(rec("reduce", 40), rec("reduce", 40, version="v2"),
                           {"v1", "v2"}) == ""


def test_decision_history_of_a_requisition_in_the_cli(engine: Engine, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    from workbench.cli import main

    reevaluate(engine)
    record_decision(engine, "RX", "reject", decided_by="ana", action="reduce",
                    recommendation=queue_id(engine), comment="the supplier's minimum is 100")
    path = str(tmp_path / "cache.sqlite")
    assert main(["decisions", "list", "--requisition", "RX", "--cache", path, "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert {k: row[k] for k in ("requisition", "verdict", "action", "decided_by", "comment",
                                "advice_action", "advice_quantity")} == {
        "requisition": "RX", "verdict": "reject", "action": "reduce", "decided_by": "ana",
        "comment": "the supplier's minimum is 100", "advice_action": "reduce",
        "advice_quantity": 40.0}
    assert row["decided_at"] and row["advice_reason"].startswith("Reduce to 40 EA")
    assert main(["decisions", "list", "--requisition", "OTHER", "--cache", path,
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
