"""Bringing a frame snapshot up to date with a write, without rewriting what the write left alone.

:func:`patch_frame` replaces the rows a write touched in one frame (in rowid order, as a full read
gives them); :func:`rewrite_snapshot` writes the snapshot of a new stamp with the patched frames
stored anew and every other frame's members copied byte for byte from the old file (no strings
rebuilt, no text hashed again), atomically like :func:`workbench.cache.snapshot.write_snapshot`.
The caller (:mod:`workbench.services.frame_patch`) decides when a patch is exact.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.cache.snapshot import FORMAT, SnapshotError, store_frame


def patch_frame(frame: pd.DataFrame, rowids: np.ndarray, written: np.ndarray,
                rows: pd.DataFrame, row_ids: np.ndarray, keys: tuple[str, ...] = ()
                ) -> tuple[pd.DataFrame, np.ndarray]:
    """``frame`` (rows with ``rowids``, ascending) brought up to date with a write: the rows
    whose rowid is in ``written`` (every row the write touched, live or deleted since) or whose
    ``keys`` equal those of a row of ``rows`` (a row deleted and inserted again under a new
    rowid, as the promise-history trigger does) are replaced by ``rows`` (the touched rows that
    are live now, at ``row_ids``); the result is in rowid order, as a full read gives it."""
    keep = ~np.isin(rowids, written)
    if keys and len(rows):
        first = keys[0]
        suspects = np.flatnonzero(keep & frame[first].isin(rows[first]).to_numpy())
        if len(suspects):
            old = pd.MultiIndex.from_frame(frame.iloc[suspects][list(keys)])
            new = pd.MultiIndex.from_frame(rows[list(keys)])
            keep[suspects[old.isin(new)]] = False
    if not keep.any():  # every row new: the dtypes as a read of these rows gives them
        order = np.argsort(np.asarray(row_ids, dtype=np.int64), kind="stable")
        return rows.iloc[order].reset_index(drop=True), np.asarray(row_ids, np.int64)[order]
    if len(rows) == 0:
        if keep.all():
            return frame, rowids
        kept = frame.iloc[np.flatnonzero(keep)].reset_index(drop=True)
        return kept, rowids[keep]
    rows = rows.astype(frame.dtypes.to_dict())
    ids = np.concatenate([rowids[keep], np.asarray(row_ids, dtype=np.int64)])
    order = np.argsort(ids, kind="stable")
    both = pd.concat([frame.iloc[np.flatnonzero(keep)], rows], ignore_index=True)
    out = both.iloc[order].reset_index(drop=True)
    ids = ids[order]
    if len(ids) > 1 and not bool((np.diff(ids) > 0).all()):
        raise SnapshotError("a patched frame holds one rowid twice")
    return out, ids


def rewrite_snapshot(path: Path, old_stamp: int, stamp: int, layout: str,
                     frames: Mapping[str, pd.DataFrame],
                     rowids: Mapping[str, np.ndarray]) -> int:
    """The snapshot of ``old_stamp`` at ``path`` written again as the snapshot of ``stamp`` with
    ``frames`` (and their ``rowids``) replaced; returns the bytes written. Raises
    :class:`SnapshotError` when the file is not the snapshot of ``old_stamp`` and ``layout``,
    ``OSError`` for a failed write; either way the old file stays in place."""
    arrays: dict[str, np.ndarray] = {}
    with zipfile.ZipFile(path) as old:
        with old.open("manifest.npy") as fh:
            manifest = json.loads(np.lib.format.read_array(fh, allow_pickle=False)
                                  .tobytes().decode("utf-8"))
        if manifest.get("format") != FORMAT or manifest.get("stamp") != old_stamp or \
                manifest.get("layout") != layout:
            raise SnapshotError(f"{path} is not the snapshot the patch starts from")
        for name, frame in frames.items():
            if name not in manifest["frames"]:
                raise SnapshotError(f"{path} has no frame {name}")
            manifest["frames"][name] = store_frame(arrays, name, frame, None, rowids.get(name))
        manifest["stamp"] = stamp
        arrays["manifest"] = np.frombuffer(json.dumps(manifest).encode("utf-8"), np.uint8)
        copied = [m for m in old.namelist()
                  if m != "manifest.npy" and m.split("/", 1)[0] not in frames]
        tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.fchmod(fd, 0o600)
            with open(fd, "wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED,
                                                      allowZip64=True) as new:
                for member in copied:  # stored uncompressed: a copy, CRC computed again
                    with old.open(member) as src, new.open(member, "w", force_zip64=True) as dst:
                        shutil.copyfileobj(src, dst, 1 << 22)
                for key, array in arrays.items():
                    with new.open(f"{key}.npy", "w", force_zip64=True) as dst:
                        np.lib.format.write_array(dst, np.asanyarray(array), allow_pickle=False)
                new.close()
                fh.flush()
                os.fsync(fh.fileno())
            size = tmp.stat().st_size
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    return size


__all__ = ["patch_frame", "rewrite_snapshot"]
