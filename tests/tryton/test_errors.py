"""Each way of failing names its cause, and a failed sync leaves the cache as it was."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from planner_connectors.tryton import TrytonConnector
from planner_connectors.tryton.rpc import TrytonRPC

from tests.foundation.cachedump import dump
from tests.support.tryton.devserver import ADMIN_PASSWORD, DATABASE, TrytonServer, free_port
from workbench.connect.port import PermanentError, TransientError
from workbench.domain.enums import SyncRunStatus
from workbench.services.sync import run_sync

pytestmark = pytest.mark.tryton


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A server that accepts connections and never answers (a hung ERP)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
                held.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    stop.set()
    thread.join(2)
    for c in held:
        c.close()
    sock.close()


def test_wrong_password(tryton_shared: TrytonServer) -> None:
    connector = TrytonConnector(tryton_shared.url, DATABASE, "admin", "not-the-password")
    check = connector.check()
    assert not check.ok
    assert "wrong user name or password" in check.message
    with pytest.raises(PermanentError, match="refused the login of user 'admin'"):
        list(connector.pull("items", None))
    connector.close()


def test_server_down_keeps_the_cache(tryton_shared: TrytonServer, cache, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    good = TrytonConnector(tryton_shared.url, DATABASE, "admin", ADMIN_PASSWORD)
    assert run_sync(cache, good, entities=["uoms", "sites", "suppliers", "items"]).ok
    good.close()
    path = Path(cache.url.database)
    before = dump(path, skip_cols=())
    down = TrytonConnector(f"http://127.0.0.1:{free_port()}", DATABASE, "admin", ADMIN_PASSWORD)
    assert not down.check().ok
    assert "cannot reach the Tryton server" in down.check().message
    result = run_sync(cache, down, entities=["uoms", "sites", "suppliers", "items"])
    assert result.status == SyncRunStatus.FAILED
    assert (
        "cannot reach the Tryton server" in (result.error or "")
        and "is it running?" in result.error
    )
    after = dump(path)
    # only the failed run's own record was added; every entity row is as it was
    for table in before:
        if table != "sync_runs":
            assert after[table] == before[table], table
    down.close()


def test_timeout_is_named(silent_server: str) -> None:
    rpc = TrytonRPC(silent_server, DATABASE, "admin", ADMIN_PASSWORD, timeout=0.5)
    with pytest.raises(TransientError, match=r"did not answer .* within 0.5 s \(timeout\)"):
        rpc.server_version()
    rpc.close()


def test_unknown_database(tryton_shared: TrytonServer) -> None:
    connector = TrytonConnector(tryton_shared.url, "no_such_db", "admin", ADMIN_PASSWORD)
    check = connector.check()
    assert not check.ok and "has no database 'no_such_db'" in check.message
    connector.close()


def test_missing_module(tryton_shared: TrytonServer) -> None:
    # production_routing is a real Tryton module that the test database does not activate
    rpc = TrytonRPC(tryton_shared.url, DATABASE, "admin", ADMIN_PASSWORD)
    with pytest.raises(PermanentError, match=r"no model 'production\.routing': a module"):
        rpc.search_read("production.routing", [], ["name"])
    rpc.close()


def test_check_reports_server_and_modules(tryton_shared: TrytonServer) -> None:
    connector = TrytonConnector(tryton_shared.url, DATABASE, "admin", ADMIN_PASSWORD)
    check = connector.check()
    assert check.ok, check.message
    assert check.message.startswith("Tryton 8.2 at ")
    connector.close()


def test_no_password_is_a_clear_error() -> None:
    with pytest.raises(PermanentError, match="store it in the system keyring"):
        TrytonConnector("http://127.0.0.1:1", DATABASE, "admin", None)
