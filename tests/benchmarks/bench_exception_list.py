"""How fast the Exceptions list appears: its first page and the whole table.

    python tests/benchmarks/bench_exception_list.py --cache COPY_OF_LARGE.sqlite [--runs 20]

The cache must hold stored messages (the large demo after ``workbench exceptions --json`` or the
Exceptions panel's refresh; use a copy: opening it applies the migrations). Prints p50/p95 over
``--runs`` of: the first page (``exception_table(limit=FIRST_PAGE)``, what the panel shows
first; target < 1 s), the first page filtered by a supplier (filters in SQL), the whole table
from the list's columns, and, once, the list as built before migration 0013 (every message's
JSON parsed: ``list_exceptions``), the reference.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from workbench.app.exception_views import FIRST_PAGE, exception_table
from workbench.cache.db import open_cache
from workbench.services.exceptions import list_exceptions


def _times(fn: Callable[[], Any], runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.95 + 0.5) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--no-reference", action="store_true",
                        help="skip the list built from every message's JSON (slow)")
    args = parser.parse_args()
    t = time.perf_counter()
    engine = open_cache(args.cache)
    print(f"open (migrations)                  {time.perf_counter() - t:7.2f} s")
    first = exception_table(engine, limit=FIRST_PAGE)
    supplier = next((s for s in first.table.arrays["supplier_label"] if s), "")
    print(f"messages listed: {first.total:,}; first page {first.rows} rows")
    for label, fn, runs in (
            ("first page", lambda: exception_table(engine, limit=FIRST_PAGE), args.runs),
            ("first page, one supplier", lambda: exception_table(
                engine, limit=FIRST_PAGE, filters={"supplier_label": str(supplier)}), args.runs),
            ("whole table", lambda: exception_table(engine), max(3, args.runs // 5))):
        p50, p95 = _times(fn, runs)
        print(f"{label:<34} p50 {p50 * 1000:8.1f} ms  p95 {p95 * 1000:8.1f} ms ({runs} runs)")
    if not args.no_reference:
        t = time.perf_counter()
        n = len(list_exceptions(engine))
        print(f"reference: every message's JSON    {time.perf_counter() - t:7.2f} s ({n:,})")


if __name__ == "__main__":
    main()
