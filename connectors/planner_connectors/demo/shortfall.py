"""Where a row of the demo plant falls short: the lot-for-lot netting the demo's MRP run uses to
size its requisitions (:mod:`planner_connectors.demo.mrp`), on plain arrays."""

from __future__ import annotations

import numpy as np


def row_deficits(rows: np.ndarray, free: np.ndarray,
                 supply: tuple[np.ndarray, np.ndarray, np.ndarray],
                 needs: tuple[np.ndarray, np.ndarray, np.ndarray]
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Per row (``rows``: sorted keys; ``free``: day-0 stock less safety stock), the largest
    amount by which the requirements ``needs`` take projected stock + the receipts ``supply``
    below safety stock (the lot-for-lot net requirement; 0: never) and the first day they do.
    ``supply`` and ``needs`` are (key, day, quantity); keys outside ``rows`` are ignored, a
    receipt counts before a requirement of the same day."""
    s_key, s_day, s_qty = supply
    n_key, n_day, n_qty = needs
    s_in, n_in = np.isin(s_key, rows), np.isin(n_key, rows)
    key = np.concatenate([rows, s_key[s_in], n_key[n_in]])
    day = np.concatenate([np.full(len(rows), -1), s_day[s_in], np.maximum(n_day[n_in], 0)])
    delta = np.concatenate([free, s_qty[s_in], -n_qty[n_in]])
    order = np.lexsort((-delta, day, key))
    key, day, delta = key[order], day[order], delta[order]
    start = np.searchsorted(key, rows)
    cum = np.cumsum(delta)
    base = np.concatenate([[0.0], cum])[start]
    deficit = -(cum - np.repeat(base, np.diff(np.r_[start, len(key)])))
    short = deficit > 1e-6
    at = np.searchsorted(rows, key[short])
    worst = np.zeros(len(rows))
    np.maximum.at(worst, at, deficit[short])
    first = np.full(len(rows), np.iinfo(np.int64).max)
    np.minimum.at(first, at, day[short])
    return worst, first
