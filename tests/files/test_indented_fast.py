"""The column-wise reading of an indented BOM (issue 15 speed) gives exactly what the row-by-row
reading gives: the same records, row numbers, rejected rows (messages included) and validated
columns, on the sample export and on random indented BOMs with and without defects, over two
files (repeated sub-assemblies across files)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from planner_connectors.files import indented
from planner_connectors.files.source import MappedSource

RESOURCES = Path(__file__).resolve().parents[2] / "resources" / "mappings"
PROFILE = """[profile]
source = "plm"

[bom_lines]
files = ["bom*.csv"]
layout = "indented"
{extra}
[bom_lines.columns]
"Level" = "level"
"Part" = "item"
"Rev" = "revision"
"Qty" = "quantity_per"
"Text" = "item.description"
"Valid" = "revision.effective_from"
{position}
"""


def _read(folder: Path, profile: Path, fast: bool, monkeypatch: pytest.MonkeyPatch,
          ) -> dict[str, list[Any]]:
    monkeypatch.setattr(indented, "FAST", fast)
    source = MappedSource(folder, profile, "files")
    out: dict[str, list[Any]] = {}
    for entity in source.entities():
        out[entity] = [(c.label, c.records, c.numbers, [str(e) for e in c.rejected], c.columns)
                       for c in source.chunks(entity, 1 << 30)]
    return out


def _fast_taken(folder: Path, profile: Path, monkeypatch: pytest.MonkeyPatch) -> bool:
    monkeypatch.setattr(indented, "FAST", True)
    source = MappedSource(folder, profile, "files")
    mapping = source.sections()["bom_lines"][0]
    chunks = indented.read_indented(folder, source.profile, mapping, "plm", {})
    return any(c.given is not None for c in chunks["bom_lines"])


def test_the_sample_export_reads_the_same_both_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    folder, profile = RESOURCES / "plant", RESOURCES / "plm-bom.toml"
    slow = _read(folder, profile, False, monkeypatch)
    assert _read(folder, profile, True, monkeypatch) == slow
    assert sum(len(c[1]) for c in slow["bom_lines"]) > 0


def _bom_rows(rng: random.Random, defects: bool, position: bool) -> list[list[Any]]:
    """Rows of an indented BOM: tops expanded to depth 3 from a fixed BOM per part, repeated
    sub-assemblies listed again in full; with ``defects``, now and then a cell or level wrong."""
    parts = [f"P{i:03d}" for i in range(40)]
    boms = {p: rng.sample(parts[i + 1:], min(len(parts) - i - 1, rng.randint(0, 4)))
            for i, p in enumerate(parts)}
    qty = {p: rng.choice([1, 2, 2.5, 4]) for p in parts}
    rows: list[list[Any]] = []

    def expand(part: str, level: int) -> None:
        has = bool(boms[part]) and level < 3
        rev = rng.choice(["A", "B"]) if has else ""
        rows.append([level, part, rev if has else "", qty[part], f"Part {part}",
                     "2026-01-05" if has else "", ""])
        if has:
            for n, child in enumerate(boms[part]):
                expand(child, level + 1)
                if position:
                    rows[-1][6] = str((n + 1) * 5)

    for top in rng.sample(parts[:15], 6):
        expand(top, 0)
    if defects:
        for _ in range(rng.randint(1, 3)):
            k = rng.randrange(len(rows))
            what = rng.randrange(6)
            if what == 0:
                rows[k][1] = ""  # no item code
            elif what == 1:
                rows[k][0] = rows[k][0] + 2  # a level skipped
            elif what == 2:
                rows[k][3] = "x"  # not a number
            elif what == 3:
                rows[k][4] = "other text"  # one item, two descriptions
            elif what == 4:
                rows[k][2] = ""  # a parent without revision
            else:
                rows[k][3] = -1  # out of range: the validation rejects it
    return rows


def _write(folder: Path, name: str, rows: list[list[Any]]) -> None:
    lines = ["Level;Part;Rev;Qty;Text;Valid;Pos"]
    lines += [";".join(str(c) for c in row) for row in rows]
    (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize("seed", range(24))
def test_random_indented_boms_read_the_same_both_ways(
        tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(seed)
    defects = seed % 3 == 0
    position = seed % 4 == 1
    folder = tmp_path / "plm"
    folder.mkdir()
    rows = _bom_rows(rng, defects, position)
    cut = rng.randrange(1, len(rows))
    while cut < len(rows) and rows[cut][0] != 0:
        cut += 1
    _write(folder, "bom1.csv", rows[:cut])
    _write(folder, "bom2.csv", rows[cut:])  # the second file repeats what the first listed
    profile = tmp_path / "plm.toml"
    profile.write_text(PROFILE.format(
        extra='default_revision = "01"' if seed % 5 == 2 else "",
        position='"Pos" = "position"' if position else ""), encoding="utf-8")
    slow = _read(folder, profile, False, monkeypatch)
    fast = _read(folder, profile, True, monkeypatch)
    assert fast == slow
    if not defects and not position:
        assert _fast_taken(folder, profile, monkeypatch)  # the comparison is not vacuous
