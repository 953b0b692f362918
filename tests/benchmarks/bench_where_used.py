"""Where-used and revision impact on the large demo (issue 16 §6), run on demand (not collected).

    .venv/bin/python tests/benchmarks/bench_where_used.py [--cache PATH] [--queries 1000]
        [--impacts 100] [--profile]

Loads the planning data of the cache (the frame snapshot when current), plans it once, then:

* multi-level where-used of random components in memory — the full answer (ancestors, levels,
  extended quantity per top, top-level flags, direct lines, first 100 paths; column arrays, the
  frames made only when a caller asks), the same answer as plain records (``to_dict``: what the
  CLI prints and the panel's tables take) and the same output as the CTE (ancestors and
  levels, :func:`~workbench.analysis.where_used.ancestor_levels`) — beside the recursive SQL CTE
  of the same ancestors on the cache (its rows fetched as tuples), asked in turn in the same
  run: p50/p95 of each, the CPU time per query, and the p95 ratios (target: the full answer in
  memory no slower than the CTE at p95);
* the revision impact of random revised items (from their first to their second revision, on
  the later of the planning day and the second's start), the base plan shared: p50/p95 (target
  p95 <= 100 ms), with the CPU time of each; then the same impacts with their two scenarios from
  the requirement-delta replan (``scenario.replan``) beside them, and whether the answers are the
  same (``--no-delta`` skips it). ``--profile`` prints where the impacts spend their time.

Without a cache at PATH the large demo is synced into it first (minutes).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.benchmarks.bench_planning import CTE, ensure_cache, ms
from workbench.analysis.calendar import Calendar
from workbench.analysis.session import PlanningSession
from workbench.analysis.where_used import ancestor_levels
from workbench.cache.db import open_cache
from workbench.services.planning import load_planning_data, planning_day


def p95(values: list[float]) -> float:
    return float(np.percentile(np.array(values) * 1000, 95))


def where_used_vs_cte(session: PlanningSession, cache: Path, rng: np.random.Generator,
                      n: int) -> None:
    """Four questions per component, asked in turn: the full where-used answer in memory, the
    same as records, ancestors and levels in memory (what the CTE answers), and the CTE; wall
    and CPU time."""
    graph = session.graph()
    used = np.unique(graph.component)
    sample = [str(graph.items.codes[i]) for i in rng.choice(used, min(n, len(used)),
                                                              replace=False)]
    full, records, levels, sql = Timer(), Timer(), Timer(), Timer()
    same = 0
    con = sqlite3.connect(f"file:{cache}?mode=ro", uri=True)
    for code in sample:
        with full:
            wu = session.where_used(code, as_of=None, max_paths=100)
        with records:
            session.where_used(code, as_of=None, max_paths=100).to_dict()
        with levels:
            codes, _ = ancestor_levels(graph, code)
        with sql:
            rows = con.execute(CTE, (code,)).fetchall()
        same += len(rows) == len(wu.ancestors) == len(codes)
    print(f"where-used multi-level, {len(sample)} random components (wall, then CPU per query):")
    print(f"  in memory, full answer:         {ms(full.wall)}  CPU mean {full.cpu_ms():.2f} ms"
          "  (ancestors, levels, extended quantities, top-level flags, 100 paths)")
    print(f"  the same as records (to_dict):  {ms(records.wall)}  CPU mean {records.cpu_ms():.2f} ms")
    print(f"  in memory, ancestors + levels:  {ms(levels.wall)}  CPU mean {levels.cpu_ms():.2f} ms")
    print(f"  recursive SQL CTE:              {ms(sql.wall)}  CPU mean {sql.cpu_ms():.2f} ms"
          "  (ancestors and levels only)")
    print(f"  CPU per query: full {ms(full.cpus)} | same output {ms(levels.cpus)} | "
          f"CTE {ms(sql.cpus)}")
    for label, timer in (("full answer", full), ("full answer as records", records),
                         ("same output (ancestors + levels)", levels)):
        ratio = p95(timer.wall) / p95(sql.wall)
        print(f"  p95 in memory / CTE, {label} = {ratio:.2f} (target <= 1.00: "
              f"{'met' if ratio <= 1 else 'NOT met'}); by CPU p95 "
              f"{p95(timer.cpus) / p95(sql.cpus):.2f}, by mean CPU "
              f"{timer.cpu_ms() / sql.cpu_ms():.2f}")
    print(f"  same ancestor count in all three: {same}/{len(sample)}")


class Timer:
    """Wall time of each use (seconds) and the CPU time of all uses, as a context manager."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpus: list[float] = []

    def __enter__(self) -> Timer:
        self._t, self._c = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall.append(time.perf_counter() - self._t)
        self.cpus.append(time.process_time() - self._c)

    def cpu_ms(self) -> float:
        return 1000 * sum(self.cpus) / max(len(self.cpus), 1)


def revised_picks(session: PlanningSession, rng: np.random.Generator, n: int
                  ) -> list[tuple[str, str, str, object]]:
    revs = session.data.bom_revisions
    counts = revs.groupby("parent")["revision"].transform("count")
    revised = revs[counts >= 2].sort_values(["parent", "revision"])
    parents = revised["parent"].unique()
    today = session.today
    picks = []
    for parent in rng.choice(parents, min(n, len(parents)), replace=False):
        mine = revised[revised["parent"] == parent]
        frm = mine["effective_from"].iloc[1]
        on = today if pd.isna(frm) else max(frm.date(), today)
        picks.append((str(parent), str(mine["revision"].iloc[0]), str(mine["revision"].iloc[1]),
                      on))
    return picks


def impacts(session: PlanningSession, picks: list[tuple[str, str, str, object]],
            profile: bool) -> None:
    times, slowest, cpu = [], [], []
    prof = cProfile.Profile() if profile else None
    for parent, a, b, on in picks:
        if prof:
            prof.enable()
        t, c = time.perf_counter(), time.process_time()
        result = session.impact(parent, a, b, on)  # type: ignore[arg-type]
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
        if prof:
            prof.disable()
        slowest.append((times[-1], parent, len(result["assemblies_above"]),
                        len(result["affected_rows"])))
    print(f"revision impact, {len(times)} random revised items (base plan shared): {ms(times)}"
          f"  (target p95 <= 100 ms: {'met' if p95(times) <= 100 else 'NOT met'}; first call "
          f"{times[0] * 1000:.1f} ms)")
    print(f"  CPU per impact: {ms(cpu)}")
    print("  slowest: " + ", ".join(f"{code} {s * 1000:.0f} ms ({up} assemblies above, "
                                    f"{rows} rows re-netted)"
                                    for s, code, up, rows in sorted(slowest, reverse=True)[:3]))
    if prof:
        pstats.Stats(prof).sort_stats("cumulative").print_stats(30)


def delta_impacts(session: PlanningSession, picks: list[tuple[str, str, str, object]]) -> None:
    """The same impacts with their two scenarios from the requirement-delta replan
    (:func:`workbench.analysis.scenario.replan`, what the impact used before the net change
    replan took over its scenarios), in the same run: time, and whether every answer is the
    same as the impact's own (numbers to 1e-9)."""
    from workbench.analysis import revisions as module
    from workbench.analysis import scenario

    revisions: Any = module  # its scenarios' replan is swapped for this run, then restored
    own = revisions.replan
    answers = [session.impact(*p) for p in picks]  # type: ignore[arg-type]
    revisions.replan = scenario.replan
    try:
        times, cpu, same = [], [], 0
        for pick, answer in zip(picks, answers, strict=True):
            t, c = time.perf_counter(), time.process_time()
            delta = session.impact(*pick)  # type: ignore[arg-type]
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
            same += _same(answer, delta)
    finally:
        revisions.replan = own
    print(f"  the same impacts through the delta replan: {ms(times)}  (target p95 <= 100 ms: "
          f"{'met' if p95(times) <= 100 else 'NOT met'}); same answers {same}/{len(picks)}")
    print(f"  CPU per impact through the delta replan: {ms(cpu)}")


def _same(a: object, b: object) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return bool(np.allclose(np.asarray(a, float), np.asarray(b, float), rtol=1e-9,
                                atol=1e-9, equal_nan=True))
    if isinstance(a, float) and isinstance(b, float):
        return (np.isnan(a) and np.isnan(b)) or abs(a - b) <= 1e-9 * max(1.0, abs(a))
    return bool(a == b)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", type=Path, default=Path("/tmp/planner-bench/large.sqlite"))
    ap.add_argument("--scale", default="large")
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--impacts", type=int, default=100)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--no-delta", dest="delta", action="store_false",
                    help="skip the same impacts through the delta replan")
    args = ap.parse_args()
    ensure_cache(args.cache, args.scale)
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"({os.cpu_count()} CPUs)")
    t = time.perf_counter()
    data = load_planning_data(open_cache(args.cache))
    session = PlanningSession(data, Calendar.weekly(planning_day(data), 26))
    session.plan()
    session.graph()
    print(f"load, prepare, plan and where-used graph: {time.perf_counter() - t:.1f} s "
          f"({len(data.items):,} items, {len(data.bom_lines):,} BOM lines)")
    rng = np.random.default_rng(args.seed)
    where_used_vs_cte(session, args.cache, rng, args.queries)
    picks = revised_picks(session, rng, args.impacts)
    impacts(session, picks, args.profile)
    if args.delta:
        delta_impacts(session, picks)
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
