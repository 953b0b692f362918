"""User settings as a typed, versioned model stored as JSON in the user's config directory.

Settings hold what a user configures (sources and their parameters, planning defaults), never a
secret: passwords go through the credential manager (keyring). Window geometry lives in QSettings
in the UI layer, not here. A settings file from an older version is migrated on load
(``_MIGRATIONS``); one from a newer version is read as far as it is understood and never
overwritten unless the user saves.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import BaseModel, Field, ValidationError, field_validator

from workbench import APP_NAME
from workbench.analysis.consumption import ForecastConsumption

SCHEMA_VERSION = 1
_SECRET_WORDS = ("password", "secret", "token", "apikey", "api_key")


class SourceConfig(BaseModel):
    """A configured source system: which connector and its parameters (no secrets)."""

    name: str = Field(min_length=1)
    connector: str = Field(min_length=1)  # entry-point name: demo, files, tryton, ...
    params: dict[str, Any] = Field(default_factory=dict)
    enabled: bool = True

    @field_validator("params")
    @classmethod
    def _no_secrets(cls, params: dict[str, Any]) -> dict[str, Any]:
        for key in params:
            if any(word in key.lower() for word in _SECRET_WORDS):
                raise ValueError(f"parameter {key!r} looks like a secret: store it with keyring")
        return params


class PlanningDefaults(BaseModel):
    horizon_weeks: int = Field(default=26, ge=1, le=104)
    bucket: str = Field(default="week", pattern="^(day|week)$")
    risk_adjusted: bool = False
    #: sales orders consume forecast/MPS of their item and site within these windows (days;
    #: see workbench.analysis.consumption); off: every demand counts in full
    consume_forecast: bool = True
    consume_backward_days: int = Field(default=30, ge=0, le=365)
    consume_forward_days: int = Field(default=0, ge=0, le=365)

    def consumption(self) -> ForecastConsumption | None:
        """The forecast consumption the plan uses (None: none)."""
        if not self.consume_forecast:
            return None
        return ForecastConsumption(self.consume_backward_days, self.consume_forward_days)


class Settings(BaseModel):
    schema_version: int = SCHEMA_VERSION
    user: str = Field(default_factory=lambda: os.environ.get("USER", "") or "planner")
    cache_path: str | None = None
    sources: list[SourceConfig] = Field(default_factory=list)
    planning: PlanningDefaults = Field(default_factory=PlanningDefaults)

    def source(self, name: str) -> SourceConfig | None:
        return next((s for s in self.sources if s.name == name), None)


#: version -> function upgrading the raw dict of that version to the next one
_MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


def settings_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "settings.json"


class SettingsError(RuntimeError):
    pass


def load_settings(path: Path | None = None) -> Settings:
    """The saved settings, migrated to the current version; defaults when there are none."""
    path = path or settings_path()
    if not path.exists():
        return Settings()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SettingsError(f"settings file {path} is unreadable ({exc}); fix or delete it") from None
    version = int(raw.get("schema_version", 1))
    while version in _MIGRATIONS:
        raw = _MIGRATIONS[version](raw)
        version += 1
    raw["schema_version"] = min(version, SCHEMA_VERSION)
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise SettingsError(f"settings file {path}, {where}: {first['msg']}") from None


def save_settings(settings: Settings, path: Path | None = None) -> None:
    """Write atomically (temp file + rename), so a crash never leaves half a settings file."""
    path = path or settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(settings.model_dump_json(indent=2), encoding="utf-8")
    tmp.replace(path)
