"""The last full plan stored beside the cache, so a fresh planner process need not plan again.

Where
    A folder beside the cache: ``<cache file>.plan/`` (e.g. ``cache.sqlite.plan/``). Each stored
    plan is a sub-folder ``s<stamp>`` named by the cache's entity stamp it was planned from
    (:mod:`workbench.cache.snapshot`: the same stamp the frame snapshot carries): one ``.npy``
    file per plan matrix and vector (opened with ``mmap_mode='c'``: in milliseconds, pages read
    on demand, writes private to the process), ``objects.pickle`` for the rest (numbering,
    sites, BOM segments; pickle protocol 5), objects pickled apart (``sources.pickle``: read
    on first use, :class:`Deferred`) and ``meta.json`` (format, stamp, key).
    A plan matrix kept as its non-zero values (the services' ``RowMatrix``) is stored as its
    parts, ``<name>.<part>.npy`` (the caller splits and joins them: this module stores arrays).
    Written to a fresh temporary folder, flushed, then renamed to its final name (a new stamp's
    name never exists yet); older plans are removed afterwards. A crash leaves the old plan or a
    stray ``.tmp-*`` folder, never a half plan under a real name; a ``.tmp-*`` entry more than
    an hour old is removed by the next store.

    Beside them, ``change_<before>_<after>.json``: what a sync that moved the cache from stamp
    ``before`` to stamp ``after`` changed (item codes, BOM parents, whether the item master
    changed), written by the sync's snapshot patch (:mod:`workbench.services.frame_patch`).
    Storing a plan removes the changes no chain from its stamp follows once they are a day old
    (:data:`KEEP_CHANGES_S`; at most :data:`KEEP_CHANGES` of them are kept): a planner process
    still holding an older state brings its plan up to date along them after a sync that also
    stored a plan (``workbench sync`` plans what it wrote for the next process).

When used
    ``meta.json`` also names the planning parameters the plan was made with (bucket length,
    buckets, forecast consumption windows): a sync run outside the application plans the state
    it wrote with them (:func:`workbench.services.plan_store.plan_after_sync`).

    Only for the exact stamp it names and the exact ``key`` (calendar, consumption, pending
    decisions, code version: built by :mod:`workbench.services.plan_store`); anything else (a
    missing file, another stamp or key, a damaged file) reads as None and the caller plans in
    full. Like the frame snapshot it holds nothing the cache does not: delete it at any time.

Nothing is read from a folder or a file someone else could have written
(:mod:`workbench.cache.private_files`): the ``.plan`` folder and each ``s<stamp>`` folder must be
real folders (not symlinks) of this user that nobody else may write, every file (arrays,
pickle, ``meta.json``, change records) a regular file of this user nobody else may write,
opened without following a symlink, relative to its checked folder; anything else reads as
"no stored plan" (plan in full). A ``.plan`` folder in the way that fails the check is removed
and created anew (0700) on the next store. The pickle is thus only ever one this application
wrote for this user; it is a cache of a cache, never exchanged.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import shutil
import stat
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from workbench.cache.private_files import (
    Folder,
    NotPrivate,
    create_file,
    private_folder,
    private_folder_at,
    remove_stale,
    write_file,
)

log = logging.getLogger(__name__)

#: Appended to the cache file's name.
SUFFIX = ".plan"
#: Version of the folder layout written here (2: plan matrices may be stored as their parts;
#: 3: objects may be pickled apart, ``<name>.pickle``, and read on first use).
FORMAT = 3
#: a ``.tmp-*`` entry older than this is a crashed store's leftover (removed by the next store)
STALE_TMP_S = 3600.0
#: a recorded change no chain from the stored plan follows is kept this long (a planner process
#: holding an older state replans along it after a sync, see the module doc) ...
KEEP_CHANGES_S = 24 * 3600.0
#: ... and at most this many of them (the newest)
KEEP_CHANGES = 32


def plan_folder(cache: Path) -> Path:
    """``<cache file>.plan`` beside ``cache``."""
    return cache.with_name(cache.name + SUFFIX)


def _sync_write(fh: Any, write: Any) -> None:
    write(fh)
    fh.flush()
    os.fsync(fh.fileno())


def _sync_folder(folder: Path) -> None:
    """Flush ``folder``'s entries (a rename into it) to disk, where the platform can."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:  # a file system that cannot sync a folder: the rename stays as it is
        pass
    finally:
        os.close(fd)


def write_plan(folder: Path, stamp: int, key: str, arrays: Mapping[str, np.ndarray],
               objects: Any, prepared_key: str = "",
               params: Mapping[str, Any] | None = None,
               apart: Mapping[str, Any] | None = None) -> Path:
    """Store a plan of ``stamp`` under ``key`` (module doc); returns its folder. Older plans in
    ``folder`` are removed once the new one is in place. ``prepared_key``: what its
    date-independent parts (numbering, sources) are valid for, whatever the calendar;
    ``params``: the planning parameters it was made with (JSON, :func:`stored_params`).
    ``arrays``: plain numpy arrays (names without ``/``); ``apart``: objects pickled each in a
    file of its own (``<name>.pickle``), read back as :class:`Deferred` (on first use). Raises
    :class:`NotPrivate` when ``folder`` cannot be made a private folder of this user."""
    apart = dict(apart or {})
    if any("/" in name or "\\" in name or name.startswith(".") or name == "objects"
           for name in [*arrays, *apart]):
        raise ValueError(f"names must be plain file names: {sorted([*arrays, *apart])}")
    private_folder(folder)
    remove_stale(folder, ".tmp-", STALE_TMP_S)
    final = folder / f"s{stamp}"
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{os.getpid()}-", dir=folder))  # 0700, fresh
    try:
        for name, array in arrays.items():
            with create_file(tmp / f"{name}.npy") as fh:
                _sync_write(fh, lambda f, a=array: np.save(f, np.ascontiguousarray(a),
                                                           allow_pickle=False))
        with create_file(tmp / "objects.pickle") as fh:
            _sync_write(fh, lambda f: pickle.dump(objects, f, protocol=5))
        sizes = {}
        for name, value in apart.items():
            with create_file(tmp / f"{name}.pickle") as fh:
                _sync_write(fh, lambda f, v=value: pickle.dump(v, f, protocol=5))
                sizes[name] = os.fstat(fh.fileno()).st_size
        meta = {"format": FORMAT, "stamp": stamp, "key": key, "prepared_key": prepared_key,
                "arrays": sorted(arrays), "apart": sorted(apart), "apart_sizes": sizes,
                "params": dict(params or {})}
        with create_file(tmp / "meta.json") as fh:
            _sync_write(fh, lambda f: f.write(json.dumps(meta).encode()))
        shutil.rmtree(final, ignore_errors=True)
        os.rename(tmp, final)
        _sync_folder(folder)  # the rename itself durable
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for name in os.listdir(folder):  # the older plans: never used again
        old = folder / name
        if name.startswith("s") and old != final and stat.S_ISDIR(os.lstat(old).st_mode):
            shutil.rmtree(old, ignore_errors=True)
    _prune_changes(folder, stamp)
    return final


def _prune_changes(folder: Path, stamp: int, now: float | None = None) -> None:
    """Remove the recorded changes no chain from the plan of ``stamp`` follows (those of the
    states before it, or of states never planned) once older than :data:`KEEP_CHANGES_S`, and
    beyond the newest :data:`KEEP_CHANGES` of them; the ones a chain from ``stamp`` follows
    (recorded since: a sync may have committed while the plan was being stored) are kept."""
    edges: dict[int, list[tuple[int, Path]]] = {}
    for path in folder.glob("change_*_*.json"):
        try:
            _, first, last = path.stem.split("_")
            edges.setdefault(int(first), []).append((int(last), path))
        except ValueError:
            continue
    keep: set[Path] = set()
    frontier, seen = [stamp], {stamp}
    while frontier:
        at = frontier.pop()
        for following, path in edges.get(at, []):
            keep.add(path)
            if following not in seen:
                seen.add(following)
                frontier.append(following)
    now = time.time() if now is None else now
    others = []
    for paths in edges.values():
        for _, path in paths:
            if path not in keep:
                try:
                    others.append((os.lstat(path).st_mtime, path))
                except OSError:
                    continue
    others.sort(key=lambda found: found[0], reverse=True)  # the newest first
    for n, (written, path) in enumerate(others):
        if n >= KEEP_CHANGES or now - written > KEEP_CHANGES_S:
            path.unlink(missing_ok=True)


def read_plan(folder: Path, stamp: int, key: str, prepared_key: str | None = None
              ) -> tuple[dict[str, np.ndarray], Any, bool] | None:
    """(arrays, objects, exact) of the plan stored for ``stamp`` and ``key`` (exact), else of
    the plan stored for ``stamp`` with ``prepared_key`` (not exact: only its date-independent
    parts may be used), else None (also when a folder or file of it is not private: module
    doc). The arrays are mapped copy-on-write (writes stay private to the process)."""
    path = folder / f"s{stamp}"
    try:
        with Folder.open(folder) as root, root.sub(path.name) as stored:
            meta = json.loads(stored.read_bytes("meta.json"))
            if meta.get("format") != FORMAT or meta.get("stamp") != stamp:
                return None
            exact = meta.get("key") == key
            if not exact and (not prepared_key or meta.get("prepared_key") != prepared_key):
                return None
            names = [str(name) for name in meta["arrays"]]
            if any("/" in name or "\\" in name or name.startswith(".") for name in names):
                return None
            arrays = {name: stored.load_array(f"{name}.npy") for name in names}
            with stored.file("objects.pickle") as fh:
                objects = pickle.load(fh)  # our own private file (module doc)
            sizes = meta.get("apart_sizes") or {}
            for name in map(str, meta.get("apart", [])):
                if "/" in name or "\\" in name or name.startswith(".") or name == "objects":
                    return None
                objects[name] = Deferred.open(stored, f"{name}.pickle", sizes.get(name))
    except FileNotFoundError:
        return None
    except NotPrivate as exc:
        log.warning("stored plan %s not read: %s", path, exc)
        return None
    except Exception as exc:  # noqa: BLE001 - a damaged plan: plan in full
        log.warning("stored plan %s not read (%s: %s)", path, type(exc).__name__, exc)
        return None
    return arrays, objects, exact


class DamagedFile(ValueError):
    """A stored plan's file is not as it was written (module doc: plan in full)."""


class Deferred:
    """An object of a stored plan pickled apart (:func:`write_plan`'s ``apart``), unpickled on
    first use (:meth:`load`) from its file, opened (and checked, module doc) when the plan was
    read and held open: a plan stored meanwhile removes the folder, not what is read here
    (POSIX; elsewhere the object is read at once)."""

    def __init__(self, handle: Any = None, value: Any = None, folder: Path | None = None
                 ) -> None:
        self._handle = handle
        self._value = value
        self._lock = threading.Lock()
        #: the stored plan's folder (:meth:`drop_stored`)
        self.folder = folder

    @classmethod
    def open(cls, stored: Folder, name: str, size: int | None = None) -> Deferred:
        """The object pickled in ``stored``'s file ``name``; raises :class:`DamagedFile` when
        the file has not the ``size`` written (``meta.json``'s ``apart_sizes``: a torn or
        truncated write is found before the plan is used, not when the object is)."""
        with stored.file(name) as fh:
            if size is not None and os.fstat(fh.fileno()).st_size != int(size):
                raise DamagedFile(f"{name}: {os.fstat(fh.fileno()).st_size} bytes, "
                                  f"{int(size)} written")
            if os.name != "posix":
                return cls(value=pickle.load(fh), folder=stored.path)  # our own file
            return cls(handle=os.fdopen(os.dup(fh.fileno()), "rb"), folder=stored.path)

    def drop_stored(self) -> None:
        """Remove the stored plan this object was read from (it could not be read: a
        later process plans in full instead of failing again)."""
        if self.folder is not None:
            log.warning("stored plan %s removed: an object of it could not be read",
                        self.folder)
            shutil.rmtree(self.folder, ignore_errors=True)

    def load(self) -> Any:
        """The object (unpickled on the first call; the file closed then)."""
        with self._lock:
            if self._handle is not None:
                with self._handle as fh:
                    fh.seek(0)
                    self._value = pickle.load(fh)  # our own private file (module doc)
                self._handle = None
            return self._value


def stored_stamps(folder: Path) -> list[int]:
    """Stamps of the plans stored in ``folder`` (private folders only: module doc)."""
    if not private_folder_at(folder):
        return []
    out = []
    for name in os.listdir(folder):
        path = folder / name
        if name.startswith("s") and private_folder_at(path) and (path / "meta.json").exists():
            try:
                out.append(int(name[1:]))
            except ValueError:
                continue
    return out


def stored_params(folder: Path) -> tuple[int, dict[str, Any]] | None:
    """(stamp, planning parameters) of the plan last stored in ``folder`` (the parameters
    :func:`write_plan` was given: what a sync plans the next state with), else None."""
    def written(stamp: int) -> float:
        try:
            return os.lstat(folder / f"s{stamp}" / "meta.json").st_mtime
        except OSError:
            return 0.0

    for stamp in sorted(stored_stamps(folder), key=written, reverse=True):  # stamps are random
        try:
            with Folder.open(folder) as root, root.sub(f"s{stamp}") as stored:
                meta = json.loads(stored.read_bytes("meta.json"))
        except (OSError, ValueError):
            continue
        if meta.get("format") == FORMAT and meta.get("params"):
            return stamp, dict(meta["params"])
    return None


def plan_params(folder: Path, stamp: int) -> dict[str, Any] | None:
    """The planning parameters of the plan stored for ``stamp`` (:func:`write_plan`'s
    ``params``), else None (none stored, another format, not private)."""
    try:
        with Folder.open(folder) as root, root.sub(f"s{stamp}") as stored:
            meta = json.loads(stored.read_bytes("meta.json"))
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or meta.get("stamp") != stamp:
        return None
    params = meta.get("params")
    return dict(params) if isinstance(params, dict) else None


def write_change(folder: Path, before: int, after: int, change: Mapping[str, Any]) -> None:
    """Record what the write from stamp ``before`` to ``after`` changed (module doc)."""
    private_folder(folder)
    text = json.dumps(dict(change, before=before, after=after)).encode()
    write_file(folder, f"change_{before}_{after}.json", lambda fh: fh.write(text),
               prefix=".tmp-change-")


def _read_change(root: Folder, before: int, after: int) -> dict[str, Any] | None:
    try:
        out = json.loads(root.read_bytes(f"change_{before}_{after}.json"))
    except NotPrivate as exc:
        log.warning("change record not read: %s", exc)
        return None
    except (OSError, ValueError):
        return None
    if not isinstance(out, dict) or out.get("before") != before or out.get("after") != after:
        return None
    return dict(out)


def read_change(folder: Path, before: int, after: int) -> dict[str, Any] | None:
    """What the write from ``before`` to ``after`` changed, if recorded (in a private file of
    a private folder: module doc)."""
    try:
        with Folder.open(folder) as root:
            return _read_change(root, before, after)
    except OSError:
        return None


def changes_to(folder: Path, after: int) -> list[dict[str, Any]]:
    """Every recorded change ending at ``after``."""
    try:
        root = Folder.open(folder)
    except OSError:
        return []
    out = []
    with root:
        suffix = f"_{after}.json"
        for name in root.entries():
            if not (name.startswith("change_") and name.endswith(suffix)):
                continue
            try:
                before = int(name[len("change_"):-len(suffix)])
            except ValueError:
                continue
            found = _read_change(root, before, after)
            if found is not None:
                out.append(found)
    return out


__all__ = ["FORMAT", "KEEP_CHANGES", "KEEP_CHANGES_S", "STALE_TMP_S", "SUFFIX", "DamagedFile",
           "Deferred", "changes_to", "plan_folder", "plan_params", "read_change", "read_plan",
           "stored_params", "stored_stamps", "write_change", "write_plan"]
