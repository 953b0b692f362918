"""Seed -> sync -> the cache holds exactly what Tryton holds (live server, read only).

Expected figures come from two independent places: the seeded plant's shape (PlantSize: 16 raw
materials, 4 sub-assemblies, 3 finished goods, 4 inputs per BOM, 2 extra revisions) and a second
Tryton session reading the raw records, never the connector's own mapping.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.support.tryton.devserver import TrytonServer
from workbench.cache.frames import read_entity_frame
from workbench.domain.validation import validate_batch
from workbench.services.sync import run_sync

pytestmark = pytest.mark.tryton


@pytest.fixture(scope="module")
def synced(tryton_shared: TrytonServer, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from planner_connectors.tryton import TrytonConnector

    from tests.support.tryton.devserver import ADMIN_PASSWORD, DATABASE
    from workbench.cache.db import open_cache

    engine = open_cache(tmp_path_factory.mktemp("cache") / "cache.sqlite")
    connector = TrytonConnector(tryton_shared.url, DATABASE, "admin", ADMIN_PASSWORD)
    result = run_sync(engine, connector)
    connector.close()
    yield engine, result
    engine.dispose()


def rows(engine, entity: str) -> dict[Any, dict[str, Any]]:  # type: ignore[no-untyped-def]
    frame = read_entity_frame(engine, entity, parse_dates=False)
    from workbench.domain.models import ENTITY_MODELS

    keys = ENTITY_MODELS[entity].key_fields
    out = {}
    for rec in frame.to_dict("records"):
        out[tuple(rec[k] for k in keys) if len(keys) > 1 else rec[keys[0]]] = rec
    return out


def test_every_pulled_batch_validates(tryton_shared: TrytonServer, make_connector) -> None:  # type: ignore[no-untyped-def]
    connector = make_connector(tryton_shared)
    for entity in connector.entities():
        for batch in connector.pull(entity, None):
            good, bad = validate_batch(entity, batch.records)
            assert bad == [], entity
            assert len(good) == len(batch.records)
            assert batch.complete  # a pull without watermark is the full set


def test_round_trip_counts(synced, tryton_shared: TrytonServer, admin_rpc) -> None:  # type: ignore[no-untyped-def]
    engine, result = synced
    assert result.ok, result.error
    assert result.rejected == []
    rpc = admin_rpc(tryton_shared)
    every = {"active_test": False}

    def count(model: str, domain: list[Any] | None = None) -> int:
        return int(rpc.model(model, "search_count", domain or [], context=every))

    links = rpc.search_read("product.product-production.bom", [], ["bom"], context=every)
    inputs_per_bom: dict[int, int] = {}
    for i in rpc.search_read("production.bom.input", [], ["bom"], context=every):
        inputs_per_bom[i["bom"]] = inputs_per_bom.get(i["bom"], 0) + 1
    expected = {
        "items": 16 + 4 + 3,
        "suppliers": 4,  # the company's and the employee's parties are not suppliers
        "sites": 2,
        "bom_revisions": 4 + 3 + 2,
        "bom_lines": 9 * 4,
        "work_orders": 3,
        "work_order_components": 3 * 4,
        "purchase_orders": 4,
        "purchase_order_lines": count("purchase.line"),
        "requisitions": count("purchase.request") + 2,  # + the lines of the waiting requisition
    }
    # the seed's shape and Tryton's own counts agree ...
    assert expected["items"] == count("product.product")
    assert expected["bom_revisions"] == len(links)
    assert expected["bom_lines"] == sum(inputs_per_bom[link["bom"]] for link in links)
    assert expected["work_orders"] == count("production")
    assert expected["work_order_components"] == count(
        "stock.move", [("production_input", "!=", None)]
    )
    assert expected["purchase_orders"] == count("purchase.purchase")
    # ... and the cache holds exactly that
    for entity, n in expected.items():
        assert len(rows(engine, entity)) == n, entity
        assert result.counts[entity]["received"] == n, entity


def test_items_field_by_field(synced, tryton_shared: TrytonServer, admin_rpc) -> None:  # type: ignore[no-untyped-def]
    engine, _ = synced
    rpc = admin_rpc(tryton_shared)
    items = rows(engine, "items")
    for code in ("RM-0001", "RM-0006", "SA-001", "FG-01"):
        (p,) = rpc.search_read(
            "product.product", [("code", "=", code)], ["template", "cost_price", "_timestamp"]
        )
        (t,) = rpc.read(
            "product.template",
            [p["template"]],
            ["name", "default_uom.symbol", "producible", "_timestamp"],
        )
        sups = rpc.search_read(
            "purchase.product_supplier",
            [("template", "=", t["id"])],
            ["party.code", "lead_time", "sequence", "_timestamp"],
            order=[("sequence", "ASC")],
        )
        row = items[code]
        assert row["source_key"] == f"product.product,{p['id']}"
        assert row["description"] == t["name"]
        assert row["stock_uom"] == t["default_uom."]["symbol"]
        assert row["make_buy"] == ("make" if t["producible"] else "buy")
        assert row["standard_cost"] == pytest.approx(float(p["cost_price"]))
        assert row["default_supplier"] == (sups[0]["party."]["code"] if sups else "")
        assert row["lead_time_days"] == (sups[0]["lead_time"].days if sups else 0)
        assert float(row["source_version"]) == max(
            float(p["_timestamp"]),
            float(t["_timestamp"]),
            *(float(s["_timestamp"]) for s in sups[:1]),
        )
    assert items["RM-0006"]["stock_uom"] == "kg"  # every 8th raw material (6, 14) is resin in kg
    assert items["FG-01"]["make_buy"] == "make" and items["FG-01"]["default_supplier"] == ""


def test_bom_revisions_and_lines(synced, tryton_shared: TrytonServer, admin_rpc) -> None:  # type: ignore[no-untyped-def]
    engine, _ = synced
    revisions = rows(engine, "bom_revisions")
    assert revisions[("FG-01", "FG-01/B")]["status"] == "released"
    assert revisions[("FG-01", "FG-01/A")]["status"] == "obsolete"  # inactive in Tryton
    assert revisions[("SA-001", "SA-001/A")]["status"] == "released"  # sequence 10
    assert revisions[("SA-001", "SA-001/B")]["status"] == "draft"  # active, sequence 20
    assert revisions[("SA-002", "SA-002/A")]["status"] == "released"
    rpc = admin_rpc(tryton_shared)
    lines = rows(engine, "bom_lines")
    inputs = rpc.search_read(
        "production.bom.input",
        [],
        ["bom.code", "product.code", "quantity", "unit.symbol", "product.default_uom"],
        context={"active_test": False},
    )
    by_id = {i["id"]: i for i in inputs}
    in_grams = [i for i in inputs if i["unit."]["symbol"] == "g"]
    assert in_grams, "the seed puts some resin lines in grams"
    for i in [inputs[0], inputs[-1], in_grams[0]]:
        code = i["bom."]["code"]
        parent = code.split("/")[0]
        row = lines[(parent, code, i["id"])]
        assert row["component"] == i["product."]["code"]
        assert row["orig_quantity_per"] == i["quantity"]
        assert row["orig_uom"] == i["unit."]["symbol"]
        factor = 0.001 if i["unit."]["symbol"] == "g" else 1.0  # to the kg / unit stock unit
        assert row["quantity_per"] == pytest.approx(i["quantity"] * factor)
        assert row["source_key"] == f"production.bom.input,{i['id']}"
    assert all(pos in by_id for (_p, _r, pos) in lines)


def test_inventory_per_warehouse(synced, tryton_shared: TrytonServer, admin_rpc, seeded) -> None:  # type: ignore[no-untyped-def]
    engine, _ = synced
    rpc = admin_rpc(tryton_shared)
    inventory = rows(engine, "inventory")
    # the seed reserved MO-0001's inputs: assigned moves out of the main warehouse's storage
    (mo,) = rpc.search_read("production", [("number", "=", "MO-0001")], ["state", "inputs"])
    assert mo["state"] == "assigned"
    inputs = rpc.read(
        "stock.move", mo["inputs"], ["product.code", "quantity", "unit.symbol", "state"]
    )
    assert {m["state"] for m in inputs} == {"assigned"}
    reserved = {
        m["product."]["code"]: m["quantity"] * (0.001 if m["unit."]["symbol"] == "g" else 1.0)
        for m in inputs
    }
    assert len(reserved) == 4
    for wh, site in ((seeded.warehouse, "WH"), (seeded.warehouse2, "WH2")):
        ctx = {"locations": [wh], "with_childs": True, "stock_date_end": dt.date.today()}
        stock = rpc.search_read(
            "product.product", [("quantity", "!=", 0)], ["code", "quantity"], context=ctx
        )
        assert stock, site
        on_hand = {p["code"]: p["quantity"] for p in stock}
        taken = reserved if site == "WH" else {}

        def cached(status: str, to: str = "") -> dict[str, float]:
            """Per item, over its lots (reserved for ``to``)."""
            out: dict[str, float] = {}
            for (item, s, _l, _lot, st, target), r in inventory.items():
                if s == site and st == status and target == to:  # noqa: B023 - read at once
                    out[item] = out.get(item, 0.0) + r["quantity"]
            return out

        # reserved for the production they are inputs of: the work order MO-0001
        assert cached("allocated", "MO-0001") == taken
        assert cached("allocated") == {}
        # on hand less reserved; an item wholly reserved shows 0 available
        assert cached("available") == pytest.approx(
            {code: max(0.0, qty - taken.get(code, 0.0)) for code, qty in on_hand.items() if qty > 0}
        )
        assert all(on_hand[code] >= qty for code, qty in taken.items())  # assigned from stock
    # stock_lot: RM-0002's lot L-0001 (10 received) apart from its stock without a lot
    ctx = {"locations": [seeded.warehouse], "with_childs": True, "stock_date_end": dt.date.today()}
    (rm2,) = rpc.search_read("product.product", [("code", "=", "RM-0002")], ["quantity"], context=ctx)
    (lot,) = rpc.search_read("stock.lot", [], ["number", "product.code", "quantity"], context=ctx)
    assert (lot["number"], lot["product."]["code"], lot["quantity"]) == ("L-0001", "RM-0002", 10)
    lots = {
        k[3]: r["quantity"]
        for k, r in inventory.items()
        if k[:2] == ("RM-0002", "WH") and k[4] == "available"
    }
    assert lots == {"": rm2["quantity"] - 10, "L-0001": 10}
    assert {k[3] for k in inventory} == {"", "L-0001"}
    # the internal shipment of 3 RM-0003 left WH (no longer on hand there) and is expected in WH2
    transit = {k: r for k, r in inventory.items() if k[4] == "in_transit"}
    assert list(transit) == [("RM-0003", "WH2", "", "", "in_transit", "")]
    (row,) = transit.values()
    assert row["quantity"] == 3.0
    assert row["expected_date"] == (dt.date.today() + dt.timedelta(days=3)).isoformat()
    (shipment,) = rpc.read("stock.shipment.internal", seeded.shipments, ["state"])
    assert shipment["state"] == "shipped"


def test_purchases_work_orders_requisitions(
    synced, tryton_shared: TrytonServer, admin_rpc, seeded
) -> None:  # type: ignore[no-untyped-def]
    engine, _ = synced
    rpc = admin_rpc(tryton_shared)
    orders = rows(engine, "purchase_orders")
    # three confirmed purchases got numbers PO-0001..3; the last one is still a draft
    assert sorted(orders) == ["PO-0001", "PO-0002", "PO-0003", f"purchase#{seeded.purchases[-1]}"]
    assert orders[f"purchase#{seeded.purchases[-1]}"]["status"] == "draft"
    assert orders["PO-0001"]["status"] == "partially_received"  # one of its two lines arrived
    lines = [r for k, r in rows(engine, "purchase_order_lines").items() if k[0] == "PO-0001"]
    received = [r for r in lines if r["status"] == "received"]
    waiting = [r for r in lines if r["status"] == "sent"]
    assert len(received) == 1 and len(waiting) == 1
    assert received[0]["quantity_received"] == received[0]["quantity_ordered"]
    assert received[0]["received_date"] == dt.date.today().isoformat()
    (tline,) = rpc.read("purchase.line", [waiting[0]["line"]], ["delivery_date_store", "quantity"])
    assert waiting[0]["requested_date"] == tline["delivery_date_store"].isoformat()
    assert waiting[0]["promised_date"] == tline["delivery_date_store"].isoformat()
    assert waiting[0]["quantity_received"] == 0

    work_orders = rows(engine, "work_orders")
    assert work_orders[f"production#{seeded.productions[0]}"]["status"] == "planned"  # draft
    assert work_orders["MO-0001"]["status"] == "released"  # waiting
    assert work_orders["MO-0001"]["bom_revision"].endswith("/B")
    components = [r for k, r in rows(engine, "work_order_components").items() if k[0] == "MO-0001"]
    assert len(components) == 4
    assert all(r["issued_quantity"] == 0 for r in components)

    reqs = rows(engine, "requisitions")
    tryton_requests = rpc.search_read("purchase.request", [], ["origin", "quantity", "party.code"])
    for r in tryton_requests:
        row = reqs[f"REQ-{r['id']}"]
        assert row["quantity"] == r["quantity"]
        assert row["suggested_supplier"] == r["party."]["code"]
        if r["origin"].startswith("purchase.requisition.line"):
            assert (row["origin"], row["status"]) == ("requisition", "approved")
        elif r["origin"] == "stock.order_point,-1":
            assert (row["origin"], row["status"]) == ("mrp", "open")
        else:
            assert (row["origin"], row["status"]) == ("reorder_point", "open")
    waiting_lines = [k for k in reqs if k.startswith("RQL-")]
    assert len(waiting_lines) == 2
    assert all(reqs[k]["status"] == "open" for k in waiting_lines)
