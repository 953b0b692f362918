"""Old and new exception code on one plan in one process, alternating: CPU medians.

    python tests/benchmarks/ab_exceptions.py --cache /tmp/pw/large.sqlite --old 16983b7 --runs 5

The old code is ``workbench/analysis/exceptions`` of ``--old`` (``git archive``), imported under
another name beside the checkout's; both compute every message with endangered demands of the
same plan, in turns (old first on even runs), CPU time of this process
(``time.process_time``). The new code's first call after the load (the per-load rules judged,
:mod:`workbench.analysis.exceptions.perload`) is printed on its own. The machine may be
shared: the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import io
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from workbench.analysis import exceptions as new
from workbench.analysis.netting import plan
from workbench.cache.db import open_cache
from workbench.services.planning import open_session


def old_package(rev: str, folder: Path) -> object:
    """``workbench/analysis/exceptions`` of ``rev`` as the module ``old_exceptions``."""
    tar = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "workbench/analysis/exceptions"],
                         check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        archive.extractall(folder, filter="data")
    (folder / "workbench/analysis/exceptions").rename(folder / "old_exceptions")
    sys.path.insert(0, str(folder))
    return importlib.import_module("old_exceptions")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cache", type=Path, default=Path("/tmp/pw/large.sqlite"))
    parser.add_argument("--old", default="HEAD")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        old = old_package(args.old, Path(folder))
        session = open_session(open_cache(args.cache))
        data, cal = session.data, session.calendar
        p = plan(data, cal, consumption=session.consumption)
        load = os.getloadavg()
        c = time.process_time()
        new.compute_exceptions(data, p)
        first = time.process_time() - c
        spent: dict[str, list[float]] = {"old": [], "new": [], "plan": []}
        for i in range(args.runs):
            c = time.process_time()
            plan(data, cal, consumption=session.consumption)
            spent["plan"].append(time.process_time() - c)
            pair = [("old", old), ("new", new)]
            for name, module in pair if i % 2 == 0 else pair[::-1]:
                c = time.process_time()
                result = module.compute_exceptions(data, p)  # type: ignore[attr-defined]
                spent[name].append(time.process_time() - c)
                del result
                gc.collect()
        m = {k: statistics.median(v) for k, v in spent.items()}
        print(f"load {load[0]:.1f} {load[1]:.1f} -> {os.getloadavg()[0]:.1f}; CPU medians of "
              f"{args.runs}: plan {m['plan']:.2f} s, old ({args.old}) {m['old']:.2f} s, new "
              f"{m['new']:.2f} s (first call after the load {first:.2f} s), new/old "
              f"{m['new'] / m['old']:.2f}")


if __name__ == "__main__":
    main()
