"""Where-used, explosion and BOM cycles on a small hand-drawn BOM.

    TOP1 --2--> ASM --3 (scrap 10%)--> BOLT
      \\--1--------------------------> BOLT
    TOP2 --4--> ASM ;  ASM rev B (draft) uses 5 x NUT instead of BOLT
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.analysis.builders import data, item, line, revision
from workbench.analysis.bom import BomGraph
from workbench.analysis.data import day_number
from workbench.analysis.explosion import explosion
from workbench.analysis.where_used import where_used


def bom() -> object:
    return data(
        items=[item(c) for c in ("TOP1", "TOP2", "ASM", "BOLT", "NUT")],
        bom_revisions=[revision("TOP1"), revision("TOP2"),
                       revision("ASM", "A", effective_to=dt.date(2025, 5, 31)),
                       revision("ASM", "B", status="draft", effective_from=dt.date(2025, 6, 1))],
        bom_lines=[line("TOP1", "ASM", 2, 10), line("TOP1", "BOLT", 1, 20),
                   line("TOP2", "ASM", 4, 10),
                   line("ASM", "BOLT", 3, 10, scrap_pct=10),
                   line("ASM", "NUT", 5, 10, revision="B")],
    )


def test_multi_level_paths_extended_quantity_and_levels() -> None:
    g = BomGraph.build(bom())
    wu = where_used(g, "BOLT")
    anc = wu.ancestors.set_index("item")
    assert sorted(anc.index) == ["ASM", "TOP1", "TOP2"]
    assert anc.loc["ASM", "min_level"] == 1
    assert anc.loc["TOP1", "min_level"] == 1 and anc.loc["TOP1", "max_level"] == 2
    # per TOP1: 2 x 3.3 through ASM + 1 directly = 7.6; per TOP2: 4 x 3.3 = 13.2
    top = wu.top_level.set_index("item")["extended_quantity"]
    assert top["TOP1"] == pytest.approx(7.6)
    assert top["TOP2"] == pytest.approx(13.2)
    paths = sorted((p["top_level"], round(p["extended_quantity"], 9),
                    [(s["parent"], s["revision"], s["level"]) for s in p["steps"]])
                   for p in wu.paths)
    assert paths == [
        ("TOP1", 1.0, [("TOP1", "A", 1)]),
        ("TOP1", 6.6, [("ASM", "A", 1), ("TOP1", "A", 2)]),
        ("TOP2", 13.2, [("ASM", "A", 1), ("TOP2", "A", 2)]),
    ]


def test_single_level_lists_direct_parents_only() -> None:
    wu = where_used(BomGraph.build(bom()), "BOLT", multi_level=False)
    assert sorted(wu.direct["parent"]) == ["ASM", "TOP1"]
    assert set(wu.ancestors["item"]) == {"ASM", "TOP1"}


def test_as_of_date_and_drafts_filter_revisions() -> None:
    d = bom()
    released_june = BomGraph.build(d, as_of=day_number(dt.date(2025, 6, 15)))
    # ASM's released revision A ended 31 May and draft B is not planned: no parent for BOLT
    assert list(where_used(released_june, "BOLT").direct["parent"]) == ["TOP1"]
    with_drafts = BomGraph.build(d, as_of=day_number(dt.date(2025, 6, 15)),
                                 statuses={"released", "draft"})
    nut = where_used(with_drafts, "NUT")
    assert set(nut.ancestors["item"]) == {"ASM", "TOP1", "TOP2"}
    assert {s["revision"] for p in nut.paths for s in p["steps"] if s["parent"] == "ASM"} == {"B"}


def test_cycle_is_reported_and_never_loops() -> None:
    d = data(
        items=[item(c) for c in "ABCD"],
        bom_revisions=[revision(c) for c in "ABCD"],
        bom_lines=[line("A", "B", 1), line("B", "C", 1), line("C", "A", 1), line("D", "A", 2)],
    )
    g = BomGraph.build(d)
    wu = where_used(g, "B")
    assert wu.cycles and sorted(wu.cycles[0]) == ["A", "B", "C"]
    assert set(wu.ancestors["item"]) == {"A", "C", "D"}
    from workbench.analysis.bom import low_level_codes

    levels = low_level_codes(len(g.items), g.parent, g.component, g.items.codes)
    assert len(levels.cycles) == 1 and sorted(levels.cycles[0]) == ["A", "B", "C"]


def test_netting_survives_a_cycle_and_reports_it() -> None:
    from tests.analysis.builders import demand, week, weekly
    from workbench.analysis.netting import plan

    d = data(
        items=[item(c) for c in "AB"],
        bom_revisions=[revision("A"), revision("B")],
        bom_lines=[line("A", "B", 1), line("B", "A", 1)],
        demands=[demand("D1", "A", 5, week(1))],
    )
    p = plan(d, weekly(2))
    assert p.cycles and sorted(p.cycles[0]) == ["A", "B"]


def test_explosion_mirrors_where_used() -> None:
    g = BomGraph.build(bom())
    assert set(explosion(g, "TOP1")["item"]) == {"ASM", "BOLT"}
    assert "TOP1" in set(where_used(g, "BOLT").ancestors["item"])


def test_site_filter_keeps_paths_to_tops_active_at_the_site() -> None:
    g = BomGraph.build(bom())
    wu = where_used(g, "BOLT", tops={"TOP2"})
    assert {p["top_level"] for p in wu.paths} == {"TOP2"}
    assert set(wu.ancestors["item"]) == {"ASM", "TOP2"}


def test_one_undated_graph_answers_dated_questions_like_a_dated_graph() -> None:
    d = bom()
    undated = BomGraph.build(d, statuses={"released", "draft"})
    for day in (dt.date(2025, 5, 1), dt.date(2025, 6, 15)):
        dated = BomGraph.build(d, as_of=day_number(day), statuses={"released", "draft"})
        for code in ("BOLT", "NUT", "ASM"):
            a = where_used(undated, code, as_of=day_number(day))
            b = where_used(dated, code)
            assert a.ancestors.equals(b.ancestors), (code, day)
            assert a.paths == b.paths
