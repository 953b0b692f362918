"""A binary snapshot of the planning frames beside the cache, so loading them takes a second.

Reading the planning frames from SQLite takes 15-30 s on the large demo (4.2M rows, most of it
turning text into Python strings and dates); the snapshot of the very same frames (214 MiB)
loads in 1.5-2 s with 0.4 GiB less peak memory (tests/benchmarks/bench_frame_load.py). It is a
cache of a cache, and it is never trusted beyond what it proves:

Where
    One file beside the cache: ``<cache file>.frames`` (e.g. ``cache.sqlite.frames``). It is an
    uncompressed zip of ``.npy`` arrays (``numpy.savez``; read with ``allow_pickle=False``, so
    a file cannot run code): numbers and dates as they are, every text column as small integer
    codes plus its distinct values once, and a JSON manifest (format, stamp, layout, columns).

When patched
    At the end of a sync that changed rows: the sync reads the stamp first thing in its writing
    transaction and seals it (marks it observed) last, so the two stamps name exactly the state
    it started from and the state it committed; after the commit the snapshot of the first gets
    the rows the run wrote (``sync_run``) and is written again under the second
    (:mod:`workbench.services.frame_patch`, :mod:`workbench.cache.snapshot_patch`: only the
    frames the run wrote are stored anew, the others copied byte for byte). Each frame keeps its
    rows' SQLite rowids (member ``<frame>/rowid``, format 2) so the patched frame has the order a
    full read gives. A crash between the commit and the rename leaves the snapshot of the old
    stamp, which never loads for the new one.

When written
    After a load that had to read SQLite (the first load after any change of the entity
    tables the sync did not patch), by a background thread (:func:`write_in_background`; a CLI
    process waits for it at exit, after printing its answer). Only if the cache's stamp was the
    same before and after the frames were read, so the frames are exactly the state that stamp
    names. Written to a temporary name in the same folder, flushed to disk, then renamed over
    the old file: a crash mid-write leaves the old snapshot or a stray ``.frames.tmp-*`` file
    (removed by a later write once an hour old), never a half file under the real name.

How invalidated
    The cache keeps a stamp of its entity tables (table ``entity_stamp``, migrations 0004 and
    0005). Before the frames are read for a snapshot, the stamp is *observed*
    (:func:`observe_stamp` sets ``observed`` = 1); the first write of an entity table after
    that draws a new random 64-bit stamp inside the writing transaction: for updates and
    deletes a trigger on every entity table (deletion marks, incremental upserts, the promise
    history, a hand edit with the sqlite3 shell; later rows only read the flag), for inserts
    the sync's upsert itself, once per batch (:data:`workbench.cache.schema.NEW_STAMP`; it is
    the only code that inserts entity rows, package import and the demo go through it): a
    trigger on every row inserted made a full sync of the large demo far slower. Rows inserted
    by hand outside the application are not seen: delete the snapshot after such an edit. The
    snapshot records the stamp it was made from and loads only while it equals the cache's, and
    only if its layout (columns and kinds per frame, application version, the digest of the
    reading code: :data:`LAYOUT_CODE`, from the sources or, in a frozen build, the compiled
    code and the build stamp) equals what the caller expects. A missing, stale, truncated or
    otherwise unreadable snapshot is skipped (a damaged one with a log line; every array is
    CRC-checked); the caller then reads SQLite as before. A sync that changes nothing keeps the
    stamp and the snapshot.

How to delete it
    Any time, with the application running or not: it holds nothing the cache does not. The
    next load reads SQLite and writes a new one. Removing a cache file should remove its
    ``.frames`` file too (it would never load for another cache: a new cache draws a new stamp).

This module knows nothing of planning: it stores named frames whose columns are text
(``str`` or ``object`` holding only str), numbers or dates, and the numbering of text columns
(see :class:`Snapshot`).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Collection, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from workbench.cache import dialect
from workbench.cache.stamp import seal_in_transaction, stamp_in_transaction, stamp_on

log = logging.getLogger(__name__)

#: Appended to the cache file's name.
SUFFIX = ".frames"
#: Version of the file layout written here; a snapshot of another format is not read.
#: (2: each frame may carry its rows' SQLite rowids, member ``<frame>/rowid``.)
FORMAT = 2
#: Joins a text column's distinct values when none holds it (else their lengths are stored).
_SEP = "\x1f"
#: A temporary file older than this is a crashed write's leftover.
_STALE_TMP_S = 3600.0
#: The code a snapshot's frames depend on (what reads, normalises and patches them; every module
#: of a package): part of the layout a snapshot must have been made for
#: (:func:`workbench.services.planning_data.frame_snapshot_layout`)
LAYOUT_CODE = ("workbench.analysis.data", "workbench.domain", "workbench.cache.frames",
               "workbench.cache.schema", "workbench.cache.snapshot",
               "workbench.cache.snapshot_patch", "workbench.services.planning_data",
               "workbench.services.frame_patch")


def layout_code_digest() -> str:
    """The digest of :data:`LAYOUT_CODE` (:func:`workbench.cache.code_digest.code_digest`:
    sources, or in a frozen build the compiled code and the build stamp)."""
    from workbench.cache.code_digest import code_digest

    return code_digest(*LAYOUT_CODE)


class SnapshotError(ValueError):
    """A frame the snapshot cannot store exactly (the caller then simply has no snapshot)."""


@dataclass
class Snapshot:
    """Frames as they were stored, with the numbering of every text column: ``codes[(frame,
    column)]`` numbers each row's value in order of first appearance, equal values by equal
    numbers (two numbers may still share a value), as a bulk load from SQLite numbers them."""

    stamp: int
    frames: dict[str, pd.DataFrame]
    codes: dict[tuple[str, str], np.ndarray]
    #: each frame's rows' SQLite rowids (ascending), when asked for and stored
    rowids: dict[str, np.ndarray] = field(default_factory=dict)


def snapshot_path(engine: Engine) -> Path | None:
    """``<cache file>.frames`` for a cache on disk (for a PostgreSQL cache under its local
    folder, :func:`workbench.cache.db.local_base`); None for an in-memory database."""
    from workbench.cache.db import local_base

    cache = local_base(engine)
    return None if cache is None else cache.with_name(cache.name + SUFFIX)


@contextmanager
def _cursor(engine: Engine) -> Iterator[tuple[Any, Any]]:
    """A DB-API connection of ``engine`` and a cursor on it, both closed afterwards."""
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        try:
            yield raw, cur
        finally:
            cur.close()
    finally:
        raw.close()


def observe_stamp(engine: Engine, wait_ms: int = 200) -> int | None:
    """The stamp, marked as observed: the next write of an entity table draws a new one. Call it
    before reading what a snapshot will hold. None when it cannot be marked within ``wait_ms``
    (a sync holding the write lock, a read-only file): then no snapshot is made this time."""
    with _cursor(engine) as (raw, cur):
        try:
            if dialect.is_postgres_dbapi(raw):  # a row lock: wait for it as long as SQLite would
                cur.execute(f"SET LOCAL lock_timeout = {int(wait_ms)}")
                before = None
            else:
                before = cur.execute("PRAGMA busy_timeout").fetchone()[0]
                cur.execute(f"PRAGMA busy_timeout = {int(wait_ms)}")
            try:
                cur.execute("UPDATE entity_stamp SET observed = 1 WHERE id = 1 AND observed = 0")
                row = cur.execute("SELECT stamp FROM entity_stamp WHERE id = 1").fetchone()
                raw.commit()
            finally:
                if before is not None:
                    cur.execute(f"PRAGMA busy_timeout = {int(before)}")
        except Exception as exc:  # noqa: BLE001 - locked, read-only or no stamp: no snapshot
            raw.rollback()
            log.info("entity stamp not observed (%s): planning frames are not snapshotted", exc)
            return None
    return None if row is None else int(row[0])


def read_stamp(engine: Engine) -> int | None:
    """The stamp of the cache's entity tables (None: a cache without one, never snapshotted)."""
    with _cursor(engine) as (_, cur):
        try:
            row = cur.execute("SELECT stamp FROM entity_stamp WHERE id = 1").fetchone()
        except Exception as exc:  # noqa: BLE001 - sqlite3 or driver error: no stamp, no snapshot
            log.info("cache has no entity stamp (%s): planning frames are not snapshotted", exc)
            return None
    return None if row is None else int(row[0])


# --- reading ----------------------------------------------------------------------------------

def read_snapshot(path: Path, stamp: int, layout: str, *, rowids: bool = False,
                  only: Collection[str] | None = None,
                  shared: Collection[tuple[str, str]] = ()) -> Snapshot | None:
    """The stored frames if ``path`` holds a readable snapshot of ``stamp`` and ``layout``;
    None otherwise (missing or stale: silently; unreadable: with a warning in the log).
    ``rowids``: also the rows' rowids of the frames that have them (to patch it); ``only``:
    just these frames; ``shared``: (frame, column) pairs whose equal values are one str object
    across those columns (item codes repeat in most frames: 40 MiB of duplicate strings on the
    large demo, issue 16 §3)."""
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as archive:
            manifest = json.loads(bytes(archive["manifest"]).decode("utf-8"))
            if manifest.get("format") != FORMAT or manifest.get("stamp") != stamp or \
                    manifest.get("layout") != layout:
                log.debug("frame snapshot %s is stale; reading the cache", path)
                return None
            if only is not None:
                manifest = dict(manifest, frames={n: f for n, f in manifest["frames"].items()
                                                  if n in only})
            saved = _rebuild(archive, manifest, set(shared))
            if rowids:
                saved.rowids = _rowids(archive, manifest)
            return saved
    except Exception as exc:  # noqa: BLE001 - any unreadable file means: read SQLite instead
        log.warning("frame snapshot %s is unreadable (%s: %s); reading the cache instead",
                    path, type(exc).__name__, exc)
        return None


def _rebuild(archive: Any, manifest: dict[str, Any],
             shared: Collection[tuple[str, str]] = ()) -> Snapshot:
    frames: dict[str, pd.DataFrame] = {}
    codes: dict[tuple[str, str], np.ndarray] = {}
    pool: dict[str, str] = {}  # the one str object of each value of the shared columns
    # a reader thread reads (and CRC-checks) the arrays ahead while this one builds strings:
    # file reads and zlib release the GIL, so a second core shortens the load by a fifth
    with ThreadPoolExecutor(1, thread_name_prefix="frame-snapshot-read") as reader:
        ahead = {key: reader.submit(archive.__getitem__, key) for key in _member_order(manifest)}
        for name, spec in manifest["frames"].items():
            rows = int(spec["rows"])
            index = pd.RangeIndex(rows)
            columns: dict[str, pd.Series] = {}
            for n, col in enumerate(spec["columns"]):
                key = f"{name}/{n}"
                if col["store"] == "text":
                    numbers = ahead.pop(f"{key}/codes").result()
                    distinct = _distinct_values(ahead, key, col,
                                                pool if (name, col["name"]) in shared else None)
                    if len(numbers) != rows:  # (a code beyond the values: IndexError)
                        raise SnapshotError(f"{name}.{col['name']}: {len(numbers)} rows")
                    # every row its own value (codes, keys): the numbers are 0..n-1
                    values = distinct if len(distinct) == rows else distinct[numbers]
                    columns[col["name"]] = _text_series(values, index, col["dtype"])
                    codes[(name, col["name"])] = numbers
                else:
                    values = ahead.pop(key).result()
                    if len(values) != rows or str(values.dtype) != col["dtype"]:
                        raise SnapshotError(f"{name}.{col['name']}: {values.dtype}, "
                                            f"{len(values)} rows")
                    columns[col["name"]] = pd.Series(values, index=index, copy=False)
            frames[name] = pd.DataFrame(columns, index=index, copy=False)
    return Snapshot(int(manifest["stamp"]), frames, codes)


def _rowids(archive: Any, manifest: dict[str, Any]) -> dict[str, np.ndarray]:
    out = {}
    for name, spec in manifest["frames"].items():
        if spec.get("rowids"):
            ids = archive[f"{name}/rowid"]
            if len(ids) != int(spec["rows"]) or ids.dtype != np.int64:
                raise SnapshotError(f"{name}: {len(ids)} rowids ({ids.dtype})")
            out[name] = ids
    return out


def snapshot_manifest(path: Path) -> dict[str, Any] | None:
    """A snapshot file's manifest (format, stamp, layout, frames with their rows and columns);
    None when there is none readable."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            manifest = json.loads(bytes(archive["manifest"]).decode("utf-8"))
    except Exception:  # noqa: BLE001 - missing or unreadable: no manifest
        return None
    return manifest if isinstance(manifest, dict) else None


def snapshot_stamp(path: Path) -> int | None:
    """The stamp a snapshot file says it reflects (its manifest only; None: none readable)."""
    stamp = (snapshot_manifest(path) or {}).get("stamp")
    return int(stamp) if isinstance(stamp, int) else None


def _member_order(manifest: dict[str, Any]) -> list[str]:
    """The archive members in the order :func:`_rebuild` uses them."""
    keys = []
    for name, spec in manifest["frames"].items():
        for n, col in enumerate(spec["columns"]):
            key = f"{name}/{n}"
            if col["store"] != "text":
                keys.append(key)
                continue
            keys.append(f"{key}/codes")
            if int(col["distinct"]):
                keys.append(f"{key}/text")
                if not col["split"]:
                    keys.append(f"{key}/lengths")
    return keys


def _text_series(values: np.ndarray, index: pd.RangeIndex, dtype_name: str) -> pd.Series:
    """A text column of str objects (as decoded here) with the dtype it was stored with.

    pandas' own construction checks every one of the millions of values is a str (0.4 s on the
    large demo); these are known to be, so a python-backed string array wraps them directly
    (the frame-equality test would catch a pandas release where this no longer holds)."""
    if dtype_name == "object":
        return pd.Series(values, index=index, dtype=object, copy=False)
    dtype = pd.api.types.pandas_dtype(dtype_name)
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "python":
        array = dtype.construct_array_type()._simple_new(values, dtype)
        return pd.Series(array, index=index, copy=False)
    return pd.Series(values, index=index, dtype=dtype, copy=False)


def _distinct_values(ahead: dict[str, Future[np.ndarray]], key: str,
                     col: dict[str, Any], pool: dict[str, str] | None = None) -> np.ndarray:
    count = int(col["distinct"])
    if count == 0:
        return np.zeros(0, dtype=object)
    text = ahead.pop(f"{key}/text").result().tobytes().decode("utf-8")
    if col["split"]:
        parts = text.split(_SEP)
    else:
        ends = np.cumsum(ahead.pop(f"{key}/lengths").result()).tolist()
        parts = [text[a:b] for a, b in zip([0, *ends[:-1]], ends)]
    if len(parts) != count:
        raise SnapshotError(f"{key}: {len(parts)} distinct values, manifest says {count}")
    if pool is not None:
        parts = [pool.setdefault(p, p) for p in parts]
    return np.array(parts, dtype=object)


# --- writing ----------------------------------------------------------------------------------

def write_snapshot(path: Path, stamp: int, layout: str, frames: Mapping[str, pd.DataFrame],
                   numbering: Mapping[tuple[str, str], np.ndarray] | None = None,
                   rowids: Mapping[str, np.ndarray] | None = None) -> int:
    """Store ``frames`` as the snapshot of ``stamp``; returns the bytes written.

    ``numbering`` may hand over a bulk load's numbering of text columns (equal numbers for
    equal values, in order of first appearance): it is checked against the values and saves
    hashing millions of strings again; columns without one are factorized here. ``rowids``:
    each frame's rows' SQLite rowids (ascending), kept so a sync can patch the snapshot.
    Raises :class:`SnapshotError` for a frame that cannot be stored exactly, ``OSError`` for a
    failed write; either way the old snapshot (or none) stays in place.
    """
    arrays: dict[str, np.ndarray] = {}
    manifest: dict[str, Any] = {"format": FORMAT, "stamp": stamp, "layout": layout, "frames": {}}
    for name, frame in frames.items():
        manifest["frames"][name] = store_frame(arrays, name, frame, numbering,
                                               (rowids or {}).get(name))
    arrays["manifest"] = np.frombuffer(json.dumps(manifest).encode("utf-8"), dtype=np.uint8)
    return _write_atomically(path, arrays)


def store_frame(arrays: dict[str, np.ndarray], name: str, frame: pd.DataFrame,
                numbering: Mapping[tuple[str, str], np.ndarray] | None = None,
                rowids: np.ndarray | None = None) -> dict[str, Any]:
    """Add the members of one frame (and its rowids) to ``arrays``; its manifest entry."""
    if not isinstance(frame.index, pd.RangeIndex) or frame.index.start != 0 or \
            frame.index.step != 1:
        raise SnapshotError(f"{name}: only frames with a 0..n-1 index are stored")
    specs = []
    for n, column in enumerate(frame.columns):
        hint = (numbering or {}).get((name, str(column)))
        specs.append(_store_column(arrays, f"{name}/{n}", str(column), frame[column], hint))
    spec: dict[str, Any] = {"rows": len(frame), "columns": specs}
    if rowids is not None:
        ids = np.asarray(rowids, dtype=np.int64)
        if len(ids) != len(frame) or (len(ids) > 1 and not bool((np.diff(ids) > 0).all())):
            raise SnapshotError(f"{name}: {len(ids)} rowids for {len(frame)} rows, or "
                                "not ascending")
        arrays[f"{name}/rowid"] = ids
        spec["rowids"] = True
    return spec


def _store_column(arrays: dict[str, np.ndarray], key: str, column: str, series: pd.Series,
                  hint: np.ndarray | None) -> dict[str, Any]:
    dtype = series.dtype
    spec: dict[str, Any] = {"name": column, "dtype": str(dtype)}
    if isinstance(dtype, np.dtype) and dtype.kind in "biufcmM":
        arrays[key] = series.to_numpy()
        spec["store"] = "array"
        return spec
    if not (isinstance(dtype, pd.StringDtype) or (isinstance(dtype, np.dtype) and dtype.kind == "O")):
        raise SnapshotError(f"{key} ({column}): dtype {dtype} is not stored")
    values = series.to_numpy(dtype=object)
    numbers, distinct = _numbered(values, hint)
    if pd.api.types.infer_dtype(np.asarray(distinct, dtype=object), skipna=False) not in \
            ("string", "empty"):
        raise SnapshotError(f"{key} ({column}): holds a value that is not text")
    arrays[f"{key}/codes"] = numbers.astype(_code_dtype(len(distinct)))
    joined = _SEP.join(distinct)
    split = joined.count(_SEP) == max(len(distinct) - 1, 0)
    if not split:
        joined = "".join(distinct)
        arrays[f"{key}/lengths"] = np.array([len(v) for v in distinct], dtype=np.int64)
    arrays[f"{key}/text"] = np.frombuffer(joined.encode("utf-8"), dtype=np.uint8)
    spec.update(store="text", distinct=len(distinct), split=split)
    return spec


#: Rows of a column whose values are compared with the numbering handed over (all of a smaller
#: column; evenly spread over a larger one: comparing 2M strings one by one takes a second).
_CHECKED_ROWS = 1 << 16


def _numbered(values: np.ndarray, hint: np.ndarray | None) -> tuple[np.ndarray, list[Any]]:
    """(each row's number, the value of each number): the hint if it numbers ``values`` in
    order of first appearance (checked on every first appearance and on evenly spread rows),
    else ``pd.factorize``."""
    if hint is not None and len(hint) == len(values) and len(values):
        first = np.flatnonzero(np.concatenate([[True], hint[1:] > np.maximum.accumulate(hint)[:-1]]))
        distinct = values[first]
        rows = slice(None, None, max(1, len(values) // _CHECKED_ROWS))
        if np.array_equal(hint[first], np.arange(len(first))) and \
                bool((distinct[hint[rows]] == values[rows]).all()):
            return hint, distinct.tolist()
    numbers, uniques = pd.factorize(values, use_na_sentinel=True)
    if (numbers < 0).any():
        raise SnapshotError("a text column holds a missing value")
    return numbers, list(uniques)


def _code_dtype(count: int) -> type[np.signedinteger[Any]]:
    for dtype in (np.int8, np.int16, np.int32):
        if count <= np.iinfo(dtype).max:
            return dtype
    return np.int64


def _write_atomically(path: Path, arrays: dict[str, np.ndarray]) -> int:
    _remove_stale_temporaries(path)
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    try:
        # readable by the user only (0600, whatever the umask): the frames are the plant's data
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)
        with open(fd, "wb") as fh:
            np.savez(fh, **arrays)  # type: ignore[arg-type]
            fh.flush()
            os.fsync(fh.fileno())
        size = tmp.stat().st_size
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return size


def _remove_stale_temporaries(path: Path) -> None:
    now = time.time()
    for leftover in path.parent.glob(f"{path.name}.tmp-*"):
        try:
            if now - leftover.stat().st_mtime > _STALE_TMP_S:
                leftover.unlink()
        except OSError:
            pass  # another process's file, or already gone: not ours to insist on


# --- writing in the background ----------------------------------------------------------------

_writers: dict[tuple[Path, int], threading.Thread] = {}
_writers_lock = threading.Lock()


def write_in_background(path: Path, stamp: int, layout: str,
                        frames: Mapping[str, pd.DataFrame],
                        numbering: Mapping[tuple[str, str], np.ndarray] | None = None,
                        rowids: Mapping[str, np.ndarray] | None = None
                        ) -> threading.Thread | None:
    """Start writing the snapshot on a thread of its own (None: the same one is being written).

    Not a daemon thread: a CLI command prints its answer, then its process waits for the write
    to finish at exit. Frames are shared, not copied: the planning engine never changes them.
    Any failure is logged and leaves the previous file in place.
    """
    key = (path, stamp)
    with _writers_lock:
        running = _writers.get(key)
        if running is not None and running.is_alive():
            return None
        thread = threading.Thread(target=_write_logged, args=(path, stamp, layout, dict(frames),
                                                              dict(numbering or {}),
                                                              dict(rowids or {})),
                                  name=f"frame-snapshot {path.name}", daemon=False)
        _writers[key] = thread
        thread.start()
    return thread


def _write_logged(path: Path, stamp: int, layout: str, frames: dict[str, pd.DataFrame],
                  numbering: dict[tuple[str, str], np.ndarray],
                  rowids: dict[str, np.ndarray]) -> None:
    started = time.perf_counter()
    try:
        size = write_snapshot(path, stamp, layout, frames, numbering, rowids)
    except Exception as exc:  # noqa: BLE001 - a failed snapshot only costs the next load time
        log.warning("could not write the frame snapshot %s (%s: %s)", path,
                    type(exc).__name__, exc)
        return
    finally:
        with _writers_lock:
            if _writers.get((path, stamp)) is threading.current_thread():
                del _writers[(path, stamp)]
    log.info("wrote the frame snapshot %s (%.0f MiB) in %.1f s", path, size / 2**20,
             time.perf_counter() - started)


def wait_for_writes(timeout_s: float | None = None) -> bool:
    """Wait for the snapshots being written; True when none is left (tests, benchmarks)."""
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while True:
        with _writers_lock:
            threads = list(_writers.values())
        if not threads:
            return True
        for thread in threads:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            thread.join(left)
            if thread.is_alive():
                return False


__all__ = ["FORMAT", "SUFFIX", "Snapshot", "SnapshotError", "read_snapshot", "read_stamp",
           "seal_in_transaction", "snapshot_manifest", "snapshot_path", "snapshot_stamp",
           "stamp_in_transaction", "stamp_on", "store_frame", "wait_for_writes",
           "write_in_background", "write_snapshot"]
