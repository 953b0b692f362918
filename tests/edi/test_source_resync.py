"""A supplier's message survives a later sync of the PO line's own source (docs/edi.md, "A
message's values and the next sync of the line's source"): per field, the newer information
wins — the message's value stays while the source still sends the value it had before the
message; a source that records another value wins, for that field only.

Hand-computed on a canonical data package (the EDI tests' small plant: PO-1/1 is 120 EA of BOLT,
requested 10 Dec, promised 10 Dec by the ERP) and on the demo plant's own suppliers.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from planner_connectors.edi import EdiConnector
from planner_connectors.files import FilesConnector
from sqlalchemy import Engine

from tests.edi.conftest import SENDER_A, Drop, plant, pol
from tests.edi.messages import Line, desadv, ordrsp
from workbench.cache.db import open_cache
from workbench.cli import main
from workbench.services import planning
from workbench.services.edi import sync_inbox
from workbench.services.sync import SyncResult, run_sync

EDI_FIELDS = ("promised_date", "ack_status", "ack_date", "status", "asn_quantity",
              "orig_asn_quantity", "asn_date")


def _write_package(folder: Path, data: dict[str, list[dict[str, Any]]],
                   leave_out: dict[str, tuple[str, ...]] | None = None) -> None:
    """One CSV per entity (header: every field any row has, minus ``leave_out``)."""
    folder.mkdir(exist_ok=True)
    for entity, rows in data.items():
        fields = [f for f in dict.fromkeys(k for r in rows for k in r)
                  if f not in (leave_out or {}).get(entity, ())]
        with open(folder / f"{entity}.csv", "w", newline="", encoding="utf-8") as fh:
            out = csv.writer(fh)
            out.writerow(fields)
            for r in rows:
                out.writerow(["" if r.get(f) is None else str(r.get(f)) for f in fields])


def _erp() -> dict[str, list[dict[str, Any]]]:
    """The plant as the ERP exports it: every PO line with every field a message may set
    (the ERP has no acknowledgement and no ship notice of its own yet)."""
    data = plant()
    for line in data["purchase_order_lines"]:
        line.update(promised_date=None, ack_status="none", ack_date=None, status="sent",
                    asn_quantity=0.0, asn_date=None)
    data["purchase_order_lines"][0]["promised_date"] = dt.date(2026, 12, 10)
    return data


def _po1(data: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    line: dict[str, Any] = data["purchase_order_lines"][0]
    assert (line["purchase_order"], line["line"]) == ("PO-1", 1)
    return line


def _sync(engine: Engine, folder: Path, when: str) -> SyncResult:
    """The package synced in full (watermarks ignored: every file read again, as an ERP's
    complete pull reads every line), at ``when`` (the promise history's observation time)."""
    SYNCED_AT.add(when)
    result = run_sync(engine, FilesConnector(folder), full=True,
                      now=dt.datetime.fromisoformat(when))
    assert result.ok, result.error
    return result


def _edi(line: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(line[f] for f in EDI_FIELDS)


SYNCED_AT: set[str] = set()  # every time a sync of the package observed (see _sync)


def _promises(engine: Engine) -> list[tuple[Any, ...]]:
    """PO-1/1's promise history, by time: the messages' rows and what the package syncs
    observed. (Left out: the row the cache's trigger adds when a message moves the promise,
    stamped with the wall clock of the application — docs/edi.md: slippage counts that change
    once; it is no sync's doing.)"""
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.exec_driver_sql(
            "SELECT changed_at, promised_date, quantity_ordered, origin FROM promise_changes "
            "WHERE purchase_order = 'PO-1' AND line = 1 ORDER BY changed_at")]
    return [r for r in rows if r[3] == "edi" or r[0] in SYNCED_AT]


@pytest.fixture
def package(tmp_path: Path) -> Path:
    return tmp_path / "erp"


@pytest.fixture(params=["sqlite", "postgresql"])
def erp_cache(request: pytest.FixtureRequest, tmp_path: Path, package: Path) -> Engine:
    """The ERP's cache on each engine (PostgreSQL: the held values are jsonb there)."""
    engine = open_cache(request.getfixturevalue("pg_cache_url") if request.param == "postgresql"
                        else tmp_path / "erp.sqlite")
    _write_package(package, _erp())
    _sync(engine, package, "2026-11-26T08:00:00")
    return engine


def _acknowledge_and_ship(engine: Engine, connector: EdiConnector, drop: Drop) -> None:
    # 1 Dec: 8 boxes (x 12 = 96 EA of 120) on 15 Dec; 9 Dec: 60 EA shipped, expected 11 Dec
    drop("r1.edi", ordrsp(SENDER_A, "C1", "R1", "202612011015", "PO-1", [
        Line("PO-1", 1, 8, "BX", "3", "20261215", supplier_item="A-100")]))
    drop("s1.edi", desadv(SENDER_A, "C2", "SH-1", "202612091000", "20261209", "20261211", [
        Line("PO-1", 1, 60, "C62", supplier_item="A-100")]))
    result = sync_inbox(engine, connector, "edi-a")
    assert result.counts["edi_messages"]["applied"] == 2, result.error


SUPPLIER = ("2026-12-15", "changed", "2026-12-01", "acknowledged", 60.0, 60.0, "2026-12-11")
FIRST_TWO = [("2026-11-26T08:00:00", "2026-12-10", 120.0, "observed"),
             ("2026-12-01T10:15:00", "2026-12-15", 96.0, "edi")]


def test_an_unchanged_source_keeps_what_the_supplier_said(
        erp_cache: Engine, package: Path, connector: EdiConnector, drop: Drop) -> None:
    before = _edi(pol(erp_cache, "PO-1", 1))
    assert before == ("2026-12-10", "none", None, "sent", 0.0, 0.0, None)
    _acknowledge_and_ship(erp_cache, connector, drop)
    assert _edi(pol(erp_cache, "PO-1", 1)) == SUPPLIER
    after_messages = FIRST_TWO
    assert _promises(erp_cache) == after_messages

    # the ERP syncs again, nothing changed in it: the supplier's commitment stays, nothing is
    # rewritten, the promise history gets no change (the old rule wrote 10 Dec back and
    # observed a "change" at 10 Dec 08:00)
    result = _sync(erp_cache, package, "2026-12-10T08:00:00")
    assert result.counts["purchase_order_lines"] == {"received": 3, "changed": 0, "deleted": 0}
    assert _edi(pol(erp_cache, "PO-1", 1)) == SUPPLIER
    assert _promises(erp_cache) == after_messages
    # slippage sees one promise change of 5 days (10 Dec -> 15 Dec), not a second one back
    session = planning.open_session(erp_cache, today=dt.date(2026, 12, 10))
    lines = session.slippage.lines.set_index(["purchase_order", "line"])
    assert lines.loc[("PO-1", 1), "promise_changes"] == 1
    assert lines.loc[("PO-1", 1), "slip_vs_first_days"] == 5

    # the ERP changes another field of the line (the price): only that is written
    data = _erp()
    _po1(data)["unit_price"] = 1.25
    _write_package(package, data)
    result = _sync(erp_cache, package, "2026-12-10T09:00:00")
    assert result.counts["purchase_order_lines"]["changed"] == 1
    line = pol(erp_cache, "PO-1", 1)
    assert (_edi(line), line["unit_price"]) == (SUPPLIER, 1.25)
    assert _promises(erp_cache) == after_messages


def test_the_source_recording_a_new_value_wins_for_that_field(
        erp_cache: Engine, package: Path, connector: EdiConnector, drop: Drop) -> None:
    _acknowledge_and_ship(erp_cache, connector, drop)
    # the buyer moves the promise in the ERP to 17 Dec: the ERP's value is the newer one
    data = _erp()
    _po1(data)["promised_date"] = dt.date(2026, 12, 17)
    _write_package(package, data)
    _sync(erp_cache, package, "2026-12-11T08:00:00")
    # the promise is the ERP's; acknowledgement and ship notice (the ERP still sends what it
    # had before the messages) stay the supplier's
    assert _edi(pol(erp_cache, "PO-1", 1)) == ("2026-12-17", *SUPPLIER[1:])
    third = ("2026-12-11T08:00:00", "2026-12-17", 120.0, "observed")
    assert _promises(erp_cache) == [*FIRST_TWO, third]
    # synced again unchanged: nothing moves
    _sync(erp_cache, package, "2026-12-11T09:00:00")
    assert _edi(pol(erp_cache, "PO-1", 1)) == ("2026-12-17", *SUPPLIER[1:])
    assert _promises(erp_cache) == [*FIRST_TWO, third]

    # a newer acknowledgement (12 Dec: 19 Dec) holds against the ERP's 17 Dec ...
    drop("r2.edi", ordrsp(SENDER_A, "C3", "R2", "202612120900", "PO-1", [
        Line("PO-1", 1, 8, "BX", "3", "20261219", supplier_item="A-100")]))
    assert sync_inbox(erp_cache, connector, "edi-a").counts["edi_messages"]["applied"] == 1
    fourth = ("2026-12-12T09:00:00", "2026-12-19", 96.0, "edi")
    _sync(erp_cache, package, "2026-12-12T10:00:00")
    assert pol(erp_cache, "PO-1", 1)["promised_date"] == "2026-12-19"
    assert _promises(erp_cache) == [*FIRST_TWO, third, fourth]
    # ... until the ERP records its own acknowledgement and moves the promise back to 10 Dec:
    # both its values win; the status and the ship notice (not changed in the ERP) stay
    data = _erp()
    _po1(data).update(ack_status="accepted", ack_date=dt.date(2026, 12, 12))
    _write_package(package, data)
    _sync(erp_cache, package, "2026-12-13T08:00:00")
    assert _edi(pol(erp_cache, "PO-1", 1)) == (
        "2026-12-10", "accepted", "2026-12-12", "acknowledged", 60.0, 60.0, "2026-12-11")
    assert _promises(erp_cache) == [
        *FIRST_TWO, third, fourth, ("2026-12-13T08:00:00", "2026-12-10", 120.0, "observed")]


def test_a_file_without_the_column_leaves_the_hold_alone(
        erp_cache: Engine, package: Path, connector: EdiConnector, drop: Drop) -> None:
    """A package whose PO line file leaves the EDI columns out keeps the cached values (the
    package rule); the hold stays: the full file after it still finds the ERP's old value."""
    _acknowledge_and_ship(erp_cache, connector, drop)
    after_messages = _promises(erp_cache)
    data = _erp()
    _po1(data)["unit_price"] = 2.0
    _write_package(package, data, leave_out={"purchase_order_lines": (
        "promised_date", "ack_status", "ack_date", "status")})
    _sync(erp_cache, package, "2026-12-10T08:00:00")
    assert (_edi(pol(erp_cache, "PO-1", 1)), pol(erp_cache, "PO-1", 1)["unit_price"]) == (
        SUPPLIER, 2.0)
    _write_package(package, _erp())
    _sync(erp_cache, package, "2026-12-10T09:00:00")
    assert _edi(pol(erp_cache, "PO-1", 1)) == SUPPLIER
    assert _promises(erp_cache) == after_messages


def test_the_demo_plant_synced_again_keeps_its_suppliers_messages(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The demo plant's suppliers acknowledge and ship (tests/edi/test_demo_inbox.py); the same
    demo day synced again in full (every PO line sent again, unchanged in the demo) leaves every
    line they spoke for as they left it, rewrites no line and adds no promise change."""
    cache = tmp_path / "demo.sqlite"
    assert main(["sync", "--demo", "--day", "3", "--cache", str(cache)]) == 0
    engine = open_cache(cache)
    query = ("SELECT p.purchase_order, p.line, " + ", ".join(f"p.{f}" for f in EDI_FIELDS) +
             " FROM purchase_order_lines p WHERE EXISTS (SELECT 1 FROM edi_acknowledgements a "
             "WHERE a.purchase_order = p.purchase_order AND a.line = p.line) OR EXISTS (SELECT 1 "
             "FROM edi_shipments s WHERE s.purchase_order = p.purchase_order AND s.line = p.line)"
             " ORDER BY 1, 2")

    def state() -> tuple[list[tuple[Any, ...]], int]:
        with engine.connect() as conn:
            lines = [tuple(r) for r in conn.exec_driver_sql(query)]
            changes = conn.exec_driver_sql("SELECT count(*) FROM promise_changes").scalar_one()
        return lines, int(changes)

    lines, changes = state()
    statuses = {ln[3] for ln in lines}
    assert {"accepted", "changed"} <= statuses  # the suppliers spoke
    assert any(ln[6] for ln in lines)  # and shipped
    capsys.readouterr()
    # --full: every record again, not only those changed since the watermark
    assert main(["sync", "--demo", "--day", "3", "--full", "--cache", str(cache)]) == 0
    out = capsys.readouterr().out
    assert "purchase_order_lines     received       250  changed         0" in out
    assert "supplier messages: 0 files" in out
    assert state() == (lines, changes)
    engine.dispose()
