"""``workbench reevaluate``: a recommendation for every open requisition, stored for approval.

Advice the buyer already modified or rejected is stored *held* until its facts change
materially (:mod:`workbench.services.reevaluate`); ``--json`` gives each recommendation's
``status`` (open or held) and the ``held`` count. The same operations as the Approvals screen's
"Re-evaluate" (:mod:`workbench.app.decisions`: evaluate on the planning session, then store),
run inline."""

from __future__ import annotations

import argparse

from workbench.cli import print_json
from workbench.cli.commands._planning import add_planning_options, runner_from


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("reevaluate", help="re-evaluate open requisitions against the plan")
    p.add_argument("--dry-run", action="store_true", help="do not store the recommendations")
    p.add_argument("--no-pegs", action="store_true", help="skip pegged demands in the evidence")
    add_planning_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from workbench.app import decisions as ops

    runner = runner_from(args)
    units = runner.run(ops.unit_tables)
    evaluation = runner.run(ops.evaluate, units, with_pegs=not args.no_pegs)
    result = runner.run(ops.store_recommendations, evaluation,
                        save=not args.dry_run).value.to_dict()
    if args.json:
        print_json(result)
        return 0
    for r in result["recommendations"]:
        action = r["action"]
        if r.get("proposed_item"):
            action = f"{action} -> {r['proposed_item']}"
        held = " (held)" if r.get("status") == "held" else ""
        print(f"{r['requisition']:16} {action:14} {r['reason']}{held}")
    print(f"{len(result['recommendations'])} recommendations, stored {result['stored']}: "
          + ", ".join(f"{k} {v}" for k, v in result["actions"].items())
          + (f"; {result['held']} held back by the buyer's earlier decision (nothing material "
             f"changed)" if result.get("held") else ""))
    return 0
