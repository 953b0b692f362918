"""Screenshots of the window's desktop habits at 1280×720: ``python -m tools.desktop_screenshots
[--out DIR]``.

Opens the window offscreen on the prepared small demo (as :mod:`tools.screenshots` does), then
saves ``<out>/21-menu-view.png`` (the View menu open over the Approvals panel: every panel with its
key), ``22-menu-file.png`` and ``23-shortcuts-overlay.png`` (Help ▸ Keyboard shortcuts). A menu
is a popup window of its own, so it is painted onto the window's image where it opened.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

SIZE = (1280, 720)


def _with_menu(app: Any, window: Any, title: str) -> Any:
    """The window's image with the menu ``title`` of its menu bar open on it."""
    from PySide6.QtGui import QPainter

    from tools.screenshots import _settle

    bar = window.menuBar()
    action = next(a for a in bar.actions() if a.text().replace("&", "") == title)
    menu = action.menu()
    at = bar.mapToGlobal(bar.actionGeometry(action).bottomLeft())
    menu.popup(at)
    _settle(app, window, 0.5)
    image = window.grab()
    painter = QPainter(image)
    painter.drawPixmap(window.mapFromGlobal(menu.pos()), menu.grab())
    painter.end()
    menu.hide()
    return image


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = ap.parse_args(argv)
    from workbench.ui.app import build_context, make_application

    app = make_application(offscreen=True)
    from PySide6.QtCore import QSettings

    from tools.screenshots import _prepare, _settle
    from workbench.app.sync import DEMO_SOURCE
    from workbench.services.settings import Settings, save_settings
    from workbench.ui.mainwindow import MainWindow

    tmp = Path(tempfile.mkdtemp(prefix="pwb-habits-"))
    cache = tmp / "demo.sqlite"
    _prepare(cache)
    save_settings(Settings(user="demo buyer", sources=[DEMO_SOURCE]), tmp / "settings.json")
    ctx = build_context(cache, tmp / "settings.json", tmp / "ui.json")
    window = MainWindow(ctx, qsettings=QSettings(str(tmp / "w.ini"), QSettings.Format.IniFormat))
    window.resize(*SIZE)
    window.show()
    _settle(app, window, 2.0)
    args.out.mkdir(parents=True, exist_ok=True)
    window.go_to("approvals")
    _settle(app, window, 1.5)
    shots = [("21-menu-view.png", lambda: _with_menu(app, window, "View")),
             ("22-menu-file.png", lambda: _with_menu(app, window, "File"))]
    for name, take in shots:
        path = args.out / name
        take().save(str(path))
        print(path)
    window.show_shortcuts()
    _settle(app, window, 1.0)
    path = args.out / "23-shortcuts-overlay.png"
    window.grab().save(str(path))
    print(path)
    window.close()
    ctx.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
