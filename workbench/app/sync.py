"""Syncing sources and what the screens and ``workbench status`` show about it (no Qt).

Commands (writer process): :func:`sync` (the Sync button: every enabled source),
:func:`load_source` (the welcome page: the demo plant or a data package), :func:`sync_source`
(``workbench sync``: one source, with the CLI's checks). Queries (reader process):
:func:`sync_overview`, :func:`run_rejections`, :func:`freshness`, :func:`cache_counts`,
:func:`cache_status`, :func:`is_empty`, :func:`check_sources`. Every connector is opened by
:func:`workbench.connect.factory.open_connector` (the store beside the cache, the password from
the keyring).

A sync reports ``Changes(data=...)`` when a source run changed or deleted rows (the plan is
stale) and ``outbox`` when it ran, because decisions sent earlier are confirmed as soon as a sync
shows them in the cache.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.app.ops import Changes, Outcome, cache_query, command, quick
from workbench.services.tasks import TaskState, check_cancelled

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy import Engine

    from workbench.connect.port import Connector
    from workbench.services.settings import SourceConfig
    from workbench.services.status import CacheStatus, SourceStatus
    from workbench.services.sync import SyncResult


def demo_source(scale: str = "small", day: int = 0) -> SourceConfig:
    """The demo plant every fresh installation is offered. Synced and sent with a cache, it
    keeps the decisions written back to it in the ledger beside that cache."""
    from workbench.services.settings import SourceConfig

    return SourceConfig(name="demo", connector="demo", params={"scale": scale, "day": day})


def __getattr__(name: str) -> Any:
    """``DEMO_SOURCE``: :func:`demo_source` with its defaults (built on use: importing this
    module must not load the settings model's dependencies)."""
    if name == "DEMO_SOURCE":
        return demo_source()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class SourceError(Exception):
    """A source could not be opened (unknown connector, bad option, no password) or did not
    answer its check; the message says which and why."""


def _cache_file(engine: Engine) -> Path | None:
    from workbench.services.sources import cache_path

    return cache_path(engine)


def _close(connector: Connector) -> None:
    connector.close()  # declared by the port (ConnectorBase: nothing to release by default)


def changes_of(results: Iterable[SyncResult]) -> Changes:
    """What sync runs changed: planning data when a run changed or deleted rows; the outbox
    whenever a run succeeded (sent decisions it shows are confirmed)."""
    done = [r for r in results if r.ok]
    data = any(r.total("changed") + r.total("deleted") for r in done)
    return Changes(data=data, outbox=bool(done))


# --- commands ---------------------------------------------------------------------------------


def sync_sources(engine: Engine, sources: Sequence[SourceConfig], state: TaskState, *,
                 partial: bool = False, messages: bool = False) -> list[SyncResult]:
    """Sync each source in turn (each run atomic; a message inbox such as an ``edi`` source
    taken file by file, see :func:`_pull`); stops before the next one when cancelled.
    With ``messages``, a source whose suppliers answer with EDI messages (the demo plant) has
    them taken right after its run, as ``workbench sync`` does: their run follows the source's
    in the list. Decisions sent earlier are confirmed as soon as a sync shows them in the cache."""
    from workbench.connect.factory import open_connector
    from workbench.services.edi import sync_supplier_messages
    from workbench.services.writeback import confirm_sent

    results: list[SyncResult] = []
    cache = _cache_file(engine)
    for n, source in enumerate(sources):
        check_cancelled(state)
        state.set_status(f"Syncing {source.name} ({n + 1} of {len(sources)})")
        connector = open_connector(source.connector, source.params, cache=cache)
        try:
            results.append(_pull(engine, connector, source, partial=partial, full=False,
                                 state=state))
            answers = (sync_supplier_messages(engine, connector)
                       if messages and results[-1].ok else None)
            if answers is not None:
                results.append(answers)
        finally:
            _close(connector)
    if any(r.ok for r in results):
        confirm_sent(engine)
        keep_item_list_after_sync(engine, state)
    return results


@command
def sync(engine: Engine, sources: Sequence[SourceConfig], *, partial: bool = False,
         state: TaskState) -> Outcome[list[SyncResult]]:
    """The Sync button: every given source in turn, each followed by the messages its
    suppliers sent (see :func:`sync_sources`). A sync the planner process cannot replan by
    net change (a day move, a sync too big to record) is then planned here, in the syncing
    worker, and stored for it (:func:`_replan_after_sync`, ``unless_recorded``)."""
    results = sync_sources(engine, sources, state, partial=partial, messages=True)
    changes = changes_of(results)
    if changes.data:
        _replan_after_sync(engine, state, unless_recorded=True)
    return Outcome(results, changes)


@dataclass
class LoadResult:
    """A source loaded into the cache from the welcome page."""

    results: list[SyncResult]
    #: whether the cache is still empty afterwards (every run failed)
    empty: bool


@command
def load_source(engine: Engine, source: SourceConfig, *, state: TaskState) -> Outcome[LoadResult]:
    """Load one source (the demo plant, a data package) into the cache; a failed run is in the
    answer, not raised, so the welcome page can show it."""
    from workbench.services.status import cache_is_empty

    results = sync_sources(engine, [source], state, messages=True)
    return Outcome(LoadResult(results, cache_is_empty(engine)), changes_of(results))


def load_demo(engine: Engine, state: TaskState, scale: str = "small") -> list[SyncResult]:
    """Load the demo plant into the cache (panel previews, screenshots); raises when it failed."""
    results = sync_sources(engine, [demo_source(scale)], state)
    failed = [r for r in results if not r.ok]
    if failed:
        raise RuntimeError(failed[0].error or "the demo plant could not be loaded")
    return results


@dataclass
class SyncReport:
    """``workbench sync``: the source's run and, for a source whose suppliers answer with EDI
    messages (the demo plant, docs/edi.md), the run taking those messages (else None)."""

    result: SyncResult
    messages: SyncResult | None = None
    #: how the state the sync wrote was planned for the next planner process
    #: (:func:`workbench.services.plan_store.plan_after_sync`), None when it was not
    plan: str | None = None


def configured_source(name: str) -> SourceConfig:
    """The source ``name`` of the user's settings; LookupError naming the configured ones."""
    from workbench.services.settings import load_settings

    settings = load_settings()
    cfg = settings.source(name)
    if cfg is None:
        known = ", ".join(s.name for s in settings.sources) or "none configured"
        raise LookupError(f"no source named {name!r} ({known}); add one with `workbench sources add`")
    return cfg


def new_source(name: str, connector: str, params: dict[str, Any]) -> SourceConfig:
    """A source to configure, its parameters checked now rather than at the first sync: no
    secret among them, URLs safe, the connector's declared options converted to their types and
    the required ones present (SourceError naming the parameter and the problem)."""
    from pydantic import ValidationError

    from workbench.connect.factory import typed_options
    from workbench.connect.port import ConnectorError
    from workbench.services.settings import SourceConfig

    try:
        cfg = SourceConfig(name=name, connector=connector, params=params)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        raise SourceError(f"{'.'.join(map(str, err['loc']))}: {err['msg']}") from None
    try:
        cfg.params = typed_options(connector, cfg.params, complete=True)
    except ConnectorError as exc:
        raise SourceError(str(exc)) from None
    return cfg


def _open_checked(source: SourceConfig, cache: Path | None, check: bool) -> Connector:
    """The source's connector, asked first whether it is reachable when ``check``."""
    from workbench.connect.credentials import CredentialError
    from workbench.connect.factory import open_connector
    from workbench.connect.port import ConnectorError

    try:
        connector = open_connector(source.connector, source.params, cache=cache)
        if check:
            answer = connector.check()
            if not answer.ok:
                raise SourceError(answer.message)
    except (ConnectorError, CredentialError) as exc:
        raise SourceError(str(exc)) from None
    return connector


def _verify(engine: Engine, verify: bool) -> None:
    """Never write into, nor report success on, a damaged file (PRAGMA quick_check)."""
    if verify and engine.dialect.name == "sqlite":  # PostgreSQL checks its own pages
        from workbench.cache.db import verify_cache

        verify_cache(engine.url.database or "")


def _pull(engine: Engine, connector: Connector, source: SourceConfig, *, partial: bool,
          full: bool, state: TaskState) -> SyncResult:
    """One run: a message inbox (e.g. EDI) is taken file by file, other sources are pulled."""
    from workbench.services.edi import is_message_inbox, sync_inbox
    from workbench.services.sync import run_sync

    if is_message_inbox(connector):  # one transaction per message file
        return sync_inbox(engine, connector, source.name, state=state)
    from workbench.services.team import push_before_pull

    push_before_pull(engine, connector, state)  # a team copy's decisions go to the team first
    return run_sync(engine, connector, partial=partial, full=full, state=state)


@command
def sync_source(engine: Engine, source: SourceConfig, *, partial: bool = False,
                full: bool = False, check: bool = True, verify: bool = False,
                plan: bool = True, state: TaskState) -> Outcome[SyncReport]:
    """``workbench sync``: one source — checked first when ``check`` (SourceError when it cannot
    be opened or does not answer), the cache verified around the writes when ``verify`` — then
    the messages its suppliers sent, and decisions it shows confirmed. Then, with ``plan``, when
    the runs changed planning data and a plan is stored beside the cache, the new state is
    planned and stored for the next planner process (:func:`_replan_after_sync`)."""
    from workbench.services.edi import sync_supplier_messages
    from workbench.services.writeback import confirm_sent

    connector = _open_checked(source, _cache_file(engine), check)
    try:
        _verify(engine, verify)
        result = _pull(engine, connector, source, partial=partial, full=full, state=state)
        _verify(engine, verify)
        messages = sync_supplier_messages(engine, connector) if result.ok else None
        if messages is not None:
            _verify(engine, verify)
    finally:
        _close(connector)
    if result.ok:
        confirm_sent(engine)  # decisions sent earlier that this sync shows in the cache
        keep_item_list_after_sync(engine, state)
    runs = [result] if messages is None else [result, messages]
    changes = changes_of(runs)
    planned = _replan_after_sync(engine, state) if plan and changes.data else None
    return Outcome(SyncReport(result, messages, planned), changes)


def keep_item_list_after_sync(engine: Engine, state: TaskState) -> None:
    """After a sync's last write, the whole item list kept beside the cache under the new stamp
    (:func:`workbench.cache.itemlist.keep_item_list`), so the first start after the sync lists
    every item from it (issue 16 §4); what it cost is logged (``item list kept``). Outside the
    timed :func:`workbench.services.sync.run_sync` (bench_sync), in the syncing process."""
    import logging

    from workbench.cache.itemlist import keep_item_list

    state.set_status("keeping the item list for the next start")
    kept = keep_item_list(engine)
    logging.getLogger(__name__).info("item list kept: %s (stamp %s) in %.2f s, %.2f CPU-s",
                                     kept.reason, kept.stamp, kept.seconds, kept.cpu_seconds)


def _replan_after_sync(engine: Engine, state: TaskState, *,
                       unless_recorded: bool = False) -> str | None:
    """After a sync run outside the application (``workbench sync``: the morning's scheduled
    sync), the state it wrote planned now and stored beside the cache, so the planner opened
    afterwards answers at once (issue 16 §1; how it was made, or None: no plan stored beside
    the cache, nobody plans with it). ``unless_recorded`` (the Sync button): only what the
    planner process cannot bring its own plan to by net change
    (:func:`workbench.app.processes.refresh_planning_session`): a day move, a sync too big to
    record (:func:`workbench.services.plan_store.plan_after_sync`)."""
    from workbench.services.plan_store import plan_after_sync

    state.set_status("planning the synced state for the planner")
    return plan_after_sync(engine, state, unless_recorded=unless_recorded)


# --- queries ----------------------------------------------------------------------------------


@dataclass
class Reachability:
    source: str
    ok: bool
    message: str


@cache_query
def check_sources(_engine: Engine, sources: Sequence[SourceConfig], *,
                  state: TaskState) -> list[Reachability]:
    """Ask each source whether it is reachable (the offline banner, Test connection); never
    raises: an unreachable source is information, not a failure."""
    from workbench.connect.factory import open_connector

    out: list[Reachability] = []
    for source in sources:
        check_cancelled(state)
        try:
            connector = open_connector(source.connector, source.params)
            result = connector.check()
            out.append(Reachability(source.connector, result.ok, result.message))
        except Exception as exc:  # noqa: BLE001 - an unreachable source is information
            out.append(Reachability(source.connector, False, str(exc)))
    return out


@quick
@cache_query
def freshness(engine: Engine) -> list[SourceStatus]:
    """Per synced connector: its last run, last success and error (the status bar)."""
    from workbench.services.status import SourceStatus, source_freshness

    return [SourceStatus(**row) for row in source_freshness(engine)]


@cache_query
def cache_status(engine: Engine) -> CacheStatus:
    """What the cache holds per entity and source, and each source's freshness."""
    from workbench.services.status import cache_status as status

    return status(engine)


@quick
@cache_query
def is_empty(engine: Engine) -> bool:
    from workbench.services.status import cache_is_empty

    return cache_is_empty(engine)


@dataclass
class CacheCounts:
    """The Overview's counts that need no planning run."""

    #: open recommendations per action (``order``, ``expedite``, ...)
    open_recommendations: dict[str, int] = field(default_factory=dict)
    #: outbox entries per state (``queued``, ``sent``, ``failed``, ...)
    outbox: dict[str, int] = field(default_factory=dict)
    sources: list[SourceStatus] = field(default_factory=list)

    def outbox_count(self, *states: str) -> int:
        return sum(self.outbox.get(s, 0) for s in states)


@quick
@cache_query
def cache_counts(engine: Engine) -> CacheCounts:
    from workbench.services.status import overview_counts

    counts = overview_counts(engine)
    return CacheCounts(open_recommendations=dict(counts["open_recommendations"]),
                       outbox=dict(counts["outbox"]), sources=freshness(engine))


def age_text(iso: str | None) -> str:
    """'3 min ago', '2 h ago', '4 days ago' — how a planner reads freshness."""
    from workbench.services.status import age_text as text

    return text(iso)


#: columns of :attr:`SyncOverview.sources`
SOURCE_FIELDS = ["title", "connector", "reachable", "last_status", "last_success", "age", "error"]


@dataclass
class SyncOverview:
    """The Sync panel's tables.

    ``sources``: one row per configured or synced connector — ``connector``, ``title`` (the
    source's name, or "(not configured)"), ``reachable`` ("", "yes", "NO — offline"),
    ``last_status``, ``last_success`` (ISO time or ""), ``age`` (:func:`age_text`), ``error``.
    ``runs``: the latest 200 sync runs, newest first — ``id``, ``connector``, ``started_at``,
    ``finished_at``, ``status``, ``counts`` (entity -> received/changed/deleted),
    ``counts_text``, ``rejected``, ``duration_s``, ``error`` ("" when none); empty without
    columns when there was no run.
    """

    sources: pd.DataFrame
    runs: pd.DataFrame


def _source_row(name: str, cfg: SourceConfig | None, st: SourceStatus | None,
                ok: bool | None) -> dict[str, Any]:
    return {
        "connector": name,
        "title": cfg.name if cfg else (f"{name.removesuffix('-edi')}: supplier messages"
                                       if name.endswith("-edi") else f"{name} (not configured)"),
        "reachable": "" if ok is None else ("yes" if ok else "NO — offline"),
        "last_status": st.last_run_status if st else "never synced",
        "last_success": (st.last_success_at or "") if st else "",
        "age": age_text(st.last_success_at) if st else "never",
        "error": (st.last_error or "") if st else "",
    }


@cache_query
def sync_overview(engine: Engine, sources: Sequence[SourceConfig],
                  reachable: dict[str, bool]) -> SyncOverview:
    """The configured sources (then connectors synced but no longer configured) with their
    freshness and reachability, and the latest runs."""
    import pandas as pd

    from workbench.services.status import recent_runs

    by_name = {s.connector: s for s in freshness(engine)}
    # a message inbox (an edi source) records its runs under the source's name; the messages a
    # source's own suppliers send (the demo plant's) under "<connector>-edi"
    known = {n for s in sources for n in (s.connector, s.name)}
    rows = [_source_row(s.connector, s, by_name.get(s.connector) or by_name.get(s.name),
                        reachable.get(s.connector)) for s in sources]
    rows += [_source_row(name, None, st, reachable.get(name)) for name, st in by_name.items()
             if name not in known]
    runs = pd.DataFrame(recent_runs(engine, limit=200))
    if len(runs):
        runs["counts_text"] = runs["counts"].map(counts_text)
        runs["error"] = runs["error"].fillna("")
    return SyncOverview(pd.DataFrame(rows, columns=SOURCE_FIELDS), runs)


#: columns of :func:`run_rejections`
REJECTION_FIELDS = ["file", "row", "field", "reason", "entity", "key"]


@cache_query
def run_rejections(engine: Engine, run_id: int) -> pd.DataFrame:
    """The rows sync run ``run_id`` rejected: ``file``, ``row``, ``field``, ``reason``,
    ``entity``, ``key``."""
    import pandas as pd

    from workbench.services.status import rejections

    return pd.DataFrame(rejections(engine, int(run_id)), columns=REJECTION_FIELDS)


# --- text for the status bar --------------------------------------------------------------------


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
    """A run's counts in one phrase: '1,200 received, 35 changed'."""
    received = sum(c.get("received", 0) for c in counts.values())
    changed = sum(c.get("changed", 0) for c in counts.values())
    return f"{received:,} received, {changed:,} changed"
