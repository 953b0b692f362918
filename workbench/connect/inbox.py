"""The message-inbox part of the connector port: what a connector that offers
:attr:`~workbench.connect.port.Capability.MESSAGE_INBOX` hands the core.

A message inbox (the EDI connector, ``planner_connectors.edi``) is not pulled like a record
source: :func:`workbench.services.edi.sync_inbox` asks it for the files waiting
(``inbox_files()``) and has each decoded (``decode(data, facts)``) into a :class:`DecodedFile`,
then applies it to the cache in a transaction of its own. ``facts`` is what the cache knows that
mapping needs (:class:`MessageFacts`; :class:`workbench.cache.edi.MappingFacts` has these).
A file that cannot be read or mapped raises :class:`MessageError` naming where and what was
expected; the core records it as rejected with those fields (another exception rejects the file
too, with the reason "not applied, nothing changed (Type: text)").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol, Self

#: the envelope facts a :class:`MessageError` may carry (the archive's column names)
ENVELOPE_FIELDS = ("standard", "version", "message_type", "sender", "supplier", "control_ref",
                   "message_refs", "document_number", "document_time")


class MessageError(ValueError):
    """A message file that cannot be read or mapped: where, and what was expected there.

    ``envelope``: what of the file's envelope was read before it failed (keys of
    :data:`ENVELOPE_FIELDS`, ``document_time`` ISO text), e.g. sender, message type, document
    number and date of a file whose sender is unknown, so the rejected file can be recognised."""

    def __init__(self, reason: str, *, file: str = "", message: str = "",
                 segment: int | None = None, element: str = "", expected: str = "",
                 envelope: Mapping[str, str] | None = None) -> None:
        self.reason = reason
        self.file = file
        self.message = message
        self.segment = segment
        self.element = element
        self.expected = expected
        self.envelope: dict[str, str] = {
            k: v for k, v in (envelope or {}).items() if k in ENVELOPE_FIELDS}
        super().__init__(str(self))

    def __str__(self) -> str:
        where = [p for p in (
            self.file,
            f"message {self.message}" if self.message else "",
            f"segment {self.segment}" if self.segment is not None else "",
            self.element,
        ) if p]
        text = f"{', '.join(where)}: {self.reason}" if where else self.reason
        return f"{text} (expected {self.expected})" if self.expected else text

    def in_file(self, file: str) -> Self:
        self.file = self.file or file
        return self


class PoLineFacts(Protocol):
    """One of our purchase order lines, as the cache has it."""

    @property
    def item(self) -> str: ...
    @property
    def supplier(self) -> str: ...
    @property
    def orig_uom(self) -> str | None: ...


class Converter(Protocol):
    """Units of measure: the known codes and the factor between two units of an item."""

    @property
    def known_units(self) -> set[str]: ...

    def factor(self, item: str, from_uom: str, to_uom: str) -> float: ...


class MessageFacts(Protocol):
    """What decoding a message reads from the cache."""

    @property
    def suppliers(self) -> set[str]: ...
    @property
    def xrefs(self) -> Mapping[tuple[str, str], str]: ...
    @property
    def stock_uom(self) -> Mapping[str, str]: ...
    @property
    def converter(self) -> Converter: ...
    @property
    def po_lines(self) -> Mapping[tuple[str, int], PoLineFacts]: ...


class DecodedLine(Protocol):
    """One message line on one of our PO lines, its quantity in the item's stock unit."""

    @property
    def purchase_order(self) -> str: ...
    @property
    def line(self) -> int: ...
    @property
    def message_ref(self) -> str: ...
    @property
    def document_time(self) -> dt.datetime: ...
    @property
    def status(self) -> str | None: ...
    @property
    def action_code(self) -> str: ...
    @property
    def quantity(self) -> float | None: ...
    @property
    def orig_quantity(self) -> float | None: ...
    @property
    def orig_uom(self) -> str: ...
    @property
    def delivery_date(self) -> dt.date | None: ...
    @property
    def ship_date(self) -> dt.date | None: ...
    @property
    def shipment(self) -> str: ...


class DecodedFile(Protocol):
    """A message file decoded: its envelope and every line on our PO lines."""

    @property
    def standard(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def message_type(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def sender(self) -> str: ...
    @property
    def supplier(self) -> str: ...
    @property
    def control_ref(self) -> str: ...
    @property
    def message_refs(self) -> str: ...
    @property
    def document_number(self) -> str: ...
    @property
    def document_time(self) -> dt.datetime: ...
    @property
    def lines(self) -> Sequence[DecodedLine]: ...


class MessageInbox(Protocol):
    """The members a message inbox offers (a connector with ``Capability.MESSAGE_INBOX``)."""

    @property
    def name(self) -> str: ...

    def inbox_files(self) -> list[Path]:
        """The message files waiting, in the order they are to be taken."""
        ...

    def decode(self, data: bytes, facts: MessageFacts) -> DecodedFile:
        """Read and map one file; a file that cannot be read or mapped raises (it is rejected)."""
        ...
