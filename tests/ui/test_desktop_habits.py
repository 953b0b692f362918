"""A desktop application's habits (issue 18 §4): menu bar and shortcuts, the shortcuts overlay,
Tab out of tables, tooltips on every action button and column header, column widths and order
kept, saved views, drag-and-drop of a data package, an offline banner for a GUI user."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QModelIndex, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFileDialog,
    QHeaderView,
    QListView,
    QMessageBox,
    QPushButton,
    QToolButton,
)
from sqlalchemy import text

from tests.ui.conftest import DEMO, make_context
from workbench.app.columns import describe
from workbench.services.settings import SourceConfig
from workbench.ui.app import resource_path
from workbench.ui.banner import Unreachable, offline_message
from workbench.ui.mainwindow import MainWindow, table_panes
from workbench.ui.models import FrameTableModel
from workbench.ui.panels import NAMES, PANELS
from workbench.ui.panels.items import ItemsPanel

SAMPLE = resource_path("sample-package")


def _window(qtbot, ctx, tmp_path: Path, wait: bool = True) -> MainWindow:  # type: ignore[no-untyped-def]
    win = MainWindow(ctx, qsettings=QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    if wait:
        with qtbot.waitSignal(win.populated, timeout=20_000):
            win.show()
        win.activateWindow()  # shortcuts reach only the active window (see tests/ui/conftest.py)
        qtbot.waitUntil(win.isActiveWindow, timeout=5_000)
    else:
        win.show()
    return win


def _menu(window: MainWindow, title: str) -> dict[str, object]:
    menus = {_plain(a.text()): a.menu() for a in window.menuBar().actions()}
    return {_plain(a.text()): a for a in menus[title].actions() if a.text()}  # type: ignore[union-attr]


def _plain(label: str) -> str:
    """A menu label as shown: mnemonics dropped, "&&" an ampersand."""
    return label.replace("&&", "\0").replace("&", "").replace("\0", "&")


# --- menus and shortcuts -------------------------------------------------------------------------
def test_menu_bar_has_file_view_help_and_their_keys(window: MainWindow) -> None:
    assert [a.text() for a in window.menuBar().actions()] == ["&File", "&View", "&Help"]
    file_menu = _menu(window, "File")
    assert list(file_menu) == ["Open another cache…", "Import plant exports…", "Export current table…",
                              "Quit"]
    assert file_menu["Quit"].shortcut().toString() == "Ctrl+Q"  # type: ignore[attr-defined]
    view = _menu(window, "View")
    assert list(view) == [title for _n, _c, title in PANELS]
    for n, title in enumerate(list(view)[:9]):
        assert view[title].shortcut().toString() == f"Ctrl+{n + 1}"  # type: ignore[attr-defined]
    help_menu = _menu(window, "Help")
    assert list(help_menu) == ["Keyboard shortcuts", "About Planner Workbench"]
    keys = [k.toString() for k in help_menu["Keyboard shortcuts"].shortcuts()]  # type: ignore[attr-defined]
    assert keys[:2] == ["F1", "Ctrl+?"]


def test_view_entries_and_their_keys_open_the_panels(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    view = _menu(window, "View")
    for name, _cls, title in reversed(PANELS):
        view[title].trigger()  # type: ignore[attr-defined]
        assert window.current_panel is window.panels[name]
    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert window.current_panel is window.panels[NAMES[2]]


def test_quit_closes_the_window(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert not window.isVisible()
    assert window.ctx.ui_store.path.exists()  # state saved on the way out


def test_export_current_table_writes_what_the_table_shows(qtbot, window: MainWindow,  # type: ignore[no-untyped-def]
                                                          tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    items = window.go_to("items")
    assert isinstance(items, ItemsPanel)
    qtbot.waitUntil(lambda: items.items.model.rowCount() > 0, timeout=10_000)
    items.items.pickers["make_buy"].setCurrentIndex(items.items.pickers["make_buy"].findData("make"))
    with window.ctx.engine.connect() as conn:
        made = conn.execute(text("SELECT count(*) FROM items WHERE make_buy = 'make' "
                                 "AND deleted_at IS NULL")).scalar_one()
    assert items.items.model.rowCount() == made
    target = tmp_path / "made.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(target), "CSV files (*.csv)"))
    _menu(window, "File")["Export current table…"].trigger()  # type: ignore[attr-defined]
    qtbot.waitUntil(target.exists, timeout=10_000)
    lines = [line for line in target.read_text(encoding="utf-8-sig").splitlines() if line]
    assert len(lines) == made + 1  # the header and one line per item made here


def test_open_another_cache_replaces_the_window(qtbot, window: MainWindow, tmp_path: Path,  # type: ignore[no-untyped-def]
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    other = tmp_path / "other.sqlite"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(other), ""))
    _menu(window, "File")["Open another cache…"].trigger()  # type: ignore[attr-defined]
    successor = window.successor
    assert successor is not None
    qtbot.addWidget(successor)
    assert not window.isVisible() and successor.isVisible()
    assert successor.ctx.cache_path == other and successor.is_empty  # a new, empty cache
    assert successor.ctx.settings_path == window.ctx.settings_path
    successor.close()
    successor.ctx.engine.dispose()


def test_open_another_cache_refuses_a_file_that_is_no_cache(qtbot, window: MainWindow,  # type: ignore[no-untyped-def]
                                                             tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import workbench.ui.errors as errors

    said: list[str] = []
    monkeypatch.setattr(errors, "show_error", lambda _p, title, exc: said.append(f"{title}: {exc}"))
    not_a_cache = tmp_path / "notes.sqlite"
    not_a_cache.write_text("shopping list\n" * 200)
    assert window.open_cache(not_a_cache) is window
    assert said and str(not_a_cache) in said[0]
    assert window.isVisible() and window.successor is None
    items = window.go_to("items")  # still working on its own cache
    qtbot.waitUntil(lambda: items.items.model.rowCount() > 0, timeout=10_000)  # type: ignore[attr-defined]


def test_shortcut_overlay_lists_every_shortcut(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    qtbot.keyClick(window, Qt.Key.Key_F1)
    overlay = window.overlay
    assert overlay is not None and overlay.isVisible()
    lines = overlay.texts()
    for expected in ["Ctrl+O — Open another cache…", "Ctrl+E — Export current table…",
                     "Ctrl+Q — Quit", "Ctrl+1 — Overview", "F1, Ctrl+?, Ctrl+/ — Keyboard shortcuts",
                     "F5 — Sync now", "A — Approve the current recommendation",
                     "R — Reject the current recommendation", "J — Next recommendation"]:
        assert expected in lines, expected
    # every key anywhere in the window is listed, with what it does
    keys_in_window = {a.shortcut().toString() for a in window.findChildren(type(window.menus.quit))
                      if not a.shortcut().isEmpty()}
    listed = {s.keys.split(", ")[0] for s in overlay.shortcuts}
    assert keys_in_window <= listed
    assert not [s for s in overlay.shortcuts if s.what == "(no description)"]
    qtbot.keyClick(overlay, Qt.Key.Key_Escape)
    assert not overlay.isVisible()


def test_tab_and_shift_tab_leave_a_table(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    items = window.go_to("items")
    assert isinstance(items, ItemsPanel)
    qtbot.waitUntil(lambda: items.items.model.rowCount() > 0, timeout=10_000)
    view = items.items.view
    window.activateWindow()
    view.setFocus()
    view.setCurrentIndex(items.items.model.index(0, 0))
    qtbot.waitUntil(view.hasFocus, timeout=2000)
    qtbot.keyClick(view, Qt.Key.Key_Tab)
    assert not view.hasFocus()
    assert view.currentIndex().column() == 0  # Tab did not move to the next cell
    view.setFocus()
    qtbot.waitUntil(view.hasFocus, timeout=2000)
    qtbot.keyClick(view, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    assert not view.hasFocus()
    # no view of any panel swallows Tab
    for name in NAMES:
        for pane in table_panes(window.panels[name]).values():
            assert not pane.view.tabKeyNavigation(), name


# --- tooltips ------------------------------------------------------------------------------------
def test_every_action_button_and_column_header_has_a_tooltip(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    missing: list[str] = []
    for name in NAMES:
        panel = window.go_to(name)
        qtbot.waitUntil(lambda p=panel: p.has_loaded and not p.is_loading, timeout=30_000)
        for button in [*panel.findChildren(QPushButton), *panel.findChildren(QToolButton)]:
            if button.isVisibleTo(panel) and button.text() and not button.toolTip().strip():
                missing.append(f"{name}: button {button.text()!r}")
        for model in panel.findChildren(FrameTableModel):
            for col in model.columns:
                tip = model.headerData(model.columns.index(col), Qt.Orientation.Horizontal,
                                       Qt.ItemDataRole.ToolTipRole)
                if not tip or tip == col.title:
                    missing.append(f"{name}: column {col.name!r} ({col.title})")
        # trees and fixed tables without column specs too
        for view in panel.findChildren(QAbstractItemView):
            model = view.model()
            if model is None or isinstance(model, FrameTableModel) or \
                    isinstance(view, QListView | QHeaderView):
                continue
            for section in range(model.columnCount(QModelIndex())):
                title = model.headerData(section, Qt.Orientation.Horizontal)
                tip = model.headerData(section, Qt.Orientation.Horizontal,
                                       Qt.ItemDataRole.ToolTipRole)
                if not tip or tip == title:
                    missing.append(f"{name}: {view.objectName() or type(view).__name__} "
                                   f"header {title!r}")
    assert missing == [], "\n".join(missing)


def test_a_column_is_described_in_the_planners_words() -> None:
    from workbench.app.columns import SHORTAGE_COLUMNS
    from workbench.app.tables import Col

    first = SHORTAGE_COLUMNS[0]
    assert "projected available" in describe(first)
    assert describe(Col("kind", "Supply")) != describe(Col("kind", "Requirement"))
    assert describe(Col("whatever", "Whatever")) == ""  # nothing invented for an unknown column


# --- widths, order and saved views -------------------------------------------------------------
def test_column_widths_and_order_are_restored_next_start(qtbot, cache_path: Path,  # type: ignore[no-untyped-def]
                                                         tmp_path: Path) -> None:
    ctx = make_context(cache_path, tmp_path)
    first = _window(qtbot, ctx, tmp_path)
    pane = first.go_to("items").items  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: pane.model.rowCount() > 0, timeout=10_000)
    header = pane.view.horizontalHeader()
    names = [c.name for c in pane.model.columns]
    header.moveSection(header.visualIndex(names.index("description")), 0)
    header.resizeSection(names.index("planner"), 211)
    header.resizeSection(names.index("code"), 97)
    first.close()
    saved = ctx.ui_store.load().table_layouts["items/Items"]
    assert saved.order[:3] == ["description", "code", "make_buy"]
    assert saved.widths["planner"] == 211

    ctx2 = make_context(cache_path, tmp_path)
    second = _window(qtbot, ctx2, tmp_path)
    pane2 = second.go_to("items").items  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: pane2.model.rowCount() > 0, timeout=10_000)
    header2 = pane2.view.horizontalHeader()
    shown = [names[header2.logicalIndex(v)] for v in range(header2.count())]
    assert shown[:3] == ["description", "code", "make_buy"]
    assert header2.sectionSize(names.index("planner")) == 211  # not re-fitted to the data
    assert header2.sectionSize(names.index("code")) == 97
    second.close()
    ctx.engine.dispose()
    ctx2.engine.dispose()


def test_a_saved_view_restores_filters_and_sort(qtbot, cache_path: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ctx = make_context(cache_path, tmp_path)
    win = _window(qtbot, ctx, tmp_path)
    pane = win.go_to("items").items  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: pane.model.rowCount() > 0, timeout=10_000)
    assert pane.views_button.isVisible()
    with ctx.engine.connect() as conn:
        bought = conn.execute(text(
            "SELECT code FROM items WHERE make_buy = 'buy' AND deleted_at IS NULL "
            "ORDER BY lead_time_days DESC, code")).scalars().all()
        total = conn.execute(text("SELECT count(*) FROM items WHERE deleted_at IS NULL")).scalar_one()
    combo = pane.pickers["make_buy"]
    combo.setCurrentIndex(combo.findData("buy"))
    lead = [c.name for c in pane.model.columns].index("lead_time_days")
    pane.view.sortByColumn(lead, Qt.SortOrder.DescendingOrder)
    pane.save_view("bought, longest lead first")
    # the planner looks at something else
    combo.setCurrentIndex(0)
    pane.view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    assert pane.model.rowCount() == total
    assert pane.restore_view("bought, longest lead first")
    assert pane.model.rowCount() == len(bought)
    shown = pane.model.visible_keys()
    lead_times = [pane.model.value(r, "lead_time_days") for r in range(pane.model.rowCount())]
    assert lead_times == sorted(lead_times, reverse=True) and set(shown) == set(bought)
    assert combo.currentData() == "buy"
    assert pane.view.horizontalHeader().sortIndicatorSection() == lead
    win.close()

    # the view is kept in the UI state and offered in the next session, before the data is in
    ctx2 = make_context(cache_path, tmp_path)
    assert list(ctx2.ui_state.saved_views["items/Items"]) == ["bought, longest lead first"]
    win2 = _window(qtbot, ctx2, tmp_path, wait=False)
    pane2 = win2.go_to("items").items  # type: ignore[attr-defined]
    pane2.restore_view("bought, longest lead first")
    qtbot.waitUntil(lambda: pane2.model.total_rows > 0, timeout=10_000)
    assert pane2.model.rowCount() == len(bought)
    assert pane2.pickers["make_buy"].currentData() == "buy"
    pane2.delete_view("bought, longest lead first")
    assert ctx2.ui_store.load().saved_views["items/Items"] == {}
    win2.close()
    ctx.engine.dispose()
    ctx2.engine.dispose()


# --- drag and drop -------------------------------------------------------------------------------
def _drop(window: MainWindow, path: Path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(200, 200), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)


def test_dropping_a_package_folder_asks_and_then_loads_it(qtbot, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = make_context(tmp_path / "empty.sqlite", tmp_path, sources=[])
    win = _window(qtbot, ctx, tmp_path, wait=False)
    assert win.is_empty
    asked: list[str] = []
    answer = [QMessageBox.StandardButton.No]
    monkeypatch.setattr(QMessageBox, "question",
                        lambda _p, _t, question, *a: asked.append(question) or answer[0])
    _drop(win, SAMPLE)
    # 17 files; 6,403 lines less 17 header lines (wc -l resources/sample-package/*.csv)
    assert asked and "17 files, 6,386 rows" in asked[0] and str(SAMPLE) in asked[0]
    assert win.is_empty  # declined: nothing loaded
    answer[0] = QMessageBox.StandardButton.Yes
    with qtbot.waitSignal(win.populated, timeout=60_000):
        _drop(win, SAMPLE)
    with ctx.engine.connect() as conn:
        counts = {e: conn.execute(text(f"SELECT count(*) FROM {e} WHERE deleted_at IS NULL")).scalar_one()
                  for e in ("items", "suppliers", "sites")}
    # items.csv 301 lines, suppliers.csv 13, sites.csv 4, each with one header line
    assert counts == {"items": 300, "suppliers": 12, "sites": 3}
    assert ctx.settings.source("package-sample-package") is not None  # kept for the next Sync

    # one entity file is an update of that entity: one description changed, nothing deleted
    update = tmp_path / "drop" / "items.csv"
    update.parent.mkdir()
    lines = (SAMPLE / "items.csv").read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace("Summit Packaging Head PH-90", "Summit Packaging Head PH-91")
    update.write_text("\n".join(lines[:2]) + "\n", encoding="utf-8")
    asked.clear()
    with qtbot.waitSignal(win.populated, timeout=60_000):
        _drop(win, update)
    assert "as an update of items" in asked[0] and "1 rows" in asked[0]
    qtbot.waitUntil(lambda: not win.welcome.status.text() and not win.panels["overview"].is_loading,
                    timeout=30_000)
    with ctx.engine.connect() as conn:
        described = conn.execute(text(
            "SELECT description FROM items WHERE code = 'FG-00001' AND deleted_at IS NULL")).scalars().all()
        items = conn.execute(text("SELECT count(*) FROM items WHERE deleted_at IS NULL")).scalar_one()
    assert "Summit Packaging Head PH-91" in described
    assert items == 300 + (len(described) - 1)  # no item deleted by the one-row update
    assert ctx.settings.source("file-items") is None  # a one-off update is not a source
    win.close()
    ctx.engine.dispose()


def test_dropping_a_file_of_no_package_opens_the_import_wizard(qtbot, window: MainWindow, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from workbench.ui.import_wizard import ImportWizard

    said: list[str] = []
    monkeypatch.setattr(QMessageBox, "information", lambda _p, _t, msg, *a: said.append(msg))
    stray = tmp_path / "open POs 2026.xlsx"
    stray.write_bytes(b"PK")
    offer = window.offer_drop([stray])
    # no mapping profile reads it yet: the import wizard opens with the file (issue 15 §3)
    assert offer.source is None and offer.wizard and not said
    assert "mapping profile" in offer.problem and "Import plant exports" in offer.problem
    wizard = window.findChild(ImportWizard)
    assert wizard is not None and wizard.isVisible()
    assert wizard.files_page.paths == [stray.absolute()]
    # a file that is no workbook says so on the first page
    qtbot.waitUntil(lambda: "Cannot read open POs 2026.xlsx (" in wizard.files_page.status.text(),
                    timeout=20_000)
    assert wizard.files_page.status.text().startswith("0 table(s) found")
    wizard.close()


# --- the offline banner ----------------------------------------------------------------------------
def test_offline_banner_speaks_to_a_gui_user() -> None:
    today = dt.date(2026, 12, 5)
    since = dt.datetime(2026, 12, 5, 14, 2).astimezone()
    message = ("no password stored for tryton:planner@https://erp/plant; store it with "
               "`python -m workbench.connect.credentials set tryton url=https://erp "
               "database=plant user=planner`")
    text_ = offline_message([Unreachable("erp", "tryton", message, since)],
                            data_as_of="2026-12-04T07:30:00+00:00", queued=3, today=today)
    assert "python" not in text_ and "`" not in text_
    assert text_.startswith("Cannot reach erp (tryton) since 14:02: no password stored for "
                            "tryton:planner@https://erp/plant")
    as_of = dt.datetime(2026, 12, 4, 7, 30, tzinfo=dt.UTC).astimezone()
    assert f"data as of {as_of.day} Dec {as_of:%H:%M}" in text_
    assert "3 decisions wait in the outbox" in text_
    assert "Settings › Sources" in text_ and "check the network connection" in text_
    assert "working from the cache" in text_
    one = offline_message([Unreachable("erp", "tryton", "timed out", since)], queued=1,
                          today=today)
    assert "1 decision waits in the outbox" in one


def test_offline_banner_in_the_window(qtbot, cache_path: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    gone = SourceConfig(name="erp-export", connector="files",
                        params={"folder": str(tmp_path / "gone")})
    ctx = make_context(cache_path, tmp_path, sources=[DEMO, gone])
    win = _window(qtbot, ctx, tmp_path, wait=False)
    qtbot.waitUntil(win.banner.isVisible, timeout=15_000)
    shown = win.banner.text()
    assert shown.startswith("Cannot reach erp-export (files) since ")
    assert "does not exist" in shown and "working from the cache" in shown
    assert "T0" not in shown and "T1" not in shown and "python" not in shown
    win.close()
    ctx.engine.dispose()
    QApplication.processEvents()


# --- settings: where each value comes from ---------------------------------------------------------
def test_settings_show_where_each_value_comes_from(qtbot, cache_path: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from workbench.services.settings import load_settings
    from workbench.ui.panels.settings import SettingsPanel

    site = tmp_path / "etc" / "site.toml"
    site.parent.mkdir()
    site.write_text('[planning]\nhorizon_weeks = 13\n\n[[sources]]\nname = "erp"\n'
                    'connector = "files"\nparams = { folder = "/srv/exports" }\n',
                    encoding="utf-8")
    monkeypatch.setenv("PWB_SITE_PROFILE", str(site))
    ctx = make_context(cache_path, tmp_path)
    assert ctx.settings_path is not None
    # the user's own settings: the demo source and a daily bucket, nothing else
    ctx.settings_path.write_text(json.dumps({
        "schema_version": 1, "user": "tester", "planning": {"bucket": "day"},
        "sources": [DEMO.model_dump(mode="json")]}), encoding="utf-8")
    ctx.settings = load_settings(ctx.settings_path)
    assert ctx.settings.planning.horizon_weeks == 13 and ctx.settings.source("erp") is not None
    assert ctx.settings.planning.bucket == "day"
    panel = SettingsPanel(ctx)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.loaded, timeout=5000):
        panel.show()
    assert panel.origins["planning.horizon_weeks"].text() == "from site profile"
    assert panel.origins["planning.horizon_weeks"].toolTip() == str(site)
    assert panel.origins["planning.bucket"].text() == "from your settings"
    assert panel.origins["cache_path"].text().startswith("from the command line")
    model = panel.sources.model
    set_by = {model.key_at(r): model.value(r, "origin") for r in range(model.rowCount())}
    assert set_by == {"demo": "your settings", "erp": "site profile"}
    # the user sets their own horizon: the label follows
    panel.horizon.setValue(26)
    panel.save_defaults()
    assert panel.origins["planning.horizon_weeks"].text() == "from your settings"
    ctx.engine.dispose()


def test_dropping_a_plant_export_reads_it_through_the_configured_mapping(  # type: ignore[no-untyped-def]
        qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plant = resource_path("mappings", "plant")
    erp = SourceConfig(name="erp-items", connector="files", params={
        "dir": str(plant), "mapping": str(resource_path("mappings", "item-master.toml"))})
    ctx = make_context(tmp_path / "empty.sqlite", tmp_path, sources=[erp])
    win = _window(qtbot, ctx, tmp_path, wait=False)
    asked: list[str] = []
    monkeypatch.setattr(QMessageBox, "question", lambda _p, _t, question, *a:
                        asked.append(question) or QMessageBox.StandardButton.Yes)

    def rows(sql: str) -> list[str]:
        with ctx.engine.connect() as conn:
            return list(conn.execute(text(sql)).scalars().all())

    # first the units the item master uses (an entity file: an update of uoms) ...
    units = tmp_path / "units" / "uoms.csv"
    units.parent.mkdir()
    units.write_text("code,category\nEA,count\nSET,count\nKG,mass\n", encoding="utf-8")
    _drop(win, units)
    assert "as an update of uoms" in asked[0] and "3 rows" in asked[0]
    qtbot.waitUntil(lambda: len(rows("SELECT code FROM uoms")) == 3, timeout=60_000)
    # ... then the plant's item master, through the mapping profile of the configured source
    _drop(win, plant / "item_master.csv")
    assert "through the mapping profile of the source \u201cerp-items\u201d" in asked[1]
    items = "SELECT code FROM items WHERE deleted_at IS NULL ORDER BY code"
    qtbot.waitUntil(lambda: len(rows(items)) > 0, timeout=60_000)
    codes = rows(items)
    # item_master.csv: 8 lines, the header and 7 items; " p-100 " is trimmed and upper-cased
    assert len(codes) == 7 and codes[0] == "P-100"
    assert [s.name for s in ctx.settings.sources] == ["erp-items"]  # one-offs: no new source
    win.close()
    ctx.engine.dispose()


def test_a_drop_that_fails_says_why_and_stays_put(qtbot, window: MainWindow,  # type: ignore[no-untyped-def]
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    plant = resource_path("mappings", "plant")
    window.ctx.settings.sources.append(SourceConfig(name="erp-items", connector="files", params={
        "dir": str(plant), "mapping": str(resource_path("mappings", "item-master.toml"))}))
    window.go_to("items")
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a: QMessageBox.StandardButton.Yes)
    warned: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, msg, *a: warned.append(msg))
    _drop(window, plant / "item_master.csv")
    qtbot.waitUntil(lambda: bool(warned), timeout=60_000)
    # the demo has no unit SET (resources/mappings/plant/item_master.csv uses "Satz" -> SET)
    assert "unknown uom 'SET'" in warned[0] and "nothing was loaded" in warned[0]
    assert window.current_panel is window.panels["items"]  # the planner stays where they were


def test_views_menu_saves_and_restores_a_view(qtbot, window: MainWindow,  # type: ignore[no-untyped-def]
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtWidgets import QInputDialog

    items = window.go_to("items")
    pane = items.items  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: pane.model.total_rows > 0, timeout=20_000)
    with window.ctx.engine.connect() as conn:
        planner, expected = conn.execute(text(
            "SELECT planner, count(*) FROM items WHERE deleted_at IS NULL AND planner != '' "
            "GROUP BY planner ORDER BY planner LIMIT 1")).one()
    combo = pane.pickers["planner"]
    combo.setCurrentIndex(combo.findData(planner))
    assert pane.model.rowCount() == expected
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: (f"{planner}'s items", True))
    menu = pane.views_button.menu()
    menu.aboutToShow.emit()
    next(a for a in menu.actions() if a.text() == "Save current view as…").trigger()
    combo.setCurrentIndex(0)
    assert pane.model.rowCount() == pane.model.total_rows
    menu.aboutToShow.emit()
    next(a for a in menu.actions() if a.text() == f"{planner}'s items").trigger()
    assert pane.model.rowCount() == expected and combo.currentData() == planner
    saved = window.ctx.ui_store.load().saved_views["items/Items"][f"{planner}'s items"]
    assert saved.equals == {"planner": planner}


def test_ctrl_slash_opens_and_f1_closes_the_overlay(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    window.menus.shortcuts.shortcuts()  # F1, Ctrl+?, Ctrl+/
    qtbot.keyClick(window, Qt.Key.Key_Slash, Qt.KeyboardModifier.ControlModifier)
    overlay = window.overlay
    assert overlay is not None and overlay.isVisible()
    assert overlay.geometry() == window.rect()
    window.show_shortcuts()  # F1 again
    assert window.overlay is None and not overlay.isVisible()
