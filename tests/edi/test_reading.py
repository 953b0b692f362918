"""The readers: every message type and version read into lines, broken structure named."""

from __future__ import annotations

import datetime as dt

import pytest
from planner_connectors.edi.connector import read_interchange
from planner_connectors.edi.model import EdiError

from tests.edi.messages import Line, desadv, ordrsp, x855, x856


@pytest.mark.parametrize("version", ["96A", "01B"])
def test_ordrsp(version: str) -> None:
    ic = read_interchange(ordrsp("SENDER", "C1", "R1", "202612011015", "PO-1", [
        Line("PO-1", 1, 8, "BX", "3", "20261215", supplier_item="A-100"),
        Line("PO-1", 2, 12.5, "KGM", "5", "20261212", buyer_item="RESIN"),
        Line("PO-1", 3, None, action="7"),
    ], version=version).encode())
    assert (ic.standard, ic.sender, ic.control_ref) == ("EDIFACT", "SENDER", "C1")
    (msg,) = ic.messages
    assert (msg.message_type, msg.version, msg.document_number, msg.document_time) == (
        "ORDRSP", f"D{version}", "R1", dt.datetime(2026, 12, 1, 10, 15))
    got = [(ln.purchase_order, ln.line, ln.status, ln.quantity, ln.unit, ln.delivery_date,
            ln.supplier_item, ln.buyer_item) for ln in msg.lines]
    assert got == [
        ("PO-1", 1, "changed", 8.0, "BX", dt.date(2026, 12, 15), "A-100", ""),
        ("PO-1", 2, "accepted", 12.5, "KGM", dt.date(2026, 12, 12), "", "RESIN"),
        ("PO-1", 3, "rejected", None, "", None, "", ""),
    ]


@pytest.mark.parametrize("version", ["96A", "01B"])
def test_desadv(version: str) -> None:
    ic = read_interchange(desadv("S", "C9", "SH-1", "202612091000", "20261209", "20261211", [
        Line("PO-1", 1, 60, "C62"), Line("PO-2", 4, 3, "KGM")], version=version).encode())
    (msg,) = ic.messages
    assert (msg.message_type, msg.kind, msg.document_number) == ("DESADV", "asn", "SH-1")
    assert [(ln.purchase_order, ln.line, ln.quantity, ln.unit, ln.ship_date, ln.delivery_date,
             ln.shipment) for ln in msg.lines] == [
        ("PO-1", 1, 60.0, "C62", dt.date(2026, 12, 9), dt.date(2026, 12, 11), "SH-1"),
        ("PO-2", 4, 3.0, "KGM", dt.date(2026, 12, 9), dt.date(2026, 12, 11), "SH-1"),
    ]


@pytest.mark.parametrize("version", ["004010", "005010"])
def test_855(version: str) -> None:
    ic = read_interchange(x855("SUP", "7", "SO-1", "202612011015", "PO-1", [
        Line("PO-1", 1, 96, "EA", "IQ", "20261215", buyer_item="BOLT"),
        Line("PO-1", 2, 50, "KG", "IA", "20261212", supplier_item="A-200"),
        Line("PO-1", 3, None, "EA", "IR"),
    ], version=version).encode())
    assert (ic.standard, ic.sender, ic.control_ref) == ("X12", "SUP", "000000007")
    (msg,) = ic.messages
    assert (msg.message_type, msg.version, msg.document_number, msg.purchase_order) == (
        "855", version, "SO-1", "PO-1")
    assert [(ln.line, ln.status, ln.action_code, ln.quantity, ln.delivery_date) for ln in msg.lines] == [
        (1, "changed", "IQ", 96.0, dt.date(2026, 12, 15)),
        (2, "accepted", "IA", 50.0, dt.date(2026, 12, 12)),
        (3, "rejected", "IR", 0.0, None),  # PO102 is 0 in the writer, no ACK quantity
    ]


@pytest.mark.parametrize("version", ["004010", "005010"])
def test_856(version: str) -> None:
    ic = read_interchange(x856("SUP", "8", "SH-2", "202612091100", "20261209", "20261212", [
        Line("PO-1", 1, 36, "EA", supplier_item="A-100"), Line("PO-2", 3, 5, "BX")],
        version=version).encode())
    (msg,) = ic.messages
    assert (msg.message_type, msg.document_number, msg.document_time) == (
        "856", "SH-2", dt.datetime(2026, 12, 9, 11, 0))
    assert [(ln.purchase_order, ln.line, ln.quantity, ln.unit, ln.supplier_item, ln.delivery_date)
            for ln in msg.lines] == [
        ("PO-1", 1, 36.0, "EA", "A-100", dt.date(2026, 12, 12)),
        ("PO-2", 3, 5.0, "BX", "", dt.date(2026, 12, 12)),
    ]


@pytest.mark.parametrize(("mutate", "segment", "element", "words"), [
    (lambda t: t.replace("UNT+13+1", "UNT+12+1"), 14, "UNT", "13 segments"),  # UNB is 1
    (lambda t: t.replace("LIN+1+3", "LIN+1+9"), 7, "LIN element 2", "1229 code"),
    (lambda t: t.replace("QTY+113:8:BX", "QTY+113:eight:BX"), 8, "QTY element 1 component 2",
     "a quantity"),
    (lambda t: t.replace("DTM+69:20261215", "DTM+69:20261315"), 9, "DTM element 1 component 2",
     "a date"),
    (lambda t: t.replace("UNZ+1+C1", "UNZ+1+C2"), 15, "UNZ", "reference C1"),
    (lambda t: t.replace("ORDRSP:D:96A", "ORDERS:D:96A"), 2, "UNH element 2", "ORDRSP or DESADV"),
    (lambda t: t.replace("BGM+231+R1+4", "BGM+231+R1+1"), 3, "BGM element 3", "9 (original)"),
])
def test_edifact_errors_name_segment_and_element(mutate, segment, element, words) -> None:  # type: ignore[no-untyped-def]
    text = ordrsp("SENDER", "C1", "R1", "202612011015", "PO-1", [
        Line("PO-1", 1, 8, "BX", "3", "20261215"), Line("PO-1", 2, None, action="7")])
    with pytest.raises(EdiError) as info:
        read_interchange(mutate(text).encode())
    err = info.value
    assert (err.segment, err.element) == (segment, element)
    assert words in err.expected


def test_x12_errors_name_segment_and_element() -> None:
    text = x855("SUP", "7", "SO-1", "202612011015", "PO-1", [Line("PO-1", 1, 96, "EA", "ZZ")])
    with pytest.raises(EdiError) as info:
        read_interchange(text.encode())
    assert (info.value.segment, info.value.element, info.value.message) == (6, "ACK01", "0001")
    with pytest.raises(EdiError, match="BAK01: purpose '01'"):
        read_interchange(text.replace("BAK*00*", "BAK*01*").encode())
    with pytest.raises(EdiError, match="GS08"):
        read_interchange(text.replace("*004010~", "*003040~").encode())
    good = text.replace("ACK*ZZ", "ACK*IA")
    assert read_interchange(good.encode()).messages[0].lines[0].status == "accepted"
    with pytest.raises(EdiError, match="IEA"):
        read_interchange(good.replace("IEA*1*000000007", "IEA*1*000000008").encode())
    with pytest.raises(EdiError, match=r"UNA/UNB .*or ISA"):
        read_interchange(b"hello")


def test_the_examples_in_docs_edi_md_read_as_documented() -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "edi.md").read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0].lstrip("\n") for b in doc.split("```\n")[1:]]
    messages = [b for b in blocks if b.startswith(("UNA", "ISA"))]
    assert len(messages) == 2
    ordrsp_doc, x855_doc = (read_interchange(m.encode()) for m in messages)
    (line,) = ordrsp_doc.messages[0].lines
    assert (line.purchase_order, line.line, line.status, line.quantity, line.unit,
            line.delivery_date) == ("PO-1", 1, "changed", 8.0, "BX", dt.date(2026, 12, 15))
    (line,) = x855_doc.messages[0].lines
    assert (line.status, line.delivery_date, x855_doc.messages[0].document_time) == (
        "changed", dt.date(2026, 12, 18), dt.datetime(2026, 12, 3, 9, 0))


def test_una_service_characters_decimal_comma_and_release_character() -> None:
    """A decimal comma from UNA, and a release character (read through pydifact's tokenizer)
    keeping a '+' inside an item number."""
    text = ordrsp("SENDER", "C1", "R1", "202612011015", "PO-1", [
        Line("PO-1", 1, 12.5, "KGM", "5", "20261215", supplier_item="A?+1")])
    text = text.replace("UNA:+.? '", "UNA:+,? '").replace("QTY+113:12.5:KGM", "QTY+113:12,5:KGM")
    (line,) = read_interchange(text.encode()).messages[0].lines
    assert (line.quantity, line.supplier_item) == (12.5, "A+1")


def test_a_blank_after_a_segment_terminator_is_layout_on_both_paths() -> None:
    """pydifact skips blanks and line breaks after a terminator; the str.split path did not skip
    blanks (``' QTY``) and refused the file the tokenizer reads (found by the fuzz test)."""
    from planner_connectors.edi import edifact

    text = ("UNA:+.? '\nUNB+UNOC:3+5400000000001:14+PLANT:14+261201:1015+C1'\n"
            "UNH+1+ORDRSP:D:96A:UN'\nBGM+231+R1+4'\nDTM+137:202612011015:203'\nRFF+ON:PO-1'\n"
            "LIN+1+3+A-100:SA' QTY+113:8:BX'\nDTM+69:20261215:102'\nRFF+LI:1'\nUNS+S'\n"
            "UNT+10+1'\nUNZ+1+C1'\n")
    fast, slow = edifact.read(text, fast=True), edifact.read(text, fast=False)
    assert fast == slow
    (line,) = fast.messages[0].lines
    assert (line.line, line.quantity, line.unit) == (1, 8.0, "BX")
