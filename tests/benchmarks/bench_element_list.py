"""How fast the screens open an element list, and read the message table.

    python tests/benchmarks/bench_element_list.py --cache LARGE.sqlite [--lists 200]

Opening an element list is what the Shortages tab and the Exceptions panel do for one row: the
cache query :func:`~workbench.app.element_views.element_context` (the lines' exception codes
from the stored messages, site names) and the planning query
:func:`~workbench.app.element_views.element_table` (the lines with names and units as column
arrays, the totals), through an :class:`~workbench.app.runner.InlineRunner` on a warm planning
session — what the reader and planner processes do, without the hand-over between processes.
Prints p50 / p95 / max over ``--lists`` random plan rows (target, issue 13 §6: < 100 ms p95),
then the time to build the Exceptions panel's message table
(:func:`~workbench.app.exception_views.exception_table`) and the Overview's counts. Run
``workbench exceptions --cache ...`` first so the cache holds the messages.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from workbench.app.element_views import element_context, element_table
from workbench.app.exception_views import exception_overview, exception_table
from workbench.app.planning import planning_day
from workbench.cache.db import open_cache
from workbench.cli import runner_for


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--lists", type=int, default=200)
    parser.add_argument("--bucket", choices=["day", "week", "month"], default="week")
    args = parser.parse_args()
    runner = runner_for(open_cache(args.cache))
    t0 = time.perf_counter()
    runner.run(planning_day)
    plan = runner.session().plan()  # the warm session the screens share
    print(f"planning session (load + plan)    {time.perf_counter() - t0:7.2f} s "
          f"({len(plan.key):,} item/site rows)")
    rng = random.Random(13)
    rows = rng.sample(range(len(plan.key)), min(args.lists, len(plan.key)))
    times, lines = [], []
    for row in rows:
        key = int(plan.key[row])
        item = str(plan.items.codes[key // plan.n_sites])
        site = str(plan.sites[key % plan.n_sites])
        start = time.perf_counter()
        context = runner.run(element_context, item, site)
        table = runner.run(element_table, item, site, args.bucket, context.codes,
                           context.site_names)
        times.append(time.perf_counter() - start)
        lines.append(len(table.lines))
    ms = sorted(t * 1000 for t in times)
    p95 = ms[max(0, round(0.95 * len(ms)) - 1)]
    print(f"element list open ({len(ms)} rows, {statistics.mean(lines):.1f} lines avg, "
          f"max {max(lines)}): p50 {statistics.median(ms):.1f} ms, p95 {p95:.1f} ms, "
          f"max {ms[-1]:.1f} ms (target < 100 ms p95: {'met' if p95 < 100 else 'NOT met'})")
    start = time.perf_counter()
    answer = runner.run(exception_table)
    print(f"message table ({answer.rows:,} messages)  {time.perf_counter() - start:7.2f} s")
    start = time.perf_counter()
    runner.run(exception_overview)
    print(f"overview counts                   {time.perf_counter() - start:7.2f} s")


if __name__ == "__main__":
    main()
