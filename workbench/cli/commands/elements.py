"""``workbench elements ITEM``: the element list of an item at a site (like MD04): every
receipt and requirement in date order with the running available quantity, the exception
codes of the stored open messages, and period totals (rules: workbench/analysis/elements.py)."""

from __future__ import annotations

import argparse

from workbench.cli import CliError, print_json, qty
from workbench.cli.commands._planning import add_planning_options, session_from


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("elements", help="element list of an item at a site (MD04-like)")
    p.add_argument("item")
    p.add_argument("--site", default=None, help="default: the item's first site")
    p.add_argument("--bucket", choices=["day", "week", "month"], default="week",
                   dest="totals", help="period totals by day, week or month (default week; "
                                       "the plan itself nets in weekly buckets)")
    add_planning_options(p, horizon=False)
    p.add_argument("--horizon", default="26w", help="e.g. 26w or 90d (default 26w)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from workbench.analysis.elements import UnknownRow
    from workbench.services.exceptions import elements
    from workbench.services.planning import plain, records

    engine, session = session_from(args)
    try:
        result = elements(session, args.item, args.site, args.totals, engine)
    except UnknownRow as exc:
        raise CliError(str(exc.args[0]), 2) from None
    if args.json:
        print_json(plain({"item": result.item, "site": result.site,
                          "description": result.description, "unit": result.unit,
                          "safety_stock": result.safety_stock, "planning_day": session.today,
                          "lines": records(result.lines), "totals": records(result.totals)}))
        return 0
    print(f"{result.item} {result.description} at {result.site} (unit {result.unit}), "
          f"planning day {session.today}")
    for r in records(result.lines):
        print(f"{r['date']!s:10} {r['type']:14} {r['element']:24} {r['supplier']:8} "
              f"{qty(r['receipt'], 12)} {qty(r['requirement'], 12)} {qty(r['available'], 12)} "
              f"{r['exception']}")
    print("totals:")
    for t in records(result.totals):
        print(f"{t['period']!s:10} receipts {qty(t['receipts'], 12)} requirements "
              f"{qty(t['requirements'], 12)} available {qty(t['available'], 12)}")
    return 0
