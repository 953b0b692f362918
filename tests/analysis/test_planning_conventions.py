"""The worked examples of docs/planning.md, computed by the engine (the page and the code cannot
drift apart: change one, this test tells you to change the other)."""

from __future__ import annotations

import datetime as dt

import numpy as np

from tests.analysis.builders import data, demand, item, line, revision, weekly
from workbench.analysis.calendar import Calendar
from workbench.analysis.consumption import DEFAULT_CONSUMPTION
from workbench.analysis.data import day_number
from workbench.analysis.netting import lot_size, plan
from workbench.analysis.sources import collect

D = dt.date


def test_bucket_boundaries() -> None:
    cal = Calendar.weekly(D(2025, 3, 5), 4)  # a Wednesday
    assert cal.date(0) == D(2025, 3, 3)  # weeks start on Monday
    days = [day_number(d) for d in (D(2025, 3, 14), D(2025, 2, 20), D(2025, 3, 30),
                                    D(2025, 3, 31))]
    assert cal.bucket(np.array(days)).tolist() == [1, 0, 3, -1]
    assert cal.need_date(1) == D(2025, 3, 10)  # the Friday order is needed on Monday
    assert cal.need_date(0) == D(2025, 3, 5)  # ... but never before the planning day


def test_lead_time_rounding() -> None:
    weekly_cal, daily_cal = Calendar.weekly(D(2025, 3, 3), 8), Calendar.daily(D(2025, 3, 3), 30)
    assert weekly_cal.offset(np.array([10, 7, 0, 1])).tolist() == [2, 1, 0, 1]
    assert daily_cal.offset(np.array([10])).tolist() == [10]
    # P (lead 10 days) needs 40 on Friday 28 March (week 3): released in week 1 (10 March)
    d = data(items=[item("P", lead_time_days=10)], demands=[demand("D1", "P", 40, D(2025, 3, 28))])
    p = plan(d, weekly(6))
    row = p.row("P", "S1")
    assert row is not None
    rec = p.record(row)
    assert rec["planned_receipts"].tolist() == [0, 0, 0, 40, 0, 0]
    assert rec["planned_releases"].tolist() == [0, 40, 0, 0, 0, 0]


def test_minimum_then_multiple_and_fixed_order_quantity() -> None:
    net = np.array([23.0, 23.0, 23.0, 23.0, 60.0])
    moq = np.array([50.0, 0.0, 50.0, 25.0, 25.0])
    mult = np.array([0.0, 20.0, 20.0, 25.0, 25.0])
    assert lot_size(net, moq, mult).tolist() == [50, 40, 60, 25, 75]


def test_scrap_adds_to_quantity_per() -> None:
    d = data(items=[item("P", make_buy="make"), item("C")], bom_revisions=[revision("P")],
             bom_lines=[line("P", "C", 3, scrap_pct=10)],
             demands=[demand("D1", "P", 100, D(2025, 3, 10))])
    p = plan(d, weekly(3))
    row = p.row("C", "S1")
    assert row is not None
    assert np.allclose(p.record(row)["gross_requirements"].to_numpy(), [0, 330, 0])


def test_forecast_consumption() -> None:
    d = data(items=[item("X")], demands=[
        demand("F1", "X", 100, D(2025, 3, 3), kind="forecast"),
        demand("F2", "X", 100, D(2025, 3, 31), kind="forecast"),
        demand("S1", "X", 30, D(2025, 3, 20)),
        demand("S2", "X", 120, D(2025, 4, 2)),
    ])
    req = collect(d, consumption=DEFAULT_CONSUMPTION).requirements.set_index("ref")["quantity"]
    # S1 (20 Mar) takes 30 of F1 (17 days before it); S2 (2 Apr) takes F2's 100 (2 days
    # before), then 20 of the 70 S1 left of F1 (30 days before): F1 plans 50; orders in full
    assert req.to_dict() == {"F1": 50, "S1": 30, "S2": 120}
    d2 = d.replace(demands=d.demands[d.demands["code"] != "S2"])
    req2 = collect(d2, consumption=DEFAULT_CONSUMPTION).requirements.set_index("ref")["quantity"]
    assert req2.to_dict() == {"F1": 70, "F2": 100, "S1": 30}


def test_every_option_the_readme_shows_is_one_the_cli_accepts() -> None:
    """README and CLI use the same option names (e.g. ``where-used --on`` like ``impact --on``)."""
    import argparse
    import re
    from pathlib import Path

    from workbench.cli import build_parser

    def options(parser: argparse.ArgumentParser) -> set[str]:
        found: set[str] = set()
        for action in parser._actions:
            found.update(action.option_strings)
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    found |= options(sub)
        return found

    commands = next(a for a in build_parser()._actions
                    if isinstance(a, argparse._SubParsersAction)).choices
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    shown = [c for c in re.findall(r"`workbench ([a-z][^`]*)`", readme)]
    assert any(c.startswith("where-used") and "--on" in c for c in shown)
    for command in shown:
        name = command.split()[0]
        assert name in commands, command
        missing = set(re.findall(r"--[a-z][a-z-]*", command)) - options(commands[name])
        assert not missing, (command, missing)
