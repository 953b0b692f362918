"""The demo ERP's own store: a JSON-lines file of the writes it took, and of its clock.

A real source system keeps what the workbench wrote back; the demo plant, whose records are
generated, keeps only the *writes* and lays them over the generated records on every read
(:mod:`planner_connectors.demo.writes`). So this file is the demo's whole persistent state, and it
belongs with one cache (:data:`SUFFIX`: beside the cache file).

Lines, in the order they happened:

``{"clock": {"scale": "small", "seed": 42, "day": 7}, "at": ...}``
    a sync read the plant on that day; the next writes happen on the plant of the latest clock
    (so a push needs no parameters, and checks versions against what the cache last saw).
``{"write": 3, "key": ..., "action": ..., "target": ..., "day": 7, "set": {...}, ...}``
    applied write number 3 (numbers count from 1), made on simulated day 7: ``set`` holds the
    resulting values of the requisition's fields, so replaying never re-decides anything. A
    write on a purchase-order line says ``"kind": "purchase_order_line"`` (its ``set``: the
    line's ``quantity``, ``requested_date``/``promised_date`` or ``status``); without
    ``kind`` the target is a requisition.

Every line is appended and fsync'ed before the push reports success, under an exclusive lock
held from reading the ledger to appending to it: two processes sending (the app and
``workbench outbox --send``) never both apply a write, and a write reported applied survives a
crash. A torn last line (a crash mid-append, never reported applied) is skipped on reading; the
next append ends it and marks it with a ``{"torn": ...}`` line, so it stays skipped. Any other
line that is not UTF-8 JSON of the shapes above is damage: reading stops with
:class:`LedgerError` naming the file, the line and what is wrong, rather than silently dropping
a write the demo plant took. The file is created readable by its user only (0600).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.connect.port import PermanentError
from workbench.domain.enums import WriteAction

#: the ledger of a cache ``X`` is ``X`` + this suffix
SUFFIX = ".demo-ledger.jsonl"


class LedgerError(PermanentError):
    """The ledger file holds a line that is neither an entry nor a torn append."""


@dataclass(frozen=True)
class Clock:
    """Which demo plant a ledger's writes apply to, and its present day."""

    scale: str
    seed: int
    day: int


@dataclass(frozen=True)
class Write:
    """One applied write: the record ``target`` (a requisition, or a purchase-order line when
    ``kind`` says so) got the field values ``values``."""

    seq: int
    key: str
    action: WriteAction
    target: str
    day: int
    values: dict[str, Any] = field(default_factory=dict)
    scale: str = "small"
    seed: int = 42
    #: what ``target`` is (:class:`workbench.connect.port.TargetKind` values; lines written
    #: before PO-line writes existed have no ``kind``: requisitions)
    kind: str = "requisition"


@dataclass(frozen=True)
class LedgerState:
    writes: list[Write]
    clock: Clock | None

    def of_plant(self, scale: str, seed: int) -> list[Write]:
        """The writes made on the plant (scale, seed): a ledger may have seen more than one."""
        return [w for w in self.writes if (w.scale, w.seed) == (scale, seed)]


class Ledger:
    """Reading and appending the ledger file (see the module docstring)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def read(self) -> LedgerState:
        writes: list[Write] = []
        clock: Clock | None = None
        if not self.path.exists():
            return LedgerState(writes, clock)
        lines = self.path.read_bytes().split(b"\n")
        for number, raw in enumerate(lines, start=1):
            entry = self._entry(raw, number, lines)
            if entry is None:
                continue
            try:
                if "clock" in entry:
                    clock = Clock(**entry["clock"])
                elif "write" in entry:
                    writes.append(_write(entry))
            except (KeyError, TypeError, ValueError) as exc:
                raise self._damaged(number, f"an entry without a valid {exc}") from None
        return LedgerState(writes, clock)

    def _entry(self, raw: bytes, number: int, lines: list[bytes]) -> dict[str, Any] | None:
        """Line ``number`` as a dict; None for a blank line, a torn append or a torn marker."""
        if not raw.strip():
            return None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise self._damaged(number, f"byte 0x{raw[exc.start]:02x} at column {exc.start + 1} "
                                        f"is not UTF-8 text") from None
        try:
            entry = json.loads(text)
        except ValueError:
            last = number == len(lines)  # no newline after it: an append cut short
            marked = number < len(lines) and lines[number].startswith(b'{"torn":')
            if last or marked:
                return None
            raise self._damaged(number, "not a JSON entry") from None
        if not isinstance(entry, dict):
            raise self._damaged(number, "not a JSON object")
        return None if "torn" in entry else entry

    def _damaged(self, number: int, what: str) -> LedgerError:
        return LedgerError(
            f"the demo ledger {self.path}, line {number}: {what}; the file is damaged. Restore it "
            f"from a backup, or delete it together with the cache to start the demo afresh"
        )

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the ledger exclusively (between processes) while reading, checking, appending."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _create_private(self.path)
        with self.path.open("a+b") as handle:
            _lock(handle.fileno())
            try:
                yield
            finally:
                _unlock(handle.fileno())

    def append_clock(self, clock: Clock) -> None:
        self._append({"clock": vars(clock), "at": _now()})

    def append_write(self, write: Write, detail: dict[str, Any]) -> None:
        self._append(
            {
                "write": write.seq,
                "key": write.key,
                "action": write.action,
                "target": write.target,
                "day": write.day,
                "set": write.values,
                "scale": write.scale,
                "seed": write.seed,
                "at": _now(),
                **({"kind": write.kind} if write.kind != "requisition" else {}),
                **detail,
            }
        )

    def _append(self, entry: dict[str, Any]) -> None:
        new = not self.path.exists() or self.path.stat().st_size == 0
        line = json.dumps(entry, sort_keys=True, default=str) + "\n"
        _create_private(self.path)
        with self.path.open("a+b") as f:
            f.seek(0, os.SEEK_END)
            if f.tell():
                f.seek(-1, os.SEEK_END)
                if f.read(1) != b"\n":  # end a torn line and mark it, so this entry stays
                    line = "\n" + json.dumps({"torn": True, "at": _now()}) + "\n" + line
            f.write(line.encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())
        if new:
            _fsync_dir(self.path.parent)


def _write(entry: dict[str, Any]) -> Write:
    return Write(
        seq=int(entry["write"]),
        key=str(entry["key"]),
        action=WriteAction(str(entry["action"])),
        target=str(entry["target"]),
        day=int(entry["day"]),
        values=dict(entry["set"]),
        scale=str(entry["scale"]),
        seed=int(entry["seed"]),
        kind=str(entry.get("kind", "requisition")),
    )


def _create_private(path: Path) -> None:
    """Create ``path`` empty and readable by its user only (0600, whatever the umask), unless it
    exists."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)
    with contextlib.suppress(OSError):
        os.chmod(path, 0o600)


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def _fsync_dir(folder: Path) -> None:
    """Make a new file's directory entry durable too (POSIX; not possible on Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


try:  # POSIX
    import fcntl

    def _lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)

except ImportError:  # Windows: lock a byte far beyond the end, so reading stays possible
    import msvcrt

    _LOCK_AT = 2**40

    def _lock(fd: int) -> None:
        os.lseek(fd, _LOCK_AT, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_LOCK, 1)  # type: ignore[attr-defined]

    def _unlock(fd: int) -> None:
        os.lseek(fd, _LOCK_AT, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]
