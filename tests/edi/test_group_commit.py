"""Files of one inbox sync share write transactions (each file in a savepoint of its own,
workbench.services.edi.GROUP_FILES): a file that fails while applying changes nothing although
the files before and after it in the same transaction are applied; a cancel keeps the files
taken before it (committed, gone from the inbox) and leaves the others in the inbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from planner_connectors.edi import EdiConnector
from sqlalchemy import Engine

from tests.edi.conftest import SENDER_A, Drop, history, outcomes, pol
from tests.edi.messages import Line, desadv, ordrsp
from workbench.cache import edi as store
from workbench.services import edi as service
from workbench.services.edi import list_messages, sync_inbox
from workbench.services.tasks import Cancelled


def _ack(control: str, line: int, date: str) -> str:
    unit, qty = ("C62", 120) if line == 1 else ("KGM", 50)
    return ordrsp(SENDER_A, control, f"R{control}", "202612011015", "PO-1", [
        Line("PO-1", line, qty, unit, "5", date)])


def test_a_failing_file_inside_a_shared_transaction_changes_nothing(
        cache: Engine, connector: EdiConnector, drop: Drop,
        monkeypatch: pytest.MonkeyPatch) -> None:
    drop("1.edi", _ack("C1", 1, "20261211"))
    # line 1 of PO-1 shipped (written), then line 2 fails: nothing of 2.edi may stay
    drop("2.edi", desadv(SENDER_A, "S1", "SH-1", "202612091000", "20261209", "20261211",
                         [Line("PO-1", 1, 60, "C62"), Line("PO-1", 2, 20, "KGM")]))
    drop("3.edi", _ack("C3", 2, "20261214"))
    real = store.apply_shipment
    calls: list[int] = []

    def second_fails(*args: Any, **kwargs: Any) -> bool:
        calls.append(1)
        if len(calls) == 2:
            raise OSError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(store, "apply_shipment", second_fails)
    commits: list[int] = []
    real_commit = service._GroupCommit.commit

    def counted(self: service._GroupCommit) -> None:
        commits.append(len(self._taken))
        real_commit(self)

    monkeypatch.setattr(service._GroupCommit, "commit", counted)
    result = sync_inbox(cache, connector, "edi-a")
    assert commits == [3]  # the three files in one transaction
    assert outcomes(result) == {"applied": 2, "duplicate": 0, "superseded": 0, "rejected": 1}
    assert [e.file for e in result.rejected] == ["2.edi"]
    one, two = pol(cache, "PO-1", 1), pol(cache, "PO-1", 2)
    assert (one["promised_date"], one["asn_quantity"], one["asn_date"]) == ("2026-12-11", 0, None)
    assert (two["promised_date"], two["asn_quantity"]) == ("2026-12-14", 0)
    with cache.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM edi_shipments").scalar() == 0
        held = conn.exec_driver_sql(
            "SELECT line, field FROM edi_field_holds ORDER BY line, field").all()
    assert ("asn_quantity" not in {f for _, f in held}) and len(held) > 0
    assert [h[1] for h in history(cache, "PO-1", 1)] == ["2026-12-11"]
    assert [(m["file"], m["outcome"]) for m in list_messages(cache)] == [
        ("1.edi", "applied"), ("2.edi", "rejected"), ("3.edi", "applied")]


class _CancelAfter:
    def __init__(self, files: int) -> None:
        self.files = files
        self.done = 0

    def set_progress(self, done: int, total: int | None) -> None:
        self.done = done

    def set_status(self, text: str) -> None:
        pass

    def is_cancelled(self) -> bool:
        return self.done >= self.files


def test_a_cancel_keeps_the_files_taken_before_it(
        cache: Engine, connector: EdiConnector, drop: Drop, inbox: Path) -> None:
    drop("1.edi", _ack("C1", 1, "20261211"))
    drop("2.edi", _ack("C2", 2, "20261214"))
    drop("3.edi", _ack("C3", 1, "20261218"))
    with pytest.raises(Cancelled):
        # progress (1, 3) is reported as the second file is taken: the cancel comes before the third
        sync_inbox(cache, connector, "edi-a", state=_CancelAfter(1))
    assert [m["file"] for m in list_messages(cache)] == ["1.edi", "2.edi"]
    assert sorted(p.name for p in inbox.iterdir()) == ["3.edi"]
    assert pol(cache, "PO-1", 1)["promised_date"] == "2026-12-11"
    assert pol(cache, "PO-1", 2)["promised_date"] == "2026-12-14"
    # the next sync takes the file left behind
    again = sync_inbox(cache, connector, "edi-a")
    assert outcomes(again)["applied"] == 1 and list(inbox.iterdir()) == []
    assert pol(cache, "PO-1", 1)["promised_date"] == "2026-12-18"


def test_archive_copies_are_whole_and_a_damaged_copy_is_written_again(
        cache: Engine, connector: EdiConnector, drop: Drop, inbox: Path) -> None:
    import hashlib

    text = _ack("C1", 1, "20261211")
    folder = service.archive_folder(cache)
    folder.mkdir(parents=True, exist_ok=True)
    # a crash after a rename that reached the disk without its bytes: the name, no content
    sha = hashlib.sha256(text.encode()).hexdigest()
    (folder / f"{sha[:16]}-1.edi").write_bytes(b"")
    drop("1.edi", text)
    drop("2.edi", _ack("C2", 2, "20261214"))
    result = sync_inbox(cache, connector, "edi-a")
    assert outcomes(result)["applied"] == 2
    rows = list_messages(cache)
    assert [Path(r["archive_path"]).read_text(encoding="utf-8") for r in rows] == [
        text, _ack("C2", 2, "20261214")]
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]
    assert list(inbox.iterdir()) == []
