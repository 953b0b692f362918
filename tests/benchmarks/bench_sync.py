"""Sync throughput on the demo, against plain sqlite3 executemany of the same rows.

Run:  .venv/bin/python tests/benchmarks/bench_sync.py [--scale large|medium|small] [--runs 3]
          [--raw-cache-mib 64]

1. The sync: a fresh cache loaded by ``run_sync`` from the demo connector — the connector's
   pull (its column batches), validation, reference checks, unit conversion and upsert, the
   commit. The demo first generates its plant (timed on its own: ``count`` of every entity).
2. The reference: the rows a sync wrote, read back per table and inserted with plain
   ``sqlite3.executemany`` into another fresh cache with the same tables, indexes and history
   triggers, one transaction; only the inserts and the commit are timed.

Both sides write with the cache's own settings (``SETTINGS``: WAL, ``synchronous=NORMAL``, so
neither fsyncs but in the checkpoint at its commit; a 64 MiB page cache, ``--raw-cache-mib 0``:
SQLite's default) and the disk is flushed (``os.sync``) before each. The two sides take turns:
every second run times the reference first (from the cache the run before's sync wrote), so a
load that rises or falls over the runs weighs on both alike; each run's ratio is of its own two
sides, and the medians of the runs are printed. On this shared 2-core machine the wall time of
either side is mostly waiting for a core (wall/CPU was the same 2.7x for every step of a
medium sync at load 7, ``bench_sync_steps.py``), so a ratio is fair only between sides that
ran under the same load. Each side's wall time is split (``/proc/self/schedstat``) into on a
core, waiting for a core and blocked (disk, fsync, locks); the ratio of the wall times less the
waits for a core (what each side would take with a core to itself) is printed too.

Which figure is the issue's (16 §5, "Sync >= 0.8 x plain sqlite3 executemany of the same rows
into the same tables"): the ratio with **the source's data ready** — the connector reading its
source (the demo's pull) is part of the sync and counted, but the demo *generating* a synthetic
plant is not a read of a source (a real source system has its data before a sync starts). The
ratio with the generation counted is printed beside it. The sync's peak memory is the first
run's (target < 2 GB).
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


SETTINGS = ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON")
"""The pragmas both sides write with (workbench.cache.db._connect's; plus the page cache)."""


def waits() -> tuple[float, ...]:
    """(wall seconds, seconds on a core, seconds waiting for a core — runnable, another process
    on it: ``/proc/self/schedstat`` —, voluntary context switches — waits for the disk or a
    lock —, involuntary ones, bytes written to disk, bytes handed to write calls)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    io = dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
    on_cpu, runnable, _ = (int(v) / 1e9 for v in Path("/proc/self/schedstat").read_text().split())
    return (time.perf_counter(), on_cpu, runnable, usage.ru_nvcsw, usage.ru_nivcsw,
            int(io["write_bytes"]), int(io["wchar"]))


def since(before: tuple[float, ...]) -> tuple[float, ...]:
    return tuple(b - a for a, b in zip(before, waits()))


def waited(spent: tuple[float, ...]) -> str:
    """Where the wall time ``spent`` (:func:`since`) went: on a core, waiting for one (the
    machine's load), blocked (the rest: the disk, a lock, the page cache's writeback)."""
    wall, on_cpu, runnable, vol, invol, disk, calls = spent
    return (f"wall {wall:.2f} s = on a core {on_cpu:.2f} + waiting for a core {runnable:.2f} "
            f"+ blocked {wall - on_cpu - runnable:.2f} ({vol:,.0f} waits, {invol:,.0f} "
            f"preemptions); {disk / 1e6:,.0f} MB to disk, {calls / 1e6:,.0f} MB by write calls")


def sync_side(scale: str, path: Path) -> dict[str, float]:
    """The sync into a fresh cache at ``path``: the demo generating its plant, then
    ``run_sync``; the figures."""
    engine = open_cache(path)
    base_rss = peak_rss_mb()
    connector = demo_connector(scale=scale)
    assert isinstance(connector, DemoConnector)
    load0 = os.getloadavg()[0]
    os.sync()
    t0, c0 = time.perf_counter(), time.process_time()
    for entity in connector.entities():  # the plant generated (kept by the connector)
        connector.count(entity)
    gen_s, gen_cpu = time.perf_counter() - t0, time.process_time() - c0
    t0, c0, w0 = time.perf_counter(), time.process_time(), waits()
    result = run_sync(engine, connector)
    ready_s, ready_cpu = time.perf_counter() - t0, time.process_time() - c0
    spent = since(w0)
    how = waited(spent)
    load1 = os.getloadavg()[0]
    peak = peak_rss_mb()
    assert result.ok, result.error
    rows = result.total("received")
    engine.dispose()
    del connector
    print(f"  sync          : {rows:>10,} rows in {gen_s + ready_s:7.2f} s (cpu "
          f"{gen_cpu + ready_cpu:6.2f} s), of which the demo generating its plant {gen_s:.2f} s "
          f"(cpu {gen_cpu:.2f}); peak RSS {peak:,.0f} MB ({base_rss:,.0f} before); "
          f"load {load0:.1f}-{load1:.1f}")
    print(f"                  run_sync: {ready_s:.2f} s (cpu {ready_cpu:.2f}); {how}")
    return {"rows": rows, "unqueued_s": spent[0] - spent[2],
            "sync_s": gen_s + ready_s, "sync_cpu": gen_cpu + ready_cpu,
            "ready_s": ready_s, "ready_cpu": ready_cpu, "gen_s": gen_s, "gen_cpu": gen_cpu,
            "peak": peak, "load": max(load0, load1)}


def raw_side(source: Path, path: Path, raw_cache_mib: int | None) -> dict[str, float]:
    """Plain ``sqlite3.executemany`` of the rows a sync wrote to ``source`` into a fresh cache at
    ``path`` (same tables, indexes and triggers), one transaction; only the inserts and the
    commit are timed."""
    ref = open_cache(path)
    ref.dispose()
    src = sqlite3.connect(source)
    dst = sqlite3.connect(path, isolation_level=None)
    for pragma in SETTINGS:
        dst.execute(f"PRAGMA {pragma}")
    if raw_cache_mib:  # e.g. 64: the page cache the cache itself opens with (workbench.cache.db)
        dst.execute(f"PRAGMA cache_size=-{raw_cache_mib * 1024}")
    raw_rows, raw_s, raw_cpu = 0, 0.0, 0.0
    tables = []
    for entity in ENTITY_TABLES:
        cols = [r[1] for r in src.execute(f"PRAGMA table_info({entity})")]
        tables.append((entity, cols))
    load0 = os.getloadavg()[0]
    os.sync()
    spent: tuple[float, ...] = (0.0,) * 7
    dst.execute("BEGIN")
    for entity, cols in tables:
        data = src.execute(f"SELECT {', '.join(cols)} FROM {entity} WHERE origin IS NOT 'observed'"
                           if entity == "promise_changes" else
                           f"SELECT {', '.join(cols)} FROM {entity}").fetchall()
        sql = f"INSERT INTO {entity} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        t, c, w0 = time.perf_counter(), time.process_time(), waits()
        dst.executemany(sql, data)
        raw_s += time.perf_counter() - t
        raw_cpu += time.process_time() - c
        spent = tuple(map(sum, zip(spent, since(w0))))
        raw_rows += len(data)
        del data
    t, c, w0 = time.perf_counter(), time.process_time(), waits()
    dst.execute("COMMIT")
    raw_s += time.perf_counter() - t
    raw_cpu += time.process_time() - c
    spent = tuple(map(sum, zip(spent, since(w0))))
    load1 = os.getloadavg()[0]
    how = waited(spent)  # the timed parts only
    src.close()
    dst.close()
    print(f"  raw executemany: {raw_rows:>10,} rows in {raw_s:7.2f} s (cpu {raw_cpu:6.2f} s); "
          f"load {load0:.1f}-{load1:.1f}")
    print(f"                  {how}")
    return {"raw_rows": raw_rows, "raw_unqueued_s": spent[0] - spent[2], "raw_s": raw_s,
            "raw_cpu": raw_cpu, "load": max(load0, load1)}


def one_run(scale: str, n: int, folder: Path, source: Path | None,
            raw_cache_mib: int | None = None) -> tuple[dict[str, float], Path]:
    """Run ``n``: the sync and the reference, in turn — the reference first in every second run
    (from ``source``, the cache an earlier run's sync wrote), so a load that rises or falls
    during the runs weighs on both sides alike; the figures and the sync's cache."""
    target = folder / f"sync{n}.sqlite"
    raw_first = source is not None and n % 2 == 1
    print(f"run {n + 1}: {'reference, then sync' if raw_first else 'sync, then reference'}")
    raw: dict[str, float] = {}
    if raw_first:
        assert source is not None
        raw = raw_side(source, folder / f"raw{n}.sqlite", raw_cache_mib)
    figures = sync_side(scale, target)
    if not raw_first:
        raw = raw_side(target, folder / f"raw{n}.sqlite", raw_cache_mib)
    for f in folder.glob(f"raw{n}.sqlite*"):
        f.unlink()
    rows, raw_rows = figures["rows"], raw["raw_rows"]
    out = {**figures, **raw, "load": max(figures["load"], raw["load"])}
    for name, s_key, c_key in (("", "sync_s", "sync_cpu"), ("ready_", "ready_s", "ready_cpu")):
        out[f"{name}ratio"] = (rows / figures[s_key]) / (raw_rows / raw["raw_s"])
        out[f"{name}cpu_ratio"] = (rows / figures[c_key]) / (raw_rows / raw["raw_cpu"])
    # the wall time each side would take with a core to itself: less its waits for one
    out["ready_unqueued_ratio"] = ((rows / figures["unqueued_s"])
                                   / (raw_rows / raw["raw_unqueued_s"]))
    print(f"  ratio with the source's data ready (the issue's figure) {out['ready_ratio']:.2f} "
          f"by wall, {out['ready_cpu_ratio']:.2f} by CPU, {out['ready_unqueued_ratio']:.2f} by "
          f"wall less the waits for a core; with the demo generating its plant "
          f"{out['ratio']:.2f} by wall, {out['cpu_ratio']:.2f} by CPU")
    return out, target


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="large")
    parser.add_argument("--runs", type=int, default=3, help="runs; medians are printed")
    parser.add_argument("--raw-cache-mib", type=int, default=64,
                        help="the reference's page cache in MiB (default 64, what the cache "
                             "opens with; 0: SQLite's default 2 MiB, which flatters the sync "
                             "under load)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench_sync_"))
    runs: list[dict[str, float]] = []
    source: Path | None = None
    try:
        for n in range(args.runs):
            figures, target = one_run(args.scale, n, folder, source, args.raw_cache_mib)
            runs.append(figures)
            if source is not None:
                for f in folder.glob(f"{source.name}*"):
                    f.unlink()
            source = target
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    def med(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    cache = f"{args.raw_cache_mib} MiB" if args.raw_cache_mib else "SQLite's default"
    print(f"both sides: {', '.join(SETTINGS)}, page cache {cache}; one transaction each")
    print(f"median of {len(runs)} ({args.scale}, {int(med('rows')):,} rows; load average "
          f"{min(r['load'] for r in runs):.2f}-{max(r['load'] for r in runs):.2f}):")
    print(f"  sync {med('ready_s'):.2f} s (cpu {med('ready_cpu'):.2f}) + the demo generating its "
          f"plant {med('gen_s'):.2f} s (cpu {med('gen_cpu'):.2f}); raw {med('raw_s'):.2f} s "
          f"(cpu {med('raw_cpu'):.2f})")
    print(f"  ratio sync/raw, the source's data ready (the issue's figure; target >= 0.80): "
          f"{med('ready_ratio'):.2f} by wall, {med('ready_cpu_ratio'):.2f} by CPU, "
          f"{med('ready_unqueued_ratio'):.2f} by wall less the waits for a core")
    print(f"  ratio sync/raw with the demo generating its plant: {med('ratio'):.2f} by wall, "
          f"{med('cpu_ratio'):.2f} by CPU")
    print(f"  sync peak memory {runs[0]['peak']:,.0f} MB (the first run's; target < 2,048 MB)")


if __name__ == "__main__":
    main()
