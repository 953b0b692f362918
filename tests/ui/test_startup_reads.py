"""Start-up (issue 12 §9): the Overview's counts and the sources' freshness are quick reads the
process runner answers in the calling thread, so the window is usable while the reader process
is still starting or busy; every other cache query still runs in the reader process."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from workbench.app import sync
from workbench.app.ops import cache_query, is_quick, planning_query, quick
from workbench.app.runner import ProcessRunner


@quick
@cache_query
def quick_pid(engine: Any) -> int:
    return os.getpid()


@cache_query
def reader_pid(engine: Any) -> int:
    return os.getpid()


@cache_query
def slow_read(engine: Any, seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def test_a_quick_read_runs_in_the_calling_process_and_starts_no_reader(cache_path: Path) -> None:
    runner = ProcessRunner(cache_path)
    try:
        assert runner.run(quick_pid) == os.getpid()
        assert runner.reader.pid is None  # the reader process was not started for it
        assert runner.run(reader_pid) not in (os.getpid(), None)  # other reads: the reader
        assert runner.reader.pid is not None
    finally:
        runner.shutdown()


def test_the_overview_counts_do_not_wait_for_a_busy_reader(cache_path: Path) -> None:
    """Before: cache_counts queued behind the reader's job (here 3 s); now it is answered at once,
    with the same counts the reader would give."""
    runner = ProcessRunner(cache_path)
    try:
        expected_sources = [s.connector for s in runner.run(sync.freshness)]
        busy = threading.Thread(target=runner.run, args=(slow_read, 3.0))
        busy.start()
        time.sleep(0.3)  # the slow read holds the reader
        started = time.monotonic()
        counts = runner.run(sync.cache_counts)
        took = time.monotonic() - started
        busy.join()
        assert took < 1.0, f"the counts waited {took:.2f} s for the reader"
        assert [s.connector for s in counts.sources] == expected_sources == ["demo"]
        assert counts.outbox == {} and isinstance(counts.open_recommendations, dict)
    finally:
        runner.shutdown()


def test_what_start_up_reads_is_quick_and_only_cache_queries_can_be() -> None:
    assert all(is_quick(fn) for fn in (sync.cache_counts, sync.freshness, sync.is_empty))
    assert not is_quick(sync.cache_status)  # counts every row: seconds on the large demo
    assert not is_quick(reader_pid)

    def answer(session: Any) -> int:
        return 1

    with pytest.raises(TypeError, match="only a cache query can be quick"):
        quick(planning_query(answer))
