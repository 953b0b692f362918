"""``workbench edi``: the supplier message archive (``list``) and replaying rejected files
(``replay ID...``). Files arrive through ``workbench sync --source NAME`` of an ``edi`` source;
see docs/edi.md."""

from __future__ import annotations

import argparse
from typing import Any

from workbench.cli import CliError, add_common, open_engine, print_json


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("edi", help="supplier EDI messages: archive and replay")
    verbs = p.add_subparsers(dest="edi_command", metavar="VERB", required=True)
    ls = verbs.add_parser("list", help="message files taken, with their outcome")
    ls.add_argument("--rejected", action="store_true", help="only rejected files")
    add_common(ls)
    ls.set_defaults(func=run_list)
    rp = verbs.add_parser("replay", help="take rejected files again (after fixing the cause)")
    rp.add_argument("ids", nargs="+", type=int, metavar="ID")
    add_common(rp)
    rp.set_defaults(func=run_replay)
    mm = verbs.add_parser("mismatches", help="PO lines whose acknowledgement rejects them or "
                                             "confirms another quantity")
    add_common(mm)
    mm.set_defaults(func=run_mismatches)


def _where(row: dict[str, Any]) -> str:
    parts = [p for p in (
        row["message_ref"] and f"message {row['message_ref']}",
        row["segment"] is not None and f"segment {row['segment']}",
        row["element"]) if p]
    text = f"{', '.join(parts)}: {row['reason']}" if parts else str(row["reason"])
    return text + (f" (expected {row['expected']})" if row["expected"] else "")


def run_list(args: argparse.Namespace) -> int:
    from workbench.services.edi import list_messages

    rows = list_messages(open_engine(args), rejected_only=args.rejected)
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("no EDI message files" + (" rejected" if args.rejected else ""))
    for r in rows:
        kind = f"{r['message_type'] or '?'} {r['version'] or ''}".strip()
        head = (f"{r['id']:>5}  {r['outcome']:10} {r['file']}  {kind}  from {r['sender'] or '?'}"
                f" ({r['supplier'] or 'unknown'})  doc {r['document_number'] or '?'}  "
                f"lines {r['applied_lines']}/{r['lines']}")
        print(head)
        if r["reason"]:
            print(f"       {_where(r)}")
    return 0


def run_replay(args: argparse.Namespace) -> int:
    from workbench.connect.port import ConnectorError
    from workbench.services.edi import replay
    from workbench.services.sources import cache_path, configured_connector

    engine = open_engine(args)
    try:
        outcomes = replay(engine, args.ids,
                          lambda source: configured_connector(source, cache=cache_path(engine)))
    except (LookupError, ValueError, ConnectorError) as exc:
        raise CliError(str(exc), 2) from None
    if args.json:
        print_json([{"id": o.id, "file": o.file, "outcome": o.outcome, "lines": o.lines,
                     "applied_lines": o.applied_lines,
                     "error": o.error.to_dict() if o.error else None} for o in outcomes])
    else:
        for o in outcomes:
            print(f"{o.id:>5}  {o.outcome:10} {o.file}  lines {o.applied_lines}/{o.lines}"
                  + (f"  {o.error}" if o.error else ""))
    failed = [o for o in outcomes if o.outcome == "rejected"]
    if failed:
        raise CliError(f"{len(failed)} file(s) still rejected", 1)
    return 0


def run_mismatches(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from workbench.cli import qty
    from workbench.services.edi import confirmation_mismatches

    rows = confirmation_mismatches(open_engine(args))
    if args.json:
        print_json([asdict(r) for r in rows])
        return 0
    if not rows:
        print("no confirmation mismatches")
    for r in rows:
        print(f"{r.purchase_order}/{r.line}  {r.item}  {r.supplier}  {r.status}: ordered "
              f"{qty(r.quantity_ordered)}, confirmed {qty(r.confirmed_quantity)}  "
              f"({r.file}, doc {r.document_number})")
    return 0
