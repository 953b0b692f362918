"""The buyer's approval queue as the Approvals panel shows it: open recommendations with their
requisition, and their evidence as lines a buyer reads; and a write-back conflict as the buyer
compares it (our decision beside the source's record now)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
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
            lines.append(f"{label}: {_shown(value)}")
        else:
            lines.append(f"{label}: {value}")
    return "\n".join(lines).strip()


#: how the two sides of a conflict line up: our request's field, then the source record's field
#: naming the same thing (the demo's report and the canonical requisition names)
CONFLICT_PAIRS = (
    ("Quantity", "quantity", "quantity"),
    ("Need date", "date", "need_date"),
    ("Supplier", "supplier", "suggested_supplier"),
    ("Item", "item", "item"),
    ("Record version", "base_version", "version"),
)


@dataclass(frozen=True)
class ConflictLine:
    """One line of a conflict as a buyer compares it; ``differs`` when both sides name a value
    and they are not the same (our empty field means "leave it as it is")."""

    label: str
    ours: str
    theirs: str
    differs: bool


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".")
    return str(value)


def conflict_lines(conflict: str | Mapping[str, Any] | None) -> list[ConflictLine]:
    """Our decision beside the source's current record, field by field: what we asked for, then
    the paired fields, then whatever else either side reports (nothing is hidden)."""
    data = json.loads(conflict) if isinstance(conflict, str) else dict(conflict or {})
    ours, theirs = dict(data.get("ours") or {}), dict(data.get("theirs") or {})
    lines = [ConflictLine("Action", _shown(ours.pop("action", None)), "", False)]
    for label, our_key, their_key in CONFLICT_PAIRS:
        if our_key not in ours and their_key not in theirs:
            continue
        mine, now = ours.pop(our_key, None), theirs.pop(their_key, None)
        differs = mine not in (None, "") and now is not None and _shown(mine) != _shown(now)
        lines.append(ConflictLine(label, _shown(mine), _shown(now), differs))
    for key in sorted(ours):
        lines.append(ConflictLine(key.replace("_", " ").capitalize(), _shown(ours[key]), "", False))
    for key in sorted(theirs):
        lines.append(ConflictLine(key.replace("_", " ").capitalize(), "", _shown(theirs[key]), False))
    return lines
