"""Mapping a read message onto what the cache knows: supplier, PO lines, items, units.

* **Sender → supplier**: the envelope's sender (UNB S002 / ISA06) through the source's
  ``partners`` setting (``SENDER=SUPPLIER``), else a supplier whose code is the sender ID.
* **PO number and line → our PO line**: (purchase order, line) must be a live PO line of that
  supplier.
* **Item numbers → our item**: our own number (BP / IN) when sent; else the supplier's number
  (SA / VN / VP) through an item cross-reference (``item_xrefs``) whose ``system`` is the
  supplier's code. The item found must be the PO line's item. A line that sends no item number
  at all is the PO line's item.
* **Unit → our unit, converted to the item's stock unit**: a code the cache knows as it is, else
  its UN/ECE Recommendation 20 or X12 name (:data:`UNIT_CODES`: C62/H87/PCE/PC → EA, KGM → KG,
  ...); an empty unit is the PO line's own unit. The conversion is the cache's
  (``uom_conversions``, item-specific first).

Each gap raises :class:`~planner_connectors.edi.model.EdiError` naming it — sender unknown, PO line not
found, item cross-reference missing, unit without conversion — with the segment and element of the
line, so the whole file is rejected and can be replayed once the cause is fixed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from planner_connectors.edi.model import EdiError, Interchange, Kind, LineStatus, MessageLine
from workbench.connect.inbox import MessageFacts as Facts

#: UN/ECE Recommendation 20 and X12 unit codes -> the canonical unit codes they stand for
UNIT_CODES: dict[str, str] = {
    "C62": "EA", "H87": "EA", "PCE": "EA", "NAR": "EA", "EA": "EA", "PC": "EA", "UN": "EA",
    "KGM": "KG", "KG": "KG", "GRM": "G", "GR": "G", "MTR": "M", "MR": "M", "CMT": "CM",
    "CM": "CM", "LTR": "L", "LT": "L", "MLT": "ML", "ML": "ML", "BX": "BOX", "BOX": "BOX",
}


@dataclass
class MappedLine:
    """One message line on our PO line, its quantity in the item's stock unit."""

    purchase_order: str
    line: int
    item: str
    message_ref: str
    document_time: dt.datetime
    kind: Kind
    status: str | None
    action_code: str
    quantity: float | None  # stock unit
    orig_quantity: float | None
    orig_uom: str
    delivery_date: dt.date | None
    ship_date: dt.date | None
    shipment: str
    segment: int


@dataclass
class MappedFile:
    """A message file mapped: envelope facts and every line on our PO lines."""

    standard: str
    version: str
    message_type: str
    kind: Kind
    sender: str
    supplier: str
    control_ref: str
    message_refs: str
    document_number: str
    document_time: dt.datetime
    lines: list[MappedLine] = field(default_factory=list)


def parse_partners(text: str) -> dict[str, str]:
    """``SENDER=SUPPLIER[,SENDER=SUPPLIER...]`` -> {sender: supplier}."""
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.replace(";", ",").split(","))):
        sender, sep, supplier = part.partition("=")
        if not sep or not sender.strip() or not supplier.strip():
            raise ValueError(f"partner {part!r} is not SENDER=SUPPLIER")
        out[sender.strip()] = supplier.strip()
    return out


def envelope(ic: Interchange, supplier: str = "") -> dict[str, str]:
    """The file's envelope as the archive keeps it (also for a file rejected while mapping:
    sender, message type, control and document numbers, date)."""
    out = {"standard": ic.standard, "sender": ic.sender, "control_ref": ic.control_ref,
           "supplier": supplier}
    if ic.messages:
        first = ic.messages[0]
        out.update(version=first.version, message_type=first.message_type,
                   message_refs=",".join(m.reference for m in ic.messages),
                   document_number=",".join(m.document_number for m in ic.messages),
                   document_time=max(m.document_time for m in ic.messages).isoformat(
                       timespec="seconds"))
    return {k: v for k, v in out.items() if v}


def map_interchange(ic: Interchange, facts: Facts, partners: Mapping[str, str]) -> MappedFile:
    """Our PO lines, items and units for every line of ``ic``; an :class:`EdiError` naming the
    first gap, carrying the file's envelope (:func:`envelope`)."""
    supplier = partners.get(ic.sender, ic.sender)
    try:
        return _map(ic, facts, supplier)
    except EdiError as exc:
        exc.envelope = envelope(ic, supplier if supplier in facts.suppliers else "")
        raise


def _map(ic: Interchange, facts: Facts, supplier: str) -> MappedFile:
    if supplier not in facts.suppliers:
        element = "UNB S002" if ic.standard == "EDIFACT" else "ISA06"
        raise EdiError(f"sender unknown: {ic.sender!r} is no supplier of the cache", segment=1,
                       element=element,
                       expected="a supplier code, or a partners=SENDER=SUPPLIER setting of the source")
    first = ic.messages[0]
    kinds = {m.kind for m in ic.messages}
    if len(kinds) > 1:
        raise EdiError("acknowledgements and ship notices in one file", segment=first.segment,
                       element="UNH/ST", expected="one kind of message per file")
    out = MappedFile(ic.standard, first.version, first.message_type, first.kind, ic.sender,
                     supplier, ic.control_ref, ",".join(m.reference for m in ic.messages),
                     ",".join(m.document_number for m in ic.messages),
                     max(m.document_time for m in ic.messages))
    for msg in ic.messages:
        mapped = []
        for ln in msg.lines:
            try:
                mapped.append(_map_line(ln, msg.reference, msg.document_time, msg.kind,
                                        supplier, facts))
            except EdiError as exc:
                exc.message = exc.message or msg.reference
                raise
        out.lines.extend(merge_schedules(mapped))
    return out


def merge_schedules(lines: list[MappedLine]) -> list[MappedLine]:
    """Lines of one message about the same PO line (and shipment) as one: an acknowledgement
    split into delivery schedules, a line packed in several packages. Quantities add up (in the
    stock unit; the message's own figure only when all share a unit), the latest date counts
    (the earliest ship date), and the status is accepted when all are, rejected when all are,
    else changed."""
    groups: dict[tuple[str, int, str], list[MappedLine]] = {}
    for ln in lines:
        groups.setdefault((ln.purchase_order, ln.line, ln.shipment), []).append(ln)
    out = []
    for group in groups.values():
        first = group[0]
        if len(group) == 1:
            out.append(first)
            continue
        qtys = [g.quantity for g in group if g.quantity is not None]
        units = {g.orig_uom for g in group if g.quantity is not None}
        origs = [g.orig_quantity for g in group if g.orig_quantity is not None]
        dates = [g.delivery_date for g in group if g.delivery_date is not None]
        ships = [g.ship_date for g in group if g.ship_date is not None]
        statuses = {g.status for g in group}
        status = first.status if len(statuses) == 1 else LineStatus.CHANGED.value
        out.append(MappedLine(
            first.purchase_order, first.line, first.item, first.message_ref, first.document_time,
            first.kind, status, ",".join(dict.fromkeys(g.action_code for g in group if g.action_code)),
            sum(qtys) if qtys else None, sum(origs) if origs and len(units) == 1 else None,
            first.orig_uom if len(units) == 1 else "", max(dates) if dates else None,
            min(ships) if ships else None, first.shipment, first.segment))
    return out


def _map_line(ln: MessageLine, ref: str, when: dt.datetime, kind: Kind, supplier: str,
              facts: Facts) -> MappedLine:
    assert ln.line is not None
    pol = facts.po_lines.get((ln.purchase_order, ln.line))
    if pol is None:
        raise EdiError(f"PO line not found: {ln.purchase_order}/{ln.line}", segment=ln.segment,
                       element="order and line number",
                       expected="a purchase order line in the cache")
    if pol.supplier != supplier:
        raise EdiError(f"PO line {ln.purchase_order}/{ln.line} is ordered from {pol.supplier}, "
                       f"not from {supplier}", segment=ln.segment, element="order number",
                       expected=f"a PO line of supplier {supplier}")
    item = _item(ln, supplier, pol.item, facts)
    qty, unit = None, ""
    if ln.quantity is not None:
        qty, unit = _to_stock(ln, item, pol.orig_uom, facts)
    return MappedLine(ln.purchase_order, ln.line, item, ref, when, kind,
                      ln.status.value if isinstance(ln.status, LineStatus) else None,
                      ln.action_code, qty, ln.quantity, unit, ln.delivery_date, ln.ship_date,
                      ln.shipment, ln.segment)


def _item(ln: MessageLine, supplier: str, expected: str, facts: Facts) -> str:
    if ln.buyer_item:
        item = ln.buyer_item
        if item not in facts.stock_uom:
            raise EdiError(f"item {item!r} unknown", segment=ln.segment, element="item number (BP/IN)",
                           expected="one of our item codes")
    elif ln.supplier_item:
        found = facts.xrefs.get((supplier, ln.supplier_item))
        if found is None:
            raise EdiError(f"item cross-reference missing: {supplier} number {ln.supplier_item!r}",
                           segment=ln.segment, element="item number (SA/VN/VP)",
                           expected=f"an item_xrefs row with system {supplier} and external_code "
                                    f"{ln.supplier_item}")
        item = found
    else:
        return expected
    if item != expected:
        raise EdiError(f"item {item} is not the PO line's item {expected}", segment=ln.segment,
                       element="item number", expected=expected)
    return item


def _to_stock(ln: MessageLine, item: str, line_unit: str | None, facts: Facts) -> tuple[float, str]:
    stock = facts.stock_uom[item]
    code = ln.unit.strip()
    if not code:
        unit = line_unit or stock
    elif code in facts.converter.known_units:
        unit = code
    else:
        unit = UNIT_CODES.get(code.upper(), "")
        if unit not in facts.converter.known_units:
            raise EdiError(f"unit {code!r} unknown", segment=ln.segment, element="unit (6411/355)",
                           expected="a unit of the cache or a UN/ECE Rec 20 / X12 code of one")
    try:
        factor = facts.converter.factor(item, unit, stock)
    except ValueError:
        raise EdiError(f"unit without conversion: {unit} to {stock} for item {item}",
                       segment=ln.segment, element="unit (6411/355)",
                       expected=f"a uom_conversions row from {unit} to {stock}") from None
    assert ln.quantity is not None
    return ln.quantity * factor, unit
