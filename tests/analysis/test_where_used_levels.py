"""ancestor_levels answers what the recursive SQL of the where-used benchmark answers (every
assembly above an item with its least level), without pandas: the like-for-like half of issue
16 §6's comparison. A hand-made BOM, then random ones against where_used's own ancestors."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from tests.analysis.builders import data, item, line, revision
from tests.analysis.test_where_used_fast import _random_bom
from workbench.analysis.bom import BomGraph
from workbench.analysis.data import day_number
from workbench.analysis.where_used import ancestor_levels, where_used


def test_levels_of_a_hand_made_bom() -> None:
    # FG -> SA -> C, FG -> C directly, TOP -> FG; draft revision of X uses C (not released)
    bom = data(items=[item(c) for c in ("TOP", "FG", "SA", "C", "X")],
               bom_revisions=[revision("TOP", "A"), revision("FG", "A"), revision("SA", "A"),
                              revision("X", "A", status="draft")],
               bom_lines=[line("TOP", "FG", 1.0, 10), line("FG", "SA", 2.0, 10),
                          line("FG", "C", 1.0, 20), line("SA", "C", 3.0, 10),
                          line("X", "C", 1.0, 10)])
    graph = BomGraph.build(bom)
    codes, levels = ancestor_levels(graph, "C")
    assert codes.tolist() == ["FG", "SA", "TOP"]
    assert levels.tolist() == [1, 1, 2]
    codes, levels = ancestor_levels(graph, "TOP")
    assert (codes.tolist(), levels.tolist()) == ([], [])
    with pytest.raises(KeyError):
        ancestor_levels(graph, "NOPE")


@pytest.mark.parametrize("seed", range(15))
def test_levels_are_where_used_ancestors(seed: int) -> None:
    bom, _rows = _random_bom(np.random.default_rng(300 + seed))
    for statuses in (("released",), ("released", "draft")):
        graph = BomGraph.build(bom, statuses=statuses)  # type: ignore[arg-type]
        for day in (None, day_number(dt.date(2025, 5, 1)), day_number(dt.date(2025, 7, 1))):
            for code in graph.items.codes:
                anc = where_used(graph, str(code), as_of=day, max_paths=0).ancestors
                codes, levels = ancestor_levels(graph, str(code), as_of=day)
                assert codes.tolist() == anc["item"].tolist()
                assert levels.tolist() == anc["min_level"].tolist()
