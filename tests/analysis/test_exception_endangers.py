"""The array shortcuts of the endangered demands (workbench/analysis/exceptions/endangers.py,
listing.py) against the plain computation they replace.

* :func:`.listing.round6` against Python's ``round(q, 6)``, bit for bit (the sign of a zero
  too), on random floats of every magnitude and on the doubles around the midpoints between
  two 6-decimal values, where the vectorised rounding must hand over to ``round``.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.analysis.exceptions.listing import round6


def _bits(values: list[float]) -> list[int]:
    return np.array(values, dtype=float).view(np.int64).tolist()


def _same_as_round(values: np.ndarray) -> None:
    want = [round(v, 6) for v in values.tolist()]
    got = round6(values).tolist()
    same_nan = [math.isnan(a) and math.isnan(b) for a, b in zip(got, want)]
    assert [g if not n else 0.0 for g, n in zip(_bits(got), same_nan)] == \
        [w if not n else 0.0 for w, n in zip(_bits(want), same_nan)]


def test_round6_equals_round_on_random_floats() -> None:
    rng = np.random.default_rng(7)
    parts = [rng.uniform(-1, 1, 20_000) * 10.0 ** rng.integers(-12, 14, 20_000),
             rng.integers(-10**6, 10**6, 5_000) / 1e6,  # exact at 6 decimals
             rng.integers(0, 10**4, 5_000) / 3.0, rng.uniform(0, 1e3, 5_000),
             np.array([0.0, -0.0, 1e-7, -1e-7, 5e-7, -5e-7, 4.9999999e-7, 2.0**31, -2.0**31,
                       2.0**40 + 0.3, 1e300, -1e300, np.inf, -np.inf, np.nan, 5e-324])]
    _same_as_round(np.concatenate(parts))


def test_round6_equals_round_around_midpoints() -> None:
    rng = np.random.default_rng(11)
    k = np.concatenate([rng.integers(-10**9, 10**9, 5_000), np.arange(-50, 50)])
    mid = (k + 0.5) / 1e6  # the double nearest each midpoint, and its neighbours
    values = np.concatenate([mid, np.nextafter(mid, np.inf), np.nextafter(mid, -np.inf),
                             np.nextafter(np.nextafter(mid, np.inf), np.inf),
                             np.nextafter(np.nextafter(mid, -np.inf), -np.inf)])
    _same_as_round(values)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=30),
       st.lists(st.integers(-10**12, 10**12), max_size=10))
def test_round6_equals_round_on_any_float(values: list[float], halves: list[int]) -> None:
    extra = [(h + 0.5) / 1e6 for h in halves]
    _same_as_round(np.array(values + extra, dtype=float))
