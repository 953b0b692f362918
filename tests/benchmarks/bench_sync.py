"""Sync throughput on the large demo, against plain sqlite3 executemany of the same rows.

Run:  .venv/bin/python tests/benchmarks/bench_sync.py [--scale large|medium|small] [--runs 3]
          [--raw-cache-mib 64]

1. The sync path: a fresh cache loaded by ``run_sync`` from the demo connector — generation,
   validation, reference checks, unit conversion and upsert, end to end. The demo generates
   its plant first (timed on its own: ``count`` of every entity) and the sync then reads it;
   the sync's figure is the sum, and the ratio without the generation is printed too (the
   demo's simulation of a plant is the source's work, which a source system does on its
   server).
2. The physical reference: the rows the sync wrote, read back per table and inserted with plain
   ``sqlite3.executemany`` into another fresh cache with the same tables and indexes (and the same
   history triggers), one transaction, timing only the inserts.
Prints both rates, their ratio (issue 16 §5: target >= 0.8), the CPU seconds of each (the rest of
the wall time is waiting for the disk, which varies with whatever else writes), the load average
and the peak memory of the sync (target < 2 GB). The disk is flushed (``os.sync``) before each
timed part. ``--runs N`` (default 3) repeats both and prints the medians; the sync's peak
memory is the first run's (later runs' include the reference's rows read back). The reference
opens with the cache's own page cache (64 MiB; ``--raw-cache-mib 0``: SQLite's default, whose
misses under load made the large reference cost 39 s of CPU instead of 24-25 s).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from planner_connectors.demo import DemoConnector

from workbench.cache.db import open_cache
from workbench.cache.schema import ENTITY_TABLES
from workbench.services.sources import demo_connector
from workbench.services.sync import run_sync


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one_run(scale: str, raw_cache_mib: int | None = None) -> dict[str, float]:
    """One sync into a fresh cache, then the raw reference of the same rows; the figures."""
    tmp = Path(tempfile.mkdtemp(prefix="bench_sync_"))

    engine = open_cache(tmp / "sync.sqlite")
    base_rss = peak_rss_mb()
    connector = demo_connector(scale=scale)
    assert isinstance(connector, DemoConnector)
    t0, c0 = time.perf_counter(), time.process_time()
    for entity in connector.entities():  # the plant generated (kept by the connector)
        connector.count(entity)
    gen_s, gen_cpu = time.perf_counter() - t0, time.process_time() - c0
    os.sync()
    t0, c0 = time.perf_counter(), time.process_time()
    result = run_sync(engine, connector)
    ready_s, ready_cpu = time.perf_counter() - t0, time.process_time() - c0
    sync_s, sync_cpu = ready_s + gen_s, ready_cpu + gen_cpu
    sync_peak = peak_rss_mb()
    assert result.ok, result.error
    rows = result.total("received")
    engine.dispose()
    print(f"sync path     : {rows:>10,} rows in {sync_s:7.2f} s = {rows / sync_s:>9,.0f} rows/s "
          f"(cpu {sync_cpu:.2f} s, of which the demo generating its plant {gen_s:.2f} s, cpu "
          f"{gen_cpu:.2f} s; peak RSS {sync_peak:,.0f} MB; {base_rss:,.0f} MB before)")

    ref = open_cache(tmp / "raw.sqlite")
    ref.dispose()
    src = sqlite3.connect(tmp / "sync.sqlite")
    dst = sqlite3.connect(tmp / "raw.sqlite", isolation_level=None)
    dst.execute("PRAGMA journal_mode=WAL")
    dst.execute("PRAGMA synchronous=NORMAL")
    dst.execute("PRAGMA foreign_keys=ON")
    if raw_cache_mib:  # e.g. 64: the page cache the cache itself opens with (workbench.cache.db)
        dst.execute(f"PRAGMA cache_size=-{raw_cache_mib * 1024}")
    raw_rows, raw_s, raw_cpu = 0, 0.0, 0.0
    tables = []
    for entity in ENTITY_TABLES:
        cols = [r[1] for r in src.execute(f"PRAGMA table_info({entity})")]
        tables.append((entity, cols))
    os.sync()
    dst.execute("BEGIN")
    for entity, cols in tables:
        data = src.execute(f"SELECT {', '.join(cols)} FROM {entity} WHERE origin IS NOT 'observed'"
                           if entity == "promise_changes" else
                           f"SELECT {', '.join(cols)} FROM {entity}").fetchall()
        sql = f"INSERT INTO {entity} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        t, c = time.perf_counter(), time.process_time()
        dst.executemany(sql, data)
        raw_s += time.perf_counter() - t
        raw_cpu += time.process_time() - c
        raw_rows += len(data)
        del data
    t, c = time.perf_counter(), time.process_time()
    dst.execute("COMMIT")
    raw_s += time.perf_counter() - t
    raw_cpu += time.process_time() - c
    src.close()
    dst.close()
    shutil.rmtree(tmp, ignore_errors=True)
    ratio = (rows / sync_s) / (raw_rows / raw_s)
    cpu_ratio = (rows / sync_cpu) / (raw_rows / raw_cpu)
    ready_ratio = (rows / ready_s) / (raw_rows / raw_s)
    ready_cpu_ratio = (rows / ready_cpu) / (raw_rows / raw_cpu)
    load = os.getloadavg()[0]
    print(f"raw executemany: {raw_rows:>10,} rows in {raw_s:7.2f} s = {raw_rows / raw_s:>9,.0f} rows/s "
          f"(cpu {raw_cpu:.2f} s); ratio {ratio:.2f} (by CPU {cpu_ratio:.2f}); the source's "
          f"data ready: {ready_ratio:.2f} (by CPU {ready_cpu_ratio:.2f}); load {load:.2f}")
    return {"sync_s": sync_s, "sync_cpu": sync_cpu, "raw_s": raw_s, "raw_cpu": raw_cpu,
            "ratio": ratio, "cpu_ratio": cpu_ratio, "peak": sync_peak, "load": load,
            "rows": rows, "raw_rows": raw_rows, "gen_s": gen_s, "gen_cpu": gen_cpu,
            "ready_ratio": ready_ratio, "ready_cpu_ratio": ready_cpu_ratio}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="large")
    parser.add_argument("--runs", type=int, default=3, help="runs; medians are printed")
    parser.add_argument("--raw-cache-mib", type=int, default=64,
                        help="the reference's page cache in MiB (default 64, what the cache "
                             "opens with; 0: SQLite's default 2 MiB, which flatters the sync "
                             "under load)")
    args = parser.parse_args()
    runs = [one_run(args.scale, args.raw_cache_mib) for _ in range(args.runs)]

    def med(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    cache = f"{args.raw_cache_mib} MiB" if args.raw_cache_mib else "SQLite's default"
    print(f"reference page cache: {cache}")
    print(f"median of {len(runs)} ({args.scale}, {int(med('rows')):,} rows): sync {med('sync_s'):.2f} s "
          f"(cpu {med('sync_cpu'):.2f}), raw {med('raw_s'):.2f} s (cpu {med('raw_cpu'):.2f}); "
          f"ratio sync/raw {med('ratio'):.2f} (target >= 0.80; by CPU seconds "
          f"{med('cpu_ratio'):.2f}); sync peak memory {runs[0]['peak']:,.0f} MB (the first run's, "
          f"before the reference read rows back; target < 2,048 MB); load average "
          f"{min(r['load'] for r in runs):.2f}-{max(r['load'] for r in runs):.2f}")
    print(f"  the demo generating its plant: {med('gen_s'):.2f} s (cpu {med('gen_cpu'):.2f}); "
          f"without it (the source's data ready, as a source system's server prepares it): "
          f"ratio {med('ready_ratio'):.2f} (by CPU {med('ready_cpu_ratio'):.2f})")


if __name__ == "__main__":
    main()
