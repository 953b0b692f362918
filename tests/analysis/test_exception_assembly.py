"""Message assembly: coverage references as positions, element order per rule's frame.

Hand-computed cases for what ``compute_exceptions`` uses instead of hashing element strings
against the coverage's references and sorting every element text per plan."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.analysis.data import PlanningData
from workbench.analysis.exceptions import _one_frame_per_group, _text_rank
from workbench.analysis.exceptions.endangers import RefIndex, ref_index


def test_ref_index_last_row_and_rank() -> None:
    refs = np.array(["PO-2/1", "PO-1/1", "PO-2/1", "WO-9", "PO-1/1"], dtype=object)
    idx = RefIndex.of(refs)
    # the last row of each reference (drop_duplicates(keep="last")): PO-2/1 -> 2, PO-1/1 -> 4
    assert idx.last.tolist() == [2, 4, 2, 3, 4]
    # dense rank of the text: PO-1/1 < PO-2/1 < WO-9
    assert idx.rank.tolist() == [1, 0, 1, 2, 0]
    assert idx.lookup(np.array(["WO-9", "PO-3/1", "PO-2/1"], dtype=object)).tolist() == \
        [3, -1, 2]
    # the same answer as the dict by reference the look-up replaced
    cov = pd.DataFrame({"ref": refs}).drop_duplicates("ref", keep="last")
    old = pd.Index(cov["ref"]).get_indexer(["WO-9", "PO-3/1", "PO-2/1"])
    assert cov.index.to_numpy()[old[old >= 0]].tolist() == [3, 2]


def test_ref_index_empty() -> None:
    idx = RefIndex.of(np.zeros(0, dtype=object))
    assert idx.lookup(np.array(["A"], dtype=object)).tolist() == [-1]


def test_ref_index_kept_while_references_equal() -> None:
    data = PlanningData.from_rows()
    cov = pd.DataFrame({"ref": np.array(["B", "A"], dtype=object)})
    first = ref_index(data, cov)
    again = ref_index(data, pd.DataFrame({"ref": np.array(["B", "A"], dtype=object)}))
    assert again is first  # equal references: made once
    other = ref_index(data, pd.DataFrame({"ref": np.array(["A", "B"], dtype=object)}))
    assert other is not first and other.last.tolist() == [0, 1]
    assert other.rank.tolist() == [0, 1]


def test_text_rank_stable() -> None:
    elements = pd.Series(["b", "a", "b", "a10", "a"], dtype=object)
    # sorted: a(1), a(4), a10(3), b(0), b(2)
    assert _text_rank(elements).tolist() == [3, 0, 4, 2, 1]


def test_one_frame_per_group() -> None:
    assert _one_frame_per_group(np.array([1, 1, 0, 2, 2]), [2, 1, 2])
    assert not _one_frame_per_group(np.array([1, 0, 0, 2, 2]), [2, 1, 2])  # two codes in one
    assert not _one_frame_per_group(np.array([1, 1, 0, 1, 1]), [2, 1, 2])  # one code twice
    assert _one_frame_per_group(np.zeros(0, np.int64), [])


def test_item_rows_as_names_look_them_up() -> None:
    from workbench.analysis.exceptions import _item_rows, _NameTables

    items = pd.DataFrame({"code": ["A", "B", "A"], "description": ["a", None, "a2"],
                          "stock_uom": ["EA", "KG", "EA"], "planner": ["P", "Q", "P"],
                          "buyer": ["X", "Y", "X"]})
    data = PlanningData.from_rows(items=items.to_dict("records"))
    names = _NameTables.of(data)
    # A: its first row (0), B: row 1, Z unknown and a missing code: -1 (the tables' "")
    rows = _item_rows(names, pd.Series(["B", "Z", "A", None, "B"], dtype=object))
    assert rows.tolist() == [1, -1, 0, -1, 1]
    assert names.item_text["item_description"][rows].tolist() == ["", "", "a", "", ""]
    assert names.item_text["unit"][rows].tolist() == ["KG", "", "EA", "", "KG"]


def test_pending_elements_once_per_lines() -> None:
    from workbench.analysis.exceptions import _pending_elements

    lines = pd.DataFrame({"purchase_order": ["PO-1", "pending:REQ-7", "pending:REQ-8"],
                          "line": [1, 1, 2], "source": ["sync", "overlay", "sync"]})
    # only the overlay's lines placed by a pending decision
    assert _pending_elements(lines).tolist() == ["pending:REQ-7/1"]
    assert _pending_elements(lines.iloc[:1]).tolist() == []


def test_frame_in_message_order_one_piece_per_severity() -> None:
    from workbench.analysis.exceptions import _in_message_order
    from workbench.analysis.exceptions.kinds import frame

    part = frame("confirmation_differs", 5, {
        "element": np.array(["PO-2/1", "PO-1/1", "PO-3/1", "PO-1/1", "PO-0/9"], dtype=object),
        "severity": np.array(["medium", "high", "medium", "medium", "high"], dtype=object),
        "days": np.array([1.0, 2.0, 3.0, 4.0, 5.0])})
    pieces = _in_message_order(part)
    # high first, then medium; each by element text, equal elements in frame order
    assert [p["severity"].tolist() for p in pieces] == [["high", "high"],
                                                          ["medium", "medium", "medium"]]
    assert [p["element"].tolist() for p in pieces] == [["PO-0/9", "PO-1/1"],
                                                         ["PO-1/1", "PO-2/1", "PO-3/1"]]
    assert [p["days"].tolist() for p in pieces] == [[5.0, 2.0], [4.0, 1.0, 3.0]]
    assert all(p.index.equals(pd.RangeIndex(len(p))) for p in pieces)
    assert _in_message_order(part.iloc[:0]) == []


def test_firm_messages_in_the_order_given() -> None:
    from workbench.analysis.exceptions import supply

    cov = pd.DataFrame({
        "row": [0, 0, 1], "item": ["A", "A", "B"], "site": ["S", "S", "S"],
        "kind": ["purchase_order", "work_order", "purchase_order"],
        "ref": ["PO-9/1", "WO-1", "PO-1/1"], "supplier": ["V", "", "V"],
        "day": [10, 12, 11], "bucket": [0, 0, 0], "quantity": [5.0, 6.0, 7.0],
        "before": [0.0, 5.0, 0.0], "needed": [0.0, 0.0, 0.0], "need_day": [-1, -1, -1]})
    plain = supply.cancel(cov)  # every receipt serves nothing: all three cancelled
    assert plain["element"].tolist() == ["PO-9/1", "WO-1", "PO-1/1"]
    assert plain["_cov"].tolist() == [0, 1, 2]
    given = supply.cancel(cov, np.array([2, 0, 1]))
    assert given["element"].tolist() == ["PO-1/1", "PO-9/1", "WO-1"]
    assert given["_cov"].tolist() == [2, 0, 1]
    assert given["quantity"].tolist() == [7.0, 5.0, 6.0]
    assert given["role"].tolist() == ["buyer", "buyer", "planner"]


def test_distinct_marked_as_unique() -> None:
    from workbench.analysis.exceptions.listing import distinct_marked

    hit, at = distinct_marked(np.array([5, 2, 5, 0, 2]), 7)
    assert hit.tolist() == [0, 2, 5] and at.tolist() == [2, 1, 2, 0, 1]
    rng = np.random.default_rng(3)
    for size in (1, 10, 1000):
        values = rng.integers(0, size, 500)
        want, inverse = np.unique(values, return_inverse=True)
        got, at = distinct_marked(values, size)
        assert got.tolist() == want.tolist() and at.tolist() == inverse.tolist()
    empty, none = distinct_marked(np.zeros(0, np.int64), 4)
    assert len(empty) == 0 and len(none) == 0


def test_str_arrays_make_the_frame_inference_makes() -> None:
    from workbench.analysis.exceptions.kinds import STR, choice, frame, str_array

    texts = np.array(["b", "a", "b"], dtype=object)
    typed = str_array(texts)
    assert typed.dtype == STR and list(typed) == ["b", "a", "b"]
    assert isinstance(str_array(np.zeros(0, object)), np.ndarray)  # empty: inferred as object
    assert list(choice(np.array([True, False]), "no", "yes")) == ["yes", "no"]
    made = frame("reschedule_in", 3, {"element": texts, "item": np.array(["I", "J", "I"]),
                                      "role": choice(np.array([0, 1, 0]), "buyer", "planner")})
    inferred = pd.DataFrame({c: np.asarray(made[c].tolist(), dtype=object)
                             if made[c].dtype == STR else made[c] for c in made.columns})
    pd.testing.assert_frame_equal(made, inferred)
    assert made["key"].tolist() == ["reschedule_in|b", "reschedule_in|a", "reschedule_in|b"]
    assert made["code"].tolist() == ["E01"] * 3 and made["role"].tolist() == [
        "buyer", "planner", "buyer"]
    none = frame("cancel", 0, {})  # no text to infer from: object columns, as before
    assert all(none[c].dtype == object for c in ("key", "code", "kind", "element", "reason"))
