"""``workbench shortages``: the time-phased shortage timeline (MRP netting) with pegging."""

from __future__ import annotations

import argparse

from workbench.cli import print_json, qty
from workbench.cli.commands._planning import add_planning_options, runner_from


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("shortages", help="shortage timeline per item and site")
    p.add_argument("--item", default=None)
    p.add_argument("--site", default=None)
    p.add_argument("--risk-adjusted", action="store_true",
                   help="move PO lines by their supplier's expected slip; list the differences")
    p.add_argument("--details", action="store_true",
                   help="MRP records and pegging for every listed row (default: with --item)")
    p.add_argument("--limit", type=int, default=None, help="list at most N rows")
    add_planning_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from workbench.app.planning import shortages

    answer = runner_from(args).run(shortages, item=args.item, site=args.site,
                                   risk_adjusted=args.risk_adjusted,
                                   details=True if args.details else None, limit=args.limit)
    result = answer.to_json()
    if args.json:
        print_json(result)
        return 0
    print(f"planning day {result['planning_day']}, {result['buckets']} {result['bucket']} "
          f"buckets: {result['rows_total']} rows")
    for r in result["rows"]:
        print(f"{r['item']:24} {r['site']:8} short {r['first_shortage_date']!s:10} "
              f"{qty(r['first_shortage_quantity'], 12)}  past-due release "
              f"{qty(r['past_due_release'])}")
        for rec in r.get("record", []):
            print(f"    {rec['date']!s:10} GR {qty(rec['gross_requirements'], 10)} "
                  f"SR {qty(rec['scheduled_receipts'], 10)} "
                  f"PA {qty(rec['projected_available'], 10)} "
                  f"NR {qty(rec['net_requirements'], 10)} PR {qty(rec['planned_receipts'], 10)} "
                  f"REL {qty(rec['planned_releases'], 10)}")
    for d in result.get("differences", []):
        print(f"risk-adjusted: {d['item']}@{d['site']} short {d['first_shortage_date']} -> "
              f"{d['first_shortage_date_risk_adjusted']}")
    return 0
