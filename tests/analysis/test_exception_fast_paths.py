"""The array shortcuts of the exception messages (docs/exceptions.md, "Speed") against the
straightforward code they replaced, on random inputs: the same answers, in the same order.

* the coverage's receipt order (row, day, then reference only where those tie) against
  ``sort_values(["row", "day", "ref"], kind="stable")``, and the first requirement above a
  receipt (binary search per row) against ``merge_asof``;
* the name columns (one look-up per distinct code) against ``Series.map`` per column;
* the packed lexsort of the pegging matrix's claims against ``np.lexsort`` of every key;
* the endangered demands listed from a sparse matrix against :meth:`DueDates.listed` of each
  row's pegs (same entries, same order, same rounding);
* the message order (severity, code, element; the element by a stable sort of its text)
  against sorted factorisations and a stable lexsort, on random plants.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import sparse

from tests.analysis.builders import TODAY, data, demand, item
from tests.analysis.builders import week as wk
from tests.analysis.test_exception_pegmatrix import plants
from workbench.analysis.calendar import Calendar
from workbench.analysis.exceptions import SEVERITIES, compute_exceptions, name_messages
from workbench.analysis.exceptions.coverage import _by_row_day_ref, _first_above, _first_above_asof
from workbench.analysis.exceptions.listing import listed
from workbench.analysis.exceptions.pegmatrix import _lexsort_packed, _ref_keys, _ref_ranks
from workbench.analysis.exceptions.pegs import DueDates
from workbench.analysis.netting import plan

refs = st.sampled_from(["PO-1/1", "PO-1/10", "PO-10/1", "PO-2/1", "WO-7", "WO-10", "a", "Z"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 4), refs), max_size=40))
def test_receipt_order_equals_the_sort_by_row_day_reference(rows: list[Any]) -> None:
    frame = pd.DataFrame(rows, columns=["row", "day", "ref"]).astype(
        {"row": np.int64, "day": np.int64})
    frame["ref"] = frame["ref"].astype(str)
    frame["seq"] = np.arange(len(frame))
    want = frame.sort_values(["row", "day", "ref"], kind="stable")["seq"].tolist()
    assert frame["seq"].to_numpy()[_by_row_day_ref(frame)].tolist() == want


codes = st.sampled_from(["X", "Y", "Z", "W"])
texts = st.one_of(st.none(), st.sampled_from(["", "Bolt", "EA", "ana"]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(codes, texts, texts), max_size=6),
       st.lists(st.tuples(codes, texts), max_size=4),
       st.lists(st.tuples(codes, st.sampled_from(["S1", "S2", "S3"]), codes), max_size=12),
       st.dictionaries(st.sampled_from(["S1", "S2"]), st.sampled_from(["One", ""])))
def test_name_columns_equal_a_map_per_column(items: list[Any], suppliers: list[Any],
                                             rows: list[Any], sites: dict[str, str]) -> None:
    d = data(items=[{"code": c, "description": t, "planner": p} for c, t, p in items],
             suppliers=[{"code": c, "name": n} for c, n in suppliers])
    messages = pd.DataFrame(rows, columns=["item", "site", "supplier"])
    got = name_messages(messages, d, sites)
    master = d.items.drop_duplicates("code").set_index("code")
    names = d.suppliers.drop_duplicates("code").set_index("code")
    for column, source in (("item_description", "description"), ("unit", "stock_uom"),
                           ("planner", "planner"), ("buyer", "buyer")):
        want = (messages["item"].map(master[source]).fillna("").astype(str)
                if len(master) else pd.Series([""] * len(messages)))
        assert got[column].tolist() == want.tolist(), column
    want = (messages["supplier"].map(names["name"]).fillna("").astype(str)
            if len(names) else pd.Series([""] * len(messages)))
    assert got["supplier_name"].tolist() == want.tolist()
    assert got["site_name"].tolist() == \
        messages["site"].map(sites).astype(object).fillna("").astype(str).tolist()


keys = st.lists(st.integers(-3, 3), min_size=8, max_size=8)


@settings(max_examples=200, deadline=None)
@given(st.lists(keys, max_size=30), st.booleans())
def test_packed_lexsort_equals_lexsort_of_every_key(rows: list[list[int]], huge: bool) -> None:
    table = np.array(rows, np.int64).reshape(len(rows), 8)
    if huge and len(rows):  # spans too wide to pack all: some keys stay apart
        table[:, 2] *= 2**40
        table[:, 3] *= 2**40
        table[:, 6] *= 2**20
    cols = [table[:, i] for i in range(8)]
    assert _lexsort_packed(cols).tolist() == np.lexsort(cols[::-1]).tolist()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 4),
                          st.floats(0.0, 50.0, allow_nan=False)), max_size=40),
       st.integers(1, 4))
def test_listed_demands_equal_due_dates_listed(entries: list[Any], limit: int) -> None:
    d = data(items=[item("X")],
             demands=[demand(f"D{k}", "X", 1, wk(k % 3)) for k in range(4)],
             work_orders=[{"code": "WO-1", "item": "X", "site": "S1", "quantity": 1,
                           "due_date": wk(2), "status": "released"}])
    due = DueDates(d)
    assert due.names.tolist() == ["D0", "D1", "D2", "D3", "work_order:WO-1"]
    r = np.array([e[0] for e in entries], np.int64)
    c = np.array([e[1] for e in entries], np.int64)
    v = np.array([e[2] for e in entries], float) / 3.0  # thirds: rounding matters
    pegs = sparse.csr_matrix((v, (r, c)), shape=(6, 5))
    got = listed(pegs, due, limit)
    for row in range(6):
        mine = pegs[row].tocoo()
        want = due.listed({str(due.names[k]): float(q) for k, q in zip(mine.col, mine.data)},
                          limit)
        assert got[row] == want


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plants(), st.integers(0, 2))
def test_messages_are_ordered_by_severity_code_element(d: Any, extra: int) -> None:
    p = plan(d, Calendar.weekly(TODAY + dt.timedelta(days=extra), 8))
    messages = compute_exceptions(d, p).messages
    rank = messages["severity"].map({v: i for i, v in enumerate(SEVERITIES)}).to_numpy()
    element, _ = pd.factorize(messages["element"], sort=True)
    code, _ = pd.factorize(messages["code"], sort=True)
    assert np.lexsort((element, code, rank)).tolist() == list(range(len(messages)))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.sampled_from([0.0, 1.0, 2.5, 10.0])),
                max_size=30),
       st.lists(st.tuples(st.integers(0, 5), st.sampled_from([-1.0, 0.0, 1.0, 2.5, 3.5, 30.0])),
                max_size=10))
def test_first_need_above_a_receipt_equals_merge_asof(events: list[Any],
                                                      probes: list[Any]) -> None:
    events.sort(key=lambda e: e[0])  # rows contiguous, event order kept
    ev_row = np.array([e[0] for e in events], np.int64)
    cumulative = pd.Series([e[1] for e in events], dtype=float).groupby(
        ev_row, sort=False).cumsum().to_numpy(float)
    rows = np.array([q[0] for q in probes], np.int64)
    probe = np.array([q[1] for q in probes], float)
    assert _first_above(ev_row, cumulative, rows, probe).tolist() == \
        _first_above_asof(ev_row, cumulative, rows, probe).tolist()


names = st.text(alphabet="AB-0z", max_size=3)


@settings(max_examples=300, deadline=None)
@given(st.lists(names, max_size=12), st.lists(names, min_size=1, max_size=6),
       st.lists(st.integers(0, 5), max_size=10), st.data())
def test_reference_ranks_from_sorted_references_keep_the_order(
        refs: list[str], codes: list[str], items: list[int], draw: st.DataObject) -> None:
    """The claims' reference ranks from the references ranked once per load (a subset of them
    in use) and the parents' codes searched among them: the order of ranking every string."""
    rank, distinct = pd.factorize(np.asarray(refs, dtype=object), sort=True)
    used = draw.draw(st.lists(st.integers(0, max(len(refs) - 1, 0)), max_size=len(refs))) \
        if refs else []
    own = rank[used].astype(np.int64) if used else np.zeros(0, np.int64)
    code_array = np.asarray(codes, dtype=object)
    parents = np.asarray([i % len(codes) for i in items], np.int64)
    keys = _ref_keys(own, np.asarray(distinct, dtype=object), code_array, parents)
    want = _ref_ranks(np.asarray([refs[i] for i in used], dtype=object), code_array, parents)
    assert pd.factorize(keys, sort=True)[0].tolist() == \
        pd.factorize(want, sort=True)[0].tolist()
