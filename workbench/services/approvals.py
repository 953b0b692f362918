"""The buyer's approval queue as the Approvals panel shows it: open recommendations with their
requisition, and their evidence as lines a buyer reads."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from workbench.services.decisions import query_frame


def approval_queue(engine: Engine) -> pd.DataFrame:
    """Open recommendations with their requisition (item, site, buyer, quantity, need date)."""
    frame = query_frame(engine, (
        "SELECT r.id, r.requisition, r.action, r.proposed_quantity, r.proposed_date, "
        "r.proposed_supplier, r.proposed_item, r.reason, r.evidence, r.run_at, "
        "q.item, q.site, q.buyer, q.quantity, q.need_date, q.suggested_supplier, q.status, "
        "i.description "
        "FROM recommendations r "
        "JOIN requisitions q ON q.code = r.requisition AND q.deleted_at IS NULL "
        "LEFT JOIN items i ON i.code = q.item "
        "WHERE r.status = 'open' ORDER BY r.requisition"
    ))
    if len(frame):
        frame["supplier"] = frame["proposed_supplier"].fillna("").where(
            frame["proposed_supplier"].fillna("") != "", frame["suggested_supplier"].fillna(""))
        frame["quantity_change"] = frame["proposed_quantity"] - frame["quantity"]
    else:
        frame["supplier"] = pd.Series(dtype=str)
        frame["quantity_change"] = pd.Series(dtype=float)
    return frame


def evidence_text(reason: str, evidence: str | dict[str, Any] | None) -> str:
    """The evidence of a recommendation as lines a buyer reads (no JSON braces)."""
    data = json.loads(evidence) if isinstance(evidence, str) and evidence else (evidence or {})
    lines = [reason or "", ""]
    for key, value in data.items():
        label = key.replace("_", " ")
        if isinstance(value, list):
            lines.append(f"{label}:")
            for v in value[:12]:
                if isinstance(v, dict):
                    lines.append("  • " + ", ".join(f"{k.replace('_', ' ')} {x}" for k, x in v.items()))
                else:
                    lines.append(f"  • {v}")
            if len(value) > 12:
                lines.append(f"  … and {len(value) - 12} more")
        elif isinstance(value, float):
            lines.append(f"{label}: {value:,.3f}".rstrip("0").rstrip("."))
        else:
            lines.append(f"{label}: {value}")
    return "\n".join(lines).strip()
