"""A small cache for the EDI tests: two suppliers, two items (EA and KG), three PO lines."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from planner_connectors.edi import EdiConnector
from sqlalchemy import Engine

from tests.fixtures_connector import MemoryConnector
from workbench.cache.db import open_cache
from workbench.services.sync import SyncResult, run_sync

SENDER_A = "5400000000001"  # supplier SUP-A's GLN: mapped by the partners setting
PARTNERS = f"{SENDER_A}=SUP-A"


def plant() -> dict[str, list[dict[str, Any]]]:
    return {
        "uoms": [{"code": c} for c in ("EA", "BOX", "KG", "G")],
        "sites": [{"code": "S1"}],
        "suppliers": [{"code": "SUP-A"}, {"code": "SUP-B"}],
        "items": [{"code": "BOLT", "stock_uom": "EA"}, {"code": "RESIN", "stock_uom": "KG"}],
        "uom_conversions": [
            {"item": "BOLT", "from_uom": "BOX", "to_uom": "EA", "factor": 12},
            {"item": "", "from_uom": "KG", "to_uom": "G", "factor": 1000},
        ],
        "item_xrefs": [
            {"item": "BOLT", "system": "SUP-A", "external_code": "A-100"},
            {"item": "RESIN", "system": "SUP-A", "external_code": "A-200"},
        ],
        "demands": [{"code": "SO-1", "item": "BOLT", "site": "S1", "quantity": 90,
                     "due_date": dt.date(2026, 12, 14)}],
        "purchase_orders": [
            {"code": "PO-1", "supplier": "SUP-A", "site": "S1", "order_date": dt.date(2026, 11, 20)},
            {"code": "PO-2", "supplier": "SUP-B", "site": "S1", "order_date": dt.date(2026, 11, 25)},
        ],
        "purchase_order_lines": [
            {"purchase_order": "PO-1", "line": 1, "item": "BOLT", "supplier": "SUP-A", "site": "S1",
             "quantity_ordered": 120, "requested_date": dt.date(2026, 12, 10)},
            {"purchase_order": "PO-1", "line": 2, "item": "RESIN", "supplier": "SUP-A",
             "site": "S1", "quantity_ordered": 50, "requested_date": dt.date(2026, 12, 12)},
            {"purchase_order": "PO-2", "line": 1, "item": "BOLT", "supplier": "SUP-B", "site": "S1",
             "quantity_ordered": 10, "uom": "BOX", "requested_date": dt.date(2026, 12, 20)},
        ],
    }


@pytest.fixture
def cache(tmp_path: Path) -> Engine:
    engine = open_cache(tmp_path / "cache.sqlite")
    data = plant()
    for row in (r for rows in data.values() for r in rows):
        row.setdefault("source", "erp")
    result = run_sync(engine, MemoryConnector(data, batch_size=100),
                      now=dt.datetime(2026, 11, 26, 8, 0))
    assert result.ok, result.error
    return engine


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


Drop = Callable[[str, str], Path]


@pytest.fixture
def drop(inbox: Path) -> Drop:
    """Put a message file into the inbox (each later file a newer modification time)."""
    count = [0]

    def put(name: str, text: str) -> Path:
        count[0] += 1
        path = inbox / name
        path.write_text(text, encoding="utf-8")
        ns = 1_700_000_000_000_000_000 + count[0] * 1_000_000_000
        import os

        os.utime(path, ns=(ns, ns))
        return path

    return put


@pytest.fixture
def connector(inbox: Path) -> EdiConnector:
    return EdiConnector(inbox, partners=PARTNERS)


def pol(engine: Engine, po: str, line: int) -> dict[str, Any]:
    with engine.connect() as conn:
        row = conn.exec_driver_sql(
            "SELECT * FROM purchase_order_lines WHERE purchase_order = ? AND line = ?",
            (po, line)).mappings().one()
    return dict(row)


def history(engine: Engine, po: str, line: int) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.exec_driver_sql(
            "SELECT changed_at, promised_date, quantity_ordered, origin, source, source_key "
            "FROM promise_changes WHERE purchase_order = ? AND line = ? AND origin = 'edi' "
            "ORDER BY changed_at", (po, line))]


def outcomes(result: SyncResult) -> dict[str, int]:
    c = result.counts["edi_messages"]
    return {k: c[k] for k in ("applied", "duplicate", "superseded", "rejected")}
