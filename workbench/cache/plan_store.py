"""The last full plan stored beside the cache, so a fresh planner process need not plan again.

Where
    A folder beside the cache: ``<cache file>.plan/`` (e.g. ``cache.sqlite.plan/``). Each stored
    plan is a sub-folder ``s<stamp>`` named by the cache's entity stamp it was planned from
    (:mod:`workbench.cache.snapshot`: the same stamp the frame snapshot carries): one ``.npy``
    file per plan matrix and vector (opened with ``mmap_mode='c'``: in milliseconds, pages read
    on demand, writes private to the process), ``objects.pickle`` for the rest (numbering,
    sites, BOM segments, sources; pickle protocol 5) and ``meta.json`` (format, stamp, key).
    Written to a temporary folder, flushed, then renamed to its final name (a new stamp's name
    never exists yet); older plans are removed afterwards. A crash leaves the old plan or a
    stray ``.tmp-*`` folder, never a half plan under a real name.

    Beside them, ``change_<before>_<after>.json``: what a sync that moved the cache from stamp
    ``before`` to stamp ``after`` changed (item codes, BOM parents, whether the item master
    changed), written by the sync's snapshot patch (:mod:`workbench.services.frame_patch`).
    Storing a plan removes the changes no chain from its stamp follows.

When used
    ``meta.json`` also names the planning parameters the plan was made with (bucket length,
    buckets, forecast consumption windows): a sync run outside the application plans the state
    it wrote with them (:func:`workbench.services.plan_store.plan_after_sync`).

    Only for the exact stamp it names and the exact ``key`` (calendar, consumption, pending
    decisions, code version: built by :mod:`workbench.services.plan_store`); anything else (a
    missing file, another stamp or key, a damaged file) reads as None and the caller plans in
    full. Like the frame snapshot it holds nothing the cache does not: delete it at any time.

The pickle is read only from the folder beside the user's own cache (mode 0600, written by
this application), and only when this user owns it and nobody else may write it; it is a cache
of a cache, never exchanged.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import shutil
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

#: Appended to the cache file's name.
SUFFIX = ".plan"
#: Version of the folder layout written here.
FORMAT = 1


def plan_folder(cache: Path) -> Path:
    """``<cache file>.plan`` beside ``cache``."""
    return cache.with_name(cache.name + SUFFIX)


def write_plan(folder: Path, stamp: int, key: str, arrays: Mapping[str, np.ndarray],
               objects: Any, prepared_key: str = "",
               params: Mapping[str, Any] | None = None) -> Path:
    """Store a plan of ``stamp`` under ``key`` (module doc); returns its folder. Older plans in
    ``folder`` are removed once the new one is in place. ``prepared_key``: what its
    date-independent parts (numbering, sources) are valid for, whatever the calendar;
    ``params``: the planning parameters it was made with (JSON, :func:`stored_params`)."""
    folder.mkdir(mode=0o700, exist_ok=True)
    final = folder / f"s{stamp}"
    tmp = folder / f".tmp-{os.getpid()}-{threading.get_ident()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(mode=0o700)
    try:
        for name, array in arrays.items():
            with open(tmp / f"{name}.npy", "wb") as fh:
                np.save(fh, np.ascontiguousarray(array), allow_pickle=False)
                fh.flush()
                os.fsync(fh.fileno())
        with open(tmp / "objects.pickle", "wb") as fh:
            pickle.dump(objects, fh, protocol=5)
            fh.flush()
            os.fsync(fh.fileno())
        meta = {"format": FORMAT, "stamp": stamp, "key": key, "prepared_key": prepared_key,
                "arrays": sorted(arrays), "params": dict(params or {})}
        (tmp / "meta.json").write_text(json.dumps(meta))
        for path in tmp.iterdir():
            path.chmod(0o600)
        shutil.rmtree(final, ignore_errors=True)
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for old in folder.iterdir():  # the older plans: never used again
        if old.is_dir() and old.name.startswith("s") and old != final:
            shutil.rmtree(old, ignore_errors=True)
    _prune_changes(folder, stamp)
    return final


def _prune_changes(folder: Path, stamp: int) -> None:
    """Remove the recorded changes no chain from the plan of ``stamp`` follows (those of
    the states before it), keeping the ones recorded since (a sync may have committed while
    the plan was being stored)."""
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
    for paths in edges.values():
        for _, path in paths:
            if path not in keep:
                path.unlink(missing_ok=True)


def _private(st: os.stat_result) -> bool:
    """True for a file only this user can write (owned by this user, no group/other write):
    a pickle anyone else could have written is never loaded."""
    if os.name != "posix":
        return True  # the user's profile folder on Windows
    return st.st_uid == os.getuid() and not st.st_mode & 0o022


def read_plan(folder: Path, stamp: int, key: str, prepared_key: str | None = None
              ) -> tuple[dict[str, np.ndarray], Any, bool] | None:
    """(arrays, objects, exact) of the plan stored for ``stamp`` and ``key`` (exact), else of
    the plan stored for ``stamp`` with ``prepared_key`` (not exact: only its date-independent
    parts may be used), else None."""
    path = folder / f"s{stamp}"
    try:
        meta = json.loads((path / "meta.json").read_text())
        if meta.get("format") != FORMAT or meta.get("stamp") != stamp:
            return None
        exact = meta.get("key") == key
        if not exact and (not prepared_key or meta.get("prepared_key") != prepared_key):
            return None
        arrays = {name: np.load(path / f"{name}.npy", mmap_mode="c", allow_pickle=False)
                  for name in meta["arrays"]}
        with open(path / "objects.pickle", "rb") as fh:
            if not _private(os.fstat(fh.fileno())):
                log.warning("stored plan %s not read: not a private file of this user", path)
                return None
            objects = pickle.load(fh)  # our own file beside the user's cache (module doc)
    except FileNotFoundError:
        return None
    except Exception as exc:  # noqa: BLE001 - a damaged plan: plan in full
        log.warning("stored plan %s not read (%s: %s)", path, type(exc).__name__, exc)
        return None
    return arrays, objects, exact


def stored_stamps(folder: Path) -> list[int]:
    """Stamps of the plans stored in ``folder``."""
    if not folder.is_dir():
        return []
    out = []
    for path in folder.iterdir():
        if path.is_dir() and path.name.startswith("s") and (path / "meta.json").exists():
            try:
                out.append(int(path.name[1:]))
            except ValueError:
                continue
    return out


def stored_params(folder: Path) -> tuple[int, dict[str, Any]] | None:
    """(stamp, planning parameters) of the plan last stored in ``folder`` (the parameters
    :func:`write_plan` was given: what a sync plans the next state with), else None."""
    def written(stamp: int) -> float:
        try:
            return (folder / f"s{stamp}" / "meta.json").stat().st_mtime
        except OSError:
            return 0.0

    for stamp in sorted(stored_stamps(folder), key=written, reverse=True):  # stamps are random
        try:
            meta = json.loads((folder / f"s{stamp}" / "meta.json").read_text())
        except (OSError, ValueError):
            continue
        if meta.get("format") == FORMAT and meta.get("params"):
            return stamp, dict(meta["params"])
    return None


def write_change(folder: Path, before: int, after: int, change: Mapping[str, Any]) -> None:
    """Record what the write from stamp ``before`` to ``after`` changed (module doc)."""
    folder.mkdir(mode=0o700, exist_ok=True)
    final = folder / f"change_{before}_{after}.json"
    tmp = folder / f".tmp-change-{os.getpid()}-{threading.get_ident()}"
    tmp.write_text(json.dumps(dict(change, before=before, after=after)))
    tmp.chmod(0o600)
    os.replace(tmp, final)


def read_change(folder: Path, before: int, after: int) -> dict[str, Any] | None:
    """What the write from ``before`` to ``after`` changed, if recorded."""
    try:
        out = json.loads((folder / f"change_{before}_{after}.json").read_text())
    except (OSError, ValueError):
        return None
    if out.get("before") != before or out.get("after") != after:
        return None
    return dict(out)


def changes_to(folder: Path, after: int) -> list[dict[str, Any]]:
    """Every recorded change ending at ``after``."""
    if not folder.is_dir():
        return []
    out = []
    for path in folder.glob(f"change_*_{after}.json"):
        before = path.name.split("_")[1]
        try:
            found = read_change(folder, int(before), after)
        except ValueError:
            continue
        if found is not None:
            out.append(found)
    return out


__all__ = ["FORMAT", "SUFFIX", "changes_to", "plan_folder", "read_change", "read_plan",
           "stored_params", "stored_stamps", "write_change", "write_plan"]
