"""The sync's bulk writer builds the rows of a batch whose records carry every field straight
from the records (workbench.cache.upsert.EntityWriter._rows_of); they must be exactly the rows
of the column-wise path, converted quantities, bad references and bad units included."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.edi.conftest import plant
from tests.fixtures_connector import MemoryConnector
from workbench.cache.upsert import EntityWriter, Lookups
from workbench.domain.models import ENTITY_MODELS
from workbench.domain.validation import validate_rows
from workbench.services.sync import run_sync


def _every_field(entity: str, record: dict[str, Any]) -> dict[str, Any]:
    model = ENTITY_MODELS[entity]
    return {f: record.get(f, None if info.is_required() else info.default)
            for f, info in model.model_fields.items()}


def _both(writer: EntityWriter, records: list[dict[str, Any]], lookups: Lookups,
          monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    fast = writer.rows(records, lookups, "lines.csv", list(range(2, len(records) + 2)))
    with monkeypatch.context() as m:
        m.setattr(EntityWriter, "_carries_every_field", lambda self, records: False)
        slow = writer.rows(records, lookups, "lines.csv", list(range(2, len(records) + 2)))
    return fast, slow


def test_rows_straight_from_records_equal_the_column_path(
        any_cache: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = any_cache  # the lookups read the cache: SQLite and PostgreSQL
    data = plant()
    for row in (r for rows in data.values() for r in rows):
        row.setdefault("source", "erp")
    assert run_sync(engine, MemoryConnector(data)).ok
    rng = random.Random(7)
    raw = []
    for n in range(400):
        item, unit = rng.choice([("BOLT", "EA"), ("BOLT", "BOX"), ("BOLT", None), ("RESIN", "G"),
                                 ("RESIN", "BOX"), ("NOPE", "EA")])
        raw.append(_every_field("purchase_order_lines", {
            "purchase_order": rng.choice(["PO-1", "PO-2"]), "line": n + 1, "item": item,
            "supplier": rng.choice(["SUP-A", "SUP-B", "SUP-X"]), "site": "S1",
            "quantity_ordered": rng.randint(1, 90), "quantity_received": rng.randint(0, 3),
            "uom": unit, "requested_date": dt.date(2026, 12, 1 + n % 28), "source": "erp"}))
    records, positions, errors = validate_rows("purchase_order_lines", raw)
    assert positions is None and not errors
    writer = EntityWriter("purchase_order_lines", 7)
    with engine.begin() as conn:
        lookups = Lookups(conn)
        (rows, cols, errs), (rows2, cols2, errs2) = _both(writer, records, lookups, monkeypatch)
    assert rows == rows2 and errs == errs2
    assert {c: cols[c] for c in cols2 if c in cols} == {c: cols2[c] for c in cols}
    assert {"purchase_order", "line", "source"} <= set(cols)
    assert len(rows) + len(errs) == 400 and len(errs) > 50 and len(rows) > 150
    # one row by hand: 10 BOX of BOLT = 120 EA, the source's 10 BOX kept beside
    at = writer._row_columns.index
    boxes = [r for r in rows if r[at("item")] == "BOLT" and r[at("orig_uom")] == "BOX"]
    assert boxes and all(r[at("quantity_ordered")] == 12 * r[at("orig_quantity_ordered")]
                         for r in boxes)
    assert all(r[at("sync_run")] == 7 for r in rows)
    reasons = {e.reason for e in errs}
    assert "unknown item 'NOPE'" in reasons and "unknown supplier 'SUP-X'" in reasons
    assert "no conversion from BOX to KG for item RESIN" in reasons
    assert not {r for r in reasons if not r.startswith(("unknown item", "unknown supplier",
                                                         "no conversion"))}
    assert all(e.file == "lines.csv" and e.row is not None for e in errs)
