"""``workbench impact ITEM --from A --to B``: what switching revisions on a date changes."""

from __future__ import annotations

import argparse

from workbench.cli import CliError, print_json, qty
from workbench.cli.commands._planning import add_planning_options, iso_date, runner_from


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("impact", help="impact of moving an item from one BOM revision to another")
    p.add_argument("item")
    p.add_argument("--from", dest="rev_a", required=True, help="current revision")
    p.add_argument("--to", dest="rev_b", required=True, help="new revision")
    p.add_argument("--on", type=iso_date, default=None, help="effectivity date (default: today)")
    p.add_argument("--what-if", action="store_true",
                   help="also show every row whose plan changes: first shortage and net "
                        "requirement before and after (the GUI's what-if table)")
    add_planning_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from workbench.app.planning import impact

    runner = runner_from(args)
    try:
        result = runner.run(impact, args.item, args.rev_a, args.rev_b, args.on).to_json()
        if args.what_if:  # the impact's own comparison: the same rows its summary counts
            result["what_if"] = result["affected_rows"]
    except KeyError as exc:
        raise CliError(str(exc.args[0]), 2) from None
    if args.json:
        print_json(result)
        return 0
    print(result["summary"]["text"])
    for d in result["diff"]:
        print(f"  {d['change']:8} {d['component']:20} {d['before_quantity_per']!s:>10} -> "
              f"{d['after_quantity_per']!s:<10} {', '.join(d['changed_fields'])}")
    for w in result["work_orders"]:
        print(f"  work order {w['code']} ({w['status']}, starts {w['start_date']}): "
              f"{w['after_change']}")
    follow = [o for o in result["planned_orders"] if o["fate"] == "follows"]
    if follow:
        print(f"  planned orders following {args.rev_b}: {len(follow)}, "
              f"{qty(sum(o['quantity'] for o in follow))} in all, first starting "
              f"{follow[0]['start_date']}")
    for n in result["new_requirements"]:
        print(f"  new requirement {n['item']}@{n['site']}: {qty(n['new_net_requirement'])}, "
              f"short from {n['first_shortage_date']}")
    if args.what_if:
        for r in result["what_if"]:
            print(f"  what-if {r['item']}@{r['site']}: first shortage {r['first_a'] or '-'} -> "
                  f"{r['first_b'] or '-'}, net requirement {qty(r['net_a'])} -> {qty(r['net_b'])}")
    return 0
