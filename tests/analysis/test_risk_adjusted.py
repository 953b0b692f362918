"""Risk-adjusted dates: the slip is measured against the same kind of promise it is applied to,
and a line with a ship notice arrives as the notice says (hand-computed).

Supplier EARLY announces its delays early and keeps the new promise: five received lines R0..R4,
each first promised on P, re-promised to P + 14 ten days later, received on P + 14.

* slip against the first promise: 14, 14, 14, 14, 14 -> 80th percentile 14 x 5 / (5 + 5) = 7 days
  (``expected_slip_days``, for lines still on their first promise);
* slip against the latest promise (all five were re-promised): 0 x5 -> 0 days
  (``expected_slip_after_repromise_days``, for re-promised lines).

Open lines of item X (weekly buckets from Monday 3 March 2025; lead time 0, no stock):

==========  ==============================  ============================  =====================
line        promise                         kind                          expected arrival
==========  ==============================  ============================  =====================
RP 10       week 1, re-promised to week 3   re-promise: + 0               week 3
F 20        week 5                          first promise: + 7            week 6
ASN 5       week 2, notice: all 5 on Tue    ship notice                   week 2 (Tuesday)
            of week 2
ASN2 8      week 4, notice: 3 on Wed of     notice 3; the other 5 on its  3 in week 1,
            week 1                          first promise + 7             5 in week 5
==========  ==============================  ============================  =====================

Scheduled receipts by week: [0, 3, 5, 10, 0, 5, 20, 0]. Slipping every line by 7 days from its
latest promise (the old rule) gave [0, 0, 0, 5, 10, 8, 20, 0], and a demand of 15 in week 3
(covered by 3 + 5 + 10 = 18) looked 10 short.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest

from tests.analysis.builders import TODAY, data, demand, item, po_line, record, week
from workbench.analysis.calendar import Calendar
from workbench.analysis.data import PlanningData
from workbench.analysis.session import PlanningSession
from workbench.analysis.slippage import analyse
from workbench.services import planning

D = dt.date
DAY = dt.timedelta(days=1)


def change(po: str, when: D, promised: D) -> dict[str, Any]:
    return {"purchase_order": po, "line": 1, "changed_at": dt.datetime.combine(when, dt.time()),
            "promised_date": promised}


def early_announcer(**extra: Any) -> PlanningData:
    lines, changes = [], []
    for k in range(5):
        first = D(2025, 1, 6) + 7 * k * DAY
        lines.append(po_line(f"R{k}", 1, "X", 10, first + 14 * DAY, supplier="EARLY",
                             requested_date=first, status="received", quantity_received=10,
                             received_date=first + 14 * DAY))
        changes += [change(f"R{k}", first - 20 * DAY, first),
                    change(f"R{k}", first - 10 * DAY, first + 14 * DAY)]
    lines += [
        po_line("RP", 1, "X", 10, week(3), supplier="EARLY", requested_date=week(1),
                status="acknowledged"),
        po_line("F", 1, "X", 20, week(5), supplier="EARLY", status="acknowledged"),
        po_line("ASN", 1, "X", 5, week(2), supplier="EARLY", status="acknowledged",
                asn_quantity=5, asn_date=week(2, 1)),
        po_line("ASN2", 1, "X", 8, week(4), supplier="EARLY", status="acknowledged",
                asn_quantity=3, asn_date=week(1, 2)),
    ]
    changes += [change("RP", D(2025, 2, 1), week(1)), change("RP", D(2025, 2, 10), week(3)),
                change("F", D(2025, 2, 1), week(5))]
    return data(items=[item("X")], suppliers=[{"code": "EARLY"}],
                purchase_order_lines=lines, promise_changes=changes, **extra)


def test_two_statistics_each_against_its_own_kind_of_promise() -> None:
    s = analyse(early_announcer(), TODAY)
    sup = s.suppliers.set_index("supplier").loc["EARLY"]
    assert sup["expected_slip_days"] == pytest.approx(7.0)
    assert sup["expected_slip_after_repromise_days"] == pytest.approx(0.0)
    assert s.slip_days() == {"EARLY": 7} and s.repromise_slip_days() == {}
    lines = s.lines.set_index("purchase_order")
    assert lines.loc["R0", "delivery_slip_days"] == 14
    assert lines.loc["R0", "slip_after_repromise_days"] == 0
    assert bool(lines.loc["RP", "repromised"]) and not bool(lines.loc["F", "repromised"])


def test_risk_adjusted_receipts_follow_promise_kind_and_ship_notices() -> None:
    session = PlanningSession(early_announcer(demands=[demand("D3", "X", 15, week(3))]),
                              Calendar.weekly(TODAY, 8))
    risky = session.plan(True)
    assert record(risky, "X")["scheduled_receipts"] == [0, 3, 5, 10, 0, 5, 20, 0]
    # the demand of 15 in week 3 is covered (3 + 5 + 10): no phantom risk shortage
    assert record(risky, "X")["net_requirements"] == [0] * 8
    # the plain plan keeps every line on its promise
    assert record(session.plan(False), "X")["scheduled_receipts"] == [0, 0, 5, 10, 8, 20, 0, 0]


def test_expected_arrivals_split_a_partly_notified_line() -> None:
    s = analyse(early_announcer(), TODAY)
    from workbench.analysis.sources import open_purchase_lines

    arrivals = s.expected_arrivals(open_purchase_lines(early_announcer()))
    got = sorted((r.purchase_order, float(r.remaining),
                  pd.Timestamp(r.expected_day, unit="D").date())
                 for r in arrivals.itertuples())
    assert got == [("ASN", 5.0, week(2, 1)), ("ASN2", 3.0, week(1, 2)),
                   ("ASN2", 5.0, week(4) + 7 * DAY), ("F", 20.0, week(5) + 7 * DAY),
                   ("RP", 10.0, week(3))]


def test_a_notice_already_received_is_not_on_its_way() -> None:
    """ASN2 got 3 on Wednesday of week -1 (the notice's date, before today): the notice is the
    receipt already made; the 5 still to come are slipped as a first promise."""
    d = early_announcer()
    pol = d.purchase_order_lines.copy()
    asn2 = pol["purchase_order"] == "ASN2"
    pol.loc[asn2, ["asn_date", "received_date"]] = pd.Timestamp(week(-1, 2))
    pol.loc[asn2, ["quantity_received", "status"]] = [3.0, "partially_received"]
    d = d.replace(purchase_order_lines=pol)
    session = PlanningSession(d, Calendar.weekly(TODAY, 8))
    assert record(session.plan(True), "X")["scheduled_receipts"] == [0, 0, 5, 10, 0, 5, 20, 0]


def test_shortages_service_reports_both_slips() -> None:
    session = PlanningSession(early_announcer(), Calendar.weekly(TODAY, 8))
    out = planning.shortages(session, item="X", risk_adjusted=True).to_json()
    assert out["slip_days"] == {"EARLY": 7} and out["slip_days_after_repromise"] == {}


def test_a_notice_without_a_date_keeps_the_line_on_its_promise() -> None:
    """F's 20 are notified without a date (nothing received yet): on their way, so they stay on
    the promise (week 5) instead of + 7 days."""
    d = early_announcer()
    pol = d.purchase_order_lines.copy()
    pol.loc[pol["purchase_order"] == "F", "asn_quantity"] = 20.0
    d = d.replace(purchase_order_lines=pol)
    session = PlanningSession(d, Calendar.weekly(TODAY, 8))
    assert record(session.plan(True), "X")["scheduled_receipts"] == [0, 3, 5, 10, 0, 25, 0, 0]
