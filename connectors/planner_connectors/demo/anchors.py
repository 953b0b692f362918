"""Where the demo's MRP run put its orders: requirement entries, the queue of entries waiting
for their BOM level, and the weighted choice of *anchors* (the entries an order is due just
before) with the requirement each anchor's order covers (see :mod:`planner_connectors.demo.mrp`)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

#: anchors of one row closer than this are one order
MIN_GAP = 14
BIG = 1 << 20  # day codes inside a row key: key * BIG + day


@dataclass
class Entries:
    """Requirement entries in the stock unit (see the module docstring)."""

    item: np.ndarray
    site: np.ndarray
    day: np.ndarray
    actual: np.ndarray
    planned: np.ndarray

    @staticmethod
    def concat(parts: list[Entries]) -> Entries:
        return Entries(
            *(np.concatenate([getattr(p, f) for p in parts]) for f in Entries.__dataclass_fields__)
        )

    def take(self, rows: np.ndarray) -> Entries:
        return Entries(*(getattr(self, f)[rows] for f in self.__dataclass_fields__))



def weighted_pick(rng: np.random.Generator, weight: np.ndarray, k: int) -> np.ndarray:
    """Up to ``k`` positions with weight > 0, drawn without replacement in proportion to the
    weight (Efraimidis-Spirakis: the largest log(u) / w), sorted."""
    pool = np.flatnonzero(weight > 0)
    k = min(k, len(pool))
    if k == 0:
        return np.zeros(0, np.int64)
    score = np.log(rng.random(len(pool))) / weight[pool]
    return pool[top_k(score, k)]


def top_k(score: np.ndarray, k: int, tiebreak: np.ndarray | None = None) -> np.ndarray:
    """Positions of the ``k`` largest scores, sorted. Among scores equal to the k-th largest,
    the largest ``tiebreak`` go first (all equal or none given: the lowest positions).

    Not ``np.argpartition(-score, k - 1)[:k]``: which of equal scores that keeps depends on the
    SIMD code numpy dispatches to on the CPU (AVX-512, AVX2 or none), and the demo plant must
    be the same everywhere. The k-th largest value itself does not depend on it."""
    n = len(score)
    if k >= n:
        return np.arange(n)
    if k <= 0:
        return np.zeros(0, np.int64)
    threshold = np.partition(score, n - k)[n - k]
    above = np.flatnonzero(score > threshold)
    tied = np.flatnonzero(score == threshold)
    need = k - len(above)
    if need < len(tied) and tiebreak is not None:
        tied = np.sort(tied[np.argsort(-tiebreak[tied], kind="stable")[:need]])
    out: np.ndarray = np.sort(np.concatenate([above, tied[:need]]))
    return out


class Pending:
    """Entries waiting for their item's level (its BOM height; bought items are height 0)."""

    def __init__(self, height: np.ndarray) -> None:
        self.height = height
        self.parts: dict[int, list[Entries]] = defaultdict(list)

    def add(self, e: Entries) -> None:
        e = e.take(np.flatnonzero((e.actual > 0) | (e.planned > 0)))
        if len(e.item) == 0:
            return
        h = self.height[e.item]
        order = np.argsort(h, kind="stable")
        h = h[order]
        bounds = np.flatnonzero(np.diff(h)) + 1
        for rows in np.split(order, bounds):
            self.parts[int(self.height[e.item[rows[0]]])].append(e.take(rows))

    def take(self, level: int) -> Entries:
        parts = self.parts.pop(level, [])
        if not parts:
            empty = np.zeros(0, np.int64)
            return Entries(empty, empty, empty, np.zeros(0), np.zeros(0))
        return Entries.concat(parts)


@dataclass
class Cover:
    """How one level's rows are covered: stock per row and orders per anchor."""

    row_key: np.ndarray  # sorted unique item * n_sites + site
    stock: np.ndarray  # planned requirement before the first anchor, per row
    planned_total: np.ndarray
    anchor_key: np.ndarray
    anchor_day: np.ndarray
    anchor_qty: np.ndarray  # planned requirement from the anchor to the next one


def cover_anchors(
    rng: np.random.Generator,
    e: Entries,
    n_sites: int,
    weight: np.ndarray,
    budget: int,
    spacing: np.ndarray | None = None,
) -> Cover:
    """Pick up to ``budget`` anchors (weighted, one per row per MIN_GAP days) and size them.

    ``spacing`` (per entry, days; 0 = none): rows that should have an order every so many days
    over the horizon (finished goods, built in regular lots) get those anchors first.
    """
    key = e.item.astype(np.int64) * n_sites + e.site
    day = np.maximum(e.day, -1000)
    code = key * BIG + (day + 1000)
    order = np.argsort(code, kind="stable")
    key, day, code = key[order], day[order], code[order]
    planned, weight = e.planned[order], weight[order]
    row_key, row_of = np.unique(key, return_inverse=True)
    score = np.full(len(key), -np.inf)
    # weighted sampling without replacement (Efraimidis-Spirakis): the largest log(u) / w
    candidates = weight > 0
    score[candidates] = np.log(rng.random(int(candidates.sum()))) / weight[candidates]
    drawn = score.copy()  # orders the spaced anchors among themselves (see below)
    if spacing is not None:
        spacing = spacing[order]
        phase = rng.integers(0, 1 << 30, len(row_key))[row_of] % np.maximum(spacing, 1)
        slot = (day + phase) // np.maximum(spacing, 1)
        first = np.r_[True, (key[1:] != key[:-1]) | (slot[1:] != slot[:-1])]
        first &= candidates & (spacing > 0)
        flagged = np.flatnonzero(first)
        # before any weighted pick (those score <= 0), and each row's first before any second
        score[flagged] = 1.0
        leading = np.r_[True, key[flagged[1:]] != key[flagged[:-1]]][: len(flagged)]
        score[flagged[leading]] = 2.0
    pool = np.flatnonzero(candidates)
    k = min(budget, len(pool))
    chosen = np.zeros(0, np.int64)
    if k > 0:
        # spaced anchors beyond the budget: the weighted draw decides which are kept
        chosen = pool[top_k(score[pool], k, drawn[pool])]
        # one order per row per fortnight: drop an anchor too close to the one before it
        same_row = np.r_[False, key[chosen[1:]] == key[chosen[:-1]]]
        close = same_row & (np.r_[0, np.diff(day[chosen])] < MIN_GAP)
        chosen = chosen[~close]
    a_code = code[chosen]
    row_start = row_key[row_of] * BIG
    seg = np.searchsorted(a_code, code, "right") - np.searchsorted(a_code, row_start, "left")
    first_anchor = np.searchsorted(a_code, row_start, "left")
    covered = seg > 0
    anchor_qty = np.bincount(
        (first_anchor + seg - 1)[covered], weights=planned[covered], minlength=len(chosen)
    )
    stock = np.bincount(row_of[~covered], weights=planned[~covered], minlength=len(row_key))
    total = np.bincount(row_of, weights=planned, minlength=len(row_key))
    return Cover(row_key, stock, total, key[chosen], day[chosen], anchor_qty)
