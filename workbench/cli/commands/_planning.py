"""Options and session set-up shared by the planning sub-commands (no sub-command of its own)."""

from __future__ import annotations

import argparse
import datetime as dt

from workbench.cli import CliError, add_common, open_engine


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Auto-discovery calls every command module; this one only lends helpers."""


def iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def add_planning_options(parser: argparse.ArgumentParser, *, horizon: bool = True) -> None:
    add_common(parser)
    parser.add_argument("--today", type=iso_date, default=None,
                        help="planning day (default: the cache's as-of day)")
    if horizon:
        parser.add_argument("--horizon", default="26w", help="e.g. 26w or 90d (default 26w)")
        parser.add_argument("--bucket", choices=["week", "day"], default="week")


def session_from(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from workbench.services.planning import open_session

    engine = open_engine(args)
    try:
        session = open_session(engine, today=args.today, horizon=getattr(args, "horizon", "26w"),
                               bucket=getattr(args, "bucket", "week"))
    except ValueError as exc:
        raise CliError(str(exc), 2) from None
    return engine, session
