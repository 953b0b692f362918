"""A workstation's offline copy of the team cache: decisions made on it go to the team.

The copy is filled by the ordinary sync of a ``team`` source (``workbench sources add NAME team
cache=postgresql://ROLE@HOST/DB``; the connector is ``connectors/planner_connectors/team``).
Its records carry the source name ``team``, so every decision stored on the copy — as always,
in the local cache first, with its outbox entry — is queued for the ``team`` connector:

- :func:`push_to_team` (``workbench team push``, and the first step of every sync of a team
  source, :func:`push_before_pull`) drains exactly those entries through the team connector,
  which takes each into the team's ``decisions`` and ``outbox`` with the version check of
  :func:`workbench.cache.team.store_offline_decision`;
- a decision the team already holds for the same target, made after the copy was taken, turns
  the local entry into a ``conflict`` holding both decisions (``workbench outbox`` shows it;
  ``--discard`` keeps the team's, ``--retry`` pushes ours again after the next pull);
- a team cache that cannot be reached leaves the entry ``queued`` with the outbox's back-off
  (nothing decided is lost; a push killed midway leaves it ``sending`` and the next push takes
  it again — the team takes one idempotency key once);
- the workstation never sends these decisions to the ERP: a local entry that reached the team is
  ``sent`` (handed over), and the team's outbox worker sends it on (``team-sync``);
- a decision that sends nothing (a reject, a keep) has no outbox entry of its own; on a copy it
  gets one for the team (:func:`queue_for_team`), so the team holds every decision made offline.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from workbench.connect.port import Connector
from workbench.services.tasks import TaskState
from workbench.services.writeback import DrainResult, drain_outbox

if TYPE_CHECKING:
    import datetime as dt

    from sqlalchemy import Engine

    from workbench.services.settings import SourceConfig

#: the connector (and source name of the copy's records) of a team cache
TEAM = "team"


class NoTeamSource(LookupError):
    """No configured source of the ``team`` connector (or not the one named)."""


def is_team(connector: Connector) -> bool:
    return connector.name == TEAM


def team_source(sources: Sequence[SourceConfig], name: str | None = None) -> SourceConfig:
    """The configured team source: the one named ``name``, else the only enabled one."""
    teams = [s for s in sources if s.connector == TEAM and (name is None or s.name == name)]
    if name is None:
        teams = [s for s in teams if s.enabled]
    if len(teams) != 1:
        what = f"no team source named {name!r}" if name else (
            "no team source configured" if not teams else "several team sources: name one")
        raise NoTeamSource(f"{what} (add one with `workbench sources add NAME team "
                           f"cache=postgresql://ROLE@HOST/DB`)")
    return teams[0]


def queue_for_team(engine: Engine, *, now: dt.datetime | None = None) -> int:
    """Decisions of the copy that send nothing to a source (a reject, a keep) have no outbox
    entry; on a team copy they go to the team all the same (the team's buyers must see them),
    so each decided since the first pull gets an outbox entry for the ``team`` connector, which
    stores it there without queueing anything for the ERP. The count queued."""
    import hashlib
    import json
    from dataclasses import asdict

    from workbench.cache.outbox import OutboxRepository
    from workbench.cache.team import first_team_run, unqueued_decisions
    from workbench.connect.port import PushRequest
    from workbench.services.decisions import stamp, utc_now

    queued = 0
    with engine.begin() as conn:
        since = first_team_run(conn, TEAM)
        if since is None:
            return 0
        repo = OutboxRepository(conn)
        for row in unqueued_decisions(conn, TEAM, since):
            basis = [row["id"], row["decided_at"], row["requisition"], row["verdict"]]
            key = "pwb-team-" + hashlib.sha256(json.dumps(basis).encode()).hexdigest()[:24]
            request = PushRequest(
                idempotency_key=key, action=row["action"], target=row["target"],
                base_version=row["base_version"], quantity=row["quantity"], date=row["date"],
                supplier=row["supplier"], comment=row["comment"] or "", item=row["item"],
                target_kind=row["target_kind"])
            payload = {k: str(v) if k in ("action", "target_kind") else v
                       for k, v in asdict(request).items()}
            repo.enqueue(decision=int(row["id"]), connector=TEAM, key=key, payload=payload,
                         at=stamp(now or utc_now()))
            queued += 1
    return queued


def mark_unmarked(engine: Engine) -> int:
    """Open team entries queued before entries recorded the copy's team decision mark
    (``team_seen``) get the copy's mark now (the count): the latest they can have seen, and
    what a push now would check; a pull after this no longer moves it."""
    from workbench.cache.outbox import mark_unmarked_team_entries
    from workbench.services.writeback import OPEN_STATES

    with engine.begin() as conn:
        return mark_unmarked_team_entries(conn, TEAM, OPEN_STATES)


def push_offline(engine: Engine, connector: Connector, state: TaskState | None = None, *,
                 now: dt.datetime | None = None) -> DrainResult:
    """Take the copy's queued decisions into the team through ``connector`` (a team
    connector), rejects and keeps included (:func:`queue_for_team`); the entries of other
    sources are left alone (not listed as waiting)."""
    queue_for_team(engine, now=now)
    mark_unmarked(engine)
    result = drain_outbox(engine, {TEAM: connector}, state, now=now)
    if result.waiting:
        from workbench.services.writeback import outbox_frame

        frame = outbox_frame(engine)
        others = set(frame.loc[frame["connector"] != TEAM, "id"].astype(int))
        result.waiting = [i for i in result.waiting if i not in others]
    return result


def push_to_team(engine: Engine, source: SourceConfig, state: TaskState | None = None, *,
                 now: dt.datetime | None = None) -> DrainResult:
    """``workbench team push``: open the team source's connector and push (see module doc)."""
    from workbench.connect.factory import open_connector
    from workbench.services.sources import cache_path

    connector = open_connector(source.connector, source.params, cache=cache_path(engine))
    try:
        return push_offline(engine, connector, state, now=now)
    finally:
        connector.close()


def push_before_pull(engine: Engine, connector: Connector, state: TaskState | None = None
                     ) -> DrainResult | None:
    """The first step of a sync of a team source: its queued decisions go to the team before
    the copy is brought up to date (None for any other connector).

    Entries that stay queued (in back-off, or ``sending``) do not hold the pull back: each
    carries the copy's team decision mark from when it was queued (``team_seen``; older
    entries get the mark now, before the pull: :func:`mark_unmarked`), and its later push is
    checked against THAT mark, so a team decision the pull brings in meanwhile is still a
    conflict, never overwritten. (Holding the pull back instead would leave a copy with one
    entry in long back-off stale.)"""
    if not is_team(connector):
        return None
    if state:
        state.set_status("team: pushing decisions made on this copy")
    return push_offline(engine, connector, state)
