"""``workbench sources``: list, add and remove configured source systems."""

from __future__ import annotations

import argparse

from workbench.cli import CliError, print_json


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("sources", help="configured source systems (connectors and parameters)")
    actions = p.add_subparsers(dest="action")
    ls = actions.add_parser("list", help="list configured sources")
    ls.add_argument("--json", action="store_true")
    add = actions.add_parser("add", help="add or replace a source")
    add.add_argument("name")
    add.add_argument("connector", help="connector name, e.g. tryton, files")
    add.add_argument("params", nargs="*", metavar="KEY=VALUE",
                     help="connector parameters, e.g. url=https://erp.example.com database=prod "
                          "user=planner (the password goes to the keyring, never here)")
    add.add_argument("--insecure", action="store_true",
                     help="allow a plain http:// URL to another machine (the password and the "
                          "session travel unencrypted: only on a network you trust)")
    rm = actions.add_parser("remove", help="remove a source")
    rm.add_argument("name")
    p.set_defaults(func=run, action=None, json=False)


def run(args: argparse.Namespace) -> int:
    from workbench.app.sync import SourceError, new_source
    from workbench.services.settings import SettingsError, load_settings, save_settings

    try:
        settings = load_settings()
        if args.action == "add":
            params = {}
            for pair in args.params:
                key, sep, value = pair.partition("=")
                if not sep:
                    raise CliError(f"parameter {pair!r} is not KEY=VALUE", 2)
                params[key] = value
            if args.insecure:
                params["insecure"] = "true"
            try:  # the connector's declared options, converted and checked now, not at sync
                cfg = new_source(args.name, args.connector, params)
            except SourceError as exc:
                raise CliError(str(exc), 2) from None
            settings.sources = [s for s in settings.sources if s.name != args.name] + [cfg]
            save_settings(settings)
            print(f"source {args.name} ({args.connector}) saved")
        elif args.action == "remove":
            if settings.source(args.name) is None:
                raise CliError(f"no source named {args.name!r}", 2)
            settings.sources = [s for s in settings.sources if s.name != args.name]
            save_settings(settings)
            print(f"source {args.name} removed")
        elif args.json:
            print_json([s.model_dump() for s in settings.sources])
        else:
            for s in settings.sources:
                shown = " ".join(f"{k}={v}" for k, v in s.params.items())
                print(f"{s.name:16} {s.connector:10} {shown}")
            if not settings.sources:
                print("no sources configured: `workbench sources add NAME CONNECTOR KEY=VALUE ...`")
    except SettingsError as exc:
        raise CliError(str(exc), 2) from None
    return 0
