"""``workbench elements ITEM``: the element list of an item at a site (like MD04): every
receipt and requirement in date order with the running available quantity, the exception
codes of the stored open messages, and period totals (rules: workbench/analysis/elements.py)."""

from __future__ import annotations

import argparse

from workbench.cli import CliError, print_json, qty
from workbench.cli.commands._planning import add_planning_options, runner_from


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
    from workbench.app.exceptions import element_codes, elements
    from workbench.app.planning import planning_day
    from workbench.services.planning import plain, records

    runner = runner_from(args)
    codes = runner.run(element_codes, args.item, args.site)
    try:
        result = runner.run(elements, args.item, args.site, args.totals, codes)
    except UnknownRow as exc:
        raise CliError(str(exc.args[0]), 2) from None
    today = runner.run(planning_day)
    if args.json:
        print_json(plain({"item": result.item, "site": result.site,
                          "description": result.description, "unit": result.unit,
                          "safety_stock": result.safety_stock, "planning_day": today,
                          "lines": records(result.lines), "totals": records(result.totals)}))
        return 0
    print(f"{result.item} {result.description} at {result.site} (unit {result.unit}), "
          f"planning day {today}")
    for r in records(result.lines):
        print(f"{r['date']!s:10} {r['type']:14} {r['element']:24} {r['supplier']:8} "
              f"{qty(r['receipt'], 12)} {qty(r['requirement'], 12)} {qty(r['available'], 12)} "
              f"{r['exception']}")
    print("totals:")
    for t in records(result.totals):
        print(f"{t['period']!s:10} receipts {qty(t['receipts'], 12)} requirements "
              f"{qty(t['requirements'], 12)} available {qty(t['available'], 12)}")
    return 0
