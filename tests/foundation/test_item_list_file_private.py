"""The item list kept beside the cache is as private as the cache (0600 by design): its folder
0700, its files 0600, each on disk before it replaces the old one; a crashed write's temporary
files are removed once an hour old (review finding 5)."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from workbench.cache import itemlist

posix_only = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")

ARRAYS = {"code": np.array(["A", "B", "C"]), "lead_time_days": np.array([1.0, np.nan, 3.0])}


@pytest.fixture
def usual_umask() -> Iterator[None]:
    before = os.umask(0o022)  # a desktop session's usual umask
    yield
    os.umask(before)


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@posix_only
def test_the_kept_list_folder_is_0700_and_its_files_0600(tmp_path: Path,
                                                          usual_umask: None) -> None:
    folder = tmp_path / "c.sqlite.itemlist"
    itemlist.write_item_list(folder, 7, ARRAYS, {})
    assert _mode(folder) == 0o700
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["7.code.npy", "7.json", "7.lead_time_days.npy"]
    assert {name: _mode(folder / name) for name in names} == dict.fromkeys(names, 0o600)
    kept = itemlist.read_item_list(folder, 7, ["code", "lead_time_days"])
    assert kept is not None and kept.arrays["code"].tolist() == ["A", "B", "C"]


@posix_only
def test_a_folder_kept_by_an_older_version_is_made_private(tmp_path: Path,
                                                           usual_umask: None) -> None:
    folder = tmp_path / "c.sqlite.itemlist"
    folder.mkdir(mode=0o755)
    (folder / "3.json").write_text("{}")
    assert _mode(folder) == 0o755
    itemlist.write_item_list(folder, 7, ARRAYS, {})
    assert _mode(folder) == 0o700
    assert not (folder / "3.json").exists()


def test_every_file_is_on_disk_before_it_replaces_the_old_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    done: list[tuple[str, Any]] = []
    fsync, replace = os.fsync, os.replace

    def synced(fd: int) -> None:
        done.append(("fsync", os.readlink(f"/proc/self/fd/{fd}") if os.path.exists(
            "/proc/self/fd") else fd))
        fsync(fd)

    def replaced(src: Any, dst: Any) -> None:
        done.append(("replace", str(src)))
        replace(src, dst)

    monkeypatch.setattr(os, "fsync", synced)
    monkeypatch.setattr(os, "replace", replaced)
    itemlist.write_item_list(tmp_path / "c.sqlite.itemlist", 7, ARRAYS, {})
    steps = [step for step, _ in done]
    assert steps == ["fsync", "replace"] * 3
    if os.path.exists("/proc/self/fd"):  # the file synced is the one renamed next
        for (_, synced_path), (_, renamed) in zip(done[::2], done[1::2], strict=True):
            assert synced_path == renamed


def test_temporary_files_over_an_hour_old_are_removed(tmp_path: Path) -> None:
    folder = tmp_path / "c.sqlite.itemlist"
    folder.mkdir()
    crashed = folder / ".7.code.npy.4242.tmp"  # the old version's name of a crashed write
    crashed.write_bytes(b"x" * 10)
    crashed_new = folder / ".7.json.4242.abcd1234.tmp"
    crashed_new.write_bytes(b"{")
    running = folder / ".8.code.npy.4343.tmp"  # another process writing right now
    running.write_bytes(b"y")
    old = time.time() - 2 * 3600
    for path in (crashed, crashed_new):
        os.utime(path, (old, old))
    itemlist.write_item_list(folder, 8, ARRAYS, {})
    left = sorted(p.name for p in folder.iterdir())
    assert left == [".8.code.npy.4343.tmp", "8.code.npy", "8.json", "8.lead_time_days.npy"]
