"""The packaged one-folder app starts, opens the main window on the demo and exits 0."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_bundle_builds_and_passes_its_smoke_test(tmp_path: Path) -> None:
    if shutil.which("pyinstaller") is None and not (Path(sys.executable).parent / "pyinstaller").exists():
        pytest.fail("PyInstaller is not installed: install the test extra (pip install -e '.[test]')")
    dist = tmp_path / "dist"
    build = subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
         "--distpath", str(dist), "--workpath", str(tmp_path / "build"),
         str(REPO / "packaging" / "planner_workbench.spec")],
        cwd=REPO, capture_output=True, text=True, timeout=900,
    )
    assert build.returncode == 0, build.stderr[-4000:]
    exe = dist / "planner-workbench" / "planner-workbench"
    assert exe.exists()
    shot = tmp_path / "smoke.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path)}
    env.pop("PYTHONPATH", None)
    run = subprocess.run(
        [str(exe), "--cache", str(tmp_path / "cache.sqlite"), "--demo", "--smoke", str(shot)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    assert shot.stat().st_size > 10_000  # a real rendered window, not an empty image
    from PySide6.QtGui import QImage

    image = QImage(str(shot))
    assert image.width() >= 800 and image.height() >= 500
    # the CLI inside the bundle reads the cache the GUI created
    status = subprocess.run([str(exe), "status", "--cache", str(tmp_path / "cache.sqlite"), "--json"],
                            capture_output=True, text=True, timeout=120, env=env)
    assert status.returncode == 0, status.stderr
    assert '"items"' in status.stdout and '"demo"' in status.stdout
