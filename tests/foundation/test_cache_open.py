"""A cache path that cannot be a cache, a damaged cache or ledger, a closed pipe: one clear line
on stderr and the documented exit code, never a traceback, and nothing already stored lost.
Real files, real processes (``workbench ...``), real damage (bytes overwritten in the file)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.foundation.clirun import REPO, cli, one_line_error
from workbench.cache.db import APPLICATION_ID, CacheError, open_cache
from workbench.services.sources import demo_connector
from workbench.services.sync import run_sync


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("open-demo") / "cache.sqlite"
    engine = open_cache(path)
    assert run_sync(engine, demo_connector(scale="small")).ok
    engine.dispose()
    return path


def _copy(template: Path, target: Path) -> Path:
    src, dst = sqlite3.connect(template), sqlite3.connect(target)
    src.backup(dst)
    src.close()
    dst.close()
    return target


@pytest.fixture
def demo(demo_template: Path, tmp_path: Path) -> Path:
    return _copy(demo_template, tmp_path / "cache.sqlite")


def _foreign(path: Path) -> bytes:
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE notes (text TEXT)")
    con.execute("INSERT INTO notes VALUES ('not a cache')")
    con.commit()
    con.close()
    return path.read_bytes()


# --- paths that cannot hold a cache -------------------------------------------------------------

def test_a_folder_given_as_cache_is_refused_in_one_line(tmp_path: Path) -> None:
    line = one_line_error(cli("status", "--cache", tmp_path), 3)
    assert line == (f"workbench status: {tmp_path} is a folder, not a cache file; give a file "
                    f"path with --cache")


@pytest.mark.parametrize("name", ["a?b.sqlite", "a#b.sqlite", "a%3Fb.sqlite", "a b.sqlite",
                                  "a%23b?c#d e.sqlite", "a%b.sqlite"])
def test_a_path_with_uri_characters_opens_exactly_that_file(tmp_path: Path, name: str) -> None:
    """Before: the path was formatted into URLs, so ``a?b.sqlite`` opened ``a`` — here a foreign
    SQLite database, which was then converted into a cache."""
    foreign = _foreign(tmp_path / "a")
    run = cli("status", "--json", "--cache", tmp_path / name)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["path"] == str(tmp_path / name)
    con = sqlite3.connect(tmp_path / name)
    assert con.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    con.close()
    assert (tmp_path / "a").read_bytes() == foreign  # untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["a", name])


def test_a_foreign_sqlite_database_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    before = _foreign(path)
    line = one_line_error(cli("status", "--cache", path), 3)
    assert "is not a Planner Workbench cache" in line and "not changed" in line
    assert path.read_bytes() == before
    with pytest.raises(CacheError):
        open_cache(path)
    assert path.read_bytes() == before


def test_a_file_that_is_no_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "junk.sqlite"
    path.write_bytes(b"these are not the pages you are looking for" * 100)
    line = one_line_error(cli("shortages", "--cache", path), 3)
    assert line == (f"workbench shortages: {path} is not a readable cache file (file is not a "
                    f"database)")


def test_a_read_only_cache_file_is_refused_unchanged(demo: Path) -> None:
    before = demo.read_bytes()
    demo.chmod(0o400)
    line = one_line_error(cli("status", "--cache", demo, as_user=True), 3)
    assert line.startswith(f"workbench status: {demo} is read-only: the cache must be writable")
    demo.chmod(0o600)
    assert demo.read_bytes() == before


def test_an_unreadable_cache_file_is_refused(demo: Path) -> None:
    demo.chmod(0o200)
    try:
        line = one_line_error(cli("outbox", "--cache", demo, as_user=True), 3)
    finally:
        demo.chmod(0o600)
    assert line == f"workbench outbox: cannot read {demo}: permission denied (the file's permissions)"


@pytest.fixture
def read_only_folder(demo: Path) -> Iterator[Path]:
    demo.parent.chmod(0o500)
    yield demo.parent
    demo.parent.chmod(0o700)


def test_a_cache_in_a_read_only_folder_is_refused(demo: Path, read_only_folder: Path) -> None:
    line = one_line_error(cli("decisions", "--cache", demo, as_user=True), 3)
    assert line == (f"workbench decisions: the folder {read_only_folder} is read-only: the cache "
                    f"keeps its write-ahead log beside the file; copy it to a writable folder")


def test_a_new_cache_in_a_read_only_folder_is_refused(read_only_folder: Path) -> None:
    new = read_only_folder / "sub" / "new.sqlite"
    line = one_line_error(cli("status", "--cache", new, as_user=True), 3)
    assert line == (f"workbench status: cannot create {new}: the folder {read_only_folder} is "
                    f"read-only")
    assert not new.parent.exists()


# --- damage -------------------------------------------------------------------------------------

def _damage_table(path: Path, table: str) -> None:
    """Overwrite the start of ``table``'s root page, as a failing disk or a stray write would."""
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page_size = con.execute("PRAGMA page_size").fetchone()[0]
    root = con.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    con.close()
    with path.open("r+b") as f:
        f.seek((root - 1) * page_size)
        f.write(b"\xff" * 64)


def test_a_damaged_cache_is_reported_with_the_way_out(demo: Path) -> None:
    _damage_table(demo, "inventory")
    for command in ("status", "shortages", "reevaluate"):
        line = one_line_error(cli(command, "--cache", demo), 3)
        assert line.startswith(f"workbench {command}: the cache {demo} is damaged (Page "), line
        assert line.endswith("move the file aside and sync again (decisions not yet sent are in "
                             "the damaged file)")


def test_the_way_out_names_the_backup_copy_a_migration_kept(demo: Path) -> None:
    backup = demo.with_name(demo.name + ".schema5.bak")
    backup.write_bytes(demo.read_bytes())
    _damage_table(demo, "items")
    line = one_line_error(cli("status", "--cache", demo), 3)
    assert f"restore the backup copy {backup} (made before the last migration), or" in line


def test_sync_never_reports_success_on_a_damaged_cache(demo: Path) -> None:
    """The demo sync of an unchanged plant writes no row of inventory, so SQLite alone would
    never notice its damaged page: the sync checks the file and fails."""
    _damage_table(demo, "inventory")
    run = cli("sync", "--demo", "--cache", demo)
    line = one_line_error(run, 3)
    assert "succeeded" not in run.stdout
    assert line.startswith(f"workbench sync: the cache {demo} is damaged")


# --- the demo ledger ----------------------------------------------------------------------------

def _ledger_with_a_write(demo: Path) -> Path:
    ledger = demo.with_name(demo.name + ".demo-ledger.jsonl")
    entry = {"write": 1, "key": "k1", "action": "cancel", "target": "RQ-000001", "day": 0,
             "set": {"status": "cancelled"}, "scale": "small", "seed": 42}
    with ledger.open("a", encoding="utf-8") as f:
        f.write(json.dumps({"clock": {"scale": "small", "seed": 42, "day": 0}}) + "\n")
        f.write(json.dumps(entry) + "\n")
    return ledger


def test_a_damaged_ledger_line_is_named_with_file_and_line(demo: Path) -> None:
    ledger = _ledger_with_a_write(demo)
    lines = ledger.read_text(encoding="utf-8").splitlines()
    lines.insert(1, '{"write": 1, "key": "k0", "act#on": garbage}')
    ledger.write_text("\n".join(lines) + "\n", encoding="utf-8")
    line = one_line_error(cli("sync", "--demo", "--cache", demo), 2)
    assert line == (f"workbench sync: the demo ledger {ledger}, line 2: not a JSON entry; the "
                    f"file is damaged. Restore it from a backup, or delete it together with the "
                    f"cache to start the demo afresh")


def test_a_non_utf8_byte_in_the_ledger_is_named_with_file_line_and_column(demo: Path) -> None:
    ledger = _ledger_with_a_write(demo)
    data = ledger.read_bytes().replace(b'"k1"', b'"k\xe91"')
    ledger.write_bytes(data)
    line = one_line_error(cli("sync", "--demo", "--cache", demo), 2)
    assert line.startswith(f"workbench sync: the demo ledger {ledger}, line 2: byte 0xe9 at column ")
    assert "is not UTF-8 text" in line


# --- output into a closed pipe ------------------------------------------------------------------

def test_output_into_a_closed_pipe_ends_quietly(demo: Path) -> None:
    """``workbench exceptions --json | head -1`` (~700 kB on the small demo, ten times what a
    pipe holds, so the command is still writing when the reader goes away): the command stops
    without a word (before: a BrokenPipeError traceback and "Exception ignored" at exit).
    ``shortages --json`` was used until its output shrank to 32 kB: it then fitted in the pipe
    and ended normally (exit 0) whenever it wrote everything before the reader closed."""
    proc = subprocess.Popen([sys.executable, str(REPO / "main.py"), "exceptions", "--json",
                             "--cache", str(demo)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=REPO, env=dict(os.environ))
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()  # the reader takes one line, then closes the pipe
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141
    assert err == ""
