"""Net change planning, the sources side (:mod:`workbench.analysis.incremental_sources`): the rows
of the changed items found without a pass over whole frames, and the reservations' targets looked
up only where they can be.

Weekly buckets from Monday 2025-03-03 (``tests.analysis.builders``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.analysis.builders import data, demand, item, po_line, stock, week, weekly
from tests.analysis.test_incremental import assert_same_plan
from workbench.analysis.bom import ItemIndex
from workbench.analysis.data import PlanningData
from workbench.analysis.incremental import Change, keep_codes, replan_detail
from workbench.analysis.incremental_bom import levels_below
from workbench.analysis.incremental_sources import collect_items, item_keys, item_rows
from workbench.analysis.incremental_work import _Slots
from workbench.analysis.netting import plan


def _order(code: str, item_: str, site: str = "S1") -> dict[str, object]:
    return {"code": code, "item": item_, "site": site, "quantity": 1, "start_date": week(0),
            "due_date": week(4), "status": "released"}


def _component(order: str, item_: str, qty: float, required: dt.date) -> dict[str, object]:
    return {"work_order": order, "position": 10, "component": item_,
            "required_quantity": qty, "required_date": required}


def test_item_rows_of_a_carried_frame_come_from_an_index_built_on_its_second_use() -> None:
    """PO lines of A, B, A, Z (Z: not in the item master), C: the rows of A are 0 and 2, of
    A and C 0, 2 and 4, of B 1. The first look-up scans the item numbers; the frame copied with a
    quantity changed and its numbering kept (:func:`keep_codes`, as a decision's overlay or a
    sync's copy does) answers from an index of the rows by item, built once and carried to the
    next copy, with the same rows."""
    d = data(items=[item("A"), item("B"), item("C")],
             purchase_order_lines=[po_line("P1", 1, "A", 1, week(1)),
                                   po_line("P2", 1, "B", 1, week(1)),
                                   po_line("P3", 1, "A", 1, week(1)),
                                   po_line("P4", 1, "Z", 1, week(1)),
                                   po_line("P5", 1, "C", 1, week(1))])
    items = ItemIndex.build(d)
    a, b, c = (int(i) for i in items.idx(["A", "B", "C"]))
    name = "incremental:rows_by_item:purchase_order_lines.item"
    assert item_rows(d, "purchase_order_lines", "item", items, np.array([a])).tolist() == [0, 2]
    assert d._derived[name][1] is None  # seen once: no sort for a frame read once

    def copied(before: PlanningData) -> PlanningData:
        lines = before.purchase_order_lines.copy()
        lines.loc[1, "quantity_ordered"] = 7.0
        after = before.replace(purchase_order_lines=lines)
        keep_codes(before, after, "purchase_order_lines", "item")
        return after

    after = copied(d)
    got = item_rows(after, "purchase_order_lines", "item", items, np.array([a, c]))
    assert got.tolist() == [0, 2, 4]
    index = after._derived[name][1]
    assert index is not None  # the second use of the same numbering: indexed
    assert index[1].dtype == np.int32  # row numbers: half the memory of intp
    assert item_rows(after, "purchase_order_lines", "item", items, np.array([b])).tolist() == [1]
    later = copied(after)
    assert item_rows(later, "purchase_order_lines", "item", items, np.array([c])).tolist() == [4]
    assert later._derived[name][1] is index  # carried, not built again


def _reserving_plant(c_stock: float) -> PlanningData:
    """C: 3 (then 4) reserved for work order W1, which needs 5 C in week 1, and 2 reserved for
    demand DA of item A (a target the cache knows, not a requirement of C: on hand). W1 also
    exists as the code of a demand of B, which a target known as a work order never needs."""
    return data(
        items=[item("A"), item("B"), item("C", lead_time_days=7), item("M", make_buy="make")],
        work_orders=[_order("W1", "M")],
        work_order_components=[_component("W1", "C", 5, week(1))],
        demands=[demand("DA", "A", 1, week(2)), demand("W1", "B", 1, week(2))],
        inventory=[stock("C", c_stock, status="allocated", allocated_to="W1", lot="L1"),
                   stock("C", 2, status="allocated", allocated_to="DA", lot="L2")],
        purchase_order_lines=[po_line("P1", 1, "A", 1, week(3))])


def test_a_reservation_known_as_a_work_order_needs_no_look_up_among_the_demands() -> None:
    """W1 needs 5 C in week 1; 3 reserved for it serve 3, leaving 2 to net; the 2 reserved for
    DA (known, not C's requirement) are on hand and cover them: nothing planned. With 4 reserved
    for W1, 1 is left to net against the same 2 on hand. The replan of C finds W1 among the work
    orders and never indexes the demand codes; DA (a demand only) is still found there."""
    cal = weekly(4)
    before_data, after_data = _reserving_plant(3), _reserving_plant(4)
    before = plan(before_data, cal)
    c_row = before.row("C", "S1")
    assert c_row is not None
    assert before.on_hand[c_row] == 2.0 and before.gross[c_row].tolist() == [0, 2, 0, 0]
    assert before.planned[c_row].tolist() == [0, 0, 0, 0]
    only_w1 = data(**{  # the reservation for W1 alone: no demand code looked up
        "items": [item("C"), item("M", make_buy="make")], "work_orders": [_order("W1", "M")],
        "work_order_components": [_component("W1", "C", 5, week(1))],
        "demands": [demand("W1", "B", 1, week(2)), demand("DX", "M", 1, week(2))],
        "inventory": [stock("C", 3, status="allocated", allocated_to="W1")]})
    numbering = ItemIndex.build(only_w1)
    fresh = collect_items(only_w1, numbering, numbering.idx(["C"]).astype(np.int64), None)
    assert "incremental:codes:demands" not in only_w1._derived
    assert fresh.allocations[["allocated_to", "serves", "available"]].values.tolist() == \
        [["W1", 3.0, 0.0]]
    done = replan_detail(before, after_data, Change.of(items=["C"]))
    assert done.how == "incremental"
    row = done.plan.row("C", "S1")
    assert row is not None
    assert done.plan.on_hand[row] == 2.0 and done.plan.gross[row].tolist() == [0, 1, 0, 0]
    alloc = done.plan.sources.allocations.sort_values("allocated_to")
    assert alloc[["allocated_to", "serves", "available", "unplanned"]].values.tolist() == \
        [["DA", 0.0, 2.0, 0.0], ["W1", 4.0, 0.0, 0.0]]
    assert_same_plan(done.plan, plan(after_data, cal))
    pd.testing.assert_frame_equal(  # the demand of B named W1 is not among C's sources
        done.plan.sources.requirements[["item", "ref"]].sort_values(["ref", "item"]).reset_index(
            drop=True),
        pd.DataFrame({"item": ["A", "B", "C"], "ref": ["DA", "W1", "W1"]}), check_dtype=False)


def test_item_keys_of_patched_sources_are_the_wanted_items_rows_only() -> None:
    """Two sites (S1, S2: keys item * 2 + site). A is planned at S1 and S2 (stock, a demand),
    B at S1 (a PO line), C at S2 (stock). After a replan of B (patched sources), the planned
    keys of A are 2·A and 2·A + 1, of B and C 2·B and 2·C + 1; the full plan's sources answer
    every key (the caller keeps those it wants)."""
    def plant(b_qty: float) -> PlanningData:
        return data(items=[item("A"), item("B"), item("C")],
                    inventory=[stock("A", 1), stock("C", 2, site="S2")],
                    demands=[demand("D1", "A", 1, week(1), site="S2")],
                    purchase_order_lines=[po_line("P1", 1, "B", b_qty, week(1))])

    cal = weekly(3)
    full = plan(plant(1), cal)
    assert list(full.sites) == ["S1", "S2"]
    a, b, c = (int(i) for i in full.items.idx(["A", "B", "C"]))
    every = item_keys(full.sources, "planned", full.items, full.sites, np.array([a]))
    assert sorted(every.tolist()) == sorted([2 * a, 2 * a + 1, 2 * b, 2 * c + 1])
    done = replan_detail(full, plant(2), Change.of(items=["B"]))
    assert done.how == "incremental"
    src = done.plan.sources
    assert sorted(item_keys(src, "planned", full.items, full.sites, np.array([a])).tolist()) \
        == [2 * a, 2 * a + 1]
    assert sorted(item_keys(src, "planned", full.items, full.sites, np.array([b, c])).tolist()) \
        == [2 * b, 2 * c + 1]


def test_the_rows_re_netted_so_far_are_looked_up_by_key() -> None:
    """Keys 40 and 7 re-netted into rows 0 and 1, then 7 again into row 2: 7 -> 2, 40 -> 0,
    any other key -> -1."""
    slots = _Slots()
    assert slots.get(np.array([3])).tolist() == [-1]
    slots.set(np.array([7, 40]), np.array([1, 0]))
    slots.set(np.array([7]), np.array([2]))
    assert slots.get(np.array([40, 7, 8, 0, 99])).tolist() == [0, 2, -1, -1, -1]


def test_a_bom_quantity_change_moves_no_low_level_code_and_no_planned_at(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A (10 due in week 3, 3 on order in week 1) plans 7 in week 3, released in week 2; with 4 B
    per A instead of 2, B plans 28 in week 2 (was 14), C (3 per B) 84 in week 1 (was 42). The
    new line joins the same pair (A, B): low-level codes and where items are planned are not
    computed again (the two would fail here); a new component (A -> X) still moves them."""
    import workbench.analysis.incremental as incremental
    from tests.analysis.test_incremental import _chain

    cal = weekly(6)
    before_data = _chain(3)
    base = plan(before_data, cal)
    lines = before_data.bom_lines.copy()
    lines.loc[lines["component"] == "B", "quantity_per"] = 4.0
    after_data = before_data.replace(bom_lines=lines)

    def never(*_: object) -> None:
        raise AssertionError("computed again")

    with monkeypatch.context() as m:
        m.setattr(incremental, "levels_below", never)
        m.setattr(incremental, "planned_after_change", never)
        done = replan_detail(base, after_data, Change.of(bom_parents=["A"]))
    assert done.how == "incremental"
    assert done.plan.planned[done.plan.row("B", "S1")].tolist() == [0, 0, 28, 0, 0, 0]
    assert done.plan.planned[done.plan.row("C", "S1")].tolist() == [0, 84, 0, 0, 0, 0]
    assert_same_plan(done.plan, plan(after_data, cal))
    extra = pd.concat([before_data.bom_lines, data(bom_lines=[
        {"parent": "A", "revision": "A", "position": 20, "component": "X",
         "quantity_per": 1.0}]).bom_lines[list(before_data.bom_lines.columns)]],
        ignore_index=True)
    new_pair = before_data.replace(bom_lines=extra)
    calls: list[int] = []
    real = levels_below

    def counted(*a: Any) -> Any:
        calls.append(1)
        return real(*a)

    monkeypatch.setattr(incremental, "levels_below", counted)
    done = replan_detail(base, new_pair, Change.of(bom_parents=["A"]))
    assert done.how == "incremental" and calls == [1]
    assert_same_plan(done.plan, plan(new_pair, cal))


def test_a_replan_reads_the_headers_of_the_changed_items_lines_only(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """X has lines on P1 (header cancelled: no supply) and P2 (sent), 30 each in week 1,
    against 100 needed: 70 planned; with P2's line at 50, 50 planned. Y's order P3 is not read
    by the replan of X (a full collection checks every header)."""
    import workbench.analysis.sources as sources

    def plant(p2: float) -> PlanningData:
        return data(items=[item("X"), item("Y")],
                    purchase_orders=[
                        {"code": c, "supplier": "SUP", "site": "S1", "status": s}
                        for c, s in (("P1", "cancelled"), ("P2", "sent"), ("P3", "sent"))],
                    purchase_order_lines=[po_line("P1", 1, "X", 30, week(1), status="sent"),
                                          po_line("P2", 1, "X", p2, week(1), status="sent"),
                                          po_line("P3", 1, "Y", 5, week(1), status="sent")],
                    demands=[demand("D1", "X", 100, week(1))])

    cal = weekly(3)
    base = plan(plant(30), cal)
    assert base.planned[base.row("X", "S1")].tolist() == [0, 70, 0]
    seen: list[list[str]] = []
    real = sources.ended_order_lines

    def spy(pol: pd.DataFrame, headers: pd.DataFrame) -> np.ndarray:
        seen.append(sorted(headers["code"]))
        return real(pol, headers)

    monkeypatch.setattr(sources, "ended_order_lines", spy)
    done = replan_detail(base, plant(50), Change.of(items=["X"]))
    assert done.how == "incremental"
    assert seen == [["P1", "P2"]]
    assert done.plan.planned[done.plan.row("X", "S1")].tolist() == [0, 50, 0]
    monkeypatch.undo()
    assert_same_plan(done.plan, plan(plant(50), cal))


def test_the_reservations_of_a_replan_chain_are_put_together_when_read() -> None:
    """C's reservation for W1 goes 3 -> 4 -> 5 over two replans (W1 needs 5: it serves all of
    it), DA's 2 stay available; the chain never builds the reservations frame until it is read,
    and then it lists each reservation once."""
    cal = weekly(4)
    current = plan(_reserving_plant(3), cal)
    for qty in (4, 5):
        current = replan_detail(current, _reserving_plant(qty), Change.of(items=["C"]),
                                in_place=True).plan
        assert current.sources.__dict__["allocations"] is None
    alloc = current.sources.allocations.sort_values("allocated_to")
    assert alloc[["allocated_to", "serves", "available"]].values.tolist() == \
        [["DA", 0.0, 2.0], ["W1", 5.0, 0.0]]
    row = current.row("C", "S1")
    assert row is not None and current.gross[row].tolist() == [0, 0, 0, 0]
    assert_same_plan(current, plan(_reserving_plant(5), cal))


def test_an_in_place_replan_that_lays_rows_out_again_keeps_its_key_map_up_to_date() -> None:
    """The X demand removed takes X's row at S1 away, demands of A and B at S2 add the rows A,
    B and C there (test_incremental's case): the in-place replan updates the previous plan's
    key -> row map where it is, and it answers every key as a map built afresh does."""
    from tests.analysis.test_incremental import _chain

    cal = weekly(6)
    d = _chain(3)
    before = plan(d, cal)
    before.rows_for_keys(np.zeros(1, np.int64))  # the map built, as a session's first read does
    old_map = before._row_of_key
    dem = pd.concat([d.demands[d.demands["code"] != "DX"],
                     data(demands=[demand("D2", "B", 5, week(4), site="S2"),
                                   demand("DY", "A", 1, week(5), site="S2")]).demands],
                    ignore_index=True)
    after = d.replace(demands=dem)
    done = replan_detail(before, after, Change.of(items=["X", "A", "B"]), in_place=True)
    got = done.plan
    assert done.how == "incremental" and got._row_of_key is old_map
    assert got.row("X", "S1") is None and got.row("C", "S2") is not None
    every = np.arange(len(got.items) * got.n_sites)
    want = np.full(len(every), -1, np.int64)
    want[got.key] = np.arange(len(got.key))
    assert got.rows_for_keys(every).tolist() == want.tolist()
    assert_same_plan(got, plan(after, cal))


def test_a_replan_laying_rows_out_again_stores_each_matrix_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The same change (rows added at S2, X's row at S1 gone): the re-netted rows are written
    after the layout, once per plan matrix — each storing write of a RowMatrix scans every row's
    slot — and the plan is the full plan's."""
    from tests.analysis.test_incremental import _chain
    from workbench.analysis.rowmatrix import RowMatrix

    cal = weekly(6)
    d = _chain(3)
    before = plan(d, cal)
    dem = pd.concat([d.demands[d.demands["code"] != "DX"],
                     data(demands=[demand("D2", "B", 5, week(4), site="S2"),
                                   demand("DY", "A", 1, week(5), site="S2")]).demands],
                    ignore_index=True)
    after = d.replace(demands=dem)
    stores: list[int] = []
    real = RowMatrix._store

    def counted(self: RowMatrix, zero: np.ndarray, packed: np.ndarray) -> None:
        if len(zero) + len(packed):
            stores.append(id(self))
        real(self, zero, packed)

    monkeypatch.setattr(RowMatrix, "_store", counted)
    done = replan_detail(before, after, Change.of(items=["X", "A", "B"]), in_place=True)
    monkeypatch.undo()
    assert done.how == "incremental"
    assert len(stores) == len(set(stores)) <= 4
    assert_same_plan(done.plan, plan(after, cal))
