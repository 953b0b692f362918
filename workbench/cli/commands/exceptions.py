"""``workbench exceptions``: the exception messages of the current plan (computed, merged into
the stored state, listed), ``exceptions ack|snooze ID...`` to triage them, and
``exceptions approve|reject ID... [--quantity Q] [--date D]`` (or ``approve --supplier S``: every
open undecided reschedule of that supplier) to decide on firm orders' advice (PO lines are
written back through the outbox: ``workbench outbox --send``; work orders recorded).

On a team cache several buyers decide at once (issue 17 §2): the list shows the decision version
of a decided message's PO line or work order (``version N`` after its decision; ``--json``:
``decision_version``, 0 when never decided) and ``approve|reject ID --expected-version N``
decides only if nobody decided that element since: otherwise nothing is stored, both decisions
are shown (stderr; ``--json``: the result's ``conflict``) and the exit code is 4, as for
``workbench decisions record --expected-version``.

Listing computes the messages for the cache's current plan first (``--no-refresh``: list the
stored state only). Tolerances default to the planning settings (docs/exceptions.md); options
override them for one run.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

from workbench.cli import CliError, add_common, print_json, qty
from workbench.cli.commands._planning import add_planning_options, days, iso_date, runner_from

TOLERANCES = ("reschedule_in_tolerance_days", "reschedule_out_tolerance_days",
              "past_due_tolerance_days", "confirmation_days", "confirmation_tolerance_days",
              "ship_notice_tolerance_days")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("exceptions", help="exception messages: list, acknowledge, snooze")
    actions = p.add_subparsers(dest="exceptions_action")
    for name, helptext in (("ack", "acknowledge messages"), ("snooze", "snooze messages")):
        a = actions.add_parser(name, help=helptext)
        a.add_argument("ids", nargs="+", type=int, metavar="ID")
        if name == "snooze":
            a.add_argument("--until", type=iso_date, required=True, help="YYYY-MM-DD")
        a.add_argument("--by", default=None, help="who (default: settings user)")
        add_common(a)
    for name, helptext in (("approve", "approve messages' advice (PO lines: written back)"),
                           ("reject", "reject messages' advice (recorded, nothing sent)")):
        a = actions.add_parser(name, help=helptext)
        a.add_argument("ids", nargs="*", type=int, metavar="ID")
        if name == "approve":
            a.add_argument("--quantity", type=_quantity, default=None, metavar="Q",
                           help="new open quantity (stock unit) instead of the advised one")
            a.add_argument("--date", type=iso_date, default=None, metavar="YYYY-MM-DD",
                           help="new date instead of the advised one")
            a.add_argument("--supplier", default=None, metavar="S",
                           help="approve every open undecided reschedule of this supplier")
        a.add_argument("--comment", default="", help="why (stored with the decision)")
        a.add_argument("--by", default=None, help="who (default: settings user)")
        a.add_argument("--expected-version", type=int, default=None, metavar="N",
                       help="the decision version of the message's PO line or work order you "
                       "decided on (the list's `version N`, 0 when undecided; one ID): if "
                       "another buyer decided it since, nothing is stored and both decisions "
                       "are shown (exit 4)")
        add_common(a)
    p.add_argument("--role", choices=["planner", "buyer", "engineering", "data_steward"])
    p.add_argument("--kind", default=None, help="kind name or code, e.g. reschedule_in or E01")
    p.add_argument("--site", default=None)
    p.add_argument("--supplier", default=None)
    p.add_argument("--min-age", type=days, default=None, metavar="DAYS",
                   help="only messages open at least DAYS planning days")
    p.add_argument("--all", action="store_true", help="include snoozed and resolved messages")
    p.add_argument("--no-refresh", action="store_true",
                   help="list the stored state; do not compute the current plan's messages")
    p.add_argument("--limit", type=int, default=None, help="print at most N messages")
    for name in TOLERANCES:
        p.add_argument("--" + name.replace("_", "-"), type=days, default=None, metavar="DAYS",
                       help="default: planning settings")
    add_planning_options(p)
    p.set_defaults(func=run, exceptions_action=None)


def _quantity(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a quantity (0 or more)")
    return value


def _decide(args: argparse.Namespace) -> int:
    """``exceptions approve|reject``: decisions on messages (each on its own; the outcomes
    printed, failures on stderr; exit 1 when some failed, 2 when all did)."""
    from workbench.app import exceptions as ops

    supplier = getattr(args, "supplier", None)
    if bool(args.ids) == bool(supplier):
        raise CliError(f"exceptions {args.exceptions_action}: give message IDs"
                       + (" or --supplier S (not both)" if args.exceptions_action == "approve"
                          else ""), 2)
    expected = args.expected_version
    if expected is not None and (supplier or len(args.ids) != 1):
        raise CliError(f"exceptions {args.exceptions_action}: --expected-version is the version "
                       "of one message's element: give exactly one ID", 2)
    runner = runner_from(args)
    if supplier:
        outcomes = runner.run(ops.approve_supplier_reschedules, supplier, _user(args)).value
    else:
        outcomes = runner.run(ops.decide_messages, args.ids, args.exceptions_action,
                              _user(args), quantity=getattr(args, "quantity", None),
                              date=getattr(args, "date", None), comment=args.comment,
                              expected_versions=None if expected is None
                              else {args.ids[0]: expected}).value
    failed = [o for o in outcomes if o.error]
    if args.json:
        print_json({"action": args.exceptions_action, "supplier": supplier,
                    "results": [o.to_dict() for o in outcomes]})
    else:
        for o in outcomes:
            if o.error:
                continue
            what = " ".join(x for x in (o.action, f"to {o.date}" if o.date else "",
                                        f"qty {qty(o.quantity)}" if o.quantity is not None
                                        else "") if x)
            state = ("already queued" if o.duplicate else
                     f"queued for write-back (outbox {o.outbox})" if o.written_back else
                     "recorded (advice, not written back)" if o.element_type == "work_order"
                     and o.verdict != "reject" else "recorded")
            print(f"message {o.message} {o.element}: {o.verdict} {what}: {state}")
        if not outcomes:
            print(f"no open undecided reschedules of {supplier}")
    for o in failed:
        print(f"message {o.message}: {o.error}", file=sys.stderr)
    if any(o.conflict for o in failed):  # another buyer decided first: both shown above
        return 4
    if failed:
        return 2 if len(failed) == len(outcomes) else 1
    return 0


def _user(args: argparse.Namespace) -> str:
    from workbench.services.settings import current_user

    return str(args.by or current_user())


def _settings(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from workbench.services.settings import SettingsError, load_settings

    try:
        base = load_settings().planning.exception_settings()
    except SettingsError as exc:
        raise CliError(str(exc), 2) from None
    given = {n: getattr(args, n) for n in TOLERANCES if getattr(args, n, None) is not None}
    return dataclasses.replace(base, **given)


def run(args: argparse.Namespace) -> int:
    from workbench.app import exceptions as ops
    from workbench.cache.exceptions import MessageStateError

    if args.exceptions_action in ("approve", "reject"):
        return _decide(args)
    if args.exceptions_action in ("ack", "snooze"):
        runner = runner_from(args)
        try:
            if args.exceptions_action == "ack":
                done = runner.run(ops.acknowledge_exceptions, args.ids, _user(args)).value
            else:
                done = runner.run(ops.snooze_exceptions, args.ids, args.until,
                                  _user(args)).value
        except MessageStateError as exc:
            raise CliError(str(exc), 2) from None
        if args.json:
            print_json({"action": args.exceptions_action, "ids": done})
        else:
            verb = "acknowledged" if args.exceptions_action == "ack" else \
                f"snoozed until {args.until}"
            print(f"{len(done)} message(s) {verb}")
        return 0
    from workbench.analysis.exceptions.kinds import CODES, KINDS

    if args.kind is not None and args.kind not in KINDS and args.kind not in CODES:
        raise CliError(f"--kind {args.kind!r}: expected one of {', '.join(CODES)} or a kind "
                       f"name ({', '.join(KINDS)})", 2)
    runner = runner_from(args)
    refreshed = None
    if not args.no_refresh:  # compute on the plan, store in the cache: each where it belongs
        settings = _settings(args)
        names = runner.run(ops.exception_site_names)
        counts = runner.run(ops.exception_count_units)
        computed = runner.run(ops.compute_exception_messages, settings, names, counts)
        refreshed = runner.run(ops.store_exception_messages, computed).value
    found = runner.run(ops.list_exceptions, role=args.role, kind=args.kind, site=args.site,
                       supplier=args.supplier, min_age=args.min_age,
                       include_snoozed=args.all, include_resolved=args.all)
    total = len(found)
    if args.limit is not None:
        found = found[:args.limit]
    if args.json:
        print_json({"refresh": None if refreshed is None else dataclasses.asdict(refreshed),
                    "total": total, "messages": [m.to_dict() for m in found]})
        return 0
    if refreshed is not None:
        print(f"planning day {refreshed.planning_day}: {refreshed.new} new, "
              f"{refreshed.still_open} still open, {refreshed.reappeared} raised again, "
              f"{refreshed.resolved} resolved; {total} listed")
    for m in found:
        msg = m.message
        advice = " ".join(x for x in (
            f"to {msg['suggested_date']}" if msg.get("suggested_date") else "",
            f"qty {qty(msg['suggested_quantity'])}" if msg.get("suggested_quantity") is not None
            else "") if x)
        decided = (f"  [{m.decision.label}]" if m.decision is not None else "") + (
            f" version {m.decision_version}" if m.decision_version else "")
        print(f"{m.id:>6} {m.code} {m.severity:6} {m.role:12} {m.age_days:>3} d {m.state:12} "
              f"{m.element:22} {m.item}@{m.site} {advice}  {msg.get('reason', '')}{decided}")
    return 0
