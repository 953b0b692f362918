"""Every profile error names the profile's file and line, with what to do."""

from __future__ import annotations

from pathlib import Path

import pytest
from planner_connectors.files.profile import ProfileError
from planner_connectors.files.profile_file import line_index, load_profile

INVENTORY = """\
[profile]
decimal = ","

[inventory]
files = ["stock.csv"]
[inventory.columns]
"Artikel" = "item"
"Werk" = "site"
"Menge" = "quantity"
"""


def _load(tmp_path: Path, text: str) -> None:
    path = tmp_path / "wms.toml"
    path.write_text(text, encoding="utf-8")
    load_profile(path)


def _error(tmp_path: Path, text: str) -> str:
    with pytest.raises(ProfileError) as info:
        _load(tmp_path, text)
    return str(info.value)


def test_a_good_profile_loads(tmp_path: Path) -> None:
    _load(tmp_path, INVENTORY)


def test_unknown_field_names_file_line_and_the_fields(tmp_path: Path) -> None:
    msg = _error(tmp_path, INVENTORY + '"Charge" = "batch"\n')
    assert msg.startswith("wms.toml, line 10: unknown field 'batch' of inventory (fields: ")
    assert "lot" in msg


def test_required_field_left_unmapped(tmp_path: Path) -> None:
    text = INVENTORY.replace('"Werk" = "site"\n', "").replace('"Menge" = "quantity"\n', "")
    assert _error(tmp_path, text) == (
        "wms.toml, line 6: required fields site, quantity of inventory not mapped: give a "
        "column, a constant or a default")


def test_required_field_given_by_a_constant_is_mapped(tmp_path: Path) -> None:
    text = INVENTORY.replace('"Werk" = "site"\n', "") + '[inventory.constants]\nsite = "S1"\n'
    _load(tmp_path, text)


def test_value_map_target_that_the_field_cannot_take(tmp_path: Path) -> None:
    text = INVENTORY + '"Status" = "status"\n[inventory.values.status]\n"frei" = "availabel"\n'
    assert _error(tmp_path, text) == (
        "wms.toml, line 12: 'availabel' is not a value of status (one of: available, "
        "quality_hold, allocated, in_transit)")


def test_constant_that_the_field_cannot_take(tmp_path: Path) -> None:
    text = INVENTORY + '[inventory.constants]\nstatus = "free"\n'
    assert _error(tmp_path, text).startswith("wms.toml, line 11: 'free' is not a value of status")


def test_unknown_section_and_unknown_key(tmp_path: Path) -> None:
    assert _error(tmp_path, INVENTORY + "[stock]\nfiles = []\n").startswith(
        "wms.toml, line 10: unknown section [stock]; an entity section is one of uoms, sites")
    text = INVENTORY.replace('files = ["stock.csv"]', 'files = ["stock.csv"]\nheader = 2')
    assert _error(tmp_path, text).startswith("wms.toml, line 6: unknown key 'header' in [inventory]")


def test_field_filled_by_two_columns_or_column_and_constant(tmp_path: Path) -> None:
    assert _error(tmp_path, INVENTORY + '"Bestand" = "quantity"\n') == (
        "wms.toml, line 10: field 'quantity' is filled by two columns, 'Menge' and 'Bestand'")
    assert _error(tmp_path, INVENTORY + '[inventory.constants]\nsite = "S1"\n') == (
        "wms.toml, line 11: field 'site' has a constant and a column ('Werk'); keep one")


def test_reading_settings_checked(tmp_path: Path) -> None:
    assert _error(tmp_path, INVENTORY.replace('decimal = ","', 'decimal = ";"')) == (
        "wms.toml, line 2: decimal must be \".\" or \",\", not ';'")
    assert _error(tmp_path, INVENTORY.replace('decimal = ","', 'decimal = ","\nthousands = ","')) \
        == "wms.toml, line 3: thousands separator and decimal sign are both ','"
    assert _error(tmp_path, INVENTORY.replace('decimal = ","', 'encoding = "klingon"')) == (
        "wms.toml, line 2: unknown encoding 'klingon' (e.g. utf-8, cp1252)")
    assert _error(tmp_path, INVENTORY.replace('decimal = ","', 'date_formats = ["dd.mm.yyyy"]')) \
        == ("wms.toml, line 2: date format 'dd.mm.yyyy' has no % directive "
            "(e.g. \"%d.%m.%Y\" for 31.12.2026)")


def test_code_rule_naming_a_missing_map(tmp_path: Path) -> None:
    text = INVENTORY + '[inventory.codes.site]\nmap = "site"\n'
    assert _error(tmp_path, text) == (
        "wms.toml, line 11: no code map [maps.site] in the profile (maps: none)")


def test_section_without_files(tmp_path: Path) -> None:
    text = INVENTORY.replace('files = ["stock.csv"]\n', "")
    assert _error(tmp_path, text) == (
        "wms.toml, line 4: [inventory] needs files = [\"name or pattern\", ...] (files of the "
        "source folder)")


def test_indented_layout_needs_a_level_and_is_only_for_bom_lines(tmp_path: Path) -> None:
    text = ('[bom_lines]\nfiles = ["bom.xlsx"]\nlayout = "indented"\n[bom_lines.columns]\n'
            '"Part" = "item"\n"Qty" = "quantity_per"\n')
    assert _error(tmp_path, text) == (
        "bom.toml, line 4: required field level of bom_lines not mapped: give a column, a "
        "constant or a default (or indent = true to read the level from the item column's "
        "indentation)".replace("bom.toml", "wms.toml"))
    _load(tmp_path, text.replace('layout = "indented"', 'layout = "indented"\nindent = true'))
    assert _error(tmp_path, INVENTORY.replace('files = ["stock.csv"]',
                                              'files = ["stock.csv"]\nlayout = "indented"')) == (
        "wms.toml, line 6: only [bom_lines] can have layout = \"indented\"")


def test_not_toml_and_not_utf8(tmp_path: Path) -> None:
    assert _error(tmp_path, "[inventory\n").startswith("wms.toml: not valid TOML (")
    (tmp_path / "x.toml").write_bytes("[profile]\nname = 'Gr\u00f6\u00dfe'\n".encode("cp1252"))
    with pytest.raises(ProfileError, match=r"^x.toml: a mapping profile is UTF-8 text$"):
        load_profile(tmp_path / "x.toml")
    assert _error(tmp_path, "[profile]\n") == (
        "wms.toml: the profile maps no entity (add a section such as [items])")


def test_lookup_only_sections_are_for_item_xrefs(tmp_path: Path) -> None:
    text = INVENTORY.replace('files = ["stock.csv"]', 'files = ["stock.csv"]\nload = false')
    assert _error(tmp_path, text) == (
        "wms.toml, line 6: load = false is for [[item_xrefs]] sections read only to look "
        "codes up")


def test_line_index_finds_quoted_dotted_and_array_table_keys() -> None:
    text = ('[profile]\nsource = "x"\n\n[[item_xrefs]]\n[item_xrefs.columns]\n"Part No." = "item"\n'
            "[[item_xrefs]]\n[item_xrefs.columns]\n'WMS' = \"item\"\na.b = 1\n")
    lines = line_index(text)
    assert lines[("profile", "source")] == 2
    assert lines[("item_xrefs", "0")] == 4
    assert lines[("item_xrefs", "columns", "Part No.")] == 6
    assert lines[("item_xrefs", "1")] == 7
    assert lines[("item_xrefs", "columns", "WMS")] == 9
    assert lines[("item_xrefs", "columns", "a", "b")] == 10
