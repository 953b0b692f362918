"""Writing what a table shows to CSV or XLSX (pandas + openpyxl), with its filters applied.

No Qt here: the table pane hands over ``model.visible_frame()`` and runs this in a background op.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

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
        frame.to_csv(path, index=False, encoding="utf-8")
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
            for i, column in enumerate(frame.columns, start=1):
                sample = frame[column].head(200).astype(str)
                width = max([len(str(column))] + [len(s) for s in sample]) + 2
                sheet.column_dimensions[sheet.cell(1, i).column_letter].width = min(width, 60)
    else:
        raise ExportError(f"cannot export to {path.name}: choose a .csv or .xlsx file")
    if state:
        state.set_progress(1, 1)
    return path
