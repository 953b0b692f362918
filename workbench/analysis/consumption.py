"""Forecast consumption: sales orders consume the forecast of their item and site.

A forecast says how much customers are expected to order; a sales order is part of that
expectation coming true. Counting both as requirements plans the same demand twice and
overstates every shortage of an item that has both. So, per item and site:

* **Who consumes.** Each open sales order, in due-date order (ties by code, so the result never
  depends on row order), consumes open *planned* demand of its item at its site.
* **Backward first.** Planned demand due on or before the order's due date and at most
  ``backward_days`` earlier, nearest first (same-day entries by code).
* **Then forward.** What is still unmatched consumes planned demand due after the order's due
  date and at most ``forward_days`` later, nearest first (same-day entries by code).
* **What remains.** Consumed quantity disappears; the unconsumed rest of each forecast entry stays
  a requirement on its own date, under its own code (pegging reports the forecast with its
  reduced quantity). Sales orders are always requirements in full, even beyond all forecast.
  Sites never mix: an order consumes nothing at another site.
* **MPS entries are consumed like forecast.** They are planned independent requirements (what
  the master scheduler expects to need, sales orders included), not firm customer demand, so a
  sales order realises part of them exactly as it realises part of a forecast; leaving them
  untouched would count an item with an MPS and orders twice, the very error this module
  removes. Forecast and MPS entries of an item/site form one pool, ordered by date and code.
* **Past due.** Consumption itself ignores the planning day (it matches dates with dates, so it
  is computed once per load). Forecast (and MPS) still unconsumed on a date *before* the planning
  day did not turn into orders in time and is not planned at all:
  :func:`workbench.analysis.sources.requirement_buckets` drops it, where past-due sales orders
  stay in the first bucket. An order may consume past-due forecast within its backward window —
  that forecast is what it realises.

Windows are in calendar days, inclusive. Defaults (DESIGN.md and the reference notes state
none): 30 days backward, an order realises forecast of its own and the preceding month; 0
forward, forecast due after an order stays planned in full, so an early order never lowers a
later period's plan (the cautious side: raise it where customers order ahead of the forecast).
``backward_days=0`` still consumes forecast due on the order's own day; planning *without*
consumption (every open demand a requirement in full, past-due forecast in the first bucket, the
behaviour before this rule) is asked for with ``None`` instead of a :class:`ForecastConsumption`.

The matching is sequential by nature (each order sees what earlier orders left). Everything
around it is arrays: which item/sites have both kinds (the others keep their quantities without
a Python step), the two date orders of the forecast, each order's window as positions found by
binary search. The Python loop then only walks each order's window, skipping used-up forecast
through pointers it shortens as it goes, so its cost is about one step per order plus one per
forecast entry consumed, whatever the windows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.analysis.data import NO_DATE
from workbench.domain.enums import DemandKind

#: Demand kinds an order consumes (planned independent requirements, not firm demand).
PLANNED_KINDS: frozenset[str] = frozenset({DemandKind.FORECAST.value, DemandKind.MPS.value})
#: Demand kinds that consume (firm customer demand).
FIRM_KINDS: frozenset[str] = frozenset({DemandKind.SALES_ORDER.value})

#: Quantities below this are treated as zero (same as :data:`workbench.analysis.sources.EPS`).
_EPS = 1e-6


@dataclass(frozen=True)
class ForecastConsumption:
    """The consumption windows, in calendar days (planning parameters, see module doc)."""

    backward_days: int = 30
    forward_days: int = 0

    def __post_init__(self) -> None:
        if self.backward_days < 0 or self.forward_days < 0:
            raise ValueError("forecast consumption windows must be zero or more days")

    @property
    def label(self) -> str:
        return f"back {self.backward_days}d, forward {self.forward_days}d"


#: The windows planning uses unless told otherwise.
DEFAULT_CONSUMPTION = ForecastConsumption()


@dataclass
class Consumption:
    """The outcome for a set of demand rows (arrays aligned with the rows given)."""

    #: the requirement each row leaves: orders in full, forecast/MPS less what orders consumed
    remaining: np.ndarray
    #: ``planned`` rows (forecast, MPS) are the ones past-due dropping applies to
    planned: np.ndarray
    #: one row per (order, forecast) match in consumption order: ``order`` and ``forecast``
    #: positions into the rows given, ``quantity`` consumed
    matches: pd.DataFrame


def consume(item: np.ndarray, site: np.ndarray, day: np.ndarray, quantity: np.ndarray,
            kind: np.ndarray, code: np.ndarray,
            windows: ForecastConsumption | None = DEFAULT_CONSUMPTION) -> Consumption:
    """Consume planned demand by firm demand, row arrays of open demands (see module doc).

    ``day`` is the due date as a day number; ``code`` breaks ties. With ``windows=None`` nothing
    is consumed and nothing is marked ``planned``: the old every-demand-in-full behaviour.
    """
    remaining = np.asarray(quantity, dtype=float).copy()
    kind = np.asarray(kind, dtype=object)
    planned = np.isin(kind, list(PLANNED_KINDS))
    firm = np.isin(kind, list(FIRM_KINDS))
    no_matches = pd.DataFrame({"order": np.zeros(0, np.int64), "forecast": np.zeros(0, np.int64),
                               "quantity": np.zeros(0)})
    if windows is None:
        return Consumption(remaining, np.zeros(len(remaining), bool), no_matches)
    group = _groups(item, site)
    n_groups = int(group.max(initial=-1)) + 1
    both = (np.bincount(group[planned], minlength=n_groups) > 0) & \
        (np.bincount(group[firm], minlength=n_groups) > 0)
    day = np.asarray(day, dtype=np.int64)
    rows = np.flatnonzero(both[group] & (planned | firm) & (day != NO_DATE))
    if len(rows) == 0:
        return Consumption(remaining, planned, no_matches)
    # from here on positions are local to ``rows`` (only item/sites with orders and forecast)
    is_order = firm[rows]
    key = group[rows] * _SPAN + day[rows]  # sorts by item/site, then date
    rank = _tie_rank(key, is_order, np.asarray(code, dtype=object)[rows])
    fc = np.flatnonzero(~is_order)
    # forecast by date twice: latest first (the backward walk) and earliest first (forward);
    # same-day entries by code either way
    before = fc[np.lexsort((rank[fc], -key[fc]))]
    after = fc[np.lexsort((rank[fc], key[fc]))]
    orders = np.flatnonzero(is_order)
    orders = orders[np.lexsort((rank[orders], key[orders]))]
    o_key = key[orders]
    back_key, ahead_key = -key[before], key[after]
    bounds = np.stack([np.searchsorted(back_key, -o_key, "left"),
                       np.searchsorted(back_key, windows.backward_days - o_key, "right"),
                       np.searchsorted(ahead_key, o_key, "right"),
                       np.searchsorted(ahead_key, o_key + windows.forward_days, "right")])
    reach = (bounds[0] < bounds[1]) | (bounds[2] < bounds[3])  # any forecast in its windows
    orders, bounds = orders[reach], bounds[:, reach]
    rem = remaining[rows].tolist()
    matches = _walk(orders.tolist(), bounds.tolist(), before.tolist(), after.tolist(), rem)
    remaining[rows] = rem
    return Consumption(remaining, planned, pd.DataFrame({
        "order": rows[np.array(matches[0], np.int64)],
        "forecast": rows[np.array(matches[1], np.int64)],
        "quantity": np.array(matches[2], float)}))


#: day numbers of real dates stay far below this, so ``group * _SPAN + day`` sorts by group, day
_SPAN = np.int64(1) << 32


def _groups(item: np.ndarray, site: np.ndarray) -> np.ndarray:
    """One number per (item, site) pair."""
    item_id, _ = pd.factorize(np.asarray(item, dtype=object))
    site_id, sites = pd.factorize(np.asarray(site, dtype=object))
    return item_id.astype(np.int64) * max(len(sites), 1) + site_id


def _tie_rank(key: np.ndarray, is_order: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Code order among entries of one kind due the same day at the same item/site (0 for the
    rest): sorting the few tied codes instead of all of them."""
    order = np.lexsort((is_order, key))
    same = (key[order][1:] == key[order][:-1]) & (is_order[order][1:] == is_order[order][:-1])
    tied = np.zeros(len(key), bool)
    tied[order[1:][same]] = True
    tied[order[:-1][same]] = True
    rank = np.zeros(len(key), np.int64)
    if tied.any():
        rank[tied] = pd.factorize(codes[tied], sort=True)[0]
    return rank


def _walk(orders: list[int], bounds: list[list[int]], before: list[int], after: list[int],
          rem: list[float]) -> tuple[list[int], list[int], list[float]]:
    """The sequential matching of the module doc, order by order; updates ``rem``.

    Each order walks ``before`` (forecast latest first) over its backward window, positions
    ``bounds[0]`` to ``bounds[1]`` (exclusive), then ``after`` (earliest first) over its forward
    window, ``bounds[2]`` to ``bounds[3]``.
    """
    skip_before = list(range(1, len(before) + 1))
    skip_after = list(range(1, len(after) + 1))
    matches: tuple[list[int], list[int], list[float]] = ([], [], [])
    for o, b_lo, b_hi, a_lo, a_hi in zip(orders, *bounds):
        left = rem[o]
        if b_lo < b_hi:
            left = _take(o, left, before, skip_before, b_lo, b_hi, rem, matches)
        if a_lo < a_hi and left > _EPS:
            _take(o, left, after, skip_after, a_lo, a_hi, rem, matches)
    return matches


def _take(order: int, left: float, walk: list[int], skip: list[int], p: int, end: int,
          rem: list[float], matches: tuple[list[int], list[int], list[float]]) -> float:
    """``order`` takes up to ``left`` from the forecast ``walk[p:end]`` in that order; returns
    what it still lacks. Forecast used up is passed over through ``skip`` (next position to
    look at), shortened after every walk (path compression): a used-up entry costs one step,
    not one per later order."""
    seen: list[int] = []
    while left > _EPS and p < end:
        f = walk[p]
        r = rem[f]
        if r > _EPS:
            take = left if left < r else r
            left -= take
            matches[0].append(order)
            matches[1].append(f)
            matches[2].append(take)
            if r - take > _EPS:
                rem[f] = r - take
                break
            rem[f] = 0.0
        seen.append(p)
        p = skip[p]
    for v in seen:
        skip[v] = p
    return left
