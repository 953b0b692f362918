"""The ``team`` connector: the plant's team cache (PostgreSQL, or any cache) as the source of a
workstation's local copy, and the place the copy's decisions go (docs/team-cache.md).

Pull. :meth:`TeamConnector.pull` reads the team's entity tables (:func:`workbench.cache.team.
changed_rows`) and yields canonical records, so the ordinary sync validates and upserts them into
the local SQLite cache. Records carry the source name ``team``: decisions made on the copy are
queued for the ``team`` connector, never for the ERP (the team's own outbox worker sends them
on). The watermark of every entity is ``r<run>/d<decision>`` (both zero-padded, so the sync's
``max`` of two watermarks is the later one): ``<run>`` the highest team ``sync_run`` seen (the
next pull asks for rows changed by later runs, deletions arriving as deletion keys), ``<decision>``
the highest team decision id when the pull started (what the copy's buyers could have known).
A first pull (no watermark) is the team's complete set: rows of the copy the team no longer has
are marked deleted.

Push. :meth:`TeamConnector.push` takes one queued decision of the copy into the team's
``decisions`` and ``outbox`` (:func:`workbench.cache.team.store_offline_decision`) with the
buyer's name and time read from the copy (``local``: the copy's path, read-only). A team decision
on the same target that the copy had not seen is a :class:`ConflictError` holding both decisions;
a team cache that cannot be reached is a :class:`TransientError` (the decision stays queued on
the copy); the same idempotency key pushed twice is taken once.

The connector opens the team cache when first needed, never at construction: a workstation
offline still builds it (the outbox then leaves the decisions waiting).
"""

from __future__ import annotations

import datetime as dt
import getpass
import re
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import ClassVar
from urllib.parse import quote, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from workbench.connect.port import (
    Batch,
    Capability,
    CheckResult,
    ConflictError,
    ConnectorBase,
    PermanentError,
    PushRequest,
    PushResult,
    TransientError,
)
from workbench.domain.models import ENTITIES

#: the source name records of the copy carry (= the connector's name: the outbox routes on it)
TEAM = "team"
_MARK = re.compile(r"^r(\d+)(?:/d(\d+))?$")


class TeamOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    cache: str = Field(min_length=1, description="the team cache: postgresql://HOST[:PORT]/DB"
                                                 "[?sslmode=verify-full&sslrootcert=FILE], or "
                                                 "the path of a cache file")
    role: str = Field("", description="the database role to log in as (its password: "
                                      "~/.pgpass, a libpq service file or the keyring, never "
                                      "the settings)")


def team_url(cache: str, role: str = "") -> str:
    """The team cache's URL with ``role`` in it (the settings keep them apart: a URL holding a
    user name or password is never stored; the option is not called ``user``, which would make
    the factory look for a password in the keyring: libpq finds it in ~/.pgpass)."""
    if not role or "://" not in cache:
        return cache
    parts = urlsplit(cache)
    return urlunsplit(parts._replace(netloc=f"{quote(role, safe='')}@{parts.netloc}"))


def mark(run: int, decision: int) -> str:
    """The watermark text of a pull that saw team run ``run`` and decision ``decision``."""
    return f"r{run:012d}/d{decision:012d}"


def parse_mark(text: str | None) -> tuple[int | None, int]:
    """(run, decision) of a stored watermark; (None, 0) for none or one not of this form."""
    found = _MARK.match(text or "")
    if not found:
        return None, 0
    return int(found.group(1)), int(found.group(2) or 0)


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds")


class TeamConnector(ConnectorBase):
    name: ClassVar[str] = TEAM
    capabilities: ClassVar[Capability] = (
        Capability.PULL | Capability.INCREMENTAL | Capability.DELETIONS | Capability.PUSH
        | Capability.VERSION_CHECK
    )
    options: ClassVar[type[TeamOptions]] = TeamOptions
    #: the copy being synced into arrives as ``local=``: a push reads who decided there
    cache_reads: ClassVar[str | None] = "local"
    source: str = TEAM

    def __init__(self, cache: str, role: str = "", local: str | Path | None = None) -> None:
        self.cache = team_url(cache, role)
        self.local = Path(local) if local is not None else None
        self._engine: Engine | None = None
        self._conn: Connection | None = None
        self._decisions_seen: int | None = None

    # --- the team cache ---------------------------------------------------------------------
    def _team(self) -> Engine:
        """The team cache's engine, opened on first use (TransientError: not reachable)."""
        if self._engine is None:
            from workbench.cache.db import CacheError, open_cache

            if "://" not in self.cache and not Path(self.cache).expanduser().is_file():
                # never created here: a file on a share that is not mounted now is "not reachable"
                raise TransientError(f"team cache not reachable: no file {self.cache}")
            try:
                self._engine = open_cache(self.cache if "://" in self.cache
                                          else Path(self.cache).expanduser())
            except CacheError as exc:
                raise TransientError(f"team cache not reachable: {exc}") from None
        return self._engine

    def _snapshot(self) -> Connection:
        """The one read transaction every entity of a pull is read in (REPEATABLE READ on
        PostgreSQL, a read transaction on SQLite): a team sync committing meanwhile is seen
        whole or not at all, so a PO line never arrives without the item it refers to."""
        if self._conn is None:
            conn = self._team().connect()
            if conn.dialect.name == "postgresql":
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            self._conn = conn
        return self._conn

    def check(self) -> CheckResult:
        from workbench.cache.team import latest_run

        try:
            with self._team().connect() as conn:
                run = latest_run(conn)
        except (TransientError, PermanentError) as exc:
            return CheckResult(False, str(exc))
        except DBAPIError as exc:
            return CheckResult(False, f"team cache not reachable: {exc.orig}")
        return CheckResult(True, f"team cache reachable, last team run {run}")

    def entities(self) -> list[str]:
        return list(ENTITIES)

    def pull(self, entity: str, since: str | None) -> Iterator[Batch]:
        from workbench.cache.team import changed_rows, decisions_mark, running_floor

        after, _ = parse_mark(since)
        try:
            if self._decisions_seen is None:  # once per pull: before any row is read
                self._decisions_seen = decisions_mark(self._team())
            seen = self._decisions_seen
            conn = self._snapshot()
            floor = running_floor(conn)  # never past a run still running (cache/team.py)
            top = after or 0
            sent = False

            def capped(run: int) -> str:
                return mark(run if floor is None else min(run, floor - 1), seen)

            for live, gone, run in changed_rows(conn, entity, after, TEAM):
                top = max(top, run)
                sent = True
                yield Batch(entity, live, watermark=capped(top), deleted_keys=gone,
                            complete=after is None)
            if not sent:  # nothing changed: the watermark still moves to what was seen
                yield Batch(entity, [], watermark=capped(top), complete=after is None)
        except OperationalError as exc:
            raise TransientError(f"team cache not reachable: {exc.orig}") from None

    # --- pushing ------------------------------------------------------------------------------
    def push(self, request: PushRequest) -> PushResult:
        from workbench.cache.outbox import TEAM_SEEN
        from workbench.cache.team import (
            TeamConflict,
            TeamTargetMissing,
            copy_facts,
            store_offline_decision,
        )

        ours, marks = (copy_facts(self.local, request.idempotency_key, TEAM)
                       if self.local is not None else (None, {}))
        wanted = [parse_mark(marks.get(e))[1] for e in ("requisitions", "purchase_order_lines")]
        # what the copy had seen when the decision was queued; entries queued before marks
        # were recorded: the copy's mark now
        recorded = (ours or {}).pop(TEAM_SEEN, None)
        seen = int(recorded) if recorded is not None else (min(wanted) if marks else 0)
        payload = {k: (v.value if hasattr(v, "value") else v)
                   for k, v in asdict(request).items()}
        decided = ours or {"decided_by": getpass.getuser(), "decided_at": _now(),
                           "verdict": "approve"}
        try:
            with self._team().begin() as conn:
                stored = store_offline_decision(conn, payload, decided, seen=seen, at=_now())
        except TeamConflict as exc:
            raise ConflictError(str(exc), exc.ours, exc.theirs) from None
        except TeamTargetMissing as exc:
            raise PermanentError(str(exc)) from None
        except OperationalError as exc:
            raise TransientError(f"team cache not reachable: {exc.orig}") from None
        return PushResult(new_version=None, already_applied=stored.already,
                          detail={"team_decision": stored.decision, "team_outbox": stored.outbox})

    def close(self) -> None:
        self._decisions_seen = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
