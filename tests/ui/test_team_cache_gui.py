"""The desktop app on a team cache (issue 17 §1/§2): the main window opened on the small demo in
PostgreSQL walks every panel (each tab, first rows chosen, as tests/ui/test_readable_screens.py
walks them) with no error dialog and the same row counts in every table as on the same demo in
SQLite; and the Exceptions panel decides on the version its list shows, so a PO line another
buyer decided meanwhile is refused with both decisions named (both engines)."""

from __future__ import annotations

import datetime as dt
import getpass
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QTabWidget, QWidget
from sqlalchemy import Engine, select

from tests.ui.conftest import copy_cache, make_context
from tests.ui.test_readable_screens import _shown, settle
from workbench.cache.db import open_cache
from workbench.cache.schema import ENTITY_TABLES, decisions, recommendations
from workbench.services.sources import demo_connector
from workbench.services.sync import run_sync
from workbench.ui.mainwindow import MainWindow
from workbench.ui.panels import NAMES
from workbench.ui.panels.exceptions import ExceptionsPanel
from workbench.ui.widgets import TablePane


def _busy(engine: Engine) -> None:
    """Something in every panel: requisitions re-evaluated, the plan's exception messages stored,
    two requisition decisions and one PO-line reschedule queued (as the readable-screens test)."""
    from workbench.services import exceptions as svc
    from workbench.services.decisions import record_decision
    from workbench.services.message_decisions import record_message_decision
    from workbench.services.planning import open_session
    from workbench.services.reevaluate import run_reevaluation

    when = dt.datetime(2026, 11, 2, 9, 0)
    run_reevaluation(engine, open_session(engine))
    svc.refresh_exceptions(engine, open_session(engine))
    with engine.connect() as conn:
        found = conn.execute(
            select(recommendations.c.requisition, recommendations.c.id)
            .where(recommendations.c.status == "open",
                   recommendations.c.action.in_(["reduce", "cancel"]))
            .order_by(recommendations.c.requisition).limit(2)).all()
    for requisition, rec in found:
        record_decision(engine, requisition, "approve", decided_by="tester", recommendation=rec,
                        now=when)
    reschedule = next(m for m in svc.list_exceptions(engine) if m.code == "E01")
    record_message_decision(engine, reschedule.id, "approve", decided_by="tester", now=when)


@pytest.fixture(scope="module")
def busy_sqlite(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = copy_cache(demo_template, tmp_path_factory.mktemp("team-gui") / "cache.sqlite")
    engine = open_cache(path)
    try:
        _busy(engine)
    finally:
        engine.dispose()
    return path


@pytest.fixture(scope="module")
def busy_pg(pg_server: Any) -> Iterator[str]:
    """The same demo and the same decisions in a PostgreSQL database (a template: each test
    takes a copy)."""
    url = pg_server.create_database("gui_busy")
    engine = open_cache(url)
    try:
        assert run_sync(engine, demo_connector("small", day=0)).ok
        _busy(engine)
    finally:
        engine.dispose()
    yield "gui_busy"
    pg_server.drop_database("gui_busy")


_COPIES = iter(range(1, 10**6))


@pytest.fixture
def pg_copy(pg_server: Any, busy_pg: str) -> Iterator[str]:
    name = f"gui_{next(_COPIES)}"
    yield pg_server.create_database(name, template=busy_pg)
    pg_server.drop_database(name)


def _window(qtbot: Any, cache: Path | str, tmp_path: Path) -> MainWindow:
    ctx = make_context(cache, tmp_path)  # type: ignore[arg-type]  # a URL is a location too
    win = MainWindow(ctx, qsettings=QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    win.resize(1600, 1000)
    with qtbot.waitSignal(win.populated, timeout=60_000):
        win.show()
    return win


def _error_boxes() -> list[str]:
    return [f"{w.windowTitle()}: {w.text()}" for w in QApplication.allWidgets()
            if isinstance(w, QMessageBox) and w.isVisible()]


def _draft_change(engine: Engine) -> tuple[str, str]:
    """A parent with a draft revision and a bought component of its released revision."""
    r, line = ENTITY_TABLES["bom_revisions"], ENTITY_TABLES["bom_lines"]
    with engine.connect() as conn:
        parent, component = conn.execute(
            select(r.c.parent, line.c.component)
            .join(line, (line.c.parent == r.c.parent) & line.c.component.like("RM-%"))
            .where(r.c.status == "draft").order_by(r.c.parent, line.c.position).limit(1)).one()
    return str(parent), str(component)


def _tables(root: QWidget) -> list[tuple[str, int]]:
    """(its first columns' titles, rows) of every table shown in ``root``."""
    return [(" | ".join(c.title for c in pane.model.columns[:3]), pane.model.rowCount())
            for pane in root.findChildren(TablePane) if _shown(pane, root)]


def _first_rows(qtbot: Any, window: MainWindow, root: QWidget) -> None:
    for pane in root.findChildren(TablePane):
        if _shown(pane, root) and pane.model.rowCount() and pane.current_key() is None:
            pane.select_row(0)
            settle(qtbot, window)


def walk(qtbot: Any, window: MainWindow) -> list[tuple[str, list[tuple[str, int]]]]:
    """Every panel, first rows chosen, each tab of it: the row counts of its tables at each
    step; an error dialog at any step fails the test naming the step."""
    seen: list[tuple[str, list[tuple[str, int]]]] = []

    def step(where: str, panel: QWidget) -> None:
        settle(qtbot, window)
        boxes = _error_boxes()
        assert not boxes, f"{where}: {boxes}"
        seen.append((where, _tables(panel)))

    for name in NAMES:
        panel = window.go_to(name)
        if name == "whereused":  # the panel asks for an item: a component of a draft change
            settle(qtbot, window)
            parent, component = _draft_change(window.ctx.engine)
            panel.focus_on(component)
            settle(qtbot, window)
            panel.set_parent(parent)  # type: ignore[attr-defined]
            settle(qtbot, window)
            panel.compute_impact()  # type: ignore[attr-defined]
        step(name, panel)
        _first_rows(qtbot, window, panel)
        step(f"{name} (first rows chosen)", panel)
        for tabs in panel.findChildren(QTabWidget):
            if not _shown(tabs, panel):
                continue
            for i in range(tabs.count()):
                tabs.setCurrentIndex(i)
                settle(qtbot, window)
                _first_rows(qtbot, window, panel)
                step(f"{name} / {tabs.tabText(i)}", panel)
    return seen


def test_every_panel_on_postgresql_shows_what_sqlite_shows(  # type: ignore[no-untyped-def]
        qtbot, busy_sqlite: Path, pg_copy: str, tmp_path: Path) -> None:
    (tmp_path / "lite").mkdir()
    (tmp_path / "pg").mkdir()
    lite = _window(qtbot, copy_cache(busy_sqlite, tmp_path / "lite" / "cache.sqlite"),
                   tmp_path / "lite")
    on_sqlite = walk(qtbot, lite)
    lite.close()
    team = _window(qtbot, pg_copy, tmp_path / "pg")
    assert team.ctx.engine.dialect.name == "postgresql"
    on_postgresql = walk(qtbot, team)
    team.close()
    assert [s for s, _ in on_postgresql] == [s for s, _ in on_sqlite]
    assert len(on_sqlite) >= len(NAMES) * 2
    for (where, ours), (_, theirs) in zip(on_sqlite, on_postgresql):
        assert theirs == ours, f"{where}: row counts differ on PostgreSQL"
    shown = dict(on_sqlite)
    assert sum(n for _, n in shown["exceptions"]) > 100  # the walk saw real rows
    assert sum(n for _, n in shown["approvals"]) > 0


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request: pytest.FixtureRequest, busy_sqlite: Path, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(copy_cache(busy_sqlite, tmp_path / "cache.sqlite"))
    return str(request.getfixturevalue("pg_copy"))


def test_the_exceptions_panel_refuses_a_po_line_another_buyer_decided_meanwhile(  # type: ignore[no-untyped-def]
        qtbot, location: str, tmp_path: Path) -> None:
    from workbench.services.message_decisions import record_message_decision

    ctx = make_context(location, tmp_path)  # type: ignore[arg-type]
    panel = ExceptionsPanel(ctx)
    qtbot.addWidget(panel)
    panel.resize(1300, 800)
    panel.show()
    model = panel.queue.model
    qtbot.waitUntil(lambda: model.total_rows > 0 and not panel.is_loading, timeout=60_000)
    panel.activateWindow()
    qtbot.waitUntil(panel.isActiveWindow, timeout=5_000)
    combo = panel.queue.pickers["kind_label"]
    combo.setCurrentIndex(combo.findData("E01 reschedule in"))
    decided = next(r for r in range(model.rowCount()) if model.value(r, "decision"))
    assert model.value(decided, "decision_version") == 1  # _busy's reschedule, decided once
    row = next(r for r in range(model.rowCount()) if not model.value(r, "decision"))
    assert model.value(row, "decision_version") == 0
    panel.queue.select_row(row)
    key = int(panel.queue.current_key())
    element = str(model.value(row, "element"))
    qtbot.waitUntil(lambda: panel.detail is not None and panel.detail.id == key, timeout=30_000)

    other = open_cache(location)  # the other workstation decides while this list shows it
    try:
        record_message_decision(other, key, "reject", decided_by="Bob", expected_version=0,
                                now=dt.datetime(2026, 12, 5, 9, 30))
    finally:
        other.dispose()
    panel.queue.view.setFocus()
    qtbot.keyClick(panel.queue.view, Qt.Key.Key_A)  # approve what the screen still shows
    qtbot.waitUntil(lambda: panel.status.text().startswith("Not stored"), timeout=30_000)
    text = panel.status.text()
    assert text.startswith(f"Not stored: purchase order line {element} was decided meanwhile "
                           f"by Bob (login {getpass.getuser()}")
    assert "at 2026-12-05T09:30:00: reject expedite" in text
    assert "Yours was tester (login " in text and ": approve expedite " in text
    with ctx.engine.connect() as conn:
        who = [w for (w,) in conn.execute(select(decisions.c.decided_by)
                                          .where(decisions.c.requisition == element))]
    assert who == ["Bob"]  # theirs stored, ours not
    # the list was reloaded: the row shows Bob's decision and the version it made
    def shown(name: str) -> Any:
        at = model.row_of(key)
        return None if at is None else model.value(at, name)

    qtbot.waitUntil(lambda: shown("decision") == "rejected", timeout=30_000)
    assert shown("decision_version") == 1
