"""The connector port is complete and the core keeps to it (issue 12 point 4).

- every built-in connector (found through the entry point, as the app finds it) satisfies the
  declared port: ``isinstance`` with the runtime protocol, a ``ConnectorBase`` subclass, and its
  capabilities agree with what it implements (PUSH <=> ``push`` of its own, MESSAGE_INBOX <=>
  ``inbox_files`` and ``decode`` of its own);
- no module in workbench/ reads a port member with ``getattr``/``hasattr`` (the members are
  declared, so they are read as attributes), and only the factory builds connectors;
- the write action is one enum: ``PushRequest`` refuses anything else, and what the outbox stores
  (plain strings) loads back as the enum.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy import Engine, text

from workbench.connect.factory import open_connector
from workbench.connect.port import (
    Capability,
    Connector,
    ConnectorBase,
    ConnectorError,
    PermanentError,
    PushRequest,
    UnknownActionError,
    available_connectors,
    get_connector_class,
    port_members,
)
from workbench.domain.enums import RecommendationAction, WriteAction

REPO = Path(__file__).resolve().parents[1]
WORKBENCH = REPO / "workbench"
BUILT_IN = ("demo", "edi", "files", "tryton")


def _instance(name: str, tmp_path: Path) -> Connector:
    params: dict[str, Any] = {
        "demo": {"scale": "small"},
        "edi": {"inbox": str(tmp_path)},
        "files": {"folder": str(tmp_path)},
        # a password given: nothing asked of the keyring, and nothing connects before a call
        "tryton": {"url": "http://127.0.0.1:8000", "database": "plant", "password": "x"},
    }[name]
    return open_connector(name, params, cache=tmp_path / "cache.sqlite")


def _own(cls: type[Any], member: str) -> bool:
    """Whether ``cls`` implements ``member`` itself (not the base's default)."""
    return getattr(cls, member) is not getattr(ConnectorBase, member)


# -- the port -----------------------------------------------------------------------------------


def test_every_built_in_connector_is_registered() -> None:
    assert set(BUILT_IN) <= set(available_connectors())


@pytest.mark.parametrize("name", BUILT_IN)
def test_each_built_in_connector_satisfies_the_declared_port(name: str, tmp_path: Path) -> None:
    cls = get_connector_class(name)
    assert issubclass(cls, ConnectorBase)
    connector = _instance(name, tmp_path)
    try:
        assert isinstance(connector, Connector)
        assert connector.name == name
        assert Capability.PULL in connector.capabilities
        # capabilities say what it offers, and it offers exactly that
        assert (Capability.PUSH in cls.capabilities) == _own(cls, "push")
        inbox = Capability.MESSAGE_INBOX in cls.capabilities
        assert inbox == _own(cls, "inbox_files") == _own(cls, "decode")
        assert not (Capability.VERSION_CHECK in cls.capabilities
                    and Capability.PUSH not in cls.capabilities)
        # the optional members are declared with values of their declared kind
        assert cls.options is None or issubclass(cls.options, BaseModel)
        if cls.cache_store is not None:
            param, suffix = cls.cache_store
            assert param in inspect.signature(cls.__init__).parameters and suffix
        assert connector.source is None or isinstance(connector.source, str)
    finally:
        connector.close()


def test_the_built_in_connectors_offer_what_they_say() -> None:
    caps = {n: get_connector_class(n).capabilities for n in BUILT_IN}
    assert [n for n in BUILT_IN if Capability.PUSH in caps[n]] == ["demo", "tryton"]
    assert [n for n in BUILT_IN if Capability.MESSAGE_INBOX in caps[n]] == ["edi"]
    assert [n for n in BUILT_IN if get_connector_class(n).cache_store] == ["demo"]
    assert [n for n in BUILT_IN if get_connector_class(n).mapping_tools] == ["files"]
    assert [n for n in BUILT_IN if _own(get_connector_class(n), "supplier_inbox")] == ["demo"]


@pytest.mark.parametrize("name", ["edi", "files"])
def test_a_connector_without_push_refuses_with_its_reason(name: str, tmp_path: Path) -> None:
    connector = _instance(name, tmp_path)
    reason = type(connector).read_only_reason
    assert "decisions cannot be written back" in reason
    with pytest.raises(PermanentError) as caught:
        connector.push(PushRequest("k", WriteAction.CANCEL, "requisitions:RQ-000001", None))
    assert str(caught.value) == reason


def test_the_defaults_say_none(tmp_path: Path) -> None:
    files = _instance("files", tmp_path)
    assert files.supplier_inbox(tmp_path) is None  # writes nothing
    assert list(tmp_path.iterdir()) == []
    assert files.today is None and files.source == "files"
    with pytest.raises(PermanentError, match="files is not a message inbox"):
        files.inbox_files()


def test_an_add_on_that_only_implements_the_required_members_satisfies_the_port() -> None:
    class Minimal(ConnectorBase):
        name = "minimal"
        capabilities = Capability.PULL

        def check(self) -> Any: ...

        def entities(self) -> list[str]:
            return []

        def pull(self, entity: str, since: str | None) -> Any:
            return iter(())

    class NotAConnector:
        name = "half"

        def pull(self, entity: str, since: str | None) -> Any: ...

    assert isinstance(Minimal(), Connector)
    assert not isinstance(NotAConnector(), Connector)
    assert Minimal.options is None and Minimal.cache_store is None and Minimal().today is None


# -- the core reads the port as declared -------------------------------------------------------


def _port_members() -> set[str]:
    return set(port_members()) | {n for n in vars(ConnectorBase) if not n.startswith("_")}


def test_the_port_declares_what_the_core_reads() -> None:
    assert port_members() == {
        "name", "capabilities", "options", "cache_store", "cache_reads", "mapping_tools", "source",
        "today",
        "check", "entities", "pull", "push", "inbox_files", "decode", "supplier_inbox", "close",
    }
    # ConnectorBase gives every one but the two a connector must set (its methods that are
    # required raise until implemented)
    assert port_members() - set(dir(ConnectorBase)) == {"name", "capabilities"}


def test_a_registered_class_that_misses_port_members_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Bare:  # an add-on written against an older port, without ConnectorBase
        name = "bare"
        capabilities = Capability.PULL

        def check(self) -> Any: ...
        def entities(self) -> list[str]: ...
        def pull(self, entity: str, since: str | None) -> Any: ...
        def push(self, request: PushRequest) -> Any: ...
        def close(self) -> None: ...

    class Entry:
        value = "addon.bare:Bare"

        def load(self) -> type[Any]:
            return Bare

    monkeypatch.setattr("workbench.connect.port.available_connectors", lambda: {"bare": Entry()})
    with pytest.raises(ConnectorError) as caught:
        get_connector_class("bare")
    assert str(caught.value) == (
        "connector 'bare' (addon.bare:Bare) does not implement the port: no cache_reads, cache_store, "
        "decode, inbox_files, mapping_tools, options, source, supplier_inbox, today "
        "(subclass workbench.connect.port.ConnectorBase)"
    )


def _offences(tree: ast.AST, members: set[str]) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            continue
        if node.func.id in ("getattr", "hasattr", "setattr") and len(node.args) >= 2:
            attr = node.args[1]
            if isinstance(attr, ast.Constant) and attr.value in members:
                found.append((node.lineno, f"{node.func.id}(..., {attr.value!r})"))
        if node.func.id == "make_connector":
            found.append((node.lineno, "make_connector(...)"))
    return found


def test_the_ast_check_catches_what_it_looks_for() -> None:
    code = (
        "today = getattr(connector, 'today', None)\n"
        "x = hasattr(cls, 'cache_store')\n"
        "c = make_connector('demo')\n"
        "fine = getattr(args, 'horizon', '26w')\n"
    )
    assert [line for line, _ in _offences(ast.parse(code), _port_members())] == [1, 2, 3]


def test_no_module_of_the_core_reads_a_port_member_with_getattr_or_builds_a_connector_itself(
) -> None:
    members = _port_members()
    offences = []
    for path in sorted(WORKBENCH.rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
        for line, what in _offences(tree, members):
            # make_connector is the factory's own lower step
            if rel == "workbench/connect/factory.py" and what == "make_connector(...)":
                continue
            offences.append(f"{rel}:{line}: {what}")
    assert offences == []


# -- the write action ---------------------------------------------------------------------------


def test_the_write_action_is_every_recommendation_plus_order_under_the_same_strings() -> None:
    assert {a.value for a in WriteAction} == {a.value for a in RecommendationAction} | {"order"}
    assert [a.value for a in WriteAction] == [
        "keep", "cancel", "reduce", "increase", "expedite", "defer", "switch_source", "order"
    ]


@pytest.mark.parametrize("action", ["approve", "Order", "", "place", "switch-source"])
def test_a_push_request_refuses_an_action_outside_the_enum(action: str) -> None:
    with pytest.raises(UnknownActionError, match=f"unknown write action {action!r}"):
        PushRequest("k", action, "requisitions:RQ-000001", None)  # type: ignore[arg-type]
    # a PermanentError (the outbox does not retry it) and a ValueError (bad input)
    assert issubclass(UnknownActionError, PermanentError)
    assert issubclass(UnknownActionError, ValueError)


def test_a_stored_payload_loads_back_as_the_enum() -> None:
    request = PushRequest("k1", "order", "requisitions:RQ-000007", "d00000",  # type: ignore[arg-type]
                          supplier="S0003")
    assert request.action is WriteAction.ORDER
    stored = json.dumps(dataclasses.asdict(request), sort_keys=True)
    # the same text as when action was a plain string
    assert '"action": "order"' in stored
    again = PushRequest(**json.loads(stored))
    assert again == request and again.action is WriteAction.ORDER


@pytest.fixture(scope="module")
def demo_cache(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    from workbench.cache.db import open_cache
    from workbench.services.sync import run_sync

    cache = tmp_path_factory.mktemp("port") / "cache.sqlite"
    engine = open_cache(cache)
    connector = open_connector("demo", {"scale": "small"}, cache=cache)
    try:
        assert run_sync(engine, connector).ok
    finally:
        connector.close()
    return engine


def test_the_outbox_stores_the_action_as_its_string_and_fails_an_unknown_one(
    demo_cache: Engine,
) -> None:
    from workbench.services.decisions import record_decision
    from workbench.services.writeback import send_pending

    engine = demo_cache
    with engine.connect() as conn:
        first, second = [r[0] for r in conn.execute(text(
            "SELECT code FROM requisitions WHERE status = 'open' AND deleted_at IS NULL "
            "ORDER BY code LIMIT 2"))]
    ordered = record_decision(engine, first, "modify", decided_by="buyer", action="order")
    cancelled = record_decision(engine, second, "modify", decided_by="buyer", action="cancel")
    with engine.begin() as conn:
        payload = json.loads(conn.execute(
            text("SELECT payload FROM outbox WHERE id = :i"), {"i": ordered.outbox}).scalar_one())
        assert payload["action"] == "order" and type(payload["action"]) is str
        # a payload stored with an action no connector knows (damage, or a future version's)
        conn.execute(text("UPDATE outbox SET payload = replace(payload, '\"cancel\"', "
                          "'\"approve\"') WHERE id = :i"), {"i": cancelled.outbox})
    result = send_pending(engine, [])  # the demo opens from the cache alone
    assert result.sent == [ordered.outbox]
    assert result.failed == [cancelled.outbox]
    with engine.connect() as conn:
        state, error = conn.execute(text("SELECT state, last_error FROM outbox WHERE id = :i"),
                                    {"i": cancelled.outbox}).one()
    assert state == "failed"
    assert error.startswith("unknown write action 'approve' (one of keep, cancel, reduce")
