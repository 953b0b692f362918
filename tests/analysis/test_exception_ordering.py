"""The stable order of :func:`workbench.analysis.exceptions.ordering.lex_order` is
``np.lexsort``'s: keys that pack with the position, keys that pack but tie (put in order by
the keys left and the position), keys too wide to pack at all."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.analysis.exceptions.ordering import lex_order


def test_hand_computed_order_keeps_equal_rows_in_place() -> None:
    # rows by (a, b): (0,1) (1,0) (0,1) (0,0) -> row 3, then rows 0 and 2 (equal: in place), 1
    a, b = np.array([0, 1, 0, 0]), np.array([1, 0, 1, 0])
    assert lex_order([a, b]).tolist() == [3, 0, 2, 1]


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 4), st.integers(0, 60), st.sampled_from([3, 1000, 2**40, 2**61]),
       st.randoms(use_true_random=False))
def test_lex_order_is_lexsort(n_keys: int, n: int, width: int, rnd: Any) -> None:
    rng = np.random.default_rng(rnd.randint(0, 2**32 - 1))
    keys = [rng.integers(-width, width, n, dtype=np.int64) if k % 2 else
            rng.integers(0, 3, n, dtype=np.int64) for k in range(n_keys)]
    assert lex_order(keys).tolist() == np.lexsort(keys[::-1]).tolist()
