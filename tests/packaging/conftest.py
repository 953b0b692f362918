"""The packaging tests share one bundle per session: building it takes minutes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NAME = "planner-workbench"


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``dist/`` with the bundle built from packaging/planner_workbench.spec (once a session:
    the installer test and the .deb test use the same bundle)."""
    if shutil.which("pyinstaller") is None and not (Path(sys.executable).parent / "pyinstaller").exists():
        pytest.fail("PyInstaller is not installed: install the test extra (pip install -e '.[test]')")
    work = tmp_path_factory.mktemp("bundle")
    out = work / "dist"
    build = subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
         "--distpath", str(out), "--workpath", str(work / "build"),
         str(REPO / "packaging" / "planner_workbench.spec")],
        cwd=REPO, capture_output=True, text=True, timeout=900, check=False,
    )
    assert build.returncode == 0, build.stderr[-4000:]
    assert (out / NAME / NAME).exists()
    return out
