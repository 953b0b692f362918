"""Measuring how long the UI thread's event loop goes without turning, while work runs.

A 5 ms QTimer records the time between its ticks. On a shared machine a gap can also come from the
operating system running other processes instead of ours; that time is not the application
blocking its UI thread, and Linux reports it per thread (``/proc/thread-self/schedstat``, second
field: nanoseconds spent runnable but waiting for a CPU). ``blocked`` subtracts it; ``raw`` keeps
the plain wall-clock gaps. Waiting for the GIL is *not* subtracted (a thread waiting for a lock is
asleep, not runnable), so a worker that holds the GIL still shows up as a blocked UI thread.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QTimer

SCHEDSTAT = Path("/proc/thread-self/schedstat")


def _runqueue_wait_s() -> float:
    try:
        return int(SCHEDSTAT.read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


class GapMeter:
    """Start it, run the job, stop it; then read ``max_raw`` and ``max_blocked`` (seconds)."""

    def __init__(self, interval_ms: int = 5) -> None:
        self.timer = QTimer()
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.raw: list[float] = []
        self.blocked: list[float] = []

    def start(self) -> None:
        self._last = time.perf_counter()
        self._last_wait = _runqueue_wait_s()
        self.timer.start()

    def _tick(self) -> None:
        now, wait = time.perf_counter(), _runqueue_wait_s()
        gap = now - self._last
        self.raw.append(gap)
        self.blocked.append(max(0.0, gap - (wait - self._last_wait)))
        self._last, self._last_wait = now, wait

    def stop(self) -> None:
        self.timer.stop()
        self._tick()

    @property
    def max_raw(self) -> float:
        return max(self.raw, default=0.0)

    @property
    def max_blocked(self) -> float:
        return max(self.blocked, default=0.0)

    def report(self) -> str:
        return (f"{len(self.raw)} ticks; longest gap {self.max_raw * 1000:.0f} ms wall-clock, "
                f"{self.max_blocked * 1000:.0f} ms not explained by CPU contention")
