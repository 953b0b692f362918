"""Where-used answers from column arrays (issue 16 §6): no pandas while a multi-level question
is answered or turned into records; the frames, made when a caller asks, hold the same rows and
column types as before, and the records are those of the frames."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.analysis.test_where_used_fast import _random_bom
from workbench.analysis import where_used as module
from workbench.analysis.bom import BomGraph
from workbench.analysis.data import day_number
from workbench.analysis.where_used import _records, where_used

DAYS = (None, day_number(dt.date(2025, 5, 1)), day_number(dt.date(2025, 7, 1)))


class _NoPandas:
    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"pandas used while answering: pd.{name}")


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    return type(a) is type(b) and a == b


@pytest.mark.parametrize("seed", range(15))
def test_answered_without_pandas_records_those_of_the_frames(seed: int,
                                                              monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    rng = np.random.default_rng(300 + seed)
    bom, _ = _random_bom(rng)
    for statuses in (("released",), ("released", "draft")):
        graph = BomGraph.build(bom, statuses=statuses)  # type: ignore[arg-type]
        for day in DAYS:
            for code in graph.items.codes:
                tops = {str(graph.items.codes[0])} if rng.random() < 0.3 else None
                with monkeypatch.context() as m:
                    m.setattr(module, "pd", _NoPandas())
                    wu = where_used(graph, str(code), as_of=day, max_paths=5, tops=tops)
                    answer = wu.to_dict()
                assert _same(answer["ancestors"], _records(wu.ancestors)), (code, day)
                assert _same(answer["direct"], _records(wu.direct)), (code, day)
                assert _same(answer["top_level"], _records(wu.top_level)), (code, day)
                assert answer["paths"] == wu.paths
                assert list(wu.ancestors.columns) == module.ANCESTOR_COLUMNS


def test_the_frames_keep_their_column_types() -> None:
    bom, _ = _random_bom(np.random.default_rng(4), cycles=False)
    graph = BomGraph.build(bom)  # type: ignore[arg-type]
    asked = [where_used(graph, str(c), as_of=None) for c in graph.items.codes]
    wu = max(asked, key=lambda w: len(w.ancestor_columns.get("item", ())))
    assert len(wu.ancestors) and len(wu.direct)
    text = pd.array(["x"], dtype="str").dtype
    assert wu.ancestors["item"].dtype == text and wu.direct["parent"].dtype == text
    assert [str(wu.ancestors[c].dtype) for c in module.ANCESTOR_COLUMNS[1:]] == \
        ["int64", "int64", "bool", "float64", "float64", "float64"]
    assert [str(wu.direct[c].dtype) for c in ("position", "quantity_per", "alternate")] == \
        ["int64", "float64", "bool"]
    single = where_used(graph, str(wu.item), multi_level=False)
    assert list(single.ancestors["item"]) == list(pd.unique(single.direct["parent"]))
    assert single.ancestors["item"].dtype == text
    assert (single.ancestors["min_level"] == 1).all()
