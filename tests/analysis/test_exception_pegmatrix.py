"""The array pegging of every message (:mod:`workbench.analysis.exceptions.pegmatrix`) against
the straightforward path (pegging asked message by message, :mod:`.straight`) on random plants:
the same messages, the same endangered demands; and the pegs of every requirement and planned
order equal to :class:`~workbench.analysis.pegging.Pegging`'s (demand and work-order pegs)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.analysis.builders import TODAY, data, demand, item, line, po_line, revision, stock
from tests.analysis.builders import week as wk
from workbench.analysis.calendar import Calendar
from workbench.analysis.exceptions import compute_exceptions
from workbench.analysis.exceptions.pegmatrix import PegMatrix
from workbench.analysis.exceptions.pegs import DueDates, FastPegging
from workbench.analysis.netting import plan
from workbench.analysis.pegging import Pegging

CODES = ["A", "B", "C", "D", "E", "F"]
qty = st.integers(min_value=0, max_value=60)


@st.composite
def plants(draw: Any) -> Any:
    """Up to six items over two sites, BOM lines from an earlier code to a later one, demands
    (some past due, some with priorities), stock, PO lines (some past due, some far out), work
    orders with components."""
    codes = CODES[:draw(st.integers(2, 6))]
    items = [item(c, make_buy=draw(st.sampled_from(["make", "buy"])),
                  lead_time_days=draw(st.sampled_from([0, 3, 7, 14, 21])),
                  safety_stock=draw(st.sampled_from([0, 0, 5])),
                  min_order_qty=draw(st.sampled_from([0, 0, 10])),
                  order_multiple=draw(st.sampled_from([0, 0, 4]))) for c in codes]
    lines: list[dict[str, Any]] = []
    for i, p in enumerate(codes):
        for c in codes[i + 1:]:
            if draw(st.booleans()):
                lines.append(line(p, c, draw(st.sampled_from([1, 2, 0.5, 3])), len(lines)))
    sites = ["S1", "S2"]
    demands = [demand(f"D{k}", draw(st.sampled_from(codes)), draw(qty),
                      wk(draw(st.integers(-1, 7)), draw(st.integers(0, 4))),
                      site=draw(st.sampled_from(sites)), priority=draw(st.integers(0, 2)))
               for k in range(draw(st.integers(1, 8)))]
    stocks = [stock(c, draw(qty), site=draw(st.sampled_from(sites))) for c in codes
              if draw(st.booleans())]
    pos = [po_line(f"P{k}", 1, draw(st.sampled_from(codes)), draw(qty),
                   wk(draw(st.integers(-1, 9)), draw(st.integers(0, 4))),
                   site=draw(st.sampled_from(sites)))
           for k in range(draw(st.integers(0, 6)))]
    wos, comps = [], []
    for k in range(draw(st.integers(0, 2))):
        parent = draw(st.sampled_from(codes))
        site = draw(st.sampled_from(sites))
        wos.append({"code": f"WO{k}", "item": parent, "site": site, "quantity": draw(qty) + 1,
                    "start_date": wk(0), "due_date": wk(draw(st.integers(0, 5))),
                    "status": "released", "bom_revision": "A"})
        for c in codes:
            if c != parent and draw(st.booleans()):
                comps.append({"work_order": f"WO{k}", "component": c, "site": site,
                              "required_quantity": draw(qty), "required_date":
                              wk(draw(st.integers(0, 4)))})
    return data(items=items, bom_revisions=[revision(c) for c in codes], bom_lines=lines,
                demands=demands, inventory=stocks, purchase_order_lines=pos, work_orders=wos,
                work_order_components=comps)


def _pegs(entries: list[dict[str, Any]]) -> dict[str, tuple[dt.date | None, float]]:
    return {e["peg"]: (e["due_date"], e["quantity"]) for e in entries}


def _same_endangers(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> bool:
    pa, pb = _pegs(a), _pegs(b)
    return pa.keys() == pb.keys() and all(
        pa[k][0] == pb[k][0] and abs(pa[k][1] - pb[k][1]) < 1e-6 for k in pa)


def _comparable(messages: pd.DataFrame) -> pd.DataFrame:
    return messages.drop(columns=["endangers"]).set_index("key").sort_index()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plants(), st.integers(0, 2))
def test_array_path_equals_message_by_message(d: Any, extra: int) -> None:
    p = plan(d, Calendar.weekly(TODAY + dt.timedelta(days=extra), 8))
    fast = compute_exceptions(d, p).messages
    for reference in (Pegging(p), FastPegging(p)):
        slow = compute_exceptions(d, p, reference).messages
        pd.testing.assert_frame_equal(_comparable(fast), _comparable(slow))
        ends_fast = dict(zip(fast["key"], fast["endangers"]))
        for key, entries in zip(slow["key"], slow["endangers"]):
            assert _same_endangers(ends_fast[key], entries), key


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plants())
def test_every_requirement_and_planned_order_pegs_as_pegging(d: Any) -> None:
    p = plan(d, Calendar.weekly(TODAY, 8))
    due = DueDates(d)
    matrix = PegMatrix(p, due)
    peg = Pegging(p)
    names = matrix.columns.tolist()
    claims = matrix.claims
    for row in range(len(p.key)):
        reqs = peg.requirements(row)
        mine = range(int(claims.ptr[row]), int(claims.ptr[row + 1]))
        assert [round(r.quantity, 9) for r in reqs] == \
            [round(float(claims.quantity[i]), 9) for i in mine]
        for r, i in zip(reqs, mine):
            got = matrix.claim_pegs[i].toarray().ravel()
            want = np.array([r.pegs.get(n, 0.0) for n in names])
            assert np.allclose(got, want, atol=1e-9), (row, r)
        for b, pegs in peg.order_pegs(row).items():
            got = matrix.order_pegs[int(matrix.order_of(np.array([row]), np.array([b]))[0])
                                    ].toarray().ravel()
            want = np.array([pegs.get(n, 0.0) for n in names])
            assert np.allclose(got, want, atol=1e-9), (row, b)


def test_a_component_serves_the_demands_of_its_parents_orders() -> None:
    """Hand-computed: parent P (lead 7 days) needs 2 C per unit; demands DP1 10 in week 2 and
    DP2 5 in week 3, no stock: P's planned orders 10 (week 2) and 5 (week 3) release in weeks
    1 and 2, so C's dependent requirements are 20 (week 1) and 10 (week 2). C has 25 on hand
    and a PO line of 30 due week 4: the stock serves the 20 of DP1 and 5 of DP2's 10; the PO
    line (due week 4) serves the other 5 of DP2, needed at the start of week 2: reschedule in
    by 14 days to week 2."""
    d = data(items=[item("P", make_buy="make", lead_time_days=7), item("C")],
             bom_revisions=[revision("P")], bom_lines=[line("P", "C", 2)],
             demands=[demand("DP1", "P", 10, wk(2)), demand("DP2", "P", 5, wk(3))],
             inventory=[stock("C", 25)], purchase_order_lines=[po_line("PO-1", 1, "C", 30,
                                                                       wk(4))])
    p = plan(d, Calendar.weekly(TODAY, 8))
    messages = compute_exceptions(d, p).messages
    hit = messages[messages["key"] == "reschedule_in|PO-1/1"].iloc[0]
    assert (hit["suggested_date"].date(), hit["days"]) == (wk(2), 14.0)
    # PO-1/1 covers C's requirements from 25 to 30: the last 5 of the week-2 dependent 10,
    # all of it DP2's (2 C per P: 2.5 P of DP2's 5)
    assert hit["endangers"] == [{"peg": "DP2", "due_date": wk(3), "quantity": 5.0}]
    reduce = messages[messages["key"] == "reduce|PO-1/1"].iloc[0]
    assert reduce["suggested_quantity"] == 5.0
