"""The demo plant over time: the same seed gives the same plant, later days build on earlier ones
and incremental pulls yield only what changed."""

from __future__ import annotations

import datetime as dt
import hashlib

from planner_connectors.demo import BASE_DATE, DemoConnector

from tests.demo_rows import Rows, by_key, pull_all
from workbench.domain.models import ENTITIES


def _digest(rows: Rows) -> str:
    h = hashlib.sha256()
    for entity in ENTITIES:
        for r in rows[entity]:
            h.update(repr(sorted(r.items())).encode())
    return h.hexdigest()


def test_same_seed_same_plant_other_seed_other_plant(day0: Rows) -> None:
    assert _digest(pull_all(DemoConnector("small", seed=42))) == _digest(day0)
    assert _digest(pull_all(DemoConnector("small", seed=7))) != _digest(day0)


def test_a_week_later_is_the_same_plant_moved_on(day0: Rows, day7: Rows) -> None:
    for entity in ENTITIES:
        before, after = by_key(day0[entity]), by_key(day7[entity])
        assert set(before) <= set(after), entity  # nothing disappears
        for key, rec in after.items():
            if rec["source_version"] == "d00000":
                assert before[key] == rec, key  # unchanged records are identical
            else:
                assert "d00001" <= rec["source_version"] <= "d00007"
    for entity in ("items", "bom_lines", "bom_revisions", "suppliers", "demands"):
        assert by_key(day0[entity]) == by_key(day7[entity])


def test_incremental_pull_at_day_7_yields_only_changes(day0: Rows, day7: Rows) -> None:
    later = DemoConnector("small", day=7)
    mark = max(b.watermark for b in DemoConnector("small").pull("purchase_order_lines", None))
    assert mark == "d00000"
    changed = pull_all(later, since=mark)
    assert changed["items"] == [] and changed["bom_lines"] == []
    lines = changed["purchase_order_lines"]
    all_lines = by_key(day7["purchase_order_lines"])
    assert 0 < len(lines) < len(all_lines)
    assert all(all_lines[r["source_key"]] == r for r in lines)
    assert all(r != by_key(day0["purchase_order_lines"])[r["source_key"]] for r in lines)
    repromised = [
        r
        for r in lines
        if r["promised_date"]
        != by_key(day0["purchase_order_lines"])[r["source_key"]]["promised_date"]
    ]
    assert repromised
    new_history = changed["promise_changes"]
    assert new_history
    start = dt.datetime.combine(BASE_DATE, dt.time())
    assert all(start <= r["changed_at"] < start + dt.timedelta(days=7) for r in new_history)
    # the later history row of a line is its new promise
    for r in repromised:
        latest = max(
            (
                h
                for h in new_history
                if (h["purchase_order"], h["line"]) == (r["purchase_order"], r["line"])
            ),
            key=lambda h: h["changed_at"],
        )
        assert latest["promised_date"] == r["promised_date"]
    receipts = [r for r in changed["inventory"] if r["lot"].startswith("GR-")]
    received = [r for r in lines if r["status"] == "received"]
    assert received and len(receipts) == len(received)
    # finished work orders put their output into stock
    finished = [r for r in changed["work_orders"] if r["status"] == "completed"]
    output = [r for r in changed["inventory"] if r["lot"].startswith("PR-")]
    assert finished and len(output) == len(finished)
    # and the components of the orders that started were taken out of what was reserved for
    # the order, then out of the main store
    before = by_key(day0["inventory"])
    issued = [r for r in changed["inventory"] if r["source_key"] in before]
    assert issued and len(receipts) + len(output) + len(issued) == len(changed["inventory"])
    started = {r["code"] for r in changed["work_orders"] if r["status"] != "planned"}
    for r in issued:
        if r["status"] == "allocated":
            assert r["allocated_to"] in started
        else:
            assert r["location"].endswith("-WH") and r["status"] == "available"
        assert r["quantity"] < before[r["source_key"]]["quantity"]
    assert any(r["status"] == "allocated" for r in issued)
    # nothing changed after day 7: a pull since day 7 is empty
    assert all(rows == [] for rows in pull_all(later, since="d00007").values())


def test_days_build_on_each_other() -> None:
    """Day 7 holds day 3's changes: what changed by day 3 and not since is identical."""
    d3 = by_key(pull_all(DemoConnector("small", day=3))["purchase_order_lines"])
    d7 = by_key(pull_all(DemoConnector("small", day=7))["purchase_order_lines"])
    kept = [k for k, r in d7.items() if r["source_version"] <= "d00003"]
    assert kept and all(d3[k] == d7[k] for k in kept)
    assert any(r["source_version"] > "d00003" for r in d7.values())
