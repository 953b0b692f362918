"""The demo ERP's own store: a JSON-lines file of the writes it took, and of its clock.

A real source system keeps what the workbench wrote back; the demo plant, whose records are
generated, keeps only the *writes* and lays them over the generated records on every read
(:mod:`connectors.demo.writes`). So this file is the demo's whole persistent state, and it
belongs with one cache (:data:`SUFFIX`: beside the cache file).

Lines, in the order they happened:

``{"clock": {"scale": "small", "seed": 42, "day": 7}, "at": ...}``
    a sync read the plant on that day; the next writes happen on the plant of the latest clock
    (so a push needs no parameters, and checks versions against what the cache last saw).
``{"write": 3, "key": ..., "action": ..., "target": ..., "day": 7, "set": {...}, ...}``
    applied write number 3 (numbers count from 1), made on simulated day 7: ``set`` holds the
    resulting values of the requisition's fields, so replaying never re-decides anything.

Every line is appended and fsync'ed before the push reports success, under an exclusive lock
held from reading the ledger to appending to it: two processes sending (the app and
``workbench outbox --send``) never both apply a write, and a write reported applied survives a
crash. A torn last line (a crash mid-append, never reported applied) is skipped on reading.
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

#: the ledger of a cache ``X`` is ``X`` + this suffix
SUFFIX = ".demo-ledger.jsonl"


@dataclass(frozen=True)
class Clock:
    """Which demo plant a ledger's writes apply to, and its present day."""

    scale: str
    seed: int
    day: int


@dataclass(frozen=True)
class Write:
    """One applied write: the requisition ``target`` got the field values ``values``."""

    seq: int
    key: str
    action: str
    target: str
    day: int
    values: dict[str, Any] = field(default_factory=dict)
    scale: str = "small"
    seed: int = 42


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
        with self.path.open(encoding="utf-8") as f:
            for line in f:
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue  # a torn last line: never reported applied
                if "clock" in entry:
                    clock = Clock(**entry["clock"])
                elif "write" in entry:
                    writes.append(
                        Write(
                            seq=int(entry["write"]),
                            key=entry["key"],
                            action=entry["action"],
                            target=entry["target"],
                            day=int(entry["day"]),
                            values=entry["set"],
                            scale=entry["scale"],
                            seed=int(entry["seed"]),
                        )
                    )
        return LedgerState(writes, clock)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the ledger exclusively (between processes) while reading, checking, appending."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
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
                **detail,
            }
        )

    def _append(self, entry: dict[str, Any]) -> None:
        new = not self.path.exists() or self.path.stat().st_size == 0
        line = json.dumps(entry, sort_keys=True, default=str) + "\n"
        with self.path.open("a+b") as f:
            f.seek(0, os.SEEK_END)
            if f.tell():
                f.seek(-1, os.SEEK_END)
                if f.read(1) != b"\n":  # end a torn line, so this entry stays readable
                    line = "\n" + line
            f.write(line.encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())
        if new:
            _fsync_dir(self.path.parent)


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
