"""Running ``workbench`` as a real process, the way a user or a cron job does.

``as_user=True`` runs it without root's power to read and write any file (Linux capabilities
CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH dropped with ``capsh``), so a read-only or unreadable
file behaves for the test as it does for a planner; without ``capsh`` such a test is skipped when
run as root.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def cli(*args: str | Path, env: dict[str, str] | None = None, as_user: bool = False,
        timeout: float = 180) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(REPO / "main.py"), *map(str, args)]
    if as_user and os.geteuid() == 0:
        capsh = shutil.which("capsh")
        if capsh is None:
            pytest.skip("running as root without capsh: file permissions cannot bind this test")
        command = [capsh, "--drop=cap_dac_override,cap_dac_read_search", "--", "-c",
                   shlex.join(command)]
    return subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=timeout,
                          env={**os.environ, **(env or {})})


def one_line_error(run: subprocess.CompletedProcess[str], code: int) -> str:
    """The failure's single stderr line, after checking the exit code and that nothing else
    (a traceback, a second message) was printed."""
    assert run.returncode == code, (run.returncode, run.stderr)
    assert "Traceback" not in run.stderr, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    return lines[0]
