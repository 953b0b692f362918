"""Supplier EDI messages: the inbox archive, replaying rejected files, confirmation mismatches
(docs/edi.md). The Sync & Outbox panel's EDI inbox view and ``workbench edi list | replay |
mismatches`` call these same operations.

Queries (reader process): :func:`inbox_entries` (typed rows, the CLI), :func:`inbox_view` (the
same rows as the view's documented frame), :func:`confirmation_mismatches`. Command (writer
process): :func:`replay`. The archive is read and replayed through the public functions of
:mod:`workbench.services.edi`; names beside codes come from :mod:`workbench.cache.edi_views`.

Which connector a replay decodes with: the configured source of the file's ``source`` name
(its current settings: a partner or cross-reference added since counts); a file taken from the
inbox a source's own suppliers write beside the cache (the demo plant's; source
``<connector>-edi``, see :func:`workbench.services.edi.sync_supplier_messages`) is decoded by
an EDI connector on that inbox (``<cache>.edi-inbox``; its senders are supplier codes).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any

from workbench.app.ops import Changes, Outcome, cache_query, command

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy import Engine

    from workbench.cache.edi import ConfirmationMismatch
    from workbench.connect.port import Connector
    from workbench.services.edi import FileOutcome
    from workbench.services.settings import SourceConfig
    from workbench.services.sync import SyncResult

#: the outcomes of a message file, in the order the view's filter lists them
OUTCOMES = ("applied", "duplicate", "superseded", "rejected")
#: the source name of the messages a source's own suppliers send (``demo`` -> ``demo-edi``)
SUPPLIER_INBOX_SUFFIX = "-edi"


@dataclass(frozen=True)
class InboxEntry:
    """One message file of the archive (a row of ``edi_messages``) and the supplier's name.

    ``outcome``: applied, duplicate, superseded or rejected; a rejection's ``reason`` with the
    ``message_ref``, ``segment`` (counted from 1 = UNB / ISA), ``element`` and ``expected`` —
    :attr:`where` puts them in one sentence. Times are ISO text (``received_at`` when the file
    was taken, ``processed_at`` when its outcome was last decided, e.g. by a replay).
    """

    id: int
    source: str
    file: str
    archive_path: str
    sha256: str
    received_at: str
    standard: str | None
    version: str | None
    message_type: str | None
    sender: str | None
    supplier: str | None
    control_ref: str | None
    message_refs: str | None
    document_number: str | None
    document_time: str | None
    lines: int
    applied_lines: int
    outcome: str
    reason: str | None
    message_ref: str | None
    segment: int | None
    element: str | None
    expected: str | None
    duplicate_of: int | None
    processed_at: str
    replays: int
    #: the supplier's name ("" when the sender is unknown or the supplier has none)
    supplier_name: str = ""

    @property
    def kind(self) -> str:
        """``ORDRSP D96A``, ``855 005010``; ``?`` when the file could not be read that far."""
        return f"{self.message_type or '?'} {self.version or ''}".strip()

    @property
    def where(self) -> str:
        """The reason in one sentence: ``message 1, segment 7, <element>: <reason> (expected
        <what>)``; "" when there is none."""
        if not self.reason:
            return ""
        parts = [p for p in (self.message_ref and f"message {self.message_ref}",
                             self.segment is not None and f"segment {self.segment}",
                             self.element) if p]
        text = f"{', '.join(parts)}: {self.reason}" if parts else self.reason
        return text + (f" (expected {self.expected})" if self.expected else "")

    def to_json(self) -> dict[str, Any]:
        """The archive row as ``workbench edi list --json`` prints it (its columns only)."""
        out = asdict(self)
        del out["supplier_name"]
        return out


_ENTRY_COLUMNS = [f.name for f in fields(InboxEntry) if f.name != "supplier_name"]


@cache_query
def inbox_entries(engine: Engine, rejected_only: bool = False) -> list[InboxEntry]:
    """Every message file of the archive (or only the rejected ones), oldest first."""
    from workbench.cache.edi_views import supplier_names
    from workbench.services.edi import list_messages

    rows = list_messages(engine, rejected_only=rejected_only)
    names = supplier_names(engine, (r["supplier"] for r in rows if r["supplier"]))
    return [InboxEntry(**{c: r[c] for c in _ENTRY_COLUMNS},
                       supplier_name=names.get(r["supplier"] or "", "")) for r in rows]


#: columns of :attr:`InboxView.frame`
VIEW_COLUMNS = ["id", "outcome", "file", "kind", "supplier", "supplier_name", "sender",
                "control_ref", "document_number", "document_time", "received_at",
                "processed_at", "lines_text", "replays", "where", "source"]


@dataclass
class InboxView:
    """The EDI inbox view's table and counts.

    ``frame``: one row per message file, newest first, columns :data:`VIEW_COLUMNS` — ``id``,
    ``outcome``, ``file``, ``kind`` (message type and version), ``supplier`` and
    ``supplier_name``, ``sender``, ``control_ref`` (interchange control number),
    ``document_number``, ``document_time``, ``received_at``, ``processed_at``, ``lines_text``
    (applied of total lines, "3 of 3"), ``replays``, ``where`` (the reason, see
    :attr:`InboxEntry.where`), ``source``; text columns hold "" for what is unknown, never None.
    ``counts``: files per outcome (every outcome of :data:`OUTCOMES`, zeros included).
    """

    frame: pd.DataFrame
    counts: dict[str, int] = field(default_factory=dict)


def _view_row(e: InboxEntry) -> dict[str, Any]:
    return {"id": e.id, "outcome": e.outcome, "file": e.file,
            "kind": e.kind if e.message_type else "", "supplier": e.supplier or "",
            "supplier_name": e.supplier_name, "sender": e.sender or "",
            "control_ref": e.control_ref or "", "document_number": e.document_number or "",
            "document_time": e.document_time or "", "received_at": e.received_at,
            "processed_at": e.processed_at,
            "lines_text": f"{e.applied_lines} of {e.lines}" if e.outcome != "rejected" else "",
            "replays": e.replays, "where": e.where, "source": e.source}


@cache_query
def inbox_view(engine: Engine) -> InboxView:
    """The archive as the EDI inbox view shows it (see :class:`InboxView`)."""
    import pandas as pd

    entries = inbox_entries(engine)
    frame = pd.DataFrame([_view_row(e) for e in reversed(entries)], columns=VIEW_COLUMNS)
    counts = {o: sum(1 for e in entries if e.outcome == o) for o in OUTCOMES}
    return InboxView(frame, counts)


@cache_query
def confirmation_mismatches(engine: Engine) -> list[ConfirmationMismatch]:
    """PO lines whose latest acknowledgement rejects them or confirms another quantity."""
    from workbench.services.edi import confirmation_mismatches as mismatches

    return mismatches(engine)


def _inbox_opener(engine: Engine, sources: Sequence[SourceConfig]) -> Callable[[str], Connector]:
    """``source name -> connector`` for :func:`replay` (see the module doc)."""
    from workbench.connect.factory import open_connector
    from workbench.services.edi import inbox_folder
    from workbench.services.sources import cache_path

    cache = cache_path(engine)
    by_name = {s.name: s for s in sources}

    def open_inbox(source: str) -> Connector:
        cfg = by_name.get(source)
        if cfg is not None:
            return open_connector(cfg.connector, cfg.params, cache=cache)
        if source.endswith(SUPPLIER_INBOX_SUFFIX):  # a source's own suppliers (the demo plant's)
            return open_connector("edi", {"inbox": str(inbox_folder(engine))}, cache=cache)
        known = ", ".join(by_name) or "none configured"
        raise LookupError(f"no source named {source!r} ({known}); add one with "
                          "`workbench sources add`")

    return open_inbox


@command
def replay(engine: Engine, ids: Sequence[int],
           sources: Sequence[SourceConfig]) -> Outcome[list[FileOutcome]]:
    """Take rejected message files again from the archive, each its own transaction, with the
    sources' current settings and the cache's current facts (a cross-reference or partner added
    since). LookupError for an unknown ID or source, ValueError for a file that was not
    rejected (nothing is replayed then). Changes ``data`` when a file applied lines."""
    from workbench.services.edi import replay as replay_files

    done = replay_files(engine, [int(i) for i in ids], _inbox_opener(engine, sources))
    return Outcome(done, Changes(data=any(o.applied_lines for o in done)))


def describe_run(result: SyncResult) -> str:
    """One line for the status bar: a message inbox run by outcome ('supplier-edi: 3 message
    files: 2 applied, 1 rejected (bad.edi); 4 PO lines changed'); any other run as
    :func:`workbench.app.sync.describe_result` says it."""
    counts = result.counts.get("edi_messages")
    if counts is None:
        from workbench.app.sync import describe_result

        return describe_result(result)
    by = ", ".join(f"{counts[o]} {o}" for o in OUTCOMES if counts.get(o))
    lines = result.counts.get("purchase_order_lines", {}).get("changed", 0)
    rejected = [e.file for e in result.rejected if e.file]
    named = f" ({', '.join(rejected)})" if rejected else ""
    return (f"{result.connector}: {counts['received']} message files"
            + (f": {by}{named}" if by else "") + f"; {lines} PO lines changed")
