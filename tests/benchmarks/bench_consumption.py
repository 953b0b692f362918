"""What forecast consumption adds to planning, on a demo cache (run on demand, not by pytest).

    .venv/bin/python tests/benchmarks/bench_consumption.py [--cache PATH] [--repeat 7]

Reads the demands of the cache (an existing cache: sync one first, e.g. with
tests/benchmarks/bench_planning.py), then times turning the open demands into requirements with
the default windows and without consumption (the rule before it), median of ``--repeat`` runs
each; the difference is what consumption adds to the preparation of every plan (it is computed
once per load and shared by the plain and the risk-adjusted plan). Also prints how much forecast
the orders consumed. Target: well under 1 s on the large demo.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import pandas as pd

from workbench.analysis.consumption import DEFAULT_CONSUMPTION, ForecastConsumption
from workbench.analysis.data import PlanningData
from workbench.analysis.sources import demand_requirements
from workbench.cache.db import open_cache
from workbench.services.planning import load_planning_data


def median_seconds(demands: pd.DataFrame, windows: ForecastConsumption | None,
                   repeat: int) -> tuple[float, pd.DataFrame]:
    """Median time of :func:`demand_requirements`, each run on a fresh copy of the frame (the
    result is kept per frame, so the same frame twice would time a lookup)."""
    copies = [PlanningData(demands=demands.copy()) for _ in range(repeat)]
    times, result = [], pd.DataFrame()
    for data in copies:
        t = time.perf_counter()
        result = demand_requirements(data, windows)
        times.append(time.perf_counter() - t)
    return float(np.median(times)), result


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", type=Path, default=Path("/tmp/pw/large.sqlite"))
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    if not args.cache.exists():
        print(f"no cache at {args.cache}", file=sys.stderr)
        return 2
    data = load_planning_data(open_cache(args.cache), entities=["demands"], prepare=False)
    dem = data.demands[data.demands["status"] == "open"]
    kinds = dem.groupby("kind").size().to_dict()
    both = dem.groupby(["item", "site"])["kind"].agg(
        lambda k: {"forecast", "sales_order"} <= set(k)).sum()
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"({os.cpu_count()} CPUs)")
    print(f"open demands: {kinds}; item/sites with forecast and sales orders: {both:,}")
    off, plain = median_seconds(data.demands, None, args.repeat)
    on, consumed = median_seconds(data.demands, DEFAULT_CONSUMPTION, args.repeat)
    before, after = float(plain["quantity"].sum()), float(consumed["quantity"].sum())
    print(f"demand requirements without consumption: {off * 1000:.0f} ms; with consumption "
          f"({DEFAULT_CONSUMPTION.label}): {on * 1000:.0f} ms; consumption adds "
          f"{(on - off) * 1000:.0f} ms (median of {args.repeat}; target well under 1 s)")
    print(f"demand quantity {before:,.0f} -> {after:,.0f} "
          f"({before - after:,.0f} of forecast consumed by sales orders)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
