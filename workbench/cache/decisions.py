"""Decisions and recommendations in the cache: the statements of the decision use cases.

:mod:`workbench.services.decisions` and :mod:`workbench.services.reevaluate` decide what to
write; this module writes it, inside the caller's transaction where a use case needs several
statements to hold together (a decision, its outbox entry and its audit event).

Several buyers at once (issue 17 §2): every decided target (a requisition, a PO line, a work
order) has a row in ``decision_versions`` whose ``version`` every decision stored on it counts
up. :meth:`DecisionStore.take_version` reads that row *locked* inside the writing transaction —
``SELECT … FOR UPDATE`` on PostgreSQL (a second writer waits at that row until the first commits,
then reads the new version); SQLite's ``BEGIN IMMEDIATE`` (``engine.begin()``) already lets one
writer in at a time — so a decision made on the version its buyer saw is stored only while that
is still the version: the second of two buyers finds the first one's decision instead, and the
services turn that into a conflict showing both (never a lost update).

Who decided is recorded beside ``decided_by`` (the configured name): ``workstation_user`` (the
OS login of the workstation, :func:`getpass.getuser`) and ``db_role`` (:func:`database_role`).
"""

from __future__ import annotations

import getpass
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from workbench.cache.schema import (
    ENTITY_TABLES,
    audit_events,
    decision_versions,
    decisions,
    recommendations,
)

#: advice that a new run replaces (decided advice is left alone)
REPLACEABLE = ("open", "held")
_CHUNK = 500  # requisition codes per IN (...) list
#: the target kind of a decision on a requisition in ``decision_versions`` (decisions store NULL)
REQUISITION = "requisition"


def workstation_user() -> str:
    """The OS login of this workstation (what ``workstation_user`` records)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (a container without a passwd entry)
        return "unknown"


def database_role(conn: Connection) -> str:
    """The database role the cache is written as: PostgreSQL's ``current_user``; SQLite has no
    roles, so the OS login (the owner of the cache file's process)."""
    if conn.dialect.name == "postgresql":
        info = conn.connection.info  # asked once per database connection (pooled: reused)
        if "pwb_role" not in info:
            info["pwb_role"] = str(conn.exec_driver_sql("SELECT current_user").scalar_one())
        return str(info["pwb_role"])
    return workstation_user()


@dataclass(frozen=True)
class TargetVersion:
    """The decision version of a target as the writing transaction holds it (locked), and the
    decision that made it (its ``decisions`` row; None at version 0)."""

    target_kind: str
    target: str
    version: int
    decision: dict[str, Any] | None


def _insert_missing(conn: Connection, kind: str, target: str) -> None:
    """The version row of a target never decided on (version 0); nothing when it exists. The
    dialect-specific part: both engines' ``INSERT … ON CONFLICT DO NOTHING``."""
    values = {"target_kind": kind, "target": target, "version": 0}
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        conn.execute(pg_insert(decision_versions).values(**values).on_conflict_do_nothing())
    else:
        from sqlalchemy.dialects.sqlite import insert as lite_insert

        conn.execute(lite_insert(decision_versions).values(**values).on_conflict_do_nothing())


class DecisionStore:
    """Requisitions, recommendations and decisions, in the transaction of ``conn``."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def requisition(self, code: str) -> dict[str, Any] | None:
        """The cached requisition ``code`` (deleted ones too: ``deleted_at`` says so)."""
        table = ENTITY_TABLES["requisitions"]
        row = self.conn.execute(select(table).where(table.c.code == code)).mappings().first()
        return None if row is None else dict(row)

    def recommendation(self, rec_id: int) -> dict[str, Any] | None:
        row = self.conn.execute(
            select(recommendations).where(recommendations.c.id == rec_id)).mappings().first()
        return None if row is None else dict(row)

    def purchase_line(self, purchase_order: str, line: int) -> dict[str, Any] | None:
        """The cached PO line (deleted ones too: ``deleted_at`` says so)."""
        table = ENTITY_TABLES["purchase_order_lines"]
        row = self.conn.execute(select(table).where(
            table.c.purchase_order == purchase_order, table.c.line == line)).mappings().first()
        return None if row is None else dict(row)

    def work_order(self, code: str) -> dict[str, Any] | None:
        """The cached work order ``code`` (deleted ones too)."""
        table = ENTITY_TABLES["work_orders"]
        row = self.conn.execute(select(table).where(table.c.code == code)).mappings().first()
        return None if row is None else dict(row)

    def item_exists(self, code: str) -> bool:
        table = ENTITY_TABLES["items"]
        return self.conn.execute(select(table.c.code).where(table.c.code == code)).first() \
            is not None

    def who(self) -> dict[str, str]:
        """This workstation's login and this connection's database role, under the
        ``decisions`` column names."""
        return {"workstation_user": workstation_user(), "db_role": database_role(self.conn)}

    def add_decision(self, values: Mapping[str, Any]) -> int:
        """Insert a ``decisions`` row; its id. ``workstation_user`` and ``db_role`` are this
        workstation's and this connection's unless ``values`` names them (an offline decision
        pushed later keeps who made it)."""
        new = self.conn.execute(insert(decisions).values(**{**self.who(), **values}))
        return int(new.inserted_primary_key[0])  # type: ignore[index]

    def decision(self, decision_id: int) -> dict[str, Any] | None:
        row = self.conn.execute(
            select(decisions).where(decisions.c.id == decision_id)).mappings().first()
        return None if row is None else dict(row)

    def same_decision(self, values: Mapping[str, Any]) -> int | None:
        """The id of a stored decision with the target, author, time, verdict and action of
        ``values`` (the same decision pushed again), or None."""
        c = decisions.c
        row = self.conn.execute(select(c.id).where(
            c.requisition == values["requisition"], c.decided_by == values.get("decided_by"),
            c.decided_at == values["decided_at"], c.verdict == values["verdict"],
            c.action == values["action"])).first()
        return None if row is None else int(row.id)

    def take_version(self, target_kind: str | None, target: str) -> TargetVersion:
        """The decision version of ``target`` (kind None: a requisition), its row locked until
        the transaction ends (``FOR UPDATE``; created at version 0 the first time): while this
        transaction decides, no other can store a decision on the target."""
        kind = target_kind or REQUISITION
        _insert_missing(self.conn, kind, target)
        row = self.conn.execute(
            select(decision_versions.c.version, decision_versions.c.decision)
            .where(decision_versions.c.target_kind == kind,
                   decision_versions.c.target == target)
            .with_for_update()).one()
        made_by = None if row.decision is None else self.decision(int(row.decision))
        return TargetVersion(kind, target, int(row.version), made_by)

    def bump_version(self, taken: TargetVersion, decision_id: int) -> int:
        """Count the version of a target taken by :meth:`take_version` up by one, made by
        ``decision_id``; the new version."""
        self.conn.execute(
            update(decision_versions)
            .where(decision_versions.c.target_kind == taken.target_kind,
                   decision_versions.c.target == taken.target)
            .values(version=taken.version + 1, decision=decision_id))
        return taken.version + 1

    def versions(self, target_kind: str | None, targets: Iterable[str]) -> dict[str, int]:
        """target -> decision version, for the ``targets`` of a kind (absent: version 0)."""
        kind, wanted = target_kind or REQUISITION, list(targets)
        out: dict[str, int] = {}
        for start in range(0, len(wanted), _CHUNK):
            out.update((str(r.target), int(r.version)) for r in self.conn.execute(
                select(decision_versions.c.target, decision_versions.c.version)
                .where(decision_versions.c.target_kind == kind,
                       decision_versions.c.target.in_(wanted[start:start + _CHUNK]))))
        return out

    def set_recommendation_status(self, rec_id: int, status: str) -> None:
        self.conn.execute(update(recommendations).where(recommendations.c.id == rec_id)
                          .values(status=status))

    def replace_advice(self, rows: list[dict[str, Any]]) -> int:
        """Supersede the open or held advice of the requisitions in ``rows``, then insert
        ``rows`` (one ``recommendations`` row each); the count inserted."""
        codes = [r["requisition"] for r in rows]
        for start in range(0, len(codes), _CHUNK):
            self.conn.execute(
                update(recommendations)
                .where(recommendations.c.requisition.in_(codes[start:start + _CHUNK]))
                .where(recommendations.c.status.in_(REPLACEABLE))
                .values(status="superseded"))
        if rows:
            self.conn.execute(insert(recommendations), rows)
        return len(rows)


def who_did(conn: Connection, table: str, ids: Iterable[int]) -> dict[int, tuple[Any, Any]]:
    """id -> (workstation_user, db_role) of the rows ``ids`` of ``table`` (``decisions`` or
    ``audit_events``): who made each decision or wrote each audit event."""
    source = {"decisions": decisions, "audit_events": audit_events}[table]
    wanted = [int(i) for i in ids]
    out: dict[int, tuple[Any, Any]] = {}
    for start in range(0, len(wanted), _CHUNK):
        out.update((int(r.id), (r.workstation_user, r.db_role)) for r in conn.execute(
            select(source.c.id, source.c.workstation_user, source.c.db_role)
            .where(source.c.id.in_(wanted[start:start + _CHUNK]))))
    return out


def store_advice(engine: Engine, rows: Iterable[dict[str, Any]]) -> int:
    """:meth:`DecisionStore.replace_advice` in a transaction of its own."""
    with engine.begin() as conn:
        return DecisionStore(conn).replace_advice(list(rows))
