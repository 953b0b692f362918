"""The demo plant takes decisions like a source system: approve → send → the next sync shows the
requisitions changed, with new versions, and re-evaluation moves on. Real cache files, the real
demo, the app's own paths (the default demo source, ``send_pending``, the CLI)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from planner_connectors.demo import DemoConnector
from sqlalchemy import Engine, text

from workbench.app.sync import DEMO_SOURCE, sync_sources
from workbench.cache.db import open_cache
from workbench.cache.frames import read_entity_frame
from workbench.cli import main as cli
from workbench.connect.port import ConflictError, PermanentError, PushRequest
from workbench.services.decisions import record_decision
from workbench.services.planning import open_session, shortages
from workbench.services.reevaluate import run_reevaluation
from workbench.services.tasks import SimpleState
from workbench.services.writeback import confirm_sent, outbox_frame, send_pending

LEDGER = ".demo-ledger.jsonl"


def _sync(engine: Engine) -> Any:
    """A sync of the app's default demo source (as the GUI and ``--demo`` run it)."""
    [result] = sync_sources(engine, [DEMO_SOURCE.model_copy(deep=True)], SimpleState())
    assert result.ok, result.error
    return result


def _reevaluate(engine: Engine) -> dict[str, dict[str, Any]]:
    out = run_reevaluation(engine, open_session(engine))
    return {r["requisition"]: r for r in out["recommendations"]}


def _requisitions(engine: Engine) -> dict[str, dict[str, Any]]:
    frame = read_entity_frame(engine, "requisitions")
    return {r["code"]: r for r in frame.to_dict("records")}


def _open_recommendation_ids(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT requisition, id FROM recommendations WHERE status = 'open'")
        ).all()
    return {r.requisition: int(r.id) for r in rows}


def _ledger_lines(cache: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(f"{cache}{LEDGER}").read_text().splitlines()]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small demo at day 0 synced through the default source, with its ledger."""
    path = tmp_path_factory.mktemp("demo-wb") / "cache.sqlite"
    engine = open_cache(path)
    _sync(engine)
    engine.dispose()
    return path


@pytest.fixture
def cache(template: Path, tmp_path: Path) -> Path:
    target = tmp_path / "cache.sqlite"
    for suffix in ("", "-wal", "-shm", LEDGER):
        if Path(f"{template}{suffix}").exists():
            shutil.copy(f"{template}{suffix}", f"{target}{suffix}")
    return target


def test_the_default_demo_source_keeps_its_ledger_beside_the_cache(cache: Path) -> None:
    lines = _ledger_lines(cache)
    assert [line["clock"] for line in lines] == [{"scale": "small", "seed": 42, "day": 0}]
    assert DemoConnector(ledger=f"{cache}{LEDGER}").check().message.endswith(
        f"takes decisions (0 written so far, in {cache}{LEDGER})"
    )


def _plant_with_a_switch_and_a_date_move(engine: Engine) -> None:
    """Two hand edits of the day-0 cache, so the plan proposes the two kinds the small plant
    proposes none of (since anchors.top_k): an alternate component and a date move. Each is a
    record the sync would hold had the plant been counted or entered so; neither is written.

    * Alternate: RQ-000035 (1,157 EA of PP-00090 at P3, need 2026-12-08) covers, first in first
      out, 1,157 of PP-00090's 2,549.1024 net need in the week of 2026-11-09 (P3 has no stock or
      open PO of it), all of it dependent demand of SA-00034's planned orders (1,249.56 × 2 per
      unit × 1.02 scrap) through bom_lines SA-00034/A/60, the preferred line of ALT-60; the
      alternate line SA-00034/A/65 is PP-00009 at the same 2 × 1.02, so 1,157 PP-00009. PP-00009
      at P3: one stock row of 1,274 EA, no receipts, no requirements, safety stock 138: free
      1,274 - 138 = 1,136 < 1,157 (the plan proposes "increase"). Counted at 1,300: free 1,162.
    * Date move: RQ-000002 (730 EA of PP-00067 at P3) covers PP-00067's only net need, 730 in
      the week of 2026-12-07 (WO-000043 needs 1,157; stock 123 = its safety stock; PO-000006/2
      brings 427 on 2026-11-19: 1,157 - 427 = 730). Entered for 2026-11-23, not 2026-12-08, it is
      due two weeks early, the quantity right: "defer" to 2026-12-07."""
    with engine.begin() as conn:
        conn.execute(text("UPDATE inventory SET quantity = 1300, orig_quantity = 1300 "
                          "WHERE item = 'PP-00009' AND site = 'P3'"))
        conn.execute(text("UPDATE requisitions SET need_date = '2026-11-23' "
                          "WHERE code = 'RQ-000002'"))


def test_approve_send_sync_reevaluate(cache: Path) -> None:
    engine = open_cache(cache)
    _plant_with_a_switch_and_a_date_move(engine)
    recs = _reevaluate(engine)
    rec_ids = _open_recommendation_ids(engine)
    before = _requisitions(engine)
    # one approved recommendation of each kind the plan proposes
    chosen: dict[str, str] = {}
    for code, rec in sorted(recs.items()):
        kind = "alternate" if rec["proposed_item"] else rec["action"]
        if kind != "keep":
            chosen.setdefault(kind, code)
    assert {"cancel", "reduce", "increase", "alternate"} <= set(chosen), chosen
    assert {"defer", "expedite"} & set(chosen), chosen
    # the two edited records (see _plant_with_a_switch_and_a_date_move for the arithmetic)
    assert (chosen["alternate"], chosen.get("defer")) == ("RQ-000035", "RQ-000002")
    assert [(recs[c]["proposed_item"] or None, recs[c]["proposed_quantity"],
             str(recs[c]["proposed_date"])[:10]) for c in ("RQ-000035", "RQ-000002")] == [
        ("PP-00009", 1157.0, "2026-11-09"), (None, 730.0, "2026-12-07")]
    for code in chosen.values():
        out = record_decision(engine, code, "approve", decided_by="buyer",
                              recommendation=rec_ids[code])
        assert out.outbox is not None
    # a buyer orders a requisition the plan keeps, from another supplier
    kept = next(c for c, r in sorted(recs.items()) if r["action"] == "keep")
    assert before[kept]["suggested_supplier"] != "S0003"
    record_decision(engine, kept, "modify", decided_by="buyer", action="order", supplier="S0003",
                    recommendation=rec_ids[kept])
    # a rejected one sends nothing
    rejected = next(c for c in sorted(recs) if c not in chosen.values() and c != kept)
    assert record_decision(engine, rejected, "reject", decided_by="buyer",
                           action=recs[rejected]["action"],
                           recommendation=rec_ids[rejected]).outbox is None

    sent = send_pending(engine, [])  # no configured source: the demo needs none
    assert sent.messages == [] and sent.failed == [] and sent.conflicts == []
    assert len(sent.sent) == len(chosen) + 1
    entries = outbox_frame(engine).set_index("requisition")
    assert set(entries["state"]) == {"sent"}
    # each write has its own new version: day 0, write 1..n in the order sent
    assert sorted(entries["result_version"]) == [
        f"d00000.w{n:06d}" for n in range(1, len(chosen) + 2)
    ]
    writes = [line for line in _ledger_lines(cache) if "write" in line]
    assert len(writes) == len(chosen) + 1

    result = _sync(engine)
    assert result.counts["requisitions"] == {
        "received": len(chosen) + 1, "changed": len(chosen) + 1, "deleted": 0
    }
    # the order placed a purchase order with one line; nothing else moved
    assert result.counts["purchase_orders"]["received"] == 1
    assert result.counts["purchase_order_lines"]["received"] == 1
    after = _requisitions(engine)
    for code in [*chosen.values(), kept]:
        assert after[code]["source_version"] == entries.loc[code, "result_version"]
        assert after[code]["source_version"] != before[code]["source_version"]
    rec = recs[chosen["reduce"]]
    assert after[chosen["reduce"]]["quantity"] == pytest.approx(rec["proposed_quantity"])
    assert after[chosen["reduce"]]["quantity"] < before[chosen["reduce"]]["quantity"]
    rec = recs[chosen["increase"]]
    assert after[chosen["increase"]]["quantity"] == pytest.approx(rec["proposed_quantity"])
    assert after[chosen["increase"]]["quantity"] > before[chosen["increase"]]["quantity"]
    moved = chosen.get("defer") or chosen["expedite"]
    assert str(after[moved]["need_date"])[:10] == str(recs[moved]["proposed_date"])[:10]
    assert after[chosen["cancel"]]["status"] == "cancelled"
    assert after[kept]["status"] == "ordered" and after[kept]["suggested_supplier"] == "S0003"
    alt = recs[chosen["alternate"]]
    assert after[chosen["alternate"]]["item"] == alt["proposed_item"]
    assert after[chosen["alternate"]]["quantity"] == pytest.approx(alt["proposed_quantity"])
    assert after[rejected] == before[rejected]
    unchanged = set(before) - {*chosen.values(), kept}
    assert all(after[c] == before[c] for c in unchanged)

    # the sync that shows every write confirms the entries
    assert set(outbox_frame(engine)["state"]) == {"confirmed"}
    assert confirm_sent(engine) == 0

    again = _reevaluate(engine)
    # cancelled and ordered requisitions are no longer open: nothing proposed for them
    assert chosen["cancel"] not in again and kept not in again
    for kind, code in chosen.items():
        if kind in ("cancel",):
            continue
        assert again[code]["base_version"] == after[code]["source_version"]
        same = again[code]["action"] == recs[code]["action"] and (
            again[code]["proposed_item"] or None) == (recs[code]["proposed_item"] or None)
        assert not same, (kind, code, again[code]["action"])
    engine.dispose()


def _scheduled_receipts(engine: Engine, item: str, site: str) -> list[tuple[Any, float]]:
    """(bucket date, scheduled receipts) of the row's MRP record, as the planner sees it."""
    [row] = shortages(open_session(engine), item=item, site=site).to_json()["rows"]
    return [(r["date"], r["scheduled_receipts"]) for r in row["record"]]


def test_ordering_places_a_purchase_order_that_planning_counts(cache: Path) -> None:
    engine = open_cache(cache)
    code, req = next(
        (c, r) for c, r in sorted(_requisitions(engine).items())
        if r["status"] == "open" and r["suggested_supplier"]
    )
    before = _scheduled_receipts(engine, req["item"], req["site"])
    out = record_decision(engine, code, "modify", decided_by="buyer", action="order")
    sent = send_pending(engine, [])
    assert sent.sent == [out.outbox] and sent.failed == [] and sent.conflicts == []
    [write] = [line for line in _ledger_lines(cache) if "write" in line]
    assert write["what"] == "ordered on PO-W000001"

    result = _sync(engine)
    assert result.counts["purchase_orders"] == {"received": 1, "changed": 1, "deleted": 0}
    assert result.counts["purchase_order_lines"] == {"received": 1, "changed": 1, "deleted": 0}
    assert result.counts["requisitions"]["received"] == 1
    [po] = read_entity_frame(engine, "purchase_orders", "code = ?", ("PO-W000001",)).to_dict(
        "records")
    assert (po["supplier"], po["site"], po["status"], str(po["order_date"])[:10]) == (
        req["suggested_supplier"], req["site"], "draft", "2026-11-02")
    assert po["source_version"] == "d00000.w000001"
    [line] = read_entity_frame(
        engine, "purchase_order_lines", "purchase_order = ?", ("PO-W000001",)
    ).to_dict("records")
    assert line["line"] == 1 and line["requisition"] == code
    assert (line["item"], line["site"], line["supplier"]) == (
        req["item"], req["site"], req["suggested_supplier"])
    assert line["quantity_ordered"] == pytest.approx(req["quantity"])
    assert line["quantity_received"] == 0.0 and line["orig_uom"] == req["orig_uom"]
    assert str(line["requested_date"])[:10] == str(req["need_date"])[:10]
    assert line["status"] == "draft" and line["source_version"] == "d00000.w000001"
    ordered = _requisitions(engine)[code]
    assert ordered["status"] == "ordered" and ordered["source_version"] == "d00000.w000001"

    # planning counts the line: the receipts of the need date's bucket grow by its quantity
    after = _scheduled_receipts(engine, req["item"], req["site"])
    need = str(req["need_date"])[:10]
    bucket = max(b for b, (start, _) in enumerate(after) if str(start)[:10] <= need)
    grown = [(b, a[1] - o[1]) for b, (a, o) in enumerate(zip(after, before)) if a[1] != o[1]]
    assert [b for b, _ in grown] == [bucket]
    assert grown[0][1] == pytest.approx(req["quantity"])

    # replaying the order (a lost answer, a second send) places nothing more
    payload = json.loads(_payload(engine, str(out.idempotency_key)))
    demo = DemoConnector(ledger=f"{cache}{LEDGER}")
    assert demo.push(PushRequest(**payload)).already_applied
    assert send_pending(engine, []).sent == []
    again = _sync(engine)
    assert again.counts["purchase_orders"]["received"] == 0
    assert again.counts["purchase_order_lines"]["received"] == 0
    placed = read_entity_frame(engine, "purchase_orders", "code LIKE ?", ("PO-W%",))
    assert list(placed["code"]) == ["PO-W000001"]
    # ordering it anew (another decision) is no second order: the plant holds it already
    fresh = PushRequest("another-key", "order", ordered["source_key"], "d00000.w000001")
    assert demo.push(fresh).detail == {"reason": "the demo plant already holds this"}
    assert [line["write"] for line in _ledger_lines(cache) if "write" in line] == [1]
    engine.dispose()


def test_a_requisition_without_a_supplier_cannot_be_ordered(tmp_path: Path) -> None:
    demo = DemoConnector("small", ledger=tmp_path / "l.jsonl")
    reqs = {r["code"]: r for b in demo.pull("requisitions", None) for r in b.records}
    made = next(r["code"] for b in demo.pull("items", None) for r in b.records
                if not r["default_supplier"])
    code, req = next((c, r) for c, r in sorted(reqs.items()) if r["status"] == "open")
    # switched to an alternate no supplier sells: the requisition is left without a supplier
    switched = demo.push(PushRequest("k1", "switch_source", req["source_key"],
                                     req["source_version"], item=made, quantity=2.0))
    with pytest.raises(PermanentError, match=f"^{code} has no supplier; choose one to order it$"):
        demo.push(PushRequest("k2", "order", req["source_key"], switched.new_version))
    assert [r for b in demo.pull("purchase_order_lines", "d00000") for r in b.records] == []
    # naming a supplier orders it from that one
    demo.push(PushRequest("k3", "order", req["source_key"], switched.new_version,
                          supplier="S0002"))
    [line] = [r for b in demo.pull("purchase_order_lines", "d00000") for r in b.records]
    assert (line["purchase_order"], line["supplier"], line["item"], line["quantity_ordered"]) == (
        "PO-W000002", "S0002", made, 2.0)
    assert line["source_version"] == "d00000.w000002"


def test_a_lost_response_is_applied_once(cache: Path) -> None:
    engine = open_cache(cache)
    reqs = _requisitions(engine)
    code = next(c for c, r in sorted(reqs.items()) if r["status"] == "open")
    out = record_decision(engine, code, "modify", decided_by="buyer", action="reduce",
                          quantity=7.0)
    payload = json.loads(_payload(engine, str(out.idempotency_key)))
    # the demo applied the write, then the answer was lost: the entry still says "sending"
    pushed = DemoConnector(ledger=f"{cache}{LEDGER}").push(PushRequest(**payload))
    assert pushed.new_version == "d00000.w000001" and not pushed.already_applied
    with engine.begin() as conn:
        conn.execute(text("UPDATE outbox SET state = 'sending' WHERE id = :i"), {"i": out.outbox})
    sent = send_pending(engine, [])
    assert sent.already_applied == [out.outbox] and sent.sent == []
    entry = outbox_frame(engine).iloc[0]
    assert entry["state"] == "sent" and entry["result_version"] == "d00000.w000001"
    assert [line["key"] for line in _ledger_lines(cache) if "write" in line] == [out.idempotency_key]
    _sync(engine)
    row = _requisitions(engine)[code]
    assert row["quantity"] == 7.0 and row["source_version"] == "d00000.w000001"
    engine.dispose()


def _payload(engine: Engine, key: str) -> str:
    with engine.connect() as conn:
        return str(conn.execute(text("SELECT payload FROM outbox WHERE idempotency_key = :k"),
                                {"k": key}).scalar_one())


def test_a_stale_base_version_is_a_conflict_with_both_states(cache: Path) -> None:
    engine = open_cache(cache)
    reqs = _requisitions(engine)
    code = next(c for c, r in sorted(reqs.items()) if r["status"] == "open")
    first = record_decision(engine, code, "modify", decided_by="ann", action="reduce", quantity=5.0)
    second = record_decision(engine, code, "modify", decided_by="bob", action="increase",
                             quantity=9000.0)
    result = send_pending(engine, [])
    assert result.sent == [first.outbox] and result.conflicts == [second.outbox]
    entry = outbox_frame(engine).set_index("id").loc[second.outbox]
    assert entry["state"] == "conflict"
    assert f"{code} changed in the demo plant since the analysis" in entry["last_error"]
    assert "(version d00000 -> d00000.w000001)" in entry["last_error"]
    conflict = json.loads(entry["conflict"])
    assert conflict["ours"]["quantity"] == 9000.0 and conflict["ours"]["base_version"] == "d00000"
    assert conflict["theirs"]["quantity"] == 5.0
    assert conflict["theirs"]["version"] == "d00000.w000001"
    # nothing of the conflicting decision was written
    assert [line["set"] for line in _ledger_lines(cache) if "write" in line] == [
        {"quantity": 5.0, "uom": reqs[code]["orig_uom"]}
    ]
    engine.dispose()


def test_the_plant_moving_on_makes_a_conflict_too(cache: Path) -> None:
    """A sync on day 7 moved the demo's clock on; a decision based on day 0 then conflicts on a
    requisition a buyer approved in the meantime (its version moved by the simulated days)."""
    engine = open_cache(cache)
    day0 = _requisitions(engine)
    day7 = DemoConnector("small", day=7, ledger=f"{cache}{LEDGER}")
    moved = [r for b in day7.pull("requisitions", "d00000") for r in b.records]
    assert moved  # this reads day 7 and notes the clock (the cache itself stays at day 0)
    code = min(r["code"] for r in moved if day0[r["code"]]["status"] == "open")
    out = record_decision(engine, code, "modify", decided_by="ann", action="reduce", quantity=3.0)
    result = send_pending(engine, [])
    assert result.conflicts == [out.outbox]
    conflict = json.loads(outbox_frame(engine).iloc[0]["conflict"])
    theirs = next(r for r in moved if r["code"] == code)
    assert conflict["theirs"]["status"] == theirs["status"] != "open"
    assert conflict["theirs"]["version"] == theirs["source_version"] > "d00000"
    engine.dispose()


def test_writes_survive_a_restart_and_a_new_day(tmp_path: Path) -> None:
    ledger = tmp_path / "x.demo-ledger.jsonl"
    first = DemoConnector("small", day=3, ledger=ledger)
    reqs = {r["code"]: r for b in first.pull("requisitions", None) for r in b.records}
    mark = max(r["source_version"] for r in reqs.values())
    code = next(c for c, r in sorted(reqs.items()) if r["status"] == "open")
    target = reqs[code]["source_key"]
    request = PushRequest("key-1", "expedite", target, reqs[code]["source_version"],
                          date="2026-11-20")
    assert first.push(request).new_version == "d00003.w000001"
    first.close()

    restarted = DemoConnector(ledger=ledger)  # parameters from the ledger's clock
    assert (restarted.scale, restarted.seed, restarted.day) == ("small", 42, 3)
    assert restarted.push(request).already_applied
    changed = [r for b in restarted.pull("requisitions", mark) for r in b.records]
    assert [(r["code"], str(r["need_date"]), r["source_version"]) for r in changed] == [
        (code, "2026-11-20", "d00003.w000001")
    ]
    # everything else is the plain day-3 plant, and the same ledger gives the same records
    plain = {r["code"]: r for b in DemoConnector("small", day=3).pull("requisitions", None)
             for r in b.records}
    again = {r["code"]: r for b in DemoConnector("small", day=3, ledger=ledger)
             .pull("requisitions", None) for r in b.records}
    assert {c for c in again if again[c] != plain[c]} == {code}
    assert again == {r["code"]: r for b in restarted.pull("requisitions", None)
                     for r in b.records}
    # nothing changed since the write: an incremental pull from its version is empty
    assert [r for b in restarted.pull("requisitions", "d00003.w000001") for r in b.records] == []
    # a week on, the day-based changes come on top and the write is kept
    later = DemoConnector("small", day=10, ledger=ledger)
    since = [r for b in later.pull("requisitions", "d00003.w000001") for r in b.records]
    assert since and all(r["source_version"] > "d00003.w000001" for r in since)
    week = {r["code"]: r for b in later.pull("requisitions", None) for r in b.records}
    assert str(week[code]["need_date"]) == "2026-11-20"
    plain10 = {r["code"]: r for b in DemoConnector("small", day=10).pull("requisitions", None)
               for r in b.records}
    assert {r["code"] for r in since} == {
        c for c, r in plain10.items() if r["source_version"] > "d00003"
    }


def test_the_demo_refuses_what_a_source_would(tmp_path: Path) -> None:
    demo = DemoConnector("small", ledger=tmp_path / "l.jsonl")
    reqs = {r["code"]: r for b in demo.pull("requisitions", None) for r in b.records}
    ordered = next(r for _, r in sorted(reqs.items()) if r["status"] == "ordered")
    open_one = next(r for _, r in sorted(reqs.items()) if r["status"] == "open")

    def push(key: str, action: str, rec: dict[str, Any], **kw: Any) -> Any:
        return demo.push(PushRequest(key, action, rec["source_key"], rec["source_version"], **kw))

    with pytest.raises(PermanentError, match="no requisition 'requisitions:RQ-999999'"):
        demo.push(PushRequest("k0", "cancel", "requisitions:RQ-999999", "d00000"))
    with pytest.raises(PermanentError, match="no requisition 'purchase_order_lines:PO-1/1'"):
        demo.push(PushRequest("k0", "cancel", "purchase_order_lines:PO-1/1", "d00000"))
    with pytest.raises(PermanentError, match="is ordered: its purchase-order line"):
        push("k1", "reduce", ordered, quantity=1.0)
    with pytest.raises(PermanentError, match="expedite needs a date"):
        push("k2", "expedite", open_one)
    with pytest.raises(PermanentError, match="positive quantity"):
        push("k3", "reduce", open_one, quantity=0.0)
    with pytest.raises(PermanentError, match="no supplier 'NOPE'"):
        push("k4", "switch_source", open_one, supplier="NOPE")
    with pytest.raises(PermanentError, match="no item 'XX-1'"):
        push("k5", "switch_source", open_one, item="XX-1", quantity=2.0)
    assert push("k6", "keep", open_one).detail == {"reason": "nothing to write"}
    assert not [line for line in _lines(tmp_path / "l.jsonl") if "write" in line]
    # the record already holds it: done, nothing written
    same = push("k7", "switch_source", open_one, supplier=open_one["suggested_supplier"])
    assert same.new_version == "d00000" and not same.already_applied
    # a supplier switch, then ordering it; then it can no longer change
    assert push("k8", "switch_source", open_one, supplier="S0001").new_version == "d00000.w000001"
    with pytest.raises(ConflictError):
        push("k9", "order", open_one)  # based on the version before the switch
    now = dict(open_one, source_version="d00000.w000001")
    assert push("k9", "order", now).new_version == "d00000.w000002"
    with pytest.raises(PermanentError, match="is ordered"):
        push("k10", "cancel", dict(now, source_version="d00000.w000002"))
    final = {r["code"]: r for b in demo.pull("requisitions", None) for r in b.records}
    assert final[open_one["code"]]["status"] == "ordered"
    assert final[open_one["code"]]["suggested_supplier"] == "S0001"


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_without_a_ledger_the_demo_stays_read_only() -> None:
    with pytest.raises(PermanentError) as err:
        DemoConnector("small").push(PushRequest("k", "cancel", "requisitions:RQ-000001", "d00000"))
    assert str(err.value) == (
        "the demo plant is read-only: decisions stay in the cache and outbox; "
        "connect a source system (e.g. Tryton) to write them back"
    )


def test_the_cli_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache = tmp_path / "cli.sqlite"
    assert cli(["sync", "--demo", "--day", "2", "--cache", str(cache), "--json"]) == 0
    capsys.readouterr()
    engine = open_cache(cache)
    code = next(c for c, r in sorted(_requisitions(engine).items()) if r["status"] == "open")
    assert cli(["decisions", "record", code, "--verdict", "modify", "--action", "cancel",
                "--by", "cli", "--cache", str(cache)]) == 0
    capsys.readouterr()
    assert cli(["outbox", "--send", "--cache", str(cache), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["send"]["sent"]) == 1 and out["send"]["messages"] == []
    assert out["entries"][0]["result_version"] == "d00002.w000001"
    assert cli(["sync", "--demo", "--day", "2", "--cache", str(cache), "--json"]) == 0
    synced = json.loads(capsys.readouterr().out)
    assert synced["counts"]["requisitions"]["received"] == 1
    assert cli(["outbox", "--cache", str(cache), "--json"]) == 0
    assert [e["state"] for e in json.loads(capsys.readouterr().out)["entries"]] == ["confirmed"]
    assert _requisitions(engine)[code]["status"] == "cancelled"
    engine.dispose()


def test_the_cli_settles_conflicts(cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Two buyers' decisions conflict with a third's already written: one is sent again on the
    source's version (and applied), the other discarded (never sent, decision kept)."""
    engine = open_cache(cache)
    codes = [c for c, r in sorted(_requisitions(engine).items()) if r["status"] == "open"][:2]
    for code in codes:  # written first, so the next decision on each is based on a stale version
        record_decision(engine, code, "modify", decided_by="ann", action="reduce", quantity=5.0)
    keep = record_decision(engine, codes[0], "modify", decided_by="bob", action="reduce",
                           quantity=4.0)
    drop = record_decision(engine, codes[1], "modify", decided_by="bob", action="reduce",
                           quantity=3.0)
    result = send_pending(engine, [])
    assert sorted(result.conflicts) == sorted([keep.outbox, drop.outbox])
    assert cli(["outbox", "--resend", str(keep.outbox), "--discard", str(drop.outbox),
                "--cache", str(cache), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["resent"]["done"] and out["resent"]["skipped"] == []
    assert out["discarded"] == {"done": [drop.outbox], "skipped": []}
    states = {e["id"]: e["state"] for e in out["entries"]}
    assert states[drop.outbox] == "discarded"
    (resent,) = out["resent"]["done"]
    assert states[resent] == "queued"
    # discarding twice changes nothing and says why
    assert cli(["outbox", "--discard", str(drop.outbox), "--cache", str(cache)]) == 0
    assert f"not changed: entry {drop.outbox} is not in conflict" in capsys.readouterr().out
    sent = send_pending(engine, [])
    assert sent.sent == [resent] and sent.conflicts == []
    writes = [line["set"]["quantity"] for line in _ledger_lines(cache) if "write" in line]
    assert writes == [5.0, 5.0, 4.0]  # ann's two, then bob's kept one; bob's discarded one never
    engine.dispose()


def test_a_torn_last_line_is_skipped_and_the_next_write_stays_readable(tmp_path: Path) -> None:
    """A crash mid-append leaves part of a line that was never reported applied."""
    ledger = tmp_path / "l.jsonl"
    demo = DemoConnector("small", ledger=ledger)
    reqs = {r["code"]: r for b in demo.pull("requisitions", None) for r in b.records}
    first, second = [r for _, r in sorted(reqs.items()) if r["status"] == "open"][:2]
    with ledger.open("a") as f:
        f.write('{"write": 1, "key": "lost", "action": "cancel", "tar')
    result = demo.push(PushRequest("k1", "cancel", first["source_key"], "d00000"))
    assert result.new_version == "d00000.w000001"  # the torn write never counted
    assert demo.push(PushRequest("k2", "cancel", second["source_key"], "d00000")).new_version == (
        "d00000.w000002"
    )
    assert [line["key"] for line in _lines_lenient(ledger) if "write" in line] == ["k1", "k2"]


def _lines_lenient(path: Path) -> list[dict[str, Any]]:
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def test_only_a_connector_with_a_store_beside_the_cache_needs_no_configuration(
    tmp_path: Path,
) -> None:
    from workbench.connect.factory import self_contained_connector, with_cache_store

    cache = tmp_path / "c.sqlite"
    assert with_cache_store("demo", {"scale": "small"}, cache) == {
        "scale": "small", "ledger": f"{cache}{LEDGER}"
    }
    assert with_cache_store("demo", {"ledger": "/elsewhere.jsonl"}, cache) == {
        "ledger": "/elsewhere.jsonl"
    }
    assert with_cache_store("files", {"folder": "x"}, cache) == {"folder": "x"}
    assert self_contained_connector("files", cache) is None
    assert self_contained_connector("demo", None) is None
    demo = self_contained_connector("demo", cache)
    assert isinstance(demo, DemoConnector) and demo.ledger is not None
    assert demo.ledger.path == Path(f"{cache}{LEDGER}")
