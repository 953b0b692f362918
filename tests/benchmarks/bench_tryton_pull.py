"""Pull speed from a live Tryton: our connector end to end against proteus's plain search_read.

Run:  .venv/bin/python tests/benchmarks/bench_tryton_pull.py [--keep DIR] [--repeat 3]

Needs the test extra (trytond and modules) and proteus, Tryton's own client library, which the
application does not use: ``pip install proteus`` (8.2) in the same environment. Not collected by
pytest (the file name starts with ``bench_``).

1. Builds (or reuses, with ``--keep``) a Tryton database seeded with the large plant:
   5,000 products (4,000 bought, 600 sub-assemblies, 400 finished goods) and 1,000 BOMs of 20
   inputs (>= 20,000 BOM lines), through the same seeding script the tests use.
2. Ours: ``run_sync`` of items, then of BOM revisions + BOM lines, into a fresh cache each
   repetition — fetch over JSON-RPC, pydantic validation, reference checks, unit conversion and
   upsert. Rate = records stored per second.
3. proteus over the network (XML-RPC, session login): plain ``search_read`` of the same records
   and fields — products with their template-delegated fields (code, name, unit, producible,
   purchasable, cost, template), product suppliers and production lead times; product-BOM links,
   BOMs, BOM outputs and inputs; each with ``_timestamp`` (the version our connector keeps).
   Rate = records read per second (reading only: nothing validated or stored). For comparison
   also the lighter reads this benchmark first made (no ``_timestamp``, outputs, lead times).
Prints both rates per entity and overall, and the ratios (target >= 3x against proteus reading
the same fields): medians of --repeat rounds taken in turn, after one untimed warm-up round.

4. All of that on each kind of server in ``--servers`` (default both, in one run), each on a
   fresh copy of the seeded database: ``2`` = Tryton's WSGI application under gunicorn with 2
   worker processes, as Tryton runs in production, our connector with ``parallel_reads=2``;
   ``0`` = trytond's own one-process development server, our connector reading one request at
   a time. proteus reads one request at a time on both (plain search_read).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from planner_connectors.tryton import TrytonConnector
from planner_connectors.tryton.rpc import TrytonRPC

from tests.support.tryton.devserver import (
    ADMIN_PASSWORD,
    DATABASE,
    TrytonServer,
    checkpoint,
    init_database,
    server_on_copy,
)
from tests.support.tryton.seed import PlantSize, seed_plant
from workbench.cache.db import open_cache
from workbench.services.sync import run_sync

PREREQUISITES = ["uoms", "sites", "suppliers", "uom_conversions"]


def build(folder: Path) -> Path:
    """The seeded database file (built once; about 5 minutes on 2 cores)."""
    seeded = folder / "bench.sqlite"
    if seeded.exists():
        return seeded
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    init_database(folder)
    print(f"database initialised in {time.perf_counter() - started:.0f} s", flush=True)
    server = TrytonServer(folder)
    server.start()
    try:
        rpc = TrytonRPC(server.url, DATABASE, "admin", ADMIN_PASSWORD, timeout=1200)
        result = seed_plant(rpc, PlantSize.large())
        rpc.close()
    finally:
        server.stop()
    checkpoint(server.db_file)
    shutil.copyfile(server.db_file, seeded)
    print(
        f"seeded {len(result.products):,} products, {result.bom_lines:,} BOM lines; "
        f"seconds per step: {json.dumps(result.timings)}",
        flush=True,
    )
    return seeded


#: (step, RPC method, rows returned, seconds) of every server call of the latest ``ours`` round
CALLS: list[tuple[str, str, int, float]] = []


def _timing_calls(step: list[str]) -> None:
    """Record each JSON-RPC call of the connector in :data:`CALLS` (benchmark only): how much of
    a step is waiting for the server."""
    original = TrytonRPC._post

    def timed(self: TrytonRPC, path: str, method: str, params: list[Any], auth: bool) -> Any:
        started = time.perf_counter()
        result = original(self, path, method, params, auth)
        rows = len(result) if isinstance(result, list) else 0
        CALLS.append((step[0], method, rows, time.perf_counter() - started))
        return result

    TrytonRPC._post = timed  # type: ignore[method-assign]


_STEP = ["setup"]
_timing_calls(_STEP)


def ours(server: TrytonServer, work: Path, n: int) -> dict[str, tuple[int, float]]:
    """(records, seconds) per step of one end-to-end sync into a fresh cache; as many reads at
    a time as the server has worker processes."""
    engine = open_cache(work / f"cache{n}-{server.workers}w.sqlite")
    connector = TrytonConnector(
        server.url,
        DATABASE,
        "admin",
        ADMIN_PASSWORD,
        timeout=600,
        parallel_reads=max(1, server.workers),
    )
    try:
        _STEP[0] = "setup"
        pre = run_sync(engine, connector, entities=PREREQUISITES)
        assert pre.ok, pre.error
        out = {}
        CALLS.clear()
        for step, entities in (("items", ["items"]), ("bom", ["bom_revisions", "bom_lines"])):
            _STEP[0] = step
            started = time.perf_counter()
            result = run_sync(engine, connector, entities=entities, full=True)
            seconds = time.perf_counter() - started
            assert result.ok, result.error
            out[step] = (sum(result.counts[e]["changed"] for e in entities), seconds)
        return out
    finally:
        connector.close()
        engine.dispose()


def proteus_reads(server: TrytonServer, same_fields: bool = True) -> dict[str, tuple[int, float]]:
    """(records, seconds) of plain search_read calls through proteus over XML-RPC.

    ``same_fields``: every model our connector reads, with the fields it reads (``_timestamp``
    for the version, BOM outputs for quantities per parent unit, production lead times); False:
    the lighter reads this benchmark made first (no ``_timestamp``, no outputs, no lead times)."""
    from proteus import config

    url = f"{server.url}/{DATABASE}/rpc/"
    with config.set_xmlrpc_session(url, "admin", ADMIN_PASSWORD) as cfg:
        ctx = dict(cfg.context)
        every = {**ctx, "active_test": False}

        def read(model: str, fields: list[str], context: dict[str, Any]) -> list[dict[str, Any]]:
            if not same_fields:
                fields = [f for f in fields if f != "_timestamp"]
            return cfg.get_proxy(model).search_read([], 0, None, None, fields, context)  # type: ignore[no-any-return]

        def timed(fn: Callable[[], int]) -> tuple[int, float]:
            started = time.perf_counter()
            n = fn()
            return n, time.perf_counter() - started

        def items() -> int:
            products = read(
                "product.product",
                [
                    "code",
                    "name",
                    "default_uom",
                    "producible",
                    "purchasable",
                    "cost_price",
                    "template",
                    "_timestamp",
                ],
                every,
            )
            read(
                "purchase.product_supplier",
                ["template", "product", "party", "lead_time", "sequence", "_timestamp"],
                every,
            )
            if same_fields:
                read("production.lead_time", ["product", "lead_time", "sequence", "_timestamp"],
                     every)
            return len(products)

        def boms() -> int:
            links = read("product.product-production.bom",
                         ["product", "bom", "sequence", "_timestamp"], every)
            read("production.bom", ["code", "name", "active", "_timestamp"], every)
            if same_fields:
                read("production.bom.output",
                     ["bom", "product", "quantity", "unit", "_timestamp"], every)
            inputs = read("production.bom.input",
                          ["bom", "product", "quantity", "unit", "_timestamp"], every)
            return len(links) + len(inputs)

        return {"items": timed(items), "bom": timed(boms)}


def median(runs: list[dict[str, tuple[int, float]]], step: str) -> tuple[int, float]:
    return runs[0][step][0], statistics.median(r[step][1] for r in runs)


def measure(server: TrytonServer, work: Path, repeat: int) -> None:
    """Rounds of ours and proteus in turn on ``server``; prints the tables and our calls."""
    # one untimed round warms the server's caches (the first read of translated names is
    # several seconds slower), then the two take turns
    ours(server, work, -1)
    proteus_reads(server)
    proteus_reads(server, same_fields=False)
    run_ours: list[dict[str, tuple[int, float]]] = []
    run_same: list[dict[str, tuple[int, float]]] = []
    run_light: list[dict[str, tuple[int, float]]] = []
    for n in range(repeat):
        run_ours.append(ours(server, work, n))
        run_same.append(proteus_reads(server))
        run_light.append(proteus_reads(server, same_fields=False))
    for title, run_proteus in (("proteus reading the same models and fields as ours", run_same),
                               ("proteus's lighter reads (no _timestamp, BOM outputs, lead times)",
                                run_light)):
        print(f"\n{title}")
        print(
            f"{'step':8} {'records':>9} {'ours s':>8} {'ours rec/s':>11} {'proteus s':>10} "
            f"{'proteus rec/s':>14} {'ratio':>6}"
        )
        totals = [0, 0.0, 0, 0.0]
        for step in ("items", "bom"):
            n, s = median(run_ours, step)
            pn, ps = median(run_proteus, step)
            totals = [totals[0] + n, totals[1] + s, totals[2] + pn, totals[3] + ps]
            print(
                f"{step:8} {n:>9,} {s:>8.2f} {n / s:>11,.0f} {ps:>10.2f} {pn / ps:>14,.0f} "
                f"{(n / s) / (pn / ps):>5.1f}x"
            )
        n, s, pn, ps = totals
        print(
            f"{'total':8} {n:>9,} {s:>8.2f} {n / s:>11,.0f} {ps:>10.2f} {pn / ps:>14,.0f} "
            f"{(n / s) / (pn / ps):>5.1f}x"
        )
    print("ours: fetch + validate + upsert into the cache (run_sync); proteus: search_read only")
    print("\nours, last round: each server call (waiting for trytond, incl. JSON decoding)")
    for step in ("items", "bom"):
        calls = [c for c in CALLS if c[0] == step]
        print(f"  {step}: {len(calls)} calls, {sum(c[3] for c in calls):.2f} s")
        for _, method, rows, seconds in calls:
            print(f"    {method:52} {rows:>7,} rows {seconds:6.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--keep", type=Path, default=None, help="keep/reuse the seeded database here"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--servers",
        default="0,2",
        help="comma-separated: 0 = trytond's own server (one process, reads in turn), "
        "N = gunicorn with N worker processes (our connector reads N at a time); default 0,2",
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench_tryton_"))
    seeded = build(args.keep or work / "template")
    for workers in (int(w) for w in args.servers.split(",")):
        kind = (
            f"gunicorn with {workers} worker processes; ours reads {workers} at a time"
            if workers
            else "trytond's own server (one process); ours reads one at a time"
        )
        print(f"\n=== server: {kind}", flush=True)
        load_before = os.getloadavg()
        server = server_on_copy(seeded, work / f"server{workers}", workers=workers)
        try:
            measure(server, work, args.repeat)
        finally:
            server.stop()
        print(
            "load average (1/5/15 min) before: {:.2f} {:.2f} {:.2f}, after: {:.2f} {:.2f} {:.2f}; "
            "{} cores; medians of {} rounds".format(
                *load_before, *os.getloadavg(), os.cpu_count(), args.repeat
            ),
            flush=True,
        )
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
