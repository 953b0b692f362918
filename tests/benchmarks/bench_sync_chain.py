"""`workbench sync` twice in a row (review r17, issue 16): the second ``plan_after_sync`` nets the
change from the plan the first one stored — a net change's patched sources, pickled apart and
not read yet (services.plan_parts.LazySources) — timed (wall and CPU) in the same process.

    .venv/bin/python tests/benchmarks/bench_sync_chain.py [--cache /tmp/planner-bench/large.sqlite]
        [--scale large] [--work /tmp/sync-chain-bench] [--runs 2]

The cache is copied into ``--work`` (the original is never touched), planned in full and stored;
sync 1 moves 3 PO promises (planned by ``plan_after_sync``), sync 2 moves 4 others; each run
copies that state and times sync 2's ``plan_after_sync``. ``--code DIR`` imports the workbench
package from DIR (another checkout: before/after in the same conditions).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sqlite3
import sys
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cache", default="/tmp/planner-bench/large.sqlite")
    parser.add_argument("--scale", default="large")
    parser.add_argument("--work", default="/tmp/sync-chain-bench")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--code", default=None)
    args = parser.parse_args()
    sys.path.insert(0, args.code or str(Path(__file__).resolve().parents[2]))
    from tests.fixtures_connector import MemoryConnector
    from workbench.cache import snapshot
    from workbench.cache.db import open_cache
    from workbench.services import plan_store
    from workbench.services.sources import demo_connector
    from workbench.services.sync import run_sync

    lines = [r for b in demo_connector(scale=args.scale).pull("purchase_order_lines", None)
             for r in b.records if r.get("promised_date")]

    def moved(first: int, count: int, days: int, tag: int) -> MemoryConnector:
        out = []
        for r in lines[first:first + count]:
            day = r["promised_date"]
            day = dt.date.fromisoformat(day) if isinstance(day, str) else day
            out.append(dict(r, promised_date=(day + dt.timedelta(days=days)).isoformat(),
                            source_version=f"chain{tag}"))
        return MemoryConnector({"purchase_order_lines": out})

    base = Path(args.work)
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    path = base / "cache.sqlite"
    src, dst = sqlite3.connect(args.cache), sqlite3.connect(path)
    src.backup(dst)
    src.close()
    dst.close()
    engine = open_cache(path)
    print("first plan:", plan_store.open_planned_session(engine).how)
    snapshot.wait_for_writes(300)
    engine.dispose()
    engine = open_cache(path)
    assert run_sync(engine, moved(0, 3, 5, 0)).ok
    print("sync 1:", plan_store.plan_after_sync(engine))
    snapshot.wait_for_writes(300)
    engine.dispose()
    engine = open_cache(path)
    assert run_sync(engine, moved(20, 4, 9, 1)).ok
    engine.dispose()
    times = []
    for k in range(args.runs):
        run = base / f"run{k}"
        shutil.copytree(base, run, ignore=shutil.ignore_patterns("run*"), symlinks=True)
        engine = open_cache(run / "cache.sqlite")
        wall, cpu = time.perf_counter(), time.process_time()
        how = plan_store.plan_after_sync(engine)
        times.append((time.perf_counter() - wall, time.process_time() - cpu))
        snapshot.wait_for_writes(300)
        engine.dispose()
        shutil.rmtree(run, ignore_errors=True)
        print(f"sync 2 plan_after_sync: {how}, wall {times[-1][0]:.2f} s, "
              f"CPU {times[-1][1]:.2f} s, load {os.getloadavg()[0]:.2f}")
    times.sort()
    print(f"median wall {times[len(times) // 2][0]:.2f} s")


if __name__ == "__main__":
    main()
