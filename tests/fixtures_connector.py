"""A small in-memory connector for sync tests: holds canonical dicts per entity."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from workbench.connect.port import (
    Batch,
    Capability,
    CheckResult,
    ConnectorBase,
    PermanentError,
    PushRequest,
    PushResult,
)


class MemoryConnector(ConnectorBase):
    """Yields what it holds; ``fail_on`` raises mid-run to test atomicity."""

    name: ClassVar[str] = "memory"
    capabilities: ClassVar[Capability] = Capability.PULL | Capability.INCREMENTAL

    def __init__(self, data: dict[str, list[dict[str, Any]]], batch_size: int = 2) -> None:
        self.data = data
        self.batch_size = batch_size
        self.fail_on: str | None = None

    def check(self) -> CheckResult:
        return CheckResult(True, "in memory")

    def entities(self) -> list[str]:
        return list(self.data)

    def pull(self, entity: str, since: str | None) -> Iterator[Batch]:
        rows = [r for r in self.data[entity] if since is None or r.get("source_version", "") > since]
        for i in range(0, len(rows), self.batch_size):
            chunk = rows[i : i + self.batch_size]
            mark = max((r.get("source_version") or "" for r in chunk), default=None) or None
            yield Batch(entity, chunk, watermark=mark)
        if self.fail_on == entity:  # after this entity's rows went into the transaction
            raise RuntimeError(f"connection lost while reading {entity}")

    def push(self, request: PushRequest) -> PushResult:
        raise PermanentError("the memory connector cannot write back")

    def close(self) -> None:
        pass
