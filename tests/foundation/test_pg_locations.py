"""A PostgreSQL cache named by its URL everywhere a cache file is named (issue 17 §1): the CLI's
``--cache`` (every sub-command opens it through the same function), the worker processes of the
desktop app, the About / ``--version`` lines — and its password shown nowhere."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures_connector import MemoryConnector
from tests.foundation.plant import tiny_plant
from workbench.app.runner import InlineRunner, ProcessRunner
from workbench.cache.db import as_location, location_text, open_cache
from workbench.cli import cache_location, main
from workbench.services.sync import run_sync

SECRET = "pw-never-shown-17"


@pytest.fixture
def synced(pg_cache_url: str) -> str:
    engine = open_cache(pg_cache_url)
    assert run_sync(engine, MemoryConnector(tiny_plant())).ok
    engine.dispose()
    return pg_cache_url


def test_a_url_stays_a_url_and_a_path_a_path() -> None:
    url = "postgresql://planner@db.plant.local:5432/workbench"
    assert as_location(url) == url and cache_location(url) == url
    assert as_location("~/c.sqlite") == Path.home() / "c.sqlite"
    assert cache_location("postgresql:/x") == Path("postgresql:/x")  # not a URL: a file name


def test_cli_commands_open_the_team_cache_and_show_no_password(
        synced: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--json", "--cache", synced]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["path"] == synced  # postgresql://postgres@127.0.0.1:<port>/<db>
    assert status["entities"]["items"] == {"memory": 4}
    assert main(["where-used", "PAINT", "--json", "--cache", synced]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert [a["item"] for a in answer["ancestors"]] == ["FRAME", "BIKE"]
    # a password typed on the command line is used but shown nowhere (trust auth ignores it)
    with_password = synced.replace("postgres@", f"postgres:{SECRET}@")
    assert main(["status", "--cache", with_password]) == 0
    out = capsys.readouterr()
    assert SECRET not in out.out + out.err
    assert f"cache {synced} (schema" in out.out


def test_the_about_lines_mask_the_password() -> None:
    from workbench.startup import about_rows

    rows = dict(about_rows(f"postgresql://planner:{SECRET}@db:5432/plant"))
    assert rows["cache"] == "postgresql://planner:***@db:5432/plant"


def test_the_desktop_apps_worker_processes_open_the_team_cache(synced: str) -> None:
    """The GUI's runner hands the URL (not a folded Path) to its planner, reader and writer
    processes; their answers are the inline runner's."""
    from workbench.app import sync
    from workbench.app.planning import planning_counts

    engine = open_cache(synced)
    expected = InlineRunner(engine).run(planning_counts)
    assert location_text(engine) == synced
    engine.dispose()
    runner = ProcessRunner(synced)
    try:
        counts = runner.run(sync.cache_counts)
        assert [s.connector for s in counts.sources] == ["memory"]
        got: Any = runner.run(planning_counts)
        assert (got.short_rows, got.short_items) == (expected.short_rows, expected.short_items)
        assert not any(s.inline for s in runner.servers)
    finally:
        runner.shutdown()


def test_an_unreachable_server_is_one_line_and_exit_code_3(
        capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql://planner:{SECRET}@127.0.0.1:{port}/plant"
    assert main(["status", "--cache", url]) == 3
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"workbench status: cannot open the cache postgresql://planner@127.0.0.1:"
                          f"{port}/plant (")
    assert len(err.splitlines()) == 1 and SECRET not in err


def test_a_connector_reading_cross_references_finds_the_team_database(synced: str) -> None:
    """A mapped files source looks up item cross-references in the cache it is given as a path
    (``cache_reads``): for a team cache, the path its local files start with."""
    from workbench.cache.db import local_base
    from workbench.cache.xrefs import item_xrefs_of

    engine = open_cache(synced)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO item_xrefs (item, system, external_code, source) VALUES "
            "('BOLT', 'SUP', 'B-1', 'memory'), ('PAINT', 'SUP', 'P-9', 'memory'), "
            "('BIKE', 'SUP', 'P-9', 'memory'), ('FRAME', 'PLM', 'F', 'memory')")
    base = local_base(engine)
    engine.dispose()
    assert base is not None
    assert (base.parent / "database.url").read_text(encoding="utf-8").strip() == synced
    # P-9 names two items: left out, never guessed
    assert item_xrefs_of(base, ["SUP"]) == {"SUP": {"B-1": "BOLT"}}
    assert item_xrefs_of(base.with_name("elsewhere") / "cache", ["SUP"]) == {"SUP": {}}


def test_settings_refuse_a_team_cache_url_holding_a_password(tmp_path: Path) -> None:
    from workbench.services.settings import SettingsError, load_settings

    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"schema_version": 1, "cache_path":
                                f"postgresql://planner:{SECRET}@db:5432/plant"}), encoding="utf-8")
    with pytest.raises(SettingsError) as refused:
        load_settings(path)
    assert "cache_path holds a database password" in str(refused.value)
    assert SECRET not in str(refused.value)
    path.write_text(json.dumps({"schema_version": 1,
                                "cache_path": "postgresql://planner@db:5432/plant"}), encoding="utf-8")
    assert load_settings(path).cache_path == "postgresql://planner@db:5432/plant"


def test_a_password_in_the_url_query_is_shown_nowhere(
        synced: str, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    """libpq takes ``?password=`` (and ``sslpassword=``) too: status, --version, the About rows,
    the local folder's database.url and the log never show it (trust auth ignores it)."""
    import logging

    from workbench.cache.db import local_base
    from workbench.startup import about_rows

    caplog.set_level(logging.DEBUG)
    typed = f"{synced}?password={SECRET}&sslpassword={SECRET}x&connect_timeout=5"
    assert main(["status", "--cache", typed]) == 0
    out = capsys.readouterr()
    assert SECRET not in out.out + out.err
    assert "connect_timeout=5" in out.out
    with pytest.raises(SystemExit):
        main(["--cache", typed, "--version"])
    out = capsys.readouterr()
    assert SECRET not in out.out + out.err and "cache: postgresql://" in out.out
    rows = dict(about_rows(f"postgresql://planner@db:5432/plant?password={SECRET}&sslmode=require"))
    assert rows["cache"] == "postgresql://planner@db:5432/plant?sslmode=require"
    engine = open_cache(typed)
    try:
        assert SECRET not in repr(engine.url) and SECRET not in location_text(engine)
        base = local_base(engine)
        assert base is not None
        assert SECRET not in (base.parent / "database.url").read_text(encoding="utf-8")
    finally:
        engine.dispose()
    assert SECRET not in caplog.text


def test_a_query_password_of_an_unreachable_server_is_not_in_the_error(
        capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert main(["status", "--cache", f"postgresql://planner@127.0.0.1:{port}/plant?password="
                                      f"{SECRET}"]) == 3
    err = capsys.readouterr().err.strip()
    assert "cannot open the cache postgresql://planner@127.0.0.1:" in err and SECRET not in err


@pytest.mark.parametrize("key", ["password", "sslpassword", "PASSWORD"])
def test_settings_refuse_a_team_cache_url_with_a_password_parameter(tmp_path: Path,
                                                                    key: str) -> None:
    from workbench.services.settings import SettingsError, load_settings

    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"schema_version": 1, "cache_path":
                                f"postgresql://planner@db:5432/plant?sslmode=require&{key}="
                                f"{SECRET}"}), encoding="utf-8")
    with pytest.raises(SettingsError) as refused:
        load_settings(path)
    assert "keyring" in str(refused.value) and SECRET not in str(refused.value)
    path.write_text(json.dumps({"schema_version": 1, "sources": [
        {"name": "team", "connector": "files", "params": {
            "cache": f"postgresql://planner@db:5432/plant?{key}={SECRET}"}}]}), encoding="utf-8")
    with pytest.raises(SettingsError) as refused:
        load_settings(path)
    assert "keyring" in str(refused.value) and SECRET not in str(refused.value)
