"""The stored plan's files (review findings): nothing read from a folder or file someone else
could have written or reached through a symlink, temporary names never reused; plan matrices
stored as their non-zero parts (RowMatrix) and read back as RowMatrix; a crashed store's
temporary folder removed after an hour; change records a planner process still needs kept
when another process stores a plan."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from tests.analysis.test_first_plan_store import (
    _assert_same_plan,
    _copy,
    _full_at,
    _moved_promises,
    _planning_day,
)
from workbench.analysis.rowmatrix import RowMatrix
from workbench.cache import plan_store as files
from workbench.cache import snapshot
from workbench.cache.db import open_cache
from workbench.services import plan_store
from workbench.services.sync import run_sync

ROOT = hasattr(os, "getuid") and os.getuid() == 0
NOBODY = 65534
posix_only = pytest.mark.skipif(os.name != "posix", reason="owner and mode checks are POSIX")


def _store(folder: Path, stamp: int = 7) -> Path:
    return files.write_plan(folder, stamp, "k", {"net": np.arange(6.0).reshape(2, 3),
                                                 "key": np.arange(2)}, {"a": 1})


def _readable(folder: Path, stamp: int = 7) -> bool:
    found = files.read_plan(folder, stamp, "k")
    if found is None:
        return False
    assert found[1] == {"a": 1} and found[2] is True
    assert np.array_equal(found[0]["net"], np.arange(6.0).reshape(2, 3))
    return True


def _change(folder: Path, before: int, after: int) -> None:
    files.write_change(folder, before, after, {"items": ["A"], "bom_parents": [],
                                               "master": False})


# --- finding 2: folders and files only this user could have written ---------------------------

@posix_only
def test_a_plan_folder_writable_by_others_is_not_read_and_made_private_on_store(
        tmp_path: Path) -> None:
    folder = tmp_path / "cache.sqlite.plan"
    _store(folder)
    _change(folder, 6, 7)
    assert _readable(folder) and files.changes_to(folder, 7)
    os.chmod(folder, 0o777)
    assert not _readable(folder)
    assert files.stored_stamps(folder) == [] and files.stored_params(folder) is None
    assert files.changes_to(folder, 7) == [] and files.read_change(folder, 6, 7) is None
    _store(folder, 8)  # removed and created anew, private
    assert os.lstat(folder).st_mode & 0o777 == 0o700
    assert _readable(folder, 8) and files.stored_stamps(folder) == [8]
    assert files.changes_to(folder, 7) == []  # nothing of the old folder is left


@posix_only
def test_a_stored_plan_folder_writable_by_others_or_a_symlink_is_not_read(
        tmp_path: Path) -> None:
    folder = tmp_path / "cache.sqlite.plan"
    stored = _store(folder)
    os.chmod(stored, 0o777)
    assert not _readable(folder) and files.stored_stamps(folder) == []
    os.chmod(stored, 0o700)
    assert _readable(folder)
    os.rename(stored, folder / "aside")
    os.symlink(folder / "aside", stored)  # s7 -> a private plan folder elsewhere
    assert not _readable(folder) and files.stored_stamps(folder) == []


@posix_only
def test_a_plan_folder_that_is_a_symlink_is_not_read_and_replaced_on_store(
        tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    _store(elsewhere)
    folder = tmp_path / "cache.sqlite.plan"
    os.symlink(elsewhere, folder)
    assert not _readable(folder)
    assert files.stored_stamps(folder) == [] and files.changes_to(folder, 7) == []
    _store(folder, 9)
    assert not folder.is_symlink() and folder.is_dir() and _readable(folder, 9)
    assert _readable(elsewhere)  # the link's target is left alone


@posix_only
@pytest.mark.parametrize("name", ["objects.pickle", "net.npy", "meta.json"])
def test_a_symlinked_file_or_one_others_may_write_is_not_read(tmp_path: Path,
                                                               name: str) -> None:
    folder = tmp_path / "cache.sqlite.plan"
    stored = _store(folder)
    os.chmod(stored / name, 0o666)
    assert not _readable(folder)
    os.chmod(stored / name, 0o600)
    assert _readable(folder)
    os.rename(stored / name, tmp_path / name)  # a private file of this user, linked
    os.symlink(tmp_path / name, stored / name)
    assert not _readable(folder)


@posix_only
def test_a_change_record_others_may_write_or_symlinked_is_not_read(tmp_path: Path) -> None:
    folder = tmp_path / "cache.sqlite.plan"
    _change(folder, 1, 2)
    assert files.read_change(folder, 1, 2) is not None
    record = folder / "change_1_2.json"
    os.chmod(record, 0o646)
    assert files.read_change(folder, 1, 2) is None and files.changes_to(folder, 2) == []
    os.chmod(record, 0o600)
    os.rename(record, tmp_path / "record.json")
    os.symlink(tmp_path / "record.json", record)
    assert files.read_change(folder, 1, 2) is None and files.changes_to(folder, 2) == []


@pytest.mark.skipif(not ROOT, reason="chown to another user needs root")
def test_folders_and_files_of_another_user_are_not_read(tmp_path: Path) -> None:
    """The reviewer's case: another user made the .plan folder first (world-writable) — or
    owns a stored plan's folder or one of its files."""
    folder = tmp_path / "cache.sqlite.plan"
    stored = _store(folder)
    _change(folder, 6, 7)
    for path in (folder, stored, stored / "net.npy", stored / "objects.pickle",
                 stored / "meta.json"):
        os.chown(path, NOBODY, NOBODY)
        assert not _readable(folder), path
        os.chown(path, os.getuid(), os.getgid())
        assert _readable(folder), path
    os.chown(folder / "change_6_7.json", NOBODY, NOBODY)
    assert files.read_change(folder, 6, 7) is None
    os.chown(folder, NOBODY, NOBODY)
    _store(folder, 8)  # another user's folder: removed, created anew by this user
    assert os.lstat(folder).st_uid == os.getuid() and _readable(folder, 8)


@posix_only
def test_a_change_record_is_never_written_through_a_planted_temporary_name(
        tmp_path: Path) -> None:
    """The old temporary name was fixed (.tmp-change-<pid>-<thread>): a symlink planted there
    received the record."""
    folder = tmp_path / "cache.sqlite.plan"
    folder.mkdir(mode=0o700)
    victim = tmp_path / "victim"
    os.symlink(victim, folder / f".tmp-change-{os.getpid()}-{threading.get_ident()}")
    _change(folder, 1, 2)
    assert not victim.exists()
    assert files.read_change(folder, 1, 2) is not None
    assert (folder / "change_1_2.json").stat().st_mode & 0o777 == 0o600


# --- finding 3: plan matrices stored as their parts, read back as RowMatrix --------------------

def test_a_row_matrix_is_stored_as_its_parts_and_read_back_element_by_element(
        tmp_path: Path) -> None:
    dense = np.zeros((1000, 26))
    dense[[3, 500, 999], [0, 25, 7]] = [1.5, -2.0, 3.25]
    dense[10, 4] = -0.0  # kept as it is
    matrix = RowMatrix.of(dense)
    matrix[[20, 3]] = np.full((2, 26), 0.5)  # rows written after the netting: dense rows
    dense[[20, 3]] = 0.5
    assert matrix.n_stored == 2
    folder = tmp_path / "cache.sqlite.plan"
    plan = type("P", (), {name: None for name in plan_store.ARRAYS})()
    plan.net, plan.key = matrix, np.arange(1000)
    arrays = plan_store.stored_arrays(plan)
    assert sorted(arrays) == ["key", "net.block", "net.col", "net.ptr", "net.slot", "net.val"]
    stored = files.write_plan(folder, 5, "k", arrays, {})
    assert not (stored / "net.npy").exists()
    size = sum(p.stat().st_size for p in stored.glob("net.*.npy"))
    assert size < 1000 * 4 + 3 * 26 * 8 + 2000  # slots, three block rows, the values
    found = files.read_plan(folder, 5, "k")
    assert found is not None
    got = plan_store._matrix(found[0], "net")
    assert isinstance(got, RowMatrix) and got.n_stored == 2
    assert isinstance(got.val, np.memmap) and isinstance(got.slot, np.memmap)
    back = got.toarray()
    assert np.array_equal(back, dense) and np.signbit(back[10, 4])
    got[999] = 9.0  # the replan writes in place: copy-on-write, the file is left alone
    again = files.read_plan(folder, 5, "k")
    assert again is not None
    assert np.array_equal(plan_store._matrix(again[0], "net").toarray(), dense)


def test_a_planner_starting_from_the_stored_plan_gets_row_matrices(
        template: Path, tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    engine = _copy(template, path)
    first = plan_store.open_planned_session(engine)
    assert first.how == "full" and snapshot.wait_for_writes(60)
    engine.dispose()
    folder = plan_store.folder_of(engine)
    assert folder is not None
    [stored] = [p for p in folder.iterdir() if p.name.startswith("s")]
    want = first.plan()
    dense_bytes = 0
    for name in ("gross", "scheduled", "net", "planned"):
        assert isinstance(getattr(want, name), RowMatrix)
        assert not (stored / f"{name}.npy").exists()
        dense_bytes += getattr(want, name).size * 8
    parts = sum(p.stat().st_size for p in stored.glob("*.*.npy"))
    assert parts < dense_bytes / 3

    engine = open_cache(path)
    again = plan_store.open_planned_session(engine, store=False)
    assert again.how == "stored"
    got = again.plan()
    for name in ("gross", "scheduled", "net", "planned"):
        matrix = getattr(got, name)
        assert isinstance(matrix, RowMatrix), name
        a, b = matrix.toarray(), getattr(want, name).toarray()
        assert np.array_equal(a, b) and np.array_equal(np.signbit(a), np.signbit(b)), name
    _assert_same_plan(got, want)
    engine.dispose()


# --- finding 4: a crashed store's temporary folder ----------------------------------------------

def test_temporary_entries_over_an_hour_old_are_removed_by_the_next_store(
        tmp_path: Path) -> None:
    folder = tmp_path / "cache.sqlite.plan"
    _store(folder)
    crashed = folder / ".tmp-4242-1"  # as a process killed while storing leaves it
    crashed.mkdir()
    (crashed / "net.npy").write_bytes(b"x" * 100)
    record = folder / ".tmp-change-4242-1"
    record.write_text("{}")
    running = folder / ".tmp-4343-1"  # another process storing right now
    running.mkdir()
    old = time.time() - 2 * 3600
    for path in (crashed, record):
        os.utime(path, (old, old))
    _store(folder, 8)
    assert not crashed.exists() and not record.exists()
    assert running.is_dir()
    assert sorted(p.name for p in folder.iterdir()) == [".tmp-4343-1", "s8"]


# --- finding 6: change records a planner process still needs ----------------------------------

def test_recent_change_records_before_a_stored_plan_are_kept_a_day(tmp_path: Path) -> None:
    folder = tmp_path / "cache.sqlite.plan"
    for before, after in ((1, 2), (2, 3), (9, -7), (3, 4)):
        _change(folder, before, after)
    day_old = time.time() - 25 * 3600
    os.utime(folder / "change_9_-7.json", (day_old, day_old))
    files.write_plan(folder, 3, "k", {"net": np.zeros((1, 2))}, {})
    left = sorted(p.name for p in folder.glob("change_*.json"))
    assert left == ["change_1_2.json", "change_2_3.json", "change_3_4.json"]
    assert [r["before"] for r in files.changes_to(folder, 3)] == [2]


def test_at_most_the_newest_kept_change_records_before_a_plan_are_kept(
        tmp_path: Path) -> None:
    folder = tmp_path / "cache.sqlite.plan"
    now = time.time()
    for n in range(files.KEEP_CHANGES + 5):
        _change(folder, 100 + n, 101 + n)
        os.utime(folder / f"change_{100 + n}_{101 + n}.json", (now - 1000 + n, now - 1000 + n))
    files.write_plan(folder, 1, "k", {"net": np.zeros((1, 2))}, {})
    left = sorted(int(p.stem.split("_")[1]) for p in folder.glob("change_*.json"))
    assert left == list(range(105, 100 + files.KEEP_CHANGES + 5))


def test_the_planner_is_replanned_after_a_sync_that_stored_the_new_plan(
        template: Path, tmp_path: Path) -> None:
    """The reviewer's case: the planner process holds the plan of S0; ``workbench sync`` writes
    S1 (recording S0 -> S1) and plans S1 for the next process (storing it): the planner still
    brings its session to S1 by net change, equal to a full plan."""
    path = tmp_path / "cache.sqlite"
    engine = _copy(template, path)
    session = plan_store.open_planned_session(engine)
    assert snapshot.wait_for_writes(60)
    writer = open_cache(path)  # the sync's process
    result = run_sync(writer, _moved_promises(5))
    assert result.ok and result.total("changed") == 5
    assert plan_store.plan_after_sync(writer) == "incremental"
    assert snapshot.wait_for_writes(60)
    folder = plan_store.folder_of(writer)
    stamp = snapshot.read_stamp(writer)
    assert folder is not None and files.stored_stamps(folder) == [stamp]
    writer.dispose()
    refreshed = plan_store.refresh_after_sync(engine, session)
    assert refreshed is not None and refreshed.how == "incremental"
    assert refreshed.stamp == stamp
    _assert_same_plan(refreshed.plan(), _full_at(engine, _planning_day(engine)))
    snapshot.wait_for_writes(60)
    engine.dispose()
