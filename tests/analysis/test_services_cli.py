"""The planning services and CLI commands on a real cache loaded through the sync service."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text

from tests.analysis.builders import TODAY, week
from tests.fixtures_connector import MemoryConnector
from workbench.cache.db import open_cache
from workbench.cli import main, qty
from workbench.services.sync import run_sync


def plant() -> dict[str, list[dict]]:
    def iso(d: dt.date) -> str:
        return d.isoformat()

    return {
        "uoms": [{"code": "EA"}],
        "sites": [{"code": "S1"}],
        "suppliers": [{"code": "SUP", "name": "Supplier"}],
        "items": [{"code": "FG", "make_buy": "make", "lead_time_days": 7},
                  {"code": "RAW", "lead_time_days": 7, "default_supplier": "SUP",
                   "standard_cost": 2.0},
                  {"code": "NEW"}],
        "bom_revisions": [{"parent": "FG", "revision": "A", "status": "released"},
                          {"parent": "FG", "revision": "B", "status": "draft"}],
        "bom_lines": [{"parent": "FG", "revision": "A", "position": 10, "component": "RAW",
                       "quantity_per": 2},
                      {"parent": "FG", "revision": "B", "position": 10, "component": "NEW",
                       "quantity_per": 1}],
        "inventory": [{"item": "RAW", "site": "S1", "quantity": 5, "as_of": iso(TODAY)}],
        "demands": [{"code": "D1", "item": "FG", "site": "S1", "quantity": 10,
                     "due_date": iso(week(3))}],
        "purchase_orders": [{"code": "PO1", "supplier": "SUP", "site": "S1"}],
        "purchase_order_lines": [{"purchase_order": "PO1", "line": 1, "item": "RAW",
                                  "supplier": "SUP", "site": "S1", "quantity_ordered": 5,
                                  "requested_date": iso(week(1)), "promised_date": iso(week(1))}],
        "requisitions": [{"code": "R1", "item": "RAW", "site": "S1", "quantity": 30,
                          "need_date": iso(week(2)), "source_version": "v1"}],
    }


@pytest.fixture()
def cache(tmp_path: Path) -> Path:
    path = tmp_path / "cache.sqlite"
    result = run_sync(open_cache(path), MemoryConnector(plant(), batch_size=50))
    assert result.ok, result.error or result.rejected
    return path


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    assert main([*args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_shortages_cli_pegs_and_plans_on_the_cache_day(cache: Path, capsys) -> None:
    out = cli(capsys, "shortages", "--cache", str(cache), "--item", "RAW")
    assert out["planning_day"] == TODAY.isoformat()
    row = out["rows"][0]
    # FG: 10 due week 3 -> released week 2 -> RAW 20 in week 2; 5 on hand + 5 on PO -> short 10
    assert row["first_shortage_date"] == week(2).isoformat()
    assert row["first_shortage_quantity"] == 10
    assert [r["gross_requirements"] for r in row["record"]][:4] == [0, 0, 20, 0]
    assert row["requirements"][0]["pegs"] == [{"peg": "D1", "quantity": 20}]


def test_shortages_text_shows_quantities_as_a_planner_reads_them(tmp_path: Path,
                                                                 capsys) -> None:
    rows = plant()
    rows["demands"][0]["quantity"] = 12_345.5  # RAW: 2 x 12,345.5 = 24,691 in week 2
    path = tmp_path / "big.sqlite"
    assert run_sync(open_cache(path), MemoryConnector(rows)).ok
    assert main(["shortages", "--cache", str(path), "--item", "RAW", "--details"]) == 0
    text = capsys.readouterr().out
    # 24,691 needed, 5 on hand + 5 on order: short 24,681 (never 2.468e+04)
    assert "short " + week(2).isoformat() + "       24,681" in text
    assert "GR     24,691" in text and "e+0" not in text
    assert (qty(47_111.92), qty(-0.0001), qty(0.1234, 8), qty(-5.0)) == (
        "47,111.92", "0", "   0.123", "-5")


def test_where_used_and_impact_cli(cache: Path, capsys) -> None:
    wu = cli(capsys, "where-used", "RAW", "--cache", str(cache))
    assert [a["item"] for a in wu["top_level"]] == ["FG"]
    assert cli(capsys, "where-used", "NEW", "--cache", str(cache))["ancestors"] == []
    assert [a["item"] for a in cli(capsys, "where-used", "NEW", "--include-drafts",
                                   "--cache", str(cache))["ancestors"]] == ["FG"]
    imp = cli(capsys, "impact", "FG", "--from", "A", "--to", "B", "--on", TODAY.isoformat(),
              "--what-if", "--cache", str(cache))
    assert {d["component"]: d["change"] for d in imp["diff"]} == {"RAW": "removed", "NEW": "added"}
    # RAW no longer needed: 5 on hand, 5 on order and R1's 10 that covered the rest become
    # excess (R1's other 20 were excess already); value at standard cost 2
    excess = {(e["kind"], e["ref"]): e["quantity"] for e in imp["excess"]}
    assert excess == {("on_hand", ""): 5, ("purchase_order", "PO1/1"): 5,
                      ("requisition", "R1"): 10}
    assert imp["excess_value"] == 40
    assert imp["new_requirements"][0]["item"] == "NEW"
    assert {r["item"] for r in imp["what_if"]} == {"RAW", "NEW"}


def test_unknown_item_is_a_usage_error(cache: Path, capsys) -> None:
    assert main(["where-used", "NOPE", "--cache", str(cache)]) == 2


def test_reevaluate_stores_and_supersedes(cache: Path, capsys) -> None:
    first = cli(capsys, "reevaluate", "--cache", str(cache))
    (rec,) = first["recommendations"]
    # 10 still needed in week 2 after stock and PO: reduce R1 from 30 to 10
    assert (rec["requisition"], rec["action"], rec["proposed_quantity"]) == ("R1", "reduce", 10)
    cli(capsys, "reevaluate", "--cache", str(cache))
    with open_cache(cache).connect() as conn:
        rows = conn.execute(text("SELECT status, base_version, evidence FROM recommendations "
                                 "ORDER BY id")).all()
    assert [r.status for r in rows] == ["superseded", "open"]
    assert rows[-1].base_version == "v1"
    assert json.loads(rows[-1].evidence)["pegged_demands"] == [{"peg": "D1", "quantity": 10}]


def test_slippage_cli(cache: Path, capsys) -> None:
    out = cli(capsys, "slippage", "--cache", str(cache), "--supplier", "SUP")
    assert out["suppliers"][0]["supplier"] == "SUP"
    assert out["lines"][0]["purchase_order"] == "PO1"


def test_bulk_load_equals_reading_and_normalising_each_frame(cache: Path) -> None:
    """The column-wise bulk load gives the very frames of the row-wise read, including NULLs,
    a value holding the load's separator character, a long non-ASCII text, a deleted row,
    17-digit quantities, text in a number column and a datetime in a date column."""
    from workbench.analysis.data import PLANNING_ENTITIES, normalise_frame
    from workbench.cache.frames import read_entity_frame
    from workbench.services.planning import LEFT_OUT, load_planning_data

    engine = open_cache(cache)
    with engine.begin() as con:
        con.execute(text("UPDATE items SET description = 'left\x1fright', planner = NULL "
                         "WHERE code = 'FG'"))
        con.execute(text("UPDATE items SET deleted_at = '2026-01-01T00:00:00' WHERE code = 'NEW'"))
        con.execute(text("UPDATE items SET description = 'Schraube Ø8, longer than 32 characters' "
                         "WHERE code = 'RAW'"))
        con.execute(text("UPDATE inventory SET quantity = 32.300000000000004, lot = NULL, "
                         "as_of = as_of || 'T10:30:00'"))
        con.execute(text("UPDATE bom_lines SET scrap_pct = NULL WHERE component = 'RAW'"))
        con.execute(text("UPDATE purchase_order_lines SET quantity_received = 'n/a'"))
    data = load_planning_data(engine, prepare=False)
    for entity in PLANNING_ENTITIES:
        omit = LEFT_OUT.get(entity, ())
        rows = read_entity_frame(engine, entity, parse_dates=False)
        want = normalise_frame(entity, rows.drop(columns=[c for c in omit if c in rows]), omit)
        pd.testing.assert_frame_equal(getattr(data, entity), want, check_exact=True)
    items = data.items.set_index("code")
    assert list(items.index) == ["FG", "RAW"]
    assert items.loc["FG", "description"] == "left\x1fright"
    assert items.loc["FG", "planner"] == ""
    assert items.loc["RAW", "description"] == "Schraube Ø8, longer than 32 characters"
    assert data.inventory["quantity"].tolist() == [32.300000000000004]
    assert data.inventory["lot"].tolist() == [""]
    assert data.inventory["as_of"].tolist() == [pd.Timestamp(TODAY)]  # a date: time dropped
    assert data.bom_lines.set_index("component").loc["RAW", "scrap_pct"] == 0.0
    assert data.purchase_order_lines["quantity_received"].tolist() == [0.0]
