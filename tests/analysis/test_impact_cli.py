"""``workbench impact`` prints the impact's own summary (the GUI's summary line) and, with
``--what-if``, the rows that summary counts; hand-computed on the CLI test plant."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.analysis.builders import TODAY, week
from tests.analysis.test_services_cli import cache  # noqa: F401  (fixture)
from workbench.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["impact", *args]) == 0
    return capsys.readouterr().out


def test_impact_text_is_the_summary_and_the_what_if_rows(cache: Path, capsys) -> None:  # noqa: F811
    out = run(capsys, "FG", "--from", "A", "--to", "B", "--on", TODAY.isoformat(), "--what-if",
              "--cache", str(cache)).splitlines()
    # FG (LT 1 week): D1 10 in week 3 -> one planned order starting week 2, after the switch, so
    # it follows B: RAW's 20 in week 2 go (5 on hand, 5 on PO1 and 10 of R1 become excess at
    # 2 each = 40), NEW needs 10 in week 2 with nothing on hand or on order
    assert out[0] == (
        f"FG A → B on {TODAY}: 2 line change(s); 0 assemblies above; work orders: 0 keep their "
        "components (released), 0 follow B (planned); 1 planned order(s) follow B; 1 demand(s) "
        "affected; excess value 40.00 (3 supply element(s)); 1 row(s) with new shortages; "
        "2 row(s) change in the plan.")
    assert f"  planned orders following B: 1, 10 in all, first starting {week(2)}" in out
    assert f"  new requirement NEW@S1: 10, short from {week(2)}" in out
    assert out[-2:] == [
        f"  what-if NEW@S1: first shortage - -> {week(2)}, net requirement 0 -> 10",
        f"  what-if RAW@S1: first shortage {week(2)} -> -, net requirement 10 -> 0"]


def test_impact_text_says_why_nothing_changes(cache: Path, capsys) -> None:  # noqa: F811
    out = run(capsys, "FG", "--from", "A", "--to", "B", "--on", week(30).isoformat(),
              "--cache", str(cache))
    # the default horizon is 26 weeks from the planning day: 3 Mar to 31 Aug 2025
    assert out.splitlines()[0].endswith(
        f"0 row(s) change in the plan. Nothing changes in the horizon, because {week(30)} is "
        f"after the planning horizon, which ends on {week(25, 6)}.")
