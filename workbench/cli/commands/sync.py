"""``workbench sync``: pull from the demo plant, a data package or a configured source.

The demo plant (and a configured demo source) keeps the decisions written back to it in a ledger
beside the cache (``<cache>.demo-ledger.jsonl``), so the next sync shows them. The sync itself is
the application's :func:`workbench.app.sync.sync_source`, run inline (:func:`workbench.cli.runner_for`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.cli import CliError, add_common, open_engine, print_json, runner_for

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from workbench.services.settings import SourceConfig
    from workbench.services.sync import SyncResult


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("sync", help="load the cache from a source")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--demo", action="store_true", help="the built-in demo plant")
    src.add_argument("--package", metavar="DIR", help="a canonical data package folder")
    src.add_argument("--source", metavar="NAME", help="a configured source (see `workbench sources`)")
    p.add_argument("--scale", choices=["small", "medium", "large"], default="small")
    p.add_argument("--day", type=int, default=0, help="demo: simulated days after the start")
    p.add_argument("--partial", action="store_true",
                   help="keep good rows when some are rejected; a package is then a partial "
                        "update: rows missing from its files are not deleted")
    p.add_argument("--full", action="store_true", help="ignore watermarks, pull everything")
    p.add_argument("--force", action="store_true",
                   help="--demo: go ahead although the cache holds decisions on another "
                        "source's data (the demo replaces that data)")
    add_common(p)
    p.set_defaults(func=run)


def _source(args: argparse.Namespace) -> SourceConfig:
    """The source the options name: the demo plant, a data package or a configured source."""
    from workbench.app.sync import configured_source
    from workbench.services.settings import SourceConfig

    if args.demo:
        return SourceConfig(name="demo", connector="demo",
                            params={"scale": args.scale, "day": args.day, "seed": 42})
    if args.source:
        return configured_source(args.source)
    return SourceConfig(name=f"package-{Path(args.package).name}", connector="files",
                        params={"folder": args.package, "complete": not args.partial})


def _refuse_demo_over_decisions(engine: Engine) -> None:
    """``--demo`` never discards decisions silently (exit 2 without ``--force``)."""
    from workbench.services.sources import cache_path
    from workbench.startup import decisions_at_risk, demo_refusal

    target = cache_path(engine)
    at_risk, connectors = decisions_at_risk(target, replaced=False) if target else (0, [])
    if at_risk and target:
        raise CliError(demo_refusal(at_risk, connectors, target), 2)


def run(args: argparse.Namespace) -> int:
    from workbench.app.sync import SourceError, sync_source
    from workbench.connect.credentials import CredentialError
    from workbench.connect.port import ConnectorError
    from workbench.services.tasks import SimpleState

    engine = open_engine(args)
    if args.demo and not args.force:
        _refuse_demo_over_decisions(engine)
    state = SimpleState(echo=not args.json and sys.stderr.isatty())
    try:
        # the source is checked first (not the demo); the cache is verified around the writes:
        # never write into, nor report success on, a damaged file (PRAGMA quick_check; exit 3)
        report = runner_for(engine).run(
            sync_source, _source(args), partial=args.partial, full=args.full,
            check=not args.demo, verify=True, state=state).value
    except (SourceError, ConnectorError, LookupError, CredentialError) as exc:
        raise CliError(str(exc), 2) from None
    result, messages = report.result, report.messages
    if args.json:
        print_json(result.to_dict())
    else:
        _print(result, messages)
    if not result.ok:
        raise CliError(result.error or "sync failed", 1)
    return 0


def _print(result: SyncResult, messages: SyncResult | None) -> None:
    for entity, c in result.counts.items():
        print(f"{entity:24} received {c['received']:>9,}  changed {c['changed']:>9,}"
              + (f"  deleted {c['deleted']:,}" if c["deleted"] else ""))
    for warning in result.warnings:
        print(f"warning: {warning}")
    for err in result.rejected[:50]:
        print(f"rejected: {err}")
    if len(result.rejected) > 50:
        print(f"... and {len(result.rejected) - 50} more rejected rows")
    print(f"{result.status} in {result.duration_s:.1f} s (run {result.run_id})")
    if messages is not None:  # the demo suppliers' EDI messages (docs/edi.md)
        c = messages.counts["edi_messages"]
        print(f"supplier messages: {c['received']} files, {c['applied']} applied, "
              f"{c['duplicate']} duplicate, {c['superseded']} superseded, {c['rejected']} "
              f"rejected; {messages.total()} PO lines changed (`workbench edi list`)")
