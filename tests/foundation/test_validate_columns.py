"""Column-wise validation (issue 16 §5): each field's column validated once, the same values and
the same messages as record-by-record validation; a column batch syncs atomically."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from workbench.cache.db import open_cache
from workbench.connect.port import Batch, Capability, CheckResult, ColumnBatch, ConnectorBase
from workbench.domain.models import Item
from workbench.domain.validation import validate_batch, validate_columns
from workbench.services.sync import run_sync


def test_valid_columns_come_back_typed_stripped_and_defaulted() -> None:
    cols, positions, errors = validate_columns("items", {
        "code": [" A ", "B"],
        "lead_time_days": ["7", 3],
        "make_buy": ["make", None],  # None: not given -> the default
        "safety_stock": ["2.5", 0],
    })
    assert (positions, errors) == (None, [])
    assert cols == {"code": ["A", "B"], "lead_time_days": [7, 3], "make_buy": ["make", "buy"],
                    "safety_stock": [2.5, 0.0]}
    assert type(cols["make_buy"][0]) is str  # plain text, no enum member


def test_text_is_stripped_exactly_as_the_model_strips_it() -> None:
    # pydantic strips Unicode White_Space; str.strip() would also take U+001C-U+001F
    values = [" A ", "\x1fB\x1f", "\xa0C\u3000", "\u200bD"]
    cols, _, errors = validate_columns("items", {"code": values})
    assert errors == []
    assert cols["code"] == [Item(code=v).code for v in values] == ["A", "\x1fB\x1f", "C", "\u200bD"]


def test_text_needing_no_strip_but_an_information_separator_keeps_it() -> None:
    """The column path tries ``str.strip()`` first and keeps its result only where it stripped
    nothing; a separator U+001C-U+001F at an end (which ``str.strip()`` alone would take) and
    only that, in an otherwise clean column of unique codes, stays as the model keeps it."""
    clean = [f"C{i:05d}" for i in range(300)]  # unique: the per-value path, not the distinct one
    for odd in ("\x1cA", "B\x1d", "\x1e", " D\x1f "):
        values = [*clean, odd]
        cols, _, errors = validate_columns("items", {"code": values})
        assert errors == []
        assert cols["code"] == [*clean, Item(code=odd).code]
    assert Item(code=" D\x1f ").code == "D\x1f"  # the model's own answer, by hand
    cols, _, _ = validate_columns("items", {"code": clean})
    assert cols["code"] == clean


def test_valid_columns_never_take_the_record_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """An optional text's None and padded text are the column path's own work: the record by
    record validation (for messages) is not needed."""
    from workbench.domain import validation

    def record_path(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("valid columns went record by record")

    monkeypatch.setattr(validation, "validate_batch_indexed", record_path)
    cols, positions, errors = validate_columns("bom_lines", {
        "parent": ["P", "P"], "revision": ["A", "A"], "position": [10, 20],
        "component": ["C", "D"], "quantity_per": [1, "2.5"], "uom": [None, " BOX "]})
    assert (positions, errors) == (None, [])
    assert cols["uom"] == [None, "BOX"] and cols["quantity_per"] == [1.0, 2.5]


def test_dates_as_text_once_per_value() -> None:
    cols, _, _ = validate_columns("bom_revisions", {
        "parent": ["P", "P", "Q"], "revision": ["A", "B", "A"],
        "effective_from": ["2026-01-05", dt.date(2026, 1, 5), None],
    }, dates_as_text=True)
    assert cols["effective_from"] == ["2026-01-05", "2026-01-05", None]


def test_a_bad_value_is_named_as_the_record_path_names_it() -> None:
    columns: dict[str, list[Any]] = {"code": ["A", "B", "C"], "lead_time_days": [1, -1, 2],
               "make_buy": ["buy", "buy", "steal"]}
    cols, positions, errors = validate_columns("items", columns, file="items.csv",
                                               row_numbers=[2, 3, 4])
    assert cols == {"code": ["A"], "lead_time_days": [1], "make_buy": ["buy"]}
    assert positions == [0]
    records = [{"code": "A", "lead_time_days": 1, "make_buy": "buy"},
               {"code": "B", "lead_time_days": -1, "make_buy": "buy"},
               {"code": "C", "lead_time_days": 2, "make_buy": "steal"}]
    _, expected = validate_batch("items", records, file="items.csv", row_numbers=[2, 3, 4])
    assert errors == expected
    assert [(e.row, e.key, e.field) for e in errors] == [(3, "B", "lead_time_days"),
                                                        (4, "C", "make_buy")]
    assert str(errors[0]).startswith("items.csv, row 3: items 'B', field lead_time_days:")


def test_cross_field_checks_run_on_the_columns() -> None:
    cols, positions, errors = validate_columns("bom_lines", {
        "parent": ["BIKE", "BIKE"], "revision": ["A", "A"], "position": [10, 20],
        "component": ["WHEEL", "BIKE"], "quantity_per": [2, 1],
    }, file="bom.csv", row_numbers=[2, 3])
    assert positions == [0] and cols["component"] == ["WHEEL"]
    [err] = errors
    assert (err.row, err.key) == (3, "BIKE/A/20")
    assert "component BIKE is the BOM's own parent item" in err.reason


def test_a_required_field_left_empty_is_named() -> None:
    _, positions, errors = validate_columns("uoms", {"code": ["EA", None]},
                                            row_numbers=[2, 3], file="uoms.csv")
    assert positions == [0]
    assert [(e.row, e.field, e.reason) for e in errors] == [(3, "code", "Field required")]


def test_an_unknown_field_is_refused() -> None:
    _, positions, errors = validate_columns("uoms", {"code": ["EA"], "colour": ["red"]})
    assert positions == [] and [e.field for e in errors] == ["colour"]


def test_columns_of_different_lengths_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match="different lengths"):
        validate_columns("uoms", {"code": ["EA"], "name": []})


def test_column_batch_makes_its_records_on_demand() -> None:
    batch = ColumnBatch("uoms", {"code": ["EA", "KG"], "name": ["each", None]})
    assert batch.size == 2 and batch.columns == {"code": ["EA", "KG"], "name": ["each", None]}
    assert batch.records == [{"code": "EA", "name": "each"}, {"code": "KG", "name": None}]
    assert Batch("uoms", [{"code": "EA"}]).columns is None


class _Columns(ConnectorBase):
    """Yields its entities as column batches of two records."""

    name: ClassVar[str] = "columns"
    capabilities: ClassVar[Capability] = Capability.PULL

    def __init__(self, data: dict[str, dict[str, list[Any]]]) -> None:
        self.data = data

    def check(self) -> CheckResult:
        return CheckResult(True, "columns")

    def entities(self) -> list[str]:
        return list(self.data)

    def pull(self, entity: str, since: str | None) -> Iterator[Batch]:
        cols = self.data[entity]
        n = len(next(iter(cols.values())))
        for start in range(0, n, 2):
            yield ColumnBatch(entity, {f: v[start:start + 2] for f, v in cols.items()},
                              row_numbers=list(range(start + 2, min(n, start + 2) + 2)),
                              file=f"{entity}.cols")


DATA: dict[str, dict[str, list[Any]]] = {
    "uoms": {"code": ["EA", "BOX"]},
    "items": {"code": ["BOLT", "NUT", "BIKE"], "stock_uom": ["EA", "EA", None],
              "make_buy": ["buy", None, "make"], "lead_time_days": [5, 3, 10]},
    "uom_conversions": {"item": ["BOLT"], "from_uom": ["BOX"], "to_uom": ["EA"], "factor": [50]},
    "bom_revisions": {"parent": ["BIKE"], "revision": ["A"],
                      "effective_from": [dt.date(2026, 1, 1)]},
    "bom_lines": {"parent": ["BIKE", "BIKE"], "revision": ["A", "A"], "position": [10, 20],
                  "component": ["BOLT", "NUT"], "quantity_per": [2, 4], "uom": ["BOX", None]},
}


def test_a_column_batch_syncs_with_units_converted_and_dates_as_text(tmp_path: Path) -> None:
    engine = open_cache(tmp_path / "c.sqlite")
    result = run_sync(engine, _Columns(DATA))
    assert result.ok, result.error
    assert result.counts["bom_lines"] == {"received": 2, "changed": 2, "deleted": 0}
    con = sqlite3.connect(tmp_path / "c.sqlite")
    # 2 BOX of BOLT per BIKE = 100 EA (1 BOX = 50 EA); NUT in its stock unit
    assert con.execute("SELECT component, quantity_per, orig_quantity_per, orig_uom "
                       "FROM bom_lines ORDER BY position").fetchall() == [
        ("BOLT", 100.0, 2.0, "BOX"), ("NUT", 4.0, 4.0, "EA")]
    assert con.execute("SELECT code, stock_uom, make_buy FROM items ORDER BY code").fetchall() == [
        ("BIKE", "EA", "make"), ("BOLT", "EA", "buy"), ("NUT", "EA", "buy")]
    assert con.execute("SELECT effective_from FROM bom_revisions").fetchall() == [("2026-01-01",)]


def test_a_bad_row_of_a_column_batch_rejects_the_run_and_stores_nothing(tmp_path: Path) -> None:
    engine = open_cache(tmp_path / "c.sqlite")
    bad = {**DATA, "bom_lines": {**DATA["bom_lines"], "quantity_per": [2, -4]}}
    result = run_sync(engine, _Columns(bad))
    assert not result.ok
    [err] = result.rejected
    assert (err.file, err.row, err.key, err.field) == ("bom_lines.cols", 3, "BIKE/A/20",
                                                       "quantity_per")
    assert "greater than 0" in err.reason
    con = sqlite3.connect(tmp_path / "c.sqlite")
    assert con.execute("SELECT count(*) FROM items").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM bom_lines").fetchone() == (0,)


def test_a_first_load_with_a_key_sent_twice_keeps_the_later_values(tmp_path: Path) -> None:
    """A first load goes in by plain INSERT (EntityWriter._execute); a key sent again in the run
    (a later batch, or twice in one batch) is written by the upsert as before: last one wins."""
    engine = open_cache(tmp_path / "c.sqlite")
    data: dict[str, dict[str, list[Any]]] = {
        # batches of two: (EA, BOX), (EA again: conflicts with batch 1), (KG, KG: twice in one)
        "uoms": {"code": ["EA", "BOX", "EA", "G", "KG", "KG"],
                 "name": ["each", "box", "piece", "gram", "kilo", "kilogram"]},
    }
    result = run_sync(engine, _Columns(data))
    assert result.ok, result.error
    assert result.counts["uoms"] == {"received": 6, "changed": 6, "deleted": 0}
    con = sqlite3.connect(tmp_path / "c.sqlite")
    assert con.execute("SELECT code, name FROM uoms ORDER BY code").fetchall() == [
        ("BOX", "box"), ("EA", "piece"), ("G", "gram"), ("KG", "kilogram")]
    again = run_sync(engine, _Columns(data))  # not a first load: the upsert throughout
    # BOX and G unchanged; EA piece -> each -> piece and KG kilogram -> kilo -> kilogram: 4 writes
    assert again.ok and again.counts["uoms"]["changed"] == 4
