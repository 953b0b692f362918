"""The files connector: reads a canonical data package, a folder of CSV files.

A package holds one UTF-8 CSV file per entity, named ``<entity>.csv`` (``items.csv``,
``bom_lines.csv``, ...; the entity names and columns are documented in docs/data-package.md).
The header row names canonical fields, each once; a column may be left out when the field has
a default; an empty cell means "not given" (the default, or no value). Unknown or repeated
columns and empty (0-byte) files are refused with the file and column named, before any row is
read (:mod:`planner_connectors.files.reading` checks each row: number of cells, encoding, duplicate keys).

What a package means for the cache (the rule docs/data-package.md states):

- **Complete set per file.** A file holds every record of its entity from this package: a row
  removed from the file is marked deleted in the cache at the next sync (only rows that came
  from the same source, i.e. the same ``source`` column value; entities without a file are left
  alone). ``FilesConnector(..., complete=False)`` (``workbench sync --package DIR --partial``)
  loads the package as a partial update instead: rows are added and changed, none deleted.
- **Left-out columns keep the cached values.** A row that updates a cached record writes only
  the columns its file has; a new record takes the defaults. Quantities go with their unit:
  when a file has any quantity column or ``uom``, a left-out quantity column is reset to its
  default, and the sync names it in a warning (see
  :func:`workbench.domain.validation.written_fields`).

Rows are numbered as a spreadsheet shows them: the header is row 1, the first record row 2. A bad
row becomes a rejected row naming the file, row, field and reason (the sync service decides
whether the run keeps the good rows; unless partial, it keeps none).

Incremental: the watermark of an entity is the SHA-256 of its file's content (marked when the
load was partial); a file with the same content is not read again by the same kind of load (an
edit that keeps size and modification time is still seen; a complete load after a partial one
reads the file again, to delete what it no longer has).
Rows that did not change are not rewritten either way.

**Mapped files.** With ``mapping=PROFILE`` (``workbench sources add NAME files dir=DIR
mapping=PROFILE``) the folder holds a plant's own exports — CSV in any common dialect and
encoding, XLSX — read through a mapping profile instead of the canonical layout
(:mod:`planner_connectors.files.source`, docs/mapping.md). The batches are the same: records with file,
sheet and row, rejected rows naming the column, complete sets, content watermarks.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from planner_connectors.files.reading import file_digest, read_file
from planner_connectors.files.source import MappedSource
from planner_connectors.files.tools import MappingTools
from workbench.connect.port import (
    Batch,
    Capability,
    CheckResult,
    ConnectorBase,
    PermanentError,
)
from workbench.domain.models import ENTITIES
from workbench.domain.validation import written_fields

BATCH_SIZE = 20_000


class FilesOptions(BaseModel):
    """The settings of a package source (``workbench sources add NAME files folder=DIR``)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    folder: str | None = Field(None, min_length=1, description="the data package folder")
    dir: str | None = Field(None, min_length=1, description="the folder (same as folder=)")
    mapping: str | None = Field(
        None, min_length=1, description="a mapping profile (TOML): read the folder's plant "
                                        "exports through it instead of the canonical layout")
    source: str = Field("files", min_length=1, description="the source its rows are recorded under")
    complete: bool = Field(True, description="each file is its entity's complete set")

    @field_validator("dir", "mapping")
    @classmethod
    def _absolute(cls, value: str | None) -> str | None:
        """Saved as absolute paths: a sync started from another folder finds the same files."""
        return str(Path(value).expanduser().absolute()) if value else value


class FilesConnector(ConnectorBase):
    name: ClassVar[str] = "files"
    capabilities: ClassVar[Capability] = (
        Capability.PULL | Capability.INCREMENTAL | Capability.DELETIONS
    )
    #: the settings a user gives (typed, checked when saved; see workbench.connect.factory)
    options: ClassVar[type[FilesOptions]] = FilesOptions
    #: the profile engine for use cases and a wizard (workbench.services.mapping)
    mapping_tools: ClassVar[type[MappingTools]] = MappingTools
    #: the cache being synced into arrives as ``cache=``: a profile's ``xref`` rules also find
    #: the item cross-references other sources loaded there (read-only)
    cache_reads: ClassVar[str | None] = "cache"
    read_only_reason: ClassVar[str] = (
        "a data package or a folder of exports is read-only: decisions cannot be written "
        "back to files"
    )
    #: the source name its records carry (the mapping profile's, or ``source=``)
    source: str

    def __init__(
        self,
        folder: str | Path | None = None,
        source: str = "files",
        complete: bool = True,
        dir: str | Path | None = None,
        mapping: str | Path | None = None,
        cache: str | Path | None = None,
    ) -> None:
        where = folder if folder is not None else dir
        if where is None:
            raise PermanentError("the files connector needs folder=DIR (or dir=DIR)")
        self.folder = Path(where)
        self.source = source
        #: each file is its entity's complete set (rows not in it are deletions)
        self.complete = complete
        #: the mapping profile, when the folder holds plant exports rather than a package
        self.mapping: MappedSource | None = None
        if mapping is not None:
            self.mapping = MappedSource(self.folder, Path(mapping), source, complete, cache)
            self.source = self.mapping.source

    def check(self) -> CheckResult:
        if not self.folder.is_dir():
            return CheckResult(False, f"package folder {self.folder} does not exist")
        if self.mapping is not None:
            try:
                for entity in self.mapping.entities():
                    self.mapping.watermark(entity)  # every section finds its files
            except PermanentError as exc:
                return CheckResult(False, str(exc))
            found = self.mapping.entities()
            return CheckResult(True, f"{len(found)} entities mapped from {self.folder} by "
                                     f"{self.mapping.profile.path.name}")
        found = self.entities()
        if not found:
            return CheckResult(False, f"{self.folder} holds no <entity>.csv file of a data package")
        return CheckResult(True, f"{len(found)} entity files in {self.folder}")

    def entities(self) -> list[str]:
        if self.mapping is not None:
            return self.mapping.entities()
        return [e for e in ENTITIES if (self.folder / f"{e}.csv").is_file()]

    def pull(self, entity: str, since: str | None) -> Iterator[Batch]:
        if self.mapping is not None:
            yield from self.mapping.pull(entity, since, BATCH_SIZE)
            return
        path = self.folder / f"{entity}.csv"
        if not path.is_file():
            raise PermanentError(f"{path} not found")
        # a partial load's watermark differs from a complete one's, so a complete load after a
        # partial one reads the file again and deletes what it no longer has
        suffix = "" if self.complete else "+partial"
        if since is not None and since == file_digest(path) + suffix:
            return
        first = True
        for header, chunk, digest in read_file(path, entity, self.source, BATCH_SIZE):
            warnings = []
            if first:
                _, reset = written_fields(entity, header)
                if reset:
                    warnings.append(
                        f"{path.name}: no column {', '.join(reset)}: set to the default on every "
                        "row (quantities go with their unit, uom); add the column to keep values"
                    )
                first = False
            yield Batch(
                entity,
                chunk.records,
                watermark=digest + suffix if digest else None,
                file=path.name,
                row_numbers=chunk.numbers,
                complete=self.complete,
                fields=(*header, "source"),
                rejected=list(chunk.rejected),
                warnings=warnings,
            )

