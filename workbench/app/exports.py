"""A table's rows written to CSV or XLSX in a worker process (``Export`` of every table pane).

The pane hands over what it shows (filters and sort applied) as a :class:`PackedFrame`: each
column pickled on its own in the pane's worker thread, so no single step holds the UI process's
GIL for long (a 200,000-row frame pickled at once holds it ~0.2 s), then unpacked in the reader
process, which writes the file (:func:`workbench.services.export.export_frame`: xlsxwriter in
constant memory, progress every 5,000 rows, Cancel checked there). One reader process is busy
meanwhile; the window's other cache reads go to the second one (:mod:`workbench.app.runner`).

Importing this module loads neither pandas nor Qt.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.app.ops import cache_query

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy import Engine

    from workbench.services.export import ExportInfo
    from workbench.services.tasks import TaskState


@dataclass(frozen=True)
class PackedFrame:
    """A frame as one pickle per column (see the module doc); :meth:`unpack` gives it back."""

    names: tuple[str, ...]
    columns: tuple[bytes, ...]
    rows: int

    @classmethod
    def pack(cls, frame: pd.DataFrame) -> PackedFrame:
        columns = tuple(pickle.dumps(frame.iloc[:, i].reset_index(drop=True),
                                     protocol=pickle.HIGHEST_PROTOCOL)
                        for i in range(frame.shape[1]))
        return cls(tuple(str(c) for c in frame.columns), columns, len(frame))

    def unpack(self) -> pd.DataFrame:
        import pandas as pd

        series = [pickle.loads(c) for c in self.columns]
        if not series:
            return pd.DataFrame(index=range(self.rows))
        frame = pd.concat(series, axis=1, ignore_index=True)
        frame.columns = list(self.names)
        return frame


@cache_query
def export_table(_engine: Engine, table: PackedFrame, path: str | Path, *,
                 info: ExportInfo | None = None, key: str | None = None,
                 state: TaskState) -> Path:
    """Write ``table`` to ``path`` (.csv or .xlsx by its suffix), reporting progress; a
    cancelled or failed export leaves no file behind (nor a half-written one)."""
    from workbench.services.export import export_frame

    return export_frame(table.unpack(), path, state, info=info, key=key)
