"""Incremental replan benchmark (issue 16 §2), on the large demo cache (run on demand, not
collected by pytest).

    .venv/bin/python tests/benchmarks/bench_replan.py [--cache /tmp/planner-bench/large.sqlite]
        [--work /tmp/planner-bench-replan] [--changes 20] [--seed 7] [--full-runs 3]

The cache is copied into ``--work`` first (the first load writes the frame snapshot beside the
copy; later runs reuse both); build a large cache with ``bench_planning.py --scale large`` when
there is none. The run loads the planning data, makes the full plan (median of ``--full-runs``),
then replans by net change (:func:`workbench.analysis.incremental.replan`, in place, one change
after the other as a planner session does) ``--changes`` random changes of each kind:

* **decision**: one PO line's quantity or date changed (what an approved decision overlays);
* **what-if**: a draft BOM revision released from a random day of the horizon;
* **sync 100**: 100 changed rows — 40 demands, 30 PO lines, 20 stock rows, 10 BOM lines.

It prints per kind the median, p90 and max of the replan time, the rows re-netted, the ratio to
the 200 ms target and to the full plan in the same run, the median CPU time of the process, the
median CPU time of each step of the replan (:attr:`Replan.steps`: where the time goes), and
the first replan of the session apart (it sorts each row's inputs and numbers the frames' rows
once). At the end the chained plan is
compared with a full plan of the final data on every row and array.

Then the **what-if view** (``--what-ifs``, the Where-used panel's what-if and ``workbench what-if``:
a draft revision released, the base plan kept): the session's what-if from the net change
(:func:`workbench.analysis.incremental_whatif.scenario`, only the item's BOM rows copied, as
:meth:`PlanningSession.what_if` does) beside the requirement-delta replan
(:func:`workbench.analysis.scenario.replan`) in the same run, and whether both list the same rows
with the same numbers. Data preparation (copying
frames) is not timed: a session receives the changed frames from the overlay or the sync, with
the numbering of their code columns (the overlay keeps it, :func:`keep_codes`; a load from the
snapshot patched by a sync brings it), which the changed frames here keep the same way.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from workbench.analysis.calendar import Calendar
from workbench.analysis.data import PlanningData
from workbench.analysis.incremental import Change, keep_codes, replan_detail
from workbench.analysis.netting import Plan, plan, with_revision_released
from workbench.cache.db import open_cache
from workbench.services.planning import load_planning_data, planning_day

TARGET_S = 0.200


def load() -> str:
    return "load average " + " ".join(f"{v:.2f}" for v in os.getloadavg())


def work_copy(cache: Path, work: Path) -> Path:
    """``cache`` copied into ``work`` (with its frame snapshot when there is one), unless an
    up-to-date copy is there already."""
    work.mkdir(parents=True, exist_ok=True)
    target = work / cache.name
    if not target.exists() or target.stat().st_mtime < cache.stat().st_mtime:
        shutil.copy2(cache, target)
        frames = cache.with_name(cache.name + ".frames")
        if frames.exists():
            shutil.copy2(frames, target.with_name(target.name + ".frames"))
    return target


def _edit(frame: pd.DataFrame, rows: np.ndarray, column: str, values: Any) -> pd.DataFrame:
    out = frame.copy()
    out.iloc[rows, out.columns.get_loc(column)] = values
    return out


def decision(d: PlanningData, rng: np.random.Generator) -> tuple[PlanningData, Change]:
    pol = d.purchase_order_lines
    r = np.array([int(rng.integers(len(pol)))])
    if rng.random() < 0.5:
        qty = pol["quantity_ordered"].to_numpy(float)[r] * rng.choice([0.5, 2.0]) + 1
        out = _edit(pol, r, "quantity_ordered", qty)
    else:
        days = pd.Timedelta(days=int(rng.integers(-21, 22)))
        out = _edit(_edit(pol, r, "promised_date", pol["promised_date"].iloc[r] + days),
                    r, "requested_date", pol["requested_date"].iloc[r] + days)
    after = d.replace(purchase_order_lines=out)
    keep_codes(d, after, "purchase_order_lines", "item")  # as the overlay does
    return after, Change.of(items=pol["item"].iloc[r])


def what_if(d: PlanningData, rng: np.random.Generator,
            cal: Calendar) -> tuple[PlanningData, Change]:
    revs = d.bom_revisions
    drafts = revs[revs["status"] == "draft"]
    r = int(rng.integers(len(drafts)))
    parent, rev = str(drafts["parent"].iat[r]), str(drafts["revision"].iat[r])
    day = cal.date(int(rng.integers(cal.n_buckets)))
    after = with_revision_released(d, parent, rev, day)
    keep_codes(d, after, "bom_revisions", "parent")  # same rows, same parents: as a what-if does
    return after, Change.of(bom_parents=[parent])


def sync_100(d: PlanningData, rng: np.random.Generator) -> tuple[PlanningData, Change]:
    items: set[str] = set()
    parents: set[str] = set()

    def pick(frame: pd.DataFrame, n: int) -> np.ndarray:
        return np.sort(rng.choice(len(frame), size=min(n, len(frame)), replace=False))

    dem = d.demands
    r = pick(dem, 40)
    dem = _edit(dem, r, "quantity", dem["quantity"].to_numpy(float)[r] * 1.5)
    items.update(dem["item"].iloc[r].astype(str))
    pol = d.purchase_order_lines
    r = pick(pol, 30)
    days = pd.to_timedelta(rng.integers(-14, 15, len(r)), unit="D")
    pol = _edit(_edit(pol, r, "promised_date", pol["promised_date"].iloc[r].to_numpy() + days),
                r, "requested_date", pol["requested_date"].iloc[r].to_numpy() + days)
    items.update(pol["item"].iloc[r].astype(str))
    inv = d.inventory
    r = pick(inv, 20)
    inv = _edit(inv, r, "quantity", inv["quantity"].to_numpy(float)[r] + 10)
    items.update(inv["item"].iloc[r].astype(str))
    lines = d.bom_lines
    r = pick(lines, 10)
    lines = _edit(lines, r, "quantity_per", lines["quantity_per"].to_numpy(float)[r] * 2)
    parents.update(lines["parent"].iloc[r].astype(str))
    after = d.replace(demands=dem, purchase_order_lines=pol, inventory=inv, bom_lines=lines)
    for entity, column in (("demands", "item"), ("purchase_order_lines", "item"),
                           ("inventory", "item"), ("bom_lines", "parent"),
                           ("bom_lines", "component")):
        keep_codes(d, after, entity, column)  # as a load from the patched snapshot has them
    return after, Change.of(items=items, bom_parents=parents)


def compare(got: Plan, want: Plan) -> str:
    same_rows = np.array_equal(got.key, want.key) and np.array_equal(got.level, want.level)
    if not same_rows:
        return f"ROWS DIFFER ({len(got.key)} vs {len(want.key)})"
    worst = max(float(np.max(np.abs(getattr(got, n) - getattr(want, n)), initial=0.0))
                for n in ("on_hand", "gross", "scheduled", "net", "planned"))
    mask = got.planned_at is not None and want.planned_at is not None and \
        np.array_equal(got.planned_at, want.planned_at)
    return f"same {len(got.key)} rows and levels, planned-at mask {'equal' if mask else 'DIFFERS'}" \
           f", largest difference of any quantity {worst:.2e}"


def what_if_view(base: Plan, data: PlanningData, cal: Calendar, rng: np.random.Generator,
                 n: int) -> None:
    """The what-if of a draft revision release as the session answers it (module doc)."""
    from workbench.analysis.incremental_whatif import scenario_detail
    from workbench.analysis.scenario import replan as replan_by_delta
    from workbench.analysis.session import PlanningSession

    session = PlanningSession(data, cal)
    session._plans[False], session._items = base, base.items
    revs = data.bom_revisions
    drafts = revs[revs["status"] == "draft"]
    took: dict[str, list[float]] = {"net change": [], "delta": []}
    cpu: dict[str, list[float]] = {"net change": [], "delta": []}
    rows, same, paths = [], 0, []
    for k in range(n + 1):
        r = int(rng.integers(len(drafts)))
        parent, rev = str(drafts["parent"].iat[r]), str(drafts["revision"].iat[r])
        changed = with_revision_released(session.bom_of(parent), parent, rev,
                                         cal.date(int(rng.integers(cal.n_buckets))))
        t, c = time.perf_counter(), time.process_time()
        got, how = scenario_detail(base, changed, [parent])
        t1, c1 = time.perf_counter(), time.process_time()
        ref = replan_by_delta(base, changed, [parent])
        t2, c2 = time.perf_counter(), time.process_time()
        if k == 0:
            continue  # the first numbers the BOM rows of the session once
        took["net change"].append(t1 - t)
        cpu["net change"].append(c1 - c)
        took["delta"].append(t2 - t1)
        cpu["delta"].append(c2 - c1)
        rows.append(len(got.key))
        paths.append(how)
        same += bool(np.array_equal(got.key, ref.key) and all(
            np.allclose(getattr(got, m), getattr(ref, m), atol=1e-6)
            for m in ("gross", "net", "planned", "gross_base", "net_base", "planned_base")))
    print(f"what-if view, {n} draft releases on the base plan (rows changed: median "
          f"{int(np.median(rows))}, max {max(rows)}; paths {sorted(set(paths))}):")
    for name in took:
        a = np.array(took[name])
        print(f"  {name:<11} median {np.median(a) * 1000:6.0f} ms  p90 "
              f"{np.percentile(a, 90) * 1000:6.0f} ms  CPU median {np.median(cpu[name]) * 1000:5.0f}"
              f" ms  CPU / 200 ms {np.median(cpu[name]) / TARGET_S:.2f}")
    print(f"  same rows and numbers from both: {same} of {n}; {load()}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", type=Path, default=Path("/tmp/planner-bench/large.sqlite"))
    ap.add_argument("--work", type=Path, default=Path("/tmp/planner-bench-replan"))
    ap.add_argument("--changes", type=int, default=20)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--full-runs", type=int, default=3)
    ap.add_argument("--what-ifs", type=int, default=20)
    args = ap.parse_args()
    if not args.cache.exists():
        sys.exit(f"no cache at {args.cache}: build it with tests/benchmarks/bench_planning.py "
                 "--scale large (it syncs the large demo)")
    print(f"start: {load()}", flush=True)
    path = work_copy(args.cache, args.work)
    engine = open_cache(path)
    t = time.perf_counter()
    data = load_planning_data(engine)
    print(f"planning data loaded in {time.perf_counter() - t:.1f} s", flush=True)
    cal = Calendar.parse(planning_day(data), "26w", "week")
    full_times, full_cpu_times = [], []
    for _ in range(args.full_runs):
        t, c = time.perf_counter(), time.process_time()
        current = plan(data, cal)
        full_times.append(time.perf_counter() - t)
        full_cpu_times.append(time.process_time() - c)
    full, full_cpu = float(np.median(full_times)), float(np.median(full_cpu_times))
    print(f"full plan: median {full:.2f} s of {args.full_runs} ({len(current.key)} rows), "
          f"CPU time {full_cpu:.2f} s", flush=True)
    rng = np.random.default_rng(args.seed)
    kinds = {"decision": lambda d: decision(d, rng), "what-if": lambda d: what_if(d, rng, cal),
             "sync 100": lambda d: sync_100(d, rng)}
    times: dict[str, list[float]] = {k: [] for k in kinds}
    cpu: dict[str, list[float]] = {k: [] for k in kinds}
    rows: dict[str, list[int]] = {k: [] for k in kinds}
    fallbacks: dict[str, list[str]] = {k: [] for k in kinds}
    steps: dict[str, list[dict[str, float]]] = {k: [] for k in kinds}
    first = None
    for n in range(args.changes * len(kinds)):
        kind = list(kinds)[n % len(kinds)]
        after, change = kinds[kind](data)
        t, c = time.perf_counter(), time.process_time()
        done = replan_detail(current, after, change, in_place=True)
        took, took_cpu = time.perf_counter() - t, time.process_time() - c
        current, data = done.plan, after
        if first is None:
            first = (kind, took)
            continue
        times[kind].append(took)
        cpu[kind].append(took_cpu)
        rows[kind].append(done.rows)
        steps[kind].append(done.steps)
        if done.how != "incremental":
            fallbacks[kind].append(done.how)
    assert first is not None
    print(f"first replan of the session ({first[0]}, builds the input indexes): "
          f"{first[1] * 1000:.0f} ms")
    print(f"{'change':<10} {'n':>3} {'median ms':>10} {'p90 ms':>8} {'max ms':>8} "
          f"{'rows':>6} {'/ 200 ms':>9} {'/ full':>8} {'CPU ms':>8} {'CPU/200':>8}"
          "  full-plan fallbacks")
    for kind in kinds:
        a = np.array(times[kind])
        med, med_cpu = float(np.median(a)), float(np.median(cpu[kind]))
        print(f"{kind:<10} {len(a):>3} {med * 1000:>10.0f} {np.percentile(a, 90) * 1000:>8.0f} "
              f"{a.max() * 1000:>8.0f} {int(np.median(rows[kind])):>6} "
              f"{med / TARGET_S:>9.2f} {med / full:>8.3f} {med_cpu * 1000:>8.0f} "
              f"{med_cpu / TARGET_S:>8.2f}  "
              f"{len(fallbacks[kind])} {sorted(set(fallbacks[kind]))}")
    print("(CPU ms: the replan's own CPU time, median; on a shared machine the wall time also "
          "holds the time other processes had the cores)")
    print("where the CPU time goes, median ms per step:")
    for kind in kinds:
        names = list(dict.fromkeys(n for s in steps[kind] for n in s))
        print(f"  {kind:<10} " + "  ".join(
            f"{n} {np.median([s.get(n, 0.0) for s in steps[kind]]) * 1000:.0f}" for n in names))
    print(f"after the changes: {load()}", flush=True)
    if args.what_ifs:
        what_if_view(current, data, cal, rng, args.what_ifs)
    t = time.perf_counter()
    reference = plan(data, cal)
    print(f"full plan of the final data ({time.perf_counter() - t:.1f} s) vs the chain of "
          f"replans: {compare(current, reference)}")
    engine.dispose()


if __name__ == "__main__":
    main()
