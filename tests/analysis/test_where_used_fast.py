"""Where-used's path listing walks each ancestor's parent lines gathered once per question
(issue 16 §6); on random BOMs (several revisions, drafts, dated windows, alternates, cycles)
it lists exactly the paths the step-by-step walk over the graph lists, and the ancestors are the
ones the recursive SQL of the benchmarks finds through released revisions."""

from __future__ import annotations

import datetime as dt
import sqlite3

import numpy as np
import pytest

from tests.analysis.builders import data, item, line, revision
from workbench.analysis.bom import BomGraph
from workbench.analysis.data import day_number
from workbench.analysis.where_used import _ancestors, _parent_lines, _paths, where_used

CTE = """
WITH RECURSIVE up(item, level) AS (
    SELECT ?, 0
    UNION
    SELECT l.parent, up.level + 1
    FROM up
    JOIN bom_lines l ON l.component = up.item
    JOIN bom_revisions r ON r.parent = l.parent AND r.revision = l.revision
         AND r.status = 'released'
)
SELECT item, min(level) FROM up WHERE level > 0 GROUP BY item
"""


def _random_bom(rng: np.random.Generator, cycles: bool = True
                ) -> tuple[object, list[tuple[str, str, str, str]]]:
    n = int(rng.integers(4, 12))
    codes = [f"I{i:02d}" for i in range(n)]
    revisions, lines, revs_of = [], [], {}
    for p in range(n):
        revs = ["A", "B"][: int(rng.integers(1, 3))]
        revs_of[p] = revs
        for r in revs:
            status = "released" if r == "A" or rng.random() < 0.5 else "draft"
            cut = dt.date(2025, 6, 1)
            window = ({"effective_to": cut - dt.timedelta(days=1)} if len(revs) == 2 and r == "A"
                      else {"effective_from": cut} if r == "B" else {})
            revisions.append(revision(codes[p], r, status=status, **window))
            revisions[-1]["_status"] = status
    rows = []
    for k in range(int(rng.integers(0, 4 * n))):
        p, c = (int(x) for x in rng.integers(0, n, 2))
        if p == c or (p > c and (not cycles or rng.random() < 0.9)):  # mostly downward
            continue
        r = str(rng.choice(revs_of[p]))
        alt = {"alternate_group": "G", "alternate_priority": 2} if rng.random() < 0.1 else {}
        lines.append(line(codes[p], codes[c], float(rng.integers(1, 5)), 10 * (k + 1),
                          revision=r, **alt))
        status = next(x["_status"] for x in revisions
                      if x["parent"] == codes[p] and x["revision"] == r)
        rows.append((codes[p], codes[c], r, status))
    for x in revisions:
        del x["_status"]
    return data(items=[item(c) for c in codes], bom_revisions=revisions, bom_lines=lines), rows


@pytest.mark.parametrize("seed", range(25))
def test_paths_from_lines_gathered_once_are_the_step_by_step_paths(seed: int) -> None:
    rng = np.random.default_rng(seed)
    bom, _ = _random_bom(rng)
    for statuses in (("released",), ("released", "draft")):
        graph = BomGraph.build(bom, statuses=statuses)  # type: ignore[arg-type]
        for day in (None, day_number(dt.date(2025, 5, 1)), day_number(dt.date(2025, 7, 1))):
            for code in graph.items.codes:
                start = int(graph.items.idx([code])[0])
                _nodes, lines, _levels = _ancestors(graph, start, day)
                up = _parent_lines(graph, lines)
                for limit in (0, 1, 3, 100):
                    tops = None if limit != 3 else {str(graph.items.codes[0])}
                    assert _paths(graph, start, limit, tops, day, up) == \
                        _paths(graph, start, limit, tops, day), (code, day, limit)


@pytest.mark.parametrize("seed", range(20))
def test_ancestors_are_those_of_the_recursive_sql(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    bom, rows = _random_bom(rng, cycles=False)  # the CTE climbs a cycle for ever
    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE bom_lines (parent, component, revision)")
    con.execute("CREATE TABLE bom_revisions (parent, revision, status)")
    con.executemany("INSERT INTO bom_lines VALUES (?, ?, ?)", [r[:3] for r in rows])
    con.executemany("INSERT INTO bom_revisions VALUES (?, ?, ?)",
                    {(p, r, s) for p, _c, r, s in rows})
    graph = BomGraph.build(bom, statuses=("released",))  # type: ignore[arg-type]
    for code in graph.items.codes:
        wu = where_used(graph, str(code), as_of=None, max_paths=100)
        expected = dict(con.execute(CTE, (str(code),)).fetchall())
        assert dict(zip(wu.ancestors["item"], wu.ancestors["min_level"])) == expected, code
