"""Help ▸ About: version, build, cache, settings and site profile paths (workbench.ui.about)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QMenu

from workbench import __version__
from workbench.ui.about import AboutDialog
from workbench.ui.mainwindow import MainWindow


def test_about_names_version_build_and_paths(qtbot, tmp_path: Path,  # type: ignore[no-untyped-def]
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site.toml"
    site.write_text("[planning]\nhorizon_weeks = 13\n")
    monkeypatch.setenv("PWB_SITE_PROFILE", str(site))
    settings = tmp_path / "conf" / "settings.json"
    dialog = AboutDialog(tmp_path / "plant.sqlite", settings)
    qtbot.addWidget(dialog)
    shown = {label: w.text() for label, w in dialog.values.items()}
    assert shown == {"version": __version__, "build": "source checkout",
                     "cache": str(tmp_path / "plant.sqlite"), "settings": str(settings),
                     "site profile": str(site),
                     "user site profile": f"{tmp_path / 'conf' / 'site.toml'} (none)"}
    dialog.copy()
    assert QApplication.clipboard().text().splitlines()[0] == f"version: {__version__}"


def test_about_is_reachable_from_the_help_menu(window: MainWindow,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[AboutDialog] = []
    def record(self: AboutDialog) -> int:
        opened.append(self)
        return 0

    monkeypatch.setattr(AboutDialog, "exec", record)
    menus = {a.text(): a.menu() for a in window.menuBar().actions()}
    help_menu = menus["&Help"]
    assert isinstance(help_menu, QMenu)
    about = next(a for a in help_menu.actions() if "About" in a.text())
    about.trigger()
    assert len(opened) == 1
    assert opened[0].values["cache"].text() == str(window.ctx.cache_path)
    opened[0].deleteLater()
