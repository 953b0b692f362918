"""The packaged app: the one-folder bundle starts, opens the main window on the demo and exits 0;
its self-extracting installer installs, upgrades beside the old version, refuses a damaged
download and uninstalls without touching the user's cache. The bundle is built once per session
(tests/packaging/conftest.py)."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NAME = "planner-workbench"

pytestmark = pytest.mark.slow


def _env(home: Path) -> dict[str, str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(home)}
    env.pop("PYTHONPATH", None)
    env.pop("XDG_DATA_HOME", None)
    return env


def _run(args: list[str], env: dict[str, str], cwd: Path,
         timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=env, check=False)


def test_bundle_builds_and_passes_its_smoke_test(dist: Path, tmp_path: Path) -> None:
    exe = dist / NAME / NAME
    shot = tmp_path / "smoke.png"
    env = _env(tmp_path)
    run = _run([str(exe), "--cache", str(tmp_path / "cache.sqlite"), "--demo", "--smoke", str(shot)],
               env, tmp_path)
    assert run.returncode == 0, run.stderr[-4000:]
    assert shot.stat().st_size > 10_000  # a real rendered window, not an empty image
    from PySide6.QtGui import QImage

    image = QImage(str(shot))
    assert image.width() >= 800 and image.height() >= 500
    # the CLI inside the bundle reads the cache the GUI created
    status = _run([str(exe), "status", "--cache", str(tmp_path / "cache.sqlite"), "--json"],
                  env, tmp_path, timeout=120)
    assert status.returncode == 0, status.stderr
    assert '"items"' in status.stdout and '"demo"' in status.stdout
    # --version: the build the spec recorded (date, commit, glibc) and the user's paths
    shown = _run([str(exe), "--version"], env, tmp_path, timeout=120).stdout.splitlines()
    assert shown[1].startswith("build: ") and f"glibc {platform.libc_ver()[1]}" in shown[1]
    config = Path(env.get("XDG_CONFIG_HOME") or tmp_path / ".config")
    assert shown[3] == f"settings: {config / 'PlannerWorkbench' / 'settings.json'}"


# the workshop: the test suite and its Tryton seeding and dev server, developer tools, test runners
WORKSHOP_PACKAGES = ("tests", "tools", "trytond", "proteus", "pytest", "_pytest", "hypothesis")
WORKSHOP_MODULES = ("devserver", "seed", "seed_stock", "plant_spec", "screenshots", "conftest")


def test_bundle_ships_no_workshop(dist: Path) -> None:
    """Issue 12: test seeding, dev servers, the screenshot script and the test suite stay out of the
    frozen app: no ``tests/`` or ``tools/`` folder in the bundle, and none of their modules (nor
    trytond or a test runner) in its archive of Python modules."""
    from PyInstaller.archive.readers import pkg_archive_contents

    bundle = dist / NAME
    folders = {p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_dir()}
    assert folders & {"tests", "tools", "_internal/tests", "_internal/tools"} == set()
    assert {f for f in folders if "tests/support" in f} == set()
    modules = set(pkg_archive_contents(str(bundle / NAME)))
    assert {"workbench.app.ops", "workbench.connect.factory", "planner_connectors.demo"} <= modules  # read it
    shipped = {m for m in modules
               if m.split(".")[0] in WORKSHOP_PACKAGES or m.split(".")[-1] in WORKSHOP_MODULES}
    assert shipped == set()
    files = {p.name for p in bundle.rglob("*.py")} | {p.stem for p in bundle.rglob("*.pyc")}
    assert {f for f in files if f.removesuffix(".py") in WORKSHOP_MODULES} == set()


def _make_installer(dist: Path, version: str) -> Path:
    (dist / f"{NAME}.version").write_text(version)
    made = _run(["bash", str(REPO / "packaging" / "make_installer.sh"), str(dist), NAME],
                dict(os.environ), dist)
    assert made.returncode == 0, made.stderr
    installer = dist / f"{NAME}-{version}-linux-installer.sh"
    assert installer.exists()
    return installer


def test_installer_installs_upgrades_and_uninstalls(dist: Path, tmp_path: Path) -> None:
    real_version = (dist / f"{NAME}.version").read_text()
    try:
        old = _make_installer(dist, "0.0.9")
        new = _make_installer(dist, real_version)
    finally:
        (dist / f"{NAME}.version").write_text(real_version)
    env = _env(tmp_path / "home")
    prefix, bin_dir, apps = tmp_path / "opt", tmp_path / "bin", tmp_path / "apps"
    where = ["--prefix", str(prefix), "--bin-dir", str(bin_dir), "--desktop-dir", str(apps)]

    first = _run(["sh", str(old), *where], env, tmp_path)
    assert first.returncode == 0, first.stderr
    assert os.readlink(prefix / "current") == "0.0.9"
    launcher = bin_dir / NAME
    cache = tmp_path / "cache.sqlite"
    synced = _run([str(launcher), "sync", "--demo", "--cache", str(cache), "--json"], env, tmp_path)
    assert synced.returncode == 0, synced.stderr
    desktop = (apps / f"{NAME}.desktop").read_text()
    assert f'Exec="{prefix}/current/{NAME}"' in desktop
    icon = next(line.split("=", 1)[1] for line in desktop.splitlines() if line.startswith("Icon="))
    assert Path(icon).is_file()  # the icon ships inside the bundle

    # an upgrade unpacks beside the old version, switches, keeps the old one for a roll back;
    # unattended with a site profile (PWB_SITE_PROFILE: where the app reads it; /etc as root)
    site = tmp_path / "etc" / "site.toml"
    env["PWB_SITE_PROFILE"] = str(site)
    profile = tmp_path / "site.toml"
    profile.write_text("[planning]\nhorizon_weeks = 13\n")
    second = _run(["sh", str(new), *where, "--site-profile", str(profile)], env, tmp_path)
    assert second.returncode == 0, second.stderr
    assert os.readlink(prefix / "current") == real_version
    assert (prefix / "0.0.9" / NAME).exists()
    assert "previous version 0.0.9 kept" in second.stdout
    version = _run([str(launcher), "--version"], env, tmp_path, timeout=120)
    assert version.stdout.splitlines()[0].endswith(real_version)  # then build and paths
    status = _run([str(launcher), "status", "--cache", str(cache), "--json"], env, tmp_path)
    assert status.returncode == 0 and '"demo"' in status.stdout, status.stderr
    assert site.read_text() == profile.read_text()
    assert f"site profile: {site}\n" in version.stdout

    # another site profile replaces a different one only with --yes (no terminal to ask on)
    other = tmp_path / "other.toml"
    other.write_text("[planning]\nhorizon_weeks = 8\n")
    asked = subprocess.run(["sh", str(new), *where, "--site-profile", str(other)],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env,
                           cwd=tmp_path, timeout=300, check=False)
    assert asked.returncode != 0 and "add --yes" in asked.stderr
    assert site.read_text() == profile.read_text()
    forced = _run(["sh", str(new), *where, "--site-profile", str(other), "--yes"], env, tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert site.read_text() == other.read_text()
    assert Path(f"{site}.previous").read_text() == profile.read_text()

    # a damaged download is refused before anything changes
    damaged = tmp_path / "damaged.sh"
    data = new.read_bytes()
    damaged.write_bytes(data[: len(data) - 4096])
    refused = _run(["sh", str(damaged), *where], env, tmp_path)
    assert refused.returncode != 0 and "damaged" in refused.stderr
    assert os.readlink(prefix / "current") == real_version

    removed = _run(["sh", str(new), "--uninstall", *where], env, tmp_path)
    assert removed.returncode == 0, removed.stderr
    assert not prefix.exists() and not launcher.exists() and not (apps / f"{NAME}.desktop").exists()
    assert cache.stat().st_size > 0  # the user's cache is theirs: never removed
