"""Where items are planned after a BOM change, recomputed below the changed parents only
(workbench/analysis/planned_change.py), is the full closure (netting.planned_at) of the changed
lines: on random BOMs (cycles and several sites included), and on a hand-made one."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.analysis.bom import gather
from workbench.analysis.netting import Segments, planned_at
from workbench.analysis.planned_change import planned_after_change


def _segments(parent: np.ndarray, component: np.ndarray, n_items: int) -> Segments:
    n = len(parent)
    return Segments(parent.astype(np.int64), component.astype(np.int64), np.ones(n),
                    np.zeros(n, np.int64), np.ones(n, np.int64),
                    np.zeros(n, dtype=object)).index(n_items)


def _descendants(seg: Segments, start: np.ndarray, n_items: int) -> np.ndarray:
    seen = np.zeros(n_items, bool)
    seen[start] = True
    frontier = np.unique(start)
    while len(frontier):
        lines, _ = gather(seg.ptr_parent, seg.by_parent, frontier)
        kids = np.unique(seg.component[lines])
        frontier = kids[~seen[kids]]
        seen[frontier] = True
    return np.flatnonzero(seen)


def _full_and_fast(base: Segments, parents: np.ndarray, new: Segments, keys: np.ndarray,
                   n_items: int, n_sites: int) -> tuple[np.ndarray, np.ndarray]:
    keep = ~np.isin(base.parent, parents)
    merged = _segments(np.concatenate([base.parent[keep], new.parent]),
                       np.concatenate([base.component[keep], new.component]), n_items)
    full = planned_at(merged, n_items, n_sites, keys)
    old_children = base.component[np.isin(base.parent, parents)]
    below = _descendants(base, np.union1d(old_children, new.component), n_items)
    before = planned_at(base, n_items, n_sites, keys)
    fast = planned_after_change(before, keys, base, parents, new, below, n_sites)
    return full, fast


@pytest.mark.parametrize("seed", range(60))
def test_recomputed_below_the_change_equals_the_full_closure(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_items, n_sites = int(rng.integers(5, 60)), int(rng.integers(1, 4))
    n_lines = int(rng.integers(0, 4 * n_items))
    # mostly downward lines (parent < component), a few upward ones: cycles happen
    a, b = rng.integers(0, n_items, n_lines), rng.integers(0, n_items, n_lines)
    down = rng.random(n_lines) < 0.9
    parent = np.where(down, np.minimum(a, b), np.maximum(a, b))
    component = np.where(down, np.maximum(a, b), np.minimum(a, b))
    ok = parent != component
    base = _segments(parent[ok], component[ok], n_items)
    parents = np.unique(rng.integers(0, n_items, int(rng.integers(1, 4))))
    n_new = int(rng.integers(0, 8))
    new = _segments(rng.choice(parents, n_new), rng.integers(0, n_items, n_new), n_items)
    keys = np.unique(rng.integers(0, n_items * n_sites, int(rng.integers(0, n_items))))
    full, fast = _full_and_fast(base, parents, new, keys, n_items, n_sites)
    assert np.array_equal(full, fast)


def test_a_component_dropped_and_one_added_by_hand() -> None:
    """Items 0 (planned at sites 0 and 1 by records) and 4 (site 1) are parents.
    Before: 0 -> 1 -> 2, 4 -> 2. Parent 0 changes to 0 -> 3. After: 0 and 3 at sites 0 and 1;
    1 nowhere (only 0 reached it); 2 at site 1 only (still reached from 4 at site 1)."""
    n_items, n_sites = 5, 2
    base = _segments(np.array([0, 1, 4]), np.array([1, 2, 2]), n_items)
    keys = np.array([0 * 2 + 0, 0 * 2 + 1, 4 * 2 + 1])
    new = _segments(np.array([0]), np.array([3]), n_items)
    full, fast = _full_and_fast(base, np.array([0]), new, keys, n_items, n_sites)
    expected = np.zeros(n_items * n_sites, bool)
    expected[[0, 1, 3 * 2 + 0, 3 * 2 + 1, 2 * 2 + 1, 4 * 2 + 1]] = True
    assert np.array_equal(fast, expected) and np.array_equal(full, expected)
