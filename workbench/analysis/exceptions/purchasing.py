"""Rules on supplier confirmations and ship notices: E10-E12 (docs/exceptions.md).

They read open PO lines (:func:`workbench.analysis.sources.open_purchase_lines`: the line's
status expects goods and its order is neither cancelled nor closed; ``lines`` passes them in
when the caller has them already); the element is
``PO/line``. The model keeps one promised date per line and an acknowledgement status
(``none``, ``accepted``, ``changed``, ``rejected``), no confirmed quantity of its own: a
supplier who confirms another quantity acknowledges ``changed``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.analysis.data import NO_DATE, PlanningData, day_numbers
from workbench.analysis.sources import EPS, open_purchase_lines
from workbench.domain.enums import AckStatus, PurchaseStatus

from .kinds import ExceptionSettings, frame


def _lines(data: PlanningData, lines: pd.DataFrame | None) -> pd.DataFrame:
    return open_purchase_lines(data) if lines is None else lines


def _po(pol: pd.DataFrame, mask: np.ndarray, kind: str, columns: dict[str, object]
        ) -> pd.DataFrame:
    """The message frame of the lines of ``pol`` flagged in ``mask``: the columns a message
    reads are taken for those lines only (not the 24 columns of the line frame), and their
    ``PO/line`` elements made for them alone (the three rules made them for every open line
    before: 100,000 texts three times on the large demo)."""
    def col(name: str) -> np.ndarray:
        return pol[name].to_numpy()[mask]

    base: dict[str, object] = {
        "element": (pd.Series(col("purchase_order"), dtype=pol["purchase_order"].dtype) + "/"
                    + pd.Series(col("line"), dtype=pol["line"].dtype).astype(str)).to_numpy(),
        "element_type": "purchase_order_line", "item": col("item"), "site": col("site"),
        "supplier": col("supplier"), "due_day": col("due_day").astype(np.int64),
        "quantity": col("remaining").astype(float)}
    base.update(columns)
    return frame(kind, int(np.count_nonzero(mask)), base)


def confirmation_missing(data: PlanningData, today: int, s: ExceptionSettings,
                         lines: pd.DataFrame | None = None) -> pd.DataFrame:
    """E10: a line sent to the supplier (status ``sent``) without acknowledgement
    (``ack_status = none``) more than ``confirmation_days`` after its order's order date;
    ``days`` = days since the order date. A line whose order has no order date is not judged.
    (The order date is looked up for the sent, unacknowledged lines only.)"""
    pol = _lines(data, lines)
    sent = ((pol["status"] == PurchaseStatus.SENT.value)
            & (pol["ack_status"] == AckStatus.NONE.value)).to_numpy()
    orders = data.purchase_orders.drop_duplicates("code").set_index("code")["order_date"]
    ordered = np.full(len(pol), NO_DATE, np.int64)
    ordered[sent] = day_numbers(
        orders.reindex(pol["purchase_order"].to_numpy()[sent]).to_numpy())
    waited = today - ordered
    mask = sent & (ordered != NO_DATE) & (waited > s.confirmation_days)
    return _po(pol, mask, "confirmation_missing", {
        "days": waited[mask].astype(float),
        "reason": f"no acknowledgement more than {s.confirmation_days} days after the order"})


def confirmation_differs(data: PlanningData, s: ExceptionSettings,
                         lines: pd.DataFrame | None = None) -> pd.DataFrame:
    """E11: the supplier rejected the line, acknowledged it ``changed``, or promised a date
    more than the tolerance away from the requested date (``days`` = promised - requested);
    suggested date: the requested one (rejected: high severity)."""
    pol = _lines(data, lines)
    promised = day_numbers(pol["promised_date"])
    requested = day_numbers(pol["requested_date"])
    has = (promised != NO_DATE) & (requested != NO_DATE)
    shift = np.where(has, promised - requested, 0)
    ack = pol["ack_status"].to_numpy()
    rejected = ack == AckStatus.REJECTED.value
    changed = ack == AckStatus.CHANGED.value
    moved = (ack != AckStatus.NONE.value) & (np.abs(shift) > s.confirmation_tolerance_days)
    mask = rejected | changed | moved
    reason = np.where(rejected[mask], "rejected by the supplier",
                      np.where(changed[mask], "acknowledged with changes",
                               "promised date differs from the requested date"))
    out = _po(pol, mask, "confirmation_differs", {
        "suggested_day": requested[mask], "days": shift[mask].astype(float), "reason": reason})
    out.loc[rejected[mask], "severity"] = "high"
    return out


def ship_notice_mismatch(data: PlanningData, s: ExceptionSettings,
                         lines: pd.DataFrame | None = None) -> pd.DataFrame:
    """E12: a ship notice (``asn_quantity > 0``) whose quantity differs from the line's open
    quantity by more than ``ship_notice_tolerance_pct`` % of it, or whose arrival date is more
    than ``ship_notice_tolerance_days`` after the line's due date; suggested quantity: the
    notice's, ``days`` = arrival - due."""
    pol = _lines(data, lines)
    asn = pol["asn_quantity"].to_numpy(float)
    remaining = pol["remaining"].to_numpy(float)
    arrival = day_numbers(pol["asn_date"])
    due = pol["due_day"].to_numpy(np.int64)
    late = np.where(arrival != NO_DATE, arrival - due, 0)
    off = np.abs(asn - remaining) > remaining * s.ship_notice_tolerance_pct / 100.0 + EPS
    mask = (asn > EPS) & (off | (late > s.ship_notice_tolerance_days))
    reason = np.where(off[mask], "ship notice quantity differs from the open quantity",
                      "ship notice arrives after the due date")
    return _po(pol, mask, "ship_notice_mismatch", {
        "suggested_quantity": asn[mask], "suggested_day": arrival[mask],
        "days": late[mask].astype(float), "reason": reason})
