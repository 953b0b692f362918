"""Invariants of netting, pegging and where-used on generated data (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.analysis.builders import data, demand, item, line, po_line, revision, stock, week, weekly
from workbench.analysis.bom import BomGraph
from workbench.analysis.data import CodeLookup, PlanningData, factorize_codes
from workbench.analysis.explosion import explosion
from workbench.analysis.netting import plan
from workbench.analysis.pegging import Pegging
from workbench.analysis.where_used import where_used

CODES = ["A", "B", "C", "D", "E"]
qty = st.integers(min_value=0, max_value=60)


@st.composite
def plants(draw):  # type: ignore[no-untyped-def]
    """Up to five items, BOM lines only from an earlier code to a later one (no cycles)."""
    n = draw(st.integers(2, 5))
    codes = CODES[:n]
    items = [item(c, make_buy="make", lead_time_days=draw(st.sampled_from([0, 3, 7, 14])),
                  safety_stock=draw(st.sampled_from([0, 0, 5])),
                  min_order_qty=draw(st.sampled_from([0, 0, 10])),
                  order_multiple=draw(st.sampled_from([0, 0, 4, 2.5]))) for c in codes]
    lines = []
    for i, p in enumerate(codes):
        for c in codes[i + 1:]:
            if draw(st.booleans()):
                lines.append(line(p, c, draw(st.sampled_from([1, 2, 0.5, 3])), len(lines),
                                  scrap_pct=draw(st.sampled_from([0, 10]))))
    demands = [demand(f"D{k}", draw(st.sampled_from(codes)), draw(qty), week(draw(st.integers(0, 5))),
                      site=draw(st.sampled_from(["S1", "S2"])))
               for k in range(draw(st.integers(1, 6)))]
    stocks = [stock(c, draw(qty), site="S1") for c in codes if draw(st.booleans())]
    pos = [po_line(f"P{k}", 1, draw(st.sampled_from(codes)), draw(qty), week(draw(st.integers(0, 5))))
           for k in range(draw(st.integers(0, 3)))]
    return data(items=items, bom_revisions=[revision(c) for c in codes], bom_lines=lines,
                demands=demands, inventory=stocks, purchase_order_lines=pos)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plants())
def test_projected_balance_and_safety_stock(d) -> None:  # type: ignore[no-untyped-def]
    p = plan(d, weekly(6))
    for row in range(len(p.key)):
        rec = p.record(row)
        prev = np.concatenate([[p.on_hand[row]], rec["projected_available"].to_numpy()[:-1]])
        flow = (rec["scheduled_receipts"] + rec["planned_receipts"]
                - rec["gross_requirements"]).to_numpy()
        assert np.allclose(rec["projected_available"].to_numpy(), prev + flow)
        safety = p.items.safety_stock[p.item[row]]
        assert (rec["projected_available"] >= safety - 1e-6).all()
        assert (rec["planned_receipts"] >= rec["net_requirements"] - 1e-9).all()
    # every unit released by a parent shows up as a component requirement
    total_gross = p.gross.sum()
    independent = p.sources.requirements["quantity"].sum()
    assert total_gross >= independent - 1e-6


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plants())
def test_pegs_add_up_to_each_requirement_and_planned_order(d) -> None:  # type: ignore[no-untyped-def]
    p = plan(d, weekly(6))
    peg = Pegging(p)
    for row in range(len(p.key)):
        reqs = peg.requirements(row)
        by_bucket = np.zeros(p.calendar.n_buckets)
        for r in reqs:
            assert np.isclose(sum(r.pegs.values()), r.quantity)
            by_bucket[r.bucket] += r.quantity
        assert np.allclose(by_bucket, p.gross[row])
        for b, pegs in peg.order_pegs(row).items():
            assert np.isclose(sum(pegs.values()), p.planned[row, b])


@st.composite
def graphs(draw):  # type: ignore[no-untyped-def]
    """Random BOM edges among six items, cycles allowed."""
    codes = CODES + ["F"]
    pairs = draw(st.lists(st.tuples(st.sampled_from(codes), st.sampled_from(codes))
                          .filter(lambda e: e[0] != e[1]), max_size=14, unique=True))
    return data(items=[item(c) for c in codes], bom_revisions=[revision(c) for c in codes],
                bom_lines=[line(p, c, 1, k) for k, (p, c) in enumerate(pairs)])


@settings(max_examples=25, deadline=None)
@given(graphs())
def test_where_used_contains_p_exactly_when_explosion_of_p_contains_x(d) -> None:  # type: ignore[no-untyped-def]
    g = BomGraph.build(d)
    codes = CODES + ["F"]
    up = {x: set(where_used(g, x).ancestors["item"]) for x in codes}
    down = {p: set(explosion(g, p)["item"]) for p in codes}
    for x in codes:
        for p in codes:
            if p != x:
                assert (p in up[x]) == (x in down[p]), (x, p)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plants(), st.data())
def test_what_if_replan_equals_a_full_plan_of_the_changed_data(d, draw) -> None:  # type: ignore[no-untyped-def]
    """Re-netting only below a changed parent gives what netting everything would."""
    from workbench.analysis.netting import with_revision_released
    from workbench.analysis.scenario import replan

    parents = sorted(set(d.bom_lines["parent"]))
    if not parents:
        return
    parent = draw.draw(st.sampled_from(parents))
    comps = [c for c in CODES if c > parent and c in set(d.items["code"])]
    if not comps:
        return
    new_lines = [line(parent, c, draw.draw(st.sampled_from([1, 2, 4])), k, revision="Z")
                 for k, c in enumerate(draw.draw(st.lists(st.sampled_from(comps), unique=True)))]
    changed = d.replace(
        bom_revisions=pd.concat([d.bom_revisions, data(bom_revisions=[revision(parent, "Z", "draft")])
                                 .bom_revisions], ignore_index=True),
        bom_lines=pd.concat([d.bom_lines, data(bom_lines=new_lines).bom_lines], ignore_index=True)
        if new_lines else d.bom_lines)
    changed = with_revision_released(changed, parent, "Z", week(draw.draw(st.integers(0, 5))))
    cal = weekly(6)
    scen = replan(plan(d, cal), changed, [parent])
    full = plan(changed, cal)
    for k, key in enumerate(scen.key):
        row = int(full.rows_for_keys(np.array([key]))[0])
        if row >= 0:
            assert np.allclose(scen.gross[k], full.gross[row])
            assert np.allclose(scen.planned[k], full.planned[row])
        else:
            assert np.allclose(scen.gross[k], 0) and np.allclose(scen.planned[k], 0)


codes_alphabet = st.sampled_from(["A", "B", "-", "0", "9", "é", "x" * 7, ""])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(codes_alphabet, max_size=3).map("".join), max_size=40))
def test_code_numbering_equals_pandas_factorize(codes) -> None:  # type: ignore[no-untyped-def]
    """The numbering of codes (short, long, non-ASCII, empty) is exactly pd.factorize's, and the
    lookup finds each code's number."""
    values = np.array(codes, dtype=object)
    ids, uniques = factorize_codes(values)
    want_ids, want_uniques = pd.factorize(values)
    assert ids.tolist() == want_ids.tolist()
    assert list(uniques) == list(want_uniques)
    lookup = CodeLookup(uniques)
    assert lookup(values).tolist() == want_ids.tolist()
    assert lookup(np.array(["never-a-code", "Z"], dtype=object)).tolist() == [-1, -1]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.lists(codes_alphabet, max_size=2).map("".join), max_size=8),
                max_size=4))
def test_numbering_several_arrays_equals_factorizing_their_concatenation(  # type: ignore[no-untyped-def]
        parts) -> None:
    arrays = [np.array(p, dtype=object) for p in parts]
    ids, uniques = factorize_codes(arrays)
    flat = np.array([c for p in parts for c in p], dtype=object)
    want_ids, want_uniques = pd.factorize(flat)
    assert ids.tolist() == want_ids.tolist()
    assert list(uniques) == list(want_uniques)


@settings(max_examples=40, deadline=None)
@given(st.lists(codes_alphabet, max_size=20), st.data())
def test_seeded_column_numbering_equals_factorizing_the_column(codes, draw) -> None:  # type: ignore[no-untyped-def]
    """A bulk load may number a column with two numbers for one value (a NULL read as the
    default); the seeded numbering still equals pd.factorize of the column."""
    from workbench.analysis.data import column_codes, seed_codes

    d = PlanningData.from_rows(items=[{"code": c} for c in codes])
    values = d.items["code"].to_numpy(object)
    ids, _ = pd.factorize(values)
    split = [int(i) * 2 + draw.draw(st.integers(0, 1)) for i in ids]  # some values: 2 numbers
    first_seen: dict[int, int] = {}
    renumbered = np.array([first_seen.setdefault(s, len(first_seen)) for s in split])
    seed_codes(d, "items", "code", renumbered)
    got_ids, got_codes = column_codes(d, "items", "code")
    want_ids, want_codes = pd.factorize(values)
    assert got_ids.tolist() == want_ids.tolist()
    assert list(got_codes) == list(want_codes)
