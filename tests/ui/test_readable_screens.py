"""Screens a planner reads without translating (issue 18 §3).

The window is opened on the small demo with something in every panel (requisitions re-evaluated,
two requisition decisions and one PO-line reschedule queued in the outbox, exception messages
refreshed). :func:`test_no_panel_shows_raw_values` walks every panel, every tab of it, and the
detail views after choosing the first row of each table, and reads every visible label, button,
tab, picker, text box and table cell (and the tables' headers). It fails on what a planner would
have to translate:

- ``None``, ``nan`` / ``NaN``, ``NaT``;
- ISO date-times with a "T" (``2026-12-05T16:14``) instead of a local time;
- raw keys: ``work_order:WO-1``, ``lot_size:…``, ``purchase.request,7``, ``requisitions:RQ-1``;
- an Item / Supplier / Site column showing a bare code where the cache has its name: the cell
  reads "CODE — Name" or the column beside holds the name (Description, Name);
- a quantity column without its unit: the unit in the cell ("100 EA"), in the header
  ("Qty (EA)", "(stock unit)") or a Unit column in the same table.

Every finding names the panel, the step (tab / detail) and the widget, so a failure says where.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, QSettings, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QComboBox,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QTabBar,
    QTabWidget,
    QTextEdit,
    QWidget,
)

from tests.ui.conftest import copy_cache, make_context
from workbench.cache.db import open_cache
from workbench.ui.mainwindow import MainWindow
from workbench.ui.operations import Op
from workbench.ui.panels import NAMES
from workbench.ui.widgets import TablePane

#: rows of each table read (the first ones: what the screen shows first)
ROWS_READ = 60


# --- the checks ------------------------------------------------------------------------------
RAW_VALUE = re.compile(r"(?<![\w.])(None|nan|NaN|NaT)(?![\w.])")
ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
RAW_KEY = re.compile(
    r"\b(work_order|lot_size|sales_order|purchase_order_lines?|purchase_orders?|planned_order|"
    r"forecast|requisitions?|demands?|items|mps|safety_stock):[A-Z0-9]"
    r"|\b[a-z_]+\.[a-z_]+,\d+")


def text_problems(text: str) -> list[str]:
    """What in one visible text a planner would have to translate."""
    found = []
    if m := RAW_VALUE.search(text):
        found.append(f"raw value {m.group(0)!r}")
    if m := ISO_DATETIME.search(text):
        found.append(f"ISO date-time {m.group(0)!r}")
    if m := RAW_KEY.search(text):
        found.append(f"raw key {m.group(0)!r}")
    return found


#: headers of code columns that must show a name, and the headers that hold one beside them
CODE_HEADERS = {"Item", "Supplier", "Site", "Component"}
NAME_HEADERS = re.compile(r"description|name", re.IGNORECASE)
QTY_HEADER = re.compile(r"\b(qty|quantity)\b", re.IGNORECASE)
UNIT_HEADER = re.compile(r"^(unit|uom|stock unit)$", re.IGNORECASE)
UNIT_IN_HEADER = re.compile(r"\((?:[A-Z]{1,4}|stock units?|in [A-Z]{1,4})\)|\bin stock units?\b")
#: a cell that is a code alone (one word, no name after it)
BARE_CODE = re.compile(r"^\s*[A-Z0-9][\w./-]*\s*$")
UNIT_IN_CELL = re.compile(r"\d\s+[A-Za-z]{1,5}\b")


@dataclass(frozen=True)
class Table:
    where: str
    headers: list[str]
    rows: list[list[str]]


def table_problems(table: Table) -> list[str]:
    """Code columns without their name, quantity columns without their unit."""
    found = []
    headers = table.headers
    for j, header in enumerate(headers):
        cells = [r[j] for r in table.rows if j < len(r) and r[j].strip()]
        if not cells:
            continue
        if header in CODE_HEADERS:
            beside = [headers[k] for k in (j - 1, j + 1) if 0 <= k < len(headers)]
            named = any(NAME_HEADERS.search(h) for h in beside)
            bare = [c for c in cells if BARE_CODE.match(c)]
            if not named and bare:
                found.append(f"column {header!r} shows codes without names, e.g. {bare[0]!r}")
        if QTY_HEADER.search(header):
            has_unit = (UNIT_IN_HEADER.search(header)
                        or any(UNIT_HEADER.match(h.strip()) for h in headers))
            bare = [c for c in cells if not UNIT_IN_CELL.search(c)]
            if not has_unit and bare:
                found.append(f"column {header!r} shows quantities without a unit, e.g. {bare[0]!r}")
    return found


# --- reading what is on the screen ---------------------------------------------------------------
def _shown(widget: QWidget, root: QWidget) -> bool:
    return widget.isVisibleTo(root) and widget.width() > 0 and widget.height() > 0


def _columns(model: Any, parent: QModelIndex) -> int:
    try:
        return int(model.columnCount(parent))
    except TypeError:  # a list model: one column
        return 1


def _model_rows(view: QAbstractItemView) -> list[list[str]]:
    model = view.model()
    if model is None:
        return []
    out: list[list[str]] = []

    def walk(parent: QModelIndex, depth: int) -> None:
        for r in range(model.rowCount(parent)):
            if len(out) >= ROWS_READ:
                return
            row = []
            for c in range(_columns(model, parent)):
                value = model.data(model.index(r, c, parent), Qt.ItemDataRole.DisplayRole)
                row.append("" if value is None else str(value))
            out.append(row)
            first = model.index(r, 0, parent)
            if depth < 3 and model.rowCount(first) > 0:
                walk(first, depth + 1)

    walk(QModelIndex(), 0)
    return out


def _headers(view: QAbstractItemView) -> list[str]:
    model = view.model()
    if model is None:
        return []
    out = []
    for c in range(_columns(model, QModelIndex())):
        value = model.headerData(c, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole)
        out.append("" if value is None else str(value))
    return out


def _strip_html(text: str) -> str:
    return re.sub(r"<[^>]+>", "", text) if "<" in text else text


def screen_texts(root: QWidget) -> Iterator[tuple[str, str]]:
    """(widget, text) of every visible text under ``root``."""
    for label in root.findChildren(QLabel):
        if _shown(label, root) and label.text():
            yield f"label {label.objectName() or label.text()[:30]!r}", _strip_html(label.text())
    for button in root.findChildren(QAbstractButton):
        if _shown(button, root) and button.text():
            yield "button", button.text()
    for bar in root.findChildren(QTabBar):
        if _shown(bar, root):
            for i in range(bar.count()):
                yield "tab", bar.tabText(i)
    for combo in root.findChildren(QComboBox):
        if _shown(combo, root):
            for i in range(combo.count()):
                yield "picker", combo.itemText(i)
    for edit in root.findChildren(QTextEdit):
        if _shown(edit, root):
            yield "text", edit.toPlainText()
    for plain in root.findChildren(QPlainTextEdit):
        if _shown(plain, root):
            yield "text", plain.toPlainText()


def screen_tables(root: QWidget) -> Iterator[Table]:
    for view in root.findChildren(QAbstractItemView):
        if (_shown(view, root) and not isinstance(view.parent(), QComboBox)
                and not isinstance(view, QHeaderView)):
            name = view.objectName() or type(view).__name__
            yield Table(name, _headers(view), _model_rows(view))


def problems_on_screen(root: QWidget, where: str) -> list[str]:
    found = []
    for widget, text in screen_texts(root):
        found += [f"{where}: {widget}: {p} in {text[:80]!r}" for p in text_problems(text)]
    for table in screen_tables(root):
        for header in table.headers:
            found += [f"{where}: {table.where} header: {p}" for p in text_problems(header)]
        for row in table.rows:
            for cell in row:
                found += [f"{where}: {table.where}: {p} in {cell[:80]!r}"
                          for p in text_problems(cell)]
        found += [f"{where}: {table.where}: {p}" for p in table_problems(table)]
    return found


# --- the demo window with something in every panel ------------------------------------------------
@pytest.fixture(scope="module")
def busy_template(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small demo at day 0 with re-evaluated requisitions, two requisition decisions and one
    PO-line reschedule in the outbox, and the exception messages of the plan stored."""
    from workbench.services import exceptions as svc
    from workbench.services.decisions import record_decision
    from workbench.services.message_decisions import record_message_decision
    from workbench.services.planning import open_session
    from workbench.services.reevaluate import run_reevaluation

    path = copy_cache(demo_template, tmp_path_factory.mktemp("readable") / "cache.sqlite")
    engine = open_cache(path)
    try:
        run_reevaluation(engine, open_session(engine))
        svc.refresh_exceptions(engine, open_session(engine))
        with engine.connect() as conn:
            recs = conn.exec_driver_sql(
                "SELECT requisition, id FROM recommendations WHERE status = 'open' "
                "AND action IN ('reduce', 'cancel') ORDER BY requisition LIMIT 2").all()
        for requisition, rec in recs:
            record_decision(engine, requisition, "approve", decided_by="tester",
                            recommendation=rec)
        reschedule = next(m for m in svc.list_exceptions(engine) if m.code == "E01")
        record_message_decision(engine, reschedule.id, "approve", decided_by="tester")
    finally:
        engine.dispose()
    return path


def busy_window(qtbot: Any, template: Path, tmp_path: Path, size: tuple[int, int]) -> MainWindow:
    cache = copy_cache(template, tmp_path / "cache.sqlite")
    ctx = make_context(cache, tmp_path)
    win = MainWindow(ctx, qsettings=QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    win.resize(*size)
    with qtbot.waitSignal(win.populated, timeout=30_000):
        win.show()
    return win


def settle(qtbot: Any, window: MainWindow, ms: int = 150) -> None:
    def idle() -> bool:
        panel = window.current_panel
        return not Op.running() and (panel is None or not panel.is_loading)

    qtbot.waitUntil(idle, timeout=60_000)
    qtbot.wait(ms)
    qtbot.waitUntil(idle, timeout=60_000)


def _first_rows(qtbot: Any, window: MainWindow, root: QWidget) -> None:
    for pane in root.findChildren(TablePane):
        if _shown(pane, root) and pane.model.rowCount() and pane.current_key() is None:
            pane.select_row(0)
            settle(qtbot, window)


def walk(qtbot: Any, window: MainWindow, name: str) -> Iterable[str]:
    """Every step of one panel: loaded, first rows chosen, then each tab of each tab widget."""
    panel = window.go_to(name)
    settle(qtbot, window)
    if name == "whereused":  # the panel asks for an item first: a component of a draft change
        parent, component = _draft_change(window)
        panel.focus_on(component)
        settle(qtbot, window)
        panel.set_parent(parent)  # type: ignore[attr-defined]
        settle(qtbot, window)
        panel.compute_impact()  # type: ignore[attr-defined]
        settle(qtbot, window)
    yield name
    _first_rows(qtbot, window, panel)
    yield f"{name} (first rows chosen)"
    for tabs in panel.findChildren(QTabWidget):
        if not _shown(tabs, panel):
            continue
        for i in range(tabs.count()):
            tabs.setCurrentIndex(i)
            settle(qtbot, window)
            _first_rows(qtbot, window, panel)
            yield f"{name} / {tabs.tabText(i)}"


def _draft_change(window: MainWindow) -> tuple[str, str]:
    """A parent with a draft revision and a bought component of its released revision."""
    with window.ctx.engine.connect() as conn:
        parent, component = conn.exec_driver_sql(
            "SELECT r.parent, l.component FROM bom_revisions r JOIN bom_lines l "
            "ON l.parent = r.parent AND l.component LIKE 'RM-%' "
            "WHERE r.status = 'draft' ORDER BY r.parent, l.position LIMIT 1").one()
    return str(parent), str(component)


def test_no_panel_shows_raw_values(qtbot, busy_template: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    window = busy_window(qtbot, busy_template, tmp_path, (1600, 1000))
    found: list[str] = []
    for name in NAMES:
        for step in walk(qtbot, window, name):
            found += problems_on_screen(window, step)
    found = list(dict.fromkeys(found))
    assert not found, f"{len(found)} unreadable values:\n" + "\n".join(found[:200])


# --- the display rules themselves (workbench.ui.format) ------------------------------------------
def test_readable_turns_raw_values_into_words(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from workbench.ui.format import local_datetime, readable

    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    try:
        assert [readable(v) for v in ("None", "nan", "NaN", "NaT", "")] == [""] * 5
        # the cache stores UTC: 16:14 UTC is 17:14 in Berlin in December, 18:14 in June (CEST)
        assert local_datetime("2026-12-05T16:14:47") == "2026-12-05 17:14"
        assert readable("sent 2026-06-05T16:14:47Z") == "sent 2026-06-05 18:14"
        assert readable("work_order:WO-000026 (48,223.92)") == "work order WO-000026 (48,223.92)"
        assert readable("lot_size:FG-00001") == "lot size FG-00001"
        assert readable("requisitions:RQ-000001") == "requisition RQ-000001"
        assert readable("purchase.request,7") == "purchase request 7"
        # plain words and times stay as they are
        for plain in ("Cancel: stock (66) covers it", "at 16:14", "PO-000001/5", "2026-11-02",
                      "Nancy", "Nonessential"):
            assert readable(plain) == plain
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_names_and_units_beside_codes_and_quantities() -> None:
    import pandas as pd

    from workbench.app.names import DisplayNames
    from workbench.app.tables import Col
    from workbench.ui import format as fmt
    from workbench.ui.models import FrameTableModel

    names = DisplayNames(items={"PP-1": "Hex Bolt M6"}, suppliers={"S1": "Westfield"},
                         sites={"P1": "Plant Hamburg"}, units={"PP-1": "EA", "RM-2": "KG"})
    before = fmt.names()
    fmt.set_names(names)
    try:
        cols = [Col("item", "Item", names="item"), Col("site", "Site", names="site"),
                Col("qty", "Qty", "qty", unit_of="item"), Col("supplier", "Supplier", names="supplier")]
        model = FrameTableModel(cols)
        model.set_frame(pd.DataFrame({"item": ["PP-1", "RM-2"], "site": ["P1", "P9"],
                                      "qty": [1200.0, 0.25], "supplier": ["S1", None]}), "item")
        shown = [[model.data(model.index(r, c)) for c in range(4)] for r in range(2)]
        assert shown == [["PP-1 — Hex Bolt M6", "P1 — Plant Hamburg", "1,200 EA", "S1 — Westfield"],
                         ["RM-2", "P9", "0.25 KG", ""]]  # no name known: the code alone
    finally:
        fmt.set_names(before)


# --- the outbox says what each entry will do ------------------------------------------------------
def test_outbox_says_what_each_entry_will_do(qtbot, busy_template: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The three queued entries of the busy demo, as the small demo at day 0 holds them:
    RQ-000001 (PP-00035 Compression Spring 10x20 at P1, 1,600 EA by 2026-12-14, supplier S0002)
    advised reduce: 701 EA available (the 398 allocated to WO-000031 not counted) + PO-000009/3
    2,000 EA on 11-23 = 2,701 EA against the open work-order components WO-000031 531 - 398
    allocated = 133, WO-000034 978.87, WO-000040 846 before 12-14 leaves 743.13 for WO-000046's
    1,827.22 on 12-14: 1,084.09 EA short, rounded up to the order multiple 200: 1,200 EA by
    2026-12-14; RQ-000004 (PP-00017 Timing Belt 10T5/800 at P3, 1,200 EA by 2026-12-08, S0001)
    advised cancel: 571 EA in stock and no demand, component or dependent requirement of it at
    P3: 0 EA, its date kept; E01 on PO-000006/1 (RM-00034 Aluminium Bar 6082 D30 at P3 from
    S0001, 1,042 KG ordered, none received, requested 2026-12-09, no promise): 220.41 KG on hand
    - 182.3 safety stock = 38.11 KG, short on 2026-11-23, when the planned SA-00047 order (986
    EA due 11-30) takes 986 x 0.59 = 581.74 KG: expedite the 1,042 KG still to come to 11-23."""
    window = busy_window(qtbot, busy_template, tmp_path, (1280, 720))
    panel = window.go_to("sync")
    settle(qtbot, window)
    outbox = panel.outbox  # type: ignore[attr-defined]
    panel.tabs.setCurrentWidget(outbox)  # type: ignore[attr-defined]
    settle(qtbot, window)
    model = outbox.table.model
    titles = [c.title for c in model.columns]
    wanted = ["Entry", "Action", "Requisition / PO line", "Item", "Quantity", "Unit", "Date",
              "Supplier"]
    rows = {model.data(model.index(r, 0)): [model.data(model.index(r, titles.index(t)))
                                            for t in wanted[1:]]
            for r in range(model.rowCount())}
    assert rows == {
        "3": ["expedite", "PO-000006/1", "RM-00034 — Aluminium Bar 6082 D30", "1,042", "KG",
              "2026-11-23", "S0001 — Westfield Precision Parts S.A."],
        "2": ["cancel", "RQ-000004", "PP-00017 — Timing Belt 10T5/800", "0", "EA", "2026-12-08",
              "S0001 — Westfield Precision Parts S.A."],
        "1": ["reduce", "RQ-000001", "PP-00035 — Compression Spring 10x20", "1,200", "EA",
              "2026-12-14", "S0002 — Adriatic Motors Sp. z o.o."],
    }


# --- key columns at 1280x720 ----------------------------------------------------------------------
#: panel -> (table title, the columns a planner must see without scrolling sideways)
KEY_COLUMNS = {
    "approvals": ("Recommendations waiting for a decision",
                  ["Requisition", "Advice", "Item", "Proposed qty", "Proposed date", "Reason"]),
    "whereused": ("Every assembly above", ["Assembly", "Level", "Extended qty"]),
    "exceptions": ("Exception messages", ["Message", "Severity", "Element", "Item"]),
    "sync": ("Outbox", ["Entry", "State", "Action", "Requisition / PO line", "Item", "Quantity",
                        "Unit", "Date", "Supplier"]),
}


def _off_screen(pane: TablePane, titles: list[str]) -> list[str]:
    """The ``titles`` whose column's right edge is beyond the table's viewport (or hidden)."""
    header = pane.view.horizontalHeader()
    shown = [c.title for c in pane.model.columns]
    width = pane.view.viewport().width()
    out = []
    for title in titles:
        section = shown.index(title)
        right = header.sectionViewportPosition(section) + header.sectionSize(section)
        if header.isSectionHidden(section) or right > width:
            sizes = [(shown[i], header.sectionSize(i)) for i in range(len(shown))]
            out.append(f"{title} (right edge {right} > {width}; widths {sizes})")
    return out


def test_key_columns_are_on_screen_at_1280x720(qtbot, busy_template: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    window = busy_window(qtbot, busy_template, tmp_path, (1280, 720))
    assert window.width() == 1280 and window.height() == 720
    missing = []
    for name, (title, titles) in KEY_COLUMNS.items():
        for _step in walk(qtbot, window, name):
            pass
        if name == "sync":
            panel = window.current_panel
            panel.tabs.setCurrentWidget(panel.outbox)  # type: ignore[union-attr]
            settle(qtbot, window)
        panes = {p.view.objectName(): p for p in window.current_panel.findChildren(TablePane)}  # type: ignore[union-attr]
        pane = panes[f"table-{title}"]
        assert pane.model.rowCount(), title
        missing += [f"{name}/{title}: {t}" for t in _off_screen(pane, titles)]
    assert not missing, "\n".join(missing)
