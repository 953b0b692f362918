"""The demo plant's suppliers send EDI messages: acknowledgements and ship notices as files in an
inbox beside the demo cache (``<cache>.edi-inbox``), taken by the EDI inbox after each demo sync
(:func:`workbench.services.edi.sync_supplier_messages`), so the flow is visible end to end on
the demo without configuration.

On the demo's day, per supplier (the sender ID is the supplier code), one interchange of each:

* **ORDRSP** (D.96A), one message per purchase order, for its lines still *sent* without an
  acknowledgement whose order went out at least :data:`ACK_AFTER_DAYS` days ago: of 100 lines
  (by a hash of order and line, so the same every time) 2 are rejected, 18 accepted with a date
  5-9 days after the requested one, 8 accepted for 80 % of the quantity, the rest accepted as
  ordered on the requested date.
* **DESADV** (D.96A), one shipment, for its acknowledged open lines promised within the next
  :data:`SHIP_WITHIN_DAYS` days without a ship notice: what is still to come (one line in four:
  half of it), shipped today, expected on the promised date.

The suppliers remember what they sent (``.sent`` in the inbox, one file name a line): the same
day synced again sends nothing twice. (Sent anyway, e.g. after deleting ``.sent``, the inbox
records the copies as duplicates: applied once.)
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections import defaultdict
from pathlib import Path
from typing import Any

ACK_AFTER_DAYS = 2
SHIP_WITHIN_DAYS = 4


def _share(po: str, line: int) -> int:
    return zlib.crc32(f"{po}/{line}".encode()) % 100


def _d(day: dt.date) -> str:
    return day.strftime("%Y%m%d")


def _num(q: float) -> str:
    return f"{q:.3f}".rstrip("0").rstrip(".")


def _interchange(sender: str, control: str, when: dt.datetime, bodies: list[list[str]]) -> str:
    stamp = when.strftime("%y%m%d:%H%M")
    segs = [f"UNB+UNOC:3+{sender}:ZZZ+DEMO-PLANT:ZZZ+{stamp}+{control}"]
    segs += [s for body in bodies for s in body]
    segs.append(f"UNZ+{len(bodies)}+{control}")
    # the demo's codes (orders, items, suppliers, units) hold no EDIFACT separator: no escaping
    return "UNA:+.? '\n" + "".join(f"{s}'\n" for s in segs)


def _ordrsp(ref: int, po: str, when: dt.datetime, lines: list[dict[str, Any]]) -> list[str]:
    body = [f"UNH+{ref}+ORDRSP:D:96A:UN", f"BGM+231+RSP-{po}+4",
            f"DTM+137:{when.strftime('%Y%m%d%H%M')}:203", f"RFF+ON:{po}"]
    for n, ln in enumerate(lines, start=1):
        share = _share(po, ln["line"])
        qty, date, action = ln["quantity_ordered"], ln["requested_date"], "5"
        if share < 2:
            action = "7"
        elif share < 20:
            action, date = "3", date + dt.timedelta(days=5 + share % 5)
        elif share < 28:
            action, qty = "3", round(qty * 0.8, 3)
        body.append(f"LIN+{n}+{action}+{ln['item']}:BP")
        if action != "7":
            body += [f"QTY+113:{_num(qty)}:{ln['uom'] or ''}", f"DTM+69:{_d(date)}:102"]
        body.append(f"RFF+LI:{ln['line']}")
    body.append(f"UNT+{len(body) + 1}+{ref}")
    return body


def _desadv(shipment: str, when: dt.datetime, lines: list[dict[str, Any]]) -> list[str]:
    body = ["UNH+1+DESADV:D:96A:UN", f"BGM+351+{shipment}+9",
            f"DTM+137:{when.strftime('%Y%m%d%H%M')}:203", f"DTM+11:{_d(when.date())}:102", "CPS+1"]
    for n, ln in enumerate(lines, start=1):
        left = ln["quantity_ordered"] - ln["quantity_received"]
        qty = round(left / 2, 3) if _share(ln["purchase_order"], ln["line"]) % 4 == 0 else left
        body += [f"LIN+{n}++{ln['item']}:BP", f"QTY+12:{_num(qty)}:{ln['uom'] or ''}",
                 f"DTM+132:{_d(ln['promised_date'])}:102", f"RFF+ON:{ln['purchase_order']}",
                 f"RFF+LI:{ln['line']}"]
    body.append(f"UNT+{len(body) + 1}+1")
    return body


def write_messages(lines: list[dict[str, Any]], orders: dict[str, dt.date | None], today: dt.date,
                   day: int, inbox: Path) -> list[Path]:
    """The day's messages of every supplier into ``inbox`` (see module doc); the files written.

    ``lines``: the demo's purchase-order line records; ``orders``: order code -> order date."""
    inbox.mkdir(parents=True, exist_ok=True)
    to_ack: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    to_ship: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for ln in lines:
        ordered = orders.get(ln["purchase_order"])
        if (ln["status"] == "sent" and ln["ack_status"] == "none" and ordered is not None
                and ordered <= today - dt.timedelta(days=ACK_AFTER_DAYS)):
            to_ack[ln["supplier"]][ln["purchase_order"]].append(ln)
        promised = ln["promised_date"]
        if (ln["status"] in ("acknowledged", "partially_received") and promised is not None
                and today < promised <= today + dt.timedelta(days=SHIP_WITHIN_DAYS)
                and not ln["asn_quantity"] and ln["quantity_ordered"] > ln["quantity_received"]):
            to_ship[ln["supplier"]].append(ln)
    written = []
    for n, supplier in enumerate(sorted(set(to_ack) | set(to_ship))):
        when = dt.datetime.combine(today, dt.time(7, n % 60))
        if supplier in to_ack:
            bodies = [_ordrsp(i, po, when, sorted(po_lines, key=lambda r: r["line"]))
                      for i, (po, po_lines) in enumerate(sorted(to_ack[supplier].items()), start=1)]
            written.append(_put(inbox / f"demo-day{day:04d}-ordrsp-{supplier}.edi",
                                _interchange(supplier, f"D{day:04d}A{supplier}", when, bodies)))
        if supplier in to_ship:
            shipment = f"ASN-{supplier}-{day:04d}"
            body = _desadv(shipment, when, to_ship[supplier])
            written.append(_put(inbox / f"demo-day{day:04d}-desadv-{supplier}.edi",
                                _interchange(supplier, f"D{day:04d}S{supplier}", when, [body])))
    return [p for p in written if p is not None]


def _put(path: Path, text: str) -> Path | None:
    sent = path.with_name(".sent")
    names = set(sent.read_text(encoding="utf-8").split()) if sent.exists() else set()
    if path.name in names:
        return None
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    with sent.open("a", encoding="utf-8") as fh:
        fh.write(path.name + "\n")
    return path
