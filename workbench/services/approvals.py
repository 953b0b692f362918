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


#: how the two sides of a conflict line up: our request's field, then the record's field naming
#: the same thing (the canonical requisition names, which the demo's report and the cache use)
CONFLICT_PAIRS = (
    ("Quantity", "quantity", "quantity"),
    ("Need date", "date", "need_date"),
    ("Supplier", "supplier", "suggested_supplier"),
    ("Item", "item", "item"),
    ("Record version", "base_version", "version"),
)


@dataclass(frozen=True)
class ConflictLine:
    """One line of a conflict as a buyer compares it. ``differs``: both our decision and the
    source name a value and they are not the same (our empty field means "leave it as it is").
    ``changed_in_source``: the source's value is not the one the cache holds (the analysis saw
    the cache, so this is what someone changed there, unless a sync brought it since)."""

    label: str
    cached: str
    ours: str
    theirs: str
    differs: bool
    changed_in_source: bool


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".")
    return str(value)


def _label(key: str) -> str:
    return "Unit" if key == "uom" else key.replace("_", " ").capitalize()


def conflict_lines(conflict: str | Mapping[str, Any] | None,
                   cached: Mapping[str, Any] | None = None) -> list[ConflictLine]:
    """The record as the cache holds it, our decision and the source's current record, field by
    field: what we asked for, then the paired fields, then whatever else the source reports
    (nothing is hidden). ``cached`` uses the canonical names (see ``writeback.cached_records``)."""
    data = json.loads(conflict) if isinstance(conflict, str) else dict(conflict or {})
    ours, theirs = dict(data.get("ours") or {}), dict(data.get("theirs") or {})
    cache = dict(cached or {})

    # our quantity and the cache's are in the item's stock unit; the source may report another
    # unit (its "Unit" line shows it): quantities in different units are not compared
    units_differ = bool(cache.get("uom") and theirs.get("uom")
                        and cache["uom"] != theirs["uom"])

    def line(label: str, mine: Any, key: str | None, now: Any) -> ConflictLine:
        was = _shown(cache.get(key)) if key else ""
        mine_text, now_text = _shown(mine), _shown(now)
        comparable = now is not None and not (key == "quantity" and units_differ)
        return ConflictLine(label, was, mine_text, now_text,
                            differs=bool(comparable and mine_text and mine_text != now_text),
                            changed_in_source=bool(comparable and was and was != now_text))

    lines = [line("Action", ours.pop("action", None), None, None)]
    for label, our_key, key in CONFLICT_PAIRS:
        if our_key in ours or key in theirs:
            lines.append(line(label, ours.pop(our_key, None), key, theirs.pop(key, None)))
    lines += [line(_label(k), ours[k], None, None) for k in sorted(ours)]
    lines += [line(_label(k), None, k, theirs[k]) for k in sorted(theirs)]
    return lines
