"""Where-used extended quantity never adds up alternative revisions of one parent.

    TOP (A) --2--> ASM
    ASM A (released, to 31 May):   3 x BOLT, 1 x NUT
    ASM B (released, from 1 June): 3 x BOLT (carried over), 2 x WASHER
    ASM C (draft, from 1 July):    4 x BOLT

On any date one revision of ASM is in force: BOLT per TOP = 2 x 3 = 6 in May and June, 2 x 4 = 8
in July with drafts. Adding up revisions gave 2 x (3 + 3) = 12 (released), 2 x (3 + 3 + 4) = 20
with drafts: a figure no revision ever has.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.analysis.builders import data, item, line, revision
from workbench.analysis.bom import BomGraph
from workbench.analysis.calendar import Calendar
from workbench.analysis.data import PlanningData, day_number
from workbench.analysis.explosion import explosion
from workbench.analysis.session import PlanningSession
from workbench.analysis.where_used import where_used
from workbench.services import planning

D = dt.date
BOTH = {"released", "draft"}


def carried_over() -> PlanningData:
    return data(
        items=[item(c) for c in ("TOP", "ASM", "BOLT", "NUT", "WASHER")],
        bom_revisions=[revision("TOP"),
                       revision("ASM", "A", effective_to=D(2025, 5, 31)),
                       revision("ASM", "B", effective_from=D(2025, 6, 1)),
                       revision("ASM", "C", status="draft", effective_from=D(2025, 7, 1))],
        bom_lines=[line("TOP", "ASM", 2),
                   line("ASM", "BOLT", 3, 10, revision="A"), line("ASM", "NUT", 1, 20, "A"),
                   line("ASM", "BOLT", 3, 10, revision="B"), line("ASM", "WASHER", 2, 20, "B"),
                   line("ASM", "BOLT", 4, 10, revision="C")],
    )


def ext(frame: pd.DataFrame, code: str, column: str = "extended_quantity") -> float:
    return float(frame.set_index("item").loc[code, column])


def test_on_a_date_the_revision_in_force_counts_once() -> None:
    g = BomGraph.build(carried_over(), statuses=BOTH)
    for day, per_asm in ((D(2025, 5, 15), 3), (D(2025, 6, 15), 3), (D(2025, 7, 15), 4)):
        anc = where_used(g, "BOLT", as_of=day_number(day)).ancestors
        assert ext(anc, "ASM") == per_asm and ext(anc, "TOP") == 2 * per_asm, day
        # the mirror: the explosion of TOP on that day gives the same figure
        assert ext(explosion(g, "TOP", day_number(day)), "BOLT") == 2 * per_asm


def test_without_a_date_figures_are_per_revision_never_summed() -> None:
    released = where_used(BomGraph.build(carried_over()), "BOLT").ancestors
    # A and B both use 3: the revision does not matter, 3 per ASM, 6 per TOP (not 6 and 12)
    assert ext(released, "ASM") == 3 and ext(released, "TOP") == 6
    drafts = where_used(BomGraph.build(carried_over(), statuses=BOTH), "BOLT").ancestors
    # A or B: 3, C: 4 -> no one figure; 3-4 per ASM, 6-8 per TOP (never 10 and 20)
    assert math.isnan(ext(drafts, "TOP"))
    assert (ext(drafts, "ASM", "extended_quantity_min"),
            ext(drafts, "ASM", "extended_quantity_max")) == (3, 4)
    assert (ext(drafts, "TOP", "extended_quantity_min"),
            ext(drafts, "TOP", "extended_quantity_max")) == (6, 8)
    # NUT is only in A: 0 (B) to 1 (A) per ASM
    nut = where_used(BomGraph.build(carried_over()), "NUT").ancestors
    assert (ext(nut, "TOP", "extended_quantity_min"),
            ext(nut, "TOP", "extended_quantity_max")) == (0, 2)
    single = where_used(BomGraph.build(carried_over(), statuses=BOTH), "BOLT",
                        multi_level=False).ancestors
    assert (ext(single, "ASM", "extended_quantity_min"),
            ext(single, "ASM", "extended_quantity_max")) == (3, 4)


def test_explosion_per_revision_and_undated() -> None:
    g = BomGraph.build(carried_over(), statuses=BOTH)
    a = explosion(g, "ASM", revision="A").set_index("item")["extended_quantity"].to_dict()
    assert a == {"BOLT": 3, "NUT": 1}
    c = explosion(g, "ASM", revision="C").set_index("item")["extended_quantity"].to_dict()
    assert c == {"BOLT": 4}
    undated = explosion(g, "TOP").set_index("item")["extended_quantity"]
    assert undated["ASM"] == 2 and undated[["BOLT", "NUT", "WASHER"]].isna().all()


def session_on(day: D) -> PlanningSession:
    return PlanningSession(carried_over(), Calendar.weekly(day, 4))


def test_service_answers_on_the_planning_day_by_default() -> None:
    out = planning.where_used(session_on(D(2025, 7, 15)), "BOLT", include_drafts=True).to_json()
    assert out["as_of"] == D(2025, 7, 15)
    assert {a["item"]: a["extended_quantity"] for a in out["ancestors"]} == {"ASM": 4, "TOP": 8}
    june = planning.where_used(session_on(D(2025, 7, 15)), "BOLT", as_of=D(2025, 6, 2)).to_json()
    assert {a["item"]: a["extended_quantity"] for a in june["ancestors"]} == {"ASM": 3, "TOP": 6}
    every = planning.where_used(session_on(D(2025, 7, 15)), "BOLT", include_drafts=True,
                                all_revisions=True).to_json()
    assert every["as_of"] is None
    top = next(a for a in every["ancestors"] if a["item"] == "TOP")
    assert (top["extended_quantity"], top["extended_quantity_min"],
            top["extended_quantity_max"]) == (None, 6, 8)


# --- property: where-used on a date = the explosion of the revisions in force that day -------

CODES = ["A", "B", "C", "D", "E"]


@st.composite
def revised_boms(draw: Any) -> PlanningData:
    """Up to five items, lines only from an earlier code to a later one; each parent has one to
    three revisions with dates (some open-ended, some overlapping, some drafts)."""
    n = draw(st.integers(2, 5))
    codes = CODES[:n]
    revisions, lines = [], []
    for i, parent in enumerate(codes[:-1]):
        for r in "XYZ"[:draw(st.integers(1, 3))]:
            start = draw(st.sampled_from([None, D(2025, 1, 1), D(2025, 3, 1), D(2025, 5, 1)]))
            end = draw(st.sampled_from([None, D(2025, 4, 30), D(2025, 8, 31)]))
            if start is not None and end is not None and end < start:
                end = None
            revisions.append(revision(parent, r, draw(st.sampled_from(["released", "draft"])),
                                      effective_from=start, effective_to=end))
            for k, c in enumerate(codes[i + 1:]):
                if draw(st.booleans()):
                    lines.append(line(parent, c, draw(st.sampled_from([1, 2, 0.5, 3])), 10 * k,
                                      revision=r, scrap_pct=draw(st.sampled_from([0, 10]))))
    return data(items=[item(c) for c in codes], bom_revisions=revisions, bom_lines=lines)


def brute_explosion(lines_of: dict[str, list[tuple[str, float]]], top: str) -> dict[str, float]:
    """Extended quantity of everything below ``top`` by plain recursion over the given BOMs."""
    out: dict[str, float] = {}

    def walk(node: str, factor: float) -> None:
        for child, q in lines_of.get(node, []):
            out[child] = out.get(child, 0.0) + factor * q
            walk(child, factor * q)

    walk(top, 1.0)
    return out


def bom_of(d: PlanningData, chosen: dict[str, str]) -> dict[str, list[tuple[str, float]]]:
    out: dict[str, list[tuple[str, float]]] = {}
    for r in d.bom_lines.itertuples():
        if chosen.get(str(r.parent)) == r.revision:
            out.setdefault(str(r.parent), []).append(
                (str(r.component), float(r.quantity_per) * (1 + float(r.scrap_pct) / 100)))
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(revised_boms(), st.sampled_from([D(2025, 2, 1), D(2025, 4, 15), D(2025, 6, 1),
                                        D(2025, 10, 1)]), st.sampled_from(["released", "both"]))
def test_dated_where_used_equals_the_explosion_of_the_revisions_in_force(
        d: PlanningData, day: D, which: str) -> None:
    from workbench.analysis.bom import revisions_at

    statuses = {"released"} if which == "released" else BOTH
    g = BomGraph.build(d, statuses=statuses)
    in_force = revisions_at(d.bom_revisions, day_number(day), statuses)
    chosen = dict(zip(in_force["parent"].astype(str), in_force["revision"].astype(str)))
    bom = bom_of(d, chosen)
    for x in CODES[1:len(d.items)]:
        anc = where_used(g, x, as_of=day_number(day)).ancestors
        for r in anc.itertuples():
            want = brute_explosion(bom, str(r.item)).get(x, 0.0)
            assert r.extended_quantity == pytest.approx(want), (x, r.item)
            assert r.extended_quantity_min == r.extended_quantity_max
            down = explosion(g, str(r.item), day_number(day)).set_index("item")
            assert down.loc[x, "extended_quantity"] == pytest.approx(want)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(revised_boms())
def test_undated_range_is_the_least_and_most_over_one_revision_per_assembly(
        d: PlanningData) -> None:
    g = BomGraph.build(d, statuses=BOTH)
    with_lines = d.bom_lines[["parent", "revision"]].drop_duplicates()
    options = {str(p): sorted(set(grp["revision"].astype(str)))
               for p, grp in with_lines.groupby("parent")}
    parents = sorted(options)
    combos = [dict(zip(parents, pick)) for pick in itertools.product(*(options[p] for p in parents))]
    for x in CODES[1:len(d.items)]:
        anc = where_used(g, x).ancestors
        for r in anc.itertuples():
            figures = [brute_explosion(bom_of(d, c), str(r.item)).get(x, 0.0) for c in combos]
            assert r.extended_quantity_min == pytest.approx(min(figures)), (x, r.item)
            assert r.extended_quantity_max == pytest.approx(max(figures)), (x, r.item)
            if np.isclose(min(figures), max(figures)):
                assert r.extended_quantity == pytest.approx(min(figures))
            else:
                assert math.isnan(r.extended_quantity)


def test_cli_where_used_on_a_date_with_the_old_option_name_as_alias(
        tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from tests.fixtures_connector import MemoryConnector
    from workbench.cache.db import open_cache
    from workbench.cli import main
    from workbench.services.sync import run_sync

    rows: dict[str, list[dict[str, Any]]] = {
        "uoms": [{"code": "EA"}], "sites": [{"code": "S1"}],
        "items": [{"code": c} for c in ("TOP", "ASM", "BOLT")],
        "bom_revisions": [
            {"parent": "TOP", "revision": "A", "status": "released"},
            {"parent": "ASM", "revision": "A", "status": "released", "effective_to": "2025-05-31"},
            {"parent": "ASM", "revision": "B", "status": "released",
             "effective_from": "2025-06-01"}],
        "bom_lines": [
            {"parent": "TOP", "revision": "A", "position": 10, "component": "ASM", "quantity_per": 2},
            {"parent": "ASM", "revision": "A", "position": 10, "component": "BOLT", "quantity_per": 3},
            {"parent": "ASM", "revision": "B", "position": 10, "component": "BOLT", "quantity_per": 5}],
        # the cache's as-of day, the planning day: 1 July 2025 (revision B in force)
        "inventory": [{"item": "BOLT", "site": "S1", "quantity": 1, "as_of": "2025-07-01"}],
    }
    path = tmp_path / "wu.sqlite"
    assert run_sync(open_cache(path), MemoryConnector(rows)).ok

    def answer(*args: str) -> dict[str, Any]:
        assert main(["where-used", "BOLT", "--cache", str(path), "--json", *args]) == 0
        out: dict[str, Any] = json.loads(capsys.readouterr().out)
        return {a["item"]: a["extended_quantity"] for a in out["ancestors"]}

    assert answer() == {"ASM": 5, "TOP": 10}  # the planning day: B
    assert answer("--on", "2025-05-02") == {"ASM": 3, "TOP": 6}  # A
    assert answer("--as-of", "2025-05-02") == {"ASM": 3, "TOP": 6}  # the old name still works
    assert answer("--all-revisions") == {"ASM": None, "TOP": None}  # 3 or 5: no one figure
    assert main(["where-used", "BOLT", "--cache", str(path), "--all-revisions"]) == 0
    text = capsys.readouterr().out
    assert "every revision" in text and "6.0000-10.0000" in text
