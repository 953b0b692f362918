"""A lock per scheduled job on a cache, so two runs of it never overlap (issue 17 §2).

``workbench team-sync`` runs from a timer (cron, systemd) on one or more machines; a run that
takes longer than the timer's interval, or the same timer on a second server, must not start a
second sync of the same sources into the same cache. :func:`job_lock` takes the job's lock or
raises :class:`JobBusy` at once (never waits: the next tick tries again):

- PostgreSQL cache: a session-level advisory lock (``pg_try_advisory_lock``) on a connection of
  its own held for the run — across every machine using the team cache; PostgreSQL releases it
  when that connection ends, so a killed run never leaves it behind. The busy message names the
  holder's backend (client address, since when) from ``pg_stat_activity``.
- SQLite cache: an exclusive ``flock`` on a file beside the cache (``<cache>.<job>.lock``; the
  operating system releases it when the process ends), which notes the holder's host, process and
  start time for the busy message.

The dialect-specific parts are the two ``_pg_*`` / ``_file_*`` pairs below.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import socket
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Connection, Engine, text


class JobBusy(RuntimeError):
    """Another run of the job holds its lock; the message names it."""


def lock_key(job: str) -> int:
    """The advisory lock key of ``job``: a stable positive 63-bit number from its name
    (positive, so ``pg_locks``' two 32-bit halves give it back without a sign)."""
    digest = hashlib.sha256(f"planner-workbench:{job}".encode()).digest()
    return int.from_bytes(digest[:8], "big") & 0x7FFF_FFFF_FFFF_FFFF


def _pg_holder(conn: Connection, key: int) -> str:
    row = conn.execute(text(
        "SELECT a.pid, a.client_addr, a.backend_start FROM pg_locks l "
        "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
        "AND l.granted AND ((l.classid::bigint << 32) | l.objid::bigint) = :k"),
        {"k": key}).first()
    if row is None:
        return "another run"
    where = f" from {row.client_addr}" if row.client_addr else ""
    since = row.backend_start.isoformat(timespec="seconds") if row.backend_start else "?"
    return f"another run (database backend {row.pid}{where}, since {since})"


@contextlib.contextmanager
def _pg_lock(engine: Engine, job: str) -> Iterator[None]:
    key = lock_key(job)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar_one()
        if not got:
            raise JobBusy(f"{job} is already running: {_pg_holder(conn, key)}")
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})


@contextlib.contextmanager
def _file_lock(path: Path, job: str) -> Iterator[None]:
    import fcntl  # POSIX: the scheduled job runs under cron or systemd

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another run"
            raise JobBusy(f"{job} is already running: {holder}") from None
        note = (f"host {socket.gethostname()}, process {os.getpid()}, since "
                f"{dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}")
        os.ftruncate(fd, 0)
        os.pwrite(fd, note.encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextlib.contextmanager
def job_lock(engine: Engine, job: str = "team-sync") -> Iterator[None]:
    """Hold the lock of ``job`` on the cache of ``engine`` for the ``with`` block; raises
    :class:`JobBusy` at once when another run holds it (module doc)."""
    if engine.dialect.name == "postgresql":
        with _pg_lock(engine, job):
            yield
        return
    from workbench.cache.db import local_base

    base = local_base(engine)
    if base is None:  # an in-memory cache: no other process can reach it
        yield
        return
    with _file_lock(Path(f"{base}.{job}.lock"), job):
        yield
