"""Version checks on PO-line and work-order decisions from the command line (issue 17 §2), on a
SQLite and a PostgreSQL cache holding the small demo: ``workbench exceptions`` shows the decision
version of a decided message's element, ``exceptions approve|reject ID --expected-version N``
stores nothing when another buyer decided that element since (exit 4, both decisions on stderr
and in ``--json``), and decides on the version it now shows. Real processes, real caches; the
other buyer is a second workstation (an engine of its own) deciding through the service."""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.foundation.clirun import cli
from workbench.cache.db import open_cache
from workbench.cache.schema import decisions, outbox
from workbench.services import exceptions as svc
from workbench.services.message_decisions import record_message_decision
from workbench.services.planning import open_session
from workbench.services.sources import demo_connector
from workbench.services.sync import run_sync


@pytest.fixture(params=["sqlite", "postgresql"])
def demo_cache(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The small demo (day 0) with its exception messages computed, on either engine."""
    where = (str(tmp_path / "cache.sqlite") if request.param == "sqlite"
             else str(request.getfixturevalue("pg_url")))
    engine = open_cache(where)
    try:
        assert run_sync(engine, demo_connector(cache=tmp_path / "demo")).ok
        svc.refresh_exceptions(engine, open_session(engine))
    finally:
        engine.dispose()
    yield where


def _message(where: str, kind: str, element: str) -> int:
    engine = open_cache(where)
    try:
        return next(m.id for m in svc.list_exceptions(engine)
                    if m.kind == kind and m.element == element)
    finally:
        engine.dispose()


def _stored(where: str, element: str) -> tuple[list[str], int]:
    """(who decided ``element``, oldest first; how many outbox entries its decisions have)."""
    engine = open_cache(where)
    try:
        with engine.connect() as conn:
            who = [str(w) for (w,) in conn.execute(
                select(decisions.c.decided_by).where(decisions.c.requisition == element)
                .order_by(decisions.c.id))]
            queued = conn.execute(select(func.count()).select_from(
                outbox.join(decisions, outbox.c.decision == decisions.c.id))
                .where(decisions.c.requisition == element)).scalar_one()
        return who, int(queued)
    finally:
        engine.dispose()


def _bob_rejects(where: str, message: int, expected: int) -> None:
    """The other workstation: its own engine, deciding on the version it saw."""
    other = open_cache(where)
    try:
        record_message_decision(other, message, "reject", decided_by="bob",
                                comment="supplier cannot", expected_version=expected)
    finally:
        other.dispose()


def test_a_po_line_decision_on_a_stale_version_is_refused_with_both_shown(
        demo_cache: str) -> None:
    where = demo_cache
    login = getpass.getuser()
    # PO-000072/1: 457 EA of PP-00072 at P2, promised 2026-11-30 (requested 2026-11-05), the
    # only open receipt of the row. WO-000024 (released) needs 392.7 EA of it on 2026-11-09;
    # P2 holds 40 available (safety stock 0), so 392.7 - 40 = 352.7 are needed on 2026-11-09
    # from this line: due 21 days after its need, the advice is to expedite to 2026-11-09
    line = _message(where, "reschedule_in", "PO-000072/1")
    listed = cli("exceptions", "--no-refresh", "--kind", "E01", "--json", "--cache", where)
    assert listed.returncode == 0, listed.stderr
    [seen] = [m for m in json.loads(listed.stdout)["messages"] if m["id"] == line]
    assert (seen["element"], seen["decision_version"]) == ("PO-000072/1", 0)

    _bob_rejects(where, line, 0)  # bob decides while ann looks at version 0
    ann = cli("exceptions", "approve", str(line), "--expected-version", "0", "--by", "ann",
              "--json", "--cache", where)
    assert ann.returncode == 4, ann.stderr
    [result] = json.loads(ann.stdout)["results"]
    conflict = result["conflict"]
    assert (conflict["target_kind"], conflict["target"]) == ("purchase_order_line",
                                                              "PO-000072/1")
    assert (conflict["expected_version"], conflict["current_version"]) == (0, 1)
    theirs, ours = conflict["theirs"], conflict["ours"]
    assert (theirs["decided_by"], theirs["verdict"], theirs["action"], theirs["comment"]) == (
        "bob", "reject", "expedite", "supplier cannot")
    assert (ours["decided_by"], ours["verdict"], ours["action"], ours["date"]) == (
        "ann", "approve", "expedite", "2026-11-09")  # the message's advice: to 2026-11-09
    assert ours["decision"] is None and isinstance(theirs["decision"], int)
    [line_err] = ann.stderr.strip().splitlines()
    assert line_err.startswith(
        f"message {line}: purchase order line PO-000072/1 was decided by another buyer while "
        f"you looked at it (version 0, now 1): theirs — bob (login {login}")
    assert "yours, not stored — ann (login " in line_err
    assert line_err.count(": approve expedite 2026-11-09") == 1
    assert _stored(where, "PO-000072/1") == (["bob"], 0)  # bob's only, nothing queued

    text = cli("exceptions", "--no-refresh", "--kind", "E01", "--cache", where)
    [shown] = [r for r in text.stdout.splitlines() if r.split()[0] == str(line)]
    assert shown.endswith("[rejected] version 1")
    audit = cli("outbox", "--audit", "--cache", where).stdout.splitlines()
    assert " ann " in audit[0] and "conflict" in audit[0]  # the refused decision, audited

    # on the version it now shows, ann's decision is stored and queued
    again = cli("exceptions", "approve", str(line), "--expected-version", "1", "--by", "ann",
                "--cache", where)
    assert (again.returncode, again.stderr) == (0, "")
    assert again.stdout.startswith(f"message {line} PO-000072/1: approve expedite to 2026-11-09: "
                                   "queued for write-back (outbox ")
    assert _stored(where, "PO-000072/1") == (["bob", "ann"], 1)
    # one version is one message's: two IDs are refused before anything is decided
    two = cli("exceptions", "reject", str(line), "1", "--expected-version", "2", "--cache", where)
    assert two.returncode == 2 and "give exactly one ID" in two.stderr


def test_a_work_order_decision_is_checked_the_same_way(demo_cache: str) -> None:
    where = demo_cache
    # WO-000024 makes 385 EA of SA-00050 at P2 due 2026-11-12, the row's only receipt; the one
    # requirement is WO-000026's 377 EA on 2026-11-13, of which 89 are allocated stock and 8
    # more are available: 377 - 89 - 8 = 280 needed, so the advice is to reduce it to 280
    order = _message(where, "reduce", "WO-000024")
    first = cli("exceptions", "approve", str(order), "--expected-version", "0", "--by", "pat",
                "--cache", where)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip().endswith("recorded (advice, not written back)")
    second = cli("exceptions", "reject", str(order), "--expected-version", "0", "--by", "kim",
                 "--cache", where)
    assert second.returncode == 4
    assert second.stderr.startswith(
        f"message {order}: work order WO-000024 was decided by another buyer while you looked "
        "at it (version 0, now 1): theirs — pat (login ")
    assert "yours, not stored — kim (login " in second.stderr
    assert _stored(where, "WO-000024") == (["pat"], 0)
    # without a version (a script on a single-user cache) nothing is checked, as before
    plain = cli("exceptions", "reject", str(order), "--by", "kim", "--cache", where)
    assert plain.returncode == 0, plain.stderr
    assert _stored(where, "WO-000024") == (["pat", "kim"], 0)
