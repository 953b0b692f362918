"""The command line: the same services as the GUI, for scheduled batch runs and scripting.

Sub-commands live one module each in :mod:`workbench.cli.commands`; every module there exposes
``register(subparsers)`` which adds its parser and sets ``func`` to a callable taking the parsed
arguments and returning an exit code. With no sub-command the GUI opens.

Exit codes: 0 success; 1 the command ran but failed (e.g. a sync with rejected rows); 2 bad
usage or input; 3 the cache could not be opened or used (not a cache, a folder, unreadable,
read-only, damaged, or busy: another process held the write lock longer than we waited).
Failures print one line on stderr, never a traceback; a wait for the write lock is announced on
stderr first. Output into a closed pipe (``workbench outbox | head``) ends the command quietly
(exit code 141, as for a shell tool killed by SIGPIPE).
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from workbench.app.runner import InlineRunner
    from workbench.services.settings import PlanningDefaults


class CliError(Exception):
    """A failure to report as one line on stderr with an exit code."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


def cache_location(text: str) -> Path | str:
    """A ``--cache`` value: a file path, or a ``postgresql://user@host:port/db`` URL (the team
    cache; kept as text, a Path would fold its ``//``)."""
    from workbench.cache.pg import is_postgres_url

    return text.strip() if is_postgres_url(text) else Path(text)


def add_common(parser: argparse.ArgumentParser, *, json_output: bool = True) -> None:
    # SUPPRESS: left out, the sub-command keeps what ``workbench --cache X COMMAND`` gave (a
    # default of None here overwrote it, and the command wrote the user's default cache)
    parser.add_argument("--cache", type=cache_location, default=argparse.SUPPRESS,
                        help="cache file or postgresql://user@host:port/db (default: user data dir)")
    if json_output:
        parser.add_argument("--json", action="store_true", help="print machine-readable JSON")


def qty(value: float, width: int = 0) -> str:
    """A quantity as a planner reads it: thousands separated, at most 3 decimals, never in
    exponent notation (``47,111.92``, not ``4.711e+04``), right-aligned in ``width``."""
    text = f"{value:,.3f}".rstrip("0").rstrip(".")
    if text == "-0":  # float noise below the shown precision
        text = "0"
    return f"{text:>{width}}"


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, default=str, ensure_ascii=False)
    sys.stdout.write("\n")


def open_engine(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from workbench.cache.db import CacheError, open_cache
    from workbench.services.settings import SettingsError, load_settings

    if args.cache is None:  # the cache the settings (or the site profile) name, else the default
        try:
            configured = load_settings().cache_path
        except SettingsError as exc:
            raise CliError(str(exc), 2) from None
        if configured:
            args.cache = cache_location(configured)
            if isinstance(args.cache, Path):
                args.cache = args.cache.expanduser()
    try:
        return open_cache(args.cache)
    except CacheError as exc:
        raise CliError(str(exc), 3) from None


def runner_for(engine: Engine) -> InlineRunner:
    """The runner of a command: operations of :mod:`workbench.app` run inline on ``engine``
    (:class:`~workbench.app.runner.InlineRunner`), a planning session opened with the settings'
    planning defaults (horizon, bucket, forecast consumption) as the GUI opens it. The settings
    are read on the first planning query; a broken settings file is exit code 2."""
    from workbench.app.runner import InlineRunner
    from workbench.services.settings import SettingsError, load_settings

    read: list[PlanningDefaults] = []

    def defaults() -> PlanningDefaults:
        if not read:
            try:
                read.append(load_settings().planning)
            except SettingsError as exc:
                raise CliError(str(exc), 2) from None
        return read[0]

    return InlineRunner(engine, defaults)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="workbench", description="Planner Workbench")
    parser.add_argument("--version", action=_VersionAction,
                        help="show the version, build, cache, settings and site profile paths")
    parser.add_argument("--cache", type=cache_location, default=None,
                        help="cache file (or postgresql:// URL) for the GUI")
    parser.add_argument("--demo", action="store_true", help="GUI: load the small demo into a fresh cache")
    parser.add_argument("--smoke", type=Path, default=None, metavar="PNG",
                        help="GUI: open offscreen, save a screenshot to PNG and exit")
    parser.add_argument("--force", action="store_true",
                        help="GUI --demo: replace a demo cache holding decisions without asking")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    from workbench.cli import commands

    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(sub)
    return parser


class _VersionAction(argparse.Action):
    """``--version``: the version line, then build, cache, settings and site profile paths
    (workbench.startup.version_text); reads ``--cache`` if it came before."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        from workbench.startup import version_text

        print(version_text(getattr(namespace, "cache", None)))
        parser.exit()


#: the exit code of output cut short by a closed pipe (128 + SIGPIPE, as a shell reports it)
EXIT_BROKEN_PIPE = 141


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        from workbench.ui.app import run_gui

        return run_gui(cache=args.cache, demo=args.demo, smoke=args.smoke, force=args.force)
    from workbench.cache import db

    db.activity = "a sync" if args.command == "sync" else f"`workbench {args.command}`"
    db.print_wait_notices()
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
        return code
    except CliError as exc:
        print(f"workbench {args.command}: {exc}", file=sys.stderr)
        return exc.code
    except db.CacheError as exc:
        print(f"workbench {args.command}: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print(f"workbench {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _quiet_after_broken_pipe()
    except Exception as exc:
        if not _is_database_error(exc):
            raise
        explained = db.explain_failure(args.cache or db.default_cache_path(), exc)
        print(f"workbench {args.command}: "
              f"{explained or f'the cache could not be read or written ({exc})'}",
              file=sys.stderr)
        return 3


def _is_database_error(exc: BaseException) -> bool:
    """An error from SQLite or PostgreSQL (psycopg), bare or wrapped by SQLAlchemy (the
    modules looked at only if already loaded)."""
    import sqlite3

    wrapped = sys.modules.get("sqlalchemy.exc")
    psycopg = sys.modules.get("psycopg")
    return isinstance(exc, sqlite3.Error) or (
        wrapped is not None and isinstance(exc, wrapped.DBAPIError)) or (
        psycopg is not None and isinstance(exc, psycopg.Error))


def _quiet_after_broken_pipe() -> int:
    """The reader of our output has gone (``| head``): say nothing more, and let the interpreter's
    final flush of stdout go to /dev/null instead of raising again at exit."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
    return EXIT_BROKEN_PIPE
