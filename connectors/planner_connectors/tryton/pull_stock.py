"""Stock per warehouse from Tryton: on hand, reserved, in transit, and per lot.

Mapping (see docs/tryton.md, "Stock"):

- ``inventory``: per warehouse and product, *allocated* = what ``assigned`` moves will take out
  of the warehouse (reserved: production inputs, deliveries, transfers; whatever their planned
  date), at most what is on hand, one row per order it is reserved for: ``allocated_to`` = the
  production (work order code) of an assigned production input move, ``""`` for deliveries and
  transfers (the connector reads no sales, so the plan has no order for them and such stock
  stays out of on hand); *available* = on hand (Tryton's ``quantity``, done moves) less
  allocated; *in_transit* = incoming moves of internal shipments Tryton marked shipped (left the
  sending warehouse, not received), with their planned date as expected date. Quantities are
  computed by Tryton, so the change window is on ``stock.move``: the products whose moves
  changed are re-read. A product whose stock fell to zero is sent as a deleted key. Negative
  stock is sent as zero. With Tryton's stock_lot module, stock and reservations are split per
  lot (``lot`` = the lot number; ``""`` for stock without a lot); stock in transit is not.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from planner_connectors.tryton.pull_master import SOURCE, Facts, code_or_id
from planner_connectors.tryton.reading import Reader, m2o, version_of
from workbench.connect.port import Batch


def _stock_units(reader: Reader, facts: Facts, products: set[int]) -> dict[int, int]:
    """Each product's stock unit (learnt from the items pull, else read)."""
    unknown = products - facts.stock_uom.keys()
    if unknown:
        facts.stock_uom.update(
            (r["id"], m2o(r, "template", "default_uom"))
            for r in reader.fetch_ids(
                "product.product", unknown, ["template.default_uom"], track=False
            )
        )
    return facts.stock_uom


def production_code(move: dict[str, Any]) -> str:
    """The work order code of the production a move is an input of (``""`` for none), as
    :func:`planner_connectors.tryton.pull_supply.pull_work_orders` codes productions."""
    if not move.get("production_input"):
        return ""
    return code_or_id(m2o(move, "production_input", "number"), "production",
                      move["production_input"])


def _reserved(
    reader: Reader, facts: Facts, wh: int, products: list[int] | None, lots: bool
) -> dict[tuple[int, str], dict[str, float]]:
    """Per (product, lot number or ""), what assigned moves will take out of warehouse ``wh``
    (in the product's stock unit) per order it is reserved for (:func:`production_code`):
    stock still on hand but spoken for (production inputs, deliveries, outgoing transfers)."""
    domain: list[Any] = [
        ("state", "=", "assigned"),
        ("from_location", "child_of", [wh], "parent"),
        ("to_location", "not child_of", [wh], "parent"),
    ]
    if products is not None:
        domain.append(("product", "in", products))
    fields = ["product", "quantity", "unit", *TARGET_FIELDS, *(["lot.number"] if lots else [])]
    moves = reader.fetch("stock.move", domain, fields, track=False)
    units = facts.units(reader)
    stock_uom = _stock_units(reader, facts, {m["product"] for m in moves})
    out: dict[tuple[int, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for m in moves:
        lot = (m2o(m, "lot", "number") or "") if lots else ""
        out[m["product"], lot][production_code(m)] += units.convert(
            m["quantity"], m["unit"], stock_uom.get(m["product"]) or m["unit"]
        )
    return out


def _shares(reserved: dict[str, float], on_hand: float) -> dict[str, float]:
    """What each order's reservation holds of ``on_hand`` (Tryton assigns moves from stock, so
    normally all of it): orders by code, the reservations without an order last."""
    out: dict[str, float] = {}
    left = max(on_hand, 0.0)
    for target in sorted(reserved, key=lambda t: (t == "", t)):
        take = min(reserved[target], left)
        if take > 0:
            out[target] = take
            left -= take
    return out


#: the fields of a move naming the order it is reserved for
TARGET_FIELDS = ("production_input", "production_input.number")


def _lots_active(reader: Reader, facts: Facts) -> bool:
    """Whether Tryton's stock_lot module is activated (learnt once per connector)."""
    if facts.lots is None:
        rows = reader.rpc.search_read(
            "ir.module", [("name", "=", "stock_lot")], ["state"], context=reader.context
        )
        facts.lots = bool(rows) and rows[0]["state"] == "activated"
    return facts.lots


def _on_hand_by_lot(
    reader: Reader, base: dict[str, Any], products: list[int] | None
) -> dict[int, dict[str, float]]:
    """product -> {lot number: on hand} in the warehouse of ``base``; with ``products`` every
    lot of them, also those now at zero (their rows must go)."""
    domain: list[Any] = [("quantity", "!=", 0)] if products is None else [
        ("product", "in", products)
    ]
    out: dict[int, dict[str, float]] = defaultdict(dict)
    for r in reader.fetch(
        "stock.lot", domain, ["number", "product", "quantity"], context=base, track=False
    ):
        out[r["product"]][r.get("number") or f"lot#{r['id']}"] = r["quantity"] or 0.0
    return out


def _in_transit(reader: Reader, facts: Facts) -> dict[tuple[int, int], tuple[float, Any]]:
    """(warehouse, product) -> (quantity in the stock unit, earliest expected date) of what
    internal shipments Tryton marked *shipped* are bringing: it left the sending warehouse
    (into the company's transit location) and has not been received yet."""
    shipments = reader.fetch(
        "stock.shipment.internal",
        [("state", "=", "shipped")],
        ["incoming_moves", "to_warehouse", "planned_date"],
        track=False,
    )
    goes_to = {m: s for s in shipments for m in s["incoming_moves"]}
    moves = reader.fetch_ids(
        "stock.move", goes_to, ["product", "quantity", "unit", "state", "planned_date"],
        track=False,
    )
    units = facts.units(reader)
    stock_uom = _stock_units(reader, facts, {m["product"] for m in moves})
    out: dict[tuple[int, int], tuple[float, Any]] = {}
    for m in moves:
        shipment = goes_to[m["id"]]
        wh = shipment.get("to_warehouse")
        if m["state"] in ("done", "cancelled") or not wh:
            continue
        qty = units.convert(m["quantity"], m["unit"], stock_uom.get(m["product"]) or m["unit"])
        when = m.get("planned_date") or shipment.get("planned_date")
        before_qty, before_when = out.get((wh, m["product"]), (0.0, None))
        dates = [d for d in (before_when, when) if d]
        out[wh, m["product"]] = (before_qty + qty, min(dates) if dates else None)
    return out


def pull_inventory(reader: Reader, facts: Facts) -> Iterator[Batch]:
    """Stock per warehouse and product: *available* (on hand less what is reserved),
    *allocated* (reserved by assigned moves leaving the warehouse) and *in_transit* (shipped
    to it by an internal shipment, with the expected date)."""
    codes, today, sites = facts.codes, facts.today, facts.sites(reader)
    latest = reader.rpc.search_read(
        "stock.move",
        [],
        ["_timestamp"],
        order=[("last_modified_at", "DESC"), ("id", "DESC")],
        limit=1,
        context=reader.context,
    )
    full = not reader.incremental
    changed: list[int] = []
    #: per changed product, the orders its changed moves were reserved for: their rows may
    #: have to go (a reservation consumed or released)
    targets: dict[int, set[str]] = defaultdict(lambda: {""})
    if not full:
        moves = reader.fetch("stock.move", reader.changed(), ["product", *TARGET_FIELDS])
        changed = sorted({m["product"] for m in moves})
        for m in moves:
            targets[m["product"]].add(production_code(m))
    for row in latest:
        reader.mark.see(row["_timestamp"])
    version = version_of(f"{reader.mark.ts:.6f}") if reader.mark.ts else None
    out: list[dict[str, Any]] = []
    deleted: list[tuple[Any, ...]] = []
    transit = _in_transit(reader, facts) if full or changed else {}
    lots = _lots_active(reader, facts) if full or changed else False
    for wh, site in sites.items():
        if not full and not changed:
            break
        base = {"locations": [wh], "with_childs": True, "stock_date_end": today}
        domain = [("quantity", "!=", 0)] if full else [("id", "in", changed)]
        on_hand = {
            r["id"]: r["quantity"]
            for r in reader.fetch(
                "product.product", domain, ["quantity"], context=base, track=False
            )
        }
        by_lot = _on_hand_by_lot(reader, base, None if full else changed) if lots else {}
        reserved = _reserved(reader, facts, wh, None if full else changed, lots)
        coming = {p: v for (w, p), v in transit.items() if w == wh}
        products = set(on_hand) | {p for p, _ in reserved} | set(coming) | set(changed)
        names = codes.lookup(reader, products)
        for pid in sorted(products):
            total = on_hand.get(pid, 0.0)
            lot_qty = by_lot.get(pid, {})
            # stock without a lot, then each lot's own
            parts = {"": total - sum(lot_qty.values()), **lot_qty}
            for lot, qty in parts.items():
                shares = _shares(reserved.get((pid, lot), {}), qty)
                allocated = sum(shares.values())
                in_transit, expected = coming.get(pid, (0.0, None)) if not lot else (0.0, None)
                gone = [("allocated", 0.0, None, t) for t in targets[pid] if t not in shares]
                for status, value, when, target in (
                    ("available", max(0.0, qty - allocated), None, ""),
                    *(("allocated", v, None, t) for t, v in shares.items()),
                    *gone,
                    ("in_transit", in_transit, expected, ""),
                ):
                    key = (names[pid], site, "", lot, status, target)
                    if value <= 0 and (status != "available" or qty <= 0):
                        if not full:
                            deleted.append(key)
                        continue
                    out.append(
                        {
                            "source": SOURCE,
                            "source_key": f"product.product,{pid}@stock.location,{wh}",
                            "source_version": version,
                            "item": names[pid],
                            "site": site,
                            "location": "",
                            "lot": lot,
                            "status": status,
                            "quantity": value,
                            "as_of": today,
                            "expected_date": when,
                            "allocated_to": target,
                        }
                    )
    yield Batch("inventory", out, deleted_keys=deleted, watermark=reader.watermark(), complete=full)
