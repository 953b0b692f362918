"""Two outbox workers draining one team outbox at once (issue 17 §2), on SQLite and PostgreSQL:
each entry is sent exactly once (counted by a connector that records every push), a live
worker's claim is left alone, a dead or expired one is taken over.

Twelve decisions (REQ-01 .. REQ-12, reduce each by 1 EA) are queued. Worker 1 starts; once it is
inside its first push (each push takes 0.05 s), worker 2 starts on its own connection: it finds
worker 1's entry ``sending`` — before claims, it took that entry again and sent it twice."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

from sqlalchemy import select

from tests.team.buyers import REQUISITIONS, RecordingConnector, plant, team_cache
from workbench.cache.db import open_cache
from workbench.cache.outbox import LEASE, OutboxRepository, claimer_gone, worker_id
from workbench.cache.schema import audit_events, outbox
from workbench.services.decisions import record_decision
from workbench.services.writeback import DrainResult, drain_outbox

__all__ = ["team_cache"]  # the fixture, imported to be used here

T0 = dt.datetime(2026, 12, 5, 10, 0, 0)


def _queue_twelve(where: str) -> list[str]:
    """One reduce per requisition (REQ-nn to 10 * nn - 1 EA); their idempotency keys."""
    engine = open_cache(where)
    keys = []
    for n, code in enumerate(REQUISITIONS, start=1):
        out = record_decision(engine, code, "modify", decided_by="Ann", action="reduce",
                              quantity=10.0 * n - 1, now=T0)
        keys.append(str(out.idempotency_key))
    engine.dispose()
    return keys


def test_two_workers_send_each_entry_once(team_cache: str) -> None:
    keys = _queue_twelve(team_cache)
    source = RecordingConnector(plant(), pause=0.05)
    engines = [open_cache(team_cache), open_cache(team_cache)]
    results: dict[str, DrainResult] = {}

    def drain(n: int) -> None:
        results[f"w{n}"] = drain_outbox(engines[n], {"memory": source}, now=T0)

    first = threading.Thread(target=drain, args=(0,), name="w0")
    second = threading.Thread(target=drain, args=(1,), name="w1")
    try:
        first.start()
        assert source.first_push.wait(30)
        second.start()  # worker 1 is mid-send: its entry is "sending"
        first.join(60)
        second.join(60)
        sent = Counter(key for key, _ in source.pushes)
        assert sent == Counter({key: 1 for key in keys})  # each of the 12 exactly once
        by_worker = Counter(worker for _, worker in source.pushes)
        assert by_worker["w1"] >= 1, by_worker  # the second worker really drained too
        assert sorted(results["w0"].sent + results["w1"].sent) == list(range(1, 13))
        with engines[0].connect() as conn:
            rows = conn.execute(select(outbox.c.state, outbox.c.attempts, outbox.c.claimed_by,
                                       outbox.c.lease_until)).all()
            pushes = conn.execute(select(audit_events.c.result).where(
                audit_events.c.action.like("push %"))).scalars().all()
        assert {tuple(r) for r in rows} == {("sent", 1, None, None)}  # claims cleared
        assert sorted(pushes) == ["sent"] * 12  # no attempt cut short, none twice
    finally:
        for e in engines:
            e.dispose()


def test_a_live_claim_is_left_alone_until_its_lease_expires(team_cache: str) -> None:
    """A worker on another host claimed REQ-01's entry at 10:00 and has not finished: a drain
    at 10:05 skips it (and sends the other eleven); at 10:15 (lease 15 min) it is taken over
    and sent (attempt 2)."""
    keys = _queue_twelve(team_cache)
    engine = open_cache(team_cache)
    source = RecordingConnector(plant())
    try:
        with engine.begin() as conn:
            repo = OutboxRepository(conn)
            [entry] = [e for e in repo.entries(["queued"]) if e.target == "REQ-01"]
            assert repo.claim(entry, "2026-12-05T10:00:00", "other-host:4242:abcd")
            held = repo.get(entry.id)
        assert held is not None
        assert (held.state, held.claimed_by, held.lease_until) == (
            "sending", "other-host:4242:abcd", "2026-12-05T10:15:00")
        assert LEASE == dt.timedelta(minutes=15)
        assert not claimer_gone(held.claimed_by)  # another host: only its lease tells

        early = drain_outbox(engine, {"memory": source}, now=dt.datetime(2026, 12, 5, 10, 5))
        assert entry.id not in early.sent and len(early.sent) == 11
        assert [k for k, _ in source.pushes] == keys[1:]
        # a second claim by this host at 10:05 is refused too
        with engine.begin() as conn:
            repo = OutboxRepository(conn)
            current = repo.get(entry.id)
            assert current is not None
            assert not repo.claim(current, "2026-12-05T10:05:00", worker_id())

        late = drain_outbox(engine, {"memory": source}, now=dt.datetime(2026, 12, 5, 10, 15))
        assert late.sent == [entry.id]
        assert [k for k, _ in source.pushes] == [*keys[1:], keys[0]]
        with engine.connect() as conn:
            state, attempts = conn.execute(select(outbox.c.state, outbox.c.attempts)
                                           .where(outbox.c.id == entry.id)).one()
        assert (state, attempts) == ("sent", 2)
    finally:
        engine.dispose()


def test_a_claim_of_a_process_gone_on_this_host_is_free_at_once() -> None:
    """The same host, a process id that no longer runs: free (a crash, sent again at once, as
    the crash-safety tests expect); this process, or no claimer at all: as the table says."""
    import os
    import socket
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    host = socket.gethostname()
    assert claimer_gone(f"{host}:{done.stdout.strip()}:dead")
    assert not claimer_gone(f"{host}:{os.getpid()}:live")
    assert claimer_gone(None)
