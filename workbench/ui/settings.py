"""What the window remembers between sessions besides geometry: a typed, versioned model.

The user's real settings (sources, planning defaults, user name) are
:mod:`workbench.services.settings`, shared with the CLI. This module keeps only UI state — the
last panel, each panel's plain-data state (filters, chosen options), whether partial loads are
allowed, each table's column widths and order (:class:`TableLayout`) and the saved views of the
tables (:class:`SavedView`: filter, column filters and sort under a name) — in
``<user config dir>/ui-state.json``. QSettings holds window geometry and splitter
positions only (Qt's own byte blobs; never pickled Qt types in our files — Orange #6229 broke on
exactly that). An unreadable file falls back to defaults and is kept aside, never silently lost.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import BaseModel, Field, ValidationError

from workbench import APP_NAME

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2


class TableLayout(BaseModel):
    """How the user arranged one table's columns, by column name (not Qt's header blob: a
    column added in a later version simply keeps its default place and width)."""

    #: column names in the order they are shown (left to right)
    order: list[str] = Field(default_factory=list)
    #: column name -> width in pixels
    widths: dict[str, int] = Field(default_factory=dict)


class SavedView(BaseModel):
    """A table's filters and sort saved under a name ("Views" menu of the table)."""

    text: str = ""
    #: column name -> the value a column filter (picker) keeps; absent: all
    equals: dict[str, str] = Field(default_factory=dict)
    sort: str | None = None
    descending: bool = False


class UiState(BaseModel):
    schema_version: int = SCHEMA_VERSION
    last_panel: str = "overview"
    allow_partial_loads: bool = False
    #: plain-data state per panel (filters, chosen options), never Qt objects
    panel_state: dict[str, dict[str, Any]] = Field(default_factory=dict)
    #: table key (``<panel>/<table>``) -> its column widths and order
    table_layouts: dict[str, TableLayout] = Field(default_factory=dict)
    #: table key -> view name -> the saved filters and sort
    saved_views: dict[str, dict[str, SavedView]] = Field(default_factory=dict)


def ui_state_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "ui-state.json"


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Bring state written by an older version up to :data:`SCHEMA_VERSION`. Version 1 had no
    table layouts and saved views: they start empty (the defaults), nothing else changed."""
    data["schema_version"] = SCHEMA_VERSION
    return data


class UiStateStore:
    """Loads and saves :class:`UiState` at one path (a temporary path in tests)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or ui_state_path()

    def load(self) -> UiState:
        if not self.path.exists():
            return UiState()
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return UiState.model_validate(migrate(data))
        except (OSError, ValueError, ValidationError) as exc:
            aside = self.path.with_suffix(".unreadable.json")
            log.warning("UI state %s unreadable (%s); defaults used, file kept as %s",
                        self.path, exc, aside)
            try:
                self.path.replace(aside)
            except OSError:
                pass
            return UiState()

    def save(self, state: UiState) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(state.model_dump_json(indent=2), encoding="utf-8")
        tmp.replace(self.path)
