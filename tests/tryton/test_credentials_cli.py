"""Passwords through the keyring only; the decisions and outbox commands against a live Tryton."""

from __future__ import annotations

import json
from pathlib import Path

import keyring
import keyring.backends.fail
import pytest
from planner_connectors.tryton.rpc import TrytonRPC

from tests.support.tryton.devserver import ADMIN_PASSWORD, DATABASE, TrytonServer
from workbench.cache.db import open_cache
from workbench.cli import main
from workbench.connect import credentials
from workbench.connect.factory import make_connector
from workbench.services.settings import (
    Settings,
    SourceConfig,
    load_settings,
    save_settings,
    settings_path,
)
from workbench.services.sync import run_sync

PARAMS = {"url": "http://erp.example.com:8000", "database": "prod", "user": "planner"}


def test_password_round_trip_and_injection(memory_keyring: object) -> None:
    account = credentials.account_for("tryton", PARAMS)
    assert account == "tryton:planner@http://erp.example.com:8000/prod"
    with pytest.raises(
        credentials.CredentialError, match="no password stored for tryton:planner@"
    ) as err:
        credentials.connector_params("tryton", PARAMS)
    assert "python -m workbench.connect.credentials set tryton" in str(err.value)
    credentials.set_password(account, "s3cret")
    assert credentials.connector_params("tryton", PARAMS) == {**PARAMS, "password": "s3cret"}
    assert credentials.connector_params("files", {"folder": "/data"}) == {"folder": "/data"}
    assert credentials.delete_password(account) and not credentials.delete_password(account)


def test_no_keyring_backend_is_explained() -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())
    with pytest.raises(credentials.CredentialError, match="no system keyring is available") as err:
        credentials.get_password("tryton:planner@x")
    assert "keyrings.alt" in str(err.value) and "never stores passwords" in str(err.value)


def test_password_never_lands_in_settings() -> None:
    with pytest.raises(ValueError, match="looks like a secret"):
        SourceConfig(name="erp", connector="tryton", params={**PARAMS, "password": "x"})


@pytest.mark.tryton
def test_decide_and_send_from_the_command_line(
    tryton_fresh: TrytonServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    memory_keyring: object,
) -> None:
    secret = "Pw-9f3k2-unique"
    rpc = TrytonRPC(tryton_fresh.url, DATABASE, "admin", ADMIN_PASSWORD)
    rpc.write(
        "res.user", [rpc.search("res.user", [("login", "=", "admin")])[0]], {"password": secret}
    )
    rpc.close()
    rpc = TrytonRPC(tryton_fresh.url, DATABASE, "admin", secret)
    params = {"url": tryton_fresh.url, "database": DATABASE, "user": "admin"}
    save_settings(Settings(sources=[SourceConfig(name="erp", connector="tryton", params=params)]))
    credentials.set_password(credentials.account_for("tryton", params), secret)
    cache = str(tmp_path / "cli.sqlite")

    def run(*argv: str) -> dict:  # type: ignore[type-arg]
        capsys.readouterr()
        assert main([*argv, "--cache", cache, "--json"]) == 0
        return json.loads(capsys.readouterr().out)

    # load the cache the way the app builds a configured source: password from the keyring
    engine = open_cache(cache)
    connector = make_connector("tryton", **credentials.connector_params("tryton", params))
    assert run_sync(engine, connector).ok
    connector.close()
    engine.dispose()
    (mrp,) = rpc.search("purchase.request", [("origin", "=", "stock.order_point,-1")])
    recorded = run(
        "decisions",
        "record",
        f"REQ-{mrp}",
        "--verdict",
        "modify",
        "--action",
        "reduce",
        "--quantity",
        "1",
        "--by",
        "bea",
    )
    assert recorded["outbox"] and not recorded["duplicate"]
    listed = run("outbox")
    assert [e["state"] for e in listed["entries"]] == ["queued"]
    sent = run("outbox", "--send")
    assert sent["send"]["sent"] == [recorded["outbox"]] and sent["send"]["messages"] == []
    assert rpc.read("purchase.request", [mrp], ["quantity"])[0]["quantity"] == 1
    audit = run("outbox", "--audit")["audit"]
    assert [a["result"] for a in audit] == ["sent", "queued"] and audit[0]["actor"] == "bea"
    decisions = run("decisions")
    assert decisions[0]["outbox_state"] == "sent"
    rpc.close()
    # the password is nowhere in the settings file or the cache
    for path in (settings_path(), Path(cache)):
        assert secret.encode() not in path.read_bytes()
    assert load_settings().source("erp").params == params
