"""The Debian package: built with dpkg-deb from the session's bundle (tests/packaging/conftest.py),
installed with dpkg into this machine (CI runs as root on Debian 12), started through its
launcher (smoke run and CLI), upgraded to a newer build with the user's cache and settings kept
and the cache migrated, removed with the user's data kept, and purged. The package is purged at
the end even when an assertion fails."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NAME = "planner-workbench"
SITE_DIR = Path("/etc/planner-workbench")

pytestmark = pytest.mark.slow

SITE = """\
[planning]
horizon_weeks = 13
[[sources]]
name = "erp"
connector = "tryton"
params = { url = "https://erp.plant.example", database = "plant", user = "planner" }
"""


def _run(args: list[str], env: dict[str, str] | None = None, cwd: Path | None = None,
         timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=env, check=False)


def _installed_version() -> str | None:
    shown = _run(["dpkg-query", "-W", "-f=${Status} ${Version}", NAME])
    if shown.returncode != 0 or "install ok installed" not in shown.stdout:
        return None
    return shown.stdout.split()[-1]


@pytest.fixture
def dpkg_machine() -> Iterator[None]:
    """This machine, as root with dpkg, without the package; purged again afterwards."""
    if shutil.which("dpkg") is None or os.geteuid() != 0:
        pytest.skip("installs into the machine: needs dpkg and root (CI runs as root on Debian)")
    if _installed_version() is not None or SITE_DIR.exists():
        pytest.fail(f"{NAME} or {SITE_DIR} is already on this machine: not touching it")
    try:
        yield
    finally:
        _run(["dpkg", "--purge", NAME])
        if SITE_DIR.exists() and not any(SITE_DIR.iterdir()):
            SITE_DIR.rmdir()


def _build_deb(dist: Path, version: str, site: Path | None = None) -> Path:
    args = ["bash", str(REPO / "packaging" / "build_deb.sh"), str(dist), "--version", version]
    made = _run(args + (["--site-profile", str(site)] if site else []))
    assert made.returncode == 0, made.stderr
    deb = next(dist.glob(f"{NAME}_{version}_*.deb"))
    return deb


def _user_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "PWB_"))}
    env.update({"HOME": str(home), "QT_QPA_PLATFORM": "offscreen"})
    env.pop("PYTHONPATH", None)
    return env


def _older_cache(cache: Path, bundle: Path) -> tuple[int, list[str]]:
    """Make ``cache`` look written by the release before the last migration: what the last
    migration adds is taken away again (its triggers, indexes, added columns and tables) and
    ``user_version`` set back one. Returns the latest version and the tables it creates."""
    migrations = sorted((bundle / "_internal" / "workbench" / "cache" / "migrations").glob("*.sql"))
    latest = int(migrations[-1].name.split("_", 1)[0])
    sql = migrations[-1].read_text()
    tables = re.findall(r"CREATE TABLE (?:IF NOT EXISTS )?(\w+)", sql)
    with sqlite3.connect(cache) as conn:
        for trigger in re.findall(r"CREATE TRIGGER (?:IF NOT EXISTS )?(\w+)", sql):
            conn.execute(f"DROP TRIGGER {trigger}")
        for index in re.findall(r"CREATE (?:UNIQUE )?INDEX (?:IF NOT EXISTS )?(\w+)", sql):
            conn.execute(f"DROP INDEX {index}")
        for table, column in re.findall(r"ALTER TABLE (\w+) ADD COLUMN (\w+)", sql):
            conn.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        for table in tables:
            conn.execute(f"DROP TABLE {table}")
        conn.execute(f"PRAGMA user_version = {latest - 1}")
    return latest, tables


def test_deb_installs_runs_upgrades_and_removes(dist: Path, tmp_path: Path,
                                                dpkg_machine: None) -> None:
    real_version = (dist / f"{NAME}.version").read_text().strip()
    site = tmp_path / "site.toml"
    site.write_text(SITE)
    old = _build_deb(dist, "0.0.9", site)
    new = _build_deb(dist, real_version, site)
    home = tmp_path / "home"
    home.mkdir()
    env = _user_env(home)

    installed = _run(["dpkg", "-i", str(old)])
    assert installed.returncode == 0, installed.stderr
    assert _installed_version() == "0.0.9"
    launcher = Path("/usr/bin/workbench")
    assert os.path.realpath(launcher) == f"/opt/{NAME}/{NAME}"
    desktop = Path(f"/usr/share/applications/{NAME}.desktop").read_text()
    assert "Exec=/usr/bin/workbench" in desktop and f"Icon={NAME}" in desktop
    assert Path(f"/usr/share/icons/hicolor/scalable/apps/{NAME}.svg").is_file()
    assert (SITE_DIR / "site.toml").read_text() == SITE

    # the smoke run and a CLI command through the installed launcher, reading the site profile
    shot = tmp_path / "smoke.png"
    cache = tmp_path / "cache.sqlite"
    smoke = _run([str(launcher), "--cache", str(cache), "--demo", "--smoke", str(shot)], env, tmp_path)
    assert smoke.returncode == 0, smoke.stderr[-4000:]
    assert shot.stat().st_size > 10_000
    listed = _run([str(launcher), "sources", "list", "--json"], env, tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "erp.plant.example" in listed.stdout  # the site's source, configured for this user
    version = _run([str(launcher), "--version"], env, tmp_path)
    assert f"site profile: {SITE_DIR / 'site.toml'}\n" in version.stdout

    # the user's own settings and a cache of the previous release
    settings = home / ".config" / "PlannerWorkbench" / "settings.json"
    stored = json.loads(settings.read_text())  # written by the smoke run (the demo source)
    stored["planning"] = {"horizon_weeks": 8}
    settings.write_text(json.dumps(stored))
    before = settings.read_bytes()
    latest, tables = _older_cache(cache, Path(f"/opt/{NAME}"))

    upgraded = _run(["dpkg", "-i", str(new)])
    assert upgraded.returncode == 0, upgraded.stderr
    assert _installed_version() == real_version
    version = _run([str(launcher), "--version"], env, tmp_path)
    assert version.stdout.splitlines()[0] == f"workbench {real_version}"
    status = _run([str(launcher), "status", "--cache", str(cache), "--json"], env, tmp_path)
    assert status.returncode == 0 and '"demo"' in status.stdout, status.stderr
    with sqlite3.connect(cache) as conn:  # migrated by the new build on opening
        assert conn.execute("PRAGMA user_version").fetchone()[0] == latest
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert set(tables) <= names
    assert settings.read_bytes() == before  # the user's settings are theirs

    removed = _run(["dpkg", "-r", NAME])
    assert removed.returncode == 0, removed.stderr
    assert not launcher.exists() and not Path(f"/opt/{NAME}").exists()
    assert cache.stat().st_size > 0 and settings.read_bytes() == before
    assert (SITE_DIR / "site.toml").exists()  # a conffile stays until purge
    purged = _run(["dpkg", "--purge", NAME])
    assert purged.returncode == 0, purged.stderr
    assert not SITE_DIR.exists()
    assert cache.stat().st_size > 0 and settings.read_bytes() == before
