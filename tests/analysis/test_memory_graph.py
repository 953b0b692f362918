"""Memory of the where-used graph (issue 16 §3): the graph keeps its item numbers, positions
and line orders as int32, and building it peaks little above what it keeps (the large demo's
build peaked ~125 MiB above its 139 MiB; the first (revision, position) pairs were found by
pandas' hash table on two columns). Its answers are unchanged (tests/analysis/test_where_used*)."""

from __future__ import annotations

import datetime as dt
import tracemalloc

import numpy as np
import pandas as pd
import pytest

from tests.analysis.builders import data, item, line, revision
from workbench.analysis.bom import BomGraph, CodedLines, ItemIndex, _first_of_pairs
from workbench.analysis.data import PlanningData


@pytest.mark.parametrize("seed", range(6))
def test_first_of_pairs_marks_what_pandas_does_not_call_duplicated(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 3000))
    a = rng.integers(-50, 50, n) * int(rng.choice([1, 1000]))
    b = rng.integers(-5, 40, n)
    expected = ~pd.DataFrame({"a": a, "b": b}).duplicated().to_numpy(bool)
    assert np.array_equal(_first_of_pairs(a, b), expected)
    assert np.array_equal(_first_of_pairs(a.astype(np.int32), b.astype(np.int32)), expected)


def test_first_of_pairs_edge_cases() -> None:
    none = np.zeros(0, np.int64)
    assert _first_of_pairs(none, none).tolist() == []
    assert _first_of_pairs(np.array([7]), np.array([3])).tolist() == [True]
    # pairs whose combined key would not fit an int64: the pandas way, same answer
    a = np.array([2**40, -(2**40), 2**40, 0])
    b = np.array([2**30, -(2**30), 2**30, 2**30])
    assert _first_of_pairs(a, b).tolist() == [True, True, False, True]
    # same first numbers, different second ones; a repeat far down keeps the first
    assert _first_of_pairs(np.array([1, 1, 2, 1, 1]),
                           np.array([10, 20, 10, 10, 20])).tolist() == \
        [True, True, True, False, False]


def _plant(parents: int, per_parent: int) -> PlanningData:
    """Assemblies with two revisions (the second from a cut-over date), each line repeated in
    both, components below them."""
    cut = dt.date(2025, 6, 1)
    items = [item(f"P{p:05d}", make_buy="make") for p in range(parents)] + \
        [item(f"C{c:05d}") for c in range(per_parent * 4)]
    revisions, lines = [], []
    for p in range(parents):
        code = f"P{p:05d}"
        revisions += [revision(code, "A", effective_to=cut - dt.timedelta(days=1)),
                      revision(code, "B", effective_from=cut)]
        for k in range(per_parent):
            component = f"C{(p + 7 * k) % (per_parent * 4):05d}"
            for rev in ("A", "B"):
                lines.append(line(code, component, 1.0 + k, 10 * (k + 1), revision=rev))
    return data(items=items, bom_revisions=revisions, bom_lines=lines)


def test_the_graph_keeps_int32_numbers_and_peaks_little_above_them() -> None:
    plant = _plant(1500, 10)  # 30,000 lines
    items = ItemIndex.build(plant)
    CodedLines.of(plant, items)  # prepared once per load, before any graph
    tracemalloc.start()
    try:
        graph = BomGraph.build(plant, items=items)
        kept, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(graph.parent) == 30_000
    for name in ("parent", "component", "position", "by_child", "by_parent"):
        assert getattr(graph, name).dtype == np.int32, name
    # every line listed once (its first window), as pandas' duplicated() listed them
    assert int(graph.listed.sum()) == 30_000
    # 0.34 here; 0.51 before (the pairs through pandas, the temporaries alive to the end)
    assert peak - kept < 0.42 * kept, (kept, peak)
    # the graph answers as before: P00000 uses C00000 in both revisions
    assert graph.items.codes[graph.parent[graph.parents_of(
        int(graph.items.idx(["C00000"])[0]))]].tolist().count("P00000") == 2
