"""``workbench edi``: the supplier message archive (``list``), replaying rejected files
(``replay ID...``) and confirmation mismatches. Files arrive through ``workbench sync --source
NAME`` of an ``edi`` source; see docs/edi.md. Each verb runs the operation of
:mod:`workbench.app.edi` the Sync & Outbox panel's EDI inbox runs, inline
(:func:`workbench.cli.runner_for`)."""

from __future__ import annotations

import argparse

from workbench.cli import CliError, add_common, open_engine, print_json, runner_for


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


def run_list(args: argparse.Namespace) -> int:
    from workbench.app.edi import inbox_entries

    entries = runner_for(open_engine(args)).run(inbox_entries, rejected_only=args.rejected)
    if args.json:
        print_json([e.to_json() for e in entries])
        return 0
    if not entries:
        print("no EDI message files" + (" rejected" if args.rejected else ""))
    for e in entries:
        supplier = " ".join(p for p in (e.supplier or "unknown", e.supplier_name) if p)
        print(f"{e.id:>5}  {e.outcome:10} {e.file}  {e.kind}  from {e.sender or '?'}"
              f" ({supplier})  doc {e.document_number or '?'}  lines {e.applied_lines}/{e.lines}")
        if e.where:
            print(f"       {e.where}")
    return 0


def run_replay(args: argparse.Namespace) -> int:
    from workbench.app.edi import replay
    from workbench.connect.port import ConnectorError
    from workbench.services.settings import SettingsError, load_settings

    engine = open_engine(args)
    try:
        sources = load_settings().sources
        outcomes = runner_for(engine).run(replay, args.ids, sources).value
    except (LookupError, ValueError, ConnectorError, SettingsError) as exc:
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

    from workbench.app.edi import confirmation_mismatches
    from workbench.cli import qty

    rows = runner_for(open_engine(args)).run(confirmation_mismatches)
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
