"""How mapped reading is kept fast (issue 15 §5) without changing what it reads: the cyclic
garbage collector is paused while rows become records, and is on again afterwards."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pytest
from planner_connectors.files import indented, mapped
from planner_connectors.files.source import MappedSource

RESOURCES = Path(__file__).resolve().parents[2] / "resources" / "mappings"


def _records(folder: Path, profile: Path) -> dict[str, int]:
    source = MappedSource(folder, profile, "files")
    return {e: sum(len(c.records) for c in source.chunks(e, 1 << 30)) for e in source.entities()}


def test_rows_become_records_with_the_collector_paused(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []
    read, convert = indented._State.read, mapped._convert_block

    def read_spy(self: Any, *args: Any) -> None:
        seen.append(gc.isenabled())
        read(self, *args)

    def convert_spy(*args: Any) -> Any:
        seen.append(gc.isenabled())
        return convert(*args)

    monkeypatch.setattr(indented._State, "read", read_spy)
    monkeypatch.setattr(mapped, "_convert_block", convert_spy)
    assert gc.isenabled()
    # the sample indented XLSX BOM and the sample table-layout CSV (with cross-references)
    bom = _records(RESOURCES / "plant", RESOURCES / "plm-bom.toml")
    stock = _records(RESOURCES / "plant", RESOURCES / "wms-stock.toml")
    assert bom["bom_lines"] > 0 and sum(stock.values()) > 0
    assert seen and not any(seen)
    assert gc.isenabled()


def test_the_collector_stays_off_when_it_was_off() -> None:
    gc.disable()
    try:
        _records(RESOURCES / "plant", RESOURCES / "plm-bom.toml")
        assert not gc.isenabled()
    finally:
        gc.enable()
