"""``workbench edi list | replay | mismatches`` run the operations of workbench.app.edi (the ones
the GUI's EDI inbox runs): the JSON is the archive rows as before, the text names the supplier."""

from __future__ import annotations

import json

import pytest
from planner_connectors.edi import EdiConnector
from sqlalchemy import Engine

from tests.edi.conftest import SENDER_A, Drop
from tests.edi.messages import Line, ordrsp
from tests.fixtures_connector import MemoryConnector
from workbench.app.edi import inbox_entries, inbox_view
from workbench.app.ops import Kind, kind_of
from workbench.app.runner import InlineRunner
from workbench.cli import main
from workbench.services.edi import list_messages, sync_inbox
from workbench.services.sync import run_sync


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_list_json_is_the_archive_and_the_text_names_the_supplier(
        cache: Engine, connector: EdiConnector, drop: Drop,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert run_sync(cache, MemoryConnector({"suppliers": [
        {"code": "SUP-A", "name": "Acme Fasteners", "source": "erp"},
        {"code": "SUP-B", "name": "Borealis Plastics", "source": "erp"}]})).ok
    drop("good.edi", ordrsp(SENDER_A, "C1", "R1", "202612011015", "PO-1", [
        Line("PO-1", 1, 96, "C62", "5", "20261211")]))
    drop("bad.edi", ordrsp(SENDER_A, "C2", "R2", "202612011015", "PO-1", [
        Line("PO-1", 2, 50, "KGM", "5", "20261212", supplier_item="A-777")]))
    sync_inbox(cache, connector, "supplier-edi")
    db = str(cache.url.database)

    code, out = _cli(capsys, "edi", "list", "--json", "--cache", db)
    assert code == 0 and json.loads(out) == json.loads(json.dumps(list_messages(cache), default=str))
    code, out = _cli(capsys, "edi", "list", "--cache", db)
    good, bad = out.splitlines()[0], out.splitlines()[1:]
    assert good == ("    1  applied    good.edi  ORDRSP D96A  from 5400000000001 (SUP-A Acme "
                    "Fasteners)  doc R1  lines 1/1")
    # rejected while mapping (cross-reference missing): its envelope is still shown
    assert bad[0] == ("    2  rejected   bad.edi  ORDRSP D96A  from 5400000000001 (SUP-A Acme "
                      "Fasteners)  doc R2  lines 0/0")
    assert bad[1].startswith("       message 1, segment 7, item number (SA/VN/VP): item "
                             "cross-reference missing")
    # 96 of 120 EA confirmed: a mismatch, listed through the same operation
    code, out = _cli(capsys, "edi", "mismatches", "--json", "--cache", db)
    [mismatch] = json.loads(out)
    assert (mismatch["purchase_order"], mismatch["line"], mismatch["status"],
            mismatch["quantity_ordered"], mismatch["confirmed_quantity"], mismatch["file"]) == (
        "PO-1", 1, "changed", 120.0, 96.0, "good.edi")

    runner = InlineRunner(cache)
    entries = runner.run(inbox_entries)
    assert [(e.id, e.outcome, e.supplier_name) for e in entries] == [
        (1, "applied", "Acme Fasteners"), (2, "rejected", "Acme Fasteners")]
    view = runner.run(inbox_view)
    assert view.frame["id"].tolist() == [2, 1]  # newest first
    assert view.counts == {"applied": 1, "duplicate": 0, "superseded": 0, "rejected": 1}
    assert view.frame.loc[1, "lines_text"] == "1 of 1" and view.frame.loc[0, "lines_text"] == ""
    assert not view.frame.isna().any().any()


def test_the_inbox_operations_are_of_their_kind() -> None:
    from workbench.app import edi

    assert {n: kind_of(getattr(edi, n)) for n in (
        "inbox_entries", "inbox_view", "confirmation_mismatches", "replay")} == {
        "inbox_entries": Kind.CACHE, "inbox_view": Kind.CACHE,
        "confirmation_mismatches": Kind.CACHE, "replay": Kind.COMMAND}


def test_replay_of_an_unknown_id_is_usage_error(cache: Engine,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["edi", "replay", "99", "--cache", str(cache.url.database)])
    assert code == 2 and "no EDI message 99" in capsys.readouterr().err


