"""What netting starts from: stock on hand, scheduled receipts and independent requirements.

The planning rules of DESIGN.md, applied to the cache's rows:

* **On hand** is inventory with status ``available``, plus what allocated stock leaves over
  (below); ``quality_hold`` stock is not available to plan. ``in_transit`` stock is a scheduled
  receipt on its ``expected_date`` (the ship notice's arrival date; without one, it is counted as
  arriving now).
* **Allocated (reserved) stock is counted once** (:func:`serve_allocations`): it is on hand that
  first serves the requirement it is reserved for. Stock whose ``allocated_to`` names a work
  order or a demand the cache knows nets against that order's open requirement of the same item
  at the same site (the work order's component requirement, the demand's own quantity after
  forecast consumption; earliest required first); what the reservation holds beyond that
  requirement, and all of a reservation whose order is no longer open (completed, closed,
  cancelled: the requirement it was made for is gone, the stock is still there), is available
  on hand like any other stock. Stock reserved for a target the cache does not know (or for none:
  ``allocated_to`` empty, e.g. a transfer or a delivery of a system the plan does not read) covers
  nothing in this plan: it stays out of on hand, as the old rule had all allocated stock, since
  netting it against the item's requirements would hand out stock that is spoken for elsewhere.
  It does not vanish silently: :attr:`Sources.allocations` lists every reservation with what it
  serves, what it leaves available and what covers nothing here (``unplanned``).
* **Scheduled receipts** are open purchase-order lines (every status still expecting goods, see
  :data:`~workbench.domain.enums.OPEN_PURCHASE_STATUSES`, of an order whose header is neither
  cancelled nor closed: such an order is no supply whatever its lines say) for ``ordered - received`` on the
  promised date (the requested date when no promise was given) — in the risk-adjusted view at
  their expected arrival instead (:func:`workbench.analysis.slippage.expected_arrivals`: ship
  notice, else promise + the supplier's slip for that kind of promise); and open work orders
  (planned, released, in progress) for ``quantity - completed`` on their due date.
* **Independent requirements** are open demands (sales orders, forecasts, MPS) on their due date,
  and the component requirements of open work orders (``required - issued`` on the required date):
  an open work order's own components are taken from the order, not re-exploded from the BOM.
* **Forecast consumption** (:mod:`workbench.analysis.consumption`): sales orders consume the
  forecast and MPS of their item and site within a backward window (default 30 days), then a
  forward window (default 0 days), nearest first, orders in due-date order. Sales orders stay
  requirements in full; a forecast (or MPS) entry is a requirement only for what orders left of
  it, under its own code, and what is left of it before the planning day is not planned
  (:func:`requirement_buckets`). ``consumption=None`` plans every open demand in full (the rule
  before consumption existed).
* Open requisitions are *not* supply: they are proposals the re-evaluation judges against the plan.
* **Where an item is planned** (:func:`planned_item_sites`, before BOM explosion): at every site
  where it has a stock row (any status, any quantity, zero included), an open demand (any
  quantity, any date), an open work order making it or needing it as a component, or an open
  purchase-order line. Netting adds every site where a parent planned there uses it through a
  BOM line in force in the horizon; the item's safety stock applies at each of these sites
  (see :mod:`workbench.analysis.netting`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.analysis.calendar import Calendar
from workbench.analysis.consumption import DEFAULT_CONSUMPTION, ForecastConsumption, consume
from workbench.analysis.data import PlanningData, day_numbers, release_free_memory
from workbench.domain.enums import (
    OPEN_PURCHASE_STATUSES,
    DemandStatus,
    InventoryStatus,
    PurchaseStatus,
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
    #: item, site, day, quantity, kind, ref, peg, demand_kind ("" for work orders), priority
    #: (the demand's, 0 for work orders; pegging order, see :mod:`workbench.analysis.pegging`) and
    #: drop_past_due (forecast/MPS under consumption: not planned before the planning day)
    requirements: pd.DataFrame
    #: item, site: where each item is planned before BOM explosion (:func:`planned_item_sites`)
    planned: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        {"item": pd.Series(dtype=str), "site": pd.Series(dtype=str)}))
    #: per reservation (item, site, allocated_to): quantity, serves (netted against its
    #: target's requirement), available (added to on hand), unplanned (target unknown: covers
    #: nothing in this plan); see :func:`serve_allocations`
    allocations: pd.DataFrame = field(default_factory=lambda: _no_allocations())
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


#: Header statuses that end every line of the order, whatever the line's own status says.
ENDED_PURCHASE_HEADERS = frozenset({PurchaseStatus.CANCELLED.value, PurchaseStatus.CLOSED.value})


ALLOCATION_KEY = ["allocated_to", "item", "site"]


def _no_allocations() -> pd.DataFrame:
    return pd.DataFrame({"allocated_to": pd.Series(dtype=str), "item": pd.Series(dtype=str),
                         "site": pd.Series(dtype=str), "quantity": pd.Series(dtype=float),
                         "serves": pd.Series(dtype=float), "available": pd.Series(dtype=float),
                         "unplanned": pd.Series(dtype=float)})


def serve_allocations(allocated: pd.DataFrame, requirements: pd.DataFrame,
                      known_targets: pd.Index) -> tuple[np.ndarray, pd.DataFrame]:
    """Net reserved stock against the requirement it is reserved for (rule in the module doc).

    ``allocated``: inventory rows of status allocated (item, site, allocated_to, quantity);
    ``requirements``: rows with item, site, day, quantity and ``ref`` (the demand or work order
    code); ``known_targets``: every work-order and demand code of the cache, open or not.
    Returns the requirements' quantities less what reservations serve, and per reservation
    (item, site, target) what it serves, leaves available and covers nowhere (``unplanned``).
    Every quantity is a continuous function of the inputs: one more unit reserved serves at most
    one more unit of its order's requirement, or becomes one more unit on hand.
    """
    qty = requirements["quantity"].to_numpy(float).copy()
    if not len(allocated):
        return qty, _no_allocations()
    groups = allocated.groupby(ALLOCATION_KEY, as_index=False, sort=True)["quantity"].sum()
    reserved = groups["quantity"].to_numpy(float)
    target = groups["allocated_to"]
    known = (target != "").to_numpy() & target.isin(known_targets).to_numpy()
    served: np.ndarray = np.zeros(len(groups))
    group_of = pd.MultiIndex.from_frame(groups[ALLOCATION_KEY]).get_indexer(
        pd.MultiIndex.from_arrays([requirements["ref"].to_numpy(object),
                                   requirements["item"].to_numpy(object),
                                   requirements["site"].to_numpy(object)]))
    rows = np.flatnonzero(group_of >= 0)
    rows = rows[known[group_of[rows]] & (qty[rows] > 0)]
    if len(rows):
        day = requirements["day"].to_numpy(np.int64)
        rows = rows[np.lexsort((rows, day[rows], group_of[rows]))]  # per group, earliest first
        g, q = group_of[rows], qty[rows]
        cum = np.cumsum(q)
        first = np.concatenate([[True], g[1:] != g[:-1]])
        before = cum - q - np.maximum.accumulate(np.where(first, cum - q, 0.0))
        take = np.clip(reserved[g] - before, 0.0, q)
        qty[rows] = q - take
        served = np.bincount(g, weights=take, minlength=len(groups))
    report = groups.assign(serves=served, available=np.where(known, reserved - served, 0.0),
                           unplanned=np.where(known, 0.0, reserved))
    return qty, report


def planned_item_sites(data: PlanningData, work_orders: pd.DataFrame,
                       components: pd.DataFrame, purchase_lines: pd.DataFrame) -> pd.DataFrame:
    """The (item, site) pairs where an item is planned before BOM explosion: a stock row of any
    status and quantity, an open demand (whatever its quantity and date), an open work order
    (``work_orders``) or one of its components (``components``: component, site), an open
    purchase-order line (``purchase_lines``).

    The rows say *where* an item is planned, not how much: a row's quantity or date moving
    (to zero, beyond the horizon) never takes the item off the site, so the safety stock that
    applies there does not appear or vanish with it.
    """
    demands = data.demands[data.demands["status"] == DemandStatus.OPEN.value]
    parts = [data.inventory[["item", "site"]], demands[["item", "site"]],
             work_orders[["item", "site"]],
             components[["component", "site"]].rename(columns={"component": "item"}),
             purchase_lines[["item", "site"]]]
    pairs = pd.concat(parts, ignore_index=True).drop_duplicates(ignore_index=True)
    return pairs[(pairs["item"] != "") & (pairs["site"] != "")].reset_index(drop=True)


def ended_order_lines(pol: pd.DataFrame, headers: pd.DataFrame) -> np.ndarray:
    """Per PO line of ``pol``: does its order's header (in ``headers``) say cancelled or closed?
    Such a line is never open supply nor an open (late) line, whatever its own status."""
    if not len(headers) or not len(pol):
        return np.zeros(len(pol), dtype=bool)
    ended = headers.loc[headers["status"].isin(ENDED_PURCHASE_HEADERS), "code"]
    return pol["purchase_order"].isin(ended).to_numpy()


#: sources of more rows give the heap pages their collection freed back to the system before
#: the last step (issue 16 §3: preparation peak 1.01 -> 0.95 GiB on the large demo; the trim
#: takes 30-100 ms there, so not for a replan's few items)
_TRIM_ROWS = 100_000


def open_purchase_lines(data: PlanningData) -> pd.DataFrame:
    """Open PO lines with ``remaining`` quantity and ``due_day`` (promise, else requested date).

    A line is open when its own status expects goods *and* its order's header is neither
    cancelled nor closed: a cancelled or closed order is no supply, whatever its lines say
    (sources often leave the lines of a cancelled or short-closed order untouched). A line whose
    header is not in the cache counts by its own status.
    """
    pol = data.purchase_order_lines
    open_line = pol["status"].isin(OPEN_PURCHASE).to_numpy() & ~ended_order_lines(pol, data.purchase_orders)
    pol = pol[open_line].copy()
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


#: The risk-adjusted view's move of open PO lines: supplier -> days (every open line of the
#: supplier alike), or a function from the open lines (:func:`open_purchase_lines`) to the rows
#: with ``expected_day`` (rows may be split, ``remaining`` adding up to the line's), e.g.
#: :meth:`workbench.analysis.slippage.Slippage.expected_arrivals`.
Slip = Mapping[str, int] | Callable[[pd.DataFrame], pd.DataFrame]


def collect(data: PlanningData, slip_days: Slip | None = None,
            consumption: ForecastConsumption | None = DEFAULT_CONSUMPTION) -> Sources:
    """Gather on-hand, receipts and independent requirements from normalised frames.

    ``slip_days`` (:data:`Slip`) moves open PO lines to their expected arrival: the
    risk-adjusted view. ``consumption``: the forecast consumption windows, ``None`` for
    none (see module doc). Without slips the result is computed once per set of frames and
    windows (see :meth:`PlanningData.derived`); it is read-only.
    """
    if not slip_days:
        frames = (data.inventory, data.purchase_orders, data.purchase_order_lines,
                  data.work_orders, data.demands, data.work_order_components)
        return data.derived(f"sources:{_label(consumption)}", frames,
                            lambda: _collect(data, None, consumption))
    return _collect(data, slip_days, consumption)


def _label(consumption: ForecastConsumption | None) -> str:
    return "no consumption" if consumption is None else consumption.label


def demand_requirements(data: PlanningData,
                        consumption: ForecastConsumption | None = DEFAULT_CONSUMPTION
                        ) -> pd.DataFrame:
    """Open demands as requirements after forecast consumption (consumed ones at quantity 0),
    computed once per demand frame and windows (the risk-adjusted plan reuses it)."""
    return data.derived(f"demand_requirements:{_label(consumption)}", (data.demands,),
                        lambda: _demand_requirements(data.demands, consumption))


def _demand_requirements(demands: pd.DataFrame,
                         consumption: ForecastConsumption | None) -> pd.DataFrame:
    dem = demands[demands["status"] == DemandStatus.OPEN.value]
    day = day_numbers(dem["due_date"])
    code = dem["code"].to_numpy()
    kind = dem["kind"].to_numpy()
    used = consume(dem["item"].to_numpy(), dem["site"].to_numpy(), day,
                   dem["quantity"].to_numpy(float), kind, code, consumption)
    return pd.DataFrame({
        "item": dem["item"].to_numpy(), "site": dem["site"].to_numpy(), "day": day,
        "quantity": used.remaining, "kind": "demand", "ref": code, "peg": code,
        "demand_kind": kind, "drop_past_due": used.planned,
        "priority": dem["priority"].to_numpy(np.int64),
    })


def requirement_buckets(requirements: pd.DataFrame, calendar: Calendar) -> np.ndarray:
    """The bucket each requirement row is planned in, -1 for none: beyond the horizon, or
    forecast/MPS left unconsumed on a date before the planning day (it did not become orders in
    time and is not demand any more; a past-due sales order or component requirement is still
    owed and stays in bucket 0)."""
    day = requirements["day"].to_numpy(np.int64)
    bucket = calendar.bucket(day)
    expired = requirements["drop_past_due"].to_numpy(bool) & (day < calendar.today)
    return np.where(expired, -1, bucket)


def _collect(data: PlanningData, slip_days: Slip | None,
             consumption: ForecastConsumption | None) -> Sources:
    inv = data.inventory
    # only the columns read below: every local here lives until the end, under the peak of the
    # preparation (issue 16 §3)
    avail = inv.loc[(inv["status"] == InventoryStatus.AVAILABLE.value).to_numpy(),
                    ["item", "site", "quantity"]]

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
    if callable(slip_days):
        pol = slip_days(pol)
    else:
        slip = pol["supplier"].map(dict(slip_days or {})).fillna(0).to_numpy(np.int64)
        pol = pol.assign(expected_day=pol["due_day"].to_numpy(np.int64) + slip)
    receipts.append(pd.DataFrame({
        "item": pol["item"].to_numpy(), "site": pol["site"].to_numpy(),
        "day": pol["expected_day"].to_numpy(np.int64),
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

    requirements = [demand_requirements(data, consumption)]
    woc = data.work_order_components[
        ["work_order", "component", "required_date", "required_quantity", "issued_quantity"]
    ].merge(wo[["code", "site", "demand"]].rename(columns={"code": "work_order"}), on="work_order")
    # "work_order:<code>" made once per work order, not once per component line (915k new
    # strings on the large demo, 55 MiB)
    order, orders = pd.factorize(woc["work_order"].to_numpy(object), use_na_sentinel=False)
    order_peg = np.array([f"work_order:{c}" if isinstance(c, str) else c for c in orders]
                         + [None], dtype=object)[:-1]  # (an array of objects, never of lists)
    woc_peg = np.where(woc["demand"] != "", woc["demand"], order_peg[order])
    requirements.append(pd.DataFrame({
        "item": woc["component"].to_numpy(), "site": woc["site"].to_numpy(),
        "day": day_numbers(woc["required_date"]),
        "quantity": (woc["required_quantity"] - woc["issued_quantity"]).clip(lower=0).to_numpy(float),
        "kind": "work_order", "ref": woc["work_order"].to_numpy(), "peg": woc_peg,
        "demand_kind": "", "drop_past_due": False, "priority": 0,
    }))
    req_frame = pd.concat(requirements, ignore_index=True)
    known = pd.Index(np.concatenate([data.work_orders["code"].to_numpy(object),
                                     data.demands["code"].to_numpy(object)]))
    served, allocations = serve_allocations(
        inv[inv["status"] == InventoryStatus.ALLOCATED.value], req_frame, known)
    req_frame["quantity"] = served
    req_frame = req_frame[req_frame["quantity"] > EPS].reset_index(drop=True)
    left = allocations[allocations["available"] > EPS]
    stock = pd.concat([avail[["item", "site", "quantity"]],
                       left[["item", "site"]].assign(quantity=left["available"])],
                      ignore_index=True)
    on_hand = stock.groupby(["item", "site"], as_index=False, sort=False)["quantity"].sum()
    if len(req_frame) + len(stock) > _TRIM_ROWS:  # a whole plant's sources, not a replan's few
        del inv, transit, receipts, requirements
        release_free_memory()  # the freed temporaries before the last step's (the peak)
    planned = planned_item_sites(data, wo, woc, pol)
    return Sources(on_hand=on_hand, receipts=receipt_frame, requirements=req_frame,
                   allocations=allocations, planned=planned)
