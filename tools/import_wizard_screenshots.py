"""Screenshots of each page of the import wizard: ``python -m tools.import_wizard_screenshots``.

Offscreen, on a fresh cache holding only units (EA, KG, SET) and sites: the sample item master of
resources/mappings/plant goes through the wizard (columns matched, upper-case codes, the unit and
make/buy words mapped on the preview, profile saved, loaded); then a copy of it with a bad lead
time is previewed and loaded to show a rejected row and the failed load. Saves
``<out>/import-wizard-<n>-<page>.png`` (default out: docs/screenshots).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SIZE = (1100, 700)


def _wait(app: object, until: Callable[[], bool], timeout: float = 60.0) -> None:
    started = time.monotonic()
    while not until():
        app.processEvents()  # type: ignore[attr-defined]
        time.sleep(0.02)
        if time.monotonic() - started > timeout:
            raise TimeoutError("the wizard did not answer in time")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.path.insert(0, str(REPO))
    from planner_connectors.files import FilesConnector
    from PySide6.QtWidgets import QApplication

    from workbench.cache.db import open_cache
    from workbench.services.settings import Settings
    from workbench.services.sync import run_sync
    from workbench.ui.import_wizard import ImportWizard
    from workbench.ui.panels.base import PanelContext

    app = QApplication.instance() or QApplication([])
    tmp = Path(tempfile.mkdtemp(prefix="wizard-shots-"))
    base = tmp / "base"
    base.mkdir()
    (base / "uoms.csv").write_text("code\nEA\nKG\nSET\n")
    (base / "sites.csv").write_text("code\nS1\nS2\n")
    cache = tmp / "cache.sqlite"
    engine = open_cache(cache)
    assert run_sync(engine, FilesConnector(base, source="base")).ok
    exports = tmp / "exports"
    exports.mkdir()
    shutil.copy(REPO / "resources" / "mappings" / "plant" / "item_master.csv", exports)
    ctx = PanelContext(engine=engine, settings=Settings(user="planner"),
                       settings_path=tmp / "settings.json", cache_path=cache)
    args.out.mkdir(parents=True, exist_ok=True)

    def shot(wizard: ImportWizard, name: str) -> None:
        app.processEvents()  # type: ignore[union-attr]
        path = args.out / f"import-wizard-{name}.png"
        wizard.grab().save(str(path))
        print(path)

    try:
        wizard = ImportWizard(ctx, files=[exports / "item_master.csv"])
        wizard.resize(*SIZE)
        wizard.show()
        wizard.files_page.source.setText("erp")
        _wait(app, wizard.files_page.isComplete)
        shot(wizard, "1-files")
        wizard.next()
        editor = wizard.columns_page.editors[0]
        editor.upper.setChecked(True)
        shot(wizard, "2-columns")
        wizard.next()
        _wait(app, wizard.preview_page.isComplete)
        shot(wizard, "3-preview-words-to-map")
        page = wizard.preview_page
        for word, value in (("Stk", "EA"), ("Satz", "SET"), ("kg", "KG")):
            page.choose("item_master.csv", "stock_uom", word, value)
        page.choose("item_master.csv", "make_buy", "E", "make")
        page.choose("item_master.csv", "make_buy", "F", "buy")
        page.run_preview()
        _wait(app, page.isComplete)
        shot(wizard, "4-preview-ok")
        wizard.next()
        wizard.load_page.path.setText(str(tmp / "mappings" / "erp.toml"))
        handle = wizard.load_page.start_load()
        _wait(app, lambda: handle.done and wizard.load_page.load_button.isEnabled())
        shot(wizard, "5-loaded")
        wizard.close()

        bad = tmp / "bad"
        bad.mkdir()
        text = (exports / "item_master.csv").read_text(encoding="utf-8-sig")
        (bad / "item_master.csv").write_text(text.replace("P-111,Housing casting,Stk,F,20",
                                                          "P-111,Housing casting,Stk,F,twenty"))
        wizard = ImportWizard(ctx, files=[bad / "item_master.csv"])
        wizard.resize(*SIZE)
        wizard.show()
        wizard.files_page.source.setText("erp-bad")
        _wait(app, wizard.files_page.isComplete)
        wizard.next()
        wizard.next()
        _wait(app, wizard.preview_page.isComplete)
        page = wizard.preview_page
        for word, value in (("Stk", "EA"), ("Satz", "SET"), ("kg", "KG")):
            page.choose("item_master.csv", "stock_uom", word, value)
        page.choose("item_master.csv", "make_buy", "E", "make")
        page.choose("item_master.csv", "make_buy", "F", "buy")
        page.run_preview()
        _wait(app, page.isComplete)
        page.records.setCurrentIndex(0)
        shot(wizard, "6-preview-rejected-row")
        wizard.next()
        wizard.load_page.path.setText(str(tmp / "mappings" / "erp-bad.toml"))
        handle = wizard.load_page.start_load()
        _wait(app, lambda: handle.done and wizard.load_page.load_button.isEnabled())
        shot(wizard, "7-load-refused")
        wizard.close()
    finally:
        ctx.runner.shutdown()
        engine.dispose()


if __name__ == "__main__":
    main()
