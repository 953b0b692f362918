"""``workbench where-used ITEM``: every assembly above an item, with paths and quantities."""

from __future__ import annotations

import argparse
from typing import Any

from workbench.cli import CliError, print_json
from workbench.cli.commands._planning import add_planning_options, iso_date, runner_from


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("where-used", help="assemblies using an item (multi-level)")
    p.add_argument("item")
    p.add_argument("--single-level", action="store_true", help="direct parents only")
    when = p.add_mutually_exclusive_group()
    when.add_argument("--on", type=iso_date, default=None, dest="on", metavar="DATE",
                      help="through the revisions in force on this date (default: the "
                           "planning day)")
    # the option's old name, kept for scripts that use it
    when.add_argument("--as-of", type=iso_date, dest="on", help=argparse.SUPPRESS)
    when.add_argument("--all-revisions", action="store_true",
                      help="every revision, whatever its dates: quantities per revision "
                           "(least-most where the revision matters)")
    p.add_argument("--include-drafts", action="store_true")
    p.add_argument("--include-obsolete", action="store_true")
    p.add_argument("--site", default=None, help="only paths to top-level items active at SITE")
    p.add_argument("--max-paths", type=int, default=1000)
    add_planning_options(p, horizon=False)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from workbench.app.planning import where_used

    runner = runner_from(args)
    try:
        answer = runner.run(where_used, args.item, on=args.on,
                            include_drafts=args.include_drafts,
                            include_obsolete=args.include_obsolete,
                            multi_level=not args.single_level, site=args.site,
                            max_paths=args.max_paths, all_revisions=args.all_revisions)
    except KeyError as exc:
        raise CliError(str(exc.args[0]), 2) from None
    result = answer.to_json()
    if args.json:
        print_json(result)
        return 0
    for cycle in result["cycles"]:
        print("cycle: " + " -> ".join(cycle))
    when = "every revision" if result["all_revisions"] else f"on {result['as_of']}"
    print(f"{result['item']} used {when}")
    print(f"{'item':24} {'level':>5} {'top':>4} {'qty per top':>21}")
    for a in result["ancestors"]:
        lv = a["min_level"] if a["min_level"] == a["max_level"] else f"{a['min_level']}-{a['max_level']}"
        print(f"{a['item']:24} {lv!s:>5} {'yes' if a['top_level'] else '':>4} {_quantity(a):>21}")
    print(f"{len(result['paths'])} paths" + (" (truncated)" if result["paths_truncated"] else ""))
    return 0


def _quantity(ancestor: dict[str, Any]) -> str:
    """The extended quantity, or least-most where it depends on the revision built."""
    if ancestor["extended_quantity"] is not None:
        return f"{ancestor['extended_quantity']:,.4f}"
    return f"{ancestor['extended_quantity_min']:,.4f}-{ancestor['extended_quantity_max']:,.4f}"
