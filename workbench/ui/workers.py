"""Worker functions the panels run in the background: plain functions taking a TaskState.

They only compose services (no Qt, no planning logic), so tests and the CLI can call them
directly. Each takes what it needs as arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workbench.services.settings import SourceConfig
from workbench.services.tasks import TaskState, check_cancelled

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from workbench.services.sync import SyncResult
    from workbench.services.writeback import Resolution

#: The demo plant every fresh installation is offered. Synced and sent with a cache, it keeps
#: the decisions written back to it in the ledger beside that cache (``sources.with_cache_store``).
DEMO_SOURCE = SourceConfig(name="demo", connector="demo", params={"scale": "small", "day": 0})


def sync_sources(
    engine: Engine,
    sources: list[SourceConfig],
    state: TaskState,
    *,
    partial: bool = False,
) -> list[SyncResult]:
    """Sync each source in turn (each run atomic); stops before the next one when cancelled.
    Decisions sent earlier are confirmed as soon as a sync shows them in the cache."""
    from workbench.connect.credentials import connector_params
    from workbench.connect.factory import make_connector, with_cache_store
    from workbench.services.sources import cache_path
    from workbench.services.sync import run_sync
    from workbench.services.writeback import confirm_sent

    results: list[SyncResult] = []
    cache = cache_path(engine)
    for n, source in enumerate(sources):
        check_cancelled(state)
        state.set_status(f"Syncing {source.name} ({n + 1} of {len(sources)})")
        params = with_cache_store(source.connector, source.params, cache)
        connector = make_connector(source.connector, **connector_params(source.connector, params))
        try:
            results.append(run_sync(engine, connector, partial=partial, state=state))
        finally:
            close = getattr(connector, "close", None)
            if close:
                close()
    if any(r.ok for r in results):
        confirm_sent(engine)
    return results


@dataclass
class Reachability:
    source: str
    ok: bool
    message: str


def check_sources(sources: list[SourceConfig], state: TaskState) -> list[Reachability]:
    """Ask each source whether it is reachable (for the offline banner); never raises."""
    from workbench.connect.credentials import connector_params
    from workbench.connect.factory import make_connector

    out: list[Reachability] = []
    for source in sources:
        check_cancelled(state)
        try:
            connector = make_connector(source.connector,
                                       **connector_params(source.connector, source.params))
            result = connector.check()
            out.append(Reachability(source.connector, result.ok, result.message))
        except Exception as exc:  # noqa: BLE001 - an unreachable source is information, not a crash
            out.append(Reachability(source.connector, False, str(exc)))
    return out


def load_demo(engine: Engine, state: TaskState, scale: str = "small") -> list[SyncResult]:
    """Load the demo plant into the cache (the empty-state button and ``--demo``)."""
    source = DEMO_SOURCE.model_copy(deep=True)
    source.params["scale"] = scale
    results = sync_sources(engine, [source], state)
    failed = [r for r in results if not r.ok]
    if failed:
        raise RuntimeError(failed[0].error or "the demo plant could not be loaded")
    return results


def describe_result(result: SyncResult) -> str:
    """One line for the status bar: what a sync run did."""
    if not result.ok:
        return f"{result.connector}: {result.status} — {result.error}"
    changed = result.total("changed")
    received = result.total("received")
    extra = f", {len(result.rejected):,} rows rejected" if result.rejected else ""
    warned = ""
    if result.warnings:  # e.g. columns a data package reset to their defaults
        more = len(result.warnings) - 1
        warned = f"; warning: {result.warnings[0]}" + (f" (and {more} more)" if more else "")
    return (
        f"{result.connector}: {received:,} records received, {changed:,} changed{extra} "
        f"in {result.duration_s:.1f} s{warned}"
    )


def counts_text(counts: dict[str, Any]) -> str:
    received = sum(c.get("received", 0) for c in counts.values())
    changed = sum(c.get("changed", 0) for c in counts.values())
    return f"{received:,} received, {changed:,} changed"


# --- jobs for the worker processes: top-level, picklable, ``fn(engine, state, **kw)`` ---------------


def sync_job(engine: Engine, state: TaskState, *, sources: list[SourceConfig],
             partial: bool = False) -> list[SyncResult]:
    return sync_sources(engine, sources, state, partial=partial)


def decide_job(engine: Engine, state: TaskState | None, *, choices: list[dict[str, Any]],
               verdict: str, user: str) -> list[Any]:
    """Record one decision per choice (each its own transaction, so a bad one spoils nothing)."""
    from workbench.services.decisions import record_decision

    out = []
    for n, c in enumerate(choices):
        if state is not None:
            state.set_progress(n, len(choices))
        out.append(record_decision(
            engine, c["requisition"], verdict, decided_by=user, recommendation=int(c["id"]),
            action=c.get("action"), quantity=c.get("quantity"), date=c.get("date"),
            comment=c.get("comment", ""),
        ))
    return out


def evaluate_job(session: Any) -> Any:
    """The planning engine's recommendations for every open requisition (not stored yet)."""
    from workbench.services.reevaluate import evaluate

    return session.today, evaluate(session)


def store_recommendations_job(engine: Engine, state: TaskState | None, *, recs: Any) -> int:
    from workbench.services.reevaluate import store

    return store(engine, recs)


def retry_job(engine: Engine, state: TaskState | None, *, ids: list[int], user: str) -> int:
    from workbench.services.writeback import retry

    return retry(engine, ids, actor=user)


def resend_job(engine: Engine, state: TaskState | None, *, ids: list[int], user: str) -> Resolution:
    from workbench.services.writeback import resend_on_source_version

    return resend_on_source_version(engine, ids, actor=user)


def discard_job(engine: Engine, state: TaskState | None, *, ids: list[int], user: str) -> Resolution:
    from workbench.services.writeback import discard_conflicts

    return discard_conflicts(engine, ids, actor=user)


def send_job(engine: Engine, state: TaskState | None, *, sources: list[SourceConfig]) -> Any:
    from workbench.services.writeback import send_pending

    return send_pending(engine, sources, state)
