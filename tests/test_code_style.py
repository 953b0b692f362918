"""Lint and types as tests, so CI enforces them (STYLE.md 15): ruff on the whole tree, mypy strict
on the Qt-free packages (configuration in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _tool(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", module, *args], cwd=REPO, capture_output=True,
                          text=True, timeout=600, check=False)


def test_ruff_finds_nothing() -> None:
    run = _tool("ruff", "check", "--no-cache", ".")
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]


def test_mypy_strict_on_the_qt_free_packages() -> None:
    run = _tool("mypy", "--cache-dir", str(REPO / ".mypy_cache"))
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
