"""Forecast consumption, hand-computed: which forecast each sales order consumes, what is left,
and what netting makes of it (rules in :mod:`workbench.analysis.consumption`).

Days are counted from the planning day ``TODAY`` (Monday 2025-03-03): ``day(n)`` is n days later.
Expected tables give each demand's requirement after consumption (``code: quantity``); a
consumed forecast entry is listed with 0 (it is no requirement any more).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.analysis.builders import (
    TODAY,
    assert_record,
    data,
    demand,
    item,
    po_line,
    stock,
    week,
    weekly,
)
from workbench.analysis.consumption import DEFAULT_CONSUMPTION, ForecastConsumption, consume
from workbench.analysis.data import PlanningData
from workbench.analysis.netting import plan
from workbench.analysis.pegging import Pegging
from workbench.analysis.sources import collect, demand_requirements


def day(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


def fc(code: str, qty: float, due: dt.date, item_: str = "A", site: str = "S1",
       **kw: Any) -> dict[str, Any]:
    return demand(code, item_, qty, due, site, kind="forecast", **kw)


def so(code: str, qty: float, due: dt.date, item_: str = "A", site: str = "S1",
       **kw: Any) -> dict[str, Any]:
    return demand(code, item_, qty, due, site, kind="sales_order", **kw)


def left(demands: list[dict[str, Any]],
         windows: ForecastConsumption | None = DEFAULT_CONSUMPTION) -> dict[str, float]:
    """Requirement of each open demand after consumption, by code."""
    req = demand_requirements(data(demands=demands), windows)
    return {str(c): float(q) for c, q in zip(req["ref"], req["quantity"])}


def matches(demands: list[dict[str, Any]],
            windows: ForecastConsumption = DEFAULT_CONSUMPTION) -> list[tuple[str, str, float]]:
    """(order, forecast, quantity) in consumption order."""
    d = data(demands=demands).demands
    from workbench.analysis.data import day_numbers

    used = consume(d["item"].to_numpy(), d["site"].to_numpy(), day_numbers(d["due_date"]),
                   d["quantity"].to_numpy(float), d["kind"].to_numpy(), d["code"].to_numpy(),
                   windows)
    codes = d["code"].to_numpy()
    return [(str(codes[o]), str(codes[f]), float(q)) for o, f, q in
            zip(used.matches["order"], used.matches["forecast"], used.matches["quantity"])]


def test_backward_nearest_forecast_first_orders_in_due_date_order() -> None:
    # SO2 is listed first but due later: SO1 (day 10) goes first and takes 30 of F7 (the nearest
    # forecast on or before day 10); SO2 (day 12) takes F7's other 70, then 10 of F0.
    demands = [so("SO2", 80, day(12)), so("SO1", 30, day(10)),
               fc("F0", 100, day(0)), fc("F7", 100, day(7)), fc("F14", 100, day(14))]
    assert left(demands) == {"SO2": 80, "SO1": 30, "F0": 90, "F7": 0, "F14": 100}
    assert matches(demands) == [("SO1", "F7", 30), ("SO2", "F7", 70), ("SO2", "F0", 10)]


def test_partial_consumption_across_several_forecast_entries() -> None:
    # weekly forecast 25; SO1 (day 15, 30): F14 25 + F7 5; SO2 (day 22, 50): F21 25, F14 is
    # used up, F7's last 20, then 5 of F0 (22 days back, inside 30). 180 demanded -> 100.
    demands = [fc(f"F{d}", 25, day(d)) for d in (0, 7, 14, 21)] + \
        [so("SO1", 30, day(15)), so("SO2", 50, day(22))]
    assert left(demands) == {"F0": 20, "F7": 0, "F14": 0, "F21": 0, "SO1": 30, "SO2": 50}
    assert matches(demands) == [("SO1", "F14", 25), ("SO1", "F7", 5), ("SO2", "F21", 25),
                                ("SO2", "F7", 20), ("SO2", "F0", 5)]


def test_backward_window_edges_and_forward_window_edges() -> None:
    # order day 40, windows 30 back / 7 forward: day 10 (30 before) is in, day 9 out;
    # day 47 (7 after) is in, day 48 out.
    demands = [fc("F9", 10, day(9)), fc("F10", 10, day(10)), fc("F47", 10, day(47)),
               fc("F48", 10, day(48)), so("SO", 100, day(40))]
    windows = ForecastConsumption(backward_days=30, forward_days=7)
    assert left(demands, windows) == {"F9": 10, "F10": 0, "F47": 0, "F48": 10, "SO": 100}
    # default (30 back, 0 forward): forecast after the order is never consumed
    assert left(demands) == {"F9": 10, "F10": 0, "F47": 10, "F48": 10, "SO": 100}


def test_backward_before_forward_even_when_forward_forecast_is_nearer() -> None:
    # SO (day 20, 50): backward F15 20, F5 20 (15 days back, while F25 is only 5 ahead), then
    # forward 10 of F25; F30 untouched.
    demands = [fc("F5", 20, day(5)), fc("F15", 20, day(15)), fc("F25", 20, day(25)),
               fc("F30", 20, day(30)), so("SO", 50, day(20))]
    windows = ForecastConsumption(backward_days=30, forward_days=14)
    assert left(demands, windows) == {"F5": 0, "F15": 0, "F25": 10, "F30": 20, "SO": 50}
    assert matches(demands, windows) == [("SO", "F15", 20), ("SO", "F5", 20), ("SO", "F25", 10)]


def test_forward_consumption_of_earlier_orders_leaves_less_for_later_ones() -> None:
    # windows 0 back / 10 forward. SO1 (day 0, 15): F3 10 (nearest ahead), F8 5.
    # SO2 (day 3, 10): F3 on its own day (backward, 0 days) is used up; forward F8's other 5,
    # then F12 5 (9 ahead).
    demands = [fc("F3", 10, day(3)), fc("F8", 10, day(8)), fc("F12", 10, day(12)),
               so("SO1", 15, day(0)), so("SO2", 10, day(3))]
    windows = ForecastConsumption(backward_days=0, forward_days=10)
    assert left(demands, windows) == {"F3": 0, "F8": 0, "F12": 5, "SO1": 15, "SO2": 10}
    assert matches(demands, windows) == [("SO1", "F3", 10), ("SO1", "F8", 5),
                                         ("SO2", "F8", 5), ("SO2", "F12", 5)]


def test_backward_zero_consumes_same_day_forecast_only_and_ties_go_by_code() -> None:
    # two forecast entries and two orders on day 7; day 6 is out of a 0-day window.
    # SO-A (code first) takes FA's 10 then 5 of FB; SO-B takes FB's other 5.
    demands = [fc("FB", 10, day(7)), fc("FA", 10, day(7)), fc("F6", 10, day(6)),
               so("SO-B", 5, day(7)), so("SO-A", 15, day(7))]
    windows = ForecastConsumption(backward_days=0, forward_days=0)
    assert left(demands, windows) == {"FB": 0, "FA": 0, "F6": 10, "SO-B": 5, "SO-A": 15}
    assert matches(demands, windows) == [("SO-A", "FA", 10), ("SO-A", "FB", 5),
                                         ("SO-B", "FB", 5)]


def test_sites_and_items_never_mix() -> None:
    demands = [fc("FA1", 100, day(0)), so("SOA2", 40, day(3), site="S2"),
               so("SOB1", 40, day(3), item_="B"), so("SOA1", 10, day(3))]
    assert left(demands) == {"FA1": 90, "SOA2": 40, "SOB1": 40, "SOA1": 10}


def test_order_larger_than_all_forecast_stays_in_full() -> None:
    # 50 forecast, 80 ordered: demand is the 80 ordered (was 130), forecast all consumed
    demands = [fc("F0", 30, day(0)), fc("F7", 20, day(7)), so("SO", 80, day(9))]
    assert left(demands) == {"F0": 0, "F7": 0, "SO": 80}
    assert sum(left(demands).values()) == 80


def test_mps_is_consumed_like_forecast_and_closed_demand_takes_no_part() -> None:
    # MPS 60 (day 0) and forecast 20 (day 2) form one pool; SO (day 3, 30): F2 20 nearest, then
    # 10 of the MPS. The closed order consumes nothing, the cancelled forecast is no pool.
    demands = [demand("M0", "A", 60, day(0), kind="mps"), fc("F2", 20, day(2)),
               fc("FX", 50, day(3), status="cancelled"), so("SO", 30, day(3)),
               so("SOX", 100, day(3), status="closed")]
    assert left(demands) == {"M0": 50, "F2": 0, "SO": 30}


def test_no_consumption_gives_every_open_demand_in_full() -> None:
    demands = [fc("F0", 25, day(0)), fc("F7", 25, day(7)), so("SO1", 30, day(8)),
               demand("M0", "A", 5, day(1), kind="mps")]
    assert left(demands, None) == {"F0": 25, "F7": 25, "SO1": 30, "M0": 5}
    assert sum(left(demands, None).values()) == 85  # the old sum
    # SO1 (day 8) consumed F7's 25, then M0's 5 (day 1, nearer than F0): 25 + 30 left
    assert left(demands) == {"F0": 25, "F7": 0, "SO1": 30, "M0": 0}


def test_past_due_forecast_left_over_is_not_planned_past_due_orders_are() -> None:
    # Planning day Monday week 0; FP (day -7, 40) is past due. The late order SOL (day -3, 5)
    # goes first: 5 of FP. SO1 (day 2, 50): F0's 40, then 10 of FP. FP's last 25 did not become
    # orders in time: not planned. SOL, past due itself, stays in bucket 0 in full.
    demands = [fc("FP", 40, day(-7)), fc("F0", 40, day(0)), so("SO1", 50, day(2)),
               so("SOL", 5, day(-3)), fc("F7", 40, day(7))]
    assert left(demands) == {"FP": 25, "F0": 0, "SO1": 50, "SOL": 5, "F7": 40}
    d = data(items=[item("A")], demands=demands)
    p = plan(d, weekly(2))
    assert_record(p, "A", """
        GR   55 40
        NR   55 40
    """)
    reqs = Pegging(p).requirements(p.row("A", "S1"))  # type: ignore[arg-type]
    # pegging order within a bucket is by due date: SOL (day -3, past due) before SO1 (day 2)
    assert [(r.bucket, r.ref, r.quantity) for r in reqs] == [(0, "SOL", 5), (0, "SO1", 50),
                                                             (1, "F7", 40)]
    # without consumption: every open demand, the past-due forecast in bucket 0 (the old plan)
    old = plan(d, weekly(2), consumption=None)
    assert_record(old, "A", """
        GR  135 40
    """)


def test_netting_with_consumption_hand_computed_record_and_pegs() -> None:
    """A (lead time 1 week, lot-for-lot), 50 on hand, PO 30 in week 2. Forecast 40 every Monday
    of weeks 0-3; orders SO1 30 (Thu wk 0), SO2 50 (Wed wk 1), SO3 20 (Tue wk 3).

    Consumption (30 back): SO1 takes 30 of F0 (10 left); SO2 takes F1's 40 then F0's last 10;
    SO3 takes 20 of F3 (20 left). Gross per week = orders + forecast left:
    wk0 30 + 0, wk1 50 + 0, wk2 0 + 40, wk3 20 + 20.
    PA: 50-30 = 20; 20-50 = -30 -> plan 30; 0+30-40 = -10 -> plan 10; 0-40 -> plan 40.

    Without consumption gross is 70 90 40 60: PA 50-70 -> plan 20 in week 0 (released past due
    with week 1's 90 in week 0), then 30-40 -> 10, then 60; first shortage week 0 instead of 1.
    """
    d = data(
        items=[item("A", lead_time_days=7)],
        inventory=[stock("A", 50)],
        demands=[fc(f"F{b}", 40, week(b)) for b in range(4)] + [
            so("SO1", 30, week(0, 3)), so("SO2", 50, week(1, 2)), so("SO3", 20, week(3, 1))],
        purchase_order_lines=[po_line("P1", 1, "A", 30, week(2))],
    )
    p = plan(d, weekly(4))
    assert_record(p, "A", """
        GR   30 50 40 40
        SR    0  0 30  0
        PA   20  0  0  0
        NR    0 30 10 40
        PR    0 30 10 40
        REL  30 10 40  0
    """)
    s = p.summary().iloc[0]
    assert s["first_shortage_date"] == np.datetime64("2025-03-10")
    assert s["first_shortage_quantity"] == 30
    assert s["past_due_release"] == 0
    peg = Pegging(p)
    row = p.row("A", "S1")
    assert row is not None
    assert [(r.bucket, r.ref, r.quantity, r.pegs) for r in peg.requirements(row)] == [
        (0, "SO1", 30, {"SO1": 30}), (1, "SO2", 50, {"SO2": 50}), (2, "F2", 40, {"F2": 40}),
        (3, "F3", 20, {"F3": 20}), (3, "SO3", 20, {"SO3": 20})]
    # on hand 50: SO1 30, SO2 20; week 1's order the other 30 of SO2; PO 30 + order 10 for F2
    assert peg.order_pegs(row) == {1: {"SO2": pytest.approx(30)}, 2: {"F2": pytest.approx(10)},
                                   3: {"F3": pytest.approx(20), "SO3": pytest.approx(20)}}

    old = plan(d, weekly(4), consumption=None)
    assert_record(old, "A", """
        GR   70 90 40 60
        SR    0  0 30  0
        PA    0  0  0  0
        NR   20 90 10 60
        PR   20 90 10 60
        REL 110 10 60  0
    """)
    assert old.summary().iloc[0]["first_shortage_date"] == np.datetime64("2025-03-03")


def test_requirements_are_computed_once_per_windows() -> None:
    d = data(items=[item("A")], demands=[fc("F0", 10, day(0)), so("SO", 4, day(1))])
    windows = ForecastConsumption(10, 0)
    assert collect(d, consumption=windows) is collect(d, consumption=ForecastConsumption(10, 0))
    assert collect(d, consumption=None) is not collect(d, consumption=windows)
    with pytest.raises(ValueError):
        ForecastConsumption(-1, 0)


# -- against a plain per-order reference --------------------------------------------------------


def reference(rows: list[dict[str, Any]], back: int, forward: int) -> dict[str, float]:
    """The module doc's rule written the slow, obvious way."""
    rem = {r["code"]: float(r["quantity"]) for r in rows}
    pool = [r for r in rows if r["kind"] in ("forecast", "mps")]
    for o in sorted((r for r in rows if r["kind"] == "sales_order"),
                    key=lambda r: (r["due_date"], r["code"])):
        need = float(o["quantity"])
        same = [f for f in pool if (f["item"], f["site"]) == (o["item"], o["site"])]
        gap = {f["code"]: (f["due_date"] - o["due_date"]).days for f in same}
        backward = sorted((f for f in same if -back <= gap[f["code"]] <= 0),
                          key=lambda f: (-gap[f["code"]], f["code"]))
        ahead = sorted((f for f in same if 0 < gap[f["code"]] <= forward),
                       key=lambda f: (gap[f["code"]], f["code"]))
        for f in backward + ahead:
            take = min(need, rem[f["code"]])
            rem[f["code"]] -= take
            need -= take
    return rem


demand_rows = st.lists(
    st.tuples(st.sampled_from(["forecast", "forecast", "mps", "sales_order", "sales_order"]),
              st.sampled_from(["A", "B"]), st.sampled_from(["S1", "S2"]),
              st.integers(-20, 60), st.integers(1, 50)),
    min_size=1, max_size=40)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(demand_rows, st.integers(0, 40), st.integers(0, 20))
def test_consumption_matches_the_plain_reference(rows: list[tuple[Any, ...]], back: int,
                                                 forward: int) -> None:
    demands = [{"code": f"D{n:03d}", "kind": k, "item": i, "site": s, "due_date": day(d),
                "quantity": float(q)} for n, (k, i, s, d, q) in enumerate(rows)]
    got = left(demands, ForecastConsumption(back, forward))
    want = reference(demands, back, forward)
    assert got == pytest.approx(want)


# -- the parameters as planners set them ------------------------------------------------------


def plant() -> dict[str, list[dict[str, Any]]]:
    iso = dt.date.isoformat
    return {
        "uoms": [{"code": "EA"}],
        "sites": [{"code": "S1"}],
        "items": [{"code": "A", "lead_time_days": 7}],
        "inventory": [{"item": "A", "site": "S1", "quantity": 20, "as_of": iso(TODAY)}],
        "demands": [
            {"code": "F0", "kind": "forecast", "item": "A", "site": "S1", "quantity": 40,
             "due_date": iso(week(0))},
            {"code": "F1", "kind": "forecast", "item": "A", "site": "S1", "quantity": 40,
             "due_date": iso(week(1))},
            {"code": "SO1", "kind": "sales_order", "item": "A", "site": "S1", "quantity": 30,
             "due_date": iso(week(0, 4))},
        ],
    }


def test_cli_windows_and_no_consumption_option(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    from tests.fixtures_connector import MemoryConnector
    from workbench.cache.db import open_cache
    from workbench.cli import main
    from workbench.services.sync import run_sync

    cache = tmp_path / "cache.sqlite"
    assert run_sync(open_cache(cache), MemoryConnector(plant(), batch_size=50)).ok

    def gross(*options: str) -> tuple[list[float], Any]:
        assert main(["shortages", "--cache", str(cache), "--item", "A", "--json",
                     *options]) == 0
        out = json.loads(capsys.readouterr().out)
        return [r["gross_requirements"] for r in out["rows"][0]["record"][:2]], \
            out["forecast_consumption"]

    # SO1 (Fri wk 0) consumes 30 of F0: week 0 = 30 + 10, week 1 = F1 40
    assert gross() == ([40, 40], {"backward_days": 30, "forward_days": 0})
    # forward 7 days as well: the same (backward already covers SO1)
    assert gross("--consume-forward", "7")[0] == [40, 40]
    # a 3-day backward window misses F0 (4 days before); forward 3 reaches F1 (Mon wk 1)
    assert gross("--consume-backward", "3", "--consume-forward", "3") == \
        ([70, 10], {"backward_days": 3, "forward_days": 3})
    assert gross("--no-forecast-consumption") == ([70, 40], None)
    with pytest.raises(SystemExit) as exit_:
        main(["shortages", "--cache", str(cache), "--consume-backward", "-1"])
    assert exit_.value.code == 2
    assert "not a number of days" in capsys.readouterr().err


def test_cli_help_states_the_default_windows(capsys: pytest.CaptureFixture[str]) -> None:
    from workbench.cli import main

    with pytest.raises(SystemExit):
        main(["shortages", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert f"before them (default {DEFAULT_CONSUMPTION.backward_days})" in text
    assert f"after them (default {DEFAULT_CONSUMPTION.forward_days})" in text


def test_planning_data_from_records_is_consumed_too() -> None:
    from workbench.domain.models import Demand

    records = [Demand(code="F0", kind="forecast", item="A", site="S1", quantity=10,
                      due_date=day(0), source="t", source_key="F0"),
               Demand(code="SO", item="A", site="S1", quantity=4, due_date=day(1),
                      source="t", source_key="SO")]
    req = collect(PlanningData.from_records(records)).requirements
    assert dict(zip(req["ref"], req["quantity"])) == {"F0": 6, "SO": 4}
