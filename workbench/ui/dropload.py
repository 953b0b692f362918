"""Dropping a data package or an export file onto the window: what it would load, asked first.

What a drop offers (:func:`offer_for`):

- a **folder** holding ``<entity>.csv`` files (a canonical data package, e.g. one written by
  ``workbench export --package``) is loaded like Import data package on the welcome page: a
  ``files`` source for that folder, each file the complete set of its entity, remembered in the
  settings for the next Sync;
- one **``<entity>.csv``** file (``items.csv``, ``purchase_order_lines.csv``, ...) is loaded as a
  partial update of that entity: its rows are added or changed, none deleted. The file is copied
  into a folder of its own beside the cache first (a package folder holds every entity; loading
  only the dropped one must not read its neighbours);
- another **CSV or XLSX** file (a plant system's own export) is read through the mapping profile
  of a configured ``files`` source (Settings › Sources, ``mapping=``), as a partial update, when
  there is one; otherwise the import wizard opens with the file (:mod:`workbench.ui.import_wizard`:
  columns matched, preview, profile saved, load).

Nothing is loaded before the user confirms; the load is the existing command
:func:`workbench.app.sync.load_source` run through the window's runner (the writer process), so
its changes reach every panel like any other sync.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from workbench.services.settings import Settings, SourceConfig

#: file endings a drop may carry besides folders
DROPPABLE_FILES = (".csv", ".xlsx")


def _entities() -> tuple[str, ...]:
    from workbench.domain.models import ENTITIES

    return ENTITIES


@dataclass
class DropOffer:
    """What dropping ``path`` would load (``source``), or why it cannot (``problem``)."""

    path: Path
    #: what the confirmation asks, in the user's words
    question: str = ""
    source: SourceConfig | None = None
    #: the source is kept in the settings afterwards (a package folder), not a one-off update
    remember: bool = False
    #: a file to copy into the source's folder before loading (one-off updates)
    stage: Path | None = None
    problem: str = ""
    entities: list[str] = field(default_factory=list)
    #: no mapping profile reads this export yet: the import wizard opens with it
    wizard: bool = False


def droppable(path: Path) -> bool:
    """Whether the window accepts ``path`` on a drag (a folder, a CSV or an XLSX file)."""
    return path.is_dir() or (path.is_file() and path.suffix.lower() in DROPPABLE_FILES)


def _rows(path: Path) -> int:
    """Data rows of a CSV file (lines after the header; quoted line breaks aside)."""
    with path.open("rb") as handle:
        lines = sum(1 for line in handle if line.strip())
    return max(0, lines - 1)


def _package(folder: Path) -> DropOffer:
    entities = [e for e in _entities() if (folder / f"{e}.csv").is_file()]
    if not entities:
        return DropOffer(folder, problem=(
            f"{folder} is not a data package: it holds no <entity>.csv file (items.csv, "
            "bom_lines.csv, …; see docs/data-package.md)."))
    rows = sum(_rows(folder / f"{e}.csv") for e in entities)
    source = SourceConfig(name=f"package-{folder.name}", connector="files",
                          params={"folder": str(folder)})
    return DropOffer(folder, source=source, remember=True, entities=entities, question=(
        f"Load the data package {folder} into the cache?\n\n{len(entities)} files, "
        f"{rows:,} rows: {', '.join(entities)}.\nEach file is the complete set of its entity "
        f"from this package; the package becomes the source \u201c{source.name}\u201d for the "
        "next Sync."))


def _entity_file(path: Path, staging: Path) -> DropOffer:
    entity = path.stem
    folder = staging / f"{entity}-{dt.datetime.now():%Y%m%d-%H%M%S}"
    source = SourceConfig(name=f"file-{entity}", connector="files",
                          params={"folder": str(folder), "complete": False})
    rows = _rows(path)
    return DropOffer(path, source=source, stage=folder / path.name, entities=[entity], question=(
        f"Load {path.name} into the cache as an update of {entity}?\n\n{rows:,} rows from "
        f"{path.parent}. Its rows are added or changed; no record is deleted."))


def _mapped_file(path: Path, settings: Settings, staging: Path) -> DropOffer:
    mapped = [s for s in settings.sources
              if s.connector == "files" and s.params.get("mapping")]
    if not mapped:
        names = ", ".join(f"{e}.csv" for e in _entities()[:3])
        return DropOffer(path, wizard=True, problem=(
            f"{path.name} is not a file of a data package (those are named after what they hold: "
            f"{names}, …). A plant system's own export is read through a mapping profile: the "
            "import wizard makes one with you (File › Import plant exports…)."))
    chosen = mapped[0]
    folder = staging / f"{path.stem}-{dt.datetime.now():%Y%m%d-%H%M%S}"
    params = {k: v for k, v in chosen.params.items() if k not in ("folder", "dir")}
    source = SourceConfig(name=f"{chosen.name}-drop", connector="files",
                          params={**params, "folder": str(folder), "complete": False})
    return DropOffer(path, source=source, stage=folder / path.name, question=(
        f"Load {path.name} into the cache through the mapping profile of the source "
        f"\u201c{chosen.name}\u201d ({Path(str(chosen.params['mapping'])).name})?\n\n"
        "Its rows are added or changed; no record is deleted."))


def offer_for(paths: Sequence[Path], settings: Settings, staging: Path) -> DropOffer:
    """What dropping ``paths`` loads: the first folder or file (one at a time)."""
    if not paths:
        return DropOffer(Path(), problem="Nothing to load.")
    path = Path(paths[0])
    if path.is_dir():
        return _package(path)
    if not droppable(path):
        return DropOffer(path, problem=(
            f"{path.name} cannot be loaded: drop a data package folder, or a CSV or XLSX file."))
    if path.suffix.lower() == ".csv" and path.stem in _entities():
        return _entity_file(path, staging)
    return _mapped_file(path, settings, staging)


def stage(offer: DropOffer) -> None:
    """Copy a one-off file into its own folder (see the module docstring)."""
    if offer.stage is not None:
        offer.stage.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(offer.path, offer.stage)
