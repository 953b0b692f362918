"""A small writer of supplier messages for the tests (EDIFACT ORDRSP/DESADV, X12 855/856).

Each function returns the text of one interchange; lines are :class:`Line` rows. Written from
the standards' segment layouts (docs/edi.md lists them), not copied from anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Line:
    po: str
    line: int
    qty: float | None = None
    unit: str = "C62"
    action: str = "5"  # ORDRSP 1229 / 855 ACK01
    date: str = ""  # CCYYMMDD: confirmed (ack) delivery
    buyer_item: str = ""
    supplier_item: str = ""


def _num(q: float) -> str:
    return f"{q:g}"


def ordrsp(sender: str, control: str, doc: str, when: str, po: str, lines: list[Line],
           version: str = "96A", response: str = "", receiver: str = "PLANT") -> str:
    """ORDRSP; ``when`` CCYYMMDDHHMM (DTM+137 format 203)."""
    return ordrsp_batch(sender, control, when, [(doc, po, lines)], version, response, receiver)


def ordrsp_batch(sender: str, control: str, when: str, orders: list[tuple[str, str, list[Line]]],
                 version: str = "96A", response: str = "", receiver: str = "PLANT") -> str:
    """One interchange of ORDRSP messages, one per (document number, PO, lines)."""
    bodies = []
    for ref, (doc, po, lines) in enumerate(orders, start=1):
        body = [f"UNH+{ref}+ORDRSP:D:{version}:UN",
                f"BGM+231+{doc}+4" + (f"+{response}" if response else ""),
                f"DTM+137:{when}:203", f"RFF+ON:{po}", f"NAD+SE+{sender}::9"]
        for n, ln in enumerate(lines, start=1):
            item = f"+{ln.supplier_item}:SA" if ln.supplier_item else ""
            body.append(f"LIN+{n}+{ln.action}{item}")
            if ln.buyer_item:
                body.append(f"PIA+1+{ln.buyer_item}:BP")
            if ln.qty is not None:
                body.append(f"QTY+113:{_num(ln.qty)}:{ln.unit}")
            if ln.date:
                body.append(f"DTM+69:{ln.date}:102")
            body.append(f"RFF+LI:{ln.line}")
            if ln.po != po:
                body.append(f"RFF+ON:{ln.po}")
        body.append("UNS+S")
        body.append(f"UNT+{len(body) + 1}+{ref}")
        bodies.append(body)
    return _envelope(sender, receiver, control, when, bodies)


def desadv(sender: str, control: str, shipment: str, when: str, ship: str, arrive: str,
           lines: list[Line], version: str = "01B", receiver: str = "PLANT") -> str:
    """DESADV: ship date DTM+11, expected delivery DTM+132; one CPS, LIN groups with RFF+ON."""
    body = [f"UNH+1+DESADV:D:{version}:UN", f"BGM+351+{shipment}+9",
            f"DTM+137:{when}:203", f"DTM+11:{ship}:102", f"DTM+132:{arrive}:102", "CPS+1"]
    for n, ln in enumerate(lines, start=1):
        item = f"+{ln.supplier_item}:SA" if ln.supplier_item else ""
        body.append(f"LIN+{n}+{item}")
        if ln.buyer_item:
            body.append(f"PIA+1+{ln.buyer_item}:BP")
        assert ln.qty is not None
        body.append(f"QTY+12:{_num(ln.qty)}:{ln.unit}")
        body.append(f"RFF+ON:{ln.po}")
        body.append(f"RFF+LI:{ln.line}")
    body.append(f"UNT+{len(body) + 1}+1")
    return _envelope(sender, receiver, control, when, [body])


def _envelope(sender: str, receiver: str, control: str, when: str, bodies: list[list[str]]) -> str:
    segs = ["UNA:+.? '", f"UNB+UNOC:3+{sender}:14+{receiver}:14+{when[2:8]}:{when[8:12]}+{control}"]
    inner = [seg for body in bodies for seg in body]
    return segs[0] + "\n" + "'\n".join(segs[1:] + inner + [f"UNZ+{len(bodies)}+{control}"]) + "'\n"


def _isa(sender: str, receiver: str, control: str, when: str, version: str) -> str:
    isa = ("ISA*00*" + " " * 10 + "*00*" + " " * 10 + f"*ZZ*{sender:<15}*ZZ*{receiver:<15}*"
           f"{when[2:8]}*{when[8:12]}*U*{'00401' if version == '004010' else '00501'}*"
           f"{int(control):09d}*0*P*>~")
    assert len(isa) == 106, len(isa)
    return isa


def _x12(sender: str, control: str, when: str, version: str, st: list[str], code: str,
         receiver: str = "PLANT") -> str:
    gs = f"GS*{'PR' if code == '855' else 'SH'}*{sender}*{receiver}*{when[:8]}*{when[8:12]}*1*X*{version}"
    body = [f"ST*{code}*0001", *st]
    body.append(f"SE*{len(body) + 1}*0001")
    segs = [gs, *body, "GE*1*1", f"IEA*1*{int(control):09d}"]
    return _isa(sender, receiver, control, when, version) + "\n" + "~\n".join(segs) + "~\n"


def x855(sender: str, control: str, doc: str, when: str, po: str, lines: list[Line],
         version: str = "004010", bak_type: str = "AC") -> str:
    """855; ``control`` numeric; ``when`` CCYYMMDDHHMM; ACK dates with qualifier 067."""
    st = [f"BAK*00*{bak_type}*{po}*20261101****{doc}*{when[:8]}"]
    for ln in lines:
        ids = ""
        if ln.buyer_item:
            ids += f"*BP*{ln.buyer_item}"
        if ln.supplier_item:
            ids += f"*VP*{ln.supplier_item}"
        st.append(f"PO1*{ln.line}*{_num(ln.qty or 0)}*{ln.unit}*1.00*" + ids)
        if ln.action:
            qty = f"{_num(ln.qty)}*{ln.unit}" if ln.qty is not None else "*"
            date = f"*067*{ln.date}" if ln.date else ""
            st.append(f"ACK*{ln.action}*{qty}{date}")
    return _x12(sender, control, when, version, st, "855")


def x856(sender: str, control: str, shipment: str, when: str, ship: str, arrive: str,
         lines: list[Line], version: str = "005010") -> str:
    st = [f"BSN*00*{shipment}*{when[:8]}*{when[8:12]}*0001", "HL*1**S", f"DTM*011*{ship}",
          f"DTM*017*{arrive}"]
    hl = 1
    for ln in lines:
        hl += 1
        order = hl
        st += [f"HL*{order}*1*O", f"PRF*{ln.po}"]
        hl += 1
        ids = ""
        if ln.buyer_item:
            ids += f"*BP*{ln.buyer_item}"
        if ln.supplier_item:
            ids += f"*VP*{ln.supplier_item}"
        st += [f"HL*{hl}*{order}*I", f"LIN*{ln.line}{ids}", f"SN1**{_num(ln.qty or 0)}*{ln.unit}"]
    return _x12(sender, control, when, version, st, "856")
