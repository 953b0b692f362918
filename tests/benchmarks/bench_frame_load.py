"""Loading the planning frames: from SQLite (the old path) against the frame snapshot, one run.

    .venv/bin/python tests/benchmarks/bench_frame_load.py [--cache /tmp/pw/large.sqlite]
        [--work /tmp/fl-bench] [--repeat 3] [--compare]

The cache is copied into ``--work`` first (opening it migrates the copy and the snapshot is
written beside it: the original is never touched). Each measurement runs in a fresh process, so
its peak memory (max RSS) is its own and the page cache is the only thing shared ("warm": the
files were read before). Prints, for the same copy in one run:

- old path: every planning frame read from SQLite column by column (``snapshot=False``);
- first load: SQLite plus the snapshot written by the background thread (time to wait for it);
- snapshot path: the frames from the snapshot (``--repeat`` fresh processes);
- with ``--compare``: every frame of both paths compared (dtypes and values), in one process.
Target on the large demo: snapshot load <= 3 s and >= 6x faster than the old path.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))


def _child(mode: str, cache: Path) -> dict[str, float]:
    """One measurement in this process: seconds and max RSS (GiB)."""
    import pandas as pd

    from workbench.analysis.data import PLANNING_ENTITIES
    from workbench.cache import snapshot
    from workbench.cache.db import open_cache
    from workbench.services.planning import read_planning_frames

    engine = open_cache(cache)
    wanted = list(PLANNING_ENTITIES)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    out: dict[str, float] = {"rss_before_gib": base}
    if mode == "compare":
        old, _ = read_planning_frames(engine, wanted, snapshot=False)
        path, stamp = snapshot.snapshot_path(engine), snapshot.read_stamp(engine)
        assert path is not None and stamp is not None
        from workbench.services.planning import frame_snapshot_layout

        saved = snapshot.read_snapshot(path, stamp, frame_snapshot_layout())
        assert saved is not None, "no valid snapshot to compare"
        for entity in wanted:
            pd.testing.assert_frame_equal(saved.frames[entity], old[entity], check_exact=True)
        out["frames_equal"] = float(len(wanted))
        return out
    if mode == "first":
        path = snapshot.snapshot_path(engine)
        assert path is not None
        path.unlink(missing_ok=True)
    t = time.perf_counter()
    frames, _ = read_planning_frames(engine, wanted, snapshot=mode != "sqlite")
    out["load_s"] = time.perf_counter() - t
    out["rss_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    out["rows"] = float(sum(len(f) for f in frames.values()))
    if mode == "first":
        t = time.perf_counter()
        snapshot.wait_for_writes()
        out["write_wait_s"] = time.perf_counter() - t
        out["rss_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    return out


def _run(mode: str, cache: Path) -> dict[str, float]:
    done = subprocess.run([sys.executable, __file__, "--child", mode, "--cache", str(cache)],
                          check=True, capture_output=True, text=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _copy(cache: Path, work: Path) -> Path:
    work.mkdir(parents=True, exist_ok=True)
    target = work / cache.name
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{cache}{suffix}")
        if source.exists():
            shutil.copy2(source, f"{target}{suffix}")
    return target


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", type=Path, default=Path("/tmp/pw/large.sqlite"))
    ap.add_argument("--work", type=Path, default=Path("/tmp/fl-bench"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--compare", action="store_true")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(_child(args.child, args.cache)))
        return 0

    copy = _copy(args.cache, args.work)
    print(f"cache {args.cache} copied to {copy}")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"({os.cpu_count()} CPUs)", flush=True)
    old = _run("sqlite", copy)
    print(f"old path (SQLite, column by column): {old['load_s']:6.2f} s  max RSS "
          f"{old['rss_gib']:.2f} GiB (process after imports: {old['rss_before_gib']:.2f} GiB); "
          f"{old['rows']:,.0f} rows", flush=True)
    first = _run("first", copy)
    size = Path(f"{copy}.frames").stat().st_size
    print(f"first load (SQLite + snapshot written in the background): {first['load_s']:6.2f} s, "
          f"then {first['write_wait_s']:.2f} s waiting for the write; max RSS "
          f"{first['rss_gib']:.2f} GiB; snapshot {size / 2**20:.0f} MiB on disk", flush=True)
    runs = [_run("snapshot", copy) for _ in range(args.repeat)]
    times = [r["load_s"] for r in runs]
    best = statistics.median(times)
    print(f"snapshot path, {len(runs)} fresh processes: median {best:6.2f} s "
          f"({', '.join(f'{x:.2f}' for x in times)}); max RSS "
          f"{max(r['rss_gib'] for r in runs):.2f} GiB; {runs[0]['rows']:,.0f} rows")
    print(f"speed-up (old / snapshot median): {old['load_s'] / best:.1f}x  "
          f"(target: <= 3 s and >= 6x)")
    if args.compare:
        result = _run("compare", copy)
        print(f"every frame equal through both paths: {result['frames_equal']:.0f} frames")
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
