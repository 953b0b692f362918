"""Supplier slippage from the promise-date history of purchase-order lines.

Per line:

* ``promise_changes``: how often the promised date moved from one date to another (a first
  promise after none is not a change), each change counted once (see below);
* ``slip_vs_first_days`` = latest promise − first promise; ``slip_vs_requested_days`` = latest
  promise − requested date;
* ``ack_latency_days`` = acknowledgement date − order date (the PO's order date, else the day
  the line was first seen);
* received lines: ``on_time`` = received no later than requested, ``in_full`` = received at least
  the ordered quantity, ``delivery_slip_days`` = received date − first promise (requested date
  when never promised); a line re-promised at least once (``repromised``) also has
  ``slip_after_repromise_days`` = received date − latest promise (the re-promise it kept or not);
* open lines: ``days_late`` = today − (latest promise, else requested date) when positive. A line
  of an order whose header is cancelled or closed is not open (not late), whatever its own status
  says — the same rule as supply in :func:`~workbench.analysis.sources.open_purchase_lines`; what it
  received stays a delivery the supplier made.

**Expected slip: measured against the same kind of promise it is applied to.** A promise is
either a line's *first* promise (the requested date when the supplier never promised) or a
*re-promise* (any later promise). Per supplier, two statistics, each the 80th percentile of its
observations (early deliveries count as 0), shrunk toward 0 by ``n / (n + 5)`` for ``n``
observations (:func:`expected_slip`), so one bad delivery does not make a supplier "three weeks
late" while forty consistent ones do:

* ``expected_slip_days`` — from every received line, received − first promise: how late the
  supplier delivers against a first promise, re-promises included;
* ``expected_slip_after_repromise_days`` — from the received lines re-promised at least once,
  received − latest promise: how late it delivers against a promise it already moved.

The risk-adjusted plan (:func:`expected_arrivals`) moves an open line still on its first promise
by the first statistic and a re-promised line by the second, each from that line's current
promise. A supplier that announces its delay early and keeps the new promise thus gets no risk
on its re-promised lines (its re-promises are kept: slip 0 after a re-promise), while its lines
not yet re-promised still expect the slip its first promises had. The slip a line already
announced is never added again on top of its re-promise. A line with a pending **ship notice**
(``asn_quantity`` > 0 and an ``asn_date`` after the last receipt, if any; a notice without a
date is pending while nothing was received) is on its way: the notified quantity (at most what
is still to come) arrives on ``asn_date``, the notice's expected arrival (on its promise when the
notice has no date), and is never slipped; only the rest of the line, if any, is slipped as
above. Received
and closed lines are not supply at all. A new order (a requisition, see
:mod:`workbench.analysis.requisitions`) is a first promise: it is judged by ``expected_slip_days``.

**One history, each change once.** The promise history holds rows of two origins: ``source``
(the history the source system reports, with its own time stamps) and ``observed`` (the cache's
triggers record a promise they see change between two syncs, stamped with the sync's clock).
When a source reports its history, every change it reports is also observed by the next sync:
the same change twice, at two time stamps from two clocks. Counted naively, a source clock
behind the sync's makes A→B→C read A→B→C→B→C. So :func:`promise_history` keeps every source
row and drops an observed row of a line whose source reports the same promised date; observed
rows stay where the source reports no such promise (a source without history, or a change its
history missed). Promise changes, the first promise and the monthly trend all read that history.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.analysis.data import NO_DATE, PlanningData, day_number, day_numbers
from workbench.analysis.sources import EPS, OPEN_PURCHASE, ended_order_lines

SLIP_QUANTILE = 0.8
SHRINK_OBSERVATIONS = 5.0
RECEIVED = frozenset({"received", "closed"})


def expected_slip(slips: np.ndarray | list[float], quantile: float = SLIP_QUANTILE,
                  shrink: float = SHRINK_OBSERVATIONS) -> float:
    """The expected slip statistic of the module doc (days; 0 without observations)."""
    values = np.maximum(np.asarray(slips, dtype=float), 0.0)
    n = len(values)
    if n == 0:
        return 0.0
    return float(np.quantile(values, quantile) * n / (n + shrink))


@dataclass
class Slippage:
    lines: pd.DataFrame
    suppliers: pd.DataFrame
    monthly: pd.DataFrame

    def slip_days(self) -> dict[str, int]:
        """Supplier -> whole days to move its open PO lines still on their first promise in the
        risk-adjusted plan (suppliers with a slip only)."""
        return self._whole_days("expected_slip_days")

    def repromise_slip_days(self) -> dict[str, int]:
        """Supplier -> whole days to move its re-promised open PO lines (see module doc)."""
        return self._whole_days("expected_slip_after_repromise_days")

    def _whole_days(self, column: str) -> dict[str, int]:
        s = self.suppliers
        return {str(k): round(v) for k, v in zip(s["supplier"], s[column]) if round(v) > 0}

    def expected_arrivals(self, lines: pd.DataFrame) -> pd.DataFrame:
        """:func:`expected_arrivals` with this analysis' slips (a ``slip`` for
        :func:`workbench.analysis.sources.collect`)."""
        return expected_arrivals(lines, self.lines, self.slip_days(), self.repromise_slip_days())


def _dates(days: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Day numbers as dates, NaT where not ``known``."""
    out = np.where(known, days, 0).astype("datetime64[D]")
    out[~known] = np.datetime64("NaT")
    return out


def promise_history(changes: pd.DataFrame) -> pd.DataFrame:
    """The promise history with each change once (source rows preferred, see module doc), in
    the original row order."""
    if changes.empty or "origin" not in changes:
        return changes
    observed = (changes["origin"] == "observed").to_numpy()
    keys = ["purchase_order", "line", "promised_date"]
    source = changes.loc[~observed & changes["promised_date"].notna().to_numpy(), keys]
    reported = pd.MultiIndex.from_frame(source.drop_duplicates())
    repeats = observed & pd.MultiIndex.from_frame(changes[keys]).isin(reported)
    return changes[~repeats]


def _history(changes: pd.DataFrame) -> pd.DataFrame:
    """Per (purchase_order, line): first promise, last promise seen, number of changes."""
    h = changes[changes["promised_date"].notna()].sort_values(
        ["purchase_order", "line", "changed_at"], kind="stable")
    keys = ["purchase_order", "line"]
    prev = h.groupby(keys)["promised_date"].shift()
    h = h.assign(moved=(prev.notna() & (prev != h["promised_date"])).astype(int))
    g = h.groupby(keys)
    out = pd.DataFrame({
        "first_promise": g["promised_date"].first(),
        "last_seen_promise": g["promised_date"].last(),
        "promise_changes": g["moved"].sum(),
    })
    seen = changes.groupby(keys)["changed_at"].min().rename("first_seen")
    return out.join(seen, how="outer").reset_index()


def analyse(data: PlanningData, today: dt.date) -> Slippage:
    """Per-line and per-supplier slippage figures and the monthly trend (see module doc)."""
    pol = data.purchase_order_lines.copy()
    changes = promise_history(data.promise_changes)
    hist = _history(changes)
    pol = pol.merge(hist, on=["purchase_order", "line"], how="left")
    orders = data.purchase_orders[["code", "order_date"]].rename(columns={"code": "purchase_order"})
    pol = pol.merge(orders.drop_duplicates("purchase_order"), on="purchase_order", how="left")

    requested = day_numbers(pol["requested_date"])
    current = day_numbers(pol["promised_date"])
    first = day_numbers(pol["first_promise"])
    last_seen = day_numbers(pol["last_seen_promise"])
    latest = np.where(current != NO_DATE, current, last_seen)
    first = np.where(first != NO_DATE, first, latest)
    # the current promise differs from the last one the history holds: one more change
    extra = ((current != NO_DATE) & (last_seen != NO_DATE) & (current != last_seen)).astype(int)
    pol["promise_changes"] = pol["promise_changes"].fillna(0).astype(int) + extra
    has_promise = latest != NO_DATE
    pol["first_promise"] = _dates(first, has_promise)
    pol["latest_promise"] = _dates(latest, has_promise)
    pol["slip_vs_first_days"] = np.where(has_promise, latest - first, np.nan)
    pol["slip_vs_requested_days"] = np.where(has_promise, latest - requested, np.nan)

    ordered = day_numbers(pol["order_date"])
    first_seen = day_numbers(pd.to_datetime(pol["first_seen"]).dt.normalize())
    ordered = np.where(ordered != NO_DATE, ordered, first_seen)
    ack = day_numbers(pol["ack_date"])
    pol["ack_latency_days"] = np.where((ack != NO_DATE) & (ordered != NO_DATE),
                                       ack - ordered, np.nan)

    received_day = day_numbers(pol["received_date"])
    received = pol["status"].isin(RECEIVED).to_numpy() & (received_day != NO_DATE)
    pol["received"] = received
    pol["on_time"] = np.where(received, received_day <= requested, False)
    pol["in_full"] = np.where(received, pol["quantity_received"] >= pol["quantity_ordered"] - EPS,
                              False)
    pol["otif"] = pol["on_time"] & pol["in_full"]
    basis = np.where(has_promise, first, requested)
    pol["delivery_slip_days"] = np.where(received, received_day - basis, np.nan)
    pol["repromised"] = pol["promise_changes"].to_numpy() > 0
    pol["slip_after_repromise_days"] = np.where(received & pol["repromised"].to_numpy(),
                                                received_day - latest, np.nan)

    today_day = day_number(today)
    ended_order = ended_order_lines(pol, data.purchase_orders)
    is_open = pol["status"].isin(OPEN_PURCHASE).to_numpy() & ~ended_order & (
        pol["quantity_ordered"] - pol["quantity_received"] > EPS).to_numpy()
    due = np.where(has_promise, latest, requested)
    pol["open"] = is_open
    pol["days_late"] = np.where(is_open & (due < today_day), today_day - due, 0)
    pol["late"] = pol["days_late"] > 0

    suppliers = _per_supplier(pol, data.suppliers)
    monthly = _monthly(pol, changes)
    line_cols = ["purchase_order", "line", "supplier", "item", "site", "status",
                 "quantity_ordered", "quantity_received", "requested_date", "first_promise",
                 "latest_promise", "promise_changes", "slip_vs_first_days",
                 "slip_vs_requested_days", "ack_latency_days", "received_date",
                 "delivery_slip_days", "repromised", "slip_after_repromise_days", "on_time",
                 "in_full", "otif", "open", "late", "days_late"]
    return Slippage(pol[line_cols].sort_values(["supplier", "purchase_order", "line"])
                    .reset_index(drop=True), suppliers, monthly)


def _per_supplier(pol: pd.DataFrame, suppliers: pd.DataFrame) -> pd.DataFrame:
    g = pol.groupby("supplier")
    out = pd.DataFrame({
        "lines": g.size(),
        "open_lines": g["open"].sum(),
        "received_lines": g["received"].sum(),
        "promise_changes": g["promise_changes"].sum(),
        "mean_slip_vs_first_days": g["slip_vs_first_days"].mean(),
        "mean_slip_vs_requested_days": g["slip_vs_requested_days"].mean(),
        "mean_ack_latency_days": g["ack_latency_days"].mean(),
        # received lines only (NaN without any); no per-group apply, which breaks on no lines
        "otif_rate": pol[pol["received"]].groupby("supplier")["otif"].mean()
        .reindex(g.size().index),
        "open_late_lines": g["late"].sum(),
        "max_days_late": g["days_late"].max(),
        "expected_slip_days": g["delivery_slip_days"].apply(lambda s: expected_slip(s.dropna())),
        "expected_slip_after_repromise_days": g["slip_after_repromise_days"].apply(
            lambda s: expected_slip(s.dropna())),
    })
    out.index.name = "supplier"
    known = suppliers[["code", "name"]].rename(columns={"code": "supplier"})
    out = out.reset_index().merge(known, on="supplier", how="left")
    out["name"] = out["name"].fillna("")
    return out.sort_values("supplier").reset_index(drop=True)


def expected_arrivals(lines: pd.DataFrame, analysed: pd.DataFrame,
                      first_slip: dict[str, int], repromise_slip: dict[str, int]) -> pd.DataFrame:
    """Open PO lines (:func:`~workbench.analysis.sources.open_purchase_lines`: ``remaining``,
    ``due_day``) with ``expected_day``, the risk-adjusted arrival of the module doc: a pending
    ship notice's quantity on its ``asn_date``, unslipped (a row of its own); the rest on
    ``due_day`` + the supplier's slip for the line's kind of promise (``first_slip`` for a line
    still on its first promise, ``repromise_slip`` for one re-promised, per ``analysed``: the
    per-line figures of :func:`analyse`). The rows' ``remaining`` add up to the line's."""
    if lines.empty:
        return lines.assign(expected_day=lines["due_day"])
    keys = ["purchase_order", "line"]
    moved = analysed.set_index(keys)["promise_changes"]
    changes = moved.reindex(pd.MultiIndex.from_frame(lines[keys])).fillna(0).to_numpy()
    supplier = lines["supplier"]
    slip = np.where(changes > 0, supplier.map(repromise_slip).fillna(0).to_numpy(float),
                    supplier.map(first_slip).fillna(0).to_numpy(float)).astype(np.int64)
    remaining = lines["remaining"].to_numpy(float)
    asn_day = day_numbers(lines["asn_date"])
    received_day = day_numbers(lines["received_date"])
    dated = asn_day != NO_DATE
    pending = (lines["asn_quantity"].to_numpy(float) > EPS) & np.where(
        dated, (received_day == NO_DATE) | (asn_day > received_day), received_day == NO_DATE)
    asn_day = np.where(dated, asn_day, lines["due_day"].to_numpy(np.int64))
    notified = np.where(pending, np.minimum(lines["asn_quantity"].to_numpy(float), remaining), 0.0)
    rest = lines.assign(remaining=remaining - notified,
                        expected_day=lines["due_day"].to_numpy(np.int64) + slip)
    shipped = lines[notified > EPS].assign(remaining=notified[notified > EPS],
                                           expected_day=asn_day[notified > EPS])
    out = pd.concat([shipped, rest[rest["remaining"] > EPS]])
    return out.sort_index(kind="stable")


def _monthly(pol: pd.DataFrame, changes: pd.DataFrame) -> pd.DataFrame:
    rec = pol[pol["received"]].copy()
    rec["month"] = pd.to_datetime(rec["received_date"]).dt.strftime("%Y-%m")
    g = rec.groupby(["supplier", "month"])
    deliveries = pd.DataFrame({
        "received_lines": g.size(),
        "otif_rate": g["otif"].mean(),
        "mean_delivery_slip_days": g["delivery_slip_days"].mean(),
    })
    moved = changes.merge(pol[["purchase_order", "line", "supplier"]],
                          on=["purchase_order", "line"])
    moved = moved[moved["promised_date"].notna()].sort_values(
        ["purchase_order", "line", "changed_at"], kind="stable")
    prev = moved.groupby(["purchase_order", "line"])["promised_date"].shift()
    moved = moved[prev.notna() & (prev != moved["promised_date"])]
    moved = moved.assign(month=pd.to_datetime(moved["changed_at"]).dt.strftime("%Y-%m"))
    counts = moved.groupby(["supplier", "month"]).size().rename("promise_changes")
    out = deliveries.join(counts, how="outer").reset_index()
    out["received_lines"] = out["received_lines"].fillna(0).astype(int)
    out["promise_changes"] = out["promise_changes"].fillna(0).astype(int)
    return out.sort_values(["supplier", "month"]).reset_index(drop=True)
