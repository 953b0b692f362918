"""The files connector: reads a canonical data package, a folder of CSV files.

A package holds one UTF-8 CSV file per entity, named ``<entity>.csv`` (``items.csv``,
``bom_lines.csv``, ...; the entity names and columns are documented in docs/data-package.md).
The header row names canonical fields; a column may be left out when the field has a default;
an empty cell means "not given" (the default, or no value). Unknown columns are refused with the
file and column named, before any row is read.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first record row 2. A bad
row becomes a rejected row naming the file, row, field and reason (the sync service decides
whether the run keeps the good rows).

Incremental: the watermark of an entity is the file's size and modification time; an unchanged
file is not read again. Rows that did not change are not rewritten either way.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from connectors.base import (
    Batch,
    Capability,
    CheckResult,
    PermanentError,
    PushRequest,
    PushResult,
)
from workbench.domain.models import ENTITIES, ENTITY_MODELS

BATCH_SIZE = 20_000


class FilesConnector:
    name: ClassVar[str] = "files"
    capabilities: ClassVar[Capability] = Capability.PULL | Capability.INCREMENTAL

    def __init__(self, folder: str | Path, source: str = "files") -> None:
        self.folder = Path(folder)
        self.source = source

    def check(self) -> CheckResult:
        if not self.folder.is_dir():
            return CheckResult(False, f"package folder {self.folder} does not exist")
        found = [e for e in ENTITIES if (self.folder / f"{e}.csv").is_file()]
        if not found:
            return CheckResult(False, f"{self.folder} holds no <entity>.csv file of a data package")
        return CheckResult(True, f"{len(found)} entity files in {self.folder}")

    def entities(self) -> list[str]:
        return [e for e in ENTITIES if (self.folder / f"{e}.csv").is_file()]

    def _watermark(self, path: Path) -> str:
        st = path.stat()
        return f"{st.st_mtime_ns:020d}:{st.st_size}"

    def pull(self, entity: str, since: str | None) -> Iterator[Batch]:
        path = self.folder / f"{entity}.csv"
        if not path.is_file():
            raise PermanentError(f"{path} not found")
        mark = self._watermark(path)
        if since == mark:
            return
        fields = ENTITY_MODELS[entity].model_fields
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            try:
                header = [h.strip() for h in next(reader)]
            except StopIteration:
                return
            unknown = [h for h in header if h not in fields]
            if unknown:
                raise PermanentError(
                    f"{path.name}, row 1: unknown column {unknown[0]!r} "
                    f"(expected columns: {', '.join(fields)})"
                )
            records: list[dict[str, Any]] = []
            numbers: list[int] = []
            for number, row in enumerate(reader, start=2):
                if not any(cell.strip() for cell in row):
                    continue  # a blank line is not a record; the numbering still counts it
                data: dict[str, Any] = {h: v for h, v in zip(header, row) if v != ""}
                if len(row) > len(header):
                    data["(cells beyond the header)"] = row[len(header) :]
                data.setdefault("source", self.source)
                records.append(data)
                numbers.append(number)
                if len(records) >= BATCH_SIZE:
                    yield Batch(entity, records, watermark=mark, file=path.name,
                                row_numbers=numbers)
                    records, numbers = [], []
            if records:
                yield Batch(entity, records, watermark=mark, file=path.name, row_numbers=numbers)

    def push(self, request: PushRequest) -> PushResult:
        raise PermanentError("a data package is read-only: decisions cannot be written back to files")

    def close(self) -> None:
        pass
