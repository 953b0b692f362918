"""``workbench slippage``: supplier promise-date slippage, OTIF and expected slip."""

from __future__ import annotations

import argparse

from workbench.cli import print_json
from workbench.cli.commands._planning import add_planning_options, runner_from


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("slippage", help="supplier slippage per supplier and PO line")
    p.add_argument("--supplier", default=None)
    p.add_argument("--lines", action="store_true",
                   help="list PO lines too (default: with --supplier)")
    add_planning_options(p, horizon=False)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from workbench.app.suppliers import slippage

    result = runner_from(args).run(slippage, args.supplier, True if args.lines else None).to_json()
    if args.json:
        print_json(result)
        return 0
    # expected slip of a line on its first promise / of a re-promised line (docs/planning.md)
    print(f"{'supplier':12} {'lines':>6} {'changes':>8} {'otif':>6} {'late':>5} {'exp.slip':>9} "
          f"{'re-promised':>11}")
    for s in result["suppliers"]:
        otif = "" if s["otif_rate"] is None else f"{s['otif_rate']:.0%}"
        print(f"{s['supplier']:12} {s['lines']:>6} {s['promise_changes']:>8} {otif:>6} "
              f"{s['open_late_lines']:>5} {s['expected_slip_days']:>9.1f} "
              f"{s['expected_slip_after_repromise_days']:>11.1f}")
    return 0
