"""Incremental sync against a live Tryton: only changed records move; deletions are marked."""

from __future__ import annotations

import pytest
from planner_connectors.tryton.reading import Mark

from tests.support.tryton.devserver import TrytonServer
from workbench.cache.frames import read_entity_frame
from workbench.services.sync import run_sync

pytestmark = pytest.mark.tryton


def test_only_changed_records_move(
    tryton_fresh: TrytonServer, make_connector, admin_rpc, cache
) -> None:  # type: ignore[no-untyped-def]
    # no overlap: this test shows exactly what the change window fetches
    connector = make_connector(tryton_fresh, overlap_seconds=0)
    first = run_sync(cache, connector)
    assert first.ok, first.error
    marks = {e: Mark.decode(w) for e, w in first.watermarks.items()}
    assert marks["items"] is not None and marks["items"].ts > 0

    other = admin_rpc(tryton_fresh)
    # The seed wrote every product in one transaction, so all share the newest stamp and the
    # ">= watermark" window re-reads them. One edit later, the window starts at that edit.
    (rm1,) = other.search_read("product.product", [("code", "=", "RM-0001")], ["template"])
    other.write("product.template", [rm1["template"]], {"name": "Bolt M8 1, stainless"})
    boundary = run_sync(cache, connector)
    assert boundary.counts["items"]["changed"] == 1

    # another Tryton user changes four records
    (rm3,) = other.search_read("product.product", [("code", "=", "RM-0003")], ["template"])
    other.write("product.template", [rm3["template"]], {"name": "Bracket 3, zinc plated"})
    (sa2_input,) = other.search_read(
        "production.bom.input",
        [("bom.code", "=", "SA-002/A")],
        ["quantity"],
        order=[("id", "ASC")],
        limit=1,
    )
    other.write("production.bom.input", [sa2_input["id"]], {"quantity": sa2_input["quantity"] + 10})
    (mrp,) = other.search_read(
        "purchase.request", [("origin", "=", "stock.order_point,-1")], ["quantity"]
    )
    other.write("purchase.request", [mrp["id"]], {"quantity": 40.0})
    (draft_line,) = other.search_read(
        "purchase.line",
        [("purchase.state", "=", "draft")],
        ["quantity"],
        order=[("id", "ASC")],
        limit=1,
    )
    other.write("purchase.line", [draft_line["id"]], {"quantity": 77.0})

    second = run_sync(cache, connector)
    assert second.ok, second.error
    changed = {e: c["changed"] for e, c in second.counts.items() if c["changed"]}
    assert changed == {"items": 1, "bom_lines": 1, "requisitions": 1, "purchase_order_lines": 1}
    assert all(c["deleted"] == 0 for c in second.counts.values())
    # only the window was fetched: the boundary edit (RM-0001, re-read by ">=") and RM-0003
    assert second.counts["items"]["received"] == 2
    # the changed rows carry the second run; the others still the first
    items = read_entity_frame(
        cache, "items", parse_dates=False, columns=["code", "description", "sync_run"]
    )
    moved = items.loc[items["sync_run"] == second.run_id, "code"].tolist()
    assert moved == ["RM-0003"]
    assert items.loc[items["code"] == "RM-0003", "description"].item() == "Bracket 3, zinc plated"
    reqs = read_entity_frame(cache, "requisitions", parse_dates=False)
    assert reqs.loc[reqs["code"] == f"REQ-{mrp['id']}", "quantity"].item() == 40.0
    lines = read_entity_frame(cache, "bom_lines", parse_dates=False)
    row = lines.loc[lines["position"] == sa2_input["id"]]
    assert row["orig_quantity_per"].item() == sa2_input["quantity"] + 10


def test_deleted_records_are_marked(
    tryton_fresh: TrytonServer, make_connector, admin_rpc, cache
) -> None:  # type: ignore[no-untyped-def]
    connector = make_connector(tryton_fresh)  # default 5-minute overlap
    first = run_sync(cache, connector)
    assert first.ok, first.error
    other = admin_rpc(tryton_fresh)
    (mrp,) = other.search_read("purchase.request", [("origin", "=", "stock.order_point,-1")], [])
    other.delete("purchase.request", [mrp["id"]])  # a draft request may be deleted
    (gone,) = other.search_read(
        "production.bom.input", [("bom.code", "=", "SA-003/A")], [], order=[("id", "DESC")], limit=1
    )
    other.delete("production.bom.input", [gone["id"]])

    second = run_sync(cache, connector)
    assert second.ok, second.error
    assert second.counts["requisitions"]["deleted"] == 1
    assert second.counts["bom_lines"]["deleted"] == 1
    assert {e for e, c in second.counts.items() if c["deleted"]} == {"requisitions", "bom_lines"}
    reqs = read_entity_frame(
        cache,
        "requisitions",
        include_deleted=True,
        parse_dates=False,
        columns=["code", "deleted_at"],
    )
    assert reqs.loc[reqs["code"] == f"REQ-{mrp['id']}", "deleted_at"].notna().item()
    assert reqs["deleted_at"].notna().sum() == 1
    lines = read_entity_frame(
        cache,
        "bom_lines",
        include_deleted=True,
        parse_dates=False,
        columns=["position", "deleted_at"],
    )
    assert lines.loc[lines["position"] == gone["id"], "deleted_at"].notna().item()
    assert len(read_entity_frame(cache, "bom_lines")) == first.counts["bom_lines"]["received"] - 1
    # a third sync finds nothing more to delete, and nothing comes back
    third = run_sync(cache, connector)
    assert third.ok and all(c["deleted"] == 0 and c["changed"] == 0 for c in third.counts.values())


def test_numbering_a_draft_purchase_moves_its_key(
    tryton_fresh: TrytonServer, make_connector, admin_rpc, cache, seeded
) -> None:  # type: ignore[no-untyped-def]
    connector = make_connector(tryton_fresh)
    assert run_sync(cache, connector).ok
    draft = seeded.purchases[-1]
    other = admin_rpc(tryton_fresh)
    other.button("purchase.purchase", "quote", [draft])
    result = run_sync(cache, connector)
    assert result.ok, result.error
    orders = read_entity_frame(
        cache,
        "purchase_orders",
        include_deleted=True,
        parse_dates=False,
        columns=["code", "status", "deleted_at"],
    )
    assert orders.loc[orders["code"] == f"purchase#{draft}", "deleted_at"].notna().item()
    assert orders.loc[orders["code"] == "PO-0004", "status"].item() == "pending_approval"
    lines = read_entity_frame(cache, "purchase_order_lines", parse_dates=False)
    assert set(
        lines.loc[
            lines["source_key"].isin(
                [
                    f"purchase.line,{i}"
                    for i in other.search("purchase.line", [("purchase", "=", draft)])
                ]
            ),
            "purchase_order",
        ]
    ) == {"PO-0004"}


def test_stock_received_leaves_transit(
    tryton_fresh: TrytonServer, make_connector, admin_rpc, cache, seeded
) -> None:  # type: ignore[no-untyped-def]
    """Receiving the seeded internal shipment moves its 3 RM-0003 from in transit to on hand."""

    def stock() -> dict[tuple[str, str, str], tuple[float, bool]]:
        with cache.connect() as conn:
            found = conn.exec_driver_sql(
                "SELECT site, lot, status, quantity, deleted_at FROM inventory "
                "WHERE item = 'RM-0003'"
            ).all()
        return {(s, lot, st): (q, d is not None) for s, lot, st, q, d in found}

    connector = make_connector(tryton_fresh, overlap_seconds=0)
    assert run_sync(cache, connector).ok
    before = stock()
    assert before[("WH2", "", "in_transit")] == (3.0, False)
    other = admin_rpc(tryton_fresh)
    other.button("stock.shipment.internal", "do", seeded.shipments)
    after = run_sync(cache, connector)
    assert after.ok, after.error
    now = stock()
    assert now[("WH2", "", "in_transit")][1]  # marked deleted, not silently kept
    was = before.get(("WH2", "", "available"), (0.0, False))[0]
    assert now[("WH2", "", "available")] == (was + 3.0, False)
    assert now[("WH", "", "available")] == before[("WH", "", "available")]  # left already


def test_a_production_that_runs_consumes_its_reservation(
    tryton_fresh: TrytonServer, make_connector, admin_rpc, cache, seeded
) -> None:  # type: ignore[no-untyped-def]
    """MO-0001's inputs are reserved for it (allocated_to MO-0001); once it runs, its input
    moves are done: the next sync marks those reservation rows deleted."""

    def reserved() -> dict[tuple[str, str], tuple[float, bool]]:
        with cache.connect() as conn:
            found = conn.exec_driver_sql(
                "SELECT item, allocated_to, quantity, deleted_at FROM inventory "
                "WHERE status = 'allocated'"
            ).all()
        return {(i, to): (q, d is not None) for i, to, q, d in found}

    connector = make_connector(tryton_fresh, overlap_seconds=0)
    assert run_sync(cache, connector).ok
    before = reserved()
    assert len(before) == 4 and {to for _, to in before} == {"MO-0001"}
    assert not any(gone for _, gone in before.values())
    other = admin_rpc(tryton_fresh)
    (mo,) = other.search("production", [("number", "=", "MO-0001")])
    other.button("production", "run", [mo])
    result = run_sync(cache, connector)
    assert result.ok, result.error
    after = reserved()
    assert set(after) == set(before) and all(gone for _, gone in after.values())
