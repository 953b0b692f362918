"""Suppliers: the slippage ranking, one supplier's detail, a PO line's promise history, and the
slippage answer of ``workbench slippage`` (rules: :mod:`workbench.analysis.slippage`).

Every function is an operation (:mod:`workbench.app.ops`). Importing this module loads neither
pandas nor Qt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from workbench.app.ops import planning_query

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from workbench.analysis.session import PlanningSession
    from workbench.services.planning import Slippage


@planning_query
def ranking(session: PlanningSession) -> pd.DataFrame:
    """One row per supplier (the columns of
    :attr:`workbench.analysis.slippage.Slippage.suppliers` and ``on_time_pct``), worst expected
    slip first, then by supplier."""
    s = session.slippage.suppliers.copy()
    s["on_time_pct"] = s["otif_rate"] * 100.0
    return s.sort_values(["expected_slip_days", "supplier"], ascending=[False, True])


@dataclass
class SupplierDetail:
    """One supplier: ``slips`` (delivery slip days of its received lines), ``monthly`` (month,
    otif_rate, received_lines, ...) and ``lines`` (its PO lines with ``status``: received, open,
    or open, late)."""

    supplier: str
    slips: np.ndarray
    monthly: pd.DataFrame
    lines: pd.DataFrame


@planning_query
def supplier_detail(session: PlanningSession, supplier: str) -> SupplierDetail:
    import numpy as np

    sl = session.slippage
    lines = sl.lines[sl.lines["supplier"] == supplier].copy()
    slips = lines["delivery_slip_days"].dropna().to_numpy(float)
    monthly = sl.monthly[sl.monthly["supplier"] == supplier].copy()
    lines["status"] = np.where(lines["open"], np.where(lines["late"], "open, late", "open"),
                               "received")
    return SupplierDetail(supplier, slips, monthly, lines)


@planning_query
def promise_history(session: PlanningSession, purchase_order: str, line: int) -> pd.DataFrame:
    """changed_at / promised_date / origin of one PO line, oldest first, each change once (the
    same de-duplicated history slippage counts)."""
    from workbench.analysis.slippage import promise_history as slippage_history

    pc = session.data.promise_changes
    h = slippage_history(pc[(pc["purchase_order"] == purchase_order) & (pc["line"] == line)])
    h = h[h["promised_date"].notna()]
    return h.sort_values("changed_at")[["changed_at", "promised_date", "origin"]]


@planning_query
def slippage(session: PlanningSession, supplier: str | None = None,
             lines: bool | None = None) -> Slippage:
    """Slippage per supplier (and PO line: with ``lines``, by default when a supplier is named),
    :func:`workbench.services.planning.slippage`."""
    from workbench.services import planning

    return planning.slippage(session, supplier, lines)
