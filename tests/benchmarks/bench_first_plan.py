"""First plan after a changing sync (issue 16 §1): from the end of the sync to the complete net plan
answerable in a FRESH planner process, against the old path measured in the same run.

    .venv/bin/python tests/benchmarks/bench_first_plan.py [--cache /tmp/planner-bench/large.sqlite]
        [--scale large] [--work /tmp/first-plan-bench] [--runs 3] [--day 7] [--small 100]

The cache is copied into ``--work`` (the original is never touched; without one, the demo of
``--scale`` is synced into it first). Per run, each step in a process of its own:

1. a planning load writes the frame snapshot of the copy, plans in full and stores the plan
   beside the cache (workbench/services/plan_store.py), as the application's planner does;
2. ``sync --demo --day N``: the demo plant N days later, a sync that changes rows; the sync ends
   with the snapshot patched by the rows it wrote (workbench/services/frame_patch.py): its time
   is printed apart (``patch``) and is part of the sync;
3. a fresh planner process opens the session from the stored plan (``open_planned_session``:
   the stored plan replanned by net change along the changes the sync recorded; a sync that
   moves the planning day, as ``--day 7`` does, has a new calendar: netted from the stored
   numbering and sources, "prepared"; a change too big to record: in full) — what follows a
   sync that does not plan (the application's Sync button: the planner process plans);
   beside it the snapshot path (patched snapshot, preparation, netting) and the SQLite path;
4. the sync's own planning for the next process (``plan_after_sync``, what ``workbench sync``
   runs after its runs when a plan is stored beside the cache), then a fresh planner process
   again: it finds the plan of the synced state stored;
5. a small sync of ``--small`` changed PO lines (promise dates moved a week), then 3. and 4.;
6. the application's planner process (session open, plan stored) across another small sync
   made by a writer process: the time to bring its plan up to date
   (``refresh_after_sync``, else opened again);
7. the same across the Sync button's day move (the demo ``2 x --day`` days later): the
   writer's worker plans what the planner cannot replan by net change and stores it
   (``plan_after_sync(unless_recorded=True)``, app.sync.sync), the planner opens it again.

The fresh process and the snapshot path take turns going first (the first pays the cold page
cache). Wall and CPU time (``time.process_time``) of each step.

``--steps``: only steps 1-2, then where a fresh process's full plan goes, step by step (wall and
CPU seconds of the snapshot load, item numbering, coded BOM lines, sources, BOM segments,
low-level codes, netting).

Prints the medians of ``--runs`` runs with each run's figures; load average at start and end.
Target: first plan <= 2 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))


def _rss() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def _child(mode: str, cache: Path, args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    from workbench.analysis.calendar import Calendar
    from workbench.analysis.data import CODE_COLUMNS, PLANNING_ENTITIES, PlanningData, seed_codes
    from workbench.analysis.netting import plan
    from workbench.cache import snapshot
    from workbench.cache.db import open_cache
    from workbench.services import frame_patch, planning

    out: dict[str, Any] = {"import_s": time.perf_counter() - started,
                           "import_cpu_s": time.process_time()}  # interpreter start included
    engine = open_cache(cache)
    if mode == "snapshot":  # the frame snapshot and the stored plan of the state before
        from workbench.services import plan_store

        t = time.perf_counter()
        session = plan_store.open_planned_session(engine, store=False)
        out["plan_s"] = time.perf_counter() - t
        t = time.perf_counter()
        plan_store.store_session(engine, session)
        out["store_s"] = time.perf_counter() - t
        snapshot.wait_for_writes()
        return out
    if mode == "new":  # a fresh planner process: the stored plan, replanned when it can be
        from workbench.services import plan_store

        t, c = time.perf_counter(), time.process_time()
        session = plan_store.open_planned_session(engine, store=False)
        p = session.plan()
        out["total_s"] = out["load_s"] = time.perf_counter() - t
        out["cpu_s"] = time.process_time() - c
        out["net_s"] = 0.0
        out["how"] = session.how
        out["rows"] = len(p.key)
        out["rss_gib"] = _rss()
        snapshot.wait_for_writes()  # nothing stored: the next step measures the sync's planning
        return out
    if mode == "handover":  # ``workbench sync`` plans the state it wrote for the next process
        from workbench.services import plan_store

        t, c = time.perf_counter(), time.process_time()
        out["how"] = plan_store.plan_after_sync(engine)
        out["handover_s"], out["cpu_s"] = time.perf_counter() - t, time.process_time() - c
        snapshot.wait_for_writes()
        return out
    if mode == "app":  # the application's planner process across a sync made by the writer
        from workbench.services import plan_store

        session = plan_store.open_planned_session(engine, store=False)
        out["open_how"] = session.how
        plan_store.store_session(engine, session)  # as the planner does once idle
        snapshot.wait_for_writes()
        _read_ahead(engine, session)
        out["sync"] = _run("small", cache, args, shift=1)  # the writer process: other lines
        t, c = time.perf_counter(), time.process_time()
        refreshed = plan_store.refresh_after_sync(engine, session)
        if refreshed is None:  # opened again, as app.processes does
            refreshed = plan_store.open_planned_session(engine, store=False)
        refreshed.plan()
        out["refresh_s"], out["cpu_s"] = time.perf_counter() - t, time.process_time() - c
        out["how"] = refreshed.how
        snapshot.wait_for_writes()
        return out
    if mode == "appday":  # the app's planner process across the Sync button's day move
        from workbench.services import plan_store

        session = plan_store.open_planned_session(engine, store=False)
        out["open_how"] = session.how
        plan_store.store_session(engine, session)  # as the planner does once idle
        snapshot.wait_for_writes()
        _read_ahead(engine, session)
        out["sync"] = _run("button", cache, args)  # the writer process: the next day move
        t, c = time.perf_counter(), time.process_time()
        refreshed = plan_store.refresh_after_sync(engine, session)
        if refreshed is None:  # opened again, as app.processes does
            del session  # freed first, as app.processes does
            refreshed = plan_store.open_planned_session(engine, store=False)
        refreshed.plan()
        out["refresh_s"], out["cpu_s"] = time.perf_counter() - t, time.process_time() - c
        out["how"] = refreshed.how
        snapshot.wait_for_writes()
        return out
    if mode == "steps":  # where a fresh process's full plan goes, step by step
        return dict(out, steps=_steps(engine))
    if mode in ("sync", "small", "button"):
        from workbench.services.sync import run_sync

        patches: list[frame_patch.PatchResult] = []
        real = frame_patch.patch_after_sync

        def recorded(*a: Any) -> frame_patch.PatchResult:
            patches.append(real(*a))
            return patches[-1]

        frame_patch.patch_after_sync = recorded  # type: ignore[assignment]
        connector = _demo(args.scale, args.day) if mode == "sync" else \
            _demo(args.scale, 2 * args.day) if mode == "button" else \
            _moved_promises(engine, args.small, int(os.environ.get("BENCH_SHIFT", "0")))
        t = time.perf_counter()
        result = run_sync(engine, connector)
        out["sync_s"] = time.perf_counter() - t
        assert result.ok, result.error
        if mode == "button":  # the Sync button's worker plans what the planner cannot replan
            from workbench.services import plan_store

            t, c = time.perf_counter(), time.process_time()
            out["how"] = plan_store.plan_after_sync(engine, unless_recorded=True)
            out["plan_s"], out["plan_cpu_s"] = time.perf_counter() - t, time.process_time() - c
            snapshot.wait_for_writes()
        out["changed"] = result.total("changed") + result.total("deleted")
        patch = patches[0] if patches else None
        out["patch_s"] = patch.seconds if patch else 0.0
        out["patched"] = bool(patch and patch.patched)
        out["reason"] = patch.reason if patch else "no change"
        out["rows_read"] = patch.rows_read if patch else 0
        return out
    t = time.perf_counter()
    if mode == "first":
        data = planning.load_planning_data(engine)
    else:  # the old path: every frame from SQLite
        frames, numbering = planning.read_planning_frames(
            engine, list(PLANNING_ENTITIES), snapshot=False)
        data = PlanningData(**frames)
        for (entity, column), ids in numbering.items():
            if (entity, column) in CODE_COLUMNS:
                seed_codes(data, entity, column, ids)
        planning.prepare_planning_data(data)
    out["load_s"] = time.perf_counter() - t
    t = time.perf_counter()
    p = plan(data, Calendar.weekly(planning.planning_day(data), 26))
    out["net_s"] = time.perf_counter() - t
    out["total_s"] = out["load_s"] + out["net_s"]
    out["rows"] = len(p.key)
    out["rss_gib"] = _rss()
    return out


def _read_ahead(engine: Any, session: Any) -> None:
    """What the idle planner reads ahead of a lazily opened session (app.processes._Session.warm)."""
    from workbench.app.processes import _Session

    planner = _Session(engine)
    planner.session = session
    planner.warm()


def _steps(engine: Any) -> dict[str, list[float]]:
    """[wall, CPU] seconds of each step of a full plan in this (fresh) process."""
    from workbench.analysis.bom import CodedLines, ItemIndex, ParentRows, low_level_codes
    from workbench.analysis.calendar import Calendar
    from workbench.analysis.consumption import DEFAULT_CONSUMPTION
    from workbench.analysis.netting import _net, plan_segments, plan_sites
    from workbench.analysis.sources import collect
    from workbench.services.planning_data import load_planning_data, planning_day

    out: dict[str, list[float]] = {}
    clock = [time.perf_counter(), time.process_time()]

    def lap(name: str) -> None:
        now = [time.perf_counter(), time.process_time()]
        out[name] = [now[0] - clock[0], now[1] - clock[1]]
        clock[:] = now

    data = load_planning_data(engine, prepare=False)
    lap("snapshot load")
    items = ItemIndex.build(data)
    lap("item numbering")
    CodedLines.of(data, items)
    ParentRows.of(data, items)
    lap("coded BOM lines")
    sources = collect(data, consumption=DEFAULT_CONSUMPTION)
    lap("sources (collect)")
    sites = plan_sites(sources)
    for name in ("on_hand", "receipts", "requirements"):
        sources.keys(name, items, sites)
    lap("source keys")
    calendar = Calendar.weekly(planning_day(data), 26)
    segments = plan_segments(data, items, calendar)
    lap("BOM segments")
    levels = low_level_codes(len(items), segments.parent, segments.component, items.codes)
    lap("low-level codes")
    _net(items, sites, segments, sources, levels.code, calendar, levels.cycles)
    lap("netting")
    return out


def _demo(scale: str, day: int) -> Any:
    from workbench.services.sources import demo_connector

    return demo_connector(scale=scale, day=day)


def _moved_promises(engine: Any, n: int, shift: int = 0) -> Any:
    """A source sending ``n`` open PO lines of the demo with their promise a week later (every
    k-th line from the ``shift``-th: another shift, other lines)."""
    from tests.fixtures_connector import MemoryConnector
    from workbench.services.sources import demo_connector

    demo = demo_connector(scale=_scale_of(engine), day=_day_of(engine))
    lines = [r for b in demo.pull("purchase_order_lines", None) for r in b.records]
    lines = [r for r in lines if r.get("promised_date")]
    lines = lines[shift:: max(1, len(lines) // (2 * n))][:n]
    moved = []
    for r in lines:
        d = r["promised_date"]
        d = dt.date.fromisoformat(d) if isinstance(d, str) else d
        moved.append(dict(r, promised_date=(d + dt.timedelta(days=7)).isoformat(),
                          source_version=f"{r.get('source_version', '')}+moved{shift}"))
    return MemoryConnector({"purchase_order_lines": moved}, batch_size=1000)


def _scale_of(engine: Any) -> str:
    return os.environ.get("BENCH_SCALE", "large")


def _day_of(engine: Any) -> int:
    return int(os.environ.get("BENCH_DAY", "0"))


def _run(mode: str, cache: Path, args: argparse.Namespace, shift: int = 0) -> dict[str, Any]:
    env = dict(os.environ, BENCH_SCALE=args.scale, BENCH_DAY=str(args.day),
               BENCH_SHIFT=str(shift))
    done = subprocess.run([sys.executable, __file__, "--child", mode, "--cache", str(cache),
                           "--scale", args.scale, "--day", str(args.day),
                           "--small", str(args.small)],
                          check=True, capture_output=True, text=True, env=env)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _copy(cache: Path, work: Path) -> Path:
    work.mkdir(parents=True, exist_ok=True)
    target = work / cache.name
    for leftover in work.glob(f"{cache.name}*"):
        if leftover.is_dir():  # the stored plan
            shutil.rmtree(leftover)
        else:
            leftover.unlink()
    src, dst = sqlite3.connect(f"file:{cache}?mode=ro", uri=True), sqlite3.connect(target)
    src.backup(dst)  # a consistent copy, WAL included
    src.close()
    dst.close()
    return target


def _ensure(cache: Path, scale: str) -> None:
    if cache.exists():
        return
    from workbench.cache.db import open_cache
    from workbench.services.sources import demo_connector
    from workbench.services.sync import run_sync

    cache.parent.mkdir(parents=True, exist_ok=True)
    print(f"syncing the {scale} demo into {cache} ...", flush=True)
    assert run_sync(open_cache(cache), demo_connector(scale=scale)).ok


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", type=Path, default=Path("/tmp/planner-bench/large.sqlite"))
    ap.add_argument("--scale", default="large")
    ap.add_argument("--work", type=Path, default=Path("/tmp/first-plan-bench"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--day", type=int, default=7)
    ap.add_argument("--small", type=int, default=100)
    ap.add_argument("--steps", action="store_true",
                    help="only: where a fresh process's full plan goes after the sync, by step")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(_child(args.child, args.cache, args)))
        return 0
    _ensure(args.cache, args.scale)
    if args.steps:
        copy = _copy(args.cache, args.work)
        _run("snapshot", copy, args)
        _run("sync", copy, args)
        print(f"load average at start: {_load()}; a fresh process after the day-{args.day} sync:")
        for step, (wall, cpu) in _run("steps", copy, args)["steps"].items():
            print(f"  {step:20} wall {wall:6.2f} s  CPU {cpu:6.2f} s")
        print(f"load average at end: {_load()}")
        shutil.rmtree(args.work, ignore_errors=True)
        return 0
    print(f"load average at start: {_load()} ({os.cpu_count()} CPUs); cache {args.cache}")
    rows: list[dict[str, Any]] = []
    for n in range(args.runs):
        copy = _copy(args.cache, args.work)
        stored = _run("snapshot", copy, args)
        sync = _run("sync", copy, args)
        # NEW and the snapshot path read the same files: the first of them pays the cold page
        # cache, so they take turns going first (odd runs NEW first, even runs snapshot first)
        if n % 2 == 0:
            new = _run("new", copy, args)
            first = _run("first", copy, args)
        else:
            first = _run("first", copy, args)
            new = _run("new", copy, args)
        old = _run("sqlite", copy, args)
        handover = _run("handover", copy, args)
        stored_new = _run("new", copy, args)
        small = _run("small", copy, args)
        if n % 2 == 0:
            new_small = _run("new", copy, args)
            after_small = _run("first", copy, args)
        else:
            after_small = _run("first", copy, args)
            new_small = _run("new", copy, args)
        handover_small = _run("handover", copy, args)
        stored_small = _run("new", copy, args)
        app = _run("app", copy, args)
        appday = _run("appday", copy, args)
        rows.append({"appday": appday, "stored": stored, "sync": sync, "new": new, "first": first, "old": old,
                     "handover": handover, "stored_new": stored_new, "small": small,
                     "new_small": new_small, "after_small": after_small,
                     "handover_small": handover_small, "stored_small": stored_small,
                     "app": app})
        print(f"run {n + 1} (load {_load()}): before: full plan {stored['plan_s']:.2f} s, "
              f"stored in {stored['store_s']:.2f} s | day-{args.day} sync {sync['sync_s']:.1f} s "
              f"({sync['changed']:,} rows changed; patch {sync['patch_s']:.2f} s, "
              f"{sync['rows_read']:,} rows read, "
              f"{'patched' if sync['patched'] else 'NOT patched: ' + sync['reason']})\n"
              f"   fresh process, no planning by the sync: {new['total_s']:.2f} s "
              f"(cpu {new['cpu_s']:.2f}; {new['how']}; max RSS {new['rss_gib']:.2f} GiB) | "
              f"snapshot path {first['total_s']:.2f} s (load+prepare {first['load_s']:.2f}, "
              f"netting {first['net_s']:.2f}) | SQLite path {old['total_s']:.2f} s\n"
              f"   the sync plans for the next process: {handover['handover_s']:.2f} s "
              f"(cpu {handover['cpu_s']:.2f}; {handover['how']}) -> fresh process "
              f"{stored_new['total_s']:.2f} s (cpu {stored_new['cpu_s']:.2f}; "
              f"{stored_new['how']}; its imports before {stored_new['import_s']:.2f} s, cpu "
              f"{stored_new['import_cpu_s']:.2f})\n"
              f"   {args.small}-line sync {small['sync_s']:.2f} s (patch {small['patch_s']:.2f} s, "
              f"{'patched' if small['patched'] else 'NOT patched: ' + small['reason']}) -> fresh "
              f"process {new_small['total_s']:.2f} s (cpu {new_small['cpu_s']:.2f}; "
              f"{new_small['how']}) | snapshot path {after_small['total_s']:.2f} s | the sync "
              f"plans {handover_small['handover_s']:.2f} s ({handover_small['how']}) -> fresh "
              f"{stored_small['total_s']:.2f} s ({stored_small['how']})\n"
              f"   app planner process ({app['open_how']}) across a {args.small}-line sync of the "
              f"writer: up to date in {app['refresh_s']:.2f} s (cpu {app['cpu_s']:.2f}; "
              f"{app['how']})\n"
              f"   app planner process ({appday['open_how']}) across the Sync button's day move "
              f"(day {2 * args.day}; the sync {appday['sync']['sync_s']:.1f} s, its worker "
              f"plans {appday['sync']['plan_s']:.2f} s, cpu {appday['sync']['plan_cpu_s']:.2f}; "
              f"{appday['sync']['how']}): up to date in {appday['refresh_s']:.2f} s "
              f"(cpu {appday['cpu_s']:.2f}; {appday['how']})", flush=True)

    def med(step: str, key: str, sub: str | None = None) -> float:
        if sub is not None:
            return statistics.median(float(r[step][key][sub]) for r in rows)
        return statistics.median(float(r[step][key]) for r in rows)

    print(f"median of {len(rows)} runs ({rows[0]['first']['rows']:,} item-site rows):")
    print(f"  day-{args.day} sync, then a fresh planner process (target <= 2 s):")
    print(f"     the sync plans the new state (workbench sync): fresh process "
          f"{med('stored_new', 'total_s'):.2f} s (cpu {med('stored_new', 'cpu_s'):.2f}; "
          f"{', '.join(sorted({r['stored_new']['how'] for r in rows}))}); the sync's planning "
          f"{med('handover', 'handover_s'):.2f} s (cpu {med('handover', 'cpu_s'):.2f})")
    print(f"     the sync does not plan (the Sync button): fresh process "
          f"{med('new', 'total_s'):.2f} s (cpu {med('new', 'cpu_s'):.2f}; "
          f"{', '.join(sorted({r['new']['how'] for r in rows}))})")
    print(f"     the snapshot path (patched snapshot + prepare + netting): "
          f"{med('first', 'total_s'):.2f} s (load+prepare {med('first', 'load_s'):.2f}, netting "
          f"{med('first', 'net_s'):.2f}; the sync's patch {med('sync', 'patch_s'):.2f} s) | the "
          f"SQLite path {med('old', 'total_s'):.2f} s")
    print(f"  {args.small}-line sync, then a fresh planner process (target <= 2 s): the sync plans "
          f"-> {med('stored_small', 'total_s'):.2f} s "
          f"({', '.join(sorted({r['stored_small']['how'] for r in rows}))}; the sync's planning "
          f"{med('handover_small', 'handover_s'):.2f} s) | the sync does not plan -> "
          f"{med('new_small', 'total_s'):.2f} s (cpu {med('new_small', 'cpu_s'):.2f}; "
          f"{', '.join(sorted({r['new_small']['how'] for r in rows}))}) | snapshot path "
          f"{med('after_small', 'total_s'):.2f} s (the sync {med('small', 'sync_s'):.2f} s incl. "
          f"its patch {med('small', 'patch_s'):.2f} s)")
    print(f"  the app's planner process across a {args.small}-line sync of the writer: "
          f"{med('app', 'refresh_s'):.2f} s (cpu {med('app', 'cpu_s'):.2f}; "
          f"{', '.join(sorted({r['app']['how'] for r in rows}))})")
    print(f"  the app's planner process across the Sync button's day move (its worker plans "
          f"{med('appday', 'sync', 'plan_s'):.2f} s): {med('appday', 'refresh_s'):.2f} s "
          f"(cpu {med('appday', 'cpu_s'):.2f}; "
          f"{', '.join(sorted({r['appday']['how'] for r in rows}))})")
    print(f"load average at end: {_load()}")
    shutil.rmtree(args.work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
