"""The connector port: the one interface every source-system adapter implements, and the registry.

A connector turns a source system into canonical records (``workbench.domain``) and, when it can,
writes decisions back. The core never imports a concrete connector: built-in connectors register
through the same entry-point group an add-on package would use (``planner_workbench.connectors``
in pyproject.toml), are looked up by name with :func:`get_connector_class` and opened with
:func:`workbench.connect.factory.open_connector` (GUI, CLI and outbox alike).

An adapter subclasses :class:`ConnectorBase`, which gives every optional member its default, and
says in ``capabilities`` which optional parts it offers; :class:`Connector` is the port as a
runtime-checkable protocol (``isinstance(obj, Connector)`` checks every member is there), and
:func:`get_connector_class` refuses a registered class that lacks one. The core reads every
member as a plain attribute, never with ``getattr(..., default)``:

=======================  ======================  ======================================================
member                   required?               what the core does with it
=======================  ======================  ======================================================
``name``                 required                the registry name; sync runs, watermarks and outbox
                                                 entries are recorded under it
``capabilities``         required                :class:`Capability` flags: which optional parts it
                                                 offers
``check()``              required                reachability for ``sources check`` and the offline
                                                 banner
``entities()``           required                what a sync pulls, in load order
``pull(entity, since)``  required                batches of raw canonical records (:class:`Batch`)
                                                 after the watermark ``since``; validated and upserted
                                                 by the sync
``close()``              optional                called once the sync, check or outbox drain is done
                                                 (default: nothing to release)
``options``              optional                the pydantic model of its settings: ``sources add``
                                                 checks them,
                                                 :func:`~workbench.connect.factory.open_connector`
                                                 converts them (default None: parameters pass as given)
``cache_store``          optional                ``(parameter, suffix)``: a store of its own kept
                                                 beside the cache (the demo's ledger); the factory
                                                 passes that file, and the outbox opens it from the
                                                 cache alone (default None)
``cache_reads``          optional                the parameter the factory gives the cache's path:
                                                 facts looked up there read-only (the files
                                                 connector's item cross-references; default None)
``source``               optional                the source name its records carry, when not ``name``:
                                                 an empty complete set deletes that source's rows
                                                 (default None)
``today``                optional                the source's "now" (the demo's plant day), recorded as
                                                 the time deletions were observed (default None: the
                                                 clock)
``push(request)``        with ``PUSH``           write one decision (:class:`PushRequest`) back; raises
                                                 ConflictError / TransientError / PermanentError
                                                 (default: PermanentError with ``read_only_reason``);
                                                 a target kind (:class:`TargetKind`) it does not
                                                 write back: PermanentError (:func:`refuse_target`)
``inbox_files()``        with ``MESSAGE_INBOX``  the message files waiting
                                                 (:mod:`workbench.connect.inbox`), taken by
                                                 :func:`workbench.services.edi.sync_inbox`
``decode(data, facts)``  with ``MESSAGE_INBOX``  one message file read and mapped onto our PO lines, or
                                                 MessageError
``supplier_inbox(dir)``  optional                after a sync, its suppliers write their messages into
                                                 ``dir`` and the inbox returned is taken (the demo
                                                 plant's EDI; default None: its suppliers send nothing)
``mapping_tools``        optional                the mapping-profile engine
                                                 :mod:`workbench.services.mapping` uses (the files
                                                 connector's; default None)
=======================  ======================  ======================================================

``pull(entity, since)`` yields *batches* (lists) of raw records — plain dicts whose keys are the
canonical model's field names — so the sync service can validate a whole batch at once in
pydantic's core (see :func:`workbench.domain.validation.validate_batch`). A connector that holds
its data column-wise yields :class:`ColumnBatch` es instead (field -> one value per record): the
sync validates and writes them a column at a time, without a dict per record
(:func:`workbench.domain.validation.validate_columns`; the demo and the mapped files do).
Each batch carries the watermark to store once the run commits (``Batch.watermark``): the
highest source version seen.

Settings hold text; :func:`workbench.connect.factory.typed_options` converts and checks them
against ``options`` when a source is saved and when the connector is opened.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel

from workbench.connect.inbox import DecodedFile, MessageFacts, MessageInbox
from workbench.domain.enums import WriteAction

ENTRY_POINT_GROUP = "planner_workbench.connectors"


class Capability(enum.Flag):
    PULL = enum.auto()
    PUSH = enum.auto()  # can write decisions back
    INCREMENTAL = enum.auto()  # pull(since=...) returns only changed records
    DELETIONS = enum.auto()  # reports records that disappeared (Batch.deleted_keys)
    VERSION_CHECK = enum.auto()  # push() refuses when the record changed since our read
    MESSAGE_INBOX = enum.auto()  # inbox_files() and decode(): taken file by file (EDI)


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

    @property
    def size(self) -> int:
        """How many records the batch holds."""
        return len(self.records)

    @property
    def columns(self) -> dict[str, Sequence[Any]] | None:
        """The records column-wise (field -> one value per record) when the connector gave them
        so (:class:`ColumnBatch`), else None."""
        return None


class ColumnBatch(Batch):
    """A batch whose records are given column-wise: ``columns`` maps each field the records
    carry to one value per record (every column equally long; ``None``: the record does not
    give that field). A column is a list, or a numpy array of numbers (checked in numpy). The
    sync validates and writes the columns as they are
    (:func:`workbench.domain.validation.validate_columns`), a column at a time, without a dict
    per record — the speed of a large sync. ``records`` (dicts with every given field, None
    values included, numbers as Python numbers) is made only when something asks for it."""

    def __init__(self, entity: str, columns: Mapping[str, Sequence[Any]], **rest: Any) -> None:
        self._columns = dict(columns)
        self._records: list[dict[str, Any]] | None = None
        super().__init__(entity, [], **rest)

    @property
    def records(self) -> list[dict[str, Any]]:
        if self._records is None:
            names = list(self._columns)
            lists = [c.tolist() if hasattr(c, "tolist") else c for c in self._columns.values()]
            self._records = [dict(zip(names, values)) for values in zip(*lists)]
        return self._records

    @records.setter
    def records(self, value: list[dict[str, Any]]) -> None:
        if value:
            raise ValueError("a ColumnBatch's records come from its columns")

    @property
    def size(self) -> int:
        return len(next(iter(self._columns.values()), ()))

    @property
    def columns(self) -> dict[str, Sequence[Any]] | None:
        return self._columns


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


class UnknownActionError(PermanentError, ValueError):
    """A push request whose action is not a :class:`~workbench.domain.enums.WriteAction`, or
    whose target kind is not a :class:`TargetKind`."""


class TargetKind(enum.StrEnum):
    """What a :class:`PushRequest` targets (its ``target`` is that record's ``source_key``).

    The values are stored in outbox payloads and connector ledgers: never rename one."""

    #: a purchase requisition (re-evaluation advice; every request before issue 13)
    REQUISITION = "requisition"
    #: a firm purchase-order line (an exception message's reschedule, reduce or cancel)
    PURCHASE_ORDER_LINE = "purchase_order_line"


def refuse_target(request: PushRequest, connector: str, supported: frozenset[TargetKind]
                  ) -> None:
    """Raise :class:`PermanentError` naming the target kind when ``connector`` writes back
    only ``supported`` kinds (the way an adapter refuses a target it does not take)."""
    if request.target_kind not in supported:
        takes = ", ".join(sorted(k.value for k in supported)) or "nothing"
        raise PermanentError(
            f"{connector} cannot write decisions on a {request.target_kind.value} back "
            f"({request.target}); it takes decisions on: {takes}")


@dataclass(frozen=True)
class PushRequest:
    """A decision to write back, as the outbox hands it to a connector.

    ``action`` is a :class:`workbench.domain.enums.WriteAction` (its text value is accepted and
    converted, so a payload stored as JSON loads back; any other value raises
    :class:`UnknownActionError`); ``target_kind`` (:class:`TargetKind`, text accepted) says
    what ``target`` is: a requisition (the default, so payloads stored before target kinds
    existed load as what they were) or a purchase-order line; ``target`` is that record's
    ``source_key``; ``base_version`` the ``source_version`` our analysis saw. ``item`` is set
    only when a ``switch_source`` moves the requisition to an alternate component (that
    component's code); a connector that cannot change a record's item must refuse it.

    On a purchase-order line the actions are ``expedite``/``defer`` (``date``: the line's new
    delivery date), ``reduce``/``increase`` (``quantity``: the line's new ordered quantity,
    received part included, in the line's own unit) and ``cancel`` (what is still to come is
    not wanted). A connector refuses a target kind it does not write back with a
    :class:`PermanentError` naming it (:func:`refuse_target`).
    """

    idempotency_key: str
    action: WriteAction
    target: str
    base_version: str | None
    quantity: float | None = None
    date: str | None = None  # ISO date
    supplier: str | None = None
    comment: str = ""
    item: str | None = None
    target_kind: TargetKind = TargetKind.REQUISITION

    def __post_init__(self) -> None:
        try:
            action = WriteAction(self.action)
        except ValueError:
            known = ", ".join(a.value for a in WriteAction)
            raise UnknownActionError(
                f"unknown write action {self.action!r} (one of {known})"
            ) from None
        object.__setattr__(self, "action", action)
        try:
            kind = TargetKind(self.target_kind)
        except ValueError:
            known = ", ".join(k.value for k in TargetKind)
            raise UnknownActionError(
                f"unknown target kind {self.target_kind!r} (one of {known})"
            ) from None
        object.__setattr__(self, "target_kind", kind)


@dataclass(frozen=True)
class PushResult:
    new_version: str | None
    detail: dict[str, Any] = field(default_factory=dict)
    already_applied: bool = False  # the idempotency key was seen before: nothing done twice


@runtime_checkable
class Connector(Protocol):
    """The port (see the module docstring's table): what the core may read of a connector."""

    name: ClassVar[str]
    capabilities: ClassVar[Capability]
    options: ClassVar[type[BaseModel] | None]
    cache_store: ClassVar[tuple[str, str] | None]
    cache_reads: ClassVar[str | None]
    mapping_tools: ClassVar[Any]

    @property
    def source(self) -> str | None:
        """The source name its records carry, when it is not ``name``."""
        ...

    @property
    def today(self) -> dt.date | None:
        """The source's own "now" (a date), or None to use the clock."""
        ...

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

    def inbox_files(self) -> list[Path]:
        """(``MESSAGE_INBOX``) the message files waiting, in the order they are taken."""
        ...

    def decode(self, data: bytes, facts: MessageFacts) -> DecodedFile:
        """(``MESSAGE_INBOX``) one message file read and mapped; raises MessageError."""
        ...

    def supplier_inbox(self, folder: Path) -> MessageInbox | None:
        """Its suppliers' messages written into ``folder``, and the inbox that takes them
        (None: its suppliers send no messages of their own)."""
        ...

    def close(self) -> None:
        """Release what it holds (connections, caches); the connector is not used after."""
        ...


class ConnectorBase:
    """The defaults of every optional member of :class:`Connector`; adapters subclass it.

    A subclass sets ``name`` and ``capabilities`` and implements ``check``, ``entities`` and
    ``pull``; it overrides ``push`` exactly when it has ``Capability.PUSH`` (else ``push`` raises
    PermanentError with ``read_only_reason``), ``inbox_files``/``decode`` with
    ``MESSAGE_INBOX``; ``options``, ``cache_store``, ``mapping_tools``, ``source``, ``today`` and
    ``supplier_inbox`` say "none" by default.
    """

    name: ClassVar[str]
    capabilities: ClassVar[Capability]
    #: the settings a user gives, as a pydantic model (None: parameters pass as given)
    options: ClassVar[type[BaseModel] | None] = None
    #: (parameter, suffix of the cache path) of a store the connector keeps beside the cache
    cache_store: ClassVar[tuple[str, str] | None] = None
    #: the parameter given the path of the cache the connector syncs into, for a connector that
    #: looks facts up there read-only (the files connector: other sources' item cross-references)
    cache_reads: ClassVar[str | None] = None
    #: the mapping-profile engine (the files connector's), None for other connectors
    mapping_tools: ClassVar[Any] = None
    #: why ``push`` refuses, in the user's words (a connector without ``Capability.PUSH``)
    read_only_reason: ClassVar[str] = "this source is read-only: decisions cannot be written back"
    #: the source name its records carry, when it is not ``name``
    source: str | None = None
    #: the source's own "now" (a date), None to use the clock
    today: dt.date | None = None

    def check(self) -> CheckResult:
        raise NotImplementedError

    def entities(self) -> list[str]:
        raise NotImplementedError

    def pull(self, entity: str, since: str | None) -> Iterator[Batch]:
        raise NotImplementedError

    def push(self, request: PushRequest) -> PushResult:
        raise PermanentError(self.read_only_reason)

    def inbox_files(self) -> list[Path]:
        raise PermanentError(f"{self.name} is not a message inbox")

    def decode(self, data: bytes, facts: MessageFacts) -> DecodedFile:
        raise PermanentError(f"{self.name} is not a message inbox")

    def supplier_inbox(self, folder: Path) -> MessageInbox | None:
        return None

    def close(self) -> None:
        return None


def available_connectors() -> dict[str, Any]:
    """Entry points of every installed connector, by name."""
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def port_members() -> frozenset[str]:
    """The names the port declares (the members of :class:`Connector`)."""
    declared = set(Connector.__annotations__)
    declared |= {n for n, v in vars(Connector).items()
                 if not n.startswith("_") and (callable(v) or isinstance(v, property))}
    return frozenset(declared)


def get_connector_class(name: str) -> type[Connector]:
    """The class registered as connector ``name``; refused (ConnectorError naming what is
    missing) when it does not offer every member of the port, so the core can read them all as
    plain attributes."""
    eps = available_connectors()
    if name not in eps:
        known = ", ".join(sorted(eps)) or "none"
        raise ConnectorError(f"unknown connector {name!r} (installed: {known})")
    cls: type[Connector] = eps[name].load()
    missing = sorted(m for m in port_members() if m not in dir(cls))
    if missing:
        raise ConnectorError(
            f"connector {name!r} ({eps[name].value}) does not implement the port: no "
            f"{', '.join(missing)} (subclass workbench.connect.port.ConnectorBase)"
        )
    return cls
