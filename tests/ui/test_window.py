"""The main window: opens on the demo, navigates, restores its state, offers the demo when empty,
shows the offline banner."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt

from tests.ui.conftest import DEMO, make_context
from workbench.services.settings import SourceConfig
from workbench.services.status import cache_status
from workbench.ui.mainwindow import MainWindow

PANELS = ["Overview", "Exceptions", "Items & BOM", "Where-used & Impact", "Shortages", "Suppliers",
          "Approvals", "Sync & Outbox", "Settings"]


def test_window_opens_on_the_demo_with_every_panel(window: MainWindow) -> None:
    titles = [window.nav.item(i).text() for i in range(window.nav.count())]
    assert titles == PANELS
    assert not window.is_empty
    assert window.current_panel is window.panels["overview"]
    for name in window.panels:
        assert window.go_to(name) is window.stack.currentWidget()


def test_status_bar_shows_as_of_per_source(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: "demo: as of" in window.freshness.text(), timeout=5000)
    assert "never synced" not in window.freshness.text()


def test_navigation_by_click_and_shortcut(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    item = window.nav.item(PANELS.index("Items & BOM"))
    rect = window.nav.visualItemRect(item)
    qtbot.mouseClick(window.nav.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.current_panel is window.panels["items"]
    sync = Qt.Key(Qt.Key.Key_1.value + PANELS.index("Sync & Outbox"))  # Ctrl+8
    qtbot.keyClick(window, sync, Qt.KeyboardModifier.ControlModifier)
    assert window.current_panel is window.panels["sync"]


def test_geometry_and_panel_are_restored(qtbot, cache_path: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ini = tmp_path / "window.ini"
    ctx = make_context(cache_path, tmp_path)
    first = MainWindow(ctx, qsettings=QSettings(str(ini), QSettings.Format.IniFormat))
    qtbot.addWidget(first)
    first.show()
    screen = first.screen().availableGeometry()  # restoreGeometry keeps windows on screen
    size = (min(1111, screen.width() - 40), min(777, screen.height() - 60))
    first.resize(*size)
    size = (first.width(), first.height())  # a layout may hold a minimum
    first.go_to("sync")
    qtbot.waitUntil(lambda: first.panels["sync"].has_loaded, timeout=10_000)
    first.close()
    assert ctx.ui_store.load().last_panel == "sync"

    ctx2 = make_context(cache_path, tmp_path)
    second = MainWindow(ctx2, qsettings=QSettings(str(ini), QSettings.Format.IniFormat))
    qtbot.addWidget(second)
    second.show()
    assert (second.width(), second.height()) == size
    assert second.current_panel is second.panels["sync"]
    second.close()
    ctx.engine.dispose()
    ctx2.engine.dispose()


def test_empty_cache_offers_the_demo_and_loads_it(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ctx = make_context(tmp_path / "empty.sqlite", tmp_path, sources=[])
    win = MainWindow(ctx, qsettings=QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    win.show()
    assert win.is_empty
    assert win.stack.currentWidget() is win.welcome
    # the planner clicks another panel: the welcome page stays until there is data
    win.nav.setCurrentRow(PANELS.index("Shortages"))
    assert win.stack.currentWidget() is win.welcome
    with qtbot.waitSignal(win.populated, timeout=60_000):
        qtbot.mouseClick(win.welcome.demo_button, Qt.MouseButton.LeftButton)
    assert not win.is_empty
    assert win.current_panel is win.panels["overview"]
    assert cache_status(ctx.engine).entities["items"]["demo"] > 100
    assert ctx.settings.source("demo") is not None  # remembered for the next Sync
    win.close()
    ctx.engine.dispose()


def test_offline_banner_when_a_source_is_unreachable(qtbot, cache_path: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    gone = SourceConfig(name="erp-export", connector="files", params={"folder": str(tmp_path / "gone")})
    ctx = make_context(cache_path, tmp_path, sources=[DEMO, gone])
    win = MainWindow(ctx, qsettings=QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(win.banner.isVisible, timeout=10_000)
    assert "files" in win.banner.text() and "does not exist" in win.banner.text()
    assert "working from the cache" in win.banner.text()
    # every panel keeps working from the cache
    items = win.go_to("items")
    qtbot.waitUntil(lambda: items.items.model.rowCount() > 0, timeout=10_000)
    win.close()
    ctx.engine.dispose()


def test_a_fresh_demo_forgets_the_previous_demo_ledger(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``--demo`` starts from scratch: the cache, its WAL files and the demo's ledger of
    written-back decisions go together (an old ledger would replay last session's writes)."""
    from workbench.connect.factory import with_cache_store
    from workbench.ui.app import _fresh

    cache = tmp_path / "demo-cache.sqlite"
    ledger = Path(with_cache_store("demo", {}, cache)["ledger"])
    files = [cache, Path(f"{cache}-wal"), Path(f"{cache}-shm"), ledger]
    for f in files:
        f.write_text("x")
    keep = tmp_path / "other.sqlite"
    keep.write_text("x")
    _fresh(cache)
    assert [f.exists() for f in files] == [False] * 4
    assert keep.exists()
