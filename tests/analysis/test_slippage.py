"""Supplier slippage figures on four hand-made PO lines (worked out in the comments)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from tests.analysis.builders import data, item, po_line
from workbench.analysis.slippage import analyse, expected_slip

D = dt.date


def change(po: str, when: D, promised: D) -> dict:
    return {"purchase_order": po, "line": 1, "changed_at": dt.datetime.combine(when, dt.time()),
            "promised_date": promised}


def lines():
    return data(
        items=[item("X")],
        suppliers=[{"code": "S1", "name": "Slow Steel"}],
        purchase_orders=[{"code": c, "supplier": "S1", "site": "S1", "order_date": D(2025, 1, 1)}
                         for c in ("L1", "L2", "L3", "L4")],
        purchase_order_lines=[
            # promised 10 Jan, moved to 17 and 24 Jan; received 27 Jan in full, acked 3 Jan
            po_line("L1", 1, "X", 10, D(2025, 1, 24), supplier="S1",
                    requested_date=D(2025, 1, 10), status="received", quantity_received=10,
                    received_date=D(2025, 1, 27), ack_date=D(2025, 1, 3)),
            # received two days early, in full
            po_line("L2", 1, "X", 5, D(2025, 2, 1), supplier="S1", status="received",
                    quantity_received=5, received_date=D(2025, 1, 30)),
            # on time but short (8 of 10); never in the history table
            po_line("L3", 1, "X", 10, D(2025, 2, 10), supplier="S1", status="closed",
                    quantity_received=8, received_date=D(2025, 2, 10)),
            # open, promised 15 then 20 Feb; 9 days late on 1 March
            po_line("L4", 1, "X", 7, D(2025, 2, 20), supplier="S1",
                    requested_date=D(2025, 2, 15), status="acknowledged"),
        ],
        promise_changes=[
            change("L1", D(2025, 1, 2), D(2025, 1, 10)),
            change("L1", D(2025, 1, 5), D(2025, 1, 17)),
            change("L1", D(2025, 1, 12), D(2025, 1, 24)),
            change("L2", D(2025, 1, 2), D(2025, 2, 1)),
            change("L4", D(2025, 2, 1), D(2025, 2, 15)),
            change("L4", D(2025, 2, 10), D(2025, 2, 20)),
        ],
    )


def test_per_line_figures() -> None:
    s = analyse(lines(), D(2025, 3, 1)).lines.set_index("purchase_order")
    assert s.loc["L1", "promise_changes"] == 2
    assert s.loc["L1", "slip_vs_first_days"] == 14
    assert s.loc["L1", "slip_vs_requested_days"] == 14
    assert s.loc["L1", "ack_latency_days"] == 2
    assert s.loc["L1", "delivery_slip_days"] == 17
    assert not s.loc["L1", "otif"]
    assert s.loc["L2", "otif"] and s.loc["L2", "delivery_slip_days"] == -2
    assert s.loc["L3", "on_time"] and not s.loc["L3", "in_full"]
    assert s.loc["L4", "promise_changes"] == 1 and s.loc["L4", "days_late"] == 9
    assert s.loc["L4", "late"] and s.loc["L4", "open"]


def test_per_supplier_and_expected_slip() -> None:
    sup = analyse(lines(), D(2025, 3, 1)).suppliers.set_index("supplier").loc["S1"]
    assert sup["name"] == "Slow Steel"
    assert sup["lines"] == 4 and sup["received_lines"] == 3 and sup["open_lines"] == 1
    assert sup["promise_changes"] == 3
    assert sup["otif_rate"] == pytest.approx(1 / 3)
    assert sup["open_late_lines"] == 1
    # slips 17, -2 -> 0, 0: 80th percentile (linear) of [0, 0, 17] = 10.2, x 3/(3+5)
    assert sup["expected_slip_days"] == pytest.approx(10.2 * 3 / 8)


def test_monthly_trend() -> None:
    m = analyse(lines(), D(2025, 3, 1)).monthly.set_index("month")
    assert m.loc["2025-01", "received_lines"] == 2 and m.loc["2025-01", "otif_rate"] == 0.5
    assert m.loc["2025-01", "promise_changes"] == 2
    assert m.loc["2025-02", "received_lines"] == 1 and m.loc["2025-02", "promise_changes"] == 1


def test_expected_slip_statistic() -> None:
    assert expected_slip([]) == 0
    assert expected_slip([-5, -1]) == 0  # early deliveries are not negative slip
    assert expected_slip([10] * 5) == pytest.approx(5.0)  # shrunk halfway with 5 observations
    assert expected_slip([10] * 95) == pytest.approx(9.5)
    # it is the 80th percentile: one outlier of 100 among 20 does not move it
    assert expected_slip([2] * 19 + [100]) == pytest.approx(2 * 20 / 25)
    assert np.isclose(expected_slip([0, 0, 0, 10, 10]), 10 * 5 / 10)


def test_line_never_promised_has_no_promise_dates() -> None:
    d = data(items=[item("X")], purchase_order_lines=[
        po_line("N1", 1, "X", 3, None, requested_date=D(2025, 2, 1))])
    line_ = analyse(d, D(2025, 3, 1)).lines.iloc[0]
    assert line_["first_promise"] is pd.NaT or pd.isna(line_["first_promise"])
    assert line_["days_late"] == 28  # judged against the requested date


def at(day: D, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute))


def seen(po: str, when: dt.datetime, promised: D, origin: str) -> dict:
    return {"purchase_order": po, "line": 1, "changed_at": when, "promised_date": promised,
            "origin": origin}


def both_origins():
    """Three lines of one supplier whose history comes from the source and from syncs.

    D1: the source reports 10 Feb -> 17 Feb -> 24 Feb in its own clock, 5 hours behind the
    sync's; the syncs observed 17 Feb and 24 Feb too, stamped later than the source's 24 Feb.
    Sorted by time that reads 10 -> 17 -> 24 -> 17 -> 24 (4 moves); it is 2 moves.
    D2: the source reports no history; the syncs observed 1 Mar, then 8 Mar: 1 move (February).
    D3: the source reports 5 Mar; a sync observed 12 Mar, which the source never reported:
    1 move (February), kept.
    """
    return data(
        items=[item("X")],
        suppliers=[{"code": "S1", "name": "Slow Steel"}],
        purchase_orders=[{"code": c, "supplier": "S1", "site": "S1", "order_date": D(2025, 1, 1)}
                         for c in ("D1", "D2", "D3")],
        purchase_order_lines=[
            po_line("D1", 1, "X", 10, D(2025, 2, 24), supplier="S1",
                    requested_date=D(2025, 2, 10), status="acknowledged"),
            po_line("D2", 1, "X", 10, D(2025, 3, 8), supplier="S1",
                    requested_date=D(2025, 3, 1), status="acknowledged"),
            po_line("D3", 1, "X", 10, D(2025, 3, 12), supplier="S1",
                    requested_date=D(2025, 3, 5), status="acknowledged"),
        ],
        promise_changes=[
            seen("D1", at(D(2025, 1, 2), 8), D(2025, 2, 10), "source"),
            seen("D1", at(D(2025, 1, 30), 20), D(2025, 2, 17), "source"),
            seen("D1", at(D(2025, 1, 31), 1), D(2025, 2, 24), "source"),
            seen("D1", at(D(2025, 1, 31), 1, 30), D(2025, 2, 17), "observed"),
            seen("D1", at(D(2025, 2, 1), 9), D(2025, 2, 24), "observed"),
            seen("D2", at(D(2025, 1, 5)), D(2025, 3, 1), "observed"),
            seen("D2", at(D(2025, 2, 3)), D(2025, 3, 8), "observed"),
            seen("D3", at(D(2025, 1, 3)), D(2025, 3, 5), "source"),
            seen("D3", at(D(2025, 2, 10)), D(2025, 3, 12), "observed"),
        ],
    )


def test_history_keeps_each_change_once_preferring_the_source() -> None:
    from workbench.analysis.slippage import promise_history

    kept = promise_history(both_origins().promise_changes)
    rows = [(r.purchase_order, r.changed_at.to_pydatetime(), r.promised_date.date(), r.origin)
            for r in kept.itertuples()]
    assert rows == [
        ("D1", at(D(2025, 1, 2), 8), D(2025, 2, 10), "source"),
        ("D1", at(D(2025, 1, 30), 20), D(2025, 2, 17), "source"),
        ("D1", at(D(2025, 1, 31), 1), D(2025, 2, 24), "source"),
        ("D2", at(D(2025, 1, 5)), D(2025, 3, 1), "observed"),
        ("D2", at(D(2025, 2, 3)), D(2025, 3, 8), "observed"),
        ("D3", at(D(2025, 1, 3)), D(2025, 3, 5), "source"),
        ("D3", at(D(2025, 2, 10)), D(2025, 3, 12), "observed"),
    ]


def test_a_change_reported_and_observed_counts_once() -> None:
    s = analyse(both_origins(), D(2025, 1, 20))
    lines_ = s.lines.set_index("purchase_order")
    assert lines_["promise_changes"].to_dict() == {"D1": 2, "D2": 1, "D3": 1}
    assert lines_.loc["D1", "slip_vs_first_days"] == 14  # 24 Feb - 10 Feb
    assert lines_.loc["D3", "slip_vs_first_days"] == 7  # 12 Mar - 5 Mar
    assert s.suppliers.set_index("supplier").loc["S1", "promise_changes"] == 4
    monthly = s.monthly.set_index("month")["promise_changes"].to_dict()
    assert monthly == {"2025-01": 2, "2025-02": 2}  # D1 twice in January; D2, D3 in February


def test_no_purchase_order_lines_gives_empty_figures() -> None:
    s = analyse(data(items=[item("X")], suppliers=[{"code": "S1"}]), D(2025, 3, 1))
    assert s.lines.empty and s.suppliers.empty and s.monthly.empty


def test_lines_of_a_cancelled_or_closed_order_are_not_open_nor_late() -> None:
    """L5's order was cancelled and L6's closed, both lines still say acknowledged and are
    weeks overdue on 1 March: neither is an open nor a late line (the sources leave the lines of
    an ended order as they were). Supplier S1 keeps L4 as its only open, late line: 9 days.
    L7's order was cancelled after its goods came: the delivery (slip 3 days) still counts."""
    d = lines()
    d.purchase_orders = pd.concat([d.purchase_orders, pd.DataFrame([
        {"code": "L5", "supplier": "S1", "site": "S1", "order_date": D(2025, 1, 1),
         "status": "cancelled"},
        {"code": "L6", "supplier": "S1", "site": "S1", "order_date": D(2025, 1, 1),
         "status": "closed"},
        {"code": "L7", "supplier": "S1", "site": "S1", "order_date": D(2025, 1, 1),
         "status": "cancelled"}])], ignore_index=True)
    extra = data(items=[item("X")], purchase_order_lines=[
        po_line("L5", 1, "X", 4, D(2025, 1, 20), supplier="S1", status="acknowledged"),
        po_line("L6", 1, "X", 6, D(2025, 2, 1), supplier="S1", status="acknowledged"),
        po_line("L7", 1, "X", 3, D(2025, 1, 10), supplier="S1", status="received",
                quantity_received=3, received_date=D(2025, 1, 13)),
    ]).purchase_order_lines
    d.purchase_order_lines = pd.concat([d.purchase_order_lines, extra], ignore_index=True)
    result = analyse(d, D(2025, 3, 1))
    s = result.lines.set_index("purchase_order")
    for code in ("L5", "L6"):
        assert not s.loc[code, "open"] and not s.loc[code, "late"]
        assert s.loc[code, "days_late"] == 0
    assert s.loc["L7", "delivery_slip_days"] == 3
    sup = result.suppliers.set_index("supplier").loc["S1"]
    assert sup["open_lines"] == 1 and sup["open_late_lines"] == 1 and sup["max_days_late"] == 9
    # slips 17, -2 -> 0, 0, 3: 80th percentile (linear) of [0, 0, 3, 17] = 3 + 0.4 x 14 = 8.6,
    # x 4/(4+5)
    assert sup["expected_slip_days"] == pytest.approx(8.6 * 4 / 9)


def test_overview_counts_late_lines_by_the_plan_s_open_supply() -> None:
    """The Overview's "late PO lines" counts what the plan counts as open supply: P1 (due 24 Feb,
    10 still to come) is late; P2 is late by date but fully received in quantity; P3 is late by
    date but its order was cancelled; P4 is due next week. One late line."""
    from tests.analysis.builders import weekly
    from workbench.analysis.session import PlanningSession
    from workbench.app.planning import _late_po_lines

    d = data(items=[item("X")],
             purchase_orders=[{"code": "P3", "supplier": "SUP", "site": "S1",
                               "status": "cancelled"}],
             purchase_order_lines=[
                 po_line("P1", 1, "X", 10, D(2025, 2, 24), status="acknowledged"),
                 po_line("P2", 1, "X", 5, D(2025, 2, 24), status="acknowledged",
                         quantity_received=5),
                 po_line("P3", 1, "X", 5, D(2025, 2, 24), status="acknowledged"),
                 po_line("P4", 1, "X", 5, D(2025, 3, 10), status="acknowledged")])
    assert _late_po_lines(PlanningSession(d, weekly(4))) == 1
