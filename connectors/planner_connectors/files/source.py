"""A folder of plant exports read through a mapping profile: the files connector's second mode.

``FilesConnector(folder, mapping=PROFILE)`` delegates here. Per entity the profile maps, it
yields the same :class:`workbench.connect.port.Batch` es as a data package does — records with their
file (and sheet) and row numbers, the rows that could not become records, the fields the records
carry, complete sets — so the sync is the same atomic run: a rejected row rejects the run
unless partial loads are asked for.

Cross-references: a code rule ``xref = "SYSTEM"`` finds our item code for another system's code
in, first to last (a later one wins for the same code): the cache's live ``item_xrefs`` of that
system, filled by any source (an item master loaded earlier, EDI, Tryton; read-only, through
:mod:`workbench.cache.xrefs`, when the connector is given the cache — ``open_connector`` does so
for every sync); the profile's ``[xrefs.SYSTEM]`` table; the ``item_xrefs`` this same profile
reads (e.g. from an item master with other systems' codes).

Incremental: an entity's watermark is the SHA-256 of the profile's text and of every file its
section reads, and, for a section with ``xref`` code rules reading the cache, of the cache's
cross-references it uses; a change to any of them reads the entity again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from planner_connectors.files.indented import indented_entities, indented_written, read_indented
from planner_connectors.files.mapped import KeyTracker, MappedChunk, read_entity, section_files, written
from planner_connectors.files.profile import EntityMapping, Profile
from planner_connectors.files.profile_file import load_profile
from planner_connectors.files.tables import digest
from workbench.connect.port import Batch, ColumnBatch
from workbench.domain.models import ENTITIES


class MappedSource:
    """The entities, batches and previews of a folder read through one profile."""

    def __init__(self, folder: Path, profile: Profile | str | Path, source: str,
                 complete: bool = True, cache: str | Path | None = None) -> None:
        self.folder = folder
        #: the cache whose item cross-references the profile's ``xref`` rules also use
        self.cache = cache
        self.profile = profile if isinstance(profile, Profile) else load_profile(profile)
        self.source = self.profile.source or source
        self.complete = complete
        self._xrefs: dict[str, dict[str, str]] | None = None
        self._indented: dict[int, dict[str, list[MappedChunk]]] = {}

    def sections(self) -> dict[str, list[EntityMapping]]:
        """Each entity the profile yields, with the sections it comes from."""
        out: dict[str, list[EntityMapping]] = {}
        for mappings in self.profile.entities.values():
            for mapping in mappings:
                if not mapping.load:
                    continue
                targets = (indented_entities(mapping) if mapping.layout == "indented"
                           else [mapping.entity])
                for entity in targets:
                    out.setdefault(entity, []).append(mapping)
        return {e: out[e] for e in ENTITIES if e in out}

    def entities(self) -> list[str]:
        return list(self.sections())

    def xrefs(self) -> dict[str, dict[str, str]]:
        """Other systems' item codes -> ours: the profile's tables and its item_xrefs records."""
        if self._xrefs is None:
            table = self.cached_xrefs()
            for system, pairs in self.profile.xrefs.items():
                table.setdefault(system, {}).update(pairs)
            keys = KeyTracker("item_xrefs")
            for section in self.profile.entities.get("item_xrefs", []):
                for chunk in read_entity(self.folder, self.profile, section, self.source, {},
                                         1 << 30, keys=keys):
                    for r in chunk.records:
                        table.setdefault(str(r["system"]), {})[str(r["external_code"])] = str(
                            r["item"])
            self._xrefs = table
        return self._xrefs

    def files(self, entity: str) -> list[Path]:
        out: list[Path] = []
        for mapping in self.sections()[entity]:
            out += [p for p in section_files(self.folder, self.profile, mapping) if p not in out]
        return out

    def systems(self) -> set[str]:
        """The systems the profile's ``xref`` code rules look codes up in."""
        return {rule.xref for mappings in self.profile.entities.values() for m in mappings
                for rule in m.codes.values() if rule.xref}

    def cached_xrefs(self) -> dict[str, dict[str, str]]:
        """The cache's cross-references of :meth:`systems` (none without a cache)."""
        if self.cache is None:
            return {}
        from workbench.cache.xrefs import item_xrefs_of

        return {s: pairs for s, pairs in item_xrefs_of(self.cache, self.systems()).items() if pairs}

    def watermark(self, entity: str) -> str:
        extra = self.profile.text
        if self.cache is not None and any(self._needs_xrefs(m) for m in self.sections()[entity]):
            extra += json.dumps(self.cached_xrefs(), sort_keys=True)
        return digest(self.files(entity), extra) + ("" if self.complete else "+partial")

    def chunks(self, entity: str, batch_size: int,
               limit: int | None = None) -> Iterator[MappedChunk]:
        """The entity's records from every section that yields it (``limit``: rows per section,
        for a preview)."""
        keys = KeyTracker(entity)
        for mapping in self.sections()[entity]:
            xrefs = self.xrefs() if self._needs_xrefs(mapping) else {}
            if mapping.layout == "indented":
                parsed = self._indented.get(id(mapping)) if limit is None else None
                if parsed is None:
                    parsed = read_indented(self.folder, self.profile, mapping, self.source, xrefs,
                                           limit)
                    if limit is None:
                        self._indented[id(mapping)] = parsed
                for chunk in parsed[entity]:
                    yield from _split(chunk, batch_size)
                continue
            yield from read_entity(self.folder, self.profile, mapping, self.source, xrefs,
                                   batch_size, limit, keys)

    def fields(self, entity: str) -> tuple[str, ...]:
        fields: set[str] = set()
        for mapping in self.sections()[entity]:
            fields.update(indented_written(mapping, entity) if mapping.layout == "indented"
                          else written(mapping))
        return tuple(sorted(fields))

    def pull(self, entity: str, since: str | None, batch_size: int) -> Iterator[Batch]:
        mark = self.watermark(entity)
        if since is not None and since == mark:
            return
        fields = self.fields(entity)
        for chunk in self.chunks(entity, batch_size):
            # every batch carries the watermark (the sync keeps it only if the run commits); the
            # records go column-wise, as validated (no dict per record for the sync to read)
            if chunk.columns is None:
                yield Batch(
                    entity, chunk.records, watermark=mark, file=chunk.label,
                    row_numbers=chunk.numbers, complete=self.complete, fields=fields,
                    rejected=list(chunk.rejected),
                )
            else:
                yield ColumnBatch(
                    entity, chunk.columns, watermark=mark, file=chunk.label,
                    row_numbers=chunk.numbers, complete=self.complete, fields=fields,
                    rejected=list(chunk.rejected),
                )

    def _needs_xrefs(self, mapping: EntityMapping) -> bool:
        return any(rule.xref for rule in mapping.codes.values())


def _split(chunk: MappedChunk, size: int) -> Iterator[MappedChunk]:
    if chunk.size <= size:
        yield chunk
        return
    for start in range(0, chunk.size, size):
        yield chunk.part(start, start + size, chunk.rejected if start == 0 else [])


def preview_records(source: MappedSource, entity: str, limit: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for chunk in source.chunks(entity, limit, limit=limit):
        out.extend(chunk.records)
        if len(out) >= limit:
            break
    return out[:limit]
