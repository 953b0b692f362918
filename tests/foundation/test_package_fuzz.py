"""Randomly damaged data packages (issue 11, section 6): every package either loads exactly or
is rejected with file, row and field and the cache left as it was.

A cache is loaded from a small good package; each mutant (seeded, so a failure replays) is the
package with one to three damages of the kinds users and attackers make: cells removed or
added, rows duplicated or removed, header columns renamed or repeated, non-finite, huge and
formula values, non-UTF-8 bytes, truncation, an empty file, an over-long cell, random bytes.
The mutant is synced into a copy of that cache, and

- failed: the cache content (entities and watermarks) is byte-for-byte what it was, the error
  is the run's own (rejected rows, or the files connector naming the file), never a bare Python
  error, and every rejected row names its file, row (>= 2) and field;
- succeeded: each file's live rows in the cache are exactly the records an independent reading
  of the file (csv module, strict UTF-8, the canonical model) finds, with the same values, and
  every number in the cache is finite.
"""

from __future__ import annotations

import csv
import io
import math
import random
import re
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from planner_connectors.files import FilesConnector
from planner_connectors.files.reading import FIELD_LIMIT
from pydantic import ValidationError

from tests.foundation.cachedump import ENTITY_NAMES, dump
from tests.foundation.test_package_safety import BASE
from workbench.cache.db import open_cache
from workbench.domain.cells import restore
from workbench.domain.enums import SyncRunStatus
from workbench.domain.models import ENTITY_MODELS
from workbench.services.sync import run_sync

MUTANTS = 160
VALUES = ["inf", "-inf", "nan", "NaN", "1e400", "-1", "2e15", "99999999999999999999999",
          "9" * 5000, "", "=1+1", "'=x", "'-3", '"', "a,b", "é", " B-2 ", "01", "1.5", "0"]


def _mutate(files: dict[str, bytes], rng: random.Random) -> dict[str, bytes]:
    """One damage (or good edit) to one file, drawn from ``rng``: the kind first, then its details."""
    files = dict(files)
    name = rng.choice(sorted(files))
    data = files[name]
    lines = data.decode("utf-8", "surrogateescape").split("\n") if data else [""]
    body = [i for i, line in enumerate(lines) if i > 0 and line]
    kind = rng.randrange(16)
    if kind in _BYTE_EDITS:
        files[name] = _BYTE_EDITS[kind]("\n".join(lines).encode("utf-8", "surrogateescape"), rng)
        return files
    if kind in _LINE_EDITS and (body or kind not in _NEED_A_BODY_ROW):
        lines = _LINE_EDITS[kind](lines, body, rng, name)
    files[name] = "\n".join(lines).encode("utf-8", "surrogateescape")
    return files


Lines = list[str]


def _cell_too_few(lines: Lines, body: list[int], rng: random.Random, name: str) -> Lines:
    i = rng.choice(body)
    cells = lines[i].split(",")
    del cells[rng.randrange(len(cells))]
    lines[i] = ",".join(cells)
    return lines


def _cell_too_many(lines: Lines, body: list[int], rng: random.Random, name: str) -> Lines:
    i = rng.choice(body)
    lines[i] += "," + rng.choice(VALUES)
    return lines


def _row_twice(lines: Lines, body: list[int], rng: random.Random, name: str) -> Lines:
    """A duplicate key, perhaps with other values."""
    i = rng.choice(body)
    lines.insert(rng.randrange(1, len(lines)), lines[i])
    return lines


def _row_removed(lines: Lines, body: list[int], rng: random.Random, name: str) -> Lines:
    del lines[rng.choice(body)]
    return lines


def _header_renamed(lines: Lines, body: list[int], rng: random.Random, name: str) -> Lines:
    """A header column renamed to another column (maybe repeated) or to an unknown one."""
    cells = lines[0].split(",")
    fields = [*ENTITY_MODELS[name[:-4]].model_fields, "colour"]
    cells[rng.randrange(len(cells))] = rng.choice(fields)
    lines[0] = ",".join(cells)
    return lines


def _hostile_value(lines: Lines, body: list[int], rng: random.Random, name: str) -> Lines:
    i = rng.choice(body)
    cells = lines[i].split(",")
    value = rng.choice(VALUES)
    cells[rng.randrange(len(cells))] = f'"{value}"' if "," in value else value
    lines[i] = ",".join(cells)
    return lines


def _over_long_cell(lines: Lines, body: list[int], rng: random.Random, name: str) -> Lines:
    """An over-long (or unclosed) quoted cell."""
    i = rng.choice(body)
    cells = lines[i].split(",")
    cells[rng.randrange(len(cells))] = '"' + "x" * (FIELD_LIMIT + rng.choice([-5, 5]))
    lines[i] = ",".join(cells) + rng.choice(['"', ""])
    return lines


def _columns_swapped(lines: Lines, body: list[int], rng: random.Random, name: str) -> Lines:
    """A good edit: two columns swapped in the header and every full row."""
    width = len(lines[0].split(","))
    if width <= 1:
        return lines
    a, b = rng.sample(range(width), 2)
    for i, line in enumerate(lines):
        cells = line.split(",")
        if len(cells) == width:
            cells[a], cells[b] = cells[b], cells[a]
            lines[i] = ",".join(cells)
    return lines


def _optional_column_left_out(lines: Lines, body: list[int], rng: random.Random, name: str) -> Lines:
    """A good edit."""
    header = lines[0].split(",")
    model = ENTITY_MODELS[name[:-4]]
    optional = [i for i, h in enumerate(header)
                if h in model.model_fields and not model.model_fields[h].is_required()]
    if not optional:
        return lines
    drop = rng.choice(optional)
    return [",".join(c for j, c in enumerate(line.split(",")) if j != drop)
            if len(line.split(",")) == len(header) else line for line in lines]


def _not_utf8(raw: bytes, rng: random.Random) -> bytes:
    """Non-UTF-8 bytes (cp1252 text)."""
    at = rng.randrange(len(raw) + 1)
    return raw[:at] + rng.choice([b"\xe9", b"\xff\xfe", b"\x80"]) + raw[at:]


def _truncated(raw: bytes, rng: random.Random) -> bytes:
    """Possibly to nothing."""
    return raw[: rng.randrange(len(raw) + 1)]


def _random_byte(raw: bytes, rng: random.Random) -> bytes:
    edited = bytearray(raw)
    if edited:
        edited[rng.randrange(len(edited))] = rng.randrange(256)
    return bytes(edited)


# the kinds drawn by _mutate (15: no change)
_LINE_EDITS = {0: _cell_too_few, 1: _cell_too_many, 2: _row_twice, 3: _row_removed, 4: _header_renamed,
               5: _hostile_value, 6: _hostile_value, 7: _hostile_value, 10: _over_long_cell,
               12: _columns_swapped, 13: _columns_swapped, 14: _optional_column_left_out}
_NEED_A_BODY_ROW = {0, 1, 2, 3, 5, 6, 7, 10}
_BYTE_EDITS = {8: _not_utf8, 9: _truncated, 11: _random_byte}


def _reference(name: str, data: bytes) -> dict[tuple[str, ...], dict[str, Any]]:
    """The records a correct reader finds in a file: key -> validated fields."""
    entity = name[:-4]
    model = ENTITY_MODELS[entity]
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    header = [h.strip() for h in rows[0]]
    out: dict[tuple[str, ...], dict[str, Any]] = {}
    for row in rows[1:]:
        if not any(c.strip() for c in row):
            continue
        values = {h: restore(v) for h, v in zip(header, row) if v != ""}
        values.setdefault("source", "files")
        record = model.model_validate(values)
        key = tuple(str(v) for v in record.key())
        assert key not in out, "a loaded package had a duplicate key"
        out[key] = {f: getattr(record, f) for f in header if f not in model.quantity_fields}
    return out


def _live(cache: Path, entity: str) -> dict[tuple[str, ...], dict[str, Any]]:
    model = ENTITY_MODELS[entity]
    con = sqlite3.connect(cache)
    con.row_factory = sqlite3.Row
    try:
        rows = con.execute(f"SELECT * FROM {entity} WHERE deleted_at IS NULL").fetchall()
    finally:
        con.close()
    return {tuple(str(r[k]) for k in model.key_fields): dict(r) for r in rows}


def _comparable(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "value"):  # an enum
        return value.value
    return value


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes]]:
    root = tmp_path_factory.mktemp("fuzz")
    files = {name: text.encode("utf-8") for name, text in BASE.items()}
    pkg = root / "pkg"
    pkg.mkdir()
    for name, data in files.items():
        (pkg / name).write_bytes(data)
    cache = root / "base.sqlite"
    engine = open_cache(cache)
    assert run_sync(engine, FilesConnector(pkg)).status == SyncRunStatus.SUCCEEDED
    engine.dispose()
    return cache, files


@pytest.mark.parametrize("seed", range(0, MUTANTS, 20))
def test_damaged_packages_load_exactly_or_leave_the_cache_as_it_was(
    tmp_path: Path, template: tuple[Path, dict[str, bytes]], seed: int
) -> None:
    base_cache, base_files = template
    outcomes: dict[str, int] = {}
    for n in range(seed, seed + 20):
        rng = random.Random(n)
        files = base_files
        for _ in range(rng.randint(1, 3)):
            files = _mutate(files, rng)
        pkg = tmp_path / f"pkg{n}"
        pkg.mkdir()
        for name, data in files.items():
            (pkg / name).write_bytes(data)
        cache = tmp_path / f"c{n}.sqlite"
        shutil.copy(base_cache, cache)
        before = dump(cache, tables=[*ENTITY_NAMES, "watermarks"])
        engine = open_cache(cache)
        result = run_sync(engine, FilesConnector(pkg))
        engine.dispose()
        outcomes[str(result.status)] = outcomes.get(str(result.status), 0) + 1
        context = f"mutant {n}: {result.error}"
        if result.status == SyncRunStatus.FAILED:
            assert dump(cache, tables=[*ENTITY_NAMES, "watermarks"]) == before, context
            assert result.error is not None
            assert re.match(r"(\d+ rows? rejected, nothing was loaded|files: .*\.csv)",
                            result.error), context
            for e in result.rejected:
                assert e.file and e.file.endswith(".csv") and e.row and e.row >= 2 and e.field, \
                    (context, e)
            continue
        assert result.status == SyncRunStatus.SUCCEEDED, context
        for name, data in files.items():
            expected = _reference(name, data)
            live = _live(cache, name[:-4])
            assert set(live) == set(expected), (context, name)
            for key, fields in expected.items():
                got = {f: live[key][f] for f in fields if f != "uom"}
                want = {f: _comparable(v) for f, v in fields.items() if f != "uom"}
                assert got == want, (context, name, key)
            for row in live.values():
                for v in row.values():
                    assert not (isinstance(v, float) and not math.isfinite(v)), (context, row)
    assert sum(outcomes.values()) == 20 and outcomes.get("failed")  # both kinds occur


def test_the_reference_reader_refuses_what_the_connector_rejects() -> None:
    """The independent reading used above is strict: it fails on the damages the connector
    rejects, so a mutant that loads is one that is really good."""
    with pytest.raises(UnicodeDecodeError):
        _reference("items.csv", b"code\n\xe9\n")
    with pytest.raises(ValidationError):
        _reference("items.csv", b"code,standard_cost\nA,inf\n")
