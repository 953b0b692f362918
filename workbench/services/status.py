"""What the cache holds, from which source, and how fresh it is (``workbench status``).

The queries are read models of :mod:`workbench.cache.readmodels`; ``cache_is_empty`` and
``source_freshness`` are theirs, re-exported here for the callers of this module."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Engine

from workbench.cache.db import location_text
from workbench.cache.readmodels import (
    cache_is_empty,
    live_rows_by_source,
    open_advice_by_action,
    outbox_by_state,
    schema_version,
    source_freshness,
    sync_rejections,
    sync_runs,
)

__all__ = ["CacheStatus", "SourceStatus", "age_text", "cache_is_empty", "cache_status",
           "overview_counts", "recent_runs", "rejections", "source_freshness"]


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
    status = CacheStatus(path=location_text(engine), schema_version=schema_version(engine),
                         entities=live_rows_by_source(engine))
    status.sources = [SourceStatus(**row) for row in source_freshness(engine)]
    return status


def recent_runs(engine: Engine, limit: int = 50) -> list[dict[str, Any]]:
    """The latest sync runs, newest first, with counts decoded."""
    out = []
    for d in sync_runs(engine, limit):
        d["counts"] = json.loads(d["counts"]) if d["counts"] else {}
        out.append(d)
    return out


def rejections(engine: Engine, run_id: int) -> list[dict[str, Any]]:
    return sync_rejections(engine, run_id)


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


def overview_counts(engine: Engine) -> dict[str, Any]:
    """The counts the Overview shows that need no planning run."""
    return {
        "open_recommendations": open_advice_by_action(engine),
        "outbox": outbox_by_state(engine),
    }
