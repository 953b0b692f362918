"""The message inbox as a part of the connector port (workbench/connect/inbox.py): any connector
with ``Capability.MESSAGE_INBOX`` is taken file by file, its ``MessageError`` fields recorded,
and only a message inbox replays messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest
from sqlalchemy import Engine

from tests.fixtures_connector import MemoryConnector
from workbench.connect.inbox import MessageError, MessageFacts
from workbench.connect.port import Capability, ConnectorBase
from workbench.services.edi import is_message_inbox, list_messages, replay, sync_inbox


class Refusing(ConnectorBase):
    """An add-on inbox whose files are all refused: one with the port's error, one otherwise."""

    name: ClassVar[str] = "refusing"
    capabilities: ClassVar[Capability] = Capability.PULL | Capability.MESSAGE_INBOX

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def check(self) -> Any: ...

    def entities(self) -> list[str]:
        return []

    def pull(self, entity: str, since: str | None) -> Any:
        return iter(())

    def inbox_files(self) -> list[Path]:
        return sorted(self.folder.iterdir())

    def decode(self, data: bytes, facts: MessageFacts) -> Any:
        if data.startswith(b"port"):
            raise MessageError("quantity is not a number", message="M7", segment=9,
                               element="QTY 6060", expected="a decimal")
        raise RuntimeError("the reader broke")


def test_an_add_on_inbox_is_taken_with_the_fields_of_its_message_error(
    cache: Engine, tmp_path: Path,
) -> None:
    folder = tmp_path / "addon"
    folder.mkdir()
    (folder / "a.msg").write_bytes(b"port error")
    (folder / "b.msg").write_bytes(b"anything else")
    inbox = Refusing(folder)
    assert is_message_inbox(inbox)
    result = sync_inbox(cache, inbox)
    assert not result.ok
    rows = {r["file"]: r for r in list_messages(cache)}
    assert {f: rows[f]["outcome"] for f in rows} == {"a.msg": "rejected", "b.msg": "rejected"}
    a, b = rows["a.msg"], rows["b.msg"]
    assert (a["source"], a["reason"], a["message_ref"], a["segment"], a["element"],
            a["expected"]) == ("refusing", "quantity is not a number", "M7", 9, "QTY 6060",
                               "a decimal")
    assert (b["reason"], b["message_ref"], b["segment"], b["element"], b["expected"]) == (
        "not applied, nothing changed (RuntimeError: the reader broke)", None, None, None, None)
    assert list(folder.iterdir()) == []  # both archived, the inbox emptied


def test_only_a_message_inbox_replays_messages(cache: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "addon"
    folder.mkdir()
    (folder / "a.msg").write_bytes(b"port error")
    sync_inbox(cache, Refusing(folder), "plant-edi")
    (row,) = list_messages(cache, rejected_only=True)
    records = MemoryConnector({})
    assert not is_message_inbox(records)
    with pytest.raises(ValueError, match=(
            f"source 'plant-edi' of message {row['id']} is a memory connector, not a message "
            "inbox: its messages cannot be replayed")):
        replay(cache, [row["id"]], lambda source: records)
    (still,) = list_messages(cache)
    assert (still["outcome"], still["replays"]) == ("rejected", 0)
