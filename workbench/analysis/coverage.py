"""What covers a row's requirements, bucket by bucket: the evidence table of a requisition.

For one item at one site the requirements are the safety stock (kept from the first bucket on)
and the gross requirement of each bucket. Firm supply covers them **first in, first out**:
available stock first (it is there already), then the open orders (scheduled receipts: PO
lines, work orders, stock in transit) from the bucket they arrive in on; a receipt never covers
a requirement before it arrives, and what it brings beyond the requirements is carried forward.
What firm supply leaves uncovered is the row's **net requirement** by bucket — lot-for-lot,
exactly the planned receipts netting (:mod:`workbench.analysis.netting`) would make without
the item's minimum and multiple. Open requisitions take the net requirement in need-date order
(:mod:`workbench.analysis.requisitions`); what none takes is still short.

Each line of the table adds up::

    required = from stock + from open orders + from earlier requisitions
               + from this requisition + still short
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np

from workbench.analysis.calendar import Calendar

EPS = 1e-9

#: the columns of a coverage line, in the order a buyer reads them
COVERAGE_COLUMNS = ("period", "required", "from_stock", "from_open_orders",
                    "from_earlier_requisitions", "from_this_requisition", "still_short")


@dataclass
class RowCoverage:
    """Firm supply against the requirements of one row (arrays over the buckets); the safety
    stock is a requirement of its own (``safety``), covered before bucket 0's."""

    safety: float
    safety_from_stock: float
    safety_from_orders: float
    required: np.ndarray
    from_stock: np.ndarray
    from_orders: np.ndarray
    net: np.ndarray  # per bucket, lot-for-lot; bucket 0 includes the uncovered safety stock

    @classmethod
    def of(cls, on_hand: float, scheduled: np.ndarray, gross: np.ndarray,
           safety: float) -> RowCoverage:
        """First in, first out, as the module doc says. A negative on hand (a backlog) is a
        requirement of bucket 0."""
        n = len(gross)
        required = np.asarray(gross, dtype=float).copy()
        if on_hand < 0:
            required[0] += -on_hand
        stock, orders = max(float(on_hand), 0.0), 0.0
        from_stock, from_orders, net = np.zeros(n), np.zeros(n), np.zeros(n)
        ss = max(float(safety), 0.0)
        orders += float(scheduled[0]) if n else 0.0
        ss_stock = min(ss, stock)
        stock -= ss_stock
        ss_orders = min(ss - ss_stock, orders)
        orders -= ss_orders
        ss_short = ss - ss_stock - ss_orders
        for b in range(n):
            if b:
                orders += float(scheduled[b])
            need = required[b]
            take = min(need, stock)
            stock -= take
            from_stock[b] = take
            need -= take
            take = min(need, orders)
            orders -= take
            from_orders[b] = take
            net[b] = max(need - take, 0.0)
        if n:
            net[0] += ss_short
        net[net <= EPS] = 0.0
        return cls(ss, ss_stock, ss_orders, required, from_stock, from_orders, net)


def coverage_lines(cov: RowCoverage, cal: Calendar, before: np.ndarray, this: np.ndarray,
                   short: np.ndarray, last: int) -> list[dict[str, Any]]:
    """The evidence table of one requisition: the safety stock, each bucket up to ``last`` with
    a requirement, one line for everything later, and the total.

    ``before`` / ``this``: per bucket, the net requirement earlier requisitions of the row and
    this one take; ``short``: what is still open after this one (later requisitions of the row
    may take it; for the last one it is what no requisition covers). Bucket 0's net includes
    the safety stock firm supply leaves uncovered; it is shown on the safety stock's line.
    """
    n = len(cov.required)
    ss_short = max(cov.safety - cov.safety_from_stock - cov.safety_from_orders, 0.0)
    # split bucket 0's takes between the safety stock line (first) and bucket 0's requirement
    parts = [before.astype(float).copy(), this.astype(float).copy(), short.astype(float).copy()]
    ss_parts = [0.0, 0.0, 0.0]
    left = ss_short
    for k in range(3):
        if n and left > EPS:
            t = min(left, parts[k][0])
            ss_parts[k] = t
            parts[k][0] -= t
            left -= t
    b_before, b_this, b_short = parts
    lines: list[dict[str, Any]] = []

    def add(period: str | dt.date, sel: slice | list[int], ss: bool = False) -> None:
        if ss:
            values = [cov.safety, cov.safety_from_stock, cov.safety_from_orders, *ss_parts]
        else:
            values = [float(np.sum(a[sel])) for a in (cov.required, cov.from_stock,
                                                      cov.from_orders, b_before, b_this,
                                                      b_short)]
        lines.append(dict(zip(COVERAGE_COLUMNS, [period, *(round(v, 6) + 0.0 for v in values)])))

    if cov.safety > EPS:
        add("safety stock", [], ss=True)
    last = min(max(last, 0), n - 1)
    for b in range(last + 1):
        if cov.required[b] > EPS or b_before[b] > EPS or b_this[b] > EPS or b_short[b] > EPS:
            add(cal.need_date(b), [b])
    later = [b for b in range(last + 1, n) if cov.required[b] > EPS]
    if later:
        add(f"{cal.need_date(later[0])} to {cal.date(n)}", list(range(last + 1, n)))
    total = dict(zip(COVERAGE_COLUMNS, ["total", *(
        round(sum(float(ln[c]) for ln in lines), 6) + 0.0 for c in COVERAGE_COLUMNS[1:])]))
    lines.append(total)
    return lines
