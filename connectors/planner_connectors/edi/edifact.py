"""Reading EDIFACT ORDRSP (order response) and DESADV (despatch advice), D.96A and D.01B.

pydifact tokenizes (service characters from UNA, release character, composites); the message
structure is walked here, because pydifact does not check it. What is read (docs/edi.md has
examples):

* envelope: ``UNB`` sender (S002 0004), recipient, control reference (0020); ``UNZ`` count and
  reference must match. ``UNH`` message reference and type (ORDRSP / DESADV, version D, release
  96A or 01B); ``UNT`` segment count and reference must match.
* header: ``BGM`` document number (C106/1004; for DESADV also the shipment identifier) and, for
  ORDRSP, response type 4343 (AP accepted, AC/CA changed, RE rejected) used for lines without
  an action code; ``DTM+137`` document date/time (orders messages of one line in time);
  ``DTM+11`` despatch date, ``DTM+132`` / ``DTM+17`` / ``DTM+2`` expected delivery (DESADV);
  ``RFF+ON`` the purchase order number.
* lines: ``LIN`` line item number (1082), action code (1229: 5/4 accepted, 3/6 changed, 7/2/10
  rejected), item number with type (SA/VN/VP the supplier's, BP/IN ours); ``PIA`` more item
  numbers; ``QTY`` 113 (to be delivered) or 21 (ordered) for ORDRSP, 12 (despatched) for DESADV,
  with the unit (6411); ``DTM`` 69 / 67 / 2 confirmed delivery (ORDRSP), 132 / 17 / 2 expected
  delivery (DESADV); ``RFF+LI`` our PO line number (else LIN 1082), ``RFF+ON`` the order of the
  line (DESADV lines may belong to different orders).

Every other segment (NAD, CUX, CPS, PAC, ...) is passed over. A file that breaks these rules
raises :class:`~planner_connectors.edi.model.EdiError` naming the segment (counted from 1 in the file,
UNA not counted), the element and what was expected.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pydifact.control.characters import Characters
from pydifact.parser import Parser, TokenIterator
from pydifact.tokenizer import Tokenizer

from planner_connectors.edi import values
from planner_connectors.edi.model import EdiError, Interchange, Kind, LineStatus, Message, MessageLine

VERSIONS = ("96A", "01B")
TYPES = {"ORDRSP": Kind.ACK, "DESADV": Kind.ASN}
ACTION_CODES = {
    "5": LineStatus.ACCEPTED, "4": LineStatus.ACCEPTED,
    "3": LineStatus.CHANGED, "6": LineStatus.CHANGED,
    "7": LineStatus.REJECTED, "2": LineStatus.REJECTED, "10": LineStatus.REJECTED,
}
RESPONSE_TYPES = {"AP": LineStatus.ACCEPTED, "AC": LineStatus.CHANGED, "CA": LineStatus.CHANGED,
                  "RE": LineStatus.REJECTED}
SUPPLIER_ITEM = ("SA", "VN", "VP")
#: BGM 1225 message functions that withdraw a message: refused (a person must look at them)
CANCELLING = ("1", "3")
BUYER_ITEM = ("BP", "IN")
ACK_QTY = ("113", "21")
ACK_DATES = ("69", "67", "2")
ASN_DATES = ("132", "17", "2")


@dataclass(slots=True)
class Segment:
    number: int
    tag: str
    elements: list[Any]

    def el(self, i: int) -> Any:
        """Element ``i`` (1-based, as the standard numbers them), "" when absent."""
        return self.elements[i - 1] if len(self.elements) >= i else ""

    def comp(self, i: int, j: int = 1) -> str:
        """Component ``j`` of element ``i`` (a simple element is its own first component).

        Called for nearly every element of a file: the common cases (a plain string, a list of
        strings) are tested first, by type identity."""
        elements = self.elements
        if len(elements) < i:
            return ""
        e = elements[i - 1]
        if e.__class__ is str:
            return e if j == 1 else ""
        if isinstance(e, list):
            return str(e[j - 1]) if len(e) >= j else ""
        return str(e) if j == 1 else ""

    def where(self, i: int, j: int | None = None) -> str:
        return f"{self.tag} element {i}" + (f" component {j}" if j else "")


def segments(text: str, fast: bool = True) -> tuple[list[Segment], str]:
    """The file's segments (numbered from 1, UNA not counted) and its decimal mark
    (``fast=False``: always through pydifact's tokenizer)."""
    chars = Characters()  # type: ignore[no-untyped-call]
    body = text.lstrip("\ufeff\r\n ")
    if body.startswith("UNA"):
        if len(body) < 9:
            raise EdiError("UNA is cut short", segment=0, element="UNA",
                           expected="UNA and six service characters")
        chars = Characters.from_str(body[:9])
        body = body[9:]
    decimal = chars.decimal_point
    raw: Iterable[list[Any]]
    if not fast or chars.escape_character in body or not body.strip():
        raw = Parser().convert_tokens_to_raw_segments(
            TokenIterator(Tokenizer().get_tokens(body, chars)))
        # pydifact drops text after the last terminator; refused, as split_segments does
        tail = body[body.rfind(chars.segment_terminator) + 1:].strip()
        if tail:
            raw = [*raw]
            raise EdiError("segment not terminated", segment=len(raw) + 1, element=tail[:3],
                           expected=f"the segment terminator {chars.segment_terminator!r}")
    else:
        raw = split_segments(body, chars.segment_terminator, chars.data_separator,
                             chars.component_separator)
    out = []
    for n, elements in enumerate(raw, start=1):
        tag = elements[0] if elements else ""
        if tag.__class__ is not str or tag not in _TAGS_SEEN:
            if isinstance(tag, str):
                tag = tag.lstrip(" \r\n")  # blanks and line breaks after a terminator are layout
            if not isinstance(tag, str) or len(tag) != 3 or not tag.isalpha() or not tag.isupper():
                raise EdiError(f"{str(tag)[:20]!r} is not a segment tag", segment=n,
                               element="tag", expected="three capital letters such as LIN")
        out.append(Segment(n, tag, list(elements[1:])))
    return out, decimal


#: tags checked once already (three capital letters, nothing to strip): the usual ones
_TAGS_SEEN = frozenset({"UNB", "UNH", "BGM", "DTM", "RFF", "NAD", "LIN", "PIA", "QTY", "UNS",
                        "UNT", "UNZ", "CPS", "PAC", "CUX", "IMD", "FTX", "LOC", "MEA", "PCI"})


def split_segments(body: str, terminator: str, data: str, component: str) -> Iterator[list[Any]]:
    """pydifact's raw segments, by ``str.split``, for text without a release character (where
    no separator can be escaped): the same lists (a composite's trailing empty components
    dropped, a one-component element a plain string), ten times faster than the tokenizer
    (tests/edi/test_reading.py compares both on fuzzed messages)."""
    pieces = body.split(terminator)
    count = 0
    for raw in pieces[:-1]:
        if not raw:  # two terminators in a row: an empty segment, refused by the caller
            count += 1
            yield [""]
            continue
        raw = raw.lstrip(" \r\n")  # as pydifact: blanks and line breaks after a terminator are layout
        if not raw:
            continue
        segment: list[Any] = []
        for element in raw.split(data):
            if component not in element:
                segment.append(element)
                continue
            parts = element.split(component)
            while len(parts) > 1 and parts[-1] == "":
                parts.pop()
            segment.append(parts if len(parts) > 1 else parts[0])
        count += 1
        yield segment
    if pieces[-1].strip():  # text after the last terminator (pydifact drops it: refused here)
        raise EdiError("segment not terminated", segment=count + 1,
                       element=pieces[-1].strip()[:3], expected=f"the segment terminator {terminator!r}")


def read(text: str, fast: bool = True) -> Interchange:
    """The interchange in ``text`` (raises EdiError only)."""
    try:
        segs, decimal = segments(text, fast)
    except EdiError:
        raise
    except Exception as exc:  # noqa: BLE001 - pydifact's own errors become ours
        raise EdiError(f"not readable as EDIFACT ({exc})", expected="EDIFACT syntax") from None
    if not segs or segs[0].tag != "UNB":
        raise EdiError("the file does not start with UNB", segment=1, element="UNB",
                       expected="UNB (interchange header)")
    unb = segs[0]
    interchange = Interchange("EDIFACT", unb.comp(2).strip(), unb.comp(3).strip(),
                              unb.comp(5).strip())
    if not interchange.sender or not interchange.control_ref:
        raise EdiError("UNB without sender or control reference", segment=1, element="UNB",
                       expected="sender (S002) and control reference (0020)")
    i = 1
    while i < len(segs) and segs[i].tag == "UNH":
        end = next((k for k in range(i, len(segs)) if segs[k].tag == "UNT"), None)
        if end is None:
            raise EdiError("message without UNT", segment=segs[i].number, element="UNH",
                           expected="UNT closing the message")
        interchange.messages.append(_message(segs[i:end + 1], decimal))
        i = end + 1
    if i != len(segs) - 1 or segs[i].tag != "UNZ":
        seg = segs[min(i, len(segs) - 1)]
        raise EdiError(f"{seg.tag} where UNH or UNZ belongs", segment=seg.number, element=seg.tag,
                       expected="UNH (next message) or UNZ (end of interchange)")
    unz = segs[i]
    if unz.comp(2).strip() != interchange.control_ref or unz.comp(1) != str(len(interchange.messages)):
        raise EdiError("UNZ does not match the interchange", segment=unz.number, element="UNZ",
                       expected=f"{len(interchange.messages)} messages, reference "
                                f"{interchange.control_ref}")
    if not interchange.messages:
        raise EdiError("no message in the interchange", segment=unz.number, element="UNH",
                       expected="at least one ORDRSP or DESADV")
    return interchange


def _message(segs: list[Segment], decimal: str) -> Message:
    unh, unt = segs[0], segs[-1]
    ref = unh.comp(1)
    mtype, version = unh.comp(2, 1), unh.comp(2, 2) + unh.comp(2, 3)
    if mtype not in TYPES or unh.comp(2, 2) != "D" or unh.comp(2, 3) not in VERSIONS:
        raise EdiError(f"message type {mtype}:{unh.comp(2, 2)}:{unh.comp(2, 3)} not read",
                       message=ref, segment=unh.number, element=unh.where(2),
                       expected="ORDRSP or DESADV, directory D.96A or D.01B")
    if unt.comp(1) != str(len(segs)) or unt.comp(2) != ref:
        raise EdiError(f"UNT says {unt.comp(1)} segments, reference {unt.comp(2)!r}",
                       message=ref, segment=unt.number, element="UNT",
                       expected=f"{len(segs)} segments, reference {ref!r}")
    kind = TYPES[mtype]
    msg = Message(kind, mtype, version, ref, "", dt.datetime.min, unh.number)
    walker = _Walker(msg, decimal)
    try:
        for seg in segs[1:-1]:
            walker.take(seg)
        walker.finish()
    except EdiError as exc:
        exc.message = exc.message or ref
        raise
    return msg


class _Walker:
    """Walks one message's segments: header until the first LIN, then one group per LIN."""

    def __init__(self, msg: Message, decimal: str) -> None:
        self.msg = msg
        self.decimal = decimal
        self.line: MessageLine | None = None
        self.line_ref: str = ""
        self.header_status: LineStatus | None = None
        self.ship_date: dt.date | None = None
        self.expected: dt.date | None = None
        self.have_date = False
        self.qty_rank = 99
        self.date_rank = 99

    def take(self, seg: Segment) -> None:
        handler = _HANDLERS.get(seg.tag)
        if handler is not None:
            handler(self, seg)

    def _bgm(self, seg: Segment) -> None:
        self.msg.document_number = seg.comp(2).strip()
        if seg.comp(3) in CANCELLING:
            raise EdiError(f"message function {seg.comp(3)!r} (cancellation/deletion) is not read",
                           segment=seg.number, element=seg.where(3),
                           expected="9 (original), 4 (change), 5 (replace) or 29 (accepted)")
        if self.msg.kind is Kind.ACK and seg.comp(4):
            status = RESPONSE_TYPES.get(seg.comp(4))
            if status is None:
                raise EdiError(f"response type {seg.comp(4)!r}", segment=seg.number,
                               element=seg.where(4), expected="AP, AC, CA or RE")
            self.header_status = status

    def _date(self, seg: Segment) -> tuple[str, dt.datetime]:
        return seg.comp(1, 1), values.date_time(seg.comp(1, 2), seg.comp(1, 3) or "102",
                                                seg.where(1, 2), seg.number)

    def _dtm(self, seg: Segment) -> None:
        qualifier, when = self._date(seg)
        if self.line is None:
            if qualifier == "137":
                self.msg.document_time, self.have_date = when, True
            elif qualifier == "11":
                self.ship_date = when.date()
            elif qualifier in ASN_DATES and self.msg.kind is Kind.ASN:
                self.expected = when.date()
            return
        wanted = ACK_DATES if self.msg.kind is Kind.ACK else ASN_DATES
        if qualifier in wanted and wanted.index(qualifier) < self.date_rank:
            self.date_rank = wanted.index(qualifier)
            self.line.delivery_date = when.date()
        elif qualifier == "11":
            self.line.ship_date = when.date()

    def _rff(self, seg: Segment) -> None:
        qualifier, value = seg.comp(1, 1), seg.comp(1, 2).strip()
        if qualifier == "ON":
            if self.line is None:
                self.msg.purchase_order = value
            else:
                self.line.purchase_order = value
        elif qualifier == "LI" and self.line is not None:
            self.line_ref = value
            self.line.line = self._line_number(value, seg, "RFF element 1 component 2")

    @staticmethod
    def _line_number(text: str, seg: Segment, element: str) -> int:
        t = text.strip()
        if not t.isdigit() or len(t) > 9:
            raise EdiError(f"line number {text!r}", segment=seg.number, element=element,
                           expected="a whole number such as 1 or 10")
        return int(t)

    def _lin(self, seg: Segment) -> None:
        self.finish_line()
        line = MessageLine(seg.number, self.msg.purchase_order, None)
        if seg.comp(1):
            line.line = self._line_number(seg.comp(1), seg, seg.where(1))
        if self.msg.kind is Kind.ACK:
            code = seg.comp(2)
            if code:
                status = ACTION_CODES.get(code)
                if status is None:
                    raise EdiError(f"action code {code!r}", segment=seg.number, element=seg.where(2),
                                   expected="1229 code 5 or 4 (accepted), 3 or 6 (changed), 7, 2 "
                                            "or 10 (rejected)")
                line.status, line.action_code = status, code
        self._item(line, seg.comp(3, 1), seg.comp(3, 2))
        self.line, self.line_ref, self.qty_rank, self.date_rank = line, "", 99, 99

    @staticmethod
    def _item(line: MessageLine, number: str, kind: str) -> None:
        if not number.strip():
            return
        if kind in SUPPLIER_ITEM:
            line.supplier_item = number.strip()
        elif kind in BUYER_ITEM:
            line.buyer_item = number.strip()

    def _pia(self, seg: Segment) -> None:
        if self.line is not None:
            for i in range(2, 7):
                self._item(self.line, seg.comp(i, 1), seg.comp(i, 2))

    def _qty(self, seg: Segment) -> None:
        if self.line is None:
            return
        wanted = ACK_QTY if self.msg.kind is Kind.ACK else ("12",)
        qualifier = seg.comp(1, 1)
        if qualifier in wanted and wanted.index(qualifier) < self.qty_rank:
            self.qty_rank = wanted.index(qualifier)
            self.line.quantity = values.quantity(seg.comp(1, 2), seg.where(1, 2), seg.number,
                                                 self.decimal)
            self.line.unit = seg.comp(1, 3).strip()

    def _uns(self, seg: Segment) -> None:
        self.finish_line()

    def finish_line(self) -> None:
        line = self.line
        if line is None:
            return
        self.line = None
        if line.line is None:
            raise EdiError("line without a line number", segment=line.segment, element="LIN element 1",
                           expected="LIN 1082 or RFF+LI with our PO line number")
        if not line.purchase_order:
            raise EdiError("line without an order number", segment=line.segment, element="RFF+ON",
                           expected="RFF+ON with our purchase order number")
        if self.msg.kind is Kind.ACK:
            line.status = line.status or self.header_status
            if line.status is None:
                raise EdiError("line without an action code", segment=line.segment,
                               element="LIN element 2", expected="1229 action code, or BGM 4343")
        if line.quantity is None and not (self.msg.kind is Kind.ACK
                                          and line.status is LineStatus.REJECTED):
            raise EdiError("line without a quantity", segment=line.segment, element="QTY",
                           expected="QTY+113 or QTY+21" if self.msg.kind is Kind.ACK else "QTY+12")
        if self.msg.kind is Kind.ASN:
            line.shipment = self.msg.document_number
            line.ship_date = line.ship_date or self.ship_date
            line.delivery_date = line.delivery_date or self.expected
            if line.delivery_date is None:
                raise EdiError("ship notice without an expected delivery date", segment=line.segment,
                               element="DTM", expected="DTM+132, DTM+17 or DTM+2")
        self.msg.lines.append(line)

    def finish(self) -> None:
        self.finish_line()
        if not self.msg.document_number:
            raise EdiError("no document number", segment=self.msg.segment, element="BGM",
                           expected="BGM with the document number (C106/1004)")
        if not self.have_date:
            raise EdiError("no document date", segment=self.msg.segment, element="DTM+137",
                           expected="DTM+137 with the message date")
        if not self.msg.lines:
            raise EdiError("no line", segment=self.msg.segment, element="LIN",
                           expected="at least one LIN group")


#: segment tag -> the walker's handler (every other segment is passed over)
_HANDLERS: dict[str, Callable[[_Walker, Segment], None]] = {
    "BGM": _Walker._bgm, "DTM": _Walker._dtm, "RFF": _Walker._rff, "LIN": _Walker._lin,
    "PIA": _Walker._pia, "QTY": _Walker._qty, "UNS": _Walker._uns,
}
