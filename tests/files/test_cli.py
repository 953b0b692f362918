"""The command line of mapped files: a source with dir= and mapping=, its sync, and
``workbench mapping suggest`` / ``check`` (which never touch the cache)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

from planner_connectors.files.profile_file import parse_profile

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "resources" / "mappings"
PLANT = SAMPLES / "plant"


def _cli(*args: str | Path, home: Path, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / "cfg"),
           "XDG_DATA_HOME": str(home / "data")}
    return subprocess.run([sys.executable, str(REPO / "main.py"), *map(str, args)],
                          capture_output=True, text=True, env=env, cwd=cwd, timeout=180)


def test_sources_add_files_with_dir_and_mapping_then_sync_source(tmp_path: Path) -> None:
    cache = tmp_path / "c.sqlite"
    master = tmp_path / "master"
    master.mkdir()
    (master / "uoms.csv").write_text("code\nEA\nSET\nKG\n")
    assert _cli("sync", "--package", master, "--cache", cache, home=tmp_path).returncode == 0
    # relative paths are saved absolute: the sync below runs from another folder
    added = _cli("sources", "add", "erp-items", "files", "dir=plant", "mapping=item-master.toml",
                 home=tmp_path, cwd=SAMPLES)
    assert added.returncode == 0, added.stderr
    listed = json.loads(_cli("sources", "list", "--json", home=tmp_path).stdout)
    assert listed[0]["params"] == {"dir": str(PLANT), "mapping": str(SAMPLES / "item-master.toml")}
    run = _cli("sync", "--source", "erp-items", "--cache", cache, "--json", home=tmp_path,
               cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["counts"]["items"] == {"received": 7, "changed": 7, "deleted": 0}
    assert result["counts"]["item_xrefs"]["received"] == 14


def test_sync_of_a_mapped_source_with_a_bad_profile_says_where(tmp_path: Path) -> None:
    profile = tmp_path / "bad.toml"
    profile.write_text('[items]\nfiles = ["item_master.csv"]\n[items.columns]\n"Part No" = "cod"\n')
    assert _cli("sources", "add", "x", "files", f"dir={PLANT}", f"mapping={profile}",
                home=tmp_path).returncode == 0
    run = _cli("sync", "--source", "x", "--cache", tmp_path / "c.sqlite", home=tmp_path)
    assert run.returncode == 2
    assert run.stderr.startswith("workbench sync: bad.toml, line 4: unknown field 'cod' of items")
    assert "Traceback" not in run.stderr


def test_mapping_check_previews_records_and_exits_1_on_problems(tmp_path: Path) -> None:
    cache = tmp_path / "c.sqlite"
    ok = _cli("mapping", "check", SAMPLES / "wms-stock.toml", PLANT, "--rows", "1", "--json",
              home=tmp_path)
    assert ok.returncode == 0, ok.stderr
    data = json.loads(ok.stdout)
    assert data["ok"] and data["problems"] == []
    assert data["entities"] == [{"entity": "inventory", "read": 6, "rejected": 0, "records": [
        {"item": "P-100", "site": "S1", "location": "MAIN", "status": "available",
         "quantity": 3.0, "uom": "EA", "as_of": "2026-11-30", "source": "wms"}]}]
    bad_profile = tmp_path / "wms.toml"
    bad_profile.write_text((SAMPLES / "wms-stock.toml").read_text().replace(
        '"QS01" = "QA"\n', ""))
    bad = _cli("mapping", "check", bad_profile, PLANT, home=tmp_path)
    assert bad.returncode == 1
    assert ("problem: inventory: Bestand_20261130.csv, row 4: inventory 'P-111/S1/?/L-4712/"
            "quality_hold/?', field location (column 'Lagerort'): code 'QS01' is not in the code "
            "map [maps.location] (wms.toml, line 16)") in bad.stdout
    assert "inventory: 6 rows read, 1 rejected" in bad.stdout
    assert not cache.exists()


def test_mapping_suggest_drafts_a_profile_that_loads(tmp_path: Path) -> None:
    run = _cli("mapping", "suggest", PLANT, home=tmp_path)
    assert run.returncode == 0, run.stderr
    data = tomllib.loads(run.stdout)
    assert data["inventory"]["columns"] == {
        "Artikel": "item", "Werk": "site", "Lagerort": "location", "Charge": "lot",
        "Status": "status", "Menge": "quantity", "ME": "uom", "Stand": "as_of"}
    assert (data["inventory"]["encoding"], data["inventory"]["delimiter"],
            data["inventory"]["decimal"]) == ("cp1252", ";", ",")
    assert data["bom_lines"]["layout"] == "indented" and data["bom_lines"]["header_row"] == 3
    assert data["bom_lines"]["columns"]["Level"] == "level"
    assert data["items"]["columns"]["Part No"] == "code"
    assert len(data["purchase_order_lines"]) == 2  # one section per sheet
    profile = parse_profile(run.stdout, tmp_path / "draft.toml")
    assert set(profile.entities) == {"inventory", "purchase_order_lines", "items", "bom_lines"}


def test_inspect_folder_gives_a_wizard_headers_samples_and_matches() -> None:
    from workbench.services.mapping import inspect_folder

    found = {t.label: t for t in inspect_folder(PLANT)}  # 5 sample rows: "1.234,5" decides
    bom = found["plm_bom.xlsx, sheet 'BOM'"]
    assert (bom.entity, bom.layout, bom.header_row, bom.sheet) == ("bom_lines", "indented", 3, "BOM")
    assert bom.columns[:3] == ["Level", "Part Number", "Rev"]
    assert bom.samples[0][:3] == ["0", "P-100", "B"]
    stock = found["Bestand_20261130.csv"]
    assert (stock.encoding, stock.delimiter, stock.decimal) == ("cp1252", ";", ",")
    assert stock.samples[1][1] == "Gehäuse Guss"
    assert stock.matches["Menge"] == "quantity" and "Bezeichnung" not in stock.matches
