"""Seeding step: stock that is spoken for or on its way, so the inventory mapping meets it.

After the plant is seeded (:mod:`tests.support.tryton.seed`), this step

- *reserves* stock the way Tryton does: it assigns the first waiting production (MO-0001), so its
  input moves become ``assigned`` out of the main warehouse's storage — that quantity is still on
  hand but taken;
- sends stock *in transit*: an internal shipment of 3 units of RM-0003 from the main warehouse to
  the East Depot, through the company's transit location, shipped today and expected in 3 days;
- receives 10 units of RM-0002 into the main warehouse as lot ``L-0001`` (stock_lot).

Both are deterministic for a given plant (same products, quantities and dates relative to the
seeding day).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from planner_connectors.tryton.rpc import TrytonRPC

from tests.support.tryton.plant_spec import SeedResult

#: what travels between the warehouses: (product code, quantity, days until it arrives)
IN_TRANSIT = ("RM-0003", 3.0, 3)
#: what is received with a lot number (stock_lot): (product code, lot number, quantity)
LOT = ("RM-0002", "L-0001", 10.0)


def seed_stock_in_flight(rpc: TrytonRPC, out: SeedResult, today: dt.date) -> None:
    """Reserve stock for the first waiting production and ship stock between warehouses."""
    waiting = [
        p["id"]
        for p in rpc.read("production", out.productions, ["state"])
        if p["state"] == "waiting"
    ]
    if waiting:
        rpc.button("production", "assign_try", waiting[:1])
    code, quantity, days = IN_TRANSIT
    product = out.products.get(code)
    if product is None or not out.warehouse2:
        return
    (unit,) = rpc.read("product.product", [product], ["default_uom"])
    move = {
        "product": product,
        "quantity": quantity,
        "unit": unit["default_uom"],
        "from_location": out.storage,
        "to_location": out.storage2,
        "company": out.company,
    }
    (shipment,) = rpc.create(
        "stock.shipment.internal",
        [
            {
                "from_location": out.storage,
                "to_location": out.storage2,
                "company": out.company,
                "planned_start_date": today,
                "planned_date": today + dt.timedelta(days=days),
                "moves": [["create", [move]]],
            }
        ],
    )
    for button in ("wait", "assign_try", "pack", "ship"):
        rpc.button("stock.shipment.internal", button, [shipment])
    out.shipments = [shipment]
    _receive_a_lot(rpc, out, today)


def _receive_a_lot(rpc: TrytonRPC, out: SeedResult, today: dt.date) -> None:
    """10 units of RM-0002 received into the main warehouse as lot L-0001 (stock_lot)."""
    code, number, quantity = LOT
    product = out.products.get(code)
    if product is None:
        return
    (unit,) = rpc.read("product.product", [product], ["default_uom"])
    (company,) = rpc.read("company.company", [out.company], ["currency"])
    supplier = rpc.search("stock.location", [("type", "=", "supplier")], limit=1)
    (lot,) = rpc.create("stock.lot", [{"number": number, "product": product}])
    (move,) = rpc.create(
        "stock.move",
        [
            {
                "product": product,
                "lot": lot,
                "quantity": quantity,
                "unit": unit["default_uom"],
                "from_location": supplier[0],
                "to_location": out.storage,
                "planned_date": today,
                "effective_date": today,
                "company": out.company,
                "unit_price": Decimal("1.00"),
                "currency": company["currency"],
            }
        ],
    )
    rpc.button("stock.move", "do", [move])
