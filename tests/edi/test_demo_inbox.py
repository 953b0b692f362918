"""The demo plant's suppliers answer by EDI: after a demo sync their acknowledgements and ship
notices are in the inbox beside the cache and applied, each line by the rule of
connectors/planner_connectors/demo/edi_inbox.py (recomputed here from the demo's own records)."""

from __future__ import annotations

import datetime as dt
import zlib
from pathlib import Path
from typing import Any

import pytest
from planner_connectors.demo import DemoConnector

from workbench.cache.db import open_cache
from workbench.cli import main


def _share(po: str, line: int) -> int:
    return zlib.crc32(f"{po}/{line}".encode()) % 100


def test_demo_suppliers_acknowledge_and_ship(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache = tmp_path / "demo.sqlite"
    assert main(["sync", "--demo", "--day", "3", "--cache", str(cache)]) == 0
    assert "supplier messages:" in capsys.readouterr().out
    demo = DemoConnector("small", day=3)
    today = demo.today
    lines = {(r["purchase_order"], r["line"]): r
             for b in demo.pull("purchase_order_lines", None) for r in b.records}
    orders = {r["code"]: r["order_date"] for b in demo.pull("purchase_orders", None) for r in b.records}
    # the messages carry the line's own unit (the demo record's ``uom``); the cache keeps stock
    # units (``orig_*`` the message's). Stock units per line unit, from the demo's own records:
    stock_uom = {r["code"]: r["stock_uom"] for b in demo.pull("items", None) for r in b.records}
    per = {(r["item"], r["from_uom"]): r["factor"]
           for b in demo.pull("uom_conversions", None) for r in b.records if r["item"]}

    def factor(src: dict[str, Any]) -> float:
        return 1.0 if src["uom"] == stock_uom[src["item"]] else per[(src["item"], src["uom"])]
    engine = open_cache(cache)
    with engine.connect() as conn:
        outcomes = {r[0] for r in conn.exec_driver_sql("SELECT outcome FROM edi_messages")}
        acks = conn.exec_driver_sql(
            "SELECT a.purchase_order, a.line, a.status, a.confirmed_quantity, a.orig_quantity, "
            "a.orig_uom, p.promised_date, p.ack_date FROM edi_acknowledgements a "
            "JOIN purchase_order_lines p USING (purchase_order, line)").all()
        shipped = conn.exec_driver_sql(
            "SELECT DISTINCT p.purchase_order, p.line, p.asn_quantity, p.orig_asn_quantity, "
            "p.orig_uom, p.asn_date FROM purchase_order_lines p "
            "JOIN edi_shipments s USING (purchase_order, line)").all()
    assert outcomes == {"applied"}
    due = {k for k, r in lines.items() if r["status"] == "sent" and r["ack_status"] == "none"
           and orders[r["purchase_order"]] <= today - dt.timedelta(days=2)}
    assert {(po, ln) for po, ln, *_ in acks} == due and due
    # e.g. PO-000090/4: 276 BOX of PP-00003 (stock unit EA, 20 EA a box), share 22 -> 80 %:
    # round(276 * 0.8, 3) = 220.8 BOX confirmed = 220.8 * 20 = 4,416 EA in the cache
    assert any(factor(lines[(po, ln)]) != 1 and 20 <= _share(po, ln) < 28 for po, ln, *_ in acks)
    for po, ln, status, confirmed, orig, orig_uom, promised, ack_date in acks:
        src, share = lines[(po, ln)], _share(po, ln)
        assert ack_date == today.isoformat()
        if share < 2:
            assert (status, confirmed, promised) == ("rejected", 0.0, None)
            continue
        assert orig_uom == src["uom"]
        assert confirmed == pytest.approx(orig * factor(src))
        if share < 20:
            moved = src["requested_date"] + dt.timedelta(days=5 + share % 5)
            assert (status, promised) == ("changed", moved.isoformat())
            assert orig == pytest.approx(src["quantity_ordered"])
        elif share < 28:
            assert (status, promised) == ("changed", src["requested_date"].isoformat())
            assert orig == pytest.approx(round(src["quantity_ordered"] * 0.8, 3))
        else:
            assert (status, promised) == ("accepted", src["requested_date"].isoformat())
    ship_due = {k for k, r in lines.items()
                if r["status"] in ("acknowledged", "partially_received") and r["promised_date"]
                and today < r["promised_date"] <= today + dt.timedelta(days=4)
                and not r["asn_quantity"] and r["quantity_ordered"] > r["quantity_received"]}
    assert {(po, ln) for po, ln, *_ in shipped} == ship_due and ship_due
    # e.g. PO-000093/1: 57 EA of RM-00002 (stock unit KG, 17.838 KG each), none received, one
    # line in four (share 76): half, 28.5 EA = 28.5 * 17.838 = 508.383 KG in the cache
    assert any(factor(lines[(po, ln)]) != 1 for po, ln, *_ in shipped)
    for po, ln, qty, orig, orig_uom, when in shipped:
        src = lines[(po, ln)]
        left = src["quantity_ordered"] - src["quantity_received"]
        assert orig_uom == src["uom"]
        assert orig == pytest.approx(round(left / 2, 3) if _share(po, ln) % 4 == 0 else left)
        assert qty == pytest.approx(orig * factor(src))
        assert when == src["promised_date"].isoformat()
    # the same day again: the suppliers send nothing twice
    assert main(["sync", "--demo", "--day", "3", "--cache", str(cache)]) == 0
    assert "supplier messages: 0 files" in capsys.readouterr().out
    engine.dispose()
