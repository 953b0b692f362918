"""EDI ingest speed: 10,000 acknowledgement lines and 10,000 ship-notice lines into a demo cache,
beside a canonical-package sync of the same number of PO-line updates, in the same run.

Run:  .venv/bin/python tests/benchmarks/bench_edi.py [--scale small|medium|large] [--lines 10000]
      .venv/bin/python tests/benchmarks/bench_edi.py --cache /tmp/planner-bench/large.sqlite

1. A demo cache is loaded (or ``--cache``: an existing demo cache is copied, e.g. the large one
   the other benchmarks build) and copied: one copy takes the EDI messages, the other the
   package. The disk is flushed (``os.sync``) before each timed part, so neither pays for the
   writing back of the copies made just before it.
2. EDI: N open PO lines (drawn at random, with repeats when the demo has fewer) are acknowledged
   by ORDRSP messages, one per purchase order, ``--per-file`` of them (default 50) in one
   interchange file per supplier (sender = the supplier code, our item numbers, the line's own
   unit, promise = requested + 3 days), then shipped by DESADV files of 100 lines each; both
   through ``sync_inbox`` (archive, each file all or nothing), timed end to end.
3. Package: the same N PO lines as a partial data package (``purchase_order_lines.csv``, promise
   moved by 3 days, acknowledged) synced by the files connector.
Prints lines/s of each and the ratio EDI / package (target >= 0.5).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from planner_connectors.edi import EdiConnector

from tests.edi.messages import Line, desadv, ordrsp_batch
from workbench.cache.db import open_cache
from workbench.services.edi import sync_inbox
from workbench.services.packages import package_frame, write_package
from workbench.services.sources import demo_connector, package_connector
from workbench.services.sync import run_sync


def _day(text: str, days: int) -> str:
    return (dt.date.fromisoformat(str(text)[:10]) + dt.timedelta(days=days)).strftime("%Y%m%d")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="small")
    parser.add_argument("--cache", default="",
                        help="copy this demo cache instead of loading the demo of --scale")
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--per-file", type=int, default=50,
                        help="ORDRSP messages (one per PO) per interchange file (1: a file per PO)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench_edi_"))
    t0 = time.perf_counter()
    if args.cache:
        shutil.copy(args.cache, tmp / "edi.sqlite")
        engine = open_cache(tmp / "edi.sqlite")
        print(f"{args.cache} copied in {time.perf_counter() - t0:.1f} s")
    else:
        engine = open_cache(tmp / "edi.sqlite")
        assert run_sync(engine, demo_connector(scale=args.scale)).ok
        print(f"demo {args.scale} loaded in {time.perf_counter() - t0:.1f} s")
    lines = package_frame(engine, "purchase_order_lines")
    lines = lines[lines["status"].isin(["sent", "approved", "acknowledged"])]
    engine.dispose()
    shutil.copy(tmp / "edi.sqlite", tmp / "package.sqlite")
    picked = lines.sample(n=args.lines, replace=len(lines) < args.lines, random_state=1)
    print(f"{len(lines):,} open PO lines; {len(picked):,} lines taken")

    # --- EDI -------------------------------------------------------------------------------
    inbox = tmp / "inbox"
    inbox.mkdir()
    by_po: dict[tuple[str, str], list[Line]] = defaultdict(list)
    for r in picked.itertuples():
        by_po[(r.purchase_order, r.supplier)].append(Line(
            r.purchase_order, int(r.line), float(r.quantity_ordered), r.uom or "", "5",
            _day(r.requested_date, 3), buyer_item=r.item))
    orders: dict[str, list[tuple[str, str, list[Line]]]] = defaultdict(list)
    for (po, supplier), po_lines in by_po.items():
        orders[supplier].append((f"R-{po}", po, po_lines))
    n = 0
    for supplier, sup_orders in orders.items():
        for i in range(0, len(sup_orders), args.per_file):
            n += 1
            (inbox / f"ack-{n:06d}.edi").write_text(ordrsp_batch(
                supplier, f"A{n}", "202601011000", sup_orders[i:i + args.per_file]),
                encoding="utf-8")
    ack_files = n
    ship = [(r.supplier, Line(r.purchase_order, int(r.line), float(r.quantity_ordered), r.uom or "",
                              buyer_item=r.item)) for r in picked.itertuples()]
    by_supplier: dict[str, list[Line]] = defaultdict(list)
    for supplier, ln in ship:
        by_supplier[supplier].append(ln)
    asn_files = 0
    for supplier, sup_lines in by_supplier.items():
        for i in range(0, len(sup_lines), 100):
            asn_files += 1
            (inbox / f"asn-{asn_files:06d}.edi").write_text(desadv(
                supplier, f"S{asn_files}", f"SH{asn_files}", "202601021000", "20260102",
                "20260110", sup_lines[i:i + 100]), encoding="utf-8")
    engine = open_cache(tmp / "edi.sqlite")
    connector = EdiConnector(inbox)
    os.sync()
    t0, c0 = time.perf_counter(), time.process_time()
    result = sync_inbox(engine, connector, "bench-edi")
    edi_s, edi_cpu = time.perf_counter() - t0, time.process_time() - c0
    counts = result.counts
    assert not result.rejected, result.rejected[:3]
    edi_lines = counts["purchase_order_lines"]["received"]
    engine.dispose()
    print(f"EDI          : {edi_lines:>7,} lines ({ack_files:,} ORDRSP + {asn_files:,} DESADV files) "
          f"in {edi_s:6.2f} s = {edi_lines / edi_s:>8,.0f} lines/s; "
          f"{counts['purchase_order_lines']['changed']:,} applied (cpu {edi_cpu:.2f} s)")

    # --- canonical package ---------------------------------------------------------------
    package = picked.drop_duplicates(["purchase_order", "line"]).copy()
    package["promised_date"] = [dt.date.fromisoformat(_day(d, 3)[:4] + "-" + _day(d, 3)[4:6] + "-"
                                                      + _day(d, 3)[6:]) for d in package["requested_date"]]
    package["ack_status"] = "accepted"
    reps = -(-args.lines // len(package))
    folder = tmp / "package"
    engine = open_cache(tmp / "package.sqlite")
    pkg_s, pkg_lines, pkg_cpu = 0.0, 0, 0.0
    for rep in range(reps):
        part = package if rep == 0 else package.assign(
            promised_date=package["promised_date"] + dt.timedelta(days=rep))
        part = part.head(args.lines - pkg_lines)
        write_package({"purchase_order_lines": part}, folder)
        os.sync()
        t0, c0 = time.perf_counter(), time.process_time()
        res = run_sync(engine, package_connector(str(folder), complete=False), partial=True)
        pkg_s += time.perf_counter() - t0
        pkg_cpu += time.process_time() - c0
        assert res.ok, res.error
        pkg_lines += len(part)
    engine.dispose()
    print(f"package sync : {pkg_lines:>7,} lines in {pkg_s:6.2f} s = {pkg_lines / pkg_s:>8,.0f} "
          f"lines/s (cpu {pkg_cpu:.2f} s)")
    ratio = (edi_lines / edi_s) / (pkg_lines / pkg_s)
    print(f"EDI / package = {ratio:.2f} (target >= 0.5); load average {os.getloadavg()[0]:.2f}")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
