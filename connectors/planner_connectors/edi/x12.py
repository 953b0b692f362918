"""A small ANSI X12 reader: 855 (purchase order acknowledgement) and 856 (ship notice), 4010/5010.

No maintained package reads these transaction sets, so this module does: the delimiters come
from the fixed-width ``ISA`` header (element separator = its 4th character, component separator
= ISA16, segment terminator = the character after ISA16), the envelope is checked (``ISA``/``IEA``
control numbers, ``GS``/``GE`` group count and number, ``ST``/``SE`` segment count and number,
``GS08`` version 004010 or 005010 with any suffix) and each set is walked:

* 855: ``BAK`` 02 acknowledgement type (AD/AK/AT accepted, AC changed, RD/RJ rejected; used
  for lines without ACK), 03 PO number, 08 seller's order number (the document number, else
  BAK03), 09 acknowledgement date (else ``GS04``); ``PO1`` 01 our line number, 02/03 ordered
  quantity and unit, 06-15 item numbers by qualifier (BP/IN ours, VP/VN/SA the supplier's);
  ``ACK`` 01 status (IA/IE/AR/AC accepted; IC/IQ/DR/IP/IB/IS/BP changed; IR/ID/R1-R8 rejected),
  02/03 quantity and unit (several ACKs of a line add up), 04/05 date qualifier and date (067,
  068, 017, 002, 069: the latest is the confirmed delivery).
* 856: ``BSN`` 02 shipment identifier, 03/04 date and time; ``HL`` levels: ``DTM*011`` ship
  date, ``DTM*017``/``067``/``002``/``AB`` expected delivery; ``PRF`` 01 PO number; ``LIN`` 01 our
  line number, 02.. item numbers; ``SN1`` 01 line number (when LIN01 is empty), 02/03 shipped
  quantity and unit.

Errors are :class:`~planner_connectors.edi.model.EdiError` naming segment number (1 = ISA), element
(e.g. ``ACK01``) and what was expected.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from planner_connectors.edi import values
from planner_connectors.edi.model import EdiError, Interchange, Kind, LineStatus, Message, MessageLine

VERSIONS = ("004010", "005010")
TYPES = {"855": Kind.ACK, "856": Kind.ASN}
ACK_CODES = {
    **{c: LineStatus.ACCEPTED for c in ("IA", "IE", "AR", "AC")},
    **{c: LineStatus.CHANGED for c in ("IC", "IQ", "DR", "IP", "IB", "IS", "BP")},
    **{c: LineStatus.REJECTED for c in ("IR", "ID", "R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8")},
}
BAK_TYPES = {"AD": LineStatus.ACCEPTED, "AK": LineStatus.ACCEPTED, "AT": LineStatus.ACCEPTED,
             "AC": LineStatus.CHANGED, "RD": LineStatus.REJECTED, "RJ": LineStatus.REJECTED}
ACK_DATES = ("067", "068", "017", "002", "069")
ASN_DATES = ("017", "067", "002", "AB")
SUPPLIER_ITEM = ("VP", "VN", "SA")
BUYER_ITEM = ("BP", "IN")


@dataclass
class Segment:
    number: int
    tag: str
    elements: list[str]
    component: str

    def el(self, i: int) -> str:
        """Element ``i`` (ISA01 is ``el(1)``), "" when absent."""
        return self.elements[i - 1].strip() if len(self.elements) >= i else ""

    def name(self, i: int) -> str:
        return f"{self.tag}{i:02d}"


def segments(text: str) -> list[Segment]:
    body = text.lstrip("\ufeff\r\n ")
    if not body.startswith("ISA") or len(body) < 106:
        raise EdiError("the file does not start with a complete ISA header", segment=1,
                       element="ISA", expected="ISA of 106 characters")
    sep, component, terminator = body[3], body[104], body[105]
    if len({sep, component, terminator}) < 3 or any(c.isalnum() for c in (sep, component, terminator)):
        raise EdiError("ISA delimiters unclear", segment=1, element="ISA16",
                       expected="three different non-alphanumeric delimiters")
    out = []
    for n, raw in enumerate(body.split(terminator), start=1):
        raw = raw.strip("\r\n")
        if not raw.strip():
            continue
        parts = raw.split(sep)
        tag = parts[0].strip()
        if not (2 <= len(tag) <= 3) or not tag.isalnum() or (not tag.isupper() and not tag.isdigit()):
            raise EdiError(f"{tag[:20]!r} is not a segment tag", segment=n, element="tag",
                           expected="a segment ID such as PO1")
        out.append(Segment(n, tag, parts[1:], component))
    return out


def read(text: str) -> Interchange:
    segs = segments(text)
    isa = segs[0]
    if len(isa.elements) < 16:
        raise EdiError("ISA has fewer than 16 elements", segment=1, element="ISA",
                       expected="16 elements")
    interchange = Interchange("X12", isa.el(6), isa.el(8), isa.el(13))
    if not interchange.sender or not interchange.control_ref.isdigit():
        raise EdiError("ISA without sender or control number", segment=1, element="ISA13",
                       expected="sender ID (ISA06) and a numeric control number (ISA13)")
    i = 1
    groups = 0
    while i < len(segs) and segs[i].tag == "GS":
        i = _group(segs, i, interchange)
        groups += 1
    last = segs[min(i, len(segs) - 1)]
    if i != len(segs) - 1 or last.tag != "IEA":
        raise EdiError(f"{last.tag} where GS or IEA belongs", segment=last.number, element=last.tag,
                       expected="GS (next group) or IEA (end of interchange)")
    if last.el(2) != interchange.control_ref or last.el(1) != str(groups):
        raise EdiError("IEA does not match the interchange", segment=last.number, element="IEA",
                       expected=f"{groups} groups, control number {interchange.control_ref}")
    if not interchange.messages:
        raise EdiError("no transaction set", segment=last.number, element="ST",
                       expected="at least one 855 or 856")
    return interchange


def _group(segs: list[Segment], i: int, interchange: Interchange) -> int:
    gs = segs[i]
    version = gs.el(8)[:6]
    if version not in VERSIONS:
        raise EdiError(f"version {gs.el(8)!r} not read", segment=gs.number, element="GS08",
                       expected="004010 or 005010")
    group_time = values.x12_time(gs.el(4), gs.el(5), "GS04", gs.number)
    i += 1
    sets = 0
    while i < len(segs) and segs[i].tag == "ST":
        end = next((k for k in range(i, len(segs)) if segs[k].tag == "SE"), None)
        if end is None:
            raise EdiError("transaction set without SE", segment=segs[i].number, element="ST",
                           expected="SE closing the set")
        interchange.messages.append(_set(segs[i:end + 1], version, group_time))
        sets += 1
        i = end + 1
    ge = segs[min(i, len(segs) - 1)]
    if ge.tag != "GE" or ge.el(1) != str(sets) or ge.el(2) != gs.el(6):
        raise EdiError("group not closed by a matching GE", segment=ge.number, element="GE",
                       expected=f"GE with {sets} sets and group number {gs.el(6)}")
    return i + 1


def _set(segs: list[Segment], version: str, group_time: dt.datetime) -> Message:
    st, se = segs[0], segs[-1]
    ref = st.el(2)
    if st.el(1) not in TYPES:
        raise EdiError(f"transaction set {st.el(1)!r} not read", message=ref, segment=st.number,
                       element="ST01", expected="855 or 856")
    if se.el(1) != str(len(segs)) or se.el(2) != ref:
        raise EdiError(f"SE says {se.el(1)} segments, number {se.el(2)!r}", message=ref,
                       segment=se.number, element="SE", expected=f"{len(segs)} segments, number {ref!r}")
    msg = Message(TYPES[st.el(1)], st.el(1), version, ref, "", group_time, st.number)
    try:
        (_read_855 if msg.kind is Kind.ACK else _read_856)(msg, segs[1:-1])
    except EdiError as exc:
        exc.message = exc.message or ref
        raise
    if not msg.lines:
        raise EdiError("no line", message=ref, segment=st.number,
                       element="PO1" if msg.kind is Kind.ACK else "LIN", expected="at least one line")
    return msg


def _line_number(text: str, seg: Segment, element: str) -> int:
    if not text.isdigit() or len(text) > 9:
        raise EdiError(f"line number {text!r}", segment=seg.number, element=element,
                       expected="a whole number such as 1 or 10")
    return int(text)


def _items(line: MessageLine, seg: Segment, first: int) -> None:
    for q in range(first, len(seg.elements), 2):
        qualifier, number = seg.el(q), seg.el(q + 1)
        if qualifier in SUPPLIER_ITEM and number:
            line.supplier_item = number
        elif qualifier in BUYER_ITEM and number:
            line.buyer_item = number


def _not_cancelling(seg: Segment) -> None:
    """Transaction set purpose 01 (cancellation) / 03 (delete) is refused: a person must look."""
    if seg.el(1) in ("01", "03"):
        raise EdiError(f"purpose {seg.el(1)!r} (cancellation/delete) is not read", segment=seg.number,
                       element=seg.name(1), expected="00 (original), 05 (replace) or 06 (confirmation)")


_Ack = tuple[LineStatus, str, float | None, str, dt.date | None]  # status, code, qty, unit, date


def _read_855(msg: Message, segs: list[Segment]) -> None:
    header: LineStatus | None = None
    line: MessageLine | None = None
    acks: list[_Ack] = []
    for seg in segs:
        if seg.tag == "BAK":
            header = _bak(msg, seg)
        elif seg.tag == "PO1":
            _finish_855(msg, line, acks, header)
            acks = []
            line = MessageLine(seg.number, msg.purchase_order, _line_number(seg.el(1), seg, "PO101"))
            if seg.el(2):
                line.quantity = values.quantity(seg.el(2), "PO102", seg.number)
                line.unit = seg.el(3)
            _items(line, seg, 6)
        elif seg.tag == "ACK" and line is not None:
            acks.append(_ack(seg))
    if line is None and header is None:
        raise EdiError("no BAK", segment=segs[0].number if segs else None, element="BAK",
                       expected="BAK beginning segment")
    _finish_855(msg, line, acks, header)


def _bak(msg: Message, seg: Segment) -> LineStatus:
    """The BAK segment: the order, document number and time on ``msg``; the header's status
    (BAK02), which lines without an ACK take."""
    _not_cancelling(seg)
    header = BAK_TYPES.get(seg.el(2))
    if header is None:
        raise EdiError(f"acknowledgement type {seg.el(2)!r}", segment=seg.number,
                       element="BAK02", expected="AD, AK, AT, AC, RD or RJ")
    msg.purchase_order = seg.el(3)
    msg.document_number = seg.el(8) or seg.el(3)
    if seg.el(9):
        msg.document_time = values.x12_time(seg.el(9), "", "BAK09", seg.number).replace(
            hour=msg.document_time.hour, minute=msg.document_time.minute)
    if not msg.purchase_order:
        raise EdiError("BAK without PO number", segment=seg.number, element="BAK03",
                       expected="our purchase order number")
    return header


def _ack(seg: Segment) -> _Ack:
    """One ACK segment of a line: its status, code, quantity and unit, and date (ACK04/05)."""
    status = ACK_CODES.get(seg.el(1))
    if status is None:
        raise EdiError(f"ACK code {seg.el(1)!r}", segment=seg.number, element="ACK01",
                       expected="IA/IE/AR/AC, IC/IQ/DR/IP/IB/IS/BP or IR/ID/R1-R8")
    qty = values.quantity(seg.el(2), "ACK02", seg.number) if seg.el(2) else None
    when = None
    if seg.el(4) in ACK_DATES and seg.el(5):
        when = values.x12_time(seg.el(5), "", "ACK05", seg.number).date()
    return (status, seg.el(1), qty, seg.el(3), when)


def _finish_855(msg: Message, line: MessageLine | None, acks: list[_Ack], header: LineStatus | None) -> None:
    """A line and its ACKs into ``msg``: the worst status, the first code, the summed quantity,
    the latest date; a line without ACK takes the header's status (none: refused)."""
    if line is None:
        return
    if acks:
        ranks = [LineStatus.ACCEPTED, LineStatus.CHANGED, LineStatus.REJECTED]
        line.status = max((a[0] for a in acks), key=ranks.index)
        line.action_code = acks[0][1]
        qtys = [a[2] for a in acks if a[2] is not None]
        if qtys:
            line.quantity, line.unit = sum(qtys), next(a[3] for a in acks if a[2] is not None)
        dates = [a[4] for a in acks if a[4] is not None]
        line.delivery_date = max(dates) if dates else None
    elif header is None:
        raise EdiError("line without ACK and no BAK02 type", segment=line.segment, element="ACK01",
                       expected="an ACK segment, or BAK02 AD/AK/AT/AC/RD/RJ")
    else:
        line.status = header
    msg.lines.append(line)


def _read_856(msg: Message, segs: list[Segment]) -> None:
    ship_date: dt.date | None = None
    expected: dt.date | None = None
    order = ""
    pending: list[MessageLine] = []
    line: MessageLine | None = None
    for seg in segs:
        if seg.tag == "BSN":
            _bsn(msg, seg)
        elif seg.tag == "DTM":
            when = values.x12_time(seg.el(2), seg.el(3), "DTM02", seg.number).date()
            if seg.el(1) == "011":
                ship_date = when
            elif seg.el(1) in ASN_DATES:
                expected = when
        elif seg.tag == "PRF":
            order = seg.el(1)
        elif seg.tag == "LIN":
            if not order:
                raise EdiError("item before its order", segment=seg.number, element="PRF01",
                               expected="an order level (HL ..O) with PRF before the items")
            line = MessageLine(seg.number, order, _line_number(seg.el(1), seg, "LIN01")
                               if seg.el(1) else None, shipment=msg.document_number)
            _items(line, seg, 2)
            pending.append(line)
        elif seg.tag == "SN1" and line is not None:
            if line.line is None:
                line.line = _line_number(seg.el(1), seg, "SN101")
            line.quantity = values.quantity(seg.el(2), "SN102", seg.number)
            line.unit = seg.el(3)
    if not msg.document_number:
        raise EdiError("no BSN", segment=msg.segment, element="BSN", expected="BSN beginning segment")
    _finish_856(msg, pending, ship_date, expected)


def _bsn(msg: Message, seg: Segment) -> None:
    """The BSN segment: the shipment identifier and time on ``msg``."""
    _not_cancelling(seg)
    msg.document_number = seg.el(2)
    if not msg.document_number:
        raise EdiError("BSN without shipment identifier", segment=seg.number,
                       element="BSN02", expected="the shipment identifier")
    msg.document_time = values.x12_time(seg.el(3), seg.el(4), "BSN03", seg.number)


def _finish_856(msg: Message, pending: list[MessageLine], ship_date: dt.date | None,
                expected: dt.date | None) -> None:
    """The shipped lines into ``msg``, each with the ship and expected delivery dates; a line
    without line number or quantity, or a notice without an expected date, is refused."""
    for ln in pending:
        if ln.line is None or ln.quantity is None:
            raise EdiError("item without line number or shipped quantity", segment=ln.segment,
                           element="SN1", expected="LIN01 or SN101, and SN102 with SN103")
        ln.ship_date = ship_date
        ln.delivery_date = expected
        if expected is None:
            raise EdiError("ship notice without an expected delivery date", segment=ln.segment,
                           element="DTM", expected="DTM*017, DTM*067 or DTM*002")
    msg.lines.extend(pending)
