"""The demo plant's records pulled into plain dicts, for the demo tests (fixtures ``day0`` and
``day7`` in tests/conftest.py)."""

from __future__ import annotations

from typing import Any

from planner_connectors.demo import DemoConnector

Rows = dict[str, list[dict[str, Any]]]


def pull_all(c: DemoConnector, since: str | None = None) -> Rows:
    return {e: [r for b in c.pull(e, since) for r in b.records] for e in c.entities()}


def by_key(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["source_key"]: r for r in rows}
