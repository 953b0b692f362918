"""The demo plant generator: valid, consistent, deterministic, believable, and moving in time."""

from __future__ import annotations

import collections
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from planner_connectors.demo import BASE_DATE, DemoConnector

from tests.demo_rows import Rows, pull_all
from workbench.cache.db import open_cache
from workbench.connect.port import Capability, PermanentError, PushRequest
from workbench.domain.enums import OPEN_PURCHASE_STATUSES, SyncRunStatus
from workbench.domain.models import ENTITIES, ENTITY_MODELS
from workbench.domain.uom import UomConverter
from workbench.domain.validation import validate_batch
from workbench.services.planning import open_session, shortages
from workbench.services.sync import run_sync


def released_today(rows: Rows, today: dt.date) -> dict[str, str]:
    """parent -> the revision released and effective on ``today``."""
    out = {}
    for r in rows["bom_revisions"]:
        if r["status"] != "released":
            continue
        if (r["effective_from"] or dt.date.min) <= today <= (r["effective_to"] or dt.date.max):
            assert r["parent"] not in out, f"two released revisions of {r['parent']} on {today}"
            out[r["parent"]] = r["revision"]
    return out


def children(rows: Rows) -> dict[str, set[str]]:
    """parent -> components, over every revision."""
    out: dict[str, set[str]] = collections.defaultdict(set)
    for line in rows["bom_lines"]:
        out[line["parent"]].add(line["component"])
    return out


# -- the connector contract ------------------------------------------------------------------


def test_connector_contract() -> None:
    c = DemoConnector("small", day=3)
    assert c.name == "demo"
    assert c.capabilities == (
        Capability.PULL | Capability.INCREMENTAL | Capability.PUSH | Capability.VERSION_CHECK
    )
    assert c.check().ok
    assert c.entities() == list(ENTITIES)
    assert c.today == dt.date(2026, 11, 5) and BASE_DATE == dt.date(2026, 11, 2)
    assert BASE_DATE.weekday() == 0  # a Monday
    # without a ledger (its own store of writes) the demo cannot take decisions
    with pytest.raises(PermanentError, match="read-only: decisions stay in the cache and outbox"):
        c.push(PushRequest("k1", "reduce", "requisitions:RQ-000001", "d00000", quantity=1.0))
    with pytest.raises(PermanentError, match="no entity"):
        list(c.pull("invoices", None))
    with pytest.raises(PermanentError, match="not a demo watermark"):
        list(c.pull("items", "2026-11-02T10:00:00"))
    with pytest.raises(ValueError, match="unknown demo scale"):
        DemoConnector("huge")


def test_every_record_is_valid_with_exactly_the_model_fields(day0: Rows) -> None:
    for entity, rows in day0.items():
        assert rows, entity
        good, errors = validate_batch(entity, rows)
        assert errors == [], (entity, errors[:3])
        assert len(good) == len(rows)
        fields = set(ENTITY_MODELS[entity].model_fields)
        assert all(set(r) == fields for r in rows), entity
        keys = [r["source_key"] for r in rows]
        assert len(set(keys)) == len(keys), f"duplicate keys in {entity}"
        assert all(k.startswith(f"{entity}:") for k in keys)
        assert {r["source"] for r in rows} == {"demo"}
        assert {r["source_version"] for r in rows} == {"d00000"}


def test_batches_carry_a_rising_watermark() -> None:
    c = DemoConnector("small", day=7)
    c.batch_size = 40  # type: ignore[misc]
    marks = [b.watermark for b in c.pull("purchase_order_lines", None)]
    assert len(marks) == 7  # 250 lines in batches of 40
    assert marks == sorted(marks)
    assert marks[-1] == max(r["source_version"] for r in pull_all(c)["purchase_order_lines"])
    assert c.count("purchase_order_lines") == 250
    assert c.count("purchase_order_lines", "d00000") == len(
        [r for b in c.pull("purchase_order_lines", "d00000") for r in b.records]
    )


# -- size ------------------------------------------------------------------------------------


def test_small_scale_counts(day0: Rows) -> None:
    n = {e: len(rows) for e, rows in day0.items()}
    assert n["items"] == 300
    assert n["sites"] == 3
    assert n["suppliers"] == 12
    assert 2_000 <= n["bom_lines"] <= 3_500
    # 800 rows, plus 102 rows of safety stock at rows the plant reaches only through a BOM (an
    # item's safety stock applies wherever an item planned at the site uses it)
    assert n["inventory"] == 902
    assert n["work_orders"] == 60
    assert n["requisitions"] == 40
    open_lines = [r for r in day0["purchase_order_lines"] if r["status"] in OPEN_PURCHASE_STATUSES]
    assert len(open_lines) == 200
    assert n["purchase_order_lines"] > 200  # plus received and closed history
    kinds = collections.Counter(r["code"][:2] for r in day0["items"])
    assert set(kinds) == {"FG", "SA", "PP", "RM"}
    assert {r["code"] for r in day0["sites"]} == {"P1", "P2", "P3"}


def test_medium_scale_counts() -> None:
    c = DemoConnector("medium")
    assert c.count("items") == 20_000
    assert 180_000 <= c.count("bom_lines") <= 220_000
    assert c.count("work_orders") == 5_000
    assert c.count("requisitions") == 2_000
    # and the buffers, as at the small scale (the same on every CPU: see the last test here)
    assert c.count("inventory") == 50_000 + 13_041
    assert c.count("sites") == 5


# -- structure -------------------------------------------------------------------------------


def test_boms_are_acyclic_6_to_10_deep_with_shared_sub_assemblies(day0: Rows) -> None:
    graph = children(day0)
    depth: dict[str, int] = {}
    visiting: set[str] = set()

    def depth_of(item: str) -> int:
        if item in depth:
            return depth[item]
        assert item not in visiting, f"cycle through {item}"
        visiting.add(item)
        d = 1 + max((depth_of(c) for c in graph[item]), default=-1) if item in graph else 0
        visiting.discard(item)
        depth[item] = d
        return d

    finished = [r["code"] for r in day0["items"] if r["code"].startswith("FG-")]
    depths = [depth_of(fg) for fg in finished]
    assert all(6 <= d <= 10 for d in depths), depths
    assert len(set(depths)) >= 3
    for parent, comps in graph.items():  # every component sits lower than its parent
        assert all(depth_of(c) < depth_of(parent) for c in comps)
    parents_of: dict[str, set[str]] = collections.defaultdict(set)
    for line in day0["bom_lines"]:
        parents_of[line["component"]].add(line["parent"])
    shared = [c for c, ps in parents_of.items() if c.startswith("SA-") and len(ps) >= 2]
    assert len(shared) >= 10


def test_revisions_effectivity_alternates_and_scrap(day0: Rows) -> None:
    today = BASE_DATE
    revs = collections.defaultdict(dict)
    for r in day0["bom_revisions"]:
        revs[r["parent"]][r["revision"]] = r
    made = [r["code"] for r in day0["items"] if r["make_buy"] == "make"]
    assert set(revs) == set(made)
    current = released_today(day0, today)  # also: never two released revisions at once
    assert set(current) == set(made)
    changes = [
        p
        for p, rs in revs.items()
        if rs["A"]["status"] == "released"
        and rs["A"]["effective_to"]
        and rs.get("B", {}).get("status") == "released"
    ]
    assert changes
    for p in changes:
        assert revs[p]["B"]["effective_from"] == revs[p]["A"]["effective_to"] + dt.timedelta(days=1)
    assert any(r["status"] == "draft" for rs in revs.values() for r in rs.values())
    assert any(r["status"] == "obsolete" for rs in revs.values() for r in rs.values())
    lines = day0["bom_lines"]
    groups = collections.defaultdict(list)
    for line in lines:
        if line["alternate_group"]:
            groups[(line["parent"], line["revision"], line["alternate_group"])].append(
                line["alternate_priority"]
            )
    assert any(sorted(prios) == [1, 2] for prios in groups.values())
    assert any(line["scrap_pct"] > 0 for line in lines)
    assert any(line["scrap_pct"] == 0 for line in lines)


def test_references_exist_and_units_convert(day0: Rows) -> None:
    codes = {
        e: {r["code"] for r in day0[e]}
        for e in (
            "items",
            "sites",
            "suppliers",
            "uoms",
            "locations",
            "work_orders",
            "purchase_orders",
            "requisitions",
            "demands",
        )
    }
    refs = {
        "locations": [("site", "sites")],
        "items": [("stock_uom", "uoms"), ("default_supplier", "suppliers")],
        "uom_conversions": [("item", "items"), ("from_uom", "uoms"), ("to_uom", "uoms")],
        "item_xrefs": [("item", "items")],
        "bom_revisions": [("parent", "items")],
        "bom_lines": [("parent", "items"), ("component", "items"), ("uom", "uoms")],
        "inventory": [("item", "items"), ("site", "sites"), ("location", "locations")],
        "demands": [("item", "items"), ("site", "sites")],
        "work_orders": [("item", "items"), ("site", "sites"), ("demand", "demands")],
        "work_order_components": [("work_order", "work_orders"), ("component", "items")],
        "purchase_orders": [("supplier", "suppliers"), ("site", "sites")],
        "purchase_order_lines": [
            ("purchase_order", "purchase_orders"),
            ("item", "items"),
            ("supplier", "suppliers"),
            ("site", "sites"),
            ("requisition", "requisitions"),
        ],
        "promise_changes": [("purchase_order", "purchase_orders")],
        "requisitions": [("item", "items"), ("site", "sites"), ("suggested_supplier", "suppliers")],
    }
    for entity, pairs in refs.items():
        for field, target in pairs:
            missing = {r[field] for r in day0[entity] if r[field]} - codes[target]
            assert not missing, (entity, field, sorted(missing)[:3])
    revisions = {(r["parent"], r["revision"]) for r in day0["bom_revisions"]}
    assert all((r["parent"], r["revision"]) in revisions for r in day0["bom_lines"])
    assert all((r["item"], r["bom_revision"]) in revisions for r in day0["work_orders"])
    lines = {(r["purchase_order"], r["line"]) for r in day0["purchase_order_lines"]}
    assert all((r["purchase_order"], r["line"]) in lines for r in day0["promise_changes"])
    inv_site = {r["code"]: r["site"] for r in day0["locations"]}
    assert all(inv_site[r["location"]] == r["site"] for r in day0["inventory"])

    units = UomConverter(known_units=codes["uoms"])
    for c in day0["uom_conversions"]:
        units.add_conversion(c["item"], c["from_uom"], c["to_uom"], c["factor"])
    stock = {r["code"]: r["stock_uom"] for r in day0["items"]}
    foreign = collections.Counter()
    for entity, item_field in (
        ("bom_lines", "component"),
        ("purchase_order_lines", "item"),
        ("inventory", "item"),
        ("work_order_components", "component"),
        ("requisitions", "item"),
        ("demands", "item"),
    ):
        for r in day0[entity]:
            unit = r["uom"]
            assert units.factor(r[item_field], unit, stock[r[item_field]]) > 0
            if unit != stock[r[item_field]]:
                foreign[(entity, unit)] += 1
    assert {u for (e, u) in foreign if e == "bom_lines"} >= {"G", "CM"}
    assert {u for (e, u) in foreign if e == "purchase_order_lines"} >= {"BOX"}
    assert {r["code"] for r in day0["uoms"]} >= {"EA", "KG", "G", "M", "CM", "L", "BOX"}


def test_stock_demand_and_work_orders_are_believable(day0: Rows) -> None:
    today = BASE_DATE
    statuses = collections.Counter(r["status"] for r in day0["inventory"])
    assert set(statuses) == {"available", "allocated", "quality_hold", "in_transit"}
    for r in day0["inventory"]:
        assert (r["expected_date"] is not None) == (r["status"] == "in_transit")
        if r["expected_date"]:
            assert r["expected_date"] > today
    kinds = collections.Counter(r["kind"] for r in day0["demands"])
    assert kinds["forecast"] > 0 and kinds["sales_order"] > 0
    forecasts = [r for r in day0["demands"] if r["kind"] == "forecast"]
    assert min(r["due_date"] for r in forecasts) == today
    assert max(r["due_date"] for r in forecasts) < today + dt.timedelta(weeks=26)

    # a work order's components: its BOM revision's preferred lines x its quantity, with scrap
    lines = collections.defaultdict(list)
    for line in day0["bom_lines"]:
        if line["alternate_priority"] < 2:
            lines[(line["parent"], line["revision"])].append(line)
    components = collections.defaultdict(list)
    for c in day0["work_order_components"]:
        components[c["work_order"]].append(c)
    for wo in day0["work_orders"]:
        assert wo["start_date"] <= wo["due_date"]
        bom = lines[(wo["item"], wo["bom_revision"])]
        got = sorted(components[wo["code"]], key=lambda c: c["position"])
        assert [c["component"] for c in got] == [line["component"] for line in bom]
        for c, line in zip(got, bom):
            expected = wo["quantity"] * line["quantity_per"] * (1 + line["scrap_pct"] / 100)
            assert c["required_quantity"] == pytest.approx(expected, abs=1e-3)
            assert c["required_date"] == wo["start_date"]
            assert c["uom"] == line["uom"]
    assert {wo["status"] for wo in day0["work_orders"]} >= {"planned", "released", "in_progress"}
    current = released_today(day0, today)
    in_progress = [wo for wo in day0["work_orders"] if wo["status"] == "in_progress"]
    assert all(wo["start_date"] < today for wo in in_progress)
    assert all(
        wo["bom_revision"] == current[wo["item"]] or wo["start_date"] != today
        for wo in day0["work_orders"]
    )


# -- calibration: quantities, coverage, and what planning makes of it --------------------------


def converter(rows: Rows) -> tuple[UomConverter, dict[str, str]]:
    units = UomConverter(known_units={r["code"] for r in rows["uoms"]})
    for c in rows["uom_conversions"]:
        units.add_conversion(c["item"], c["from_uom"], c["to_uom"], c["factor"])
    return units, {r["code"]: r["stock_uom"] for r in rows["items"]}


def test_quantities_per_look_like_a_machine_builder(day0: Rows) -> None:
    descriptions = {r["code"]: r["description"] for r in day0["items"]}
    assemblies = [r["quantity_per"] for r in day0["bom_lines"] if r["component"][:2] == "SA"]
    assert sum(q == 1 for q in assemblies) / len(assemblies) >= 0.75
    assert max(assemblies) <= 8  # 4 at most, doubled once by an engineering change
    fasteners = [
        r["quantity_per"]
        for r in day0["bom_lines"]
        if descriptions[r["component"]].split()[0] in ("Hex", "Socket", "Washer", "Circlip")
    ]
    assert fasteners and max(fasteners) <= 48  # engineering changes halve or double some
    assert sum(4 <= q <= 24 for q in fasteners) / len(fasteners) >= 0.75
    units, stock = converter(day0)
    by_unit = collections.defaultdict(list)
    for r in day0["bom_lines"]:
        if stock[r["component"]] != "EA":
            by_unit[stock[r["component"]]].append(
                r["quantity_per"] * units.factor(r["component"], r["uom"], stock[r["component"]])
            )
    assert set(by_unit) == {"KG", "M", "L"}
    assert any(q != round(q) for q in by_unit["KG"]) and max(by_unit["KG"]) <= 24
    assert max(by_unit["M"]) <= 5 and max(by_unit["L"]) <= 1.0  # paint by the decilitre


def test_extended_quantity_per_finished_good_stays_realistic(day0: Rows) -> None:
    """Explode every finished good through today's released revisions (preferred lines, scrap,
    in the stock unit): no component is needed more than 2,000 times per machine."""
    units, stock = converter(day0)
    current = released_today(day0, BASE_DATE)
    lines = collections.defaultdict(list)
    for r in day0["bom_lines"]:
        if r["alternate_priority"] < 2 and current.get(r["parent"]) == r["revision"]:
            q = r["quantity_per"] * (1 + r["scrap_pct"] / 100)
            q *= units.factor(r["component"], r["uom"], stock[r["component"]])
            lines[r["parent"]].append((r["component"], q))
    memo: dict[str, collections.Counter[str]] = {}

    def explode(item: str) -> collections.Counter[str]:
        if item not in memo:
            total: collections.Counter[str] = collections.Counter()
            for comp, q in lines[item]:
                total[comp] += q
                for below, qq in explode(comp).items():
                    total[below] += q * qq
            memo[item] = total
        return memo[item]

    finished = [r["code"] for r in day0["items"] if r["code"].startswith("FG-")]
    largest = max(max(explode(fg).values()) for fg in finished)
    assert 50 <= largest <= 2_000, largest
    assemblies = [sum(q for c, q in explode(fg).items() if c[:2] == "SA") for fg in finished]
    assert max(assemblies) <= 500  # sub-assemblies built into one machine


def test_stock_and_open_orders_cover_the_known_demand(day0: Rows) -> None:
    """Per item and site, over 26 weeks: available and in-transit stock, open work orders and
    open PO lines against demands and open work orders' components. A plan balanced three
    weeks ago and drifted since: most rows covered with a margin, none drowning in stock."""
    units, stock = converter(day0)

    def in_stock_unit(item: str, qty: float, unit: str | None) -> float:
        return qty * units.factor(item, unit or stock[item], stock[item])

    end = BASE_DATE + dt.timedelta(weeks=26)
    need: collections.Counter[tuple[str, str]] = collections.Counter()
    supply: collections.Counter[tuple[str, str]] = collections.Counter()
    for d in day0["demands"]:
        if d["due_date"] < end:
            need[(d["item"], d["site"])] += in_stock_unit(d["item"], d["quantity"], d["uom"])
    running = {w["code"]: w for w in day0["work_orders"] if w["status"] != "completed"}
    for w in running.values():
        supply[(w["item"], w["site"])] += w["quantity"] - w["completed_quantity"]
    for c in day0["work_order_components"]:
        w = running.get(c["work_order"])
        if w is not None:
            q = c["required_quantity"] - c["issued_quantity"]
            need[(c["component"], w["site"])] += in_stock_unit(c["component"], q, c["uom"])
    for r in day0["inventory"]:
        if r["status"] in ("available", "in_transit"):
            supply[(r["item"], r["site"])] += in_stock_unit(r["item"], r["quantity"], r["uom"])
    for r in day0["purchase_order_lines"]:
        if r["status"] in OPEN_PURCHASE_STATUSES:
            q = r["quantity_ordered"] - r["quantity_received"]
            supply[(r["item"], r["site"])] += in_stock_unit(r["item"], q, r["uom"])
    ratios = sorted(supply[k] / q for k, q in need.items() if q > 0)
    assert len(ratios) >= 150
    median = ratios[len(ratios) // 2]
    assert 1.05 <= median <= 2.0, median
    assert sum(r >= 1 for r in ratios) / len(ratios) >= 0.85
    assert ratios[int(len(ratios) * 0.9)] <= 5.0
    total = sum(supply[k] for k in need) / sum(need.values())
    assert 1.1 <= total <= 2.5, total
    assert {r["site"] for r in day0["work_orders"]} == {"P1", "P2", "P3"}


def test_planning_the_small_plant_finds_a_few_shortages_spread_over_the_horizon(
    tmp_path: Path,
) -> None:
    """The real planning service on the synced small plant: 5-20% of item/site rows short at
    some point in 26 weeks, first shortages spread over the weeks, quantities of a plant."""
    engine = open_cache(tmp_path / "cache.sqlite")
    result = run_sync(engine, DemoConnector("small"))
    assert result.status == SyncRunStatus.SUCCEEDED and result.rejected == []
    session = open_session(engine)
    assert session.today == BASE_DATE
    found = shortages(session).to_json()
    rows = len(session.plan().summary())
    assert 300 <= rows <= 700
    assert 0.05 <= found["rows_total"] / rows <= 0.20, (found["rows_total"], rows)
    weeks = collections.Counter(
        (r["first_shortage_date"] - BASE_DATE).days // 7 for r in found["rows"]
    )
    assert weeks[0] <= 0.6 * found["rows_total"]
    assert len(weeks) >= 5 and max(weeks) >= 8
    assert max(r["first_shortage_quantity"] for r in found["rows"]) <= 100_000


# -- purchasing and suppliers ----------------------------------------------------------------


def _slip_by_supplier(rows: Rows) -> dict[str, list[int]]:
    slip = collections.defaultdict(list)
    for r in rows["purchase_order_lines"]:
        if r["promised_date"]:
            slip[r["supplier"]].append((r["promised_date"] - r["requested_date"]).days)
    return slip


def test_reliable_and_slipping_suppliers_differ(day0: Rows) -> None:
    slip = _slip_by_supplier(day0)
    reliable = {s for s, days in slip.items() if len(days) >= 3 and max(days) == 0}
    slipping = {s for s, days in slip.items() if sum(days) / len(days) >= 7}
    assert reliable and slipping
    history = collections.Counter((r["purchase_order"], r["line"]) for r in day0["promise_changes"])
    supplier_of = {
        (r["purchase_order"], r["line"]): r["supplier"] for r in day0["purchase_order_lines"]
    }
    per_line = collections.defaultdict(list)
    for key, count in history.items():
        per_line[supplier_of[key]].append(count)
    assert all(c == 1 for s in reliable for c in per_line[s])  # the acknowledgement only
    chronic = [c for s in slipping for c in per_line[s]]
    assert sum(chronic) / len(chronic) > 1.5 and max(chronic) >= 3


def test_promise_history_ends_at_the_current_promise(day0: Rows) -> None:
    today = dt.datetime.combine(BASE_DATE, dt.time())
    last: dict[tuple[str, int], dict[str, Any]] = {}
    for r in sorted(day0["promise_changes"], key=lambda r: r["changed_at"]):
        assert r["changed_at"] < today
        last[(r["purchase_order"], r["line"])] = r
    lines = {(r["purchase_order"], r["line"]): r for r in day0["purchase_order_lines"]}
    for key, change in last.items():
        assert change["promised_date"] == lines[key]["promised_date"]
    acked = [k for k, r in lines.items() if r["ack_status"] in ("accepted", "changed")]
    assert set(acked) == set(last)
    ordered = {r["code"]: r["order_date"] for r in day0["purchase_orders"]}
    for r in lines.values():
        assert r["requested_date"] > ordered[r["purchase_order"]]
        if r["ack_date"]:
            assert ordered[r["purchase_order"]] <= r["ack_date"] < BASE_DATE
        if r["received_date"]:
            assert r["ack_date"] <= r["received_date"] < BASE_DATE
        assert r["quantity_received"] <= r["quantity_ordered"]
        if r["asn_quantity"]:
            assert r["asn_date"] is not None
    overdue = [
        r
        for r in lines.values()
        if r["status"] in ("acknowledged", "partially_received") and r["promised_date"] < BASE_DATE
    ]
    assert overdue


def test_some_requisitions_are_for_parts_an_engineering_change_removes(day0: Rows) -> None:
    revs = {(r["parent"], r["revision"]): r for r in day0["bom_revisions"]}
    comps = collections.defaultdict(set)
    for line in day0["bom_lines"]:
        comps[(line["parent"], line["revision"])].add(line["component"])
    removed: dict[str, list[dt.date]] = collections.defaultdict(list)
    for (parent, rev), r in revs.items():
        b = revs.get((parent, "B"))
        if rev == "A" and b and b["status"] == "released" and r["status"] == "released":
            for c in comps[(parent, "A")] - comps[(parent, "B")]:
                removed[c].append(b["effective_from"])
    hits = [
        r
        for r in day0["requisitions"]
        if r["status"] == "open" and any(r["need_date"] > d for d in removed.get(r["item"], []))
    ]
    assert len(hits) >= 3
    ordered = [r["code"] for r in day0["requisitions"] if r["status"] == "ordered"]
    linked = {r["requisition"] for r in day0["purchase_order_lines"] if r["requisition"]}
    assert ordered and set(ordered) == linked


# -- the same plant on every CPU -------------------------------------------------------------

_DIGEST = """
import hashlib
from planner_connectors.demo import DemoConnector
from tests.demo_rows import pull_all
rows = pull_all(DemoConnector("small"))
h = hashlib.sha256()
for entity in sorted(rows):
    for r in rows[entity]:
        h.update(repr(sorted(r.items())).encode())
print(h.hexdigest(), len(rows["inventory"]))
"""


def test_top_k_keeps_equal_scores_by_tiebreak_then_position() -> None:
    from planner_connectors.demo.anchors import top_k

    score = np.array([0.5, 2.0, 1.0, 1.0, 2.0, 1.0, -3.0])
    # the 4th largest is 1.0: both 2.0 kept, then two of the three 1.0 (positions 2, 3, 5)
    assert top_k(score, 4).tolist() == [1, 2, 3, 4]
    tiebreak = np.array([0.0, 0.0, -5.0, -1.0, 0.0, -2.0, 0.0])
    assert top_k(score, 4, tiebreak).tolist() == [1, 3, 4, 5]
    assert top_k(score, 2).tolist() == [1, 4]
    assert top_k(score, 9).tolist() == list(range(7))
    assert top_k(score, 0).tolist() == []
    rng = np.random.default_rng(5)
    for _ in range(50):
        s = rng.integers(0, 4, 200).astype(float)  # many ties
        k = int(rng.integers(1, 200))
        expected = np.sort(np.lexsort((np.arange(200), -s))[:k])
        assert top_k(s, k).tolist() == expected.tolist()


def test_the_plant_is_the_same_whatever_simd_code_numpy_runs() -> None:
    """argpartition chose among equal anchor scores by the CPU's SIMD code (the small plant had
    900 stock rows with AVX2, 901 without): the plant must not depend on it."""
    root = Path(__file__).resolve().parents[1]
    got = []
    for disabled in ("", "X86_V3 X86_V4 AVX512_ICL AVX512_SPR"):
        env = dict(os.environ, NPY_DISABLE_CPU_FEATURES=disabled)
        out = subprocess.run([sys.executable, "-c", _DIGEST], cwd=root, env=env, check=True,
                             capture_output=True, text=True)
        got.append(out.stdout.split())
    assert got[0] == got[1]
