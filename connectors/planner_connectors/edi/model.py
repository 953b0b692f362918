"""Typed records of a parsed supplier message, and the reader's one error type.

The readers (:mod:`planner_connectors.edi.edifact`, :mod:`planner_connectors.edi.x12`) turn a
message file into
an :class:`Interchange` of :class:`Message` records whose :class:`MessageLine` rows carry the
figures as the supplier sent them (its unit codes, its item numbers); :mod:`planner_connectors.edi.mapping`
turns them into our PO lines, items and units. Anything a reader cannot read raises
:class:`EdiError`, naming the file, the message, the segment number (1 = the first segment of the
file), the element and what was expected: no other exception leaves a reader.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from workbench.connect.inbox import MessageError


class Kind(StrEnum):
    """What a message tells: an order acknowledgement (ORDRSP, 855) or a ship notice (DESADV, 856)."""

    ACK = "ack"
    ASN = "asn"


class LineStatus(StrEnum):
    """The acknowledged status of a line (the cache's ``AckStatus`` values)."""

    ACCEPTED = "accepted"
    CHANGED = "changed"
    REJECTED = "rejected"


class EdiError(MessageError):
    """A message that cannot be read or mapped: where, and what was expected there (the port's
    :class:`workbench.connect.inbox.MessageError`, so the core records the file as rejected with
    file, message, segment, element and what was expected)."""


@dataclass
class MessageLine:
    """One line of a message as sent: which of our PO lines it is about and what it says."""

    segment: int  # the line's first segment (LIN, PO1, or the 856 item level)
    purchase_order: str
    line: int | None
    buyer_item: str = ""  # our item number, when the supplier sends it (BP / IN)
    supplier_item: str = ""  # the supplier's item number (SA / VN / VP)
    status: LineStatus | None = None  # acknowledgements
    action_code: str = ""  # the code as sent (1241 / ACK01)
    quantity: float | None = None  # confirmed (ack) or shipped (asn) quantity
    unit: str = ""  # the unit code as sent (UN/ECE Rec 20 or X12)
    delivery_date: dt.date | None = None  # ack: confirmed delivery; asn: expected delivery
    ship_date: dt.date | None = None  # asn
    shipment: str = ""  # asn: the shipment identifier (DESADV BGM, 856 BSN02)


@dataclass
class Message:
    """One message (UNH..UNT, ST..SE)."""

    kind: Kind
    message_type: str  # ORDRSP, DESADV, 855, 856
    version: str  # D96A, D01B, 004010, 005010
    reference: str  # UNH 0062 / ST02
    document_number: str  # BGM 1004 / BAK08 or BAK03 / BSN02
    document_time: dt.datetime
    segment: int
    purchase_order: str = ""
    lines: list[MessageLine] = field(default_factory=list)


@dataclass
class Interchange:
    """A message file: its envelope (sender, control number) and its messages."""

    standard: str  # EDIFACT, X12
    sender: str
    receiver: str
    control_ref: str  # UNB 0020 / ISA13
    messages: list[Message] = field(default_factory=list)

    @property
    def line_count(self) -> int:
        return sum(len(m.lines) for m in self.messages)
