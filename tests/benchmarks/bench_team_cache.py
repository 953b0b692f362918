"""The team cache on PostgreSQL beside the SQLite cache, in one run (issue 17 §4).

Run:  .venv/bin/python tests/benchmarks/bench_team_cache.py [--scale medium|small|large]
          [--runs 3] [--decisions 200]

Starts its own PostgreSQL cluster (tests/support/pgserver.py: Debian's postgresql, as the
``postgres`` user when run as root; ``tools/need-postgresql`` installs it) and stops it at the end.
For each engine, ``--runs`` times (medians printed, each run's figures too):

1. sync: the demo plant at ``--scale`` loaded by ``run_sync`` into a fresh, empty cache (a new
   SQLite file; a new PostgreSQL database) — bench_sync's sync path; rows/s and seconds;
2. frame load: every planning frame read from the cache column by column
   (``read_planning_frames(..., snapshot=False)``, the path a planner process takes when no frame
   snapshot is valid; PostgreSQL caches keep their snapshot in the local folder the same way);
3. decisions/s: 4 writer processes at once, each recording ``--decisions`` decisions (one
   transaction each: the decision, its outbox entry, its audit event, the target's version) on
   its own quarter of the requisitions; wall time from the start signal to the last commit;
   then 1 writer alone (on 2 busy cores the 4 compete for CPU, not for locks: they decide on
   different requisitions);
4. (PostgreSQL) the offline copy: a first pull of the team cache into a fresh SQLite cache
   through the ``team`` connector and the ordinary sync, then the demo's day 7 synced into the
   team and the copy's incremental pull (docs/team-cache.md).

Durability is alike on both sides: SQLite runs in WAL with ``synchronous=NORMAL`` (no fsync per
commit), the test cluster with ``fsync=off`` (``synchronous_commit`` set back to ``on`` for the
benchmark database, so a commit still waits for its WAL write). The machine is shared: the load
average is printed at the start and the end.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import select

from tests.support.pgserver import start_server
from workbench.cache.db import open_cache
from workbench.cache.schema import ENTITY_TABLES
from workbench.services.sources import demo_connector
from workbench.services.sync import run_sync

WRITERS = 4


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def sync_once(where: str, scale: str, ledger: Path) -> tuple[int, float]:
    engine = open_cache(where if "://" in where else Path(where))
    t = time.perf_counter()
    result = run_sync(engine, demo_connector(scale=scale, cache=ledger))
    seconds = time.perf_counter() - t
    assert result.ok, result.error
    engine.dispose()
    return result.total("received"), seconds


def frames_once(where: str) -> tuple[int, float]:
    from workbench.analysis.data import PLANNING_ENTITIES
    from workbench.services.planning_data import read_planning_frames

    engine = open_cache(where if "://" in where else Path(where))
    t = time.perf_counter()
    frames, _ = read_planning_frames(engine, list(PLANNING_ENTITIES), snapshot=False)
    seconds = time.perf_counter() - t
    engine.dispose()
    return sum(len(f) for f in frames.values()), seconds


def _writer(where: str, codes: list[str], count: int, start: Any, done: Any, tag: int) -> None:
    from workbench.cache import db
    from workbench.services.decisions import record_decision

    waits: list[str] = []
    db.wait_notice = waits.append  # SQLite: a writer waiting for another's lock (counted)
    engine = open_cache(where if "://" in where else Path(where))
    with engine.connect():
        pass  # connected before the start signal
    start.wait()
    for n in range(count):
        record_decision(engine, codes[n % len(codes)], "modify", action="reduce",
                        quantity=1.0 + tag * 100_000 + n, decided_by=f"buyer{tag}")
    done.put((time.perf_counter(), len(waits)))
    engine.dispose()


def decisions_once(where: str, count: int, writers: int = WRITERS) -> tuple[float, int]:
    """Decisions per second with :data:`WRITERS` processes writing at once, and how often a
    writer announced a wait for the SQLite write lock."""
    engine = open_cache(where if "://" in where else Path(where))
    req = ENTITY_TABLES["requisitions"]
    with engine.connect() as conn:
        codes = [str(c) for (c,) in conn.execute(
            select(req.c.code).where(req.c.deleted_at.is_(None)).order_by(req.c.code))]
    engine.dispose()
    ctx = mp.get_context("fork")
    start, done = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(where, codes[i::writers], count, start, done, i))
             for i in range(writers)]
    for p in procs:
        p.start()
    time.sleep(1.0)  # every writer connected
    t0 = time.perf_counter()
    start.set()
    ends = [done.get(timeout=600) for _ in procs]
    for p in procs:
        p.join()
        assert p.exitcode == 0, f"a writer failed ({p.exitcode})"
    return writers * count / (max(e for e, _ in ends) - t0), sum(w for _, w in ends)


def copy_once(team: str, local: Path, scale: str, ledger: Path) -> None:
    """The offline copy: a first pull of the team cache into a fresh SQLite cache, then the
    demo's day 7 synced into the team and an incremental pull of what it changed."""
    from planner_connectors.team import TeamConnector

    engine = open_cache(local)
    t = time.perf_counter()
    first = run_sync(engine, TeamConnector(cache=team, local=str(local)))
    first_s = time.perf_counter() - t
    assert first.ok, first.error
    print(f"offline copy from PostgreSQL: first pull {first.total('received'):,} rows in "
          f"{first_s:.2f} s = {first.total('received') / first_s:,.0f} rows/s", flush=True)
    team_engine = open_cache(team if "://" in team else Path(team))
    t = time.perf_counter()
    day7 = run_sync(team_engine, demo_connector(scale=scale, day=7, cache=ledger))
    team_s = time.perf_counter() - t
    assert day7.ok, day7.error
    team_engine.dispose()
    t = time.perf_counter()
    again = run_sync(engine, TeamConnector(cache=team, local=str(local)))
    again_s = time.perf_counter() - t
    assert again.ok, again.error
    print(f"day 7 on the team: {day7.total('changed'):,} rows changed ({team_s:.2f} s); the "
          f"copy's incremental pull: {again.total('received'):,} rows in {again_s:.2f} s",
          flush=True)
    engine.dispose()


def measure(engine: str, places: list[str], args: argparse.Namespace, work: Path
            ) -> dict[str, float]:
    """Sync, frame load and decisions/s on ``places`` (one fresh cache per run)."""
    synced = [sync_once(where, args.scale, work / f"{engine}-{i}")
              for i, where in enumerate(places)]
    rows, sync_s = synced[0][0], statistics.median(s for _, s in synced)
    print(f"{engine:10} sync  : {rows:,} rows, median {sync_s:6.2f} s = {rows / sync_s:9,.0f} "
          f"rows/s ({', '.join(f'{s:.2f}' for _, s in synced)})", flush=True)
    loaded = [frames_once(where) for where in places]
    frame_s = statistics.median(s for _, s in loaded)
    print(f"{engine:10} frames: {loaded[0][0]:,} rows, median {frame_s:6.2f} s "
          f"({', '.join(f'{s:.2f}' for _, s in loaded)})", flush=True)
    measured = [decisions_once(where, args.decisions) for where in places]
    rate = statistics.median(r for r, _ in measured)
    print(f"{engine:10} decisions with {WRITERS} writers: median {rate:7,.0f} /s "
          f"({', '.join(f'{r:,.0f}' for r, _ in measured)}; writers announced a wait for the "
          f"write lock {sum(w for _, w in measured)} times)", flush=True)
    alone, _ = decisions_once(places[0], args.decisions, writers=1)
    print(f"{engine:10} decisions with 1 writer (the same work, the reference for how 4 "
          f"scale): {alone:7,.0f} /s", flush=True)
    return {"rows": rows, "sync_s": sync_s, "frame_s": frame_s, "rate": rate}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", choices=["small", "medium", "large"], default="medium")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--decisions", type=int, default=200, help="per writer")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench_team_"))
    print(f"load average at start: {load()} ({os.cpu_count()} CPUs); demo scale {args.scale}, "
          f"{args.runs} runs, {WRITERS} writers x {args.decisions} decisions", flush=True)
    server = start_server()
    try:
        def place(engine: str, i: int) -> str:
            if engine == "sqlite":
                return str(work / f"sync-{i}.sqlite")
            name = f"bench_{i}"
            url = server.create_database(name)
            server.admin(f'ALTER DATABASE "{name}" SET synchronous_commit = on')
            return url

        results = {}
        for engine in ("sqlite", "postgresql"):
            places = [place(engine, i) for i in range(args.runs)]
            results[engine] = measure(engine, places, args, work)
            if engine == "postgresql":
                copy_once(places[0], work / "copy.sqlite", args.scale, work / "pg-ledger")
        sq, pg = results["sqlite"], results["postgresql"]
        print(f"PostgreSQL / SQLite: sync time {pg['sync_s'] / sq['sync_s']:.2f}x, frame load "
              f"{pg['frame_s'] / sq['frame_s']:.2f}x, decisions/s "
              f"{pg['rate'] / sq['rate']:.2f}x")
    finally:
        server.stop()
    print(f"load average at end: {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
