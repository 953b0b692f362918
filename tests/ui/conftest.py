"""Fixtures for the UI tests: a plant cache, a panel context, the main window.

The plant is the small demo (the connector registered as ``demo``); the template cache is loaded
once per session and copied for each test, so every test starts from the same cache and may
change it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from workbench.cache.db import open_cache
from workbench.services.settings import Settings, SourceConfig, save_settings
from workbench.services.sources import demo_connector
from workbench.services.sync import run_sync
from workbench.ui.mainwindow import MainWindow
from workbench.ui.panels.base import PanelContext
from workbench.ui.settings import UiStateStore

DEMO = SourceConfig(name="demo", connector="demo", params={"scale": "small", "day": 0})
#: contexts made by this test: their worker processes are stopped after it
_CONTEXTS: list[PanelContext] = []


@pytest.fixture(autouse=True)
def _stop_worker_processes() -> Iterator[None]:
    yield
    while _CONTEXTS:
        _CONTEXTS.pop().runner.shutdown()


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache holding the small demo plant at day 0 (built once per session)."""
    path = tmp_path_factory.mktemp("template") / "demo.sqlite"
    engine = open_cache(path)
    result = run_sync(engine, demo_connector("small", day=0))
    assert result.ok, result.error
    engine.dispose()
    return path


def copy_cache(template: Path, target: Path) -> Path:
    shutil.copy(template, target)
    for suffix in ("-wal", "-shm"):
        if Path(f"{template}{suffix}").exists():
            shutil.copy(f"{template}{suffix}", f"{target}{suffix}")
    return target


@pytest.fixture
def cache_path(demo_template: Path, tmp_path: Path) -> Path:
    return copy_cache(demo_template, tmp_path / "cache.sqlite")


def make_context(cache: Path, tmp_path: Path, sources: list[SourceConfig] | None = None
                 ) -> PanelContext:
    settings = Settings(user="tester", sources=list(sources if sources is not None else [DEMO]))
    settings_file = tmp_path / "settings.json"
    save_settings(settings, settings_file)
    store = UiStateStore(tmp_path / "ui-state.json")
    context = PanelContext(engine=open_cache(cache), settings=settings,
                           settings_path=settings_file, ui_state=store.load(), ui_store=store,
                           cache_path=cache)
    _CONTEXTS.append(context)
    return context


@pytest.fixture
def ctx(cache_path: Path, tmp_path: Path) -> Iterator[PanelContext]:
    context = make_context(cache_path, tmp_path)
    yield context
    context.engine.dispose()


@pytest.fixture
def qsettings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def window(qtbot, ctx: PanelContext, qsettings: QSettings) -> MainWindow:  # type: ignore[no-untyped-def]
    win = MainWindow(ctx, qsettings=qsettings)
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.populated, timeout=20_000):
        win.show()
    # shortcuts reach only the active window, and the platform activates a shown window later
    # (offscreen: the first window of a process was not active yet when populated came)
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=5_000)
    return win
