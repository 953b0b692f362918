"""Where a demo sync's CPU goes: ``process_time`` around each step of one ``run_sync`` into a
fresh cache (issue 16 §5; docs/sync.md).

Run:  .venv/bin/python tests/benchmarks/bench_sync_steps.py [--scale medium|large|small]
          [--keep-indexes]

Steps: the demo generating its plant (inside its pull), the rest of its pull (the batches'
columns), validation (``validate_columns``), rows (references, units, ``EntityWriter.rows``),
the upsert (``executemany``), the secondary indexes a first load builds at the end of each
entity (``EntityWriter.finish``), and the rest (commit, run bookkeeping). ``--keep-indexes``:
a first load keeps the indexes while it inserts (what it did before they were deferred), for
an A/B. Prints the load average; the bytes written (``/proc/self/io``) beside the cache's size.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import planner_connectors.demo as demo

from workbench.cache import upsert
from workbench.cache.db import open_cache
from workbench.services import sync

CPU: dict[str, float] = defaultdict(float)
WALL: dict[str, float] = defaultdict(float)
QUEUED: dict[str, float] = defaultdict(float)


def queued() -> float:
    """Seconds this process has waited for a core so far (runnable, another process on it)."""
    return int(Path("/proc/self/schedstat").read_text().split()[1]) / 1e9


def timed(step: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started, wall, queue = time.process_time(), time.perf_counter(), queued()
        try:
            return fn(*args, **kwargs)
        finally:
            CPU[step] += time.process_time() - started
            WALL[step] += time.perf_counter() - wall
            QUEUED[step] += queued() - queue

    return wrapper


def written() -> tuple[int, int]:
    io = dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
    return int(io["write_bytes"]), int(io["wchar"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--keep-indexes", action="store_true")
    args = parser.parse_args()

    setattr(sync, "validate_columns",  # noqa: B010
            timed("validate", getattr(sync, "validate_columns")))  # noqa: B009
    upsert.EntityWriter.rows = timed("rows", upsert.EntityWriter.rows)  # type: ignore[method-assign]
    upsert.EntityWriter.upsert = timed(  # type: ignore[method-assign]
        "upsert (executemany)", upsert.EntityWriter.upsert)
    upsert.EntityWriter.finish = timed(  # type: ignore[method-assign]
        "secondary indexes built (finish)", upsert.EntityWriter.finish)
    setattr(demo, "build_table",  # noqa: B010 - the name the demo's pull calls
            timed("  of which the demo generating its plant", getattr(demo, "build_table")))  # noqa: B009
    if args.keep_indexes:
        real_init = upsert.EntityWriter.__init__

        def keeping(self: upsert.EntityWriter, *a: Any, **k: Any) -> None:
            real_init(self, *a, **k)
            self._defer_indexes = False

        upsert.EntityWriter.__init__ = keeping  # type: ignore[method-assign]
    real_pull = demo.DemoConnector.pull

    def pull(self: demo.DemoConnector, entity: str, since: str | None) -> Iterator[Any]:
        batches = real_pull(self, entity, since)
        while True:
            started, wall, queue = time.process_time(), time.perf_counter(), queued()
            try:
                batch = next(batches)
            except StopIteration:
                return
            finally:
                CPU["demo pull (columns)"] += time.process_time() - started
                WALL["demo pull (columns)"] += time.perf_counter() - wall
                QUEUED["demo pull (columns)"] += queued() - queue
            yield batch

    demo.DemoConnector.pull = pull  # type: ignore[method-assign]

    tmp = Path(tempfile.mkdtemp(prefix="bench_sync_steps_"))
    try:
        engine = open_cache(tmp / "s.sqlite")
        connector: Any = demo.DemoConnector(scale=args.scale)
        before = written()
        c0, t0, q0 = time.process_time(), time.perf_counter(), queued()
        result = sync.run_sync(engine, connector)
        total, wall = time.process_time() - c0, time.perf_counter() - t0
        queue = queued() - q0
        after = written()
        assert result.ok, result.error
        print(f"{args.scale}{' (indexes kept)' if args.keep_indexes else ''}: "
              f"{result.total('received'):,} rows, wall {wall:.2f} s, cpu {total:.2f} s, "
              f"load {os.getloadavg()[0]:.2f}; written {(after[0] - before[0]) / 1e6:,.0f} MB "
              f"to disk, {(after[1] - before[1]) / 1e6:,.0f} MB by write calls, cache "
              f"{(tmp / 's.sqlite').stat().st_size / 1e6:,.0f} MB")
        print(f"  {'step':42s} {'cpu s':>7s} {'wall s':>7s} {'queued':>7s} {'blocked':>7s}"
              "  (queued: waiting for a core; blocked: wall - cpu - queued)")
        for step in ("demo pull (columns)", "  of which the demo generating its plant",
                     "validate", "rows", "upsert (executemany)",
                     "secondary indexes built (finish)"):
            print(f"  {step:42s} {CPU[step]:7.2f} {WALL[step]:7.2f} {QUEUED[step]:7.2f} "
                  f"{WALL[step] - CPU[step] - QUEUED[step]:7.2f}")

        def rest(of: dict[str, float], whole: float) -> float:
            return whole - sum(v for k, v in of.items() if not k.startswith("  "))

        r_cpu, r_wall, r_queue = rest(CPU, total), rest(WALL, wall), rest(QUEUED, queue)
        print(f"  {'rest (commit, run bookkeeping)':42s} {r_cpu:7.2f} {r_wall:7.2f} "
              f"{r_queue:7.2f} {r_wall - r_cpu - r_queue:7.2f}")
        engine.dispose()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
