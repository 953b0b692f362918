"""Hand-computed plans for issue 10 (part A): allocated stock counted once, cancelled or closed
purchase-order headers, and where safety stock applies (the plan stays continuous in its inputs).

Weekly buckets from Monday 2025-03-03 (bucket b starts 3 March + 7b days); the table rows are
those of ``test_netting_hand`` (GR gross requirements, SR scheduled receipts, PA projected
available, NR net requirements, PR planned receipts).
"""

from __future__ import annotations

from tests.analysis.builders import (
    assert_record,
    data,
    demand,
    item,
    po_line,
    week,
    weekly,
)
from workbench.analysis.netting import plan


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
