"""The import wizard (issue 15 §3) driven end to end on the sample exports of resources/mappings:
pick files -> columns matched (adjusted with drop-downs) -> preview with rejected rows
highlighted -> value maps chosen -> profile saved -> load in the writer process into a temp
cache, with exact counts; a bad file loads nothing and says why."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from planner_connectors.files import FilesConnector

from tests.ui.conftest import make_context
from workbench.app.mapping import profile_toml
from workbench.cache.db import open_cache
from workbench.services.settings import load_settings
from workbench.services.sync import run_sync
from workbench.ui.import_wizard import ImportWizard
from workbench.ui.import_wizard_pages import BAD
from workbench.ui.panels.base import PanelContext

PLANT = Path(__file__).resolve().parents[2] / "resources" / "mappings" / "plant"


@pytest.fixture
def fresh(tmp_path: Path) -> Any:
    """A new cache holding only units and sites (what the plant's exports refer to)."""
    pkg = tmp_path / "base"
    pkg.mkdir()
    (pkg / "uoms.csv").write_text("code\nEA\nKG\nSET\n")
    (pkg / "sites.csv").write_text("code\nS1\nS2\n")
    cache = tmp_path / "cache.sqlite"
    engine = open_cache(cache)
    assert run_sync(engine, FilesConnector(pkg, source="base")).ok
    engine.dispose()
    ctx = make_context(cache, tmp_path, sources=[])
    yield ctx
    ctx.engine.dispose()


def _exports(tmp_path: Path, *names: str) -> list[Path]:
    folder = tmp_path / "exports"
    folder.mkdir(exist_ok=True)
    for name in names:
        shutil.copy(PLANT / name, folder / name)
    return [folder / n for n in names]


def _count(ctx: PanelContext, sql: str) -> Any:
    con = sqlite3.connect(ctx.cache_path or "")
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _open(qtbot: Any, ctx: PanelContext, files: list[Path]) -> ImportWizard:
    changes: list[Any] = []
    wizard = ImportWizard(ctx, files=files, on_changes=changes.append)
    wizard.changes_seen = changes  # type: ignore[attr-defined]
    qtbot.addWidget(wizard)
    wizard.show()
    qtbot.waitUntil(wizard.files_page.isComplete, timeout=30_000)
    return wizard


def _preview(qtbot: Any, wizard: ImportWizard) -> None:
    qtbot.waitUntil(wizard.preview_page.isComplete, timeout=30_000)


def _load(qtbot: Any, wizard: ImportWizard, profile: Path) -> None:
    page = wizard.load_page
    page.path.setText(str(profile))
    handle = page.start_load()
    with qtbot.waitSignal(handle.signals.finished, timeout=60_000):
        pass
    qtbot.waitUntil(lambda: page.load_button.isEnabled(), timeout=10_000)


def test_item_master_then_plm_bom_through_the_wizard_into_a_temp_cache(
        qtbot: Any, fresh: PanelContext, tmp_path: Path) -> None:
    wizard = _open(qtbot, fresh, _exports(tmp_path, "item_master.csv"))
    wizard.files_page.source.setText("erp")
    wizard.next()
    # columns side by side with their samples, matched by name
    editor = wizard.columns_page.editor("item_master.csv")
    grid = editor.grid
    rows = {grid.item(r, 0).text(): (grid.item(r, 1).text(), editor.combos[grid.item(r, 0).text()]
                                     .currentData()) for r in range(grid.rowCount())}
    assert rows["Part No"] == (" p-100  | P-110 | P-111", "code")  # as the file has it
    assert rows["Std cost"] == ("1,250.50 | 310.00 | 45.20", "standard_cost")
    assert rows["ERP material"][1] == ""  # not matched: not read
    assert editor.thousands.currentData() == ","  # "1,250.50" seen in the samples
    # adjust with the drop-downs: the ERP material number is no canonical field of an item
    editor.set_field("Description", "description")
    editor.upper.setChecked(True)
    wizard.next()
    _preview(qtbot, wizard)
    page = wizard.preview_page
    assert page.preview is not None
    # the unit and make/buy words the cache cannot take are offered for value maps
    assert page.preview.words == {(0, "stock_uom"): ["Satz", "Stk", "kg"],
                                  (0, "make_buy"): ["E", "F"]}
    for word, value in (("Stk", "EA"), ("Satz", "SET"), ("kg", "KG")):
        page.choose("item_master.csv", "stock_uom", word, value)
    page.choose("item_master.csv", "make_buy", "E", "make")
    page.choose("item_master.csv", "make_buy", "F", "buy")
    page.run_preview()
    _preview(qtbot, wizard)
    assert page.preview.check.ok and page.preview.words == {}
    assert "No problem found" in page.summary.text()
    wizard.next()
    profile = tmp_path / "profiles" / "erp.toml"
    _load(qtbot, wizard, profile)
    assert wizard.load_page.loaded is not None and wizard.load_page.loaded.ok
    assert profile.read_text() == profile_toml(wizard.draft)  # type: ignore[arg-type]
    # hand-checked against item_master.csv: 7 rows, codes trimmed and upper-cased, units mapped
    assert _count(fresh, "SELECT code, stock_uom, make_buy, lead_time_days, standard_cost FROM items "
                         "WHERE deleted_at IS NULL ORDER BY code") == [
        ("P-100", "EA", "make", 5, 1250.5), ("P-110", "EA", "make", 3, 310.0),
        ("P-111", "EA", "buy", 20, 45.2), ("P-120", "EA", "buy", 15, 12.75),
        ("P-130", "SET", "buy", 7, 3.1), ("P-140", "KG", "buy", 10, 2.4),
        ("P-200", "EA", "make", 8, 2980.0)]
    saved = load_settings(fresh.settings_path)
    assert [(s.name, s.params["mapping"]) for s in saved.sources] == [("erp", str(profile))]
    assert any(c.data for c in wizard.changes_seen)  # type: ignore[attr-defined]
    assert wizard.load_page.isComplete()

    # the indented PLM BOM (XLSX, header on row 3) with the matches as they come
    bom = _open(qtbot, fresh, _exports(tmp_path, "plm_bom.xlsx"))
    bom.files_page.source.setText("plm")
    bom.next()
    editor = bom.columns_page.editor("plm_bom.xlsx")
    assert editor.entity.currentData() == "bom_lines|indented"
    assert editor.table.header_row == 3
    bom.next()
    _preview(qtbot, bom)
    preview = bom.preview_page
    assert preview.preview is not None and preview.preview.check.ok
    # the PLM's units are words the cache does not know: mapped with the drop-downs
    assert preview.preview.words == {(0, "uom"): ["Satz", "Stk", "kg"]}
    for word, value in (("Stk", "EA"), ("Satz", "SET"), ("kg", "KG")):
        preview.choose("plm_bom.xlsx", "uom", word, value)
    preview.run_preview()
    _preview(qtbot, bom)
    assert preview.preview.words == {}
    bom.next()
    _load(qtbot, bom, tmp_path / "profiles" / "plm.toml")
    assert bom.load_page.loaded is not None and bom.load_page.loaded.ok, bom.load_page.result.text()
    # tests/files/test_samples.py's hand-checked lines: P-110 listed twice, read once
    assert _count(fresh, "SELECT parent, revision FROM bom_revisions ORDER BY parent") == [
        ("P-100", "B"), ("P-110", "A"), ("P-200", "A")]
    assert _count(fresh, "SELECT parent, revision, position, component, orig_quantity_per, orig_uom "
                         "FROM bom_lines ORDER BY parent, position") == [
        ("P-100", "B", 10, "P-110", 1.0, "EA"), ("P-100", "B", 20, "P-120", 1.0, "EA"),
        ("P-100", "B", 30, "P-130", 2.0, "SET"), ("P-110", "A", 10, "P-111", 1.0, "EA"),
        ("P-110", "A", 20, "P-140", 2.5, "KG"), ("P-200", "A", 10, "P-110", 2.0, "EA"),
        ("P-200", "A", 20, "P-120", 2.0, "EA")]


def test_a_bad_file_is_highlighted_then_loads_nothing_and_says_why(
        qtbot: Any, fresh: PanelContext, tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "items.txt").write_text("Part No,Description,Lead time\nA-1,Bolt,5\nA-2,Nut,five\n"
                                      "A-3,Washer,2\n")
    before = _count(fresh, "SELECT count(*) FROM items")
    wizard = _open(qtbot, fresh, [folder / "items.txt"])
    wizard.next()
    wizard.next()
    _preview(qtbot, wizard)
    page = wizard.preview_page
    assert page.preview is not None and not page.preview.check.ok
    grid = page.records.widget(0)
    # the two good rows, then the rejected one, painted and saying why
    assert grid.rowCount() == 3
    assert grid.item(2, 0).text() == "items.txt, row 3"
    assert grid.item(2, 1).text() == ("lead_time_days (column 'Lead time'): 'five' is not a number "
                                      "(decimal '.', no thousands separator, as the profile says)")
    assert grid.item(2, 0).background().color() == BAD
    assert grid.item(0, 0).background().color() != BAD
    assert "1 rows rejected" in page.summary.text()
    wizard.next()
    _load(qtbot, wizard, tmp_path / "items.toml")
    load = wizard.load_page.loaded
    assert load is not None and not load.ok
    said = wizard.load_page.result.text()
    assert said.startswith("Nothing was loaded: ")
    assert ("items.txt, row 3: items 'A-2', field lead_time_days (column 'Lead time'): 'five' is "
            "not a number") in said
    assert _count(fresh, "SELECT count(*) FROM items") == before  # the cache is unchanged
    assert load_settings(fresh.settings_path).sources == []  # no source registered
    assert not wizard.load_page.isComplete()


def test_file_menu_opens_the_wizard_over_the_window(qtbot: Any, window: Any) -> None:
    file_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&File")
    action = next(a for a in file_menu.actions() if a.text() == "&Import plant exports…")
    assert action.toolTip().startswith("Read CSV or XLSX exports")
    action.trigger()
    wizard = window.findChild(ImportWizard)
    assert wizard is not None and wizard.isVisible()
    assert wizard.currentPage() is wizard.files_page and not wizard.files_page.isComplete()
    wizard.close()


def test_cancel_stops_the_load_and_the_cache_keeps_what_it_had(
        qtbot: Any, fresh: PanelContext, tmp_path: Path) -> None:
    folder = tmp_path / "big"
    folder.mkdir()
    rows = "".join(f"A-{i:06d},Part {i},{i % 90}\n" for i in range(150_000))
    (folder / "items.csv").write_text("Part No,Description,Lead time\n" + rows)
    before = _count(fresh, "SELECT count(*) FROM items")
    wizard = _open(qtbot, fresh, [folder / "items.csv"])
    wizard.next()
    wizard.next()
    _preview(qtbot, wizard)
    wizard.next()
    page = wizard.load_page
    page.path.setText(str(tmp_path / "big.toml"))
    handle = page.start_load()
    assert page.cancel_button.isEnabled() and page.progress.isVisible()
    page.cancel_load()
    with qtbot.waitSignal(handle.signals.finished, timeout=60_000):
        pass
    qtbot.waitUntil(lambda: page.load_button.isEnabled(), timeout=10_000)
    assert page.result.text() == "Load cancelled: the cache is unchanged."
    assert _count(fresh, "SELECT count(*) FROM items") == before
    assert not page.isComplete() and not page.cancel_button.isEnabled()
