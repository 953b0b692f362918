"""Cold start of the desktop app on the large demo cache, for this tree and a reference tree in the
same run (issue 12: start-up not worse than before the restructure), beside the time to import
PySide6 alone.

    .venv/bin/python tests/benchmarks/bench_startup.py [--cache PATH] [--runs 3] [--reference 08bdf90]
    .venv/bin/python tests/benchmarks/bench_startup.py --reference none     # this tree only

The reference is a commit (or a folder holding a tree); a commit is unpacked with ``git archive``
into ``<cache folder>/tree-<commit>`` once. Each tree runs from its own folder with its own
connector entry points (a small ``.dist-info`` written from that tree's pyproject.toml and put
first on PYTHONPATH, so the installed package's entry points do not mix the trees). Without a cache
at PATH the large demo is synced into it first by the reference tree (the oldest schema, minutes);
this tree starts on a copy of it (``<cache>.current.sqlite``, migrated forward on its first
start). Each tree has one warm-up start (snapshot written, not counted), then the runs alternate
between the trees so a busy machine slows both alike.

Each run is a fresh process (a cold interpreter; the OS file cache stays warm, as on a planner's
second start of the day). Printed per run, all measured from just before the process is launched:

* ``import PySide6``: a process that only imports PySide6.QtWidgets and creates a QApplication;
* ``window shown``: the main window is on screen and its event loop turns;
* ``usable``: the Overview shows the cache's counts and freshness (its freshness card has a
  value), and a click on a navigation entry is handled (the planning answers keep arriving in the
  background after this);
* ``items listed``: the Items panel lists all 200,000 items (opened by its navigation entry right
  after ``usable``); also printed as the time after ``usable`` beside issue 16's target (1 s).

Since issue 16 §4 the whole item list is kept beside the cache (``<cache>.itemlist``) once read,
under the cache's entity stamp: the warm-up start writes it and the counted runs answer the list
from it, as a planner's second start of an unchanged cache does. ``--fresh-list`` removes it
before every start, to measure the list read from the cache (a start that finds no list kept).
``--after-sync`` writes to the items before every start (one description changed through
``sqlite3``: a new entity stamp, the kept list no longer valid) and then keeps the list the way
a sync does after its last write (:func:`workbench.cache.itemlist.keep_item_list`, in a process
of its own, as the syncing process): the first start after a sync; what keeping the list adds
to the sync is printed (wall and CPU seconds). The write also leaves the frame snapshot stale, so
the planner process reloads its frames during that start (a sync patches it): a start busier
than after a real sync.

The marks are found by polling the widgets every 10 ms (no private method is hooked), so the same
script measures trees whose panels are built differently. Target (issue 5): usable ≤ 3 s; issue 12:
this tree's medians over the reference's (ratio) ≤ 1 within the noise.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
REFERENCE = "08bdf90"  # main before issue 12's restructure
ITEMS = 200_000

IMPORT_ONLY = """
import sys, time, json
from PySide6.QtWidgets import QApplication
app = QApplication([])
print(json.dumps({"import_pyside6": time.time() - float(sys.argv[1])}))
"""

START_APP = """
import sys, time, json
launched = float(sys.argv[1])
marks = {}
from workbench.ui.app import build_context, make_application
app = make_application(offscreen=True)
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QAbstractItemView, QWidget
from workbench.ui.mainwindow import MainWindow
ctx = build_context(sys.argv[2], sys.argv[3], sys.argv[4])
window = MainWindow(ctx)
from workbench.ui.panels import NAMES  # the navigation's rows, in order
overview = window.panels["overview"]
fresh = [w for w in overview.findChildren(QWidget) if w.accessibleName() == "fresh"][0]
def counts_shown():
    return fresh.value.text() not in ("", "\\u2026")
def all_listed():
    items = window.panels.get("items")  # built when first opened
    return items is not None and any(v.model() is not None and v.model().rowCount() >= ITEMS
               for v in items.findChildren(QAbstractItemView))
def poll():
    if "shown" not in marks and counts_shown():
        marks["shown"] = True
        # usable: counts on screen, and a queued click-equivalent is handled by the event loop
        QTimer.singleShot(0, lambda: (window.nav.setCurrentRow(NAMES.index("items")),
                                      marks.setdefault("usable", time.time() - launched)))
    if "usable" in marks and all_listed():
        marks["items_listed"] = time.time() - launched
        timer.stop()
        window.close()
        app.quit()
window.show()
QTimer.singleShot(0, lambda: marks.setdefault("window_shown", time.time() - launched))
timer = QTimer()
timer.setInterval(10)
timer.timeout.connect(poll)
timer.start()
QTimer.singleShot(120_000, app.quit)
app.exec()
marks.pop("shown", None)
print(json.dumps(marks))
""".replace("ITEMS", str(ITEMS))

KEEP_AFTER_WRITE = """
import sys, json, sqlite3
cache = sys.argv[2]
con = sqlite3.connect(cache)
con.execute("UPDATE items SET description = CASE WHEN description LIKE '%.' "
            "THEN substr(description, 1, length(description) - 1) ELSE description || '.' END "
            "WHERE code = (SELECT min(code) FROM items)")
con.commit()
con.close()
from workbench.cache.db import open_cache
from workbench.cache.itemlist import keep_item_list
kept = keep_item_list(open_cache(cache))
print(json.dumps({"keep_s": kept.seconds, "keep_cpu_s": kept.cpu_seconds,
                  "written": float(kept.written)}))
"""

MARKS = (("import_pyside6", "import PySide6 alone"), ("window_shown", "window shown"),
         ("usable", "usable main window"), ("items_listed", "items listed"))


class Tree:
    """One source tree to start the app from, with its own entry-point metadata and work folder."""

    def __init__(self, label: str, root: Path, work: Path) -> None:
        self.label, self.root, self.work = label, root, work
        work.mkdir(parents=True, exist_ok=True)
        self.env = {**os.environ, "QT_QPA_PLATFORM": "offscreen",
                    "PYTHONPATH": os.pathsep.join(str(p) for p in self._path())}

    def _path(self) -> list[Path]:
        path = [self._entry_points(), self.root]
        if (self.root / "connectors" / "planner_connectors").is_dir():
            path.append(self.root / "connectors")  # the adapters' import package since issue 12
        return path

    def _entry_points(self) -> Path:
        """A dist-info named like the installed one, first on the path: importlib.metadata takes the
        first distribution of a name, so this tree's connectors are the ones registered."""
        project = tomllib.loads((self.root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
        meta = self.work / "meta" / "planner_workbench-0.0.0.dist-info"
        meta.mkdir(parents=True, exist_ok=True)
        (meta / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: 0.0.0\n")
        groups = project.get("entry-points", {})
        (meta / "entry_points.txt").write_text("".join(
            f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in eps.items()) + "\n"
            for group, eps in groups.items()))
        return meta.parent

    def python(self, code: str, *args: str, timeout: int = 300) -> dict[str, float]:
        launched = time.time()
        out = subprocess.run([sys.executable, "-c", code, f"{launched:.6f}", *args], check=False,
                             env=self.env, capture_output=True, text=True, timeout=timeout, cwd=self.root)
        if out.returncode != 0:
            raise SystemExit(f"{self.label} tree ({self.root}): {out.stderr[-3000:]}")
        return json.loads(out.stdout.strip().splitlines()[-1]) if out.stdout.strip() else {}

    def start(self, cache: Path, fresh_list: bool = False) -> dict[str, float]:
        (self.work / "ui-state.json").unlink(missing_ok=True)  # open on the Overview, as a new user
        if fresh_list:  # the item list read from the cache, not the one kept beside it
            shutil.rmtree(cache.with_name(cache.name + ".itemlist"), ignore_errors=True)
        return self.python(START_APP, str(cache), str(self.work / "settings.json"),
                           str(self.work / "ui-state.json"))

    def sync_large_demo(self, cache: Path) -> None:
        print(f"syncing the large demo into {cache} with the {self.label} tree (takes minutes)…", flush=True)
        code = ("import sys; from pathlib import Path; "
                "from tests.benchmarks.bench_planning import ensure_cache; "
                "ensure_cache(Path(sys.argv[1]), 'large')")
        subprocess.run([sys.executable, "-c", code, str(cache)], env=self.env, cwd=self.root, check=True,
                       timeout=3600)


def reference_tree(ref: str, folder: Path) -> Path:
    """The reference as a folder: given as one, or the commit unpacked by ``git archive`` (once)."""
    if Path(ref).is_dir():
        return Path(ref).resolve()
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", ref], check=True,
                            capture_output=True, text=True).stdout.strip()
    tree = folder / f"tree-{commit}"
    if not (tree / "pyproject.toml").exists():
        tree.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(REPO), "archive", commit], check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    return tree


def describe(label: str, runs: list[dict[str, float]]) -> dict[str, float]:
    medians = {}
    for key, name in MARKS:
        values = [r[key] for r in runs if key in r]
        if values:
            medians[key] = statistics.median(values)
            print(f"{label:9} median {name:22} {medians[key]:.2f} s")
    return medians


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", type=Path, default=Path("/tmp/planner-bench/large.sqlite"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--fresh-list", action="store_true",
                    help="remove the item list kept beside the cache before every start")
    ap.add_argument("--after-sync", action="store_true",
                    help="before every start: a write to the items, then the list kept as a sync "
                         "keeps it (printed: what that adds to the sync)")
    ap.add_argument("--reference", default=REFERENCE,
                    help=f"commit or folder to compare with (default {REFERENCE}); 'none': this tree only")
    args = ap.parse_args()
    folder = args.cache.parent
    folder.mkdir(parents=True, exist_ok=True)
    current = Tree("current", REPO, folder / "startup-bench" / "current")
    trees = [current]
    if args.reference != "none":
        trees.insert(0, Tree("reference", reference_tree(args.reference, folder),
                             folder / "startup-bench" / "reference"))
    if not args.cache.exists():
        trees[0].sync_large_demo(args.cache)
    caches = {"reference": args.cache,
              "current": args.cache if len(trees) == 1 else args.cache.with_suffix(".current.sqlite")}
    if not caches["current"].exists():
        shutil.copyfile(args.cache, caches["current"])
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"({os.cpu_count()} CPUs)")
    for tree in trees:
        print(f"{tree.label}: {tree.root} (warm-up start, not counted)", flush=True)
        tree.start(caches[tree.label])
    rows: dict[str, list[dict[str, float]]] = {t.label: [] for t in trees}
    for n in range(args.runs):
        for tree in trees:
            base = tree.python(IMPORT_ONLY)
            if args.after_sync:
                kept = tree.python(KEEP_AFTER_WRITE, str(caches[tree.label]))
                print(f"run {n + 1} {tree.label:9}: items written, list kept as a sync keeps it: "
                      f"{kept['keep_s']:.2f} s wall, {kept['keep_cpu_s']:.2f} CPU-s "
                      f"(written: {bool(kept['written'])})", flush=True)
            marks = tree.start(caches[tree.label], args.fresh_list)
            rows[tree.label].append({**base, **marks})
            print(f"run {n + 1} {tree.label:9}: import PySide6 {base['import_pyside6']:.2f} s | window shown "
                  f"{marks.get('window_shown', float('nan')):.2f} s | usable "
                  f"{marks.get('usable', float('nan')):.2f} s | {ITEMS:,} items listed "
                  f"{marks.get('items_listed', float('nan')):.2f} s", flush=True)
    medians = {label: describe(label, runs) for label, runs in rows.items()}
    if "reference" in medians:
        for key, name in MARKS:
            if key in medians["current"] and key in medians["reference"]:
                cur, ref = medians["current"][key], medians["reference"][key]
                print(f"current / reference {name:22} {cur:.2f} s / {ref:.2f} s = {cur / ref:.2f}")
    usable = medians["current"].get("usable", float("nan"))
    print(f"target usable <= 3.00 s: {'met' if usable <= 3.0 else 'NOT met'}")
    for label, runs in rows.items():  # issue 16 §4: listed within 1 s of a usable window
        after = [r["items_listed"] - r["usable"] for r in runs if "items_listed" in r and "usable" in r]
        if after:
            med = statistics.median(after)
            print(f"{label:9} median items listed after usable {med:.2f} s (runs: "
                  f"{', '.join(f'{a:.2f}' for a in after)}); target <= 1.00 s: "
                  f"{'met' if med <= 1.0 else 'NOT met'}")
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
