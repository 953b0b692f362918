"""The import wizard's middle pages: columns matched side by side with samples, and the preview.

:class:`ColumnsPage` shows each picked table (a CSV file or a sheet) with the entity it seems to
hold, its decimal sign and thousands separator, and per column its sample values beside a
drop-down of the canonical field it fills (matched automatically by
:func:`workbench.app.mapping.inspect_exports`). :class:`PreviewPage` reads every row through the
resulting profile in the reader process (:func:`workbench.app.mapping.preview_mapping`): the
first canonical records per entity, the rejected rows highlighted with file, sheet, row, column
and reason, and a drop-down per word a status, make/buy or unit column holds that needs a value
map entry. Nothing is written on these pages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
    QWizardPage,
)

from workbench.app.mapping import (
    Draft,
    MappingPreview,
    TableDraft,
    field_choices,
    preview_mapping,
    value_choices,
)
from workbench.ui.operations import Op

if TYPE_CHECKING:
    from workbench.ui.import_wizard import ImportWizard

#: the rows a rejected row is painted with in the preview
BAD = QColor("#f8d7d5")
#: the entities a table may hold ("entity|layout"; "" = not loaded)
NOT_LOADED = ""


def entity_options() -> list[tuple[str, str]]:
    """(label, "entity|layout") of the entity drop-down."""
    from workbench.domain.models import ENTITIES

    out = [("(not loaded)", NOT_LOADED)]
    for entity in ENTITIES:
        out.append((entity, f"{entity}|table"))
        if entity == "bom_lines":
            out.append(("bom_lines — indented multi-level BOM", "bom_lines|indented"))
    return out


class TableEditor(QWidget):
    """One table of the draft: entity, number format, and a field drop-down per column."""

    def __init__(self, table: TableDraft, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = table
        self.entity = QComboBox()
        self.entity.setObjectName("entity")
        self.entity.setToolTip("What the rows of this table are (not loaded: skip the table)")
        for label, data in entity_options():
            self.entity.addItem(label, data)
        self.decimal = QComboBox()
        self.decimal.setToolTip("The decimal sign of the numbers in this table")
        for label, data in (("1.5 (point)", "."), ("1,5 (comma)", ",")):
            self.decimal.addItem(label, data)
        self.thousands = QComboBox()
        self.thousands.setToolTip("The thousands separator of the numbers in this table")
        for label, data in (("none", ""), ("1,000", ","), ("1.000", "."), ("1 000", " "),
                            ("1'000", "'")):
            self.thousands.addItem(label, data)
        self.upper = QCheckBox("Codes in upper case")
        self.upper.setObjectName("upperCodes")
        self.upper.setToolTip("Item, supplier, site and other codes upper-cased: ' p-100 ' "
                              "becomes 'P-100' (blanks around a code are always trimmed)")
        self.upper.setChecked(table.upper_codes)
        self.upper.toggled.connect(self._upper_chosen)
        top = QHBoxLayout()
        where = f", header on row {table.header_row}" if table.header_row != 1 else ""
        top.addWidget(QLabel(f"{table.label}{where} — holds:"))
        top.addWidget(self.entity, 1)
        top.addWidget(QLabel("Decimal:"))
        top.addWidget(self.decimal)
        top.addWidget(QLabel("Thousands:"))
        top.addWidget(self.thousands)
        top.addWidget(self.upper)
        self.grid = QTableWidget(len(table.columns), 3)
        self.grid.setObjectName("columns")
        self.grid.setHorizontalHeaderLabels(["Column in the file", "Sample values", "Canonical field"])
        self.grid.verticalHeader().setVisible(False)
        self.grid.horizontalHeader().setStretchLastSection(True)
        self.combos: dict[str, QComboBox] = {}
        for r, column in enumerate(table.columns):
            self.grid.setItem(r, 0, QTableWidgetItem(column))
            self.grid.setItem(r, 1, QTableWidgetItem(" | ".join(table.samples_of(column)) if column
                                                     else ""))
            combo = QComboBox()
            combo.setToolTip(f"The canonical field column {column!r} fills")
            combo.currentIndexChanged.connect(lambda _i, c=column: self._field_chosen(c))
            self.combos[column] = combo
            self.grid.setCellWidget(r, 2, combo)
        self.grid.resizeColumnsToContents()
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.grid, 1)
        self._select(self.entity, f"{table.entity}|{table.layout}" if table.entity else NOT_LOADED)
        self._select(self.decimal, table.decimal)
        self._select(self.thousands, table.thousands)
        self._fill_fields()
        self.entity.currentIndexChanged.connect(lambda _i: self._entity_chosen())
        self.decimal.currentIndexChanged.connect(lambda _i: self._format_chosen())
        self.thousands.currentIndexChanged.connect(lambda _i: self._format_chosen())

    @staticmethod
    def _select(combo: QComboBox, data: Any) -> None:
        i = combo.findData(data)
        combo.setCurrentIndex(max(i, 0))

    def _fill_fields(self) -> None:
        t = self.table
        choices = field_choices(t.entity, t.layout) if t.entity else []
        for column, combo in self.combos.items():
            combo.blockSignals(True)
            combo.clear()
            combo.addItem("(not mapped)", "")
            for name in choices:
                combo.addItem(name, name)
            self._select(combo, t.fields.get(column, ""))
            combo.setEnabled(bool(choices) and bool(column))
            combo.blockSignals(False)
        t.fields = {c: f for c, f in t.fields.items() if f in choices}

    def _entity_chosen(self) -> None:
        data = str(self.entity.currentData() or "")
        entity, _, layout = data.partition("|")
        self.table.entity = entity or None
        self.table.layout = layout or "table"
        self._fill_fields()

    def _format_chosen(self) -> None:
        self.table.decimal = str(self.decimal.currentData())
        self.table.thousands = str(self.thousands.currentData())

    def _upper_chosen(self, on: bool) -> None:
        self.table.upper_codes = on

    def _field_chosen(self, column: str) -> None:
        name = str(self.combos[column].currentData() or "")
        fields = self.table.fields
        if not name:
            fields.pop(column, None)
            return
        for other, chosen in list(fields.items()):  # a field is filled by one column
            if chosen == name and other != column:
                del fields[other]
                self._select(self.combos[other], "")
        fields[column] = name

    def set_field(self, column: str, name: str) -> None:
        """Choose ``name`` for ``column`` as the drop-down would (tests, keyboard users)."""
        self._select(self.combos[column], name)


class ColumnsPage(QWizardPage):
    """Each table's columns beside their sample values, each with its field drop-down."""

    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self.wiz = wizard
        self.setTitle("Match the columns")
        self.setSubTitle("Each column was matched to a canonical field by its name. Check the "
                         "samples and change a field with its drop-down; columns left "
                         "'not mapped' are not read.")
        self.tabs = QTabWidget()
        self.tabs.setObjectName("tables")
        self.editors: list[TableEditor] = []
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)

    def initializePage(self) -> None:
        self.tabs.clear()
        self.editors = []
        draft = self.wiz.draft
        assert draft is not None
        for table in draft.tables:
            editor = TableEditor(table)
            self.editors.append(editor)
            self.tabs.addTab(editor, table.label)

    def editor(self, label_start: str) -> TableEditor:
        """The editor of the table whose label starts with ``label_start``."""
        return next(e for e in self.editors if e.table.label.startswith(label_start))


class PreviewPage(QWizardPage):
    """The profile read against every row: canonical records, rejected rows, words to map."""

    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self.wiz = wizard
        self.setTitle("Preview")
        self.setSubTitle("The first rows as canonical records. Rejected rows are red and say why; "
                         "words a value column cannot take get a drop-down below. Nothing is "
                         "written yet.")
        self.summary = QLabel("")
        self.summary.setObjectName("previewSummary")
        self.summary.setWordWrap(True)
        self.words = QTableWidget(0, 4)
        self.words.setObjectName("valueMaps")
        self.words.setHorizontalHeaderLabels(["Table", "Field", "Word in the file", "Means"])
        self.words.verticalHeader().setVisible(False)
        self.words.horizontalHeader().setStretchLastSection(True)
        self.words.setMaximumHeight(170)
        self.again = QPushButton("Check again")
        self.again.setToolTip("Read every row again with the value maps chosen above")
        self.again.clicked.connect(self.run_preview)
        self.records = QTabWidget()
        self.records.setObjectName("records")
        row = QHBoxLayout()
        row.addWidget(QLabel("Values to map:"))
        row.addStretch(1)
        row.addWidget(self.again)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(row)
        layout.addWidget(self.words)
        layout.addWidget(self.records, 1)
        self.preview: MappingPreview | None = None
        self.word_combos: dict[tuple[int, str, str], QComboBox] = {}

    def initializePage(self) -> None:
        self.run_preview()

    def isComplete(self) -> bool:
        return self.preview is not None

    def run_preview(self) -> None:
        draft = self.wiz.draft
        assert draft is not None
        self._take_words(draft)
        self.preview = None
        self.completeChanged.emit()
        self.summary.setText("Reading every row through the profile…")
        (Op.call(self.wiz.ctx.runner, preview_mapping, draft, key=f"wizard-preview-{id(self)}",
                 parent=self)
         .with_progress("Reading the files through the profile…")
         .on_success(self.show_preview)
         .on_failure(lambda exc: self.summary.setText(f"Cannot preview: {exc}"))
         .run())

    def _take_words(self, draft: Draft) -> None:
        """The value-map choices made in the table so far, into the draft."""
        for (index, name, word), combo in self.word_combos.items():
            value = str(combo.currentData() or "")
            if value:
                draft.tables[index].values.setdefault(name, {})[word] = value

    def show_preview(self, preview: MappingPreview) -> None:
        self.preview = preview
        check = preview.check
        rejected = sum(len(p.rejected) for p in check.entities)
        if check.ok and not preview.words:
            text = "No problem found: every row reads as a canonical record."
            colour = "#1e6b2e"
        else:
            text = (f"{len(check.problems):,} problems ({rejected:,} rows rejected). A load with "
                    "rejected rows is refused as a whole and the cache keeps what it has; map the "
                    "words below or change the columns, then check again.")
            colour = "#b3261e"
        profile_problems = [p for p in check.problems if not any(
            p.startswith(f"{e.entity}: ") and e.rejected for e in check.entities)]
        if profile_problems:
            text += "\n" + "\n".join(profile_problems[:5])
        self.summary.setText(text)
        self.summary.setStyleSheet(f"color: {colour};")
        self._show_words(preview)
        self._show_records(preview)
        self.completeChanged.emit()

    def _show_words(self, preview: MappingPreview) -> None:
        draft = self.wiz.draft
        assert draft is not None
        self.word_combos = {}
        pairs = [(key, w) for key, words in preview.words.items() for w in words]
        self.words.setRowCount(len(pairs))
        for r, ((index, name), word) in enumerate(pairs):
            t = draft.tables[index]
            assert t.entity is not None
            self.words.setItem(r, 0, QTableWidgetItem(t.label))
            self.words.setItem(r, 1, QTableWidgetItem(name))
            self.words.setItem(r, 2, QTableWidgetItem(word))
            combo = QComboBox()
            combo.setToolTip(f"The canonical value {word!r} stands for in {name}")
            combo.addItem("(choose)", "")
            for value in value_choices(t.entity, name, t.layout, draft.units) or []:
                combo.addItem(value, value)
            self.words.setCellWidget(r, 3, combo)
            self.word_combos[(index, name, word)] = combo
        self.words.resizeColumnsToContents()

    def choose(self, table_start: str, name: str, word: str, value: str) -> None:
        """Pick ``value`` for ``word`` as the drop-down would (tests, keyboard users)."""
        draft = self.wiz.draft
        assert draft is not None
        for (index, field_name, w), combo in self.word_combos.items():
            if (draft.tables[index].label.startswith(table_start) and field_name == name
                    and w == word):
                combo.setCurrentIndex(combo.findData(value))
                return
        raise KeyError((table_start, name, word))

    def _show_records(self, preview: MappingPreview) -> None:
        self.records.clear()
        for entity in preview.check.entities:
            columns = sorted({k for r in entity.records for k in r})
            grid = QTableWidget(len(entity.records) + len(entity.rejected[:500]), len(columns) + 2)
            grid.setObjectName(f"preview-{entity.entity}")
            grid.setHorizontalHeaderLabels(["Row", "Problem", *columns])
            grid.verticalHeader().setVisible(False)
            for r, record in enumerate(entity.records):
                grid.setItem(r, 0, QTableWidgetItem(""))
                grid.setItem(r, 1, QTableWidgetItem(""))
                for c, name in enumerate(columns, start=2):
                    value = record.get(name)
                    grid.setItem(r, c, QTableWidgetItem("" if value is None else str(value)))
            for r, error in enumerate(entity.rejected[:500], start=len(entity.records)):
                where = f"{error.file}, row {error.row}" if error.file else "?"
                cells = [where, f"{error.field}: {error.reason}"]
                for c, text in enumerate(cells):
                    item = QTableWidgetItem(text)
                    item.setToolTip(text)
                    grid.setItem(r, c, item)
                for c in range(grid.columnCount()):
                    cell = grid.item(r, c)
                    if cell is None:
                        cell = QTableWidgetItem("")
                        grid.setItem(r, c, cell)
                    cell.setBackground(QBrush(BAD))
            grid.resizeColumnsToContents()
            grid.setColumnWidth(1, min(grid.columnWidth(1), 420))
            title = f"{entity.entity} ({entity.read:,} rows, {len(entity.rejected):,} rejected)"
            self.records.addTab(grid, title)
