"""Mapped import speed: the demo's items and BOM as an indented multi-level XLSX BOM read through
a mapping profile, against the canonical CSV sync of the same rows, in the same run.

Run:  .venv/bin/python tests/benchmarks/bench_mapped_import.py [--scale medium|large|small]
          [--runs 3] [--data DIR]

1. The demo's units, suppliers, items and unit conversions are loaded into two fresh caches
   (not timed: BOM lines need the item-specific conversions, which need the items; both timed
   paths then deliver the items again, unchanged, with the BOM).
2. The demo's items, BOM revisions and BOM lines are written (a) as a canonical data package
   (items.csv, bom_revisions.csv, bom_lines.csv) and (b) as one XLSX sheet in the layout a PLM
   exports: an indented multi-level BOM, each (parent, revision) expanded once where it first
   appears (its later appearances are plain rows), the BOMs no top assembly reaches as their own
   level-0 blocks, and the items in no BOM as single rows; item and revision fields as
   ``item.*`` / ``revision.*`` columns. More rows than an Excel sheet holds (the large demo's 2
   million) go on further sheets (``BOM 2``, ...), each starting at a level-0 row; the profile
   reads every sheet (``sheets = ["*"]``). ``--data DIR`` keeps these files and reuses them.
3. Each cache is synced in its own process (so each peak memory is its own): the canonical
   package with ``FilesConnector(folder)``, the XLSX with ``FilesConnector(dir, mapping=...)``.
   ``--runs`` times each (the master data loaded once per path and copied for every run).
   Prints rows/s and CPU seconds of both per run and their medians, the ratio (target >= 0.5;
   also by CPU seconds, which the machine's load disturbs less), each process's peak RSS, the
   load average, and checks that both caches hold the same items, revisions and BOM lines.
   A mapped run whose sheets were parsed in parts beside the reading (only when a core is
   idle: planner_connectors/files/xlsx_parts.py) says so ("sheets parsed in N parts").
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from workbench.services.sources import demo_connector

ITEM_FIELDS = ("description", "stock_uom", "make_buy", "lead_time_days", "safety_stock",
               "min_order_qty", "order_multiple", "standard_cost", "planner", "buyer",
               "default_supplier")
REVISION_FIELDS = ("status", "effective_from", "effective_to", "description")
LINE_FIELDS = ("quantity_per", "uom", "scrap_pct", "alternate_group", "alternate_priority")
ENTITIES = ("items", "bom_revisions", "bom_lines")


def pull(scale: str) -> dict[str, list[dict[str, Any]]]:
    connector = demo_connector(scale=scale)
    return {e: [r for b in connector.pull(e, None) for r in b.records]
            for e in ("uoms", "suppliers", "uom_conversions", *ENTITIES)}


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if hasattr(value, "value"):  # enums
        return str(value.value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def write_package(folder: Path, data: dict[str, list[dict[str, Any]]],
                  entities: tuple[str, ...]) -> None:
    folder.mkdir()
    for entity in entities:
        rows = data[entity]
        columns = sorted({k for r in rows for k in r} - {"source", "source_key", "source_version"})
        with (folder / f"{entity}.csv").open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(columns)
            for r in rows:
                w.writerow([_cell(r.get(c)) for c in columns])


def indented_rows(data: dict[str, list[dict[str, Any]]]) -> list[list[Any]]:
    """The rows of the indented export (see the module doc), header first."""
    items = {r["code"]: r for r in data["items"]}
    revisions = {(r["parent"], r["revision"]): r for r in data["bom_revisions"]}
    lines: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for line in data["bom_lines"]:
        lines[(line["parent"], line["revision"])].append(line)
    for rows in lines.values():
        rows.sort(key=lambda r: r["position"])
    pending: dict[str, list[str]] = defaultdict(list)  # parent -> revisions not yet expanded
    for parent, revision in sorted(lines):
        pending[parent].append(revision)
    components = {line["component"] for line in data["bom_lines"]}
    header = ["Level", "Part", "Rev", "Find No", *(f"I:{f}" for f in ITEM_FIELDS),
              *(f"R:{f}" for f in REVISION_FIELDS), *(f"L:{f}" for f in LINE_FIELDS)]
    out: list[list[Any]] = [header]
    listed: set[str] = set()

    def row(level: int, code: str, revision: str, line: dict[str, Any] | None) -> None:
        rev = revisions.get((code, revision), {}) if revision else {}
        item = items[code]
        out.append([level, code, revision, line["position"] if line else "",
                    *(_cell(item.get(f)) for f in ITEM_FIELDS),
                    *(_cell(rev.get(f)) for f in REVISION_FIELDS),
                    *((_cell(line.get(f)) for f in LINE_FIELDS) if line else [""] * len(LINE_FIELDS))])
        listed.add(code)

    def expand(level: int, code: str, line: dict[str, Any] | None) -> None:
        stack = [(level, code, line)]
        while stack:
            lvl, part, ln = stack.pop()
            revision = pending[part].pop(0) if pending.get(part) else ""
            row(lvl, part, revision, ln)
            if revision:
                for child in reversed(lines[(part, revision)]):
                    stack.append((lvl + 1, child["component"], child))

    for parent in sorted(p for p in pending if p not in components):
        while pending[parent]:
            expand(0, parent, None)
    for parent in sorted(pending):
        while pending[parent]:
            expand(0, parent, None)
    for code in items:
        if code not in listed:
            row(0, code, "", None)
    return out


#: rows per sheet at most (Excel's limit is 1,048,576 rows, the header included)
SHEET_ROWS = 1_000_000


def sheet_parts(rows: list[list[Any]], limit: int = SHEET_ROWS) -> list[list[list[Any]]]:
    """The data rows split into sheets of at most ``limit`` rows, each starting at a level-0 row
    (an indented BOM's parent must be on the sheet of its lines; a sub-assembly listed again on
    a later sheet is read as the same BOM)."""
    blocks: list[list[list[Any]]] = []
    for row in rows:
        if row[0] == 0 or not blocks:
            blocks.append([])
        blocks[-1].append(row)
    parts: list[list[list[Any]]] = [[]]
    for block in blocks:
        if len(block) > limit:
            raise SystemExit("a top assembly's block does not fit on one sheet")
        if len(parts[-1]) + len(block) > limit:
            parts.append([])
        parts[-1].extend(block)
    return [p for p in parts if p]


def write_xlsx(path: Path, rows: list[list[Any]]) -> int:
    """The header and rows as an XLSX workbook, over as many sheets as Excel's row limit needs
    (``BOM``, ``BOM 2``, ...); the number of sheets."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False,
                                           "strings_to_formulas": False, "strings_to_urls": False})
    parts = sheet_parts(rows[1:])
    for n, part in enumerate(parts, start=1):
        sheet = book.add_worksheet("BOM" if n == 1 else f"BOM {n}")
        for r, values in enumerate([rows[0], *part]):
            for c, v in enumerate(values):
                if v == "":
                    continue
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    sheet.write_number(r, c, v)
                else:
                    sheet.write_string(r, c, str(v))
    book.close()
    return len(parts)


def profile_text(header: list[str]) -> str:
    columns = {"Level": "level", "Part": "item", "Rev": "revision", "Find No": "position"}
    for h in header[4:]:
        kind, name = h.split(":", 1)
        columns[h] = {"I": f"item.{name}", "R": f"revision.{name}", "L": name}[kind]
    lines = ['[profile]', 'source = "files"', "", "[bom_lines]", 'files = ["plm_bom.xlsx"]',
             'sheets = ["*"]', 'layout = "indented"', "[bom_lines.columns]"]
    lines += [f'"{c}" = "{f}"' for c, f in columns.items()]
    return "\n".join(lines) + "\n"


def run_one(kind: str, folder: Path, cache: Path, profile: Path | None) -> None:
    """In a child process: sync one path into its cache, print figures as JSON."""
    from planner_connectors.files import FilesConnector

    from workbench.cache.db import open_cache
    from workbench.services.sync import run_sync

    engine = open_cache(cache)
    connector = (FilesConnector(folder) if profile is None
                 else FilesConnector(dir=folder, mapping=profile))
    parts: list[int] = []  # the sheet parts parsed beside the reading (none: sheets read whole)
    if profile is not None:
        from planner_connectors.files import xlsx_parts

        parse = xlsx_parts._parse

        def counted(data: bytes, name: str) -> Any:
            parts.append(len(data))
            return parse(data, name)

        xlsx_parts._parse = counted
    t, c = time.perf_counter(), time.process_time()
    result = run_sync(engine, connector, entities=None if kind == "master" else list(ENTITIES),
                      full=True)
    seconds, cpu = time.perf_counter() - t, time.process_time() - c
    engine.dispose()
    print(json.dumps({"kind": kind, "ok": result.ok, "error": result.error,
                      "rows": result.total("received"), "seconds": seconds, "cpu": cpu,
                      "rejected": [str(e) for e in result.rejected[:3]],
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "parts": len(parts)}))


def _child(kind: str, folder: Path, cache: Path, profile: Path | None) -> dict[str, Any]:
    args = [sys.executable, __file__, "--child", kind, str(folder), str(cache)]
    if profile is not None:
        args.append(str(profile))
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


def _same(a: Path, b: Path) -> bool:
    for table in ENTITIES:
        queries = []
        for path in (a, b):
            con = sqlite3.connect(path)
            cols = [r[1] for r in con.execute(f"PRAGMA table_info({table})")
                    if r[1] not in ("sync_run", "source", "source_key", "source_version")]
            # numbers to 12 significant digits: an XLSX cell holds what Excel shows (15 digits),
            # the CSV the full repr (2122.5200000000004)
            queries.append(sorted(
                (tuple(float(f"{v:.12g}") if isinstance(v, float) else v for v in row)
                 for row in con.execute(
                     f"SELECT {', '.join(cols)} FROM {table} WHERE deleted_at IS NULL")),
                key=repr))
            con.close()
        if queries[0] != queries[1]:
            diff = next((x, y) for x, y in zip(*queries) if x != y)
            print(f"  {table} differs: {len(queries[0])} vs {len(queries[1])} rows, e.g. {diff}")
            return False
    return True


def prepare(tmp: Path, scale: str) -> None:
    """The package, the master data, the indented XLSX and its profile, in ``tmp``."""
    t = time.perf_counter()
    data = pull(scale)
    write_package(tmp / "master", data, ("uoms", "suppliers", "items", "uom_conversions"))
    write_package(tmp / "package", data, ENTITIES)
    rows = indented_rows(data)
    (tmp / "plm").mkdir()
    sheets = write_xlsx(tmp / "plm" / "plm_bom.xlsx", rows)
    (tmp / "plm.toml").write_text(profile_text(rows[0]), encoding="utf-8")
    n = sum(len(data[e]) for e in ENTITIES)
    (tmp / "about.txt").write_text(
        f"demo {scale}: {len(data['items']):,} items, {len(data['bom_revisions']):,} "
        f"revisions, {len(data['bom_lines']):,} BOM lines = {n:,} records; indented sheet "
        f"{len(rows) - 1:,} rows on {sheets} sheet(s) "
        f"({(tmp / 'plm' / 'plm_bom.xlsx').stat().st_size / 1e6:.1f} MB); "
        f"prepared in {time.perf_counter() - t:.1f} s\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--runs", type=int, default=3, help="runs of each path; medians printed")
    parser.add_argument("--data", help="a folder to keep the prepared files in and reuse them "
                                       "from (default: a fresh temporary folder)")
    parser.add_argument("--child", nargs="+")
    args = parser.parse_args()
    if args.child:
        kind, folder, cache, *profile = args.child
        run_one(kind, Path(folder), Path(cache), Path(profile[0]) if profile else None)
        return
    tmp = Path(args.data) if args.data else Path(tempfile.mkdtemp(prefix="bench_mapped_"))
    if not (tmp / "about.txt").is_file():
        tmp.mkdir(parents=True, exist_ok=True)
        prepare(tmp, args.scale)
    print((tmp / "about.txt").read_text(encoding="utf-8").strip())
    runs: dict[str, list[dict[str, Any]]] = {"canonical": [], "mapped": []}
    ratios, cpu_ratios, loads = [], [], []
    paths = (("canonical", tmp / "package", None), ("mapped", tmp / "plm", tmp / "plm.toml"))
    for kind, _, _ in paths:  # the master data once per path; each run syncs into a copy
        master_cache = tmp / f"{kind}-master.sqlite"
        if not master_cache.is_file():
            master = _child("master", tmp / "master", master_cache, None)
            assert master["ok"], master
    for n in range(args.runs):
        for kind, folder, profile in paths:
            cache = tmp / f"{kind}.sqlite"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{cache}{suffix}").unlink(missing_ok=True)
            shutil.copy(tmp / f"{kind}-master.sqlite", cache)
            f = _child(kind, folder, cache, profile)
            assert f["ok"], f
            runs[kind].append(f)
            print(f"run {n + 1} {kind:9}: {f['rows']:>10,} rows in {f['seconds']:7.2f} s "
                  f"(cpu {f['cpu']:.2f} s) = {f['rows'] / f['seconds']:>9,.0f} rows/s, "
                  f"peak RSS {f['peak_mb']:,.0f} MB"
                  + (f", sheets parsed in {f['parts']} parts" if f.get("parts") else ""))
        m, c = runs["mapped"][-1], runs["canonical"][-1]
        ratios.append((m["rows"] / m["seconds"]) / (c["rows"] / c["seconds"]))
        cpu_ratios.append((m["rows"] / m["cpu"]) / (c["rows"] / c["cpu"]))
        loads.append(os.getloadavg()[0])
        print(f"run {n + 1} ratio mapped/canonical {ratios[-1]:.2f} (by CPU {cpu_ratios[-1]:.2f}); "
              f"load {loads[-1]:.2f}")
    same = _same(tmp / "canonical.sqlite", tmp / "mapped.sqlite")
    med = statistics.median
    for kind in runs:
        r = runs[kind]
        print(f"median {kind:9}: {med(x['rows'] / x['seconds'] for x in r):>9,.0f} rows/s "
              f"({med(x['seconds'] for x in r):.2f} s, cpu {med(x['cpu'] for x in r):.2f} s), "
              f"peak RSS {max(x['peak_mb'] for x in r):,.0f} MB")
    print(f"ratio mapped/canonical: median {med(ratios):.2f} of {len(ratios)} runs (target >= "
          f"0.50; by CPU seconds {med(cpu_ratios):.2f}); load average {min(loads):.2f}-"
          f"{max(loads):.2f}; same items, revisions and BOM lines in both caches: {same}")


if __name__ == "__main__":
    main()
