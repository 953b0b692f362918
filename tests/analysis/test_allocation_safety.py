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

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.analysis.builders import (
    assert_record,
    data,
    demand,
    item,
    line,
    po_line,
    revision,
    stock,
    week,
    weekly,
)
from workbench.analysis.data import PlanningData, day_number
from workbench.analysis.netting import Plan, plan
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
    # and the plan's summary shows what is reserved for orders it does not know: 50 + 7
    assert p.summary().set_index("item").loc["K", "reserved_elsewhere"] == 57.0
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


def _bom_only_plant(*extra_demands: dict[str, object], stocks: tuple[dict[str, object], ...] = ()
                    ) -> PlanningData:
    # FG at S1 (10 on hand covers its demand of 10 in week 5) = 1 SA; SA = 2 C. SA has no
    # safety stock and no row of its own; C (safety stock 6) is used at S1 only through the BOM.
    # S2 plans another item only.
    return data(
        items=[item("FG", make_buy="make"), item("SA", make_buy="make"),
               item("C", safety_stock=6), item("Z")],
        bom_revisions=[revision("FG"), revision("SA")],
        bom_lines=[line("FG", "SA", 1), line("SA", "C", 2)],
        inventory=[stock("FG", 10), *stocks],
        demands=[demand("D1", "FG", 10, week(5)), demand("DZ", "Z", 1, week(1), site="S2"),
                 *extra_demands],
    )


def test_safety_stock_of_a_component_reached_only_through_the_bom_is_kept() -> None:
    # C is planned at S1 because FG, planned there, uses it (through SA): its safety stock of
    # 6 is due today, whether or not FG has a planned order. Before, C had no row at all.
    p = plan(_bom_only_plant(), weekly(8))
    assert_record(p, "C", """
        GR  0 0 0 0 0 0 0 0
        PA  6 6 6 6 6 6 6 6
        NR  6 0 0 0 0 0 0 0
        PR  6 0 0 0 0 0 0 0
    """)
    assert p.row("SA", "S1") is None  # no safety stock, nothing to net: no row needed
    assert p.row("C", "S2") is None  # nothing at S2 uses C
    # One more FG in week 7: FG plans 1, SA 1, C 2 in week 7; today's 6 do not move.
    more = plan(_bom_only_plant(demand("D2", "FG", 1, week(7))), weekly(8))
    assert_record(more, "C", """
        GR  0 0 0 0 0 0 0 2
        PA  6 6 6 6 6 6 6 6
        NR  6 0 0 0 0 0 0 2
        PR  6 0 0 0 0 0 0 2
    """)
    # A zero stock row of C changes nothing.
    zero = plan(_bom_only_plant(stocks=(stock("C", 0),)), weekly(8))
    assert_record(zero, "C", """
        PA  6 6 6 6 6 6 6 6
        NR  6 0 0 0 0 0 0 0
        PR  6 0 0 0 0 0 0 0
    """)


def test_item_safety_stock_applies_at_every_site_where_the_item_is_planned() -> None:
    # X (safety stock 5) is demanded at S1 in week 1 (3), stocked at S2 with nothing on hand
    # (a zero row), and ordered at S3 beyond the horizon; it is planned at all three sites,
    # and its safety stock is due today at each. A demand 0 (cancelled to zero but open) still
    # says X is planned at S4.
    d = data(
        items=[item("X", safety_stock=5)],
        inventory=[stock("X", 0, site="S2")],
        demands=[demand("D1", "X", 3, week(1)), demand("D4", "X", 0, week(2), site="S4")],
        purchase_order_lines=[po_line("P1", 1, "X", 4, week(30), site="S3")],
    )
    p = plan(d, weekly(3))
    assert_record(p, "X", """
        GR  0 3 0
        PA  5 5 5
        NR  5 3 0
        PR  5 3 0
    """)
    for site in ("S2", "S3", "S4"):
        assert_record(p, "X", """
            PA  5 5 5
            PR  5 0 0
        """, site=site)


CODES = ["A", "B", "C", "D", "E"]


@st.composite
def plants(draw: st.DrawFn) -> tuple[PlanningData, list[tuple[str, str]]]:
    """Up to five items with safety stock, lot sizes and lead times of 0 or 1 week, BOM lines
    from an earlier code to a later one, demands and stock at two sites, and allocated stock.
    Also returns the (item, site) pairs the data plans an item at before BOM explosion."""
    n = draw(st.integers(2, 5))
    codes = CODES[:n]
    items = [item(c, make_buy="make", lead_time_days=draw(st.sampled_from([0, 7])),
                  safety_stock=draw(st.sampled_from([0, 4, 7.5])),
                  min_order_qty=draw(st.sampled_from([0, 0, 10])),
                  order_multiple=draw(st.sampled_from([0, 0, 4]))) for c in codes]
    lines = [line(p, c, draw(st.sampled_from([1, 2, 0.5])), 10 * k)
             for k, (p, c) in enumerate((p, c) for i, p in enumerate(codes)
                                        for c in codes[i + 1:]) if draw(st.booleans())]
    sites = st.sampled_from(["S1", "S2"])
    demands = [demand(f"D{k}", draw(st.sampled_from(codes)), draw(st.integers(0, 40)),
                      week(draw(st.integers(0, 5))), site=draw(sites))
               for k in range(draw(st.integers(1, 5)))]
    stocks = [stock(c, draw(st.integers(0, 30)), site=draw(sites)) for c in codes
              if draw(st.booleans())]
    stocks += [stock(c, draw(st.integers(1, 9)), status="allocated", allocated_to="D0",
                     site=demands[0]["site"], lot="r") for c in codes[:1] if draw(st.booleans())]
    planned = sorted({(r["item"], r["site"]) for r in demands + stocks})
    d = data(items=items, bom_revisions=[revision(c) for c in codes], bom_lines=lines,
             demands=demands, inventory=stocks)
    return d, planned


def _today(p: Plan) -> dict[tuple[str, str], float]:
    codes, sites = p.items.codes[p.item], np.asarray(p.sites)[p.site]
    return {(str(i), str(s)): float(q) for i, s, q in zip(codes, sites, p.planned[:, 0])}


def _same_today(before: Plan, after: Plan) -> None:
    old, new = _today(before), _today(after)
    for key in old.keys() | new.keys():
        assert abs(old.get(key, 0.0) - new.get(key, 0.0)) < 1e-9, key


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plants(), st.data())
def test_the_plan_is_continuous_in_far_demand_and_zero_stock(
        plant: tuple[PlanningData, list[tuple[str, str]]], pick: st.DataObject) -> None:
    """Adding a tiny demand in the last week for an item where it is planned, or a zero stock
    row for an item at a site where it is planned, leaves today's planned orders as they were
    (lead times of at most a week over at most four BOM levels cannot bring week 7 to today)."""
    d, planned = plant
    calendar = weekly(9)
    base = plan(d, calendar)
    it, site = pick.draw(st.sampled_from(planned))
    far = d.replace(demands=pd.concat([d.demands, data(demands=[
        demand("EPS", it, 1e-3, week(8), site=site)]).demands], ignore_index=True))
    _same_today(base, plan(far, calendar))
    rows = zip(base.items.codes[base.item], np.asarray(base.sites)[base.site])
    at = pick.draw(st.sampled_from(sorted({(str(i), str(s)) for i, s in rows} | set(planned))))
    zero = d.replace(inventory=pd.concat([d.inventory, data(inventory=[
        stock(at[0], 0, site=at[1], lot="zero")]).inventory], ignore_index=True))
    after = plan(zero, calendar)
    _same_today(base, after)
    assert np.array_equal(base.planned, after.planned[after.rows_for_keys(base.key)])
