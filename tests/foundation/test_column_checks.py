"""The column path's own checks (issue 16 §5): numbers given as numpy arrays are checked in numpy,
repeated values once per distinct value; each accepts exactly what the field's validator accepts,
and a batch with a wrong value is named exactly as the record-by-record (pydantic) path names it.
A demo sync through the column path leaves the same cache as one through record dicts."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
from planner_connectors.demo import DemoConnector

from workbench.cache.db import open_cache
from workbench.cache.schema import ENTITY_TABLES
from workbench.connect.port import Batch, ColumnBatch
from workbench.domain import validation
from workbench.domain.validation import validate_batch, validate_columns
from workbench.services.sync import run_sync

N = 12  # rows per test batch: enough that a column of three distinct values "repeats"


def _bom_lines(**changed: Any) -> dict[str, Any]:
    """A valid batch of BOM lines, numbers as numpy arrays, codes repeating; ``changed``
    replaces columns."""
    cols: dict[str, Any] = {
        "parent": ["FG-1", "FG-2", "FG-3"] * (N // 3),
        "revision": ["A"] * N,
        "position": np.arange(10, 10 * (N + 1), 10, dtype=np.int64),
        "component": ["PP-1", "PP-2"] * (N // 2),
        "quantity_per": np.linspace(0.5, 6.0, N),
        "scrap_pct": np.zeros(N),
        "uom": ["EA", None, "G"] * (N // 3),
    }
    cols.update(changed)
    return cols


def _requisitions(**changed: Any) -> dict[str, Any]:
    cols: dict[str, Any] = {
        "code": [f"R{i}" for i in range(N)],
        "item": ["PP-1", "PP-2", "PP-3"] * (N // 3),
        "site": ["P1"] * N,
        "quantity": np.full(N, 5.0),
        "need_date": ["2026-11-02", "2026-11-09", "2026-11-16"] * (N // 3),
        "status": ["open", "approved"] * (N // 2),
    }
    cols.update(changed)
    return cols


def _records(columns: dict[str, Any]) -> list[dict[str, Any]]:
    lists = {f: c.tolist() if isinstance(c, np.ndarray) else c for f, c in columns.items()}
    return [{f: v for f, v in zip(lists, values) if v is not None}
            for values in zip(*lists.values())]


@pytest.fixture
def record_path(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the batches that went record by record (the path that words the messages)."""
    calls: list[int] = []
    real = validation.validate_batch_indexed

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(validation, "validate_batch_indexed", counted)
    return calls


@pytest.fixture
def validated_lengths(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[int]]:
    """The length of every list a field's own checks were given (validation._each), per field."""
    seen: dict[str, list[int]] = {}
    real = validation._each

    def spying(entity: str, name: str, column: Any) -> Any:
        seen.setdefault(name, []).append(len(column))
        return real(entity, name, column)

    monkeypatch.setattr(validation, "_each", spying)
    return seen


def test_numpy_numbers_and_repeated_values_stay_on_the_column_path(
    record_path: list[int], validated_lengths: dict[str, list[int]]
) -> None:
    cols, positions, errors = validate_columns("bom_lines", _bom_lines(), dates_as_text=True)
    assert (positions, errors, record_path) == (None, [], [])
    # numbers as Python values, equal to the field validator's (an int column of a float
    # field becomes floats, as pydantic's float makes them)
    assert cols["position"] == list(range(10, 10 * (N + 1), 10))
    assert all(type(v) is int for v in cols["position"])
    assert cols["quantity_per"] == [0.5 + 0.5 * i for i in range(N)]
    assert all(type(v) is float for v in cols["quantity_per"])
    # numbers never went through a validator; repeated codes once per distinct value
    assert "position" not in validated_lengths and "quantity_per" not in validated_lengths
    assert validated_lengths["parent"] == [3] and validated_lengths["component"] == [2]
    assert validated_lengths["uom"] == [3]  # EA, G and None (-> the default, None)
    assert cols["uom"] == ["EA", None, "G"] * (N // 3)
    ints = validate_columns("bom_lines", _bom_lines(scrap_pct=np.zeros(N, dtype=np.int64)))[0]
    assert ints["scrap_pct"] == [0.0] * N and all(type(v) is float for v in ints["scrap_pct"])


def test_repeated_dates_and_words_validated_once_each(
    record_path: list[int], validated_lengths: dict[str, list[int]]
) -> None:
    cols, positions, errors = validate_columns(
        "requisitions", _requisitions(
            need_date=[dt.date(2026, 11, 2), "2026-11-09", dt.date(2026, 11, 16)] * (N // 3),
            created_date=["2026-10-01", None] * (N // 2), buyer=[" ann ", "bob"] * (N // 2)),
        dates_as_text=True)
    assert positions is None and errors == [] == record_path
    assert validated_lengths["need_date"] == [3] and validated_lengths["status"] == [2]
    assert validated_lengths["buyer"] == [2] and validated_lengths["created_date"] == [2]
    assert cols["need_date"][:3] == ["2026-11-02", "2026-11-09", "2026-11-16"]
    assert cols["created_date"][:2] == ["2026-10-01", None]  # an optional date not given
    assert cols["buyer"][:2] == ["ann", "bob"]  # stripped as the model strips
    assert cols["status"][:2] == ["open", "approved"]
    assert all(type(v) is str for v in cols["status"])


def _same_errors(entity: str, columns: dict[str, Any], field: str, row: int) -> None:
    """The column path names the bad value as validate_batch does for the same records: same
    entity, key, field, reason, file and row; the good rows are kept."""
    numbers = list(range(2, N + 2))
    _, positions, errors = validate_columns(entity, columns, file="x.csv",
                                               row_numbers=numbers, dates_as_text=True)
    _, expected = validate_batch(entity, _records(columns), file="x.csv", row_numbers=numbers)
    assert errors == expected
    assert [(e.field, e.row) for e in errors] == [(field, row + 2)]
    assert positions == [i for i in range(N) if i != row]


def _with(array: np.ndarray, at: int, value: Any) -> np.ndarray:
    out = array.copy()
    out[at] = value
    return out


def test_a_negative_quantity_in_numpy_is_named_as_pydantic_names_it() -> None:
    bad = _with(np.full(N, 5.0), 4, -1.0)
    _same_errors("requisitions", _requisitions(quantity=bad), "quantity", 4)
    zero = _with(np.linspace(0.5, 6.0, N), 7, 0.0)  # quantity_per must be > 0
    _same_errors("bom_lines", _bom_lines(quantity_per=zero), "quantity_per", 7)
    scrap = _with(np.zeros(N), 2, 100.0)  # scrap_pct < 100
    _same_errors("bom_lines", _bom_lines(scrap_pct=scrap), "scrap_pct", 2)
    position = _with(np.arange(N, dtype=np.int64), 3, -5)  # an index >= 0
    _same_errors("bom_lines", _bom_lines(position=position), "position", 3)


def test_not_a_finite_number_in_numpy_is_named_as_pydantic_names_it() -> None:
    for value in (np.nan, np.inf):
        bad = _with(np.full(N, 5.0), 9, value)
        _same_errors("requisitions", _requisitions(quantity=bad), "quantity", 9)


def test_a_wrong_type_is_named_as_pydantic_names_it() -> None:
    # a fraction for an integer field (numpy floats), text for a number, a number for text
    fraction = _with(np.arange(N, dtype=np.float64), 5, 2.5)
    _same_errors("bom_lines", _bom_lines(position=fraction), "position", 5)
    text: list[Any] = [5.0] * N
    text[6] = "five"
    _same_errors("requisitions", _requisitions(quantity=text), "quantity", 6)
    item: list[Any] = ["PP-1", "PP-2", "PP-3"] * (N // 3)
    item[1] = 42
    _same_errors("requisitions", _requisitions(item=item), "item", 1)


def test_a_missing_required_field_is_named_as_pydantic_names_it() -> None:
    item: list[Any] = ["PP-1", "PP-2", "PP-3"] * (N // 3)
    item[8] = None  # repeated values: the distinct path
    _same_errors("requisitions", _requisitions(item=item), "item", 8)
    code: list[Any] = [f"R{i}" for i in range(N)]
    code[3] = None  # distinct values: the field's validator over the column
    _same_errors("requisitions", _requisitions(code=code), "code", 3)


def test_a_bad_date_is_named_as_pydantic_names_it() -> None:
    dates = ["2026-11-02", "2026-11-09", "2026-11-16"] * (N // 3)
    dates[10] = "2026-02-30"
    _same_errors("requisitions", _requisitions(need_date=dates), "need_date", 10)
    dates[10] = "next week"
    _same_errors("requisitions", _requisitions(need_date=dates), "need_date", 10)


def test_an_unknown_enum_word_is_named_as_pydantic_names_it() -> None:
    status = ["open", "approved"] * (N // 2)
    status[11] = "lost"
    _same_errors("requisitions", _requisitions(status=status), "status", 11)
    assert "unknown value 'lost'" in validate_columns(
        "requisitions", _requisitions(status=status))[2][0].reason


def test_an_empty_code_among_repeated_ones_is_named_as_pydantic_names_it() -> None:
    parent = ["FG-1", "FG-2", "FG-3"] * (N // 3)
    parent[0] = "  "  # stripped to nothing: shorter than one character
    _same_errors("bom_lines", _bom_lines(parent=parent), "parent", 0)


class _AsRecords(DemoConnector):
    """The demo's batches handed over as record dicts: the record path (validate_rows)."""

    name: ClassVar[str] = "demo"

    def pull(self, entity: str, since: str | None) -> Iterator[Batch]:
        for batch in super().pull(entity, since):
            assert isinstance(batch, ColumnBatch)
            yield Batch(entity, batch.records, watermark=batch.watermark)


def _tables(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    con = sqlite3.connect(path)
    try:
        names = [*ENTITY_TABLES, "bom_revision_history"]
        return {t: con.execute(f"SELECT rowid, * FROM {t} ORDER BY rowid").fetchall()
                for t in names}
    finally:
        con.close()


def test_the_column_path_leaves_the_cache_the_record_path_leaves(tmp_path: Path) -> None:
    """The small demo synced at day 0 and then day 7 (first load, then upserts) through column
    batches and through record dicts: every entity table (and the BOM revision history) holds
    the same rows, in the same rowid order, table by table."""
    columns, records = tmp_path / "columns.sqlite", tmp_path / "records.sqlite"
    for day in (0, 7):
        pair: list[tuple[Path, Any]] = [(columns, DemoConnector("small", day=day)),
                                        (records, _AsRecords("small", day=day))]
        for path, connector in pair:
            result = run_sync(open_cache(path), connector, now=dt.datetime(2026, 11, 2 + day))
            assert result.ok, result.error
        by_columns, by_records = _tables(columns), _tables(records)
        for table in by_columns:
            assert by_columns[table] == by_records[table], f"{table} differs after day {day}"
        assert sum(map(len, by_columns.values())) > 5_000


def test_text_lengths_are_named_as_pydantic_names_them() -> None:
    """Codes checked by their lengths in C (min 1, max 120 characters), not by the validator."""
    code: list[Any] = [f"R{i}" for i in range(N)]
    code[5] = "R" * 121
    _same_errors("requisitions", _requisitions(code=code), "code", 5)
    code[5] = " \t"
    _same_errors("requisitions", _requisitions(code=code), "code", 5)
    code[5] = " " + "R" * 120 + " "  # 120 once stripped: valid
    cols, positions, errors = validate_columns("requisitions", _requisitions(code=code))
    assert positions is None and errors == [] and cols["code"][5] == "R" * 120
