"""A file rejected while mapping (sender unknown, PO line not found, ...) still shows what it is:
its envelope — sender, message type, control and document numbers, date — in
``workbench edi list --rejected`` and in the EDI inbox view, so a buyer can tell which supplier
sent what before fixing the cause and replaying it. A file that cannot even be read has none.

The files are written here by hand (not by tests/edi/messages.py)."""

from __future__ import annotations

import json

import pytest
from planner_connectors.edi import EdiConnector
from sqlalchemy import Engine

from tests.edi.conftest import Drop
from workbench.app.edi import inbox_entries, inbox_view
from workbench.app.runner import InlineRunner
from workbench.cli import main
from workbench.services.edi import list_messages, replay, sync_inbox

#: an ORDRSP from a sender no supplier and no partners setting knows
UNKNOWN_SENDER = """UNA:+.? '
UNB+UNOC:3+4099999999999:14+PLANT:14+261201:1015+C77'
UNH+1+ORDRSP:D:96A:UN'
BGM+231+R9+4'
DTM+137:202612011015:203'
RFF+ON:PO-1'
NAD+SE+4099999999999::9'
LIN+1+5'
QTY+113:120:C62'
DTM+69:20261210:102'
RFF+LI:1'
UNS+S'
UNT+11+1'
UNZ+1+C77'
"""

#: an 856 of SUP-A (known sender) for a PO line the cache does not have: PO-9 line 1
UNKNOWN_LINE = (
    "ISA*00*          *00*          *ZZ*SUP-A          *ZZ*PLANT          *261202*0930*U*00401*"
    "000000031*0*P*>~\n"
    "GS*SH*SUP-A*PLANT*20261202*0930*1*X*004010~\n"
    "ST*856*0001~\n"
    "BSN*00*SHIP-31*20261202*0930~\n"
    "HL*1**S~\n"
    "DTM*011*20261202~\n"
    "DTM*017*20261209~\n"
    "HL*2*1*O~\n"
    "PRF*PO-9~\n"
    "HL*3*2*I~\n"
    "LIN*1~\n"
    "SN1**10*EA~\n"
    "SE*11*0001~\n"
    "GE*1*1~\n"
    "IEA*1*000000031~\n"
)


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def test_a_file_rejected_while_mapping_keeps_its_envelope(
        cache: Engine, connector: EdiConnector, drop: Drop,
        capsys: pytest.CaptureFixture[str]) -> None:
    drop("who.edi", UNKNOWN_SENDER)
    drop("asn31.856", UNKNOWN_LINE)
    drop("junk.edi", "this is no message at all\n")
    result = sync_inbox(cache, connector, "edi-a")
    assert [e.file for e in result.rejected] == ["who.edi", "asn31.856", "junk.edi"]
    db = str(cache.url.database)

    rows = {r["file"]: r for r in json.loads(
        _cli(capsys, "edi", "list", "--rejected", "--json", "--cache", db))}
    who = rows["who.edi"]
    assert (who["outcome"], who["standard"], who["version"], who["message_type"],
            who["sender"], who["supplier"], who["control_ref"], who["message_refs"],
            who["document_number"], who["document_time"], who["lines"]) == (
        "rejected", "EDIFACT", "D96A", "ORDRSP", "4099999999999", None, "C77", "1", "R9",
        "2026-12-01T10:15:00", 0)
    assert who["reason"].startswith("sender unknown: '4099999999999'")
    asn = rows["asn31.856"]
    assert (asn["standard"], asn["version"], asn["message_type"], asn["sender"],
            asn["supplier"], asn["control_ref"], asn["document_number"],
            asn["document_time"]) == (
        "X12", "004010", "856", "SUP-A", "SUP-A", "000000031", "SHIP-31", "2026-12-02T09:30:00")
    assert asn["reason"] == "PO line not found: PO-9/1"
    junk = rows["junk.edi"]  # not readable: nothing of an envelope to show
    assert (junk["sender"], junk["message_type"], junk["document_number"]) == (None, None, None)

    text = _cli(capsys, "edi", "list", "--rejected", "--cache", db).splitlines()
    assert text[0] == ("    1  rejected   who.edi  ORDRSP D96A  from 4099999999999 (unknown)  "
                       "doc R9  lines 0/0")
    assert text[2] == ("    2  rejected   asn31.856  856 004010  from SUP-A (SUP-A)  "
                       "doc SHIP-31  lines 0/0")

    view = InlineRunner(cache).run(inbox_view).frame.set_index("file")
    assert view.loc["who.edi", ["kind", "sender", "supplier", "control_ref", "document_number",
                                "document_time"]].tolist() == [
        "ORDRSP D96A", "4099999999999", "", "C77", "R9", "2026-12-01T10:15:00"]
    assert view.loc["asn31.856", ["kind", "sender", "supplier", "document_number"]].tolist() == [
        "856 004010", "SUP-A", "SUP-A", "SHIP-31"]
    assert view.loc["junk.edi", ["kind", "sender", "document_number"]].tolist() == ["", "", ""]


def test_a_replay_still_rejected_keeps_the_envelope(
        cache: Engine, connector: EdiConnector, drop: Drop) -> None:
    drop("who.edi", UNKNOWN_SENDER)
    sync_inbox(cache, connector, "edi-a")
    (row,) = list_messages(cache)
    (again,) = replay(cache, [row["id"]], lambda source: connector)
    assert again.outcome == "rejected"
    (entry,) = InlineRunner(cache).run(inbox_entries, rejected_only=True)
    assert (entry.sender, entry.message_type, entry.document_number, entry.replays) == (
        "4099999999999", "ORDRSP", "R9", 1)
