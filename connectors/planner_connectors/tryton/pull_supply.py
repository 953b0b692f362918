"""Supply and demand from Tryton: productions, purchases, purchase requests (stock per warehouse:
:mod:`planner_connectors.tryton.pull_stock`).

Mapping (see docs/tryton.md):

- ``work_orders`` / ``work_order_components``: ``production`` and its input moves
  (``stock.move.production_input``); position = the move's id.
- ``purchase_orders`` / ``purchase_order_lines``: ``purchase.purchase`` / ``purchase.line``; the
  requested date is the line's own delivery date (else the order's), the promised date the
  earliest planned date of its moves still to come (what Tryton now expects), received
  quantities from done moves; line number = the line's id.
- ``requisitions``: ``purchase.request`` (code ``REQ-<id>``) and the lines of purchase
  requisitions not approved yet (``RQL-<id>``; once approved Tryton turns them into requests).

Documents without a number yet (draft purchases and productions) are keyed ``purchase#<id>`` /
``production#<id>``; when Tryton numbers them the old key is sent as deleted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from planner_connectors.tryton.pull_master import SOURCE, Facts, code_or_id
from planner_connectors.tryton.reading import Reader, m2o, ref_id, version_of
from workbench.connect.port import Batch

PRODUCTION_STATUS = {
    "request": "planned",
    "draft": "planned",
    "waiting": "released",
    "assigned": "released",
    "running": "in_progress",
    "done": "completed",
    "cancelled": "cancelled",
}
PURCHASE_STATUS = {
    "draft": "draft",
    "quotation": "pending_approval",
    "confirmed": "approved",
    "processing": "sent",
    "done": "closed",
    "cancelled": "cancelled",
}
SHIPMENT_STATUS = {"partially shipped": "partially_received", "received": "received"}
INPUT_MOVES: list[Any] = [("production_input", "!=", None)]
PURCHASE_LINES: list[Any] = [("type", "=", "line")]


def pull_work_orders(reader: Reader, facts: Facts) -> Iterator[Batch]:
    codes, units, today, sites = facts.codes, facts.units(reader), facts.today, facts.sites(reader)
    models: dict[str, list[Any]] = {"production": []}
    full = reader.begin(models)
    rows = reader.fetch(
        "production",
        [] if full else reader.changed(),
        [
            "number",
            "product",
            "quantity",
            "unit",
            "state",
            "planned_start_date",
            "planned_date",
            "effective_start_date",
            "effective_date",
            "bom.code",
            "bom",
            "warehouse",
        ],
    )
    names = codes.lookup(reader, {r["product"] for r in rows if r.get("product")})
    out, deleted = [], []
    for r in rows:
        if not r.get("product"):
            continue
        code = code_or_id(r.get("number"), "production", r["id"])
        if r.get("number"):
            deleted.append((f"production#{r['id']}",))
        start = (
            r.get("planned_start_date")
            or r.get("effective_start_date")
            or r.get("planned_date")
            or today
        )
        due = r.get("planned_date") or r.get("effective_date") or start
        out.append(
            {
                "source": SOURCE,
                "source_key": f"production,{r['id']}",
                "source_version": version_of(r["_timestamp"]),
                "code": code,
                "item": names[r["product"]],
                "site": sites.get(r["warehouse"] or 0, ""),
                "quantity": r.get("quantity") or 0.0,
                "completed_quantity": (r.get("quantity") or 0.0) if r["state"] == "done" else 0.0,
                "uom": units.symbol(r.get("unit")),
                "start_date": start,
                "due_date": max(due, start),
                "status": PRODUCTION_STATUS.get(r["state"], "planned"),
                "bom_revision": code_or_id(m2o(r, "bom", "code"), "bom", r["bom"])
                if r.get("bom")
                else "",
            }
        )
    yield Batch(
        "work_orders", out, deleted_keys=deleted, watermark=reader.watermark(), complete=full
    )


def pull_work_order_components(reader: Reader, facts: Facts) -> Iterator[Batch]:
    codes, units, today = facts.codes, facts.units(reader), facts.today
    models: dict[str, list[Any]] = {"stock.move": INPUT_MOVES}
    full = reader.begin(models)
    fields = ["production_input", "product", "quantity", "unit", "state", "planned_date"]
    if full:
        moves = reader.fetch("stock.move", INPUT_MOVES, fields)
    else:
        touched = [p["id"] for p in reader.fetch("production", reader.changed(), [])]
        moves = reader.fetch(
            "stock.move",
            [*INPUT_MOVES, ["OR", *reader.changed(), ("production_input", "in", touched)]],
            fields,
        )
    productions = {
        p["id"]: p
        for p in reader.fetch_ids(
            "production", {m["production_input"] for m in moves}, ["number", "planned_start_date"]
        )
    }
    names = codes.lookup(reader, {m["product"] for m in moves})
    out, deleted = [], []
    for m in moves:
        prod = productions[m["production_input"]]
        code = code_or_id(prod.get("number"), "production", prod["id"])
        if prod.get("number"):
            deleted.append((f"production#{prod['id']}", m["id"]))
        if m["state"] == "cancelled":
            deleted.append((code, m["id"]))
            continue
        out.append(
            {
                "source": SOURCE,
                "source_key": f"stock.move,{m['id']}",
                "source_version": version_of(m["_timestamp"]),
                "work_order": code,
                "position": m["id"],
                "component": names[m["product"]],
                "required_quantity": m["quantity"],
                "issued_quantity": m["quantity"] if m["state"] == "done" else 0.0,
                "uom": units.symbol(m["unit"]),
                "required_date": m.get("planned_date") or prod.get("planned_start_date") or today,
            }
        )
    yield Batch(
        "work_order_components",
        out,
        deleted_keys=deleted,
        watermark=reader.watermark(),
        complete=full,
    )


def _purchase_status(p: dict[str, Any]) -> str:
    status = PURCHASE_STATUS.get(p["state"], "draft")
    if p["state"] == "processing":
        status = SHIPMENT_STATUS.get(p.get("shipment_state") or "", status)
    return status


def pull_purchase_orders(reader: Reader, facts: Facts) -> Iterator[Batch]:
    sites = facts.sites(reader)
    models: dict[str, list[Any]] = {"purchase.purchase": []}
    full = reader.begin(models)
    rows = reader.fetch(
        "purchase.purchase",
        [] if full else reader.changed(),
        ["number", "state", "shipment_state", "party.code", "warehouse", "purchase_date"],
    )
    out, deleted = [], []
    for p in rows:
        if p.get("number"):
            deleted.append((f"purchase#{p['id']}",))
        out.append(
            {
                "source": SOURCE,
                "source_key": f"purchase.purchase,{p['id']}",
                "source_version": version_of(p["_timestamp"]),
                "code": code_or_id(p.get("number"), "purchase", p["id"]),
                "supplier": m2o(p, "party", "code") or "",
                "site": sites.get(p.get("warehouse") or 0, ""),
                "status": _purchase_status(p),
                "order_date": p.get("purchase_date"),
            }
        )
    yield Batch(
        "purchase_orders", out, deleted_keys=deleted, watermark=reader.watermark(), complete=full
    )


def pull_purchase_order_lines(reader: Reader, facts: Facts) -> Iterator[Batch]:
    codes, units, today, sites = facts.codes, facts.units(reader), facts.today, facts.sites(reader)
    models: dict[str, list[Any]] = {"purchase.line": PURCHASE_LINES}
    full = reader.begin(models)
    fields = [
        "purchase",
        "product",
        "quantity",
        "unit",
        "unit_price",
        "delivery_date",
        "delivery_date_store",
        "requests",
    ]
    move_fields = ["origin", "quantity", "unit", "state", "planned_date", "effective_date"]
    if full:
        lines = reader.fetch("purchase.line", PURCHASE_LINES, fields)
        moves = reader.fetch("stock.move", [("origin", "like", "purchase.line,%")], move_fields)
    else:
        touched = [p["id"] for p in reader.fetch("purchase.purchase", reader.changed(), [])]
        moved = {
            ref_id(m["origin"], "purchase.line")
            for m in reader.fetch(
                "stock.move", [*reader.changed(), ("origin", "like", "purchase.line,%")], ["origin"]
            )
        }
        lines = reader.fetch(
            "purchase.line",
            [
                *PURCHASE_LINES,
                [
                    "OR",
                    *reader.changed(),
                    ("purchase", "in", touched),
                    ("id", "in", sorted(i for i in moved if i)),
                ],
            ],
            fields,
        )
        origins = [f"purchase.line,{line['id']}" for line in lines]
        moves = (
            reader.fetch("stock.move", [("origin", "in", origins)], move_fields) if origins else []
        )
    by_line: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for m in moves:
        lid = ref_id(m.get("origin"), "purchase.line")
        if lid:
            by_line[lid].append(m)
    heads = {
        p["id"]: p
        for p in reader.fetch_ids(
            "purchase.purchase",
            {line["purchase"] for line in lines},
            [
                "number",
                "state",
                "shipment_state",
                "party.code",
                "warehouse",
                "delivery_date",
                "purchase_date",
            ],
        )
    }
    names = codes.lookup(reader, {line["product"] for line in lines if line.get("product")})
    out, deleted = [], []
    for line in lines:
        if not line.get("product"):
            continue
        head = heads[line["purchase"]]
        code = code_or_id(head.get("number"), "purchase", head["id"])
        if head.get("number"):
            deleted.append((f"purchase#{head['id']}", line["id"]))
        ordered = line.get("quantity") or 0.0
        lmoves = by_line.get(line["id"], [])
        done = [m for m in lmoves if m["state"] == "done"]
        received = sum(units.convert(m["quantity"], m["unit"], line["unit"]) for m in done)
        coming = [
            m["planned_date"]
            for m in lmoves
            if m["state"] not in ("done", "cancelled") and m.get("planned_date")
        ]
        requested = (
            line.get("delivery_date_store")
            or head.get("delivery_date")
            or line.get("delivery_date")
            or head.get("purchase_date")
            or today
        )
        status = _purchase_status(head)
        if head["state"] == "processing":
            status = (
                "received"
                if received >= ordered > 0
                else "partially_received"
                if received
                else "sent"
            )
        out.append(
            {
                "source": SOURCE,
                "source_key": f"purchase.line,{line['id']}",
                "source_version": version_of(
                    line["_timestamp"], *(m["_timestamp"] for m in lmoves)
                ),
                "purchase_order": code,
                "line": line["id"],
                "item": names[line["product"]],
                "supplier": m2o(head, "party", "code") or "",
                "site": sites.get(head.get("warehouse") or 0, ""),
                "quantity_ordered": ordered,
                "quantity_received": received,
                "uom": units.symbol(line.get("unit")),
                "unit_price": float(line["unit_price"]) if line.get("unit_price") else 0.0,
                "requested_date": requested,
                "promised_date": min(coming) if coming else line.get("delivery_date"),
                "received_date": max(
                    (m["effective_date"] for m in done if m.get("effective_date")), default=None
                )
                if received >= ordered > 0
                else None,
                "status": status,
                "requisition": f"REQ-{line['requests'][0]}" if line.get("requests") else "",
            }
        )
    yield Batch(
        "purchase_order_lines",
        out,
        deleted_keys=deleted,
        watermark=reader.watermark(),
        complete=full,
    )


def _request_status(r: dict[str, Any]) -> str:
    state = r["state"]
    if state in ("purchased", "done"):
        return "ordered"
    if state == "cancelled":
        return "cancelled"
    if (r.get("origin") or "").startswith("purchase.requisition.line,"):
        return "approved"  # approved by the requisition workflow: ready to be ordered
    return "open"


def _request_origin(origin: str | None) -> str:
    if not origin:
        return "manual"
    if origin == "stock.order_point,-1":
        return "mrp"
    if origin.startswith("stock.order_point,"):
        return "reorder_point"
    if origin.startswith("purchase.requisition.line,"):
        return "requisition"
    return "manual"


def pull_requisitions(reader: Reader, facts: Facts) -> Iterator[Batch]:
    codes, units, today, sites = facts.codes, facts.units(reader), facts.today, facts.sites(reader)
    models: dict[str, list[Any]] = {"purchase.request": [], "purchase.requisition.line": []}
    full = reader.begin(models)
    requests = reader.fetch(
        "purchase.request",
        [] if full else reader.changed(),
        [
            "product",
            "party.code",
            "quantity",
            "unit",
            "state",
            "origin",
            "supply_date",
            "purchase_date",
            "warehouse",
            "create_date",
        ],
    )
    touched = (
        []
        if full
        else [r["id"] for r in reader.fetch("purchase.requisition", reader.changed(), [])]
    )
    lines = reader.fetch(
        "purchase.requisition.line",
        [] if full else ["OR", *reader.changed(), ("requisition", "in", touched)],
        ["requisition", "product", "quantity", "unit", "supplier.code"],
    )
    heads = {
        h["id"]: h
        for h in reader.fetch_ids(
            "purchase.requisition",
            {line["requisition"] for line in lines},
            ["state", "supply_date", "warehouse", "create_date"],
        )
    }
    names = codes.lookup(reader, {r["product"] for r in [*requests, *lines] if r.get("product")})
    out: list[dict[str, Any]] = []
    deleted: list[tuple[Any, ...]] = []
    for r in requests:
        if not r.get("product") or not (r.get("quantity") or 0) > 0:
            continue
        out.append(
            {
                "source": SOURCE,
                "source_key": f"purchase.request,{r['id']}",
                "source_version": version_of(r["_timestamp"]),
                "code": f"REQ-{r['id']}",
                "item": names[r["product"]],
                "site": sites.get(r.get("warehouse") or 0, ""),
                "quantity": r["quantity"],
                "uom": units.symbol(r.get("unit")),
                "need_date": r.get("supply_date") or r.get("purchase_date") or today,
                "suggested_supplier": m2o(r, "party", "code") or "",
                "origin": _request_origin(r.get("origin")),
                "status": _request_status(r),
                "created_date": r["create_date"].date() if r.get("create_date") else None,
            }
        )
    for line in lines:
        head = heads[line["requisition"]]
        key = f"RQL-{line['id']}"
        if head["state"] in ("approved", "processing", "done") or not line.get("product"):
            deleted.append((key,))  # now represented by its purchase requests
            continue
        out.append(
            {
                "source": SOURCE,
                "source_key": f"purchase.requisition.line,{line['id']}",
                "source_version": version_of(line["_timestamp"], head["_timestamp"]),
                "code": key,
                "item": names[line["product"]],
                "site": sites.get(head.get("warehouse") or 0, ""),
                "quantity": line["quantity"],
                "uom": units.symbol(line.get("unit")),
                "need_date": head.get("supply_date") or today,
                "suggested_supplier": m2o(line, "supplier", "code") or "",
                "origin": "requisition",
                "status": {"rejected": "rejected", "cancelled": "cancelled"}.get(
                    head["state"], "open"
                ),
                "created_date": head["create_date"].date() if head.get("create_date") else None,
            }
        )
    yield Batch(
        "requisitions", out, deleted_keys=deleted, watermark=reader.watermark(), complete=full
    )
