"""Hand-computed plans for issue 10 (part A): allocated stock counted once, cancelled or closed
purchase-order headers, and where safety stock applies (the plan stays continuous in its inputs).

Weekly buckets from Monday 2025-03-03 (bucket b starts 3 March + 7b days); the table rows are
those of ``test_netting_hand`` (GR gross requirements, SR scheduled receipts, PA projected
available, NR net requirements, PR planned receipts).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from tests.analysis.builders import (
    assert_record,
    data,
    demand,
    item,
    po_line,
    stock,
    week,
    weekly,
)
from workbench.analysis.data import day_number
from workbench.analysis.netting import plan
from workbench.cache.db import APPLICATION_ID, open_cache
from workbench.cache.migrations import LATEST_VERSION, MIGRATIONS
from workbench.domain.validation import validate_rows


def test_lines_of_a_cancelled_or_closed_order_are_no_supply() -> None:
    # Four orders of 30 each due in week 1; their lines all say "sent". The headers of P2
    # (cancelled) and P3 (closed) end them; P1 (sent) and P4 (no header in the cache) count.
    # Demand 100 in week 1: supply 30 + 30 = 60, so 40 is planned (it was 100 - 120 = none).
    d = data(
        items=[item("X")],
        purchase_orders=[
            {"code": "P1", "supplier": "SUP", "site": "S1", "status": "sent"},
            {"code": "P2", "supplier": "SUP", "site": "S1", "status": "cancelled"},
            {"code": "P3", "supplier": "SUP", "site": "S1", "status": "closed"},
        ],
        purchase_order_lines=[po_line(po, 1, "X", 30, week(1), status="sent")
                              for po in ("P1", "P2", "P3", "P4")],
        demands=[demand("D1", "X", 100, week(1))],
    )
    p = plan(d, weekly(3))
    assert_record(p, "X", """
        GR   0 100  0
        SR   0  60  0
        PA   0   0  0
        NR   0  40  0
        PR   0  40  0
    """)
    refs = set(p.sources.receipts["ref"])
    assert refs == {"P1/1", "P4/1"}


def _order(code: str, item_: str, status: str = "released", site: str = "S1") -> dict[str, object]:
    return {"code": code, "item": item_, "site": site, "quantity": 1, "start_date": week(0),
            "due_date": week(4), "status": status}


def _component(order: str, position: int, item_: str, qty: float, required: dt.date
               ) -> dict[str, object]:
    return {"work_order": order, "position": position, "component": item_,
            "required_quantity": qty, "required_date": required}


def test_stock_reserved_for_a_work_order_is_no_phantom_shortage() -> None:
    # 40 K on hand, 30 of it reserved (Tryton: an assigned production input) for WO1, which
    # needs 30 K in week 1. The reservation serves WO1's requirement; the 10 left serve D1.
    # The old rule took the 30 out of on hand *and* netted WO1's 30: a shortage of 20 in week 1.
    d = data(
        items=[item("P", make_buy="make"), item("K")],
        inventory=[stock("K", 10), stock("K", 30, status="allocated", allocated_to="WO1")],
        work_orders=[_order("WO1", "P")],
        work_order_components=[_component("WO1", 10, "K", 30, week(1))],
        demands=[demand("D1", "K", 5, week(2))],
    )
    p = plan(d, weekly(4))
    assert_record(p, "K", """
        GR   0  0  5  0
        PA  10 10  5  5
        NR   0  0  0  0
        PR   0  0  0  0
    """)


def test_reservations_serve_their_own_order_first_and_the_rest_is_counted_once() -> None:
    # K at S1: 2 available, and reservations for
    #   WO1 15: WO1 needs 8 (week 1) + 12 (week 3); earliest first: serves 8, then 7 of 12
    #   WO2 10: WO2 needs 4 (week 2): serves 4, the other 6 are on hand
    #   WO3  3: WO3 is completed: nothing open to serve, all 3 on hand
    #   SO1  9: the sales order's 9 (week 2): serves 9
    #   NOPE 50 and "" 7: no order the cache knows: covers nothing here (stays out, reported)
    # On hand 2 + 6 + 3 = 11; left to net: WO1 5 + D2 20 = 25 in week 3 -> 14 planned.
    d = data(
        items=[item("P", make_buy="make"), item("K")],
        inventory=[
            stock("K", 2),
            stock("K", 15, status="allocated", allocated_to="WO1", lot="a1"),
            stock("K", 10, status="allocated", allocated_to="WO2", lot="a2"),
            stock("K", 3, status="allocated", allocated_to="WO3", lot="a3"),
            stock("K", 9, status="allocated", allocated_to="SO1", lot="a4"),
            stock("K", 50, status="allocated", allocated_to="NOPE", lot="a5"),
            stock("K", 7, status="allocated", lot="a6"),
        ],
        work_orders=[_order("WO1", "P"), _order("WO2", "P"), _order("WO3", "P", "completed")],
        work_order_components=[
            _component("WO1", 20, "K", 12, week(3)), _component("WO1", 10, "K", 8, week(1)),
            _component("WO2", 10, "K", 4, week(2)), _component("WO3", 10, "K", 6, week(1)),
        ],
        demands=[demand("SO1", "K", 9, week(2)), demand("D2", "K", 20, week(3))],
    )
    p = plan(d, weekly(4))
    assert_record(p, "K", """
        GR   0  0  0 25
        PA  11 11 11  0
        NR   0  0  0 14
        PR   0  0  0 14
    """)
    report = p.sources.allocations.set_index("allocated_to")
    assert report.loc[["", "NOPE", "SO1", "WO1", "WO2", "WO3"]].to_dict("list") == {
        "item": ["K"] * 6, "site": ["S1"] * 6,
        "quantity": [7.0, 50.0, 9.0, 15.0, 10.0, 3.0],
        "serves": [0.0, 0.0, 9.0, 15.0, 4.0, 0.0],
        "available": [0.0, 0.0, 0.0, 0.0, 6.0, 3.0],
        "unplanned": [7.0, 50.0, 0.0, 0.0, 0.0, 0.0],
    }
    wo1 = p.sources.requirements.query("ref == 'WO1'")
    assert wo1[["day", "quantity"]].to_numpy().tolist() == [[day_number(week(3)), 5.0]]


def test_a_reservation_serves_only_its_own_item_and_site() -> None:
    # 12 K reserved at S1 for WO1, which runs at S2 and needs 12 K there: no requirement of K
    # at S1 for WO1, so the 12 are on hand at S1; S2 nets WO1's 12 on its own.
    d = data(
        items=[item("P", make_buy="make"), item("K")],
        inventory=[stock("K", 12, status="allocated", allocated_to="WO1")],
        work_orders=[_order("WO1", "P", site="S2")],
        work_order_components=[_component("WO1", 10, "K", 12, week(1))],
    )
    p = plan(d, weekly(2))
    assert_record(p, "K", "PA 12 12", site="S1")
    assert_record(p, "K", """
        GR   0 12
        NR   0 12
    """, site="S2")


def test_migration_6_keeps_stock_and_keys_reservations_by_their_order(tmp_path: Path) -> None:
    # a version-5 cache with a stock row: after 0006 the row is there with allocated_to '',
    # and two reservations of the same place and lot for two orders are two rows
    path = tmp_path / "cache.sqlite"
    con = sqlite3.connect(path, isolation_level=None)
    for migration in MIGRATIONS[:5]:
        for statement in migration.statements():
            con.execute(statement)
    con.execute(f"PRAGMA application_id={APPLICATION_ID}")
    con.execute("PRAGMA user_version=5")
    con.execute("INSERT INTO inventory (item, site, location, lot, status, quantity) "
                "VALUES ('K', 'S1', 'WH', '', 'allocated', 4)")
    con.close()
    engine = open_cache(path)
    with engine.begin() as conn:
        assert conn.exec_driver_sql("PRAGMA user_version").scalar_one() == LATEST_VERSION
        conn.exec_driver_sql(
            "INSERT INTO inventory (item, site, location, lot, status, quantity, allocated_to) "
            "VALUES ('K', 'S1', 'WH', '', 'allocated', 5, 'WO1'), "
            "('K', 'S1', 'WH', '', 'allocated', 6, 'WO2')")
        got = conn.exec_driver_sql(
            "SELECT allocated_to, quantity FROM inventory ORDER BY allocated_to").all()
        pk = [r[1] for r in conn.exec_driver_sql("PRAGMA table_info(inventory)").all() if r[5]]
    assert got == [("", 4.0), ("WO1", 5.0), ("WO2", 6.0)]
    assert pk == ["item", "site", "location", "lot", "status", "allocated_to"]
    engine.dispose()


def test_allocated_to_is_refused_on_stock_that_is_not_allocated() -> None:
    good, _, bad = validate_rows("inventory", [
        {"item": "K", "site": "S1", "quantity": 1, "status": "allocated", "allocated_to": "WO1"},
        {"item": "K", "site": "S1", "quantity": 1, "lot": "x", "allocated_to": "WO1"},
    ], file="inventory.csv", row_numbers=[2, 3])
    assert len(good) == 1 and len(bad) == 1
    assert (bad[0].file, bad[0].row) == ("inventory.csv", 3)
    assert "allocated_to WO1 is set on stock with status available" in bad[0].reason
