"""Pending decisions overlaid on the plan's inputs: the planner sees the plan as it will be.

A buyer's approved (or modified) decision is stored first and written back later through the
outbox (:mod:`workbench.services.message_decisions`, :mod:`workbench.services.decisions`);
until a sync brings the source's new state the cache still holds the old one. The overlay
applies each such **pending** decision to the planning frames before the plan is made:

* **pending** = verdict approve or modify, an outbox entry not ``confirmed`` and not
  ``discarded`` (queued, sending, sent, failed, conflict), and the cached record still at the
  version the decision was based on (``base_version``). Once a sync brings another version of
  the record (the write itself, or any other change, which turns the write into a conflict) the
  source's value counts and the decision is no longer applied: values are never added twice.
* **purchase-order line** (``target_kind`` purchase_order_line, element ``PO/line``):
  ``expedite``/``defer`` move the line's requested and promised date to the decided date;
  ``reduce``/``increase`` set its open quantity to the decided one (``quantity_ordered =
  quantity_received + quantity``, stock unit; ``orig_quantity_ordered``, in the line's own unit,
  scaled alike, so one order unit still holds as many stock units); ``cancel`` cancels the line
  (no supply).
* **requisition** (``target_kind`` requisition or empty): an ``order`` decision adds the
  purchase-order line it will place (order ``pending:REQ``, line 1; the decided quantity, else
  the requisition's; the decided date, else its need date; the decided supplier, else the
  suggested one; status approved), and the requisition itself shows ``ordered``: while its
  order is pending, that line *is* the requisition. So nothing counts it twice, and the
  re-evaluation (:mod:`workbench.analysis.requisitions`, open requisitions only) does not judge
  the requisition against its own order: without this it advised ``cancel``, the buyer's
  own pending line covering the need. The pending decision stays the requisition's last word
  (no new advice supersedes it). Should the need go away before a sync, the pending line is
  judged like any PO line by the exception messages (E03 cancel, E04 reduce, ...), whose
  reason names the requisition and says the advice conflicts with its pending decision
  (:func:`workbench.analysis.exceptions.compute_exceptions`). Other requisition decisions
  change no supply (open requisitions are not supply, :mod:`workbench.analysis.sources`).

Decisions apply in the order they were taken (a later one on the same record wins). Rejected
decisions and those without a write-back (keep, a work order's advice) change nothing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.analysis.data import PlanningData, normalise_frame
from workbench.domain.enums import (
    DATE_ACTIONS,
    QUANTITY_ACTIONS,
    PurchaseStatus,
    RequisitionStatus,
    WriteAction,
)

#: The columns of a pending-decision frame (:func:`workbench.services.overlay.pending_decisions`).
PENDING_COLUMNS = ("decision", "target_kind", "element", "action", "quantity", "date",
                   "supplier", "base_version")
#: The order a pending ``order`` decision will place (:func:`apply_pending`): ``pending:REQ``.
PENDING_ORDER = "pending:"
#: Outbox states of a write not yet seen in the source (the overlay applies its decision).
PENDING_STATES = ("queued", "sending", "sent", "failed", "conflict")
LINE = "purchase_order_line"


def _same_version(cached: object, base: object) -> bool:
    none = cached is None or (isinstance(cached, float) and np.isnan(cached))
    return (none and base is None) or (not none and str(cached) == str(base))


def apply_pending(data: PlanningData, pending: pd.DataFrame) -> PlanningData:
    """``data`` with the ``pending`` decisions applied (module doc); ``data`` itself is left as
    it was (the changed frames are copies)."""
    if pending is None or pending.empty:
        return data
    pending = pending.sort_values("decision", kind="stable")
    pol = data.purchase_order_lines
    lines = pending[pending["target_kind"] == LINE]
    out = pol
    if len(lines):
        out = pol.copy()
        key = out["purchase_order"].astype(str) + "/" + out["line"].astype(str)
        where = pd.Series(np.arange(len(out)), index=key.to_numpy())
        where = where[~where.index.duplicated()]
        for d in lines.itertuples(index=False):
            at = where.get(str(d.element))
            if at is None:
                continue
            i = int(at)
            if not _same_version(out["source_version"].iat[i], d.base_version):
                continue
            action = WriteAction(str(d.action))
            if action in DATE_ACTIONS and d.date:
                day = pd.Timestamp(str(d.date)[:10])
                out.iloc[i, out.columns.get_loc("promised_date")] = day
                out.iloc[i, out.columns.get_loc("requested_date")] = day
            elif action in QUANTITY_ACTIONS and d.quantity is not None and \
                    not pd.isna(d.quantity):
                received = float(out["quantity_received"].iat[i])
                before = float(out["quantity_ordered"].iat[i])
                ordered = received + float(d.quantity)
                out.iloc[i, out.columns.get_loc("quantity_ordered")] = ordered
                if "orig_quantity_ordered" in out.columns and before > 0:
                    # the line's own unit scales with it (E04/E05 read one line unit as
                    # quantity_ordered / orig_quantity_ordered stock units)
                    orig = out["orig_quantity_ordered"].iat[i]
                    if orig is not None and not pd.isna(orig):
                        out.iloc[i, out.columns.get_loc("orig_quantity_ordered")] = \
                            ordered * float(orig) / before
            elif action is WriteAction.CANCEL:
                out.iloc[i, out.columns.get_loc("status")] = PurchaseStatus.CANCELLED.value
    placed = _placed(data, pending[pending["target_kind"].fillna("requisition").isin(
        ["requisition", ""]) & (pending["action"] == WriteAction.ORDER.value)])
    ordered = placed["requisition"].tolist() if len(placed) else []
    if len(placed):
        omit = [c for c in normalise_frame("purchase_order_lines", None).columns
                if c not in out.columns]
        placed = normalise_frame("purchase_order_lines", placed, omit)
        out = pd.concat([out, placed[list(out.columns)]], ignore_index=True)
    if out is pol:
        return data
    if not ordered:
        return data.replace(purchase_order_lines=out)
    req = data.requisitions.copy()
    req.loc[req["code"].isin(ordered), "status"] = RequisitionStatus.ORDERED.value
    return data.replace(purchase_order_lines=out, requisitions=req)


def _placed(data: PlanningData, orders: pd.DataFrame) -> pd.DataFrame:
    """The PO lines pending ``order`` decisions will place (module doc)."""
    if orders.empty:
        return pd.DataFrame()
    req = data.requisitions.drop_duplicates("code", keep="last").set_index("code")
    rows = []
    for d in orders.drop_duplicates("element", keep="last").itertuples(index=False):
        code = str(d.element)
        if code not in req.index:
            continue
        r = req.loc[code]
        if not _same_version(r.get("source_version"), d.base_version):
            continue
        quantity = float(d.quantity) if d.quantity is not None and not pd.isna(d.quantity) \
            else float(r["quantity"])
        day = pd.Timestamp(str(d.date)[:10]) if d.date else r["need_date"]
        rows.append({"purchase_order": f"{PENDING_ORDER}{code}", "line": 1, "item": r["item"],
                     "supplier": str(d.supplier or r["suggested_supplier"] or ""),
                     "site": r["site"], "quantity_ordered": quantity, "quantity_received": 0.0,
                     "requested_date": day, "promised_date": day, "ack_status": "none",
                     "status": PurchaseStatus.APPROVED.value, "requisition": code,
                     "source": "overlay", "source_key": f"{PENDING_ORDER}{code}",
                     "source_version": ""})
    return pd.DataFrame(rows)
