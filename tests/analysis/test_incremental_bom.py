"""The BOM side of net change (:mod:`workbench.analysis.incremental_bom`): the changed parents'
lines spliced into the plan's segments give the same lines, and the same lines per parent and
per component, as indexing the changed BOM from scratch — when lines are added (the arrays
grow), removed (the last lines take the freed ids) or both, in place, on a copy, or read
through to the old lines (a what-if)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.analysis.incremental_bom import FIELDS, merged_segments
from workbench.analysis.netting import Segments


def _segments(lines: list[tuple[int, int, float]], n_items: int) -> Segments:
    parent = np.array([p for p, _, _ in lines], np.int64)
    component = np.array([c for _, c, _ in lines], np.int64)
    quantity = np.array([q for _, _, q in lines], float)
    n = len(lines)
    return Segments(parent, component, quantity, np.zeros(n, np.int64),
                    np.full(n, 26, np.int64), np.zeros(n, np.int64)).index(n_items)


def _lines_by(seg: Segments, ptr: np.ndarray, by: np.ndarray,
              n_items: int) -> list[list[tuple[float, ...]]]:
    """Per item, the sorted lines (all fields) its index range lists."""
    out = []
    for i in range(n_items):
        ids = np.asarray(by[ptr[i]:ptr[i + 1]], np.int64)
        columns = [np.asarray(getattr(seg, f)[ids], float).tolist() for f in FIELDS]
        out.append(sorted(zip(*columns)))
    return out


def _check(before: list[tuple[int, int, float]], parents: list[int],
           new_lines: list[tuple[int, int, float]], n_items: int, mode: str) -> None:
    old = _segments(before, n_items)
    new = _segments(new_lines, n_items)
    want = _segments([ln for ln in before if ln[0] not in parents] + new_lines, n_items)
    got = merged_segments(old, np.array(sorted(set(parents)), np.int64), new, n_items,
                          mode=mode)
    assert np.array_equal(got.ptr_parent, want.ptr_parent)
    assert np.array_equal(got.ptr_child, want.ptr_child)
    if mode == "overlay":  # the old lines stay (the dropped ones unindexed), the new come after
        assert len(got.parent) == len(before) + len(new_lines)
        assert sorted(got.by_parent.tolist()) == sorted(got.by_child.tolist())
    else:
        assert len(got.parent) == len(want.parent)
        rows = sorted(zip(*(getattr(got, f).tolist() for f in FIELDS)))
        assert rows == sorted(zip(*(getattr(want, f).tolist() for f in FIELDS)))
        assert sorted(got.by_parent.tolist()) == list(range(len(got.parent)))
        assert sorted(got.by_child.tolist()) == list(range(len(got.parent)))
    assert _lines_by(got, got.ptr_parent, got.by_parent, n_items) == \
        _lines_by(want, want.ptr_parent, want.by_parent, n_items)
    assert _lines_by(got, got.ptr_child, got.by_child, n_items) == \
        _lines_by(want, want.ptr_child, want.by_child, n_items)


MODES = ["copy", "in_place", "overlay"]

BEFORE = [(0, 1, 1.0), (0, 2, 2.0), (1, 3, 3.0), (2, 3, 4.0), (2, 4, 5.0), (3, 4, 6.0),
          (4, 5, 7.0)]


@pytest.mark.parametrize("mode", MODES)
def test_parent_gains_lines_the_arrays_grow(mode: str) -> None:
    # parent 1 had one line (to 3); now three: to 3, 4 and 5 -> 9 lines, ids 7 and 8 new
    _check(BEFORE, [1], [(1, 3, 3.5), (1, 4, 1.0), (1, 5, 2.0)], 6, mode)


@pytest.mark.parametrize("mode", MODES)
def test_parent_loses_lines_the_last_lines_take_the_freed_ids(mode: str) -> None:
    # parent 0 loses both lines (ids 0 and 1): lines 5 and 6 (parents 3, 4) move into them
    _check(BEFORE, [0], [], 6, mode)


@pytest.mark.parametrize("mode", MODES)
def test_two_parents_one_grows_one_shrinks(mode: str) -> None:
    _check(BEFORE, [2, 4], [(2, 5, 9.0), (4, 1, 1.0), (4, 2, 1.0), (4, 3, 1.0)], 6, mode)


@pytest.mark.parametrize("mode", MODES)
def test_last_parent_loses_its_only_line(mode: str) -> None:
    _check(BEFORE, [4], [], 6, mode)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_random_splices_equal_a_fresh_index(draw: st.DataObject) -> None:
    n_items = draw.draw(st.integers(2, 8))
    line = st.tuples(st.integers(0, n_items - 1), st.integers(0, n_items - 1),
                     st.integers(1, 9).map(float))
    before = draw.draw(st.lists(line, max_size=25))
    parents = draw.draw(st.lists(st.integers(0, n_items - 1), min_size=1, max_size=3))
    new_lines = draw.draw(st.lists(
        st.tuples(st.sampled_from(sorted(set(parents))), st.integers(0, n_items - 1),
                  st.integers(1, 9).map(float)), max_size=8))
    _check(before, parents, new_lines, n_items, draw.draw(st.sampled_from(MODES)))


@pytest.mark.parametrize("mode", ["in_place", "copy"])
def test_new_lines_of_the_same_pairs_take_their_old_ids_and_keep_both_indexes(mode: str) -> None:
    """Lines 0: 0 -> 1 (2 per), 1: 0 -> 2 (1 per), 2: 3 -> 1 (5 per); parent 0's new lines
    0 -> 2 (4 per) and 0 -> 1 (3 per) join the same pairs: line 0 becomes 3 per, line 1 4 per,
    both indexes are the old arrays (not rebuilt), a copy leaves the old lines as they were."""
    lines = [(0, 1, 2.0), (0, 2, 1.0), (3, 1, 5.0)]
    new_lines = [(0, 2, 4.0), (0, 1, 3.0)]
    old = _segments(lines, 4)
    got = merged_segments(old, np.array([0], np.int64), _segments(new_lines, 4), 4, mode=mode)
    assert got.quantity.tolist() == [3.0, 4.0, 5.0]
    assert got.component.tolist() == [1, 2, 1]
    assert got.by_parent is old.by_parent and got.by_child is old.by_child
    assert got.ptr_parent is old.ptr_parent and got.ptr_child is old.ptr_child
    assert old.quantity.tolist() == ([3.0, 4.0, 5.0] if mode == "in_place" else [2.0, 1.0, 5.0])
    _check(lines, [0], new_lines, 4, mode)
