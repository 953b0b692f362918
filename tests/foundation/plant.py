"""A tiny hand-made plant as canonical dicts, for foundation tests."""

from __future__ import annotations

import copy
from typing import Any


def _v(version: str, **fields: Any) -> dict[str, Any]:
    return {**fields, "source": "memory", "source_version": version}


def tiny_plant() -> dict[str, list[dict[str, Any]]]:
    """Two sites, a bike with a frame sub-assembly, a part bought in boxes, one PO line."""
    return copy.deepcopy(
        {
            "uoms": [_v("1", code="EA"), _v("1", code="BOX"), _v("1", code="KG"),
                     _v("1", code="G", category="mass")],
            "sites": [_v("1", code="P1", name="Plant 1"), _v("1", code="P2", name="Plant 2")],
            "suppliers": [_v("1", code="S1", name="Acme", lead_time_days=10)],
            "items": [
                _v("1", code="BIKE", description="Bike", make_buy="make", lead_time_days=2),
                _v("1", code="FRAME", description="Frame", make_buy="make", lead_time_days=3),
                _v("1", code="BOLT", description="Bolt", default_supplier="S1", standard_cost=0.1),
                _v("1", code="PAINT", description="Paint", stock_uom="KG", standard_cost=12.5),
            ],
            "uom_conversions": [
                _v("1", item="BOLT", from_uom="BOX", to_uom="EA", factor=50),
                _v("1", item="", from_uom="KG", to_uom="G", factor=1000),
            ],
            "bom_revisions": [
                _v("1", parent="BIKE", revision="A", status="released", effective_from="2026-01-01"),
                _v("1", parent="FRAME", revision="A", status="released"),
            ],
            "bom_lines": [
                _v("1", parent="BIKE", revision="A", position=10, component="FRAME", quantity_per=1),
                _v("1", parent="BIKE", revision="A", position=20, component="BOLT", quantity_per=8),
                _v("1", parent="FRAME", revision="A", position=10, component="PAINT", quantity_per=250,
                   uom="G"),
                _v("1", parent="FRAME", revision="A", position=20, component="BOLT", quantity_per=1,
                   uom="BOX", scrap_pct=2),
            ],
            "inventory": [
                _v("1", item="BOLT", site="P1", location="P1-WH", quantity=3, uom="BOX"),
                _v("1", item="PAINT", site="P1", status="quality_hold", quantity=4.5),
            ],
            "purchase_orders": [_v("1", code="PO1", supplier="S1", site="P1")],
            "purchase_order_lines": [
                _v("1", purchase_order="PO1", line=1, item="BOLT", supplier="S1", site="P1",
                   quantity_ordered=2, uom="BOX", requested_date="2026-12-01",
                   promised_date="2026-12-03"),
            ],
        }
    )
