"""Secrets stay secret: no in-memory keyring in the app, no password in a URL or under any
parameter name, no plain http to another machine without --insecure, URLs redacted in logs,
private file modes, and an audit log that names the real user — for the CLI too, and for a send
killed mid-way."""

from __future__ import annotations

import getpass
import importlib
import json
import logging
import os
import pkgutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import keyring.backend
import planner_connectors
import pytest

import workbench
from tests.foundation.clirun import REPO, cli
from workbench.analysis.data import PLANNING_ENTITIES
from workbench.cache import snapshot
from workbench.cache.db import open_cache
from workbench.connect.factory import make_connector
from workbench.connect.port import ConnectorError, PermanentError
from workbench.services.decisions import record_decision
from workbench.services.planning import open_session, read_planning_frames
from workbench.services.reevaluate import run_reevaluation
from workbench.services.settings import (
    Settings,
    SourceConfig,
    load_settings,
    save_settings,
    settings_path,
)
from workbench.services.sources import demo_connector
from workbench.services.sync import run_sync
from workbench.services.writeback import audit_frame, outbox_frame, send_pending

ERP = ("database=prod", "user=planner")


# --- the keyring ------------------------------------------------------------------------------

def test_the_application_defines_no_keyring_backend() -> None:
    """keyring takes every imported KeyringBackend subclass as a candidate: one defined by the
    app would become the store on a machine without a real keyring."""
    for package in (workbench, planner_connectors):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if not info.name.startswith("workbench.ui"):
                importlib.import_module(info.name)
    ours = [type(b).__name__ for b in keyring.backend.get_all_keyring()
            if type(b).__module__.startswith(("workbench", "planner_connectors"))]
    classes = [f"{c.__module__}.{c.__name__}" for c in _subclasses(keyring.backend.KeyringBackend)
               if c.__module__.startswith(("workbench", "planner_connectors"))]
    assert ours == [] and classes == []


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _real_backend_present(env: dict[str, str]) -> bool:
    probe = subprocess.run([sys.executable, "-c", "import keyring; b = keyring.get_keyring(); "
                            "print(type(b).__module__)"], capture_output=True, text=True, env=env)
    return not probe.stdout.strip().startswith(("keyring.backends.fail", "keyring.backends.null"))


def test_credentials_set_without_a_keyring_backend_fails_and_stores_nothing(tmp_path: Path
                                                                            ) -> None:
    """No backend chosen by hand (as on a plain headless machine): the app must not fall back
    to a keyring of its own that says "stored" and forgets the password at exit."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_KEYRING_BACKEND"}
    env["HOME"] = str(tmp_path)
    if _real_backend_present(env):
        pytest.skip("this machine has a real keyring backend")
    run = subprocess.run(
        [sys.executable, "-m", "workbench.connect.credentials", "set", "tryton",
         "url=https://erp.example.com", *ERP],
        input="s3cret\n", capture_output=True, text=True, env=env, cwd=REPO, timeout=60)
    assert run.returncode == 1, (run.stdout, run.stderr)
    assert "stored" not in run.stdout
    assert run.stderr.startswith("error: no system keyring is available to keep the password")
    assert "keyrings.alt" in run.stderr and "password for" not in run.stderr  # never asked


# --- passwords in parameters and URLs ---------------------------------------------------------

@pytest.mark.parametrize("name", ["password", "pwd", "passwd", "db_passwd", "PassPhrase",
                                  "pass", "api-key", "auth_token", "client_secret", "PW"])
def test_a_password_under_any_secret_name_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match=f"parameter '{name}' looks like a secret"):
        SourceConfig(name="erp", connector="files", params={"folder": "/x", name: "hunter2"})


@pytest.mark.parametrize("url", ["https://planner:hunter2@erp.example.com",
                                 "https://planner@erp.example.com/", "http://:hunter2@127.0.0.1"])
def test_a_url_with_credentials_is_refused_without_showing_them(tmp_path: Path, url: str) -> None:
    run = cli("sources", "add", "erp", "tryton", f"url={url}", *ERP)
    assert run.returncode == 2
    assert "holds a user name or password" in run.stderr and "hunter2" not in run.stderr
    assert "***@" in run.stderr
    assert not settings_path().exists() or "hunter2" not in settings_path().read_text()
    with pytest.raises(PermanentError, match="holds a user name or password"):
        make_connector("tryton", url=url, database="prod", user="planner", password="x")


def test_plain_http_to_another_machine_needs_insecure() -> None:
    refused = cli("sources", "add", "erp", "tryton", "url=http://erp.example.com:8000", *ERP)
    assert refused.returncode == 2
    assert ("url=http://erp.example.com:8000 is plain http:// to erp.example.com: the password "
            "and the session would travel unencrypted; use https://") in refused.stderr
    assert load_settings().source("erp") is None
    allowed = cli("sources", "add", "erp", "tryton", "url=http://erp.example.com:8000", *ERP,
                  "--insecure")
    assert allowed.returncode == 0, allowed.stderr
    saved = load_settings().source("erp")
    assert saved is not None and saved.params["insecure"] is True
    for url in ("https://erp.example.com", "http://localhost:8000", "http://127.0.0.1:8000",
                "http://[::1]:8000"):
        assert cli("sources", "add", "erp", "tryton", f"url={url}", *ERP).returncode == 0, url
    with pytest.raises(ConnectorError, match=r"plain http:// to erp\.example\.com"):
        make_connector("tryton", url="http://erp.example.com", database="prod", password="x")
    make_connector("tryton", url="http://erp.example.com", database="prod", password="x",
                   insecure="true")


def test_urls_are_redacted_in_httpx_log_lines(caplog: pytest.LogCaptureFixture) -> None:
    import planner_connectors.tryton.rpc  # noqa: F401 - installs the filter, as every Tryton use does

    client = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    with caplog.at_level(logging.INFO, logger="httpx"):
        client.post("https://planner:hunter2@erp.example.com/prod/rpc/?session=abc123")
    client.close()
    lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert lines and all("hunter2" not in line and "abc123" not in line for line in lines)
    assert "https://***@erp.example.com/prod/rpc/?***" in lines[0]


# --- file modes ---------------------------------------------------------------------------------

@pytest.fixture
def wide_umask() -> Iterator[None]:
    before = os.umask(0o022)
    yield
    os.umask(before)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_cache_snapshot_ledger_and_settings_are_private(tmp_path: Path, wide_umask: None) -> None:
    cache = tmp_path / "new" / "deeper" / "cache.sqlite"
    engine = open_cache(cache)
    assert run_sync(engine, demo_connector(scale="small", cache=cache)).ok
    assert _mode(cache) == 0o600
    assert _mode(cache.parent) == _mode(cache.parent.parent) == 0o700
    wal = cache.with_name(cache.name + "-wal")
    assert wal.exists() and _mode(wal) == 0o600
    assert _mode(cache.with_name(cache.name + "-shm")) == 0o600
    read_planning_frames(engine, list(PLANNING_ENTITIES))
    assert snapshot.wait_for_writes(60)
    frames = snapshot.snapshot_path(engine)
    assert frames is not None and _mode(frames) == 0o600
    ledger = cache.with_name(cache.name + ".demo-ledger.jsonl")
    assert _mode(ledger) == 0o600
    engine.dispose()
    save_settings(Settings())
    assert _mode(settings_path()) == 0o600 and _mode(settings_path().parent) == 0o700


def test_the_log_file_is_private(tmp_path: Path, wide_umask: None) -> None:
    from workbench.ui.errors import setup_logging

    root = logging.getLogger()
    before = list(root.handlers)
    path = setup_logging(tmp_path / "logs" / "workbench.log")
    try:
        logging.getLogger("workbench.test").warning("a line")
        assert _mode(path) == 0o600 and _mode(path.parent) == 0o700
    finally:
        for handler in root.handlers[:]:
            if handler not in before:
                root.removeHandler(handler)
                handler.close()


# --- the audit log names the real user --------------------------------------------------------

@pytest.fixture
def decided(tmp_path: Path) -> tuple[Path, int]:
    """A cache with one approved decision queued for the demo plant: (cache, outbox entry)."""
    cache = tmp_path / "cache.sqlite"
    engine = open_cache(cache)
    assert run_sync(engine, demo_connector(scale="small", cache=cache)).ok
    rec = next(r for r in run_reevaluation(engine, open_session(engine))["recommendations"]
               if r["action"] != "keep")
    with engine.connect() as conn:
        rec_id = conn.exec_driver_sql(
            "SELECT id FROM recommendations WHERE requisition = ? AND status = 'open'",
            (rec["requisition"],)).scalar_one()
    out = record_decision(engine, rec["requisition"], "approve", decided_by="bea",
                          recommendation=int(rec_id))
    assert out.outbox is not None
    engine.dispose()
    return cache, out.outbox


def _fail(cache: Path, entry: int) -> None:
    engine = open_cache(cache)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE outbox SET state = 'failed' WHERE id = ?", (entry,))
    engine.dispose()


def _actors(cache: Path, entry: int, action: str) -> list[str]:
    engine = open_cache(cache)
    frame = audit_frame(engine, entry)
    engine.dispose()
    return frame.loc[frame["action"] == action, "actor"].tolist()


def test_cli_actions_are_audited_as_the_os_login(decided: tuple[Path, int]) -> None:
    cache, entry = decided
    _fail(cache, entry)
    run = cli("outbox", "--retry", str(entry), "--cache", cache)
    assert run.returncode == 0, run.stderr
    assert _actors(cache, entry, "retry") == [getpass.getuser()]  # before: "planner"


def test_cli_actions_are_audited_as_the_configured_user(decided: tuple[Path, int]) -> None:
    cache, entry = decided
    save_settings(Settings(user="Dana Buyer"))
    _fail(cache, entry)
    assert cli("outbox", "--retry", str(entry), "--cache", cache).returncode == 0
    assert _actors(cache, entry, "retry") == ["Dana Buyer"]


KILLED_MID_SEND = """
import os, signal, sys
from planner_connectors.demo import DemoConnector
from workbench.cache.db import open_cache
from workbench.services.writeback import send_pending
DemoConnector.push = lambda self, request: os.kill(os.getpid(), signal.SIGKILL)
send_pending(open_cache(sys.argv[1]), [])
"""


def test_a_send_killed_mid_way_leaves_its_audit_event(decided: tuple[Path, int]) -> None:
    cache, entry = decided
    killed = subprocess.run([sys.executable, "-c", KILLED_MID_SEND, str(cache)], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert killed.returncode == -9, killed.stderr
    engine = open_cache(cache)
    events = audit_frame(engine, entry)
    [attempt] = events.loc[events["action"].str.startswith("push ")].to_dict("records")
    assert (attempt["actor"], attempt["result"]) == ("bea", "sending")
    detail = json.loads(attempt["detail"])
    assert detail["attempt"] == 1 and detail["sent_by"] == getpass.getuser()
    assert outbox_frame(engine).set_index("id").loc[entry, "state"] == "sending"
    # the next start sends it again (same idempotency key) and marks the cut-short attempt
    assert send_pending(engine, []).sent == [entry]
    pushes = audit_frame(engine, entry)
    pushes = pushes.loc[pushes["action"].str.startswith("push ")]
    assert pushes["result"].tolist() == ["sent", "interrupted"]  # newest first
    assert [json.loads(d)["attempt"] for d in pushes["detail"]] == [2, 1]
    engine.dispose()
