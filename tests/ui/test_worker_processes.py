"""The worker processes never import Qt (issue 12): the planner, reader and writer of a real
ProcessRunner run the application's operations and report which Qt or ``workbench.ui`` modules
they hold — none, whether they were started with ``spawn`` or ``forkserver``.

They once did: the jobs lived in ``workbench.ui.jobs``, and importing any ``workbench.ui`` module
runs ``workbench/ui/__init__.py``, which loads PySide6 — so every worker carried Qt.

This module must itself stay free of Qt imports at its top: the children import it to find the
probes below.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

from workbench.app.ops import Outcome, cache_query, command, planning_query
from workbench.app.runner import ProcessRunner

QT_PREFIXES = ("PySide6", "shiboken6", "pyqtgraph", "workbench.ui")


def _qt_modules() -> list[str]:
    return sorted(m for m in sys.modules if m.startswith(QT_PREFIXES))


@planning_query
def planner_modules(_session: Any) -> tuple[int, list[str]]:
    return os.getpid(), _qt_modules()


@cache_query
def reader_modules(_engine: Any) -> tuple[int, list[str]]:
    return os.getpid(), _qt_modules()


@command
def writer_modules(_engine: Any) -> Outcome[tuple[int, list[str]]]:
    return Outcome((os.getpid(), _qt_modules()))


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_planner_reader_and_writer_never_import_qt(cache_path: Path, method: str) -> None:
    from workbench.app import sync
    from workbench.app.planning import planning_counts

    runner = ProcessRunner(cache_path)
    for server in runner.servers:
        server.start_method = method
    try:
        # real work first, so whatever the operations import is loaded
        counts = runner.run(sync.cache_counts)
        assert [s.connector for s in counts.sources] == ["demo"]
        overview = runner.run(sync.sync_overview, [sync.demo_source()], {})
        assert list(overview.sources["connector"]) == ["demo"]
        assert runner.run(sync.sync, []).value == []
        assert runner.run(planning_counts).short_rows >= 0
        answers = {
            "planner": runner.run(planner_modules),
            "reader": runner.run(reader_modules),
            "writer": runner.run(writer_modules).value,
        }
        pids = {name: pid for name, (pid, _) in answers.items()}
        assert len(set(pids.values())) == 3 and os.getpid() not in pids.values()
        assert not any(s.inline for s in runner.servers)  # real processes, not the fallback
        popen = type(runner.planner._proc._popen).__module__
        assert popen == {"spawn": "multiprocessing.popen_spawn_posix",
                         "forkserver": "multiprocessing.popen_forkserver"}[method]
        assert {name: mods for name, (_, mods) in answers.items()} == {
            "planner": [], "reader": [], "writer": []}
    finally:
        runner.shutdown()
