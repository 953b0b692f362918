"""Import plant exports: a wizard from CSV/XLSX files to a saved mapping profile and a load.

Opened from File › Import plant exports…, from Settings › Sources' neighbour the menu, and when a
CSV or XLSX file that is not part of a data package is dropped on the window and no mapping
profile is configured yet. Four pages:

1. **Files** — pick the files (one folder; CSV, XLSX); they are read at once in the reader
   process (:func:`workbench.app.mapping.inspect_exports`): tables, headers, samples, matches;
2. **Columns** (:class:`~workbench.ui.import_wizard_pages.ColumnsPage`) — the columns side by
   side with sample values, each with its canonical field in a drop-down;
3. **Preview** (:class:`~workbench.ui.import_wizard_pages.PreviewPage`) — canonical rows, rejected
   rows highlighted with file, sheet, row, column and reason, words to map;
4. **Save and load** — the profile (TOML) saved where shown, then the files loaded through it by
   the command :func:`workbench.app.mapping.load_mapped` in the writer process, with progress
   and Cancel. The load is atomic: a rejected row or a cancel leaves the cache as it was, and the
   page says why (file, sheet, row, column, reason). A successful load registers the source in
   the settings (the next Sync reads the files again) and every panel hears what changed.

The wizard is Qt only: every step is an operation of :mod:`workbench.app.mapping`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from workbench.app.mapping import Draft, MappedLoad, inspect_exports, load_mapped, profile_toml
from workbench.app.ops import Changes, Outcome
from workbench.app.sync import describe_result
from workbench.services.tasks import Cancelled
from workbench.ui.import_wizard_pages import ColumnsPage, PreviewPage
from workbench.ui.operations import Op, OpHandle
from workbench.ui.panels.base import PanelContext

if TYPE_CHECKING:
    from workbench.ui.mainwindow import MainWindow

#: the file endings the wizard reads
EXPORT_FILES = "Plant exports (*.csv *.txt *.tsv *.xlsx *.xlsm *.xls *.ods)"


class FilesPage(QWizardPage):
    """Pick the exports; they are inspected in the background as soon as they are picked."""

    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self.wiz = wizard
        self.setTitle("Pick the files")
        self.setSubTitle("CSV or Excel exports of your PLM, ERP or WMS, from one folder. Their "
                         "columns are matched to the canonical fields on the next page.")
        self.files = QListWidget()
        self.files.setObjectName("files")
        add = QPushButton("Add files…")
        add.setToolTip("Choose CSV or XLSX exports (from one folder)")
        add.clicked.connect(self.ask_files)
        clear = QPushButton("Clear")
        clear.setToolTip("Start again with no file")
        clear.clicked.connect(lambda: self.set_files([]))
        self.source = QLineEdit()
        self.source.setObjectName("sourceName")
        self.source.setToolTip("The name the source gets in Settings › Sources and in the "
                               "records it loads")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(clear)
        buttons.addStretch(1)
        name = QHBoxLayout()
        name.addWidget(QLabel("Source name:"))
        name.addWidget(self.source, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.files, 1)
        layout.addLayout(buttons)
        layout.addLayout(name)
        layout.addWidget(self.status)
        self.paths: list[Path] = []
        self._handle: OpHandle[Any] | None = None

    def ask_files(self) -> None:
        names, _ = QFileDialog.getOpenFileNames(self, "Plant exports", "", EXPORT_FILES)
        if names:
            self.set_files([Path(n) for n in names])

    def set_files(self, paths: list[Path]) -> None:
        """Show ``paths`` and inspect them in the reader process."""
        self.paths = [Path(p).absolute() for p in paths]
        self.files.clear()
        self.files.addItems([str(p) for p in self.paths])
        self.wiz.draft = None
        self.completeChanged.emit()
        if not self.paths:
            self.status.setText("")
            return
        if not self.source.text().strip():
            self.source.setText(self.paths[0].parent.name or "plant")
        self.status.setText(f"Reading {len(self.paths)} file(s)…")
        self._handle = (
            Op.call(self.wiz.ctx.runner, inspect_exports, [str(p) for p in self.paths],
                    key=f"wizard-inspect-{id(self)}", parent=self)
            .on_success(self._inspected)
            .on_failure(lambda exc: self.status.setText(f"Cannot read these files: {exc}"))
            .run())

    def _inspected(self, draft: Draft) -> None:
        self.wiz.draft = draft
        tables = [t for t in draft.tables if t.columns]
        matched = sum(len(t.fields) for t in tables)
        unread = [f"Cannot read {t.label}" for t in draft.tables if not t.columns]
        self.status.setText("\n".join([f"{len(tables)} table(s) found, {matched} column(s) "
                                        "matched by name.", *unread]))
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self.wiz.draft is not None and bool(self.source.text().strip())

    def validatePage(self) -> bool:
        if self.wiz.draft is not None:
            self.wiz.draft.source = self.source.text().strip()
        return True


class LoadPage(QWizardPage):
    """Save the profile, then load the files through it (background, progress, Cancel)."""

    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self.wiz = wizard
        self.setTitle("Save the profile and load")
        self.setSubTitle("The profile is saved as a text file you can edit later "
                         "(docs/mapping.md). The load is all-or-nothing: a rejected row leaves "
                         "the cache as it was.")
        self.path = QLineEdit()
        self.path.setObjectName("profilePath")
        self.path.setToolTip("Where the mapping profile (TOML) is saved")
        browse = QPushButton("Browse…")
        browse.setToolTip("Choose where to save the profile")
        browse.clicked.connect(self._ask_path)
        self.text = QPlainTextEdit()
        self.text.setObjectName("profileText")
        self.text.setReadOnly(True)
        self.load_button = QPushButton("Save profile and load")
        self.load_button.setObjectName("load")
        self.load_button.setToolTip("Save the profile, then load the files into the cache")
        self.load_button.clicked.connect(self.start_load)
        self.cancel_button = QPushButton("Cancel load")
        self.cancel_button.setToolTip("Stop loading: the cache stays as it was before")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_load)
        self.progress = QProgressBar()
        self.progress.setMaximum(1000)
        self.progress.setVisible(False)
        self.result = QLabel("")
        self.result.setObjectName("loadResult")
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        where = QHBoxLayout()
        where.addWidget(QLabel("Profile:"))
        where.addWidget(self.path, 1)
        where.addWidget(browse)
        actions = QHBoxLayout()
        actions.addWidget(self.load_button)
        actions.addWidget(self.progress, 1)
        actions.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addLayout(where)
        layout.addWidget(self.text, 1)
        layout.addLayout(actions)
        layout.addWidget(self.result)
        self.loaded: MappedLoad | None = None
        self.handle: OpHandle[Any] | None = None

    def initializePage(self) -> None:
        draft = self.wiz.draft
        assert draft is not None
        if not self.path.text():
            base = Path(self.wiz.ctx.cache_path or Path.home() / "cache").parent
            self.path.setText(str(base / "mappings" / f"{draft.source}.toml"))
        self.text.setPlainText(profile_toml(draft))
        self.loaded = None

    def _ask_path(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Save the profile", self.path.text(),
                                              "Mapping profiles (*.toml)")
        if name:
            self.path.setText(name)

    def isComplete(self) -> bool:
        return self.loaded is not None and self.loaded.ok

    def start_load(self) -> OpHandle[Any]:
        draft = self.wiz.draft
        assert draft is not None
        self.load_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.result.setStyleSheet("")
        self.result.setText("Saving the profile and loading…")
        self.handle = (
            Op.call(self.wiz.ctx.runner, load_mapped, draft, self.path.text(), draft.source,
                    key=f"wizard-load-{id(self)}", parent=self)
            .on_progress(self._progress)
            .on_status(self.result.setText)
            .on_success(self._loaded)
            .on_failure(self._failed)
            .on_finished(self._finished)
            .run())
        return self.handle

    def cancel_load(self) -> None:
        if self.handle is not None:
            self.handle.cancel()
            self.result.setText("Cancelling… the cache stays as it was before this load.")

    def _progress(self, done: int, total: int | None) -> None:
        if total:
            self.progress.setMaximum(1000)
            self.progress.setValue(int(1000 * min(done, total) / total))
        else:
            self.progress.setMaximum(0)

    def _loaded(self, outcome: Outcome[MappedLoad]) -> None:
        load = outcome.value
        self.loaded = load
        self.wiz.changed.emit(outcome.changes)
        if not load.ok:
            self.result.setStyleSheet("color: #b3261e;")
            self.result.setText(failure_text(load))
            return
        self.result.setStyleSheet("color: #1e6b2e;")
        self.result.setText(f"Loaded. {describe_result(load.result)}\nProfile saved: {load.profile}")
        self.wiz.register(load)
        self.completeChanged.emit()

    def _failed(self, exc: BaseException) -> None:
        self.result.setStyleSheet("color: #b3261e;")
        if isinstance(exc, Cancelled):
            self.result.setText("Load cancelled: the cache is unchanged.")
        else:
            self.result.setText(f"Nothing was loaded: {exc}")

    def _finished(self) -> None:
        self.load_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.progress.setVisible(False)


def failure_text(load: MappedLoad, shown: int = 8) -> str:
    """Why a load changed nothing: the run's error and its first rejected rows (file, sheet,
    row, column and reason)."""
    result = load.result
    lines = [f"Nothing was loaded: {result.error or result.status}"]
    lines += [f"  {e}" for e in result.rejected[:shown]]
    if len(result.rejected) > shown:
        lines.append(f"  … and {len(result.rejected) - shown:,} more rejected rows "
                     "(Sync & Outbox lists them all)")
    lines.append(f"The profile is saved ({load.profile}): fix the files or the mapping and load "
                 "again.")
    return "\n".join(lines)


class ImportWizard(QWizard):
    """Plant exports -> mapping profile -> load (see the module doc)."""

    #: a load changed the cache (a :class:`~workbench.app.ops.Changes`): the window broadcasts it
    changed = Signal(object)

    def __init__(self, ctx: PanelContext, parent: QWidget | None = None,
                 files: list[Path] | None = None,
                 on_changes: Callable[[Changes], None] | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("importWizard")
        self.setWindowTitle("Import plant exports")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.draft: Draft | None = None
        self.files_page = FilesPage(self)
        self.columns_page = ColumnsPage(self)
        self.preview_page = PreviewPage(self)
        self.load_page = LoadPage(self)
        for page in (self.files_page, self.columns_page, self.preview_page, self.load_page):
            self.addPage(page)
        self.resize(1000, 680)
        if on_changes is not None:
            self.changed.connect(on_changes)
        if files:
            self.files_page.set_files(files)

    def register(self, load: MappedLoad) -> None:
        """A successful load's source joins the settings (replacing one of the same name), so
        the next Sync reads the files again through the profile."""
        sources = self.ctx.settings.sources
        sources[:] = [s for s in sources if s.name != load.source.name]
        sources.append(load.source)
        self.ctx.save_settings()
        self.changed.emit(Changes(sources=True))


def open_import_wizard(window: MainWindow, files: list[Path] | None = None) -> ImportWizard:
    """The wizard over ``window`` (File › Import plant exports…, or a dropped export): what its
    load changes goes to every panel through the window's broadcast."""
    wizard = ImportWizard(window.ctx, window, files=files, on_changes=window.broadcast)
    wizard.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    wizard.show()
    return wizard
