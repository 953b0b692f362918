"""What netting starts from: stock on hand, scheduled receipts and independent requirements.

The planning rules of DESIGN.md, applied to the cache's rows:

* **On hand** is inventory with status ``available``; ``quality_hold`` and ``allocated`` stock is
  not available to plan. ``in_transit`` stock is a scheduled receipt on its ``expected_date``
  (the ship notice's arrival date; without one, it is counted as arriving now).
* **Scheduled receipts** are open purchase-order lines (every status still expecting goods, see
  :data:`~workbench.domain.enums.OPEN_PURCHASE_STATUSES`) for ``ordered - received`` on the
  promised date (the requested date when no promise was given), optionally moved by the
  supplier's expected slip; and open work orders (planned, released, in progress) for
  ``quantity - completed`` on their due date.
* **Independent requirements** are open demands (sales orders, forecasts, MPS) on their due date,
  and the component requirements of open work orders (``required - issued`` on the required date):
  an open work order's own components are taken from the order, not re-exploded from the BOM.
* Open requisitions are *not* supply: they are proposals the re-evaluation judges against the plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.analysis.data import PlanningData, day_numbers
from workbench.domain.enums import (
    OPEN_PURCHASE_STATUSES,
    DemandStatus,
    InventoryStatus,
    WorkOrderStatus,
)

OPEN_WORK_ORDER_STATUSES = frozenset(
    {WorkOrderStatus.PLANNED.value, WorkOrderStatus.RELEASED.value,
     WorkOrderStatus.IN_PROGRESS.value}
)
OPEN_PURCHASE = frozenset(s.value for s in OPEN_PURCHASE_STATUSES)

#: Quantities below this are treated as zero (float noise, not stock).
EPS = 1e-6


@dataclass
class Sources:
    """Frames with ``item, site`` codes, ``day`` (day number), ``quantity``, ``kind`` and ``ref``."""

    on_hand: pd.DataFrame  # item, site, quantity
    receipts: pd.DataFrame  # item, site, day, quantity, kind, ref, supplier, promised_day
    requirements: pd.DataFrame  # item, site, day, quantity, kind, ref, peg
    #: per frame name: (item numbering, site index, item * n_sites + site of each row)
    _keys: dict[str, tuple[object, pd.Index, np.ndarray]] = field(
        default_factory=dict, init=False, repr=False, compare=False)

    def keys(self, name: str, items: Any, sites: pd.Index) -> np.ndarray:
        """Row keys ``item * len(sites) + site`` of frame ``name`` (``on_hand``, ``receipts``,
        ``requirements``), computed once per numbering: code lookups for a million rows are the
        costly part and a session plans the same sources several times."""
        hit = self._keys.get(name)
        if hit is not None and hit[0] is items and hit[1].equals(sites):
            return hit[2]
        frame: pd.DataFrame = getattr(self, name)
        key = items.idx(frame["item"]).astype(np.int64) * len(sites) + \
            sites.get_indexer(frame["site"])
        self._keys[name] = (items, sites, key)
        return key


def open_purchase_lines(data: PlanningData) -> pd.DataFrame:
    """Open PO lines with ``remaining`` quantity and ``due_day`` (promise, else requested date)."""
    pol = data.purchase_order_lines
    pol = pol[pol["status"].isin(OPEN_PURCHASE)].copy()
    pol["remaining"] = (pol["quantity_ordered"] - pol["quantity_received"]).clip(lower=0.0)
    promised = day_numbers(pol["promised_date"])
    requested = day_numbers(pol["requested_date"])
    pol["due_day"] = np.where(pol["promised_date"].isna(), requested, promised)
    return pol[pol["remaining"] > EPS]


def open_work_orders(data: PlanningData) -> pd.DataFrame:
    wo = data.work_orders
    wo = wo[wo["status"].isin(OPEN_WORK_ORDER_STATUSES)].copy()
    wo["remaining"] = (wo["quantity"] - wo["completed_quantity"]).clip(lower=0.0)
    return wo


def collect(data: PlanningData, slip_days: Mapping[str, int] | None = None) -> Sources:
    """Gather on-hand, receipts and independent requirements from normalised frames.

    ``slip_days`` (supplier -> days) moves each open PO line of that supplier later by that many
    days: the risk-adjusted view. Without slips the result is computed once per set of frames
    (see :meth:`PlanningData.derived`); it is read-only.
    """
    if not slip_days:
        frames = (data.inventory, data.purchase_order_lines, data.work_orders, data.demands,
                  data.work_order_components)
        return data.derived("sources", frames,
                            lambda: _collect(data, None))
    return _collect(data, slip_days)


def _collect(data: PlanningData, slip_days: Mapping[str, int] | None) -> Sources:
    inv = data.inventory
    avail = inv[inv["status"] == InventoryStatus.AVAILABLE.value]
    on_hand = avail.groupby(["item", "site"], as_index=False, sort=False)["quantity"].sum()

    transit = inv[inv["status"] == InventoryStatus.IN_TRANSIT.value]
    transit_day = day_numbers(transit["expected_date"])
    receipts = [
        pd.DataFrame({
            "item": transit["item"].to_numpy(), "site": transit["site"].to_numpy(),
            "day": transit_day, "quantity": transit["quantity"].to_numpy(float),
            "kind": "in_transit",
            "ref": (transit["location"] + "/" + transit["lot"]).to_numpy(),
            "supplier": "", "promised_day": transit_day,
        })
    ]
    pol = open_purchase_lines(data)
    slip = np.zeros(len(pol), np.int64)
    if slip_days:
        slip = pol["supplier"].map(dict(slip_days)).fillna(0).to_numpy(np.int64)
    receipts.append(pd.DataFrame({
        "item": pol["item"].to_numpy(), "site": pol["site"].to_numpy(),
        "day": pol["due_day"].to_numpy(np.int64) + slip,
        "quantity": pol["remaining"].to_numpy(float), "kind": "purchase_order",
        "ref": (pol["purchase_order"] + "/" + pol["line"].astype(str)).to_numpy(),
        "supplier": pol["supplier"].to_numpy(), "promised_day": pol["due_day"].to_numpy(np.int64),
    }))
    wo = open_work_orders(data)
    wo_due = day_numbers(wo["due_date"])
    receipts.append(pd.DataFrame({
        "item": wo["item"].to_numpy(), "site": wo["site"].to_numpy(), "day": wo_due,
        "quantity": wo["remaining"].to_numpy(float), "kind": "work_order",
        "ref": wo["code"].to_numpy(), "supplier": "", "promised_day": wo_due,
    }))
    receipt_frame = pd.concat(receipts, ignore_index=True)
    receipt_frame = receipt_frame[receipt_frame["quantity"] > EPS].reset_index(drop=True)

    dem = data.demands
    dem = dem[dem["status"] == DemandStatus.OPEN.value]
    requirements = [pd.DataFrame({
        "item": dem["item"].to_numpy(), "site": dem["site"].to_numpy(),
        "day": day_numbers(dem["due_date"]), "quantity": dem["quantity"].to_numpy(float),
        "kind": "demand", "ref": dem["code"].to_numpy(), "peg": dem["code"].to_numpy(),
    })]
    woc = data.work_order_components.merge(
        wo[["code", "site", "demand"]].rename(columns={"code": "work_order"}), on="work_order"
    )
    woc_peg = np.where(woc["demand"] != "", woc["demand"], "work_order:" + woc["work_order"])
    requirements.append(pd.DataFrame({
        "item": woc["component"].to_numpy(), "site": woc["site"].to_numpy(),
        "day": day_numbers(woc["required_date"]),
        "quantity": (woc["required_quantity"] - woc["issued_quantity"]).clip(lower=0).to_numpy(float),
        "kind": "work_order", "ref": woc["work_order"].to_numpy(), "peg": woc_peg,
    }))
    req_frame = pd.concat(requirements, ignore_index=True)
    req_frame = req_frame[req_frame["quantity"] > EPS].reset_index(drop=True)
    return Sources(on_hand=on_hand, receipts=receipt_frame, requirements=req_frame)
