"""What the cache holds, from which source, and how fresh it is (``workbench status``)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Engine

from workbench.cache.schema import ENTITY_TABLES


@dataclass
class SourceStatus:
    connector: str
    last_run_status: str | None
    last_run_at: str | None
    last_success_at: str | None
    last_error: str | None
    runs: int


@dataclass
class CacheStatus:
    path: str
    schema_version: int
    entities: dict[str, dict[str, int]] = field(default_factory=dict)  # entity -> source -> rows
    sources: list[SourceStatus] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any(sum(v.values()) for v in self.entities.values())

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def cache_status(engine: Engine) -> CacheStatus:
    with engine.connect() as conn:
        version = conn.exec_driver_sql("PRAGMA user_version").scalar_one()
        status = CacheStatus(path=str(engine.url.database), schema_version=int(version))
        for entity in ENTITY_TABLES:
            rows = conn.exec_driver_sql(
                f"SELECT source, count(*) FROM {entity} WHERE deleted_at IS NULL GROUP BY source"
            ).all()
            status.entities[entity] = {src or "": n for src, n in rows}
    status.sources = [SourceStatus(**row) for row in source_freshness(engine)]
    return status


def recent_runs(engine: Engine, limit: int = 50) -> list[dict[str, Any]]:
    """The latest sync runs, newest first, with counts decoded."""
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT id, connector, started_at, finished_at, status, counts, rejected, duration_s, "
            "error FROM sync_runs ORDER BY id DESC LIMIT ?",
            (limit,),
        ).mappings().all()
    out = []
    for r in rows:
        d = dict(r)
        d["counts"] = json.loads(d["counts"]) if d["counts"] else {}
        out.append(d)
    return out


def rejections(engine: Engine, run_id: int) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT entity, key, field, reason, file, row FROM sync_rejections "
            "WHERE sync_run = ? ORDER BY id",
            (run_id,),
        ).mappings().all()
    return [dict(r) for r in rows]


def age_text(iso: str | None, now: dt.datetime | None = None) -> str:
    """'3 min ago', '2 h ago', '4 days ago' — how a planner reads freshness."""
    if not iso:
        return "never"
    then = dt.datetime.fromisoformat(iso)
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    secs = max(0, int((now - then).total_seconds()))
    if secs < 90:
        return "just now"
    if secs < 90 * 60:
        return f"{secs // 60} min ago"
    if secs < 36 * 3600:
        return f"{secs // 3600} h ago"
    return f"{secs // 86400} days ago"


def _rows(engine: Engine, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    """Rows as dicts, without pandas (these run before pandas is imported at start-up)."""
    with engine.connect() as conn:
        return [dict(r) for r in conn.exec_driver_sql(sql, params).mappings()]


def overview_counts(engine: Engine) -> dict[str, Any]:
    """The counts the Overview shows that need no planning run."""
    recs = _rows(engine, "SELECT action, count(*) AS n FROM recommendations "
                         "WHERE status = 'open' GROUP BY action ORDER BY action")
    outbox = _rows(engine, "SELECT state, count(*) AS n FROM outbox GROUP BY state")
    return {
        "open_recommendations": {str(r["action"]): int(r["n"]) for r in recs},
        "outbox": {str(r["state"]): int(r["n"]) for r in outbox},
    }


def cache_is_empty(engine: Engine) -> bool:
    """True when no entity table holds a live row: one indexed probe per table, so it stays
    instant on the large plant (``cache_status`` counts every row, seconds there)."""
    probes = " OR ".join(f"EXISTS (SELECT 1 FROM {t} WHERE deleted_at IS NULL)"
                         for t in ENTITY_TABLES)
    with engine.connect() as conn:
        return not conn.exec_driver_sql(f"SELECT {probes}").scalar()


def source_freshness(engine: Engine) -> list[dict[str, Any]]:
    """Per connector: last run status and time, last successful sync, last error and the number
    of runs — from the sync-run log only (no row counts)."""
    return _rows(engine, (
        "SELECT s.connector, s.status AS last_run_status, s.finished_at AS last_run_at, "
        "s.error AS last_error, (SELECT max(finished_at) FROM sync_runs s2 WHERE "
        "s2.connector = s.connector AND s2.status IN ('succeeded', 'partial')) AS last_success_at, "
        "(SELECT count(*) FROM sync_runs s3 WHERE s3.connector = s.connector) AS runs "
        "FROM sync_runs s WHERE s.id IN (SELECT max(id) FROM sync_runs GROUP BY connector) "
        "ORDER BY s.connector"
    ))
