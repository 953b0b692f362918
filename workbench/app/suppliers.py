"""Suppliers: the slippage ranking, one supplier's detail, a PO line's promise history (with the
EDI message or sync each change came from), and the slippage answer of ``workbench slippage``
(rules: :mod:`workbench.analysis.slippage`).

Every function is an operation (:mod:`workbench.app.ops`). Importing this module loads neither
pandas nor Qt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workbench.app.ops import cache_query, planning_query

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from sqlalchemy import Engine

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
    or open, late; and the item's ``description``, "" when it has none)."""

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
    items = session.data.items
    names = dict(zip(items["code"], items["description"].fillna(""))) if "description" in items \
        else {}
    lines["description"] = [names.get(i, "") for i in lines["item"]]
    return SupplierDetail(supplier, slips, monthly, lines)


#: columns of :func:`promise_history`
HISTORY_COLUMNS = ["changed_at", "promised_date", "origin", "quantity_ordered", "source",
                   "via", "message", "file", "control_ref", "message_type",
                   "document_number", "sync_run", "run_started_at"]


def _via(row: dict[str, Any], message: dict[str, Any] | None) -> str:
    """Where a change came from, as a buyer reads it."""
    if row["origin"] == "edi":
        if message is None:
            return f"EDI message of {row['source'] or 'an inbox'} (no longer in the archive)"
        kind = " ".join(p for p in (message["message_type"], message["version"]) if p)
        return f"EDI {kind} {message['file']}, control {message['control_ref'] or '?'}"
    run = f" (run {row['sync_run']})" if row["sync_run"] is not None else ""
    if row["origin"] == "observed":
        return f"sync of {row['run_connector'] or row['source'] or 'a source'}{run}"
    return f"history reported by {row['source'] or row['run_connector'] or 'the source'}{run}"


def _message_id(source_key: str) -> int:
    """The archive id in ``edi_messages:<id>/<message ref>`` (0 for any other key)."""
    from workbench.cache.edi_views import EDI_KEY_PREFIX

    if not source_key.startswith(EDI_KEY_PREFIX):
        return 0
    head = source_key[len(EDI_KEY_PREFIX):].split("/", 1)[0]
    return int(head) if head.isdigit() else 0


@cache_query
def promise_history(engine: Engine, purchase_order: str, line: int) -> pd.DataFrame:
    """One PO line's promise history, oldest first, each change once (the de-duplicated history
    slippage counts, :func:`workbench.analysis.slippage.promise_history`), with where each
    change came from — an EDI message or a sync of the line's source.

    Columns (:data:`HISTORY_COLUMNS`; text "" and numbers 0 where there is nothing, never
    None): ``changed_at`` (ISO time), ``promised_date`` (ISO date), ``origin`` (``edi``,
    ``source``: the source's own history, ``observed``: a change a sync saw),
    ``quantity_ordered`` (stock unit; an acknowledgement's confirmed quantity), ``source`` (the
    source or EDI inbox name), ``via`` (one phrase: "EDI ORDRSP D96A r1.edi, control C1" /
    "sync of demo (run 3)"), ``message`` (archive id, 0 for none), ``file``, ``control_ref``,
    ``message_type``, ``document_number`` (the message's), ``sync_run`` (0 for none) and
    ``run_started_at``. Read from the cache (the message archive is not planning data)."""
    import pandas as pd

    from workbench.analysis.slippage import promise_history as deduplicated
    from workbench.cache.edi_views import messages_by_id, promise_changes_of_line

    rows = [r for r in promise_changes_of_line(engine, purchase_order, int(line))
            if r["promised_date"]]
    kept = deduplicated(pd.DataFrame(rows, columns=list(rows[0]) if rows else None))
    rows = [rows[i] for i in kept.index] if len(kept) else []
    messages = messages_by_id(engine, (_message_id(r["source_key"]) for r in rows
                                       if r["origin"] == "edi"))
    out = []
    for r in rows:
        mid = _message_id(r["source_key"]) if r["origin"] == "edi" else 0
        m = messages.get(mid)
        out.append({
            "changed_at": r["changed_at"], "promised_date": r["promised_date"],
            "origin": r["origin"], "quantity_ordered": r["quantity_ordered"],
            "source": r["source"], "via": _via(r, m if mid else None), "message": mid,
            "file": m["file"] if m else "", "control_ref": m["control_ref"] if m else "",
            "message_type": " ".join(p for p in (m["message_type"], m["version"]) if p) if m
            else "", "document_number": m["document_number"] if m else "",
            "sync_run": int(r["sync_run"] or 0), "run_started_at": r["run_started_at"]})
    return pd.DataFrame(out, columns=HISTORY_COLUMNS)


@planning_query
def slippage(session: PlanningSession, supplier: str | None = None,
             lines: bool | None = None) -> Slippage:
    """Slippage per supplier (and PO line: with ``lines``, by default when a supplier is named),
    :func:`workbench.services.planning.slippage`."""
    from workbench.services import planning

    return planning.slippage(session, supplier, lines)
