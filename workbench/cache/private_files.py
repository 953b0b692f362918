"""Files beside the cache that only this user may have written (the stored plan, its change
records; the kept item list's folder and files).

What is read from them is trusted as the cache itself (a pickle of the stored plan runs code
when loaded; its arrays are the plan answered), so a folder or file someone else could have
written is never read, and nothing is written through one:

* a folder is used only when it is a real folder (not a symlink), owned by this user and
  writable by nobody else (no group or other write bit); it is opened (``O_DIRECTORY |
  O_NOFOLLOW``) and checked on the open descriptor, and what is inside is opened relative to
  that descriptor (``dir_fd``): a folder renamed or swapped after the check is not followed;
* a file is opened with ``O_NOFOLLOW`` (a symlink is not followed) and read only when the open
  file is a regular file of this user that nobody else may write; arrays are mapped from that
  very descriptor;
* folders are created 0700; a folder in the way that fails the check is removed and created
  anew (:func:`private_folder`), or refused; files are written under a fresh temporary name
  (``O_CREAT | O_EXCL``, 0600), flushed to disk, then renamed.

Not POSIX (Windows: the cache lives in the user's profile): no owner check, plain paths.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, cast

import numpy as np

log = logging.getLogger(__name__)

#: owner checks and descriptor-relative opens (Linux, macOS)
POSIX = os.name == "posix" and os.open in os.supports_dir_fd
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_BINARY = getattr(os, "O_BINARY", 0)


class NotPrivate(PermissionError):
    """A folder or file someone other than this user could have written."""


def private(st: os.stat_result) -> bool:
    """Owned by this user and writable by no one else."""
    if not POSIX:
        return True
    return st.st_uid == os.getuid() and not st.st_mode & 0o022


def private_folder_at(path: Path) -> bool:
    """``path`` is a folder (not a symlink) of this user that nobody else may write."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and private(st)


def _open_private(shown: Path, name: str | Path, flags: int, dir_fd: int | None,
                  is_kind: Callable[[int], bool], refused: str, kind: str) -> int:
    """A descriptor of ``name`` (relative to ``dir_fd``) opened without following a symlink and
    checked on the descriptor: of ``kind`` (``is_kind`` of its mode) and :func:`private`.
    FileNotFoundError when missing; :class:`NotPrivate` (naming ``shown``) otherwise."""
    try:
        fd = os.open(name, flags | _NOFOLLOW, dir_fd=dir_fd)
    except OSError as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise NotPrivate(f"{shown}: {refused} ({exc})") from exc
    st = os.fstat(fd)
    if not is_kind(st.st_mode) or not private(st):
        os.close(fd)
        raise NotPrivate(f"{shown}: not a private {kind} of this user")
    return fd


class Folder:
    """A folder opened after its check (module doc); what is inside is opened relative to it."""

    def __init__(self, path: Path, fd: int | None):
        self.path = path
        self.fd = fd  # None: not POSIX

    @classmethod
    def open(cls, path: Path, parent: Folder | None = None) -> Folder:
        """Open ``path`` (a name inside ``parent`` when given). Raises FileNotFoundError when
        missing, :class:`NotPrivate` when it is a symlink, not a folder or not private."""
        if not POSIX:
            if not path.is_dir():
                raise FileNotFoundError(path)
            return cls(path, None)
        fd = _open_private(path, path.name if parent else path, os.O_RDONLY | _DIRECTORY,
                           parent.fd if parent else None, stat.S_ISDIR,
                           "not a folder of its own", "folder")
        return cls(path, fd)

    def sub(self, name: str) -> Folder:
        """The folder ``name`` inside this one (checked as :meth:`open`)."""
        return Folder.open(self.path / name, self)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> Folder:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @contextmanager
    def file(self, name: str) -> Iterator[IO[bytes]]:
        """The file ``name`` opened for reading: a regular file of this user nobody else may
        write, not reached through a symlink (else :class:`NotPrivate`)."""
        if not POSIX:
            with open(self.path / name, "rb") as fh:
                yield fh
            return
        fd = _open_private(self.path / name, name, os.O_RDONLY | _BINARY, self.fd, stat.S_ISREG,
                           "not read", "file")
        with os.fdopen(fd, "rb") as fh:
            yield fh

    def read_bytes(self, name: str) -> bytes:
        with self.file(name) as fh:
            return fh.read()

    def load_array(self, name: str, mmap: bool = True) -> np.ndarray:
        """The ``.npy`` file ``name`` (no object arrays), mapped copy-on-write from the checked
        descriptor (``mmap``) or read."""
        from numpy.lib import format as npy

        with self.file(name) as fh:
            version = npy.read_magic(fh)
            if version == (1, 0):
                shape, fortran, dtype = npy.read_array_header_1_0(fh)
            elif version == (2, 0):
                shape, fortran, dtype = npy.read_array_header_2_0(fh)
            else:
                raise ValueError(f"{name}: .npy version {version} not read")
            if dtype.hasobject:
                raise ValueError(f"{name}: object arrays are not read")
            order: Any = "F" if fortran else "C"
            count = int(np.prod(shape, dtype=np.int64))
            if not mmap or count == 0:
                data = np.fromfile(fh, dtype=dtype, count=count)
                if len(data) != count:
                    raise ValueError(f"{name}: truncated")
                return data.reshape(tuple(shape), order=order)
            mapped: np.ndarray = np.memmap(cast(Any, fh), dtype=dtype, mode="c",
                                           shape=tuple(shape), order=order, offset=fh.tell())
            return mapped

    def entries(self) -> list[str]:
        return sorted(os.listdir(self.fd if self.fd is not None else self.path))


def private_folder(path: Path) -> Path:
    """``path`` as a private folder of this user, created 0700 when missing. A folder in the way
    that is not (a symlink, another user's, writable by others) is removed and created anew;
    when that fails, :class:`NotPrivate`."""
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        pass
    if private_folder_at(path):
        return path
    log.warning("%s is not a private folder of this user: removed and created anew", path)
    try:
        if path.is_symlink() or not path.is_dir():
            path.unlink()
        else:
            shutil.rmtree(path)
        path.mkdir(mode=0o700)  # exclusive: anyone faster makes it fail
    except OSError as exc:
        raise NotPrivate(f"{path}: not a private folder of this user ({exc})") from exc
    if not private_folder_at(path):
        raise NotPrivate(f"{path}: not a private folder of this user")
    return path


def write_file(folder: Path, name: str, write: Callable[[IO[bytes]], Any],
               prefix: str = ".tmp-", suffix: str = "") -> Path:
    """Write ``folder/name`` (``folder`` private, see :func:`private_folder`) through ``write``:
    a fresh temporary file (0600, ``O_EXCL``; ``prefix`` + pid + a random part + ``suffix``),
    flushed to disk, renamed to ``name``."""
    fd, tmp = tempfile.mkstemp(prefix=f"{prefix}{os.getpid()}-", suffix=suffix, dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, folder / name)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return folder / name


def create_file(path: Path) -> IO[bytes]:
    """A new file ``path`` for writing (0600; never an existing file, never through a
    symlink)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _BINARY, 0o600)
    return os.fdopen(fd, "wb")


def remove_stale(folder: Path, prefix: str, age_s: float, suffix: str = "") -> list[str]:
    """Remove the entries of ``folder`` named ``prefix...suffix`` last modified more than
    ``age_s`` seconds ago (a crashed write's leftovers; a write in progress touches its own
    more recently); returns their names."""
    removed = []
    now = time.time()
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    for name in names:
        if not (name.startswith(prefix) and name.endswith(suffix)):
            continue
        path = folder / name
        try:
            st = os.lstat(path)
            if now - st.st_mtime <= age_s:
                continue
            if stat.S_ISDIR(st.st_mode):
                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(name)
        except OSError:
            continue
    return removed


__all__ = ["POSIX", "Folder", "NotPrivate", "create_file", "private", "private_folder",
           "private_folder_at", "remove_stale", "write_file"]
