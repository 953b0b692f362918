"""``workbench decisions``: record a buyer's decision on a requisition (queued for write-back),
or list the decisions with the state of their write-back — the operations of
:mod:`workbench.app.decisions`, run inline; JSON and text are made here."""

from __future__ import annotations

import argparse

from workbench.cli import CliError, add_common, open_engine, print_json


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("decisions", help="record decisions on requisitions; list them")
    actions = p.add_subparsers(dest="action_name")
    ls = actions.add_parser("list", help="decisions with their write-back state (default)")
    ls.add_argument("--requisition", default=None,
                    help="only this requisition's decisions: its history (who, when, what, why)")
    add_common(ls)
    rec = actions.add_parser("record", help="record a decision; it is queued in the outbox")
    rec.add_argument("requisition", help="requisition code, e.g. REQ-12")
    rec.add_argument("--verdict", required=True, choices=["approve", "modify", "reject"])
    rec.add_argument(
        "--action",
        dest="decision_action",
        default=None,
        help="cancel, reduce, increase, expedite, defer, switch_source, keep, order "
        "(default with --recommendation: the recommended one)",
    )
    rec.add_argument(
        "--recommendation", type=int, default=None, help="recommendation id decided on"
    )
    rec.add_argument("--quantity", type=float, default=None)
    rec.add_argument("--date", default=None, help="new need/delivery date, YYYY-MM-DD")
    rec.add_argument("--supplier", default=None, help="supplier code (switch_source, order)")
    rec.add_argument("--item", default=None,
                     help="alternate component to switch to (switch_source; default with "
                     "--recommendation: the proposed one)")
    rec.add_argument("--comment", default="")
    rec.add_argument("--by", default=None, help="who decides (default: settings user)")
    rec.add_argument("--expected-version", type=int, default=None, metavar="N",
                     help="the requisition's decision version you decided on (`decisions list "
                     "--requisition`): if another buyer decided since, nothing is stored and "
                     "both decisions are shown (exit 4)")
    add_common(rec)
    add_common(p)
    p.set_defaults(func=run, action_name=None)


def _user() -> str:
    from workbench.services.settings import current_user

    return current_user()  # the configured user, else the OS login (unreadable settings too)


def run(args: argparse.Namespace) -> int:
    from workbench.app import decisions as ops
    from workbench.app.runner import InlineRunner
    from workbench.services.decisions import DecisionConflict, DecisionError

    runner = InlineRunner(open_engine(args))
    if args.action_name == "record":
        try:
            outcome = runner.run(
                ops.record,
                args.requisition,
                args.verdict,
                decided_by=args.by or _user(),
                action=args.decision_action,
                quantity=args.quantity,
                date=args.date,
                supplier=args.supplier,
                comment=args.comment,
                recommendation=args.recommendation,
                item=args.item,
                expected_version=args.expected_version,
            ).value
        except DecisionConflict as exc:  # another buyer decided first: both shown, exit 4
            if args.json:
                print_json({"conflict": exc.to_dict()})
            raise CliError(str(exc), 4) from None
        except DecisionError as exc:
            raise CliError(str(exc), 2) from None
        if args.json:
            print_json(outcome.to_dict())
        elif outcome.duplicate:
            print(f"already queued as outbox entry {outcome.outbox} (decision {outcome.decision})")
        elif outcome.outbox:
            print(f"decision {outcome.decision} recorded, queued as outbox entry {outcome.outbox}")
        else:
            print(f"decision {outcome.decision} recorded (nothing to write back)")
        return 0
    frame = runner.run(ops.decision_history, getattr(args, "requisition", None))
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    if args.json:
        print_json(rows)
        return 0
    for r in rows:
        values = " ".join(
            f"{k}={r[k]}" for k in ("item", "quantity", "date", "supplier") if r[k] is not None
        )
        print(
            f"{r['id']:>5} {r['decided_at']} {r['requisition']:14} {r['verdict']:8} "
            f"{r['action']:14} {values:30} {r['outbox_state'] or '-':10} "
            f"by {r['decided_by'] or '-'}"
            + (f" (login {r['workstation_user']}, role {r['db_role']})"
               if r.get("workstation_user") else "")
            + (f": {r['comment']}" if r["comment"] else "")
        )
    if not rows:
        print("no decisions recorded")
    if getattr(args, "requisition", None):
        version = runner.run(ops.decision_version, args.requisition)
        print(f"{args.requisition}: decision version {version} (decide on it with "
              f"--expected-version {version})")
    return 0
