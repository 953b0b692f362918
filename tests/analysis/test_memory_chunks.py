"""Issue 16 §3: the netting nets a level a block of rows at a time, the where-used graph is built
a slice of lines at a time and reads its line columns through its line numbers
(:class:`workbench.analysis.gathered.Gathered`). Same values as the whole-array computation."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.analysis import bom_graph, netting
from workbench.analysis.bom import BomGraph, CodedLines, ItemIndex, effective_windows
from workbench.analysis.calendar import Calendar
from workbench.analysis.data import PlanningData
from workbench.analysis.gathered import Gathered
from workbench.analysis.netting import plan
from workbench.cache.db import open_cache
from workbench.services.planning import load_planning_data, planning_day
from workbench.services.sources import demo_connector
from workbench.services.sync import run_sync


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> PlanningData:
    path: Path = tmp_path_factory.mktemp("small") / "cache.sqlite"
    engine = open_cache(path)
    try:
        run_sync(engine, demo_connector(scale="small"))  # the small demo plant: 541 rows
        return load_planning_data(engine)
    finally:
        engine.dispose()


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and bool(
        np.array_equal(a, b) and np.array_equal(np.signbit(a), np.signbit(b))
        if a.dtype.kind == "f" else np.array_equal(a, b))


def test_gathered_reads_like_the_gathered_array() -> None:
    base = np.array([10.0, -0.0, 2.5, 7.0, 1.0])
    rows = np.array([4, 0, 0, 2, 1], np.int32)
    g = Gathered(base, rows)
    dense = base[rows]  # [1, 10, 10, 2.5, -0]
    assert len(g) == 5 and g.shape == (5,) and g.dtype == np.float64 and g.ndim == 1
    assert g[0] == 1.0 and g[-1] == 0.0 and np.signbit(g[-1])
    assert g[1:3].tolist() == [10.0, 10.0]
    assert g[np.array([3, 0])].tolist() == [2.5, 1.0]
    assert g[np.array([True, False, False, True, False])].tolist() == [1.0, 2.5]
    assert (g > 2).tolist() == [False, True, True, True, False]
    assert (~Gathered(np.array([True, False]), np.array([1, 1, 0]))).tolist() == [True, True,
                                                                                   False]
    assert float(g.sum()) == 23.5 and float(np.max(g)) == 10.0
    assert np.unique(g).tolist() == [0.0, 1.0, 2.5, 10.0]
    assert np.asarray(g, dtype=np.int64).tolist() == [1, 10, 10, 2, 0]
    assert list(g) == dense.tolist()
    assert g.nbytes == rows.nbytes  # only its row numbers are its own
    nested = Gathered(Gathered(np.array(["A", "B"], object), np.array([1, 0, 1])),
                      np.array([2, 2, 0]))
    assert nested[np.arange(3)].tolist() == ["B", "B", "B"] and nested[1] == "B"
    back = pickle.loads(pickle.dumps(g))
    assert _same(np.asarray(back), dense)


def test_netting_a_level_in_blocks_of_rows_gives_the_same_plan(
        small: PlanningData, monkeypatch: pytest.MonkeyPatch) -> None:
    cal = Calendar.parse(planning_day(small), "26w", "week")
    whole = plan(small, cal)  # every level of the small demo fits one block
    assert len(whole.key) > 500
    monkeypatch.setattr(netting, "_LEVEL_ROWS", 7)  # levels of 100+ rows: many blocks
    blocks = plan(small, cal)
    for name in ("key", "level", "on_hand"):
        assert _same(getattr(blocks, name), getattr(whole, name)), name
    for name in ("gross", "scheduled", "net", "planned"):
        assert _same(np.asarray(getattr(blocks, name)), np.asarray(getattr(whole, name))), name
    assert np.asarray(whole.planned).any() and np.asarray(whole.gross).any()


def _reference_rows(data: PlanningData, items: ItemIndex) -> pd.DataFrame:
    """The graph's rows by pandas: lines of released revisions (frame order) once per window
    of their revision (windows' order), 0/0 without one; listed = first (revision, position)."""
    lines = data.bom_lines.reset_index(drop=True)
    revs = data.bom_revisions[data.bom_revisions["status"] == "released"]
    allowed = lines.reset_index().merge(revs[["parent", "revision"]].drop_duplicates(),
                                        on=["parent", "revision"])
    windows = effective_windows(data.bom_revisions).reset_index()
    rows = allowed.merge(windows, on=["parent", "revision"], how="left", suffixes=("", "_w"))
    rows = rows.sort_values(["index", "index_w"], kind="stable", na_position="last")
    rows["win_from"] = rows["win_from"].fillna(0).astype(np.int64)
    rows["win_to"] = rows["win_to"].fillna(0).astype(np.int64)
    rows["listed"] = ~rows[["parent", "revision", "position"]].duplicated()
    return rows.reset_index(drop=True)


@pytest.mark.parametrize("chunk", [3, 1 << 12])
def test_the_graph_built_in_slices_equals_a_pandas_join(
        small: PlanningData, chunk: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bom_graph, "_CHUNK", chunk)
    items = ItemIndex.build(small)
    graph = BomGraph.build(small, items=items)
    ref = _reference_rows(small, items)
    assert len(ref) > 100
    line = graph.quantity.rows  # type: ignore[attr-defined]
    assert line.dtype == np.int32 and line.tolist() == ref["index"].tolist()
    assert np.asarray(graph.win_from).tolist() == ref["win_from"].tolist()
    assert np.asarray(graph.win_to).tolist() == ref["win_to"].tolist()
    assert graph.listed.tolist() == ref["listed"].tolist()
    assert graph.items.codes[graph.parent].tolist() == ref["parent"].tolist()
    assert graph.items.codes[graph.component].tolist() == ref["component"].tolist()
    assert np.asarray(graph.revision).tolist() == ref["revision"].tolist()
    assert graph.position.tolist() == ref["position"].tolist()
    assert _same(np.asarray(graph.quantity_per), ref["quantity_per"].to_numpy(float))
    assert _same(np.asarray(graph.quantity), ref["quantity_per"].to_numpy(float)
                 * (1.0 + ref["scrap_pct"].to_numpy(float) / 100.0))
    # the CSR is a stable sort of the lines by component and by parent
    assert graph.by_child.tolist() == np.argsort(graph.component, kind="stable").tolist()
    assert graph.by_parent.tolist() == np.argsort(graph.parent, kind="stable").tolist()
    assert graph.ptr_child[-1] == len(line) and graph.by_child.dtype == np.int32


def test_a_duplicated_position_is_listed_once() -> None:
    data = PlanningData.from_rows(
        items=[{"code": c, "make_buy": "make" if c == "P" else "buy"} for c in ("P", "X", "Y")],
        bom_revisions=[{"parent": "P", "revision": "A", "status": "released"}],
        bom_lines=[{"parent": "P", "revision": "A", "position": 10, "component": "X",
                    "quantity_per": 1.0},
                   {"parent": "P", "revision": "A", "position": 10, "component": "Y",
                    "quantity_per": 2.0},
                   {"parent": "P", "revision": "A", "position": 20, "component": "Y",
                    "quantity_per": 3.0}])
    items = ItemIndex.build(data)
    assert CodedLines.of(data, items).first_position.tolist() == [True, False, True]
    graph = BomGraph.build(data, items=items)
    assert graph.listed.tolist() == [True, False, True]
    assert np.asarray(graph.quantity).tolist() == [1.0, 2.0, 3.0]


def test_coded_quantities_are_worked_out_for_the_lines_read(small: PlanningData) -> None:
    items = ItemIndex.build(small)
    coded = CodedLines.of(small, items)
    lines = small.bom_lines
    whole = lines["quantity_per"].to_numpy(float) * (
        1.0 + lines["scrap_pct"].to_numpy(float) / 100.0)
    assert coded.quantity.nbytes == 0 and len(coded.quantity) == len(lines)
    assert _same(np.asarray(coded.quantity), whole)
    some = np.array([5, 0, 3, 3])
    assert _same(coded.quantity[some], whole[some]) and coded.quantity[2] == whole[2]
    assert _same(pickle.loads(pickle.dumps(coded.quantity))[some], whole[some])
    # a plan's row map holds int32 rows
    p = plan(small, Calendar.parse(planning_day(small), "26w", "week"))
    assert p.rows_for_keys(p.key[:3]).tolist() == [0, 1, 2]
    assert p._row_of_key is not None and p._row_of_key.dtype == np.int32


def test_coded_revision_keys_are_worked_out_for_the_lines_read(small: PlanningData) -> None:
    items = ItemIndex.build(small)
    coded = CodedLines.of(small, items)
    n = len(coded.revision_codes)
    whole = coded.parent.astype(np.int64) * n + coded.revision_code
    assert coded.revision_key.nbytes == 0 and coded.revision_key.dtype == np.int64
    assert _same(np.asarray(coded.revision_key), whole)
    some = np.array([7, 1, 1])
    assert _same(coded.revision_key[some], whole[some])
    assert coded.revision_key[4] == whole[4] and coded.revision_key[2:5].tolist() == \
        whole[2:5].tolist()
    # the key names the line's parent and revision
    lines = small.bom_lines
    assert coded.revision_codes[coded.revision_code[3]] == lines["revision"].iat[3]
    assert items.codes[coded.revision_key[3] // n] == lines["parent"].iat[3]
