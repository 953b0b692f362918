"""Round trips: each sample plant export + its profile (resources/mappings) loads into exactly
the canonical records written out below, checked by hand against the files; a canonical package
read through a profile of the canonical layout gives the same cache as the package reader."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from planner_connectors.files import FilesConnector
from planner_connectors.files.source import MappedSource

from tests.fixtures_connector import MemoryConnector
from tests.foundation.cachedump import ENTITY_NAMES, dump
from tests.foundation.plant import tiny_plant
from workbench.cache.db import open_cache
from workbench.domain.enums import SyncRunStatus
from workbench.services.mapping import canonical_profile
from workbench.services.packages import export_package
from workbench.services.sync import run_sync

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "resources" / "mappings"
PLANT = SAMPLES / "plant"
D = dt.date


def records(profile: str) -> dict[str, list[tuple[int, dict[str, Any]]]]:
    source = MappedSource(PLANT, SAMPLES / f"{profile}.toml", "files")
    out: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for entity in source.entities():
        rows = out.setdefault(entity, [])
        for chunk in source.chunks(entity, 1000):
            assert chunk.rejected == []
            rows.extend(zip(chunk.numbers, chunk.records))
    return out


def test_item_master_csv_utf8_bom_thousands_comma_value_maps_and_two_xref_systems() -> None:
    got = records("item-master")
    items = {r["code"]: r for _, r in got["items"]}
    # " p-100 " trimmed and upper-cased; "1,250.50" with thousands ","; Stk -> EA, E -> make
    assert items["P-100"] == {
        "code": "P-100", "description": "Pump assembly", "stock_uom": "EA", "make_buy": "make",
        "lead_time_days": 5, "safety_stock": 2.0, "standard_cost": 1250.5, "source": "erp"}
    # an empty safety stock cell is not given (the default / the cached value stays)
    assert items["P-110"] == {
        "code": "P-110", "description": "Pump housing", "stock_uom": "EA", "make_buy": "make",
        "lead_time_days": 3, "standard_cost": 310.0, "source": "erp"}
    assert items["P-130"]["stock_uom"] == "SET" and items["P-130"]["make_buy"] == "buy"
    assert items["P-140"]["stock_uom"] == "KG" and items["P-140"]["safety_stock"] == 1000.0
    assert [n for n, _ in got["items"]] == [2, 3, 4, 5, 6, 7, 8]
    xrefs = sorted((r["item"], r["system"], r["external_code"]) for _, r in got["item_xrefs"])
    assert len(xrefs) == 14
    assert xrefs[:2] == [("P-100", "ERP", "10000100"), ("P-100", "WMS", "000100")]
    assert ("P-200", "WMS", "000200") in xrefs


def test_plm_indented_bom_xlsx_into_revisions_and_lines() -> None:
    got = records("plm-bom")
    assert sorted(got) == ["bom_lines", "bom_revisions"]  # no item.* column: no items
    revisions = [(n, r["parent"], r["revision"], r["effective_from"], r["status"])
                 for n, r in got["bom_revisions"]]
    # rows of the sheet (header on row 3): P-100 row 4, P-110 row 5, P-200 row 10;
    # "Valid from" 01.10.2026 in the profile's format %d.%m.%Y
    assert revisions == [
        (4, "P-100", "B", D(2026, 10, 1), "released"),
        (5, "P-110", "A", D(2026, 3, 15), "released"),
        (10, "P-200", "A", D(2026, 12, 1), "released"),
    ]
    lines = [(n, r["parent"], r["revision"], r["position"], r["component"], r["quantity_per"],
              r["uom"], r.get("scrap_pct")) for n, r in got["bom_lines"]]
    # P-110 is listed again under P-200 (rows 11-13) with the same components: read once
    assert lines == [
        (5, "P-100", "B", 10, "P-110", 1.0, "EA", None),
        (6, "P-110", "A", 10, "P-111", 1.0, "EA", 2.0),
        (7, "P-110", "A", 20, "P-140", 2.5, "KG", None),
        (8, "P-100", "B", 20, "P-120", 1.0, "EA", None),
        (9, "P-100", "B", 30, "P-130", 2.0, "SET", None),
        (11, "P-200", "A", 10, "P-110", 2.0, "EA", None),
        (14, "P-200", "A", 20, "P-120", 2.0, "EA", None),
    ]


def test_wms_stock_csv_cp1252_semicolon_decimal_comma_xrefs_and_maps() -> None:
    got = records("wms-stock")
    assert list(got) == ["inventory"]  # the item master section is read for look-ups only
    rows = [(n, r["item"], r["site"], r["location"], r.get("lot"), r["status"], r["quantity"],
             r["uom"], r["as_of"]) for n, r in got["inventory"]]
    nov30 = D(2026, 11, 30)
    assert rows == [
        (2, "P-100", "S1", "MAIN", None, "available", 3.0, "EA", nov30),
        (3, "P-111", "S1", "MAIN", "L-4711", "available", 1250.0, "EA", nov30),  # "1.250"
        (4, "P-111", "S1", "QA", "L-4712", "quality_hold", 40.0, "EA", nov30),
        (5, "P-120", "S1", "MAIN", None, "available", 12.0, "EA", nov30),
        (6, "P-140", "S2", "MAIN", None, "available", 1234.5, "KG", nov30),  # "1.234,5"
        (7, "P-130", "S1", "MAIN", None, "available", 25.0, "SET", nov30),  # "Frei"
    ]


def test_erp_open_po_xlsx_two_sheets_heads_distinct_lines_with_xrefs() -> None:
    got = records("erp-po")
    heads = [(r["code"], r["supplier"], r["site"]) for _, r in got["purchase_orders"]]
    assert heads == [("4500001234", "ACME", "S1"), ("4500001240", "BOLT", "S1"),
                     ("4500001251", "BOLT", "S2")]
    lines = [(n, r["purchase_order"], r["line"], r["item"], r["supplier"], r["site"],
              r["quantity_ordered"], r["quantity_received"], r["uom"], r["unit_price"],
              r["requested_date"], r.get("promised_date"), r["status"])
             for n, r in got["purchase_order_lines"]]
    assert lines == [
        (2, "4500001234", 10, "P-111", "ACME", "S1", 100.0, 0.0, "EA", 44.9, D(2026, 12, 14),
         D(2026, 12, 18), "acknowledged"),
        (3, "4500001234", 20, "P-120", "ACME", "S1", 50.0, 20.0, "EA", 12.5, D(2026, 12, 14),
         None, "partially_received"),
        (4, "4500001240", 10, "P-130", "BOLT", "S1", 40.0, 0.0, "SET", 3.05, D(2027, 1, 11),
         None, "sent"),
        (2, "4500001251", 10, "P-140", "BOLT", "S2", 2000.0, 0.0, "KG", 2.35, D(2026, 12, 21),
         D(2026, 12, 21), "acknowledged"),
    ]


def _master_package(folder: Path) -> Path:
    """The reference data the samples point at (units, sites, suppliers), as a package."""
    folder.mkdir()
    (folder / "uoms.csv").write_text("code,category\nEA,count\nSET,count\nKG,mass\n")
    (folder / "sites.csv").write_text("code,name\nS1,Hamburg\nS2,Leipzig\n")
    (folder / "suppliers.csv").write_text("code,name\nACME,Acme Castings\nBOLT,Bolt & Co\n")
    return folder


def test_all_four_samples_sync_into_one_cache(tmp_path: Path) -> None:
    engine = open_cache(tmp_path / "c.sqlite")
    assert run_sync(engine, FilesConnector(_master_package(tmp_path / "master"))).ok
    for profile in ("item-master", "plm-bom", "wms-stock", "erp-po"):
        result = run_sync(engine, FilesConnector(dir=PLANT, mapping=SAMPLES / f"{profile}.toml"))
        assert result.status == SyncRunStatus.SUCCEEDED, (profile, result.error)
    engine.dispose()
    con = sqlite3.connect(tmp_path / "c.sqlite")
    q = con.execute
    assert q("SELECT count(*), min(source), max(source) FROM items").fetchone() == (7, "erp", "erp")
    assert q("SELECT count(*) FROM bom_lines WHERE source='plm'").fetchone() == (7,)
    # 1.234,5 kg at S2, stored in the stock unit KG; 1.250 EA of P-111
    assert q("SELECT quantity FROM inventory WHERE item='P-140'").fetchone() == (1234.5,)
    assert q("SELECT sum(quantity) FROM inventory WHERE item='P-111'").fetchone() == (1290.0,)
    assert q("SELECT promised_date FROM purchase_order_lines WHERE purchase_order='4500001234' "
             "AND line=10").fetchone() == ("2026-12-18",)
    con.close()


def test_a_second_sync_of_unchanged_files_reads_nothing(tmp_path: Path) -> None:
    engine = open_cache(tmp_path / "c.sqlite")
    assert run_sync(engine, FilesConnector(_master_package(tmp_path / "master"))).ok
    first = run_sync(engine, FilesConnector(dir=PLANT, mapping=SAMPLES / "item-master.toml"))
    again = run_sync(engine, FilesConnector(dir=PLANT, mapping=SAMPLES / "item-master.toml"))
    assert first.counts["items"]["received"] == 7
    assert again.ok and again.total("received") == 0


def test_canonical_package_through_a_canonical_profile_gives_the_same_cache(tmp_path: Path) -> None:
    source = open_cache(tmp_path / "source.sqlite")
    assert run_sync(source, MemoryConnector(tiny_plant())).ok
    export_package(source, tmp_path / "pkg")
    source.dispose()
    profile = tmp_path / "canonical.toml"
    profile.write_text(canonical_profile(tmp_path / "pkg"), encoding="utf-8")
    paths = {}
    for name, connector in (("package", FilesConnector(tmp_path / "pkg")),
                            ("mapped", FilesConnector(dir=tmp_path / "pkg", mapping=profile))):
        paths[name] = tmp_path / f"{name}.sqlite"
        engine = open_cache(paths[name])
        result = run_sync(engine, connector)
        assert result.status == SyncRunStatus.SUCCEEDED, (name, result.error)
        engine.dispose()
    a = dump(paths["package"], tables=ENTITY_NAMES, skip_cols=("sync_run",))
    b = dump(paths["mapped"], tables=ENTITY_NAMES, skip_cols=("sync_run",))
    assert sum(len(rows) for rows in a.values()) > 20
    assert a == b


@pytest.mark.parametrize("profile", ["item-master", "plm-bom", "wms-stock", "erp-po"])
def test_sample_profiles_are_documented_in_the_mapping_doc(profile: str) -> None:
    assert f"resources/mappings/{profile}.toml" in (REPO / "docs" / "mapping.md").read_text()
