"""The message frame's building blocks (kinds.py) against the plain pandas/numpy computation."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.analysis.exceptions.kinds import _keys, as_frame, choice, frame, message_columns


def test_keys_equal_the_pandas_concatenation() -> None:
    rng = np.random.default_rng(7)
    texts = np.array([f"PO-{i}/{j}" for i, j in rng.integers(0, 50, (300, 2))], dtype=object)
    for elements in (texts, np.zeros(0, object), np.array(["a", 3, "b"], dtype=object)):
        plain = ("reduce|" + pd.Series(elements, dtype=object).astype(str)).to_numpy()
        got = _keys("reduce", elements)
        assert got.dtype == plain.dtype and got.tolist() == plain.tolist()


def test_choice_equals_np_where() -> None:
    flag = np.random.default_rng(3).random(500) < 0.4
    got = choice(flag, "purchase_order_line", "work_order")
    assert got.dtype == object
    assert got.tolist() == np.where(flag, "work_order", "purchase_order_line").tolist()
    assert choice(np.zeros(0, bool), "a", "b").tolist() == []


def test_frame_is_the_frame_of_its_columns() -> None:
    n = 4
    given = {"element": np.array(["W1", "P/1", "W2", "P/2"], dtype=object),
             "element_type": choice(np.array([1, 0, 1, 0], bool), "purchase_order_line",
                                    "work_order"),
             "due_day": np.array([1, 2, 3, 4]), "quantity": np.arange(n, dtype=float),
             "reason": "why", "_row": np.arange(n)}
    got = frame("reduce", n, given)
    pd.testing.assert_frame_equal(got, as_frame(message_columns("reduce", n, given)))
    assert got["element_type"].tolist() == ["work_order", "purchase_order_line"] * 2
    assert got["key"].tolist() == ["reduce|W1", "reduce|P/1", "reduce|W2", "reduce|P/2"]
    assert got["_row"].tolist() == [0, 1, 2, 3] and str(got["element"].dtype) == "str"
