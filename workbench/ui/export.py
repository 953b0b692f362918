"""Writing what a table shows to CSV or XLSX (pandas + openpyxl), with its filters applied.

No Qt here: the table pane hands over ``model.visible_frame()`` and runs this in a background op.

Safe to open: text a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``,
tab or carriage return) never becomes one. CSV: such text gets a quote in front, as OWASP
recommends (:func:`workbench.services.packages.neutralise_frame`, shared with the data package
export). XLSX: it is written as a string cell, unchanged. Numbers stay numbers in both.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.services.tasks import TaskState, check_cancelled

if TYPE_CHECKING:
    import pandas as pd

#: Excel's hard row limit (one row is the header).
XLSX_MAX_ROWS = 1_048_575


class ExportError(ValueError):
    """The export cannot be written as asked; the message says what to do instead."""


def export_frame(frame: pd.DataFrame, path: str | Path, state: TaskState | None = None) -> Path:
    """Write ``frame`` to ``path``; the suffix (.csv or .xlsx) picks the format."""
    import pandas as pd
    path = Path(path)
    suffix = path.suffix.lower()
    check_cancelled(state)
    if state:
        state.set_status(f"writing {len(frame):,} rows to {path.name}")
    if suffix == ".csv":
        from workbench.services.packages import neutralise_frame

        # CRLF rows (RFC 4180): text holding a bare carriage return is then quoted too
        neutralise_frame(frame).to_csv(path, index=False, encoding="utf-8", lineterminator="\r\n")
    elif suffix == ".xlsx":
        if len(frame) > XLSX_MAX_ROWS:
            raise ExportError(
                f"{len(frame):,} rows do not fit in one Excel sheet (limit {XLSX_MAX_ROWS:,}); "
                "filter the table first or export to CSV"
            )
        with pd.ExcelWriter(path, engine="openpyxl") as writer:
            frame.to_excel(writer, index=False, sheet_name="Export")
            sheet = writer.sheets["Export"]
            sheet.freeze_panes = "A2"
            _text_not_formulas(sheet, frame)
            for i, column in enumerate(frame.columns, start=1):
                sample = frame[column].head(200).astype(str)
                width = max([len(str(column))] + [len(str(s)) for s in sample]) + 2
                sheet.column_dimensions[sheet.cell(1, i).column_letter].width = min(width, 60)
    else:
        raise ExportError(f"cannot export to {path.name}: choose a .csv or .xlsx file")
    if state:
        state.set_progress(1, 1)
    return path


def _text_not_formulas(sheet: Any, frame: pd.DataFrame) -> None:
    """Make every cell openpyxl took for a formula (text starting with ``=``) a string cell,
    the header's too. Other formula-looking text (``+``, ``-``, ``@``) is already a string
    cell, which a spreadsheet never runs."""
    from pandas.api.types import is_string_dtype

    for i, column in enumerate(frame.columns, start=1):
        cells = [sheet.cell(1, i)]
        values = frame[column]
        if values.dtype == object or is_string_dtype(values.dtype):
            hits = [n for n, v in enumerate(values.tolist()) if isinstance(v, str) and v[:1] == "="]
            cells += [sheet.cell(n + 2, i) for n in hits]
        for cell in cells:
            if cell.data_type == "f":
                cell.data_type = "s"
