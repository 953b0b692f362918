"""Options and the runner shared by the planning sub-commands (no sub-command of its own).

Each planning command asks the same operations the screens ask (:mod:`workbench.app.planning`,
...) through :func:`runner_from` (inline, on its own session) and makes JSON or text of the typed
answer at this edge."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import TYPE_CHECKING, Any

from workbench.app.runner import InlineRunner
from workbench.cli import CliError, add_common, open_engine

if TYPE_CHECKING:  # the engine (pandas) loads only when a command runs, not to build the parser
    from sqlalchemy import Engine

    from workbench.analysis.consumption import ForecastConsumption
    from workbench.services.tasks import TaskState


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Auto-discovery calls every command module; this one only lends helpers."""


def iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def days(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days (0 or more)")
    return value


def add_planning_options(parser: argparse.ArgumentParser, *, horizon: bool = True) -> None:
    """``--today`` always; with ``horizon`` (commands that net a plan) also the horizon, the
    bucket and the forecast consumption windows."""
    add_common(parser)
    parser.add_argument("--today", type=iso_date, default=None,
                        help="planning day (default: the cache's as-of day)")
    if horizon:
        parser.add_argument("--horizon", default="26w", help="e.g. 26w or 90d (default 26w)")
        parser.add_argument("--bucket", choices=["week", "day"], default="week")
        # defaults: workbench.analysis.consumption.DEFAULT_CONSUMPTION (a test keeps the help
        # text in step with it)
        parser.add_argument("--consume-backward", type=days, default=None, metavar="DAYS",
                            help="sales orders consume forecast (and MPS) of their item and site "
                                 "due up to DAYS before them (default 30)")
        parser.add_argument("--consume-forward", type=days, default=None, metavar="DAYS",
                            help="then forecast due up to DAYS after them (default 0)")
        parser.add_argument("--no-forecast-consumption", action="store_true",
                            help="plan every open forecast and sales order in full (no "
                                 "consumption; past-due forecast is planned too)")


def consumption_from(args: argparse.Namespace) -> ForecastConsumption | None:
    """The forecast consumption windows the options ask for (``None``: no consumption)."""
    from workbench.analysis.consumption import DEFAULT_CONSUMPTION, ForecastConsumption

    if getattr(args, "no_forecast_consumption", False):
        return None
    back = getattr(args, "consume_backward", None)
    forward = getattr(args, "consume_forward", None)
    return ForecastConsumption(
        DEFAULT_CONSUMPTION.backward_days if back is None else back,
        DEFAULT_CONSUMPTION.forward_days if forward is None else forward)


class PlanningRunner(InlineRunner):
    """The CLI's runner: operations run inline (:class:`~workbench.app.runner.InlineRunner`) on
    the opened cache, the planning session opened on the first planning query with the command's
    options (``--today``, ``--horizon`` in weeks or days, ``--bucket``, the forecast consumption
    windows), which the settings' planning defaults cannot all express. A bad option (e.g. an
    unreadable horizon) is a :class:`CliError` with exit code 2."""

    def __init__(self, engine: Engine, args: argparse.Namespace) -> None:
        super().__init__(engine)
        self.args = args

    def session(self, state: TaskState | None = None) -> Any:
        if self._session is None:
            from workbench.services.planning import open_session

            args = self.args
            try:
                self._session = open_session(self.engine, today=args.today,
                                             horizon=getattr(args, "horizon", "26w"),
                                             bucket=getattr(args, "bucket", "week"),
                                             consumption=consumption_from(args), state=state)
            except ValueError as exc:
                raise CliError(str(exc), 2) from None
        return self._session


def runner_from(args: argparse.Namespace) -> PlanningRunner:
    """The runner of a planning command: the cache ``--cache`` names (or the settings'), the
    session with the command's planning options."""
    return PlanningRunner(open_engine(args), args)


def session_from(args: argparse.Namespace) -> tuple[Engine, Any]:
    """The engine and the planning session of :func:`runner_from` (for a command that still
    hands the session to a service itself; prefer ``runner_from(args).run(operation, ...)``)."""
    runner = runner_from(args)
    return runner.engine, runner.session()
