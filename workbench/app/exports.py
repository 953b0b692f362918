"""A table's rows written to CSV or XLSX in a worker process (``Export`` of every table pane).

The pane hands over what it shows (filters and sort applied) as a :class:`PackedFrame`: on the
UI thread it only copies the positions of the shown rows; its worker thread takes each column's
stored array at those rows and pickles it on its own (fixed-width text and numbers: one buffer,
a few ms per column), so no single step holds the UI process's GIL for long. A 200,000-row
DataFrame built on the UI thread held it ~0.24 s (pandas makes one Python str per text cell), and
pickled at once ~0.2 s. The reader process makes the frame and writes the file
(:func:`workbench.services.export.export_frame`: xlsxwriter in constant memory, progress every
5,000 rows, Cancel checked there). One reader process is busy meanwhile; the window's other cache reads go
to the second one (:mod:`workbench.app.runner`).

Importing this module loads neither pandas nor Qt.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.app.ops import cache_query

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from sqlalchemy import Engine

    from workbench.app.tables import TableData
    from workbench.services.export import ExportInfo
    from workbench.services.tasks import TaskState


@dataclass(frozen=True)
class PackedFrame:
    """A table's shown columns as one pickle per column (see the module doc); :meth:`unpack`
    gives the export frame back (:func:`workbench.app.tables.frame_of`)."""

    names: tuple[str, ...]
    kinds: tuple[str, ...]
    columns: tuple[bytes, ...]
    rows: int

    @classmethod
    def of_table(cls, table: TableData, rows: np.ndarray) -> PackedFrame:
        """The displayed columns of ``rows`` of ``table``, each a numpy take of the stored
        array pickled as one buffer (fixed-width text: no Python object per cell here)."""
        names, kinds, columns = [], [], []
        for title, kind, values in table.export_columns(rows):
            names.append(title)
            kinds.append(kind)
            columns.append(pickle.dumps(values, protocol=pickle.HIGHEST_PROTOCOL))
        return cls(tuple(names), tuple(kinds), tuple(columns), len(rows))

    def unpack(self) -> pd.DataFrame:
        from workbench.app.tables import frame_of

        return frame_of([(name, kind, pickle.loads(column))
                         for name, kind, column in zip(self.names, self.kinds, self.columns,
                                                       strict=True)])


@cache_query
def export_table(_engine: Engine, table: PackedFrame, path: str | Path, *,
                 info: ExportInfo | None = None, key: str | None = None,
                 state: TaskState) -> Path:
    """Write ``table`` to ``path`` (.csv or .xlsx by its suffix), reporting progress; a
    cancelled or failed export leaves no file behind (nor a half-written one)."""
    from workbench.services.export import export_frame

    return export_frame(table.unpack(), path, state, info=info, key=key)
