"""Supplier message inboxes (EDI acknowledgements and ship notices): archive, apply, replay.

A *message inbox* connector (``planner_connectors.edi``; any connector with
``Capability.MESSAGE_INBOX``: ``inbox_files()`` and ``decode(data, facts)``, see
:mod:`workbench.connect.inbox`) is not pulled like a record source: :func:`sync_inbox` takes its files
one by one, and **each file is all or nothing**: a savepoint of its own inside a write
transaction (``BEGIN IMMEDIATE`` … ``COMMIT``) that a group of files shares (:data:`GROUP_FILES`,
:data:`GROUP_SECONDS`: one commit writes the pages they share once). The file's lines and its
archive row land together, or — a file that cannot be read or mapped, or any failure while
applying — nothing of it does (rolled back to its savepoint) and it is recorded as rejected,
the group going on. A crash before the group's commit leaves its files in the inbox. A folder with one
bad file thus still applies the good ones, and the sync run lists the bad one. (Why not the
ordinary sync: it always rewrites a PO line's identity fields and all its quantities, owns its
transaction so the archive outcome could not commit with the data, and loads every lookup per
run, which per-file runs would repeat for each file.)

Per file, in order:

1. **Archive**: the bytes are copied to ``<cache>.edi-archive/`` (by SHA-256 prefix and name)
   before anything else, made durable (fsync'ed, the copies of a group of files at once,
   :func:`_make_durable`) before the transaction recording them commits; the inbox copy is
   removed once the outcome committed. A file
   whose content and name are archived already (a crash between commit and removal) is only
   removed from the inbox.
2. **Outcome** (:data:`workbench.cache.edi.OUTCOMES`): *rejected* with the reason (file,
   message, segment number, element, expected) when it cannot be read or mapped; *duplicate*
   when a message with the same sender and interchange control number was taken before
   (applied once); otherwise its lines are applied, each only if no later message spoke for
   that line (acknowledgement) or shipment (ship notice): an older message never rolls a line
   back. *superseded* when every line was older, else *applied* (``applied_lines`` of ``lines``).
3. **Effects**: see :func:`workbench.cache.edi.apply_acknowledgement` and
   :func:`~workbench.cache.edi.apply_shipment`.

The run is recorded in ``sync_runs`` like any sync (counts per outcome, each rejected file a
rejected row naming file, segment and element). :func:`replay` takes rejected files again from
the archive, after their cause was fixed (e.g. a cross-reference added).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from workbench.cache import edi as store
from workbench.cache import runs, sync_changes
from workbench.connect.inbox import DecodedFile, MessageError, MessageInbox
from workbench.connect.port import Capability, Connector
from workbench.domain.enums import SyncRunStatus
from workbench.domain.validation import RecordError
from workbench.services.sync import SyncResult
from workbench.services.tasks import TaskState, check_cancelled


def is_message_inbox(connector: Connector) -> bool:
    """A connector taken file by file (``Capability.MESSAGE_INBOX``), not pulled."""
    return Capability.MESSAGE_INBOX in connector.capabilities


def archive_folder(engine: Engine) -> Path:
    """``<cache>.edi-archive`` beside the cache file (a temporary folder for an in-memory one)."""
    from workbench.cache.db import local_base

    base = local_base(engine)  # a PostgreSQL cache: its folder under the user data dir
    if base is None:
        import tempfile

        return Path(tempfile.gettempdir()) / "planner-workbench-edi-archive"
    return Path(f"{base}.edi-archive")


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def _archive(folder: Path, name: str, data: bytes, sha: str) -> tuple[Path, Path | None]:
    """The file's place in the archive, and the temporary copy written for it (None when the
    archive holds these bytes already, e.g. a crash between a commit and the inbox's cleanup).
    The copy is made durable and renamed into place by :func:`_make_durable` before the
    transaction that records it commits."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = folder / f"{sha[:16]}-{name}"
    if target.exists() and target.read_bytes() == data:
        return target, None
    tmp = target.with_name(target.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        view = memoryview(data)
        while view:  # os.write may write less than asked: the rest
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)
    return target, tmp


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


#: fsyncs issued at once when a group of files is made durable: the file system commits its
#: journal once for all of them (64 copies: about 10 ms at once, 160-210 ms one after another
#: on this machine)
DURABLE_THREADS = 16


def _make_durable(copies: Sequence[tuple[Path, Path]], folder: Path) -> None:
    """Each (temporary copy, archive place): the copies' bytes on disk (fsync'ed together),
    then renamed into place, then the folder's entries on disk."""
    if not copies:
        return
    with ThreadPoolExecutor(max_workers=min(DURABLE_THREADS, len(copies))) as pool:
        list(pool.map(_fsync, [tmp for tmp, _ in copies]))
    for tmp, target in copies:
        os.replace(tmp, target)
    _fsync(folder)


@dataclass
class FileOutcome:
    id: int
    file: str
    outcome: str
    lines: int = 0
    applied_lines: int = 0
    error: RecordError | None = None


def _rejection(values: dict[str, Any], exc: Exception) -> dict[str, Any]:
    """The row of a rejected file: where and why (a MessageError's fields, with the envelope
    it read before failing: sender, message type, numbers, date; else its text)."""
    if not isinstance(exc, MessageError):
        return {**values, "outcome": "rejected", "reason": str(exc), "message_ref": None,
                "segment": None, "element": None, "expected": None}
    return {**values, **exc.envelope, "outcome": "rejected", "reason": exc.reason,
            "message_ref": exc.message or None, "segment": exc.segment,
            "element": exc.element or None, "expected": exc.expected or None}


def _lines(decoded: DecodedFile, message_id: int) -> list[store.AckLine | store.ShipLine]:
    """The file's lines as the cache applies them (acknowledgements or ship notice lines)."""
    out: list[store.AckLine | store.ShipLine] = []
    for ln in decoded.lines:
        if decoded.kind == "ack":
            out.append(store.AckLine(
                ln.purchase_order, ln.line, message_id, f"edi_messages:{message_id}/{ln.message_ref}",
                ln.document_time,
                ln.status or "accepted", ln.action_code, ln.quantity, ln.orig_quantity, ln.orig_uom,
                ln.delivery_date))
        else:
            assert ln.delivery_date is not None and ln.quantity is not None
            out.append(store.ShipLine(
                ln.purchase_order, ln.line, ln.shipment, message_id, ln.document_time, ln.quantity,
                ln.orig_quantity, ln.orig_uom, ln.ship_date, ln.delivery_date))
    return out


def _take(conn: Connection, inbox: MessageInbox, data: bytes, facts: store.MappingFacts,
          values: dict[str, Any], source: str, run_id: int | None,
          message_id: int | None = None) -> dict[str, Any]:
    """Decide and apply one file inside the caller's transaction; the archive row's values."""
    facts.bind(conn)  # what the facts have not read yet, they read in this transaction
    try:
        decoded = inbox.decode(data, facts)
    except ValueError as exc:  # MessageError (the port's; EdiError): rejected, where and why
        return _rejection(values, exc)
    values = {**values, "standard": decoded.standard, "version": decoded.version,
              "message_type": decoded.message_type, "sender": decoded.sender,
              "supplier": decoded.supplier, "control_ref": decoded.control_ref,
              "message_refs": decoded.message_refs, "document_number": decoded.document_number,
              "document_time": decoded.document_time.isoformat(timespec="seconds"),
              "lines": len(decoded.lines), "reason": None, "message_ref": None, "segment": None,
              "element": None, "expected": None}
    first = store.applied_copy(conn, decoded.sender, decoded.control_ref, exclude=message_id)
    if first is not None:
        return {**values, "outcome": "duplicate", "duplicate_of": first,
                "reason": f"control number {decoded.control_ref} of {decoded.sender} was taken as "
                          f"message {first}"}
    if message_id is None:
        message_id = store.insert_message(conn, {**values, "outcome": "applied"})
        values["id"] = message_id
    applied = store.apply_lines(conn, _lines(decoded, message_id), facts, source, run_id)
    outcome = "applied" if applied else "superseded"
    reason = None if applied == len(decoded.lines) else (
        f"{len(decoded.lines) - applied} of {len(decoded.lines)} lines older than a message "
        "applied before: kept as they were")
    return {**values, "outcome": outcome, "applied_lines": applied, "reason": reason}


def _error_of(row: dict[str, Any]) -> RecordError:
    reason = row["reason"] or "rejected"
    if row.get("expected"):
        reason += f" (expected {row['expected']})"
    return RecordError("edi_messages", row.get("message_ref") or row["file"], row.get("element") or "",
                       reason, row["file"], row.get("segment"))


@dataclass(frozen=True)
class _Archived:
    path: Path
    data: bytes
    sha: str
    target: Path
    #: the temporary copy waiting for :func:`_make_durable` (None: archived already)
    pending: Path | None


def _archive_file(folder: Path, path: Path) -> _Archived:
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    target, pending = _archive(folder, path.name, data, sha)
    return _Archived(path, data, sha, target, pending)


def _store_file(conn: Connection, inbox: MessageInbox, copy: _Archived,
                facts: store.MappingFacts, source: str, run_id: int | None) -> FileOutcome | None:
    """Decide and apply one archived file in a savepoint of ``conn``'s transaction: all of it
    or — rolled back to the savepoint — nothing of it but its rejected archive row."""
    path, data, sha, target = copy.path, copy.data, copy.sha, copy.target
    base = {"source": source, "file": path.name, "archive_path": str(target), "sha256": sha,
            "received_at": _now(), "processed_at": _now(), "outcome": "rejected"}
    try:
        with store.file_savepoint(conn):
            if store.archived_sha(conn, sha, path.name) is not None:
                values = None
            else:
                values = _take(conn, inbox, data, facts, base, source, run_id)
                if "id" in values:
                    store.update_message(conn, values["id"], values)
                else:
                    values["id"] = store.insert_message(conn, values)
    except Exception as exc:  # noqa: BLE001 - rolled back: the file is recorded as rejected
        with store.file_savepoint(conn):
            values = _rejection(base, exc)
            values["reason"] = f"not applied, nothing changed ({type(exc).__name__}: {exc})"
            values["id"] = store.insert_message(conn, values)
    if values is None:
        return None
    error = _error_of(values) if values["outcome"] == "rejected" else None
    return FileOutcome(values["id"], path.name, values["outcome"], values.get("lines", 0),
                       values.get("applied_lines", 0), error)


#: files applied in one write transaction (each in a savepoint of its own), at most this many
#: or for this long: one commit then writes the pages the group's files share (the archive,
#: holds, history and their indexes) once, instead of once per file
GROUP_FILES = 64
GROUP_SECONDS = 0.5


class _GroupCommit:
    """The write transaction a group of files is applied in. Before it commits, the group's
    archive copies are made durable together (:func:`_make_durable`); after, their inbox
    copies are removed. A crash before the commit leaves them in the inbox (taken again,
    nothing lost) and, at most, durable archive copies that the next sync finds in place."""

    def __init__(self, engine: Engine, folder: Path) -> None:
        self.engine = engine
        self.folder = folder
        self._stack: ExitStack | None = None
        self._conn: Connection | None = None
        self._started = 0.0
        self._taken: list[Path] = []
        self._copies: list[tuple[Path, Path]] = []

    def connection(self) -> Connection:
        if self._conn is None:
            self._stack = ExitStack()
            self._conn = self._stack.enter_context(self.engine.begin())
            self._started = time.perf_counter()
        return self._conn

    def taken(self, copy: _Archived) -> None:
        """The file's outcome is in the transaction: commit when the group is full."""
        self._taken.append(copy.path)
        if copy.pending is not None:
            self._copies.append((copy.pending, copy.target))
        if (len(self._taken) >= GROUP_FILES
                or time.perf_counter() - self._started >= GROUP_SECONDS):
            self.commit()

    def commit(self) -> None:
        _make_durable(self._copies, self.folder)
        self._copies = []
        stack, self._stack, self._conn = self._stack, None, None
        if stack is not None:
            stack.close()
        for path in self._taken:
            path.unlink(missing_ok=True)
        self._taken = []

    def rollback(self) -> None:
        stack, self._stack, self._conn = self._stack, None, None
        self._taken = []
        for tmp, _ in self._copies:
            tmp.unlink(missing_ok=True)
        self._copies = []
        if stack is not None:
            stack.__exit__(RuntimeError, RuntimeError("rolled back"), None)


def _take_files(engine: Engine, inbox: MessageInbox, files: Sequence[Path], folder: Path,
                facts: store.MappingFacts, name: str, run_id: int,
                state: TaskState | None) -> list[FileOutcome]:
    """Every file in order; a cancel (or a failure outside a file's savepoint) still commits
    the files taken before it."""
    outcomes: list[FileOutcome] = []
    group = _GroupCommit(engine, folder)
    try:
        for n, path in enumerate(files):
            check_cancelled(state)
            if state:
                state.set_progress(n, len(files))
            copy = _archive_file(folder, path)
            done = _store_file(group.connection(), inbox, copy, facts, name, run_id)
            group.taken(copy)
            if done is not None:
                outcomes.append(done)
    except BaseException:
        try:
            group.commit()
        except Exception:  # noqa: BLE001 - the transaction itself failed: nothing of it
            group.rollback()
        raise
    group.commit()
    return outcomes


def _start_run(engine: Engine, name: str) -> int:
    with engine.begin() as conn:
        run_id = runs.start_run(conn, name, _now(), SyncRunStatus.RUNNING)
        # what the run adds to the tables it writes lies above these (cache/sync_changes.py)
        sync_changes.mark_run(conn, run_id, ("purchase_order_lines", "promise_changes"))
        return run_id


def _finish_run(engine: Engine, result: SyncResult) -> None:
    assert result.run_id is not None
    with engine.begin() as conn:
        runs.finish_run(
            conn, result.run_id, finished_at=_now(), status=result.status, counts=result.counts,
            rejected=len(result.rejected), duration_s=result.duration_s, error=result.error)
        runs.record_rejections(conn, result.run_id, result.rejected)


def _result(name: str, run_id: int | None, outcomes: list[FileOutcome], started: float) -> SyncResult:
    result = SyncResult(connector=name, status=SyncRunStatus.SUCCEEDED, run_id=run_id)
    by = {o: sum(1 for f in outcomes if f.outcome == o) for o in store.OUTCOMES}
    result.counts = {
        "edi_messages": {"received": len(outcomes), "changed": by["applied"], "deleted": 0, **by},
        "purchase_order_lines": {"received": sum(f.lines for f in outcomes),
                                 "changed": sum(f.applied_lines for f in outcomes), "deleted": 0},
    }
    result.rejected = [f.error for f in outcomes if f.error is not None]
    if result.rejected:
        result.status = SyncRunStatus.PARTIAL if by["applied"] or by["superseded"] else \
            SyncRunStatus.FAILED
        names = ", ".join(f.file for f in outcomes if f.outcome == "rejected")
        result.error = (f"{len(result.rejected)} message file(s) rejected, nothing of them applied: "
                        f"{names}; see `workbench edi list --rejected`, replay once fixed")
    result.duration_s = time.perf_counter() - started
    return result


def sync_inbox(engine: Engine, inbox: MessageInbox, source: str | None = None,
               state: TaskState | None = None) -> SyncResult:
    """Take every file waiting in the inbox (see module doc); never raises for a bad file."""
    started = time.perf_counter()
    name = source or inbox.name
    run_id = _start_run(engine, name)
    folder = archive_folder(engine)
    with engine.connect() as conn:
        facts = store.load_facts(conn)
    outcomes = _take_files(engine, inbox, inbox.inbox_files(), folder, facts, name, run_id, state)
    result = _result(name, run_id, outcomes, started)
    _finish_run(engine, result)
    return result


def replay(engine: Engine, ids: Sequence[int],
           inbox_for: Callable[[str], Connector]) -> list[FileOutcome]:
    """Take rejected files again from the archive (``inbox_for(source)`` opens the source's
    connector, with its current settings: a message inbox, else ValueError); each in its own
    transaction, updating its row."""
    with engine.connect() as conn:
        rows = {r["id"]: r for r in store.messages(conn, ids=list(ids))}
        facts = store.load_facts(conn)
    missing = [i for i in ids if i not in rows]
    if missing:
        raise LookupError(f"no EDI message {', '.join(map(str, missing))}")
    taken = [i for i in ids if rows[i]["outcome"] != "rejected"]
    if taken:
        raise ValueError(f"message {', '.join(map(str, taken))} was not rejected: only rejected "
                         "messages are replayed")
    out = []
    for i in ids:
        row = rows[i]
        try:
            data = Path(row["archive_path"]).read_bytes()
        except OSError as exc:
            raise LookupError(f"the archived copy of message {i} ({row['archive_path']}) cannot "
                              f"be read: {exc.strerror or exc}") from None
        inbox = inbox_for(row["source"])
        if not is_message_inbox(inbox):
            raise ValueError(f"source {row['source']!r} of message {i} is a {inbox.name} "
                             "connector, not a message inbox: its messages cannot be replayed")
        base = {k: row[k] for k in ("source", "file", "archive_path", "sha256", "received_at")}
        base.update(processed_at=_now(), replays=int(row["replays"]) + 1, duplicate_of=None)
        with engine.begin() as conn:
            values = _take(conn, inbox, data, facts, base, row["source"], None, message_id=i)
            if values["outcome"] != "rejected":
                values.setdefault("applied_lines", 0)
            store.update_message(conn, i, values)
        error = _error_of(values) if values["outcome"] == "rejected" else None
        out.append(FileOutcome(i, row["file"], values["outcome"], values.get("lines", 0),
                               values.get("applied_lines", 0), error))
    return out


def list_messages(engine: Engine, rejected_only: bool = False) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return store.messages(conn, rejected_only=rejected_only)


def confirmation_mismatches(engine: Engine) -> list[store.ConfirmationMismatch]:
    with engine.connect() as conn:
        return store.confirmation_mismatches(conn)


def inbox_folder(engine: Engine) -> Path:
    """``<cache>.edi-inbox``: where a source's own suppliers (the demo plant's) drop messages."""
    return archive_folder(engine).with_name(archive_folder(engine).name.replace(
        ".edi-archive", ".edi-inbox"))


def sync_supplier_messages(engine: Engine, connector: Connector,
                           state: TaskState | None = None) -> SyncResult | None:
    """After a sync of a source whose suppliers send messages themselves (a connector whose
    ``supplier_inbox(folder)`` returns an inbox, e.g. the demo plant): let them write into the
    inbox beside the cache and take it (:func:`sync_inbox`). None for other sources."""
    inbox = connector.supplier_inbox(inbox_folder(engine))
    if inbox is None:
        return None
    return sync_inbox(engine, inbox, f"{connector.name}-edi", state=state)
