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
    from tools.screenshots import _settle, demo_window

    app, window = demo_window("pwb-habits-", SIZE)
    ctx = window.ctx
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
