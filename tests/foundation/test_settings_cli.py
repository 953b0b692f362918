"""Settings (typed, versioned, no secrets) and the CLI's contract: exit codes, JSON, --cache."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.services.settings import (
    Settings,
    SettingsError,
    SourceConfig,
    load_settings,
    save_settings,
)

REPO = Path(__file__).resolve().parents[2]


def test_settings_round_trip_and_refuse_secrets(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    s = Settings(sources=[SourceConfig(name="erp", connector="tryton",
                                       params={"url": "http://127.0.0.1:8000", "user": "planner"})])
    save_settings(s, path)
    again = load_settings(path)
    assert again.source("erp").params["user"] == "planner"
    assert again.schema_version == 1
    with pytest.raises(ValueError, match="looks like a secret: store it with keyring"):
        SourceConfig(name="erp", connector="tryton", params={"password": "hunter2"})


def test_broken_settings_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text('{"planning": {"horizon_weeks": 0}}')
    with pytest.raises(SettingsError,
                       match=r"settings.json, planning.horizon_weeks: Input should be greater"):
        load_settings(path)


def _cli(*args: str, env_home: Path) -> subprocess.CompletedProcess[str]:
    env = {"HOME": str(env_home), "XDG_CONFIG_HOME": str(env_home / "cfg"),
           "XDG_DATA_HOME": str(env_home / "data"), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, str(REPO / "main.py"), *args], capture_output=True,
                          text=True, env=env, cwd=REPO, timeout=120)


def test_cli_status_json_and_exit_codes(tmp_path: Path) -> None:
    cache = tmp_path / "c.sqlite"
    status = _cli("status", "--cache", str(cache), "--json", env_home=tmp_path)
    assert status.returncode == 0, status.stderr
    data = json.loads(status.stdout)
    assert data["schema_version"] >= 2 and data["entities"]["items"] == {}

    missing = _cli("sync", "--package", str(tmp_path / "nope"), "--cache", str(cache), env_home=tmp_path)
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines() == [
        f"workbench sync: package folder {tmp_path / 'nope'} does not exist"]

    foreign = tmp_path / "foreign.sqlite"
    import sqlite3
    con = sqlite3.connect(foreign)
    con.execute("create table x(a)")
    con.commit()
    con.close()
    refused = _cli("status", "--cache", str(foreign), env_home=tmp_path)
    assert refused.returncode == 3 and "is not a Planner Workbench cache" in refused.stderr


def test_cli_sync_of_a_bad_package_fails_with_the_row_named(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "uoms.csv").write_text("code\nEA\n")
    (pkg / "items.csv").write_text("code,lead_time_days\nA,1\nB,soon\n")
    cache = str(tmp_path / "c.sqlite")
    run = _cli("sync", "--package", str(pkg), "--cache", cache, "--json", env_home=tmp_path)
    assert run.returncode == 1
    assert run.stderr.startswith("workbench sync: 1 row rejected, nothing was loaded (first: "
                                 "items.csv, row 3: items 'B', field lead_time_days:")
    out = json.loads(run.stdout)
    assert out["status"] == "failed" and out["rejected"][0]["row"] == 3
    ok = _cli("sync", "--package", str(pkg), "--cache", cache, "--partial", env_home=tmp_path)
    assert ok.returncode == 0, ok.stderr


def test_cli_sources_add_list_remove(tmp_path: Path) -> None:
    added = _cli("sources", "add", "erp", "tryton", "url=http://127.0.0.1:8000", "database=plant",
                 "user=planner", env_home=tmp_path)
    assert added.returncode == 0, added.stderr
    listed = json.loads(_cli("sources", "list", "--json", env_home=tmp_path).stdout)
    assert listed == [{"name": "erp", "connector": "tryton", "enabled": True,
                       "params": {"url": "http://127.0.0.1:8000", "database": "plant", "user": "planner"}}]
    secret = _cli("sources", "add", "erp", "tryton", "password=x", env_home=tmp_path)
    assert secret.returncode == 2 and "store it with keyring" in secret.stderr
    assert _cli("sources", "remove", "erp", env_home=tmp_path).returncode == 0
    assert _cli("sources", "remove", "erp", env_home=tmp_path).returncode == 2
