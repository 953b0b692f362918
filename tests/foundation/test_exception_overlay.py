"""Pending decisions overlaid on the plan (issue 13 §3, rule in workbench/analysis/overlay.py):
after an approved decision the plan shows the PO line as it will be, before any send or sync;
a rejection changes nothing; once a sync brings the line's new version the source counts.

Hand-computed plant (planning day Monday 2026-11-02 = the stock's as-of day, weekly buckets:
week w starts 2026-11-02 + 7 w): item X (EA, bought, no lead time, no stock), demands D1 100 EA
due week 2 and D2 100 EA due week 7, PO line PO1/1 100 EA due week 5.

Firm projection (stock + scheduled receipts - requirements), weeks 0..8, as synced:
  0 0 -100 -100 -100 0 0 -100 -100     planned receipts: 100 in week 2 (net 100 in total)
Coverage: PO1/1 is the first receipt, before = 0, so it serves D1 (needed week 2): E01
reschedule in to 2026-11-16 (21 days).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Engine

from tests.fixtures_connector import MemoryConnector
from workbench.app import exceptions as ops
from workbench.app.ops import Changes
from workbench.app.runner import InlineRunner
from workbench.cache.db import open_cache
from workbench.services import exceptions as svc
from workbench.services.message_decisions import record_line_decision
from workbench.services.planning import open_session, shortages
from workbench.services.sync import run_sync

DAY = dt.date(2026, 11, 2)


def week(w: int) -> str:
    return (DAY + dt.timedelta(days=7 * w)).isoformat()


def _v(version: str, **fields: Any) -> dict[str, Any]:
    return {**fields, "source": "memory", "source_version": version}


def plant(line_version: str = "1", **line: Any) -> dict[str, list[dict[str, Any]]]:
    return {
        "uoms": [_v("1", code="EA")],
        "sites": [_v("1", code="P1", name="Plant 1")],
        "suppliers": [_v("1", code="S1", name="Acme")],
        "items": [_v("1", code="X", description="Widget", make_buy="buy")],
        "inventory": [_v("1", item="X", site="P1", location="WH", quantity=0, as_of=DAY.isoformat())],
        "demands": [_v("1", code="D1", item="X", site="P1", quantity=100, due_date=week(2)),
                    _v("1", code="D2", item="X", site="P1", quantity=100, due_date=week(7))],
        "purchase_orders": [_v("1", code="PO1", supplier="S1", site="P1", status="sent")],
        "purchase_order_lines": [_v(line_version, **{
            "purchase_order": "PO1", "line": 1, "item": "X", "supplier": "S1", "site": "P1",
            "quantity_ordered": 100, "requested_date": week(5), "promised_date": week(5),
            "status": "sent", **line})],
    }


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = open_cache(tmp_path / "cache.sqlite")
    assert run_sync(engine, MemoryConnector(plant())).ok
    svc.refresh_exceptions(engine, open_session(engine))
    return engine


def _firm(engine: Engine) -> list[float]:
    """X's firm projection in weeks 0..8 and, last, its planned receipts in total."""
    p = open_session(engine).plan()
    row = p.row("X", "P1")
    assert row is not None
    firm = p.on_hand[row] + np.cumsum(p.scheduled[row] - p.gross[row])
    return [float(v) for v in firm[:9]] + [float(p.planned[row].sum())]


def _message(engine: Engine, kind: str, element: str) -> svc.StoredMessage:
    found = [m for m in svc.list_exceptions(engine, include_snoozed=True, include_resolved=True)
             if (m.kind, m.element) == (kind, element)]
    assert len(found) == 1
    return found[0]


SYNCED = [0, 0, -100, -100, -100, 0, 0, -100, -100, 100]


def test_an_approved_reschedule_in_shows_in_the_plan_before_any_sync(engine: Engine) -> None:
    assert _firm(engine) == SYNCED
    msg = _message(engine, "reschedule_in", "PO1/1")
    assert (msg.message["suggested_date"], msg.message["days"]) == (week(2), 21.0)
    outcome = InlineRunner(engine).run(ops.decide_message, msg.id, "approve", "bea")
    assert outcome.changes == Changes(data=True, decisions=True, outbox=True)
    # PO1/1 now arrives in week 2: weeks 2-4 rise by 100; D2 (week 7) needs a planned 100
    assert _firm(engine) == [0, 0, 0, 0, 0, 0, 0, -100, -100, 100]
    found = shortages(open_session(engine), item="X").rows.iloc[0]
    assert str(found["first_shortage_date"])[:10] == week(7)
    # the message acted on shows its decision and, no longer raised, leaves the open list
    svc.refresh_exceptions(engine, open_session(engine))
    done = _message(engine, "reschedule_in", "PO1/1")
    assert done.state == "resolved" and done.decision is not None
    assert done.decision.label == "approved, queued"
    assert "reschedule_in|PO1/1" not in {m.key for m in svc.list_exceptions(engine)}


def test_a_rejected_reschedule_changes_nothing(engine: Engine) -> None:
    msg = _message(engine, "reschedule_in", "PO1/1")
    outcome = InlineRunner(engine).run(ops.decide_message, msg.id, "reject", "bea")
    assert outcome.changes == Changes(decisions=True)
    assert _firm(engine) == SYNCED


def test_an_approved_cancel_takes_the_supply_out_and_shows_the_shortage(engine: Engine) -> None:
    before = shortages(open_session(engine), item="X").rows.iloc[0]
    assert float(before["total_net_requirements"]) == 100.0  # D1's week 2 only
    record_line_decision(engine, "PO1/1", "cancel", "approve", decided_by="bea")
    # no receipt any more: -100 from week 2, -200 from week 7; D2 now needs its own 100
    assert _firm(engine) == [0, 0, -100, -100, -100, -100, -100, -200, -200, 200]
    after = shortages(open_session(engine), item="X").rows.iloc[0]
    assert float(after["total_net_requirements"]) == 200.0


def test_once_the_source_shows_the_change_its_value_counts(engine: Engine) -> None:
    record_line_decision(engine, "PO1/1", "increase", "approve", decided_by="bea",
                         quantity=150)
    assert _firm(engine)[5] == 50.0  # 150 in week 5 less D1's 100
    # a sync brings the line's new version with the 150 (the write landed): counted once
    assert run_sync(engine, MemoryConnector(plant("2", quantity_ordered=150))).ok
    assert _firm(engine)[5] == 50.0
    # a later version the source changed otherwise (back to 100): the source's value counts,
    # the pending decision (based on version 1) is no longer applied
    assert run_sync(engine, MemoryConnector(plant("3", quantity_ordered=100))).ok
    assert _firm(engine)[5] == 0.0


def test_a_pending_requisition_order_is_supply_until_the_placed_order_is_synced() -> None:
    """apply_pending on frames: an approved ``order`` of requisition R1 (60 EA of X, need
    week 3) adds the line it will place (``pending:R1``, 60 on week 3, supplier S1); a rejected
    one and one based on another version of the requisition add nothing."""
    import pandas as pd

    from tests.analysis.builders import data, item
    from workbench.analysis.overlay import PENDING_COLUMNS, apply_pending
    from workbench.analysis.sources import open_purchase_lines

    d = data(items=[item("X")], requisitions=[{
        "code": "R1", "item": "X", "site": "P1", "quantity": 60, "need_date": week(3),
        "suggested_supplier": "S1", "status": "approved", "source_version": "7"}])
    pending = pd.DataFrame([(1, "requisition", "R1", "order", None, None, None, "7"),
                            (2, "requisition", "R1", "order", None, None, None, "6")],
                           columns=list(PENDING_COLUMNS))
    lines = open_purchase_lines(apply_pending(d, pending.iloc[:1]))
    assert lines[["purchase_order", "item", "supplier", "remaining"]].to_dict("records") == [
        {"purchase_order": "pending:R1", "item": "X", "supplier": "S1", "remaining": 60.0}]
    assert str(lines["promised_date"].iloc[0])[:10] == week(3)
    assert open_purchase_lines(apply_pending(d, pending.iloc[1:])).empty
    # while its order is pending the requisition shows ordered (the line is the requisition)
    assert apply_pending(d, pending.iloc[:1]).requisitions["status"].tolist() == ["ordered"]
    assert apply_pending(d, pending.iloc[1:]).requisitions["status"].tolist() == ["approved"]


def _with_requisition(demand_quantity: float, version: str) -> dict[str, list[dict[str, Any]]]:
    """The plant without PO1's line, D2 and with requisition R1 (60 EA of X, need week 3,
    approved, supplier S1) for D1 (``demand_quantity`` EA due week 3)."""
    rows = plant()
    rows["purchase_order_lines"] = []
    rows["demands"] = [_v(version, code="D1", item="X", site="P1", quantity=demand_quantity,
                          due_date=week(3))]
    rows["requisitions"] = [_v("7", code="R1", item="X", site="P1", quantity=60,
                               need_date=week(3), suggested_supplier="S1", status="approved")]
    return rows


def _advice(engine: Engine) -> list[tuple[int, str, str]]:
    """(id, action, status) of R1's stored recommendations, oldest first."""
    from sqlalchemy import select

    from workbench.cache.schema import recommendations as rec
    with engine.connect() as conn:
        return [(int(i), str(a), str(s)) for i, a, s in conn.execute(
            select(rec.c.id, rec.c.action, rec.c.status).where(rec.c.requisition == "R1")
            .order_by(rec.c.id))]


def test_a_pending_order_is_not_cancelled_by_its_own_line_and_a_real_conflict_is_shown(
        tmp_path: Path) -> None:
    """A buyer ordered requisition R1 (decision approved, write-back queued, nothing synced
    yet). The overlay puts the order it will place (``pending:R1/1``, 60 EA week 3) in the
    plan. What the buyer expects of the next re-evaluation: R1 is not advised ``cancel``
    because its own pending order covers D1 (that was the old behaviour: "open POs (60) cover
    every requirement"); the pending decision stays R1's last word, nothing supersedes it. When
    D1 then goes away (a sync brings it at 0 EA), the advice that the pending order is not
    needed is shown as an E03 cancel on that order, saying it conflicts with the pending
    decision, while the decision and its queued write stay as they are."""
    from sqlalchemy import select

    from workbench.cache.schema import outbox
    from workbench.services.decisions import record_decision
    from workbench.services.reevaluate import run_reevaluation

    engine = open_cache(tmp_path / "cache.sqlite")
    assert run_sync(engine, MemoryConnector(_with_requisition(60, "1"))).ok
    first = run_reevaluation(engine, open_session(engine))
    assert [(r["action"], r["proposed_quantity"]) for r in first["recommendations"]] == [
        ("keep", 60.0)]
    [(kept, _, _)] = _advice(engine)
    record_decision(engine, "R1", "modify", decided_by="bea", action="order",
                    recommendation=kept)
    decided = _advice(engine)
    assert decided == [(kept, "keep", "modified")]
    p = open_session(engine).plan()
    row = p.row("X", "P1")
    assert row is not None and float(p.scheduled[row].sum()) == 60.0  # the pending order
    assert float(p.planned[row].sum()) == 0.0  # covers D1: nothing else planned

    again = run_reevaluation(engine, open_session(engine))
    assert again["recommendations"] == []  # R1 is being ordered: no advice, no cancel
    assert _advice(engine) == decided
    svc.refresh_exceptions(engine, open_session(engine))
    assert [m.key for m in svc.list_exceptions(engine)] == []

    assert run_sync(engine, MemoryConnector(_with_requisition(0, "2"))).ok  # D1 gone
    assert run_reevaluation(engine, open_session(engine))["recommendations"] == []
    assert _advice(engine) == decided
    svc.refresh_exceptions(engine, open_session(engine))
    found = _message(engine, "cancel", "pending:R1/1")
    assert found.message["suggested_quantity"] == 0.0
    assert found.message["reason"].endswith(
        "; this is the order the pending decision on requisition R1 will place (not written "
        "back yet): the advice conflicts with it")
    with engine.connect() as conn:
        assert [s for (s,) in conn.execute(select(outbox.c.state))] == ["queued"]


def test_a_pending_reduce_of_a_line_in_boxes_keeps_the_box_size() -> None:
    """PO1/1 orders 50 BOX of 50 EA = 2,500 EA, 24 BOX = 1,200 EA received; an approved reduce to
    an open 1,000 EA: 2,200 EA ordered = 44 BOX (so E04/E05, reading one BOX as
    quantity_ordered / orig_quantity_ordered, still see 50 EA a box, not 2,200 / 50 = 44)."""
    import pandas as pd

    from tests.analysis.builders import data, item, po_line
    from workbench.analysis.overlay import PENDING_COLUMNS, apply_pending

    d = data(items=[item("X")], purchase_order_lines=[po_line(
        "PO1", 1, "X", 2500, dt.date.fromisoformat(week(2)), quantity_received=1200,
        orig_uom="BOX", orig_quantity_ordered=50, source_version="3")])
    pending = pd.DataFrame([(1, "purchase_order_line", "PO1/1", "reduce", 1000.0, None, None,
                             "3")], columns=list(PENDING_COLUMNS))
    after = apply_pending(d, pending).purchase_order_lines.iloc[0]
    assert (after["quantity_ordered"], after["orig_quantity_ordered"]) == (2200.0, 44.0)
    assert after["quantity_ordered"] / after["orig_quantity_ordered"] == 50.0
    assert d.purchase_order_lines["orig_quantity_ordered"].iloc[0] == 50  # data left as it was
