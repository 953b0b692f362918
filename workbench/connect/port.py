"""The Connector protocol every source-system adapter implements, and the connector registry.

A connector turns a source system into canonical records (``workbench.domain``). The core never
imports a concrete connector: built-in connectors register through the same entry-point group an
add-on package would use (``planner_workbench.connectors`` in pyproject.toml), and are looked up
by name with :func:`get_connector_class`.

``pull(entity, since)`` yields *batches* (lists) of raw records — plain dicts whose keys are the
canonical model's field names — so the sync service can validate a whole batch at once in
pydantic's core (see :func:`workbench.domain.validation.validate_batch`). Each batch carries the
watermark to store once the run commits (``Batch.watermark``): the highest source version seen.

A connector declares the settings a user gives it (``workbench sources add NAME CONNECTOR
KEY=VALUE``) as a pydantic model in the class attribute ``options``; settings hold text, and
:func:`workbench.services.sources.typed_options` converts and checks them against it when a
source is saved and when the connector is built.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, ClassVar, Protocol, runtime_checkable

ENTRY_POINT_GROUP = "planner_workbench.connectors"


class Capability(enum.Flag):
    PULL = enum.auto()
    PUSH = enum.auto()  # can write decisions back
    INCREMENTAL = enum.auto()  # pull(since=...) returns only changed records
    DELETIONS = enum.auto()  # reports records that disappeared (Batch.deleted_keys)
    VERSION_CHECK = enum.auto()  # push() refuses when the record changed since our read


@dataclass
class Batch:
    """A batch of raw records of one entity, as dicts of canonical field names."""

    entity: str
    records: list[dict[str, Any]]
    watermark: str | None = None
    #: keys (as tuples of the entity's key fields) the source no longer has
    deleted_keys: list[tuple[Any, ...]] = field(default_factory=list)
    #: for file-based sources: the file, and the row number of each record as the user sees it
    file: str | None = None
    row_numbers: list[int] | None = None
    #: the source has sent its complete set of this entity: keys not seen are deletions
    complete: bool = False
    #: the fields the records carry (None: every field of the model, absent ones meaning their
    #: defaults). When given, a record that updates a cached row writes only these fields and
    #: the others keep their cached values (see workbench.domain.validation.written_fields)
    fields: tuple[str, ...] | None = None
    #: rows the connector could not turn into records (a row with the wrong number of cells,
    #: bytes that are not UTF-8, a duplicate key): RecordErrors naming file, row and field;
    #: they count as rejected rows of the run
    rejected: list[Any] = field(default_factory=list)
    #: what the user should know that rejects nothing (e.g. columns reset to their defaults)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    message: str


class ConnectorError(RuntimeError):
    """Base of connector failures; the message names the cause in the user's words."""


class TransientError(ConnectorError):
    """Worth retrying later: server down, timeout, rate limit, lock."""


class PermanentError(ConnectorError):
    """Retrying will not help: refused by the source's rules, missing record, bad credentials."""


class ConflictError(ConnectorError):
    """The record changed in the source since our analysis; nothing was written."""

    def __init__(self, message: str, ours: dict[str, Any], theirs: dict[str, Any]):
        super().__init__(message)
        self.ours = ours
        self.theirs = theirs


@dataclass(frozen=True)
class PushRequest:
    """A decision to write back, as the outbox hands it to a connector.

    ``action`` is a :class:`workbench.domain.enums.RecommendationAction` value; ``target`` is the
    requisition's ``source_key``; ``base_version`` the ``source_version`` our analysis saw.
    ``item`` is set only when a ``switch_source`` moves the requisition to an alternate component
    (that component's code); a connector that cannot change a record's item must refuse it.
    """

    idempotency_key: str
    action: str
    target: str
    base_version: str | None
    quantity: float | None = None
    date: str | None = None  # ISO date
    supplier: str | None = None
    comment: str = ""
    item: str | None = None


@dataclass(frozen=True)
class PushResult:
    new_version: str | None
    detail: dict[str, Any] = field(default_factory=dict)
    already_applied: bool = False  # the idempotency key was seen before: nothing done twice


@runtime_checkable
class Connector(Protocol):
    name: ClassVar[str]
    capabilities: ClassVar[Capability]

    def check(self) -> CheckResult:
        """Reachability and authentication, without changing anything."""
        ...

    def entities(self) -> list[str]:
        """The canonical entities this connector can pull, in load order."""
        ...

    def pull(self, entity: str, since: str | None) -> Iterator[Batch]:
        """Records of ``entity`` changed after the watermark ``since`` (all when None)."""
        ...

    def push(self, request: PushRequest) -> PushResult:
        """Write one decision back; raise ConflictError / TransientError / PermanentError."""
        ...

    def close(self) -> None: ...


def available_connectors() -> dict[str, Any]:
    """Entry points of every installed connector, by name."""
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def get_connector_class(name: str) -> type[Connector]:
    eps = available_connectors()
    if name not in eps:
        known = ", ".join(sorted(eps)) or "none"
        raise ConnectorError(f"unknown connector {name!r} (installed: {known})")
    cls: type[Connector] = eps[name].load()
    return cls
