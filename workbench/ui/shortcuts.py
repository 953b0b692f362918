"""The window's menu bar and the keyboard-shortcuts overlay.

Menus (:func:`install_menus`):

- **File**: Open another cache… (Ctrl+O), Export current table… (Ctrl+E), Quit (Ctrl+Q);
- **View**: one entry per panel of the navigation list, the first nine on Ctrl+1 … Ctrl+9;
- **Help**: Keyboard shortcuts (F1, Ctrl+?, Ctrl+/), About Planner Workbench.

The overlay (:class:`ShortcutOverlay`) lists every shortcut of the window at the moment it opens
(:func:`window_shortcuts`): the menu entries, the panels' own keys (a ``QShortcut`` says what it
does in its ``whatsThis``, e.g. the approval queue's A / R / M) and buttons with a key. It is
built from the live widgets, so a shortcut added anywhere shows up without a list to keep in
step. Esc, F1 or a click closes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeySequence, QMouseEvent, QShortcut
from PySide6.QtWidgets import (
    QAbstractButton,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMenu,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from workbench.ui.import_wizard import open_import_wizard
from workbench.ui.panels import PANELS

if TYPE_CHECKING:
    from workbench.ui.mainwindow import MainWindow

#: the keys of Help ▸ Keyboard shortcuts (Ctrl+? is Ctrl+Shift+/ on most layouts: both work)
HELP_KEYS = ("F1", "Ctrl+?", "Ctrl+/")


@dataclass(frozen=True)
class Shortcut:
    """One key of the window: where it works, the keys, and what it does."""

    where: str
    keys: str
    what: str


@dataclass
class Menus:
    """The actions of the menu bar (tests trigger them; the overlay lists them)."""

    open_cache: QAction
    export_table: QAction
    quit: QAction
    panels: dict[str, QAction]
    shortcuts: QAction
    about: QAction


def _action(menu: QMenu, text: str, slot: Callable[[], object], keys: tuple[str, ...] = (),
            tip: str = "") -> QAction:
    action = QAction(text, menu)
    action.triggered.connect(lambda _checked=False: slot())
    if keys:
        action.setShortcuts([QKeySequence(k) for k in keys])
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    if tip:
        action.setToolTip(tip)
        action.setStatusTip(tip)
    menu.addAction(action)
    return action


def install_menus(window: MainWindow) -> Menus:
    """File, View and Help on the window's menu bar."""
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    open_cache = _action(file_menu, "&Open another cache…", window.ask_open_cache, ("Ctrl+O",),
                         "Close this cache and open another cache file in its place")
    _action(file_menu, "&Import plant exports…", partial(open_import_wizard, window),
            tip="Read CSV or XLSX exports of your PLM, ERP or WMS through a mapping profile "
                "made step by step, then load them")
    export = _action(file_menu, "&Export current table…", window.export_current_table,
                     ("Ctrl+E",), "Save the rows the current table shows as CSV or XLSX")
    file_menu.addSeparator()
    quit_action = _action(file_menu, "&Quit", window.close, ("Ctrl+Q",),
                          "Close the window (decisions are already stored in the cache)")
    quit_action.setMenuRole(QAction.MenuRole.QuitRole)
    view_menu = bar.addMenu("&View")
    panels: dict[str, QAction] = {}
    for n, (name, _cls, title) in enumerate(PANELS):
        keys = (f"Ctrl+{n + 1}",) if n < 9 else ()
        panels[name] = _action(view_menu, title.replace("&", "&&"), partial(window.go_to, name), keys,
                               f"Show the {title} panel")
    help_menu = bar.addMenu("&Help")
    shortcuts = _action(help_menu, "&Keyboard shortcuts", window.show_shortcuts, HELP_KEYS,
                        "List every keyboard shortcut of the window")
    about = _action(help_menu, "&About Planner Workbench", window.show_about,
                    tip="Version, build, and where the cache, settings and site profile are")
    return Menus(open_cache, export, quit_action, panels, shortcuts, about)


def _plain(label: str) -> str:
    """A menu label as shown: mnemonics dropped, "&&" an ampersand."""
    return label.replace("&&", "\0").replace("&", "").replace("\0", "&")


def _keys(sequences: list[QKeySequence]) -> str:
    return ", ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in sequences
                     if not s.isEmpty())


def _where(widget: QObject | None, window: MainWindow) -> str:
    """The panel a widget belongs to (its title), or "Window"."""
    from workbench.ui.panels.base import Panel

    while widget is not None and widget is not window:
        if isinstance(widget, Panel):
            return widget.title
        widget = widget.parent()
    return "Window"


def window_shortcuts(window: MainWindow) -> list[Shortcut]:
    """Every shortcut of the window and of the panels built so far, menus first."""
    out: list[Shortcut] = []
    for menu_action in window.menuBar().actions():
        menu = menu_action.menu()
        title = menu_action.text().replace("&", "")
        for action in menu.actions() if isinstance(menu, QMenu) else []:
            keys = _keys(action.shortcuts())
            if keys:
                out.append(Shortcut(f"{title} menu", keys, _plain(action.text())))
    for shortcut in window.findChildren(QShortcut):
        keys = _keys([shortcut.key()])
        if keys and shortcut.isEnabled():
            out.append(Shortcut(_where(shortcut.parent(), window), keys,
                                shortcut.whatsThis() or "(no description)"))
    for button in window.findChildren(QAbstractButton):
        keys = _keys([button.shortcut()])
        if keys:
            what = button.text().replace("&", "") or button.toolTip()
            out.append(Shortcut(_where(button, window), keys, what))
    out.append(Shortcut("Everywhere", "Tab, Shift+Tab",
                        "Next / previous control (also out of a table)"))
    return out


def _group(where: str, shortcuts: list[Shortcut]) -> QWidget:
    """One heading and its keys, the keys as narrow as they are."""
    grid = QGridLayout()
    grid.setContentsMargins(4, 4, 4, 4)
    grid.setHorizontalSpacing(18)
    grid.setVerticalSpacing(2)
    header = QLabel(f"<b>{where}</b>")
    header.setStyleSheet("color: #2f6fb3;")
    grid.addWidget(header, 0, 0, 1, 2)
    for row, s in enumerate(shortcuts, start=1):
        keys = QLabel(s.keys)
        keys.setStyleSheet("font-family: monospace; color: #1a1a1a;")
        grid.addWidget(keys, row, 0)
        what = QLabel(s.what)
        what.setWordWrap(True)
        grid.addWidget(what, row, 1)
    grid.setColumnStretch(1, 1)
    box = QWidget()
    box.setLayout(grid)
    return box


class ShortcutOverlay(QFrame):
    """A dimmed layer over the window listing :func:`window_shortcuts`; Esc or a click closes."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.setObjectName("shortcutOverlay")
        self.setStyleSheet("#shortcutOverlay { background: rgba(20, 28, 38, 170); }"
                           "#shortcutCard { background: #ffffff; border-radius: 8px; }")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.shortcuts = window_shortcuts(window)
        card = QFrame(self)
        card.setObjectName("shortcutCard")
        title = QLabel("<b>Keyboard shortcuts</b>  <span style='color:#555'>(Esc closes)</span>")
        groups: dict[str, list[Shortcut]] = {}
        for s in self.shortcuts:
            groups.setdefault(s.where, []).append(s)
        # two columns of groups, filled in order, each about half of the lines
        columns = QHBoxLayout()
        half = (len(self.shortcuts) + 2 * len(groups)) / 2
        column, lines = QVBoxLayout(), 0
        for where, keys in groups.items():
            if lines >= half and columns.count() == 0:
                column.addStretch(1)
                columns.addLayout(column, 1)
                column, lines = QVBoxLayout(), 0
            column.addWidget(_group(where, keys))
            lines += len(keys) + 2
        column.addStretch(1)
        columns.addLayout(column, 1)
        inner = QWidget()
        inner.setObjectName("shortcutList")
        inner.setStyleSheet("#shortcutList { background: #ffffff; }")
        inner.setLayout(columns)
        scroll = QScrollArea(card)
        scroll.setWidget(inner)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        box = QVBoxLayout(card)
        box.addWidget(title)
        box.addWidget(scroll, 1)
        self.card = card
        window.installEventFilter(self)
        self._window = window
        self._place()

    def texts(self) -> list[str]:
        """What the overlay shows, one "keys — what" line per shortcut (for tests)."""
        return [f"{s.keys} — {s.what}" for s in self.shortcuts]

    def _place(self) -> None:
        self.setGeometry(self._window.rect())
        w = min(960, self.width() - 80)
        h = min(max(200, 80 + 11 * (len(self.shortcuts) + 16)), self.height() - 60)
        self.card.setGeometry((self.width() - w) // 2, (self.height() - h) // 2, w, h)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._window and event.type() == QEvent.Type.Resize:
            self._place()
        return False

    def keyPressEvent(self, event: object) -> None:
        self.close()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.close()

    def closeEvent(self, event: object) -> None:
        self._window.removeEventFilter(self)
        self.deleteLater()
