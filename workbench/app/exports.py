"""A table's rows written to CSV or XLSX in a worker process (``Export`` of every table pane).

The pane hands over what it shows (filters and sort applied) as a :class:`PackedFrame`: on the
UI thread it only copies the positions of the shown rows; its worker thread takes each column's
stored array at those rows (fixed-width text, numbers, dates: no Python object per cell) and
writes its bytes to a scratch file, a column at a time; only the file's name and the columns'
layout travel to the reader process, which reads the file, makes the frame and writes the export
(:func:`workbench.services.export.export_frame`: xlsxwriter in constant memory, progress every
5,000 rows, Cancel checked there). No single step holds the UI process's GIL for long: a file
write releases it, while a pickle of the whole table sent through the reader's pipe held it for
its whole length (a 44 MB payload of 200,000 rows: 0.44 s at load 3.4), and a DataFrame built on
the UI thread held it ~0.24 s (pandas makes one Python str per text cell). One reader process is
busy meanwhile; the window's other cache reads go to the second one (:mod:`workbench.app.runner`).

Importing this module loads neither numpy, pandas nor Qt.
"""

from __future__ import annotations

import logging
import os
import pickle
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.app.ops import cache_query

log = logging.getLogger(__name__)

#: the scratch files' names (``planner-export-*.columns``) and how old a left-over one may get
#: before the next export removes it (a process that died mid-export leaves its file behind)
SCRATCH_PREFIX, SCRATCH_SUFFIX = "planner-export-", ".columns"
STALE_AFTER_S = 24 * 3600

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from sqlalchemy import Engine

    from workbench.app.tables import TableData
    from workbench.services.export import ExportInfo
    from workbench.services.tasks import TaskState


@dataclass(frozen=True)
class PackedFrame:
    """A table's shown columns in a scratch file ``path``, one after another: a column of a
    numpy dtype as its raw bytes (``dtypes``: the dtype's ``str``), any other as a pickle
    (dtype ``""``); ``sizes`` their lengths in bytes. :meth:`unpack` gives the export frame back
    (:func:`workbench.app.tables.frame_of`); :meth:`discard` removes the file."""

    path: str
    names: tuple[str, ...]
    kinds: tuple[str, ...]
    dtypes: tuple[str, ...]
    sizes: tuple[int, ...]
    rows: int

    @classmethod
    def of_table(cls, table: TableData, rows: np.ndarray, directory: str | None = None
                 ) -> PackedFrame:
        """The displayed columns of ``rows`` of ``table`` written to a new scratch file (in
        ``directory``, else the system's temporary directory)."""
        import numpy as np

        names, kinds, dtypes, sizes = [], [], [], []
        _remove_stale(directory or tempfile.gettempdir())
        fd, path = tempfile.mkstemp(prefix=SCRATCH_PREFIX, suffix=SCRATCH_SUFFIX, dir=directory)
        try:
            with os.fdopen(fd, "wb") as out:
                for title, kind, values in table.export_columns(rows):
                    names.append(title)
                    kinds.append(kind)
                    if values.dtype.hasobject:
                        data: bytes | memoryview = pickle.dumps(
                            values, protocol=pickle.HIGHEST_PROTOCOL)
                        dtypes.append("")
                    else:
                        data = np.ascontiguousarray(values).view(np.uint8).data
                        dtypes.append(values.dtype.str)
                    sizes.append(len(data))
                    out.write(data)  # the write itself runs without the GIL
        except BaseException:
            os.unlink(path)
            raise
        return cls(path, tuple(names), tuple(kinds), tuple(dtypes), tuple(sizes), len(rows))

    def unpack(self) -> pd.DataFrame:
        import numpy as np

        from workbench.app.tables import frame_of

        columns = []
        with open(self.path, "rb") as f:
            for name, kind, dtype, size in zip(self.names, self.kinds, self.dtypes, self.sizes,
                                               strict=True):
                raw = f.read(size)
                values = pickle.loads(raw) if not dtype else np.frombuffer(raw, dtype=dtype)
                columns.append((name, kind, values))
        return frame_of(columns)

    def discard(self) -> None:
        """Remove the scratch file; never raises (on Windows a file a killed reader process
        still holds open cannot be removed yet: it is left, and a later export removes it once
        it is a day old)."""
        try:
            Path(self.path).unlink(missing_ok=True)
        except OSError as exc:
            log.warning("export scratch file %s left behind: %s", self.path, exc)


def _remove_stale(directory: str) -> None:
    """Remove scratch files older than :data:`STALE_AFTER_S` from ``directory``."""
    cutoff = time.time() - STALE_AFTER_S
    for old in Path(directory).glob(f"{SCRATCH_PREFIX}*{SCRATCH_SUFFIX}"):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            continue


@cache_query
def export_table(_engine: Engine, table: PackedFrame, path: str | Path, *,
                 info: ExportInfo | None = None, key: str | None = None,
                 state: TaskState) -> Path:
    """Write ``table`` to ``path`` (.csv or .xlsx by its suffix), reporting progress; a
    cancelled or failed export leaves no file behind (nor a half-written one)."""
    from workbench.services.export import export_frame

    return export_frame(table.unpack(), path, state, info=info, key=key)
