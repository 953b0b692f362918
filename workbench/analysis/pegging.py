"""Pegging: which top-level demands each requirement of an item serves.

Every requirement carries *pegs*, a mapping from a top-level cause to a quantity, summing to the
requirement's quantity:

* an open demand pegs to itself (its code); a forecast (or MPS) entry that sales orders partly
  consumed pegs to itself with what they left of it (see :mod:`workbench.analysis.consumption`);
* a work order's component requirement pegs to the demand the order was made for, or to
  ``work_order:<code>`` when the order names none;
* a dependent requirement (a parent's planned order × quantity per) carries the parent's planned
  order's pegs, scaled by the same factor.

A planned order's pegs come from first-in-first-out allocation of the row's supply to its
requirements in time: stock on hand, then each bucket's scheduled receipts and planned receipts
in bucket order; within a bucket, safety stock is claimed first (``safety_stock:<item>@<site>``,
on bucket 0), then requirements in **due-date order** (:func:`claim_order`): by due date, then
priority (lower number first, as ``alternate_priority``), then code. A demand is due on its
own due date (a Friday order waits behind the Monday one of the same week), a work order's
component on its required date, a dependent requirement at the start of its (release) bucket;
dependent requirements and work-order components have priority 0. A supply never serves a
requirement of an earlier bucket. What a planned order holds beyond every requirement (lot
sizing) pegs to ``lot_size:<item>@<site>``. Pegs are computed on demand, walking up only the
ancestors needed.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from workbench.analysis.netting import Plan
from workbench.analysis.sources import EPS, requirement_buckets

Pegs = dict[str, float]


@dataclass
class Requirement:
    bucket: int
    quantity: float
    kind: str  # demand, work_order, dependent
    ref: str  # demand code, work order code, or parent item
    pegs: Pegs
    #: due date (day number): a demand's due date, a component's required date, a dependent
    #: requirement's bucket start; the order requirements are served in (see :func:`claim_order`)
    day: int = 0
    priority: int = 0  # lower first

    def to_dict(self, plan: Plan) -> dict[str, Any]:
        return {
            "bucket": self.bucket,
            "date": plan.calendar.date(self.bucket),
            "quantity": self.quantity,
            "kind": self.kind,
            "ref": self.ref,
            "pegs": [{"peg": k, "quantity": v} for k, v in sorted(self.pegs.items())],
        }


def claim_order(requirement: Requirement) -> tuple[int, int, int, str]:
    """The order a row's supply serves its requirements in: bucket, due date, priority, code."""
    return (requirement.bucket, requirement.day, requirement.priority, requirement.ref)


def _scaled(pegs: Pegs, factor: float) -> Pegs:
    return {k: v * factor for k, v in pegs.items()}


def _add(into: Pegs, pegs: Pegs, factor: float) -> None:
    for k, v in pegs.items():
        into[k] = into.get(k, 0.0) + v * factor


class Pegging:
    """Pegs of a plan's requirements and planned orders, memoised per row."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self._orders: dict[int, dict[int, Pegs]] = {}
        req = plan.sources.requirements
        self._req_bucket = requirement_buckets(req, plan.calendar)  # the buckets netting used
        self._req_by_key = req.assign(
            key=plan.items.idx(req["item"]).astype(np.int64) * plan.n_sites
            + plan.sites.get_indexer(req["site"]),
            bucket=self._req_bucket,
        ).query("bucket >= 0").sort_values(["key", "day", "ref"], kind="stable")
        if "priority" not in self._req_by_key:
            self._req_by_key["priority"] = 0

    def _label(self, row: int) -> str:
        plan = self.plan
        return f"{plan.items.codes[plan.item[row]]}@{plan.sites[plan.site[row]]}"

    def requirements(self, row: int) -> list[Requirement]:
        """Every gross requirement of ``row`` with its pegs, in :func:`claim_order`."""
        plan = self.plan
        key = int(plan.key[row])
        out: list[Requirement] = []
        lo = np.searchsorted(self._req_by_key["key"].to_numpy(), key, "left")
        hi = np.searchsorted(self._req_by_key["key"].to_numpy(), key, "right")
        for rec in self._req_by_key.iloc[lo:hi].itertuples():
            out.append(Requirement(int(rec.bucket), float(rec.quantity), str(rec.kind),
                                   str(rec.ref), {str(rec.peg): float(rec.quantity)},
                                   int(rec.day), int(getattr(rec, "priority", 0))))
        seg = plan.segments
        item, site = int(plan.item[row]), int(plan.site[row])
        for s in seg.by_child[seg.ptr_child[item]:seg.ptr_child[item + 1]]:
            parent = int(seg.parent[s])
            prow = plan.row(str(plan.items.codes[parent]), str(plan.sites[site]))
            if prow is None:
                continue
            offset = int(plan.calendar.offset(plan.items.lead_time_days[parent]))
            orders = self.order_pegs(prow)
            for b in range(int(seg.first_bucket[s]), int(seg.end_bucket[s])):
                qty = float(plan.planned[prow, b])
                if qty <= EPS:
                    continue
                factor = float(seg.quantity[s])
                bucket = max(b - offset, 0)
                out.append(Requirement(bucket, qty * factor, "dependent",
                                       str(plan.items.codes[parent]),
                                       _scaled(orders[b], factor),
                                       int(plan.calendar.start + bucket * plan.calendar.bucket_days)))
        out.sort(key=claim_order)
        return out

    def order_pegs(self, row: int) -> dict[int, Pegs]:
        """Pegs of each planned receipt of ``row`` (bucket -> pegs summing to its quantity)."""
        if row in self._orders:
            return self._orders[row]
        plan = self.plan
        label = self._label(row)
        reqs = self.requirements(row)
        safety = float(plan.items.safety_stock[plan.item[row]])
        queue: deque[list[Any]] = deque()  # [remaining, planned bucket or None]
        if plan.on_hand[row] > EPS:
            queue.append([float(plan.on_hand[row]), None])
        result: dict[int, Pegs] = {}
        claims: list[Requirement] = []
        if safety > EPS:
            claims.append(Requirement(0, safety, "safety_stock", label,
                                      {f"safety_stock:{label}": safety}))
        claims.extend(reqs)
        i = 0
        for b in range(plan.calendar.n_buckets):
            if plan.scheduled[row, b] > EPS:
                queue.append([float(plan.scheduled[row, b]), None])
            if plan.planned[row, b] > EPS:
                queue.append([float(plan.planned[row, b]), b])
                result[b] = {}
            while i < len(claims) and claims[i].bucket == b:
                claim = claims[i]
                i += 1
                left = claim.quantity
                while left > EPS and queue:
                    supply = queue[0]
                    take = min(left, supply[0])
                    if supply[1] is not None:
                        _add(result[supply[1]], claim.pegs, take / claim.quantity)
                    supply[0] -= take
                    left -= take
                    if supply[0] <= EPS:
                        queue.popleft()
        for remaining, bucket in queue:
            if bucket is not None and remaining > EPS:
                pegs = result[bucket]
                pegs[f"lot_size:{label}"] = pegs.get(f"lot_size:{label}", 0.0) + remaining
        self._orders[row] = result
        return result
