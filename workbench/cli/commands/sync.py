"""``workbench sync``: pull from the demo plant, a data package or a configured source.

The demo plant (and a configured demo source) keeps the decisions written back to it in a ledger
beside the cache (``<cache>.demo-ledger.jsonl``), so the next sync shows them."""

from __future__ import annotations

import argparse
import sys

from workbench.cli import CliError, add_common, open_engine, print_json


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


def run(args: argparse.Namespace) -> int:
    from workbench.cache.db import verify_cache
    from workbench.connect.credentials import CredentialError
    from workbench.connect.port import ConnectorError
    from workbench.services.sources import (
        cache_path,
        configured_connector,
        demo_connector,
        package_connector,
    )
    from workbench.services.sync import run_sync
    from workbench.services.tasks import SimpleState

    engine = open_engine(args)
    if args.demo and not args.force:  # never discard decisions silently (exit 2)
        from workbench.startup import decisions_at_risk, demo_refusal

        target = cache_path(engine)
        at_risk, connectors = (decisions_at_risk(target, replaced=False) if target
                               else (0, []))
        if at_risk and target:
            raise CliError(demo_refusal(at_risk, connectors, target), 2)
    try:
        cache = cache_path(engine)
        if args.demo:
            connector = demo_connector(scale=args.scale, day=args.day, cache=cache)
        elif args.source:
            connector = configured_connector(args.source, cache=cache)
        else:
            connector = package_connector(args.package, complete=not args.partial)
        if not args.demo:
            check = connector.check()
            if not check.ok:
                raise CliError(check.message, 2)
    except (ConnectorError, LookupError, CredentialError) as exc:
        raise CliError(str(exc), 2) from None
    state = SimpleState(echo=not args.json and sys.stderr.isatty())
    # never write into, nor report success on, a damaged file (PRAGMA quick_check; exit code 3)
    verify_cache(engine.url.database or "")
    from workbench.services.edi import is_message_inbox, sync_inbox, sync_supplier_messages

    if is_message_inbox(connector):  # e.g. an EDI inbox: one transaction per message file
        result = sync_inbox(engine, connector, args.source, state=state)
    else:
        result = run_sync(engine, connector, partial=args.partial, full=args.full, state=state)
    verify_cache(engine.url.database or "")
    # the demo plant's suppliers answer with EDI messages (docs/edi.md); other sources: None
    messages = sync_supplier_messages(engine, connector) if result.ok else None
    if messages is not None:
        verify_cache(engine.url.database or "")
    if result.ok:
        from workbench.services.writeback import confirm_sent

        confirm_sent(engine)  # decisions sent earlier that this sync shows in the cache
    if args.json:
        print_json(result.to_dict())
    else:
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
    if not result.ok:
        raise CliError(result.error or "sync failed", 1)
    return 0
