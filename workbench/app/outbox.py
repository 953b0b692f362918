"""Decisions on their way back to the source systems: the outbox, its audit log, sending,
retrying and settling conflicts.

Operations (:mod:`workbench.app.ops`) the outbox view of Sync & Outbox and ``workbench outbox``
ask alike:

================================  ========  ====================================================
operation                         kind      answer
================================  ========  ====================================================
:func:`outbox_entries`            cache     :class:`OutboxSnapshot`: entries + conflict lines
:func:`audit_log`                 cache     the audit log (frame), of one entry or all
:func:`send_pending`              command   :class:`~workbench.services.writeback.DrainResult`
:func:`retry`                     command   how many entries were queued again
:func:`resend_on_source_version`  command   :class:`~workbench.services.writeback.Resolution`
:func:`discard_conflicts`         command   :class:`~workbench.services.writeback.Resolution`
================================  ========  ====================================================

Every command reports ``Changes(decisions=True, outbox=True)``: the history of decisions shows
each one's write-back state. The state moves themselves are checked by the outbox's one
transition table (:mod:`workbench.cache.outbox`). Importing this module loads neither pandas
nor Qt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workbench.app.ops import Changes, Outcome, cache_query, command

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy import Engine

    from workbench.services.approvals import ConflictLine
    from workbench.services.tasks import TaskState
    from workbench.services.writeback import DrainResult, Resolution

#: the columns of :attr:`OutboxSnapshot.targets`
TARGET_COLUMNS = ("id", "action", "target_kind", "record", "quantity", "date", "supplier",
                  "item", "site", "unit")

#: what a write-back command changes
SENT = Changes(decisions=True, outbox=True)


@dataclass(frozen=True)
class OutboxSnapshot:
    """The outbox as a screen shows it. ``entries``: every entry, newest first (the columns of
    :func:`workbench.cache.readmodels.outbox_frame`: ``id``, ``state``, ``requisition``,
    ``action``, ``verdict``, ``connector``, ``attempts``, ``updated_at``, ``last_error``,
    ``conflict``, ``decided_by``, ``decided_at``, ...). ``conflicts``: per entry in conflict,
    the comparison a buyer reads (the cached record, our decision, the source's record now;
    :func:`workbench.services.approvals.conflict_lines`). ``targets``: what each entry will do,
    by ``id`` (:func:`workbench.cache.readmodels.outbox_targets`: ``action``, ``target_kind``,
    ``record``, ``item``, ``site``, ``quantity`` with its ``unit``, ``date``, ``supplier``) —
    apart from ``entries``, whose columns ``workbench outbox --json`` prints as they were."""

    entries: pd.DataFrame
    conflicts: dict[int, list[ConflictLine]] = field(default_factory=dict)
    targets: pd.DataFrame | None = None

    def counts(self) -> dict[str, int]:
        """Entries per state."""
        if not len(self.entries):
            return {}
        return {str(k): int(v) for k, v in self.entries["state"].value_counts().items()}


@cache_query
def outbox_entries(engine: Engine) -> OutboxSnapshot:
    import pandas as pd

    from workbench.cache.readmodels import cached_records, outbox_frame, outbox_targets
    from workbench.services.approvals import conflict_lines

    entries = outbox_frame(engine)
    cached = cached_records(engine)
    conflicts = {int(r["id"]): conflict_lines(r["conflict"], cached.get(int(r["id"])))
                 for r in entries.to_dict("records") if r["state"] == "conflict"}
    targets = pd.DataFrame(outbox_targets(engine), columns=list(TARGET_COLUMNS))
    return OutboxSnapshot(entries, conflicts, targets)


@cache_query
def audit_log(engine: Engine, outbox_id: int | None = None) -> pd.DataFrame:
    """The audit log, newest first (of entry ``outbox_id`` when given): ``id``, ``at``,
    ``actor``, ``action``, ``target``, ``outbox``, ``result``, ``detail`` (JSON), and who wrote
    it: ``workstation_user`` (the OS login), ``db_role`` (the database role)."""
    from workbench.services.writeback import audit_log as log

    return log(engine, outbox_id)


@command
def send_pending(engine: Engine, sources: Sequence[Any], *, state: TaskState | None = None
                 ) -> Outcome[DrainResult]:
    """Send every due entry through the configured ``sources`` (settings' SourceConfig; the
    demo plant needs none): :func:`workbench.services.writeback.send_pending`."""
    from workbench.services import writeback

    return Outcome(writeback.send_pending(engine, list(sources), state), SENT)


@command
def retry(engine: Engine, ids: Sequence[int], user: str | None = None) -> Outcome[int]:
    """Queue failed or conflicting entries again (same idempotency key), by ``user``."""
    from workbench.services import writeback

    return Outcome(writeback.retry(engine, ids, actor=user), SENT)


@command
def resend_on_source_version(engine: Engine, ids: Sequence[int], user: str | None = None
                             ) -> Outcome[Resolution]:
    """Conflicts: send our decision again on the version the source holds now."""
    from workbench.services import writeback

    return Outcome(writeback.resend_on_source_version(engine, ids, actor=user), SENT)


@command
def discard_conflicts(engine: Engine, ids: Sequence[int], user: str | None = None
                      ) -> Outcome[Resolution]:
    """Conflicts: keep the source's state, never send ours (the decision stays stored)."""
    from workbench.services import writeback

    return Outcome(writeback.discard_conflicts(engine, ids, actor=user), SENT)
