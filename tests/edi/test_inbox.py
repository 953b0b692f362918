"""The inbox end to end on a small cache: what each message does to PO lines, promise history,
slippage, mismatches and the shortage timeline (hand-computed), and the archive's outcomes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from planner_connectors.edi import EdiConnector
from sqlalchemy import Engine

from tests.edi.conftest import SENDER_A, Drop, history, outcomes, pol
from tests.edi.messages import Line, desadv, ordrsp, x855, x856
from tests.fixtures_connector import MemoryConnector
from workbench.services import planning
from workbench.services.edi import confirmation_mismatches, list_messages, replay, sync_inbox
from workbench.services.sync import run_sync


def _changed_and_accepted() -> str:
    # line 1: 8 boxes (x 12 = 96 EA of 120 ordered) on 15 Dec; line 2: 50,000 g = 50 kg as ordered
    return ordrsp(SENDER_A, "C1", "R1", "202612011015", "PO-1", [
        Line("PO-1", 1, 8, "BX", "3", "20261215", supplier_item="A-100"),
        Line("PO-1", 2, 50000, "GRM", "5", "20261212", supplier_item="A-200"),
    ])


def test_ordrsp_changed_and_accepted_lines(cache: Engine, connector: EdiConnector, drop: Drop,
                                           inbox: Path) -> None:
    drop("r1.edi", _changed_and_accepted())
    result = sync_inbox(cache, connector, "edi-a")
    assert result.ok and outcomes(result) == {"applied": 1, "duplicate": 0, "superseded": 0,
                                              "rejected": 0}
    assert result.counts["purchase_order_lines"] == {"received": 2, "changed": 2, "deleted": 0}
    one, two = pol(cache, "PO-1", 1), pol(cache, "PO-1", 2)
    assert (one["ack_status"], one["ack_date"], one["promised_date"], one["status"],
            one["quantity_ordered"]) == ("changed", "2026-12-01", "2026-12-15", "acknowledged", 120)
    assert (two["ack_status"], two["promised_date"], two["status"]) == (
        "accepted", "2026-12-12", "acknowledged")
    (msg,) = list_messages(cache)
    assert history(cache, "PO-1", 1) == [
        ("2026-12-01T10:15:00", "2026-12-15", 96.0, "edi", "edi-a", f"edi_messages:{msg['id']}/1")]
    assert history(cache, "PO-1", 2)[0][1:3] == ("2026-12-12", 50.0)
    # the changed quantity is a confirmation mismatch, the line accepted in full is not
    (mismatch,) = confirmation_mismatches(cache)
    assert (mismatch.purchase_order, mismatch.line, mismatch.status, mismatch.quantity_ordered,
            mismatch.confirmed_quantity, mismatch.file) == ("PO-1", 1, "changed", 120, 96, "r1.edi")
    # the file moved to the archive, outcome recorded
    assert list(inbox.iterdir()) == []
    assert Path(msg["archive_path"]).read_text(encoding="utf-8") == _changed_and_accepted()
    assert (msg["outcome"], msg["message_type"], msg["version"], msg["supplier"]) == (
        "applied", "ORDRSP", "D96A", "SUP-A")
    # slippage: acknowledged 1 Dec for an order of 20 Nov = 11 days; promise 15 Dec vs 10 Dec
    session = planning.open_session(cache, today=dt.date(2026, 12, 1))
    lines = session.slippage.lines.set_index(["purchase_order", "line"])
    assert lines.loc[("PO-1", 1), "ack_latency_days"] == 11
    assert lines.loc[("PO-1", 1), "slip_vs_requested_days"] == 5
    assert lines.loc[("PO-1", 2), "ack_latency_days"] == 11


def test_an_older_message_never_rolls_a_line_back(cache: Engine, connector: EdiConnector,
                                                  drop: Drop) -> None:
    # the 855 of 3 Dec arrives first, the ORDRSP of 1 Dec after it
    drop("a.855", x855("SUP-A", "17", "SO-9", "202612030900", "PO-1", [
        Line("PO-1", 1, 120, "EA", "DR", "20261218", buyer_item="BOLT")], version="005010"))
    drop("b.edi", ordrsp(SENDER_A, "C1", "R1", "202612011015", "PO-1", [
        Line("PO-1", 1, 120, "C62", "3", "20261215")], version="01B"))
    result = sync_inbox(cache, connector, "edi-a")
    assert outcomes(result) == {"applied": 1, "duplicate": 0, "superseded": 1, "rejected": 0}
    line = pol(cache, "PO-1", 1)
    assert (line["promised_date"], line["ack_date"], line["ack_status"]) == (
        "2026-12-18", "2026-12-03", "changed")
    assert [h[:2] for h in history(cache, "PO-1", 1)] == [("2026-12-03T09:00:00", "2026-12-18")]
    # a newer re-promise (4 Dec: 20 Dec) moves it on: one promise change of 2 days
    drop("c.edi", ordrsp(SENDER_A, "C2", "R2", "202612041200", "PO-1", [
        Line("PO-1", 1, 120, "C62", "3", "20261220")]))
    assert outcomes(sync_inbox(cache, connector, "edi-a"))["applied"] == 1
    session = planning.open_session(cache, today=dt.date(2026, 12, 4))
    lines = session.slippage.lines.set_index(["purchase_order", "line"])
    assert lines.loc[("PO-1", 1), "promise_changes"] == 1
    assert lines.loc[("PO-1", 1), "slip_vs_first_days"] == 2  # 20 Dec - 18 Dec
    assert lines.loc[("PO-1", 1), "slip_vs_requested_days"] == 10  # 20 Dec - 10 Dec


def test_a_duplicate_is_applied_once(cache: Engine, connector: EdiConnector, drop: Drop) -> None:
    drop("r1.edi", _changed_and_accepted())
    sync_inbox(cache, connector, "edi-a")
    before = pol(cache, "PO-1", 1)
    drop("r1-again.edi", _changed_and_accepted())
    result = sync_inbox(cache, connector, "edi-a")
    assert outcomes(result) == {"applied": 0, "duplicate": 1, "superseded": 0, "rejected": 0}
    first, second = list_messages(cache)
    assert (second["outcome"], second["duplicate_of"]) == ("duplicate", first["id"])
    assert pol(cache, "PO-1", 1) == before
    assert len(history(cache, "PO-1", 1)) == 1


def test_missing_cross_reference_rejects_the_file_and_replay_applies_it(
        cache: Engine, connector: EdiConnector, drop: Drop) -> None:
    text = ordrsp(SENDER_A, "C5", "R5", "202612011015", "PO-1", [
        Line("PO-1", 1, 120, "C62", "5", "20261210", supplier_item="A-100"),
        Line("PO-1", 2, 50, "KGM", "5", "20261212", supplier_item="A-999"),
    ])
    drop("r5.edi", text)
    result = sync_inbox(cache, connector, "edi-a")
    assert outcomes(result)["rejected"] == 1 and not result.ok
    (err,) = result.rejected
    # segments: UNB 1, UNH 2, BGM 3, DTM 4, RFF 5, NAD 6, LIN 7 QTY 8 DTM 9 RFF 10, LIN 11
    assert (err.file, err.row, err.field) == ("r5.edi", 11, "item number (SA/VN/VP)")
    assert "item cross-reference missing: SUP-A number 'A-999'" in err.reason
    assert pol(cache, "PO-1", 1)["ack_status"] == "none"  # the good line of the file neither
    (row,) = list_messages(cache, rejected_only=True)
    assert (row["segment"], row["message_ref"], row["outcome"]) == (11, "1", "rejected")
    # the buyer adds the cross-reference; replaying the archived file applies it
    fix = MemoryConnector({"item_xrefs": [{"item": "RESIN", "system": "SUP-A",
                                           "external_code": "A-999", "source": "erp2"}]})
    assert run_sync(cache, fix).ok
    (done,) = replay(cache, [row["id"]], lambda source: connector)
    assert (done.outcome, done.applied_lines) == ("applied", 2)
    assert pol(cache, "PO-1", 2)["ack_status"] == "accepted"
    (after,) = list_messages(cache)
    assert (after["outcome"], after["replays"], after["reason"]) == ("applied", 1, None)


def test_unknown_sender_and_units_are_named(cache: Engine, connector: EdiConnector,
                                            drop: Drop) -> None:
    drop("a.edi", ordrsp("4099999999999", "C1", "R1", "202612011015", "PO-1", [
        Line("PO-1", 1, 120, "C62", "5", "20261210")]))
    drop("b.855", x855("SUP-A", "21", "SO-1", "202612011015", "PO-1", [
        Line("PO-1", 1, 10, "CA", "IA", "20261210")]))
    drop("c.855", x855("SUP-A", "22", "SO-2", "202612011015", "PO-1", [
        Line("PO-1", 2, 10, "BX", "IA", "20261210")]))
    drop("d.855", x855("SUP-B", "23", "SO-3", "202612011015", "PO-1", [
        Line("PO-1", 1, 10, "EA", "IA", "20261210")]))
    drop("e.855", x855("SUP-A", "24", "SO-4", "202612011015", "PO-9", [
        Line("PO-9", 1, 10, "EA", "IA", "20261210")]))
    result = sync_inbox(cache, connector, "edi-a")
    reasons = {e.file: (e.row, e.field, e.reason) for e in result.rejected}
    assert reasons["a.edi"][:2] == (1, "UNB S002")
    assert reasons["a.edi"][2].startswith("sender unknown: '4099999999999'")
    assert reasons["b.855"][2].startswith("unit 'CA' unknown")
    assert reasons["c.855"][2].startswith("unit without conversion: BOX to KG for item RESIN")
    assert reasons["d.855"][2].startswith("PO line PO-1/1 is ordered from SUP-A, not from SUP-B")
    assert reasons["e.855"][2].startswith("PO line not found: PO-9/1")
    assert result.status == "failed"
    assert all(pol(cache, "PO-1", n)["ack_status"] == "none" for n in (1, 2))


def test_one_broken_file_does_not_stop_the_good_ones(cache: Engine, connector: EdiConnector,
                                                     drop: Drop) -> None:
    good = x855("SUP-A", "31", "SO-1", "202612011015", "PO-1", [
        Line("PO-1", 1, 120, "EA", "IA", "20261211")], version="004010")
    broken = x855("SUP-A", "32", "SO-2", "202612011015", "PO-1", [
        Line("PO-1", 2, 50, "KG", "IA", "20261212")]).replace("SE*5*0001", "SE*4*0001")
    drop("1-broken.855", broken)
    drop("2-good.855", good)
    result = sync_inbox(cache, connector, "edi-a")
    assert str(result.status) == "partial" and outcomes(result)["applied"] == 1
    (err,) = result.rejected
    assert (err.file, err.row, err.field) == ("1-broken.855", 7, "SE")  # ISA GS ST BAK PO1 ACK SE
    assert "expected 5 segments" in err.reason
    assert pol(cache, "PO-1", 1)["promised_date"] == "2026-12-11"
    assert pol(cache, "PO-1", 2)["ack_status"] == "none"
    with cache.connect() as conn:
        run = conn.exec_driver_sql("SELECT status, rejected FROM sync_runs ORDER BY id DESC").first()
        rej = conn.exec_driver_sql("SELECT entity, file, row FROM sync_rejections").all()
    assert tuple(run) == ("partial", 1) and [tuple(r) for r in rej] == [("edi_messages", "1-broken.855", 7)]


def test_rejected_line_keeps_its_promise_and_is_a_mismatch(cache: Engine, connector: EdiConnector,
                                                           drop: Drop) -> None:
    drop("r.855", x855("SUP-A", "41", "SO-1", "202612011015", "PO-1", [
        Line("PO-1", 2, None, "KG", "IR")], bak_type="RD"))
    sync_inbox(cache, connector, "edi-a")
    line = pol(cache, "PO-1", 2)
    assert (line["ack_status"], line["promised_date"], line["status"]) == ("rejected", None, "sent")
    (m,) = confirmation_mismatches(cache)
    assert (m.purchase_order, m.line, m.status, m.quantity_ordered, m.confirmed_quantity) == (
        "PO-1", 2, "rejected", 50, 0)


def test_ship_notices_partial_shipments_and_the_shortage_timeline(
        cache: Engine, connector: EdiConnector, drop: Drop) -> None:
    # promised 18 Dec; the sales order needs 90 on 14 Dec, nothing on hand
    drop("a.855", x855("SUP-A", "51", "SO-1", "202612011015", "PO-1", [
        Line("PO-1", 1, 120, "EA", "DR", "20261218")]))
    sync_inbox(cache, connector, "edi-a")
    plain = _first_shortage(cache, risk_adjusted=False)
    assert plain == "2026-12-14"  # 0 - 90 on 14 Dec, the 120 arrive 18 Dec
    # two partial shipments: 60 EA expected 11 Dec (DESADV), 36 EA expected 12 Dec (856)
    drop("b.edi", desadv(SENDER_A, "S1", "SH-1", "202612091000", "20261209", "20261211",
                         [Line("PO-1", 1, 60, "C62")], version="96A"))
    drop("c.856", x856("SUP-A", "52", "SH-2", "202612091100", "20261209", "20261212",
                       [Line("PO-1", 1, 36, "EA")], version="004010"))
    result = sync_inbox(cache, connector, "edi-a")
    assert outcomes(result)["applied"] == 2
    line = pol(cache, "PO-1", 1)
    assert (line["asn_quantity"], line["asn_date"]) == (96, "2026-12-12")  # 60 + 36, latest
    # risk-adjusted: 96 arrive 12 Dec, 14 Dec: 96 - 90 = 6 >= 0; the other 24 on 18 Dec
    assert _first_shortage(cache, risk_adjusted=True) is None
    assert _first_shortage(cache, risk_adjusted=False) == "2026-12-14"  # the promise plan
    # a newer notice of shipment SH-1 (48 instead of 60) replaces it; an older one is ignored
    drop("d.edi", desadv(SENDER_A, "S2", "SH-1", "202612091200", "20261209", "20261211",
                         [Line("PO-1", 1, 48, "C62")]))
    drop("e.edi", desadv(SENDER_A, "S0", "SH-1", "202612080800", "20261208", "20261211",
                         [Line("PO-1", 1, 70, "C62")]))
    result = sync_inbox(cache, connector, "edi-a")
    assert outcomes(result) == {"applied": 1, "duplicate": 0, "superseded": 1, "rejected": 0}
    assert pol(cache, "PO-1", 1)["asn_quantity"] == 84  # 48 + 36
    # 84 - 90 = -6 on 14 Dec: short again in the risk-adjusted view
    assert _first_shortage(cache, risk_adjusted=True) == "2026-12-14"


def _first_shortage(cache: Engine, risk_adjusted: bool) -> str | None:
    session = planning.open_session(cache, today=dt.date(2026, 12, 1), bucket="day")
    out = planning.shortages(session, item="BOLT", site="S1", risk_adjusted=risk_adjusted).to_json()
    (row,) = out["rows"]
    first = row["first_shortage_date"]
    return None if first is None else str(first)[:10]


def test_a_failure_while_applying_changes_nothing_of_the_file(
        cache: Engine, connector: EdiConnector, drop: Drop, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from workbench.cache import edi as store

    real, calls = store.apply_shipment, []

    def second_fails(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 2:
            raise OSError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(store, "apply_shipment", second_fails)
    drop("s.edi", desadv(SENDER_A, "S1", "SH-1", "202612091000", "20261209", "20261211",
                         [Line("PO-1", 1, 60, "C62"), Line("PO-1", 2, 20, "KGM")]))
    result = sync_inbox(cache, connector, "edi-a")
    assert outcomes(result)["rejected"] == 1 and len(calls) == 2
    assert "nothing changed (OSError: disk full)" in result.rejected[0].reason
    assert (pol(cache, "PO-1", 1)["asn_quantity"], pol(cache, "PO-1", 2)["asn_quantity"]) == (0, 0)
    with cache.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM edi_shipments").scalar() == 0
    # a replay, the cause gone, applies it whole; a missing archive copy is named
    monkeypatch.setattr(store, "apply_shipment", real)
    (row,) = list_messages(cache, rejected_only=True)
    archived = Path(row["archive_path"])
    kept = archived.read_bytes()
    archived.unlink()
    import pytest

    with pytest.raises(LookupError, match="archived copy of message"):
        replay(cache, [row["id"]], lambda source: connector)
    archived.write_bytes(kept)
    (done,) = replay(cache, [row["id"]], lambda source: connector)
    assert (done.outcome, done.applied_lines) == ("applied", 2)
    assert (pol(cache, "PO-1", 1)["asn_quantity"], pol(cache, "PO-1", 2)["asn_quantity"]) == (60, 20)


def test_accepting_another_quantity_is_a_change(cache: Engine, connector: EdiConnector,
                                                drop: Drop) -> None:
    # 855 IA (accepted) but 100 of the 120 ordered: the line reads changed, a mismatch of 20
    drop("q.855", x855("SUP-A", "61", "SO-1", "202612011015", "PO-1", [
        Line("PO-1", 1, 100, "EA", "IA", "20261210")]))
    sync_inbox(cache, connector, "edi-a")
    assert pol(cache, "PO-1", 1)["ack_status"] == "changed"
    (m,) = confirmation_mismatches(cache)
    assert (m.status, m.quantity_ordered, m.confirmed_quantity) == ("changed", 120, 100)


def test_schedules_and_packages_of_one_line_add_up(cache: Engine, connector: EdiConnector,
                                                   drop: Drop) -> None:
    # ORDRSP: PO-1/1 confirmed in two schedules, 5 boxes on 15 Dec + 40 EA on 19 Dec = 100 EA
    drop("a.edi", ordrsp(SENDER_A, "C1", "R1", "202612011015", "PO-1", [
        Line("PO-1", 1, 5, "BX", "5", "20261215"), Line("PO-1", 1, 40, "C62", "5", "20261219")]))
    # DESADV: PO-1/2 packed in two packages of the same shipment, 10 kg + 2,500 g
    drop("b.edi", desadv(SENDER_A, "S1", "SH-1", "202612091000", "20261209", "20261211",
                         [Line("PO-1", 2, 10, "KGM"), Line("PO-1", 2, 2500, "GRM")]))
    result = sync_inbox(cache, connector, "edi-a")
    assert outcomes(result)["applied"] == 2
    one = pol(cache, "PO-1", 1)
    assert (one["ack_status"], one["promised_date"]) == ("changed", "2026-12-19")  # 100 of 120
    assert history(cache, "PO-1", 1)[0][1:3] == ("2026-12-19", 100.0)
    two = pol(cache, "PO-1", 2)
    assert (two["asn_quantity"], two["asn_date"]) == (12.5, "2026-12-11")
