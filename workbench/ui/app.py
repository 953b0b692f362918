"""Starting the desktop application: ``run_gui`` (called by ``workbench`` / ``main.py`` with no
sub-command).

- no cache yet: the window opens on a welcome page offering the demo plant or a data package;
- ``--demo``: the small demo is loaded into a fresh cache (``--cache`` given: into that cache) and
  the window opens on it;
- ``--smoke PNG``: opens offscreen, waits until the first panel has its data, saves a screenshot
  and exits 0 — the packaged app's smoke test. Nothing here reads source files: only the package
  and ``resources/`` shipped beside it.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from workbench import APP_NAME, __version__

if TYPE_CHECKING:  # imported where used: start-up shows the window before loading the rest
    from PySide6.QtWidgets import QApplication

    from workbench.ui.panels.base import PanelContext

log = logging.getLogger(__name__)

#: The smoke run gives up after this many seconds.
SMOKE_TIMEOUT_S = 180


def demo_cache_path() -> Path:
    from workbench.cache.db import default_cache_path

    return default_cache_path().with_name("demo-cache.sqlite")


def _fresh(path: Path) -> None:
    """Remove a cache file, its WAL companions and the demo's ledger of written-back decisions
    kept beside it (``--demo`` starts from scratch)."""
    from workbench.connect.factory import with_cache_store

    companions = [Path(f"{path}{suffix}") for suffix in ("", "-wal", "-shm")]
    companions += [Path(str(store)) for store in with_cache_store("demo", {}, path).values()]
    for p in companions:
        if p.exists():
            p.unlink()


def resource_path(*parts: str) -> Path:
    """A file under ``resources/``: beside the package in a checkout, inside the bundle when
    frozen (PyInstaller unpacks data under ``sys._MEIPASS``)."""
    base = Path(getattr(sys, "_MEIPASS", Path(__file__).resolve().parents[2]))
    return base.joinpath("resources", *parts)


def make_application(offscreen: bool = False) -> QApplication:
    """The QApplication with our names set (QSettings paths derive from them) and Fusion style."""
    if offscreen:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else APP_NAME])
    if not isinstance(app, QApplication):  # a console QCoreApplication cannot show windows
        raise RuntimeError("a non-GUI Qt application is already running in this process")
    app.setOrganizationName(APP_NAME)
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setStyle("Fusion")
    icon = resource_path("icons", "planner-workbench.svg")
    if icon.is_file():
        from PySide6.QtGui import QIcon

        app.setWindowIcon(QIcon(str(icon)))
    return app


def build_context(cache: Path | None, settings_path: Path | None = None,
                  ui_state_path: Path | None = None) -> PanelContext:
    """Open the cache and the settings into a :class:`PanelContext`.

    Raises CacheError (the cache cannot be opened) or SettingsError (the settings file is broken),
    both with a message for the user.
    """
    from workbench.cache.db import as_location, default_cache_path, open_cache
    from workbench.services.settings import load_settings
    from workbench.ui.panels.base import PanelContext
    from workbench.ui.settings import UiStateStore

    settings_path = Path(settings_path) if settings_path else None
    settings = load_settings(settings_path)
    store = UiStateStore(Path(ui_state_path) if ui_state_path else None)
    # --cache, else the cache the settings or the site profile name, else the default
    configured = as_location(settings.cache_path) if settings.cache_path else None
    path = as_location(cache) if cache else configured or default_cache_path()  # or a URL
    engine = open_cache(path)
    return PanelContext(engine=engine, settings=settings, settings_path=settings_path,
                        ui_state=store.load(), ui_store=store, cache_path=path)


def run_gui(cache: Path | None = None, demo: bool = False, smoke: Path | None = None,
            force: bool = False) -> int:
    """Open the main window; returns the process exit code.

    Before Qt loads: no display, or system libraries missing for Qt's xcb plugin, end with a
    message naming them and exit code 2 (workbench.startup.gui_problem) instead of Qt's abort
    (134). ``--demo`` on a cache whose decisions it would discard asks first (the smoke run,
    with no one to ask, refuses with exit code 2 unless ``force``)."""
    started = time.perf_counter()
    if smoke is None:
        from workbench.startup import gui_problem

        problem = gui_problem()
        if problem:
            print(problem, file=sys.stderr)
            return 2
    app = make_application(offscreen=smoke is not None)
    from PySide6.QtWidgets import QMessageBox

    from workbench.app.sync import demo_source, is_empty
    from workbench.cache.db import CacheError
    from workbench.services.settings import SettingsError
    from workbench.ui.errors import setup_logging
    from workbench.ui.mainwindow import MainWindow

    log_file = setup_logging()
    log.info("Planner Workbench %s starting (cache %s, demo %s, smoke %s)", __version__, cache,
             demo, smoke)
    if demo and not force and not _demo_confirmed(cache, smoke is not None):
        if smoke is not None:
            return 2
        demo = False  # declined: open the cache as it is
        cache = cache or demo_cache_path()
    if demo and cache is None:
        cache = demo_cache_path()
        _fresh(cache)
    try:
        ctx = build_context(cache)
    except (CacheError, SettingsError) as exc:
        log.error("cannot start: %s", exc)
        if smoke is not None:
            print(f"workbench: {exc}", file=sys.stderr)
        else:
            QMessageBox.critical(None, "Planner Workbench", f"{exc}\n\nDetails: {log_file}")
        return 3
    empty = is_empty(ctx.engine)
    if (demo or (smoke is not None and empty)) and ctx.settings.source("demo") is None:
        ctx.settings.sources.append(demo_source())
        ctx.save_settings()
    window = MainWindow(ctx, empty=empty)
    window.show()
    if demo or (smoke is not None and empty):
        window.load_demo()
    log.info("window shown after %.2f s", time.perf_counter() - started)
    if smoke is not None:
        return _smoke(app, window, Path(smoke))
    code = app.exec()
    ctx.engine.dispose()
    return int(code)


def _demo_confirmed(cache: Path | None, unattended: bool) -> bool:
    """True when ``--demo`` may go ahead: it discards no decision, or the user said so (a
    QMessageBox); unattended (``--smoke``) a refusal is printed instead."""
    from workbench.startup import decisions_at_risk, demo_refusal

    target = Path(cache) if cache else demo_cache_path()
    count, connectors = decisions_at_risk(target, replaced=cache is None)
    if not count:
        return True
    message = demo_refusal(count, connectors, target)
    log.warning("--demo: %s", message)
    if unattended:
        print(f"workbench --demo: {message}", file=sys.stderr)
        return False
    from PySide6.QtWidgets import QMessageBox

    answer = QMessageBox.question(
        None, "Load the demo?",
        f"{message.split('; ')[0]}.\n\nLoading the demo discards them. Load the demo anyway?\n"
        "(No opens the cache as it is.)",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


def _smoke(app, window, png: Path) -> int:  # type: ignore[no-untyped-def]
    """Wait until the window shows data, save ``window.grab()`` to ``png`` and quit."""
    from PySide6.QtCore import QTimer

    from workbench.ui.operations import Op

    deadline = time.monotonic() + SMOKE_TIMEOUT_S
    outcome = {"code": 1}

    def ready() -> bool:
        panel = window.current_panel
        return (not window.is_empty and panel is not None and panel.has_loaded
                and not panel.is_loading and not Op.running())

    def poll() -> None:
        if ready():
            timer.stop()
            QTimer.singleShot(300, shoot)  # let the last layouts and paints happen
        elif time.monotonic() > deadline:
            timer.stop()
            print(f"workbench --smoke: the window was not populated within {SMOKE_TIMEOUT_S} s",
                  file=sys.stderr)
            window.close()
            app.quit()

    def shoot() -> None:
        png.parent.mkdir(parents=True, exist_ok=True)
        ok = window.grab().save(str(png))
        outcome["code"] = 0 if ok else 1
        if not ok:
            print(f"workbench --smoke: could not write {png}", file=sys.stderr)
        window.close()
        app.quit()

    timer = QTimer()
    timer.setInterval(200)
    timer.timeout.connect(poll)
    timer.start()
    app.exec()
    window.ctx.engine.dispose()
    return outcome["code"]
