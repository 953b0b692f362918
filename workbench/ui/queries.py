"""Cache reads the panels need that no service offers yet (no Qt here).

Each is one SQL statement through :func:`workbench.services.decisions.query_frame`; they belong
in the services layer and can move there unchanged.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy import Engine


def _rows(engine: Engine, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    """Rows as dicts, without pandas (these run before pandas is imported at start-up)."""
    with engine.connect() as conn:
        return [dict(r) for r in conn.exec_driver_sql(sql, params).mappings()]


def approval_queue(engine: Engine) -> pd.DataFrame:
    """Open recommendations with their requisition (item, site, buyer, quantity, need date)."""
    import pandas as pd

    from workbench.services.decisions import query_frame

    frame = query_frame(engine, (
        "SELECT r.id, r.requisition, r.action, r.proposed_quantity, r.proposed_date, "
        "r.proposed_supplier, r.reason, r.evidence, r.run_at, "
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


def overview_counts(engine: Engine) -> dict[str, Any]:
    """The counts the Overview shows that need no planning run."""
    recs = _rows(engine, "SELECT action, count(*) AS n FROM recommendations "
                         "WHERE status = 'open' GROUP BY action ORDER BY action")
    outbox = _rows(engine, "SELECT state, count(*) AS n FROM outbox GROUP BY state")
    return {
        "open_recommendations": {str(r["action"]): int(r["n"]) for r in recs},
        "outbox": {str(r["state"]): int(r["n"]) for r in outbox},
    }


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


def cache_is_empty(engine: Engine) -> bool:
    """True when no entity table holds a live row: one indexed probe per table, so it stays
    instant on the large plant (``cache_status`` counts every row, seconds there)."""
    from workbench.cache.schema import ENTITY_TABLES

    probes = " OR ".join(f"EXISTS (SELECT 1 FROM {t} WHERE deleted_at IS NULL)"
                         for t in ENTITY_TABLES)
    with engine.connect() as conn:
        return not conn.exec_driver_sql(f"SELECT {probes}").scalar()


def source_freshness(engine: Engine) -> list[dict[str, Any]]:
    """Per connector: last run status and time, last successful sync, last error — from the
    sync-run log only (no row counts)."""
    return _rows(engine, (
        "SELECT s.connector, s.status AS last_run_status, s.finished_at AS last_run_at, "
        "s.error AS last_error, (SELECT max(finished_at) FROM sync_runs s2 WHERE "
        "s2.connector = s.connector AND s2.status IN ('succeeded', 'partial')) AS last_success_at "
        "FROM sync_runs s WHERE s.id IN (SELECT max(id) FROM sync_runs GROUP BY connector) "
        "ORDER BY s.connector"
    ))
