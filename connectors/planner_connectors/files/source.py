"""A folder of plant exports read through a mapping profile: the files connector's second mode.

``FilesConnector(folder, mapping=PROFILE)`` delegates here. Per entity the profile maps, it
yields the same :class:`workbench.connect.port.Batch` es as a data package does — records with their
file (and sheet) and row numbers, the rows that could not become records, the fields the records
carry, complete sets — so the sync is the same atomic run: a rejected row rejects the run
unless partial loads are asked for.

Cross-references: a code rule ``xref = "SYSTEM"`` finds our item code for another system's code
in the ``item_xrefs`` this same profile loads (e.g. from an item master with other systems'
codes) and in the profile's ``[xrefs.SYSTEM]`` table. Cross-references held in the cache from
other sources are not consulted (a connector does not read the cache): load the item master
through the same profile, or copy the pairs into ``[xrefs.SYSTEM]``.

Incremental: an entity's watermark is the SHA-256 of the profile's text and of every file its
section reads; a change to either reads the entity again.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from planner_connectors.files.indented import indented_entities, indented_written, read_indented
from planner_connectors.files.mapped import KeyTracker, MappedChunk, read_entity, section_files, written
from planner_connectors.files.profile import EntityMapping, Profile
from planner_connectors.files.profile_file import load_profile
from planner_connectors.files.tables import digest
from workbench.connect.port import Batch
from workbench.domain.models import ENTITIES


class MappedSource:
    """The entities, batches and previews of a folder read through one profile."""

    def __init__(self, folder: Path, profile: Profile | str | Path, source: str,
                 complete: bool = True) -> None:
        self.folder = folder
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
            table = {s: dict(pairs) for s, pairs in self.profile.xrefs.items()}
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

    def watermark(self, entity: str) -> str:
        return digest(self.files(entity), self.profile.text) + ("" if self.complete else "+partial")

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
            # every batch carries the watermark (the sync keeps it only if the run commits)
            yield Batch(
                entity, chunk.records, watermark=mark, file=chunk.label,
                row_numbers=chunk.numbers, complete=self.complete, fields=fields,
                rejected=list(chunk.rejected),
            )

    def _needs_xrefs(self, mapping: EntityMapping) -> bool:
        return any(rule.xref for rule in mapping.codes.values())


def _split(chunk: MappedChunk, size: int) -> Iterator[MappedChunk]:
    if len(chunk.records) <= size:
        yield chunk
        return
    for start in range(0, len(chunk.records), size):
        part = MappedChunk(chunk.entity, chunk.label, chunk.records[start:start + size],
                           chunk.numbers[start:start + size],
                           chunk.rejected if start == 0 else [])
        yield part


def preview_records(source: MappedSource, entity: str, limit: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for chunk in source.chunks(entity, limit, limit=limit):
        out.extend(chunk.records)
        if len(out) >= limit:
            break
    return out[:limit]
