"""``workbench team push``: the decisions made on an offline copy of the team cache go to the
team (its decisions and outbox; the team's worker sends them to the ERP, never this workstation).

Exit codes: 0 every queued decision reached the team (or none was queued); 1 some did not —
the team was not reachable (they stay queued and go with the next push or sync), a team decision
on the same record made after the copy was taken (a conflict: ``workbench outbox`` shows both
decisions), or the team refused one; 2 no team source configured. See docs/team-cache.md."""

from __future__ import annotations

import argparse

from workbench.cli import CliError, add_common, open_engine, print_json, runner_for


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("team", help="an offline copy of the team cache: push its decisions")
    actions = p.add_subparsers(dest="action", required=True)
    push = actions.add_parser("push", help="take the decisions made on this copy into the team")
    push.add_argument("--source", default=None, metavar="NAME",
                      help="the team source (default: the only one configured)")
    add_common(push)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from workbench.app.team import push_team
    from workbench.services.settings import SettingsError, load_settings
    from workbench.services.team import NoTeamSource, team_source

    try:
        source = team_source(load_settings().sources, args.source)
    except (NoTeamSource, SettingsError) as exc:
        raise CliError(str(exc), 2) from None
    engine = open_engine(args)
    result = runner_for(engine).run(push_team, source).value
    if args.json:
        print_json(result.to_dict())
    else:
        taken = len(result.sent) + len(result.already_applied)
        print(f"{taken} decision{'s' if taken != 1 else ''} taken into the team "
              f"({source.name})")
        if result.conflicts:
            print(f"{len(result.conflicts)} in conflict with a team decision made meanwhile "
                  f"(entries {', '.join(map(str, result.conflicts))}; `workbench outbox` shows "
                  f"both)")
        if result.retrying or result.waiting:
            print(f"{len(result.retrying) + len(result.waiting)} waiting: the team cache was not "
                  f"reachable; they stay queued")
        if result.failed:
            print(f"{len(result.failed)} refused by the team (entries "
                  f"{', '.join(map(str, result.failed))})")
        for message in result.messages:
            print(message)
    bad = result.conflicts or result.failed or result.retrying or result.waiting
    if bad:
        raise CliError("not every decision reached the team", 1)
    return 0
