"""User settings as a typed, versioned model stored as JSON in the user's config directory.

Settings hold what a user configures (sources and their parameters, planning defaults), never a
secret: passwords go through the credential manager (keyring). Window geometry lives in QSettings
in the UI layer, not here. A settings file from an older version is migrated on load
(``_MIGRATIONS``); one from a newer version is read as far as it is understood and never
overwritten unless the user saves.

What a source's parameters may not hold (:meth:`SourceConfig._no_secrets`): a parameter whose
name says secret in any spelling (``password``, ``passwd``, ``pwd``, ``pass``, ``secret``,
``token``, ``api_key``, ``credential``, ...); a URL with a user name or password in it
(``https://user:PW@host``); a plain ``http://`` URL to another machine, unless the source says
``insecure=true`` (``workbench sources add ... --insecure``), since the password and the session
would travel unencrypted. Passwords go to the keyring. The settings file and its folder are
created readable by the user only (0600 / 0700).

Plant IT may pre-configure sources, planning settings and the cache location in a site profile
(``/etc/planner-workbench/site.toml`` and a per-user ``site.toml`` beside ``settings.json``): it
is read first and the user's own values override it (:mod:`workbench.services.site`).
"""

from __future__ import annotations

import getpass
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs
from pydantic import BaseModel, Field, ValidationError, field_validator

from workbench import APP_NAME
from workbench.analysis.consumption import ForecastConsumption
from workbench.connect.urls import URL_START, url_problem

if TYPE_CHECKING:  # pandas loads only when the rules run
    from workbench.analysis.exceptions.kinds import ExceptionSettings

SCHEMA_VERSION = 1
#: a parameter name holding one of these (lower case, without ``_``/``-``) names a secret
_SECRET_WORDS = ("password", "passwd", "passphrase", "pwd", "secret", "token", "apikey",
                 "credential", "privatekey", "sessionid", "cookie")
#: whole parameter names that are secrets too short to search for inside other names
_SECRET_NAMES = frozenset({"pass", "pw", "pin", "auth", "key"})


def secret_name(key: str) -> bool:
    """True when a parameter called ``key`` would hold a secret (``pwd``, ``db_passwd``, ...)."""
    plain = re.sub(r"[^a-z0-9]", "", key.lower())
    return plain in _SECRET_NAMES or any(word in plain for word in _SECRET_WORDS)


def database_password_in(value: str) -> bool:
    """True when ``value`` is a ``postgresql://`` URL holding a password (its user part, or
    libpq's ``?password=`` / ``?sslpassword=``): never stored, the value never echoed."""
    from workbench.cache.pg import has_password, is_postgres_url

    return is_postgres_url(value) and has_password(value)


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
            if secret_name(key):
                raise ValueError(f"parameter {key!r} looks like a secret: store it with keyring")
        insecure = str(params.get("insecure", "")).strip().lower() in ("1", "true", "yes", "on")
        for key, value in params.items():
            if isinstance(value, str) and database_password_in(value):
                raise ValueError(f"parameter {key!r} holds a database password: remove it from "
                                 f"the URL (user part, password= or sslpassword=) and keep it in "
                                 f"the keyring or in ~/.pgpass")
            if isinstance(value, str) and URL_START.match(value.strip()):
                problem = url_problem(key, value.strip(), insecure)
                if problem:
                    raise ValueError(problem)
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
    #: exception message tolerances (days; see workbench.analysis.exceptions.ExceptionSettings
    #: and docs/exceptions.md)
    reschedule_in_tolerance_days: int = Field(default=0, ge=0, le=365)
    reschedule_out_tolerance_days: int = Field(default=7, ge=0, le=365)
    past_due_tolerance_days: int = Field(default=0, ge=0, le=365)
    confirmation_days: int = Field(default=5, ge=0, le=365)
    confirmation_tolerance_days: int = Field(default=0, ge=0, le=365)
    ship_notice_tolerance_days: int = Field(default=0, ge=0, le=365)
    ship_notice_tolerance_pct: float = Field(default=0.0, ge=0, le=100)

    def consumption(self) -> ForecastConsumption | None:
        """The forecast consumption the plan uses (None: none)."""
        if not self.consume_forecast:
            return None
        return ForecastConsumption(self.consume_backward_days, self.consume_forward_days)

    def exception_settings(self) -> ExceptionSettings:
        """The exception rules' tolerances these defaults hold."""
        from workbench.analysis.exceptions.kinds import ExceptionSettings

        return ExceptionSettings(**{f: getattr(self, f) for f in (
            "reschedule_in_tolerance_days", "reschedule_out_tolerance_days",
            "past_due_tolerance_days", "confirmation_days", "confirmation_tolerance_days",
            "ship_notice_tolerance_days", "ship_notice_tolerance_pct")})


class Settings(BaseModel):
    schema_version: int = SCHEMA_VERSION
    #: the name on decisions and audit events (the Settings panel's "Your name on decisions")
    user: str = Field(default_factory=lambda: os_login())
    cache_path: str | None = None
    sources: list[SourceConfig] = Field(default_factory=list)
    planning: PlanningDefaults = Field(default_factory=PlanningDefaults)

    @field_validator("cache_path")
    @classmethod
    def _no_database_password(cls, value: str | None) -> str | None:
        """A team cache's URL never carries its password here (keyring or ~/.pgpass)."""
        if value and database_password_in(value):
            raise ValueError("cache_path holds a database password: remove it from the URL "
                             "(user part, password= or sslpassword=) and keep it in the keyring "
                             "(account postgresql:<user>@<host>:<port>/<database>) or in "
                             "~/.pgpass")
        return value

    def source(self, name: str) -> SourceConfig | None:
        return next((s for s in self.sources if s.name == name), None)


def os_login() -> str:
    """The operating system's name of the user running the app (never a made-up default)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):  # no login name and no passwd entry (a container)
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown user"


def current_user() -> str:
    """Who is acting, for the audit log: the configured user, else the OS login."""
    try:
        return load_settings().user.strip() or os_login()
    except SettingsError:
        return os_login()


#: version -> function upgrading the raw dict of that version to the next one
_MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


def settings_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "settings.json"


class SettingsError(RuntimeError):
    pass


def load_settings(path: Path | None = None) -> Settings:
    """The saved settings, migrated to the current version; defaults when there are none."""
    path = path or settings_path()
    site = _site_defaults(path)
    if not path.exists():
        return _validate(site, path) if site else Settings()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SettingsError(f"settings file {path} is unreadable ({exc}); fix or delete it") from None
    version = int(raw.get("schema_version", 1))
    while version in _MIGRATIONS:
        raw = _MIGRATIONS[version](raw)
        version += 1
    raw["schema_version"] = min(version, SCHEMA_VERSION)
    if raw.get("cache_path") is None:  # unset: the site's cache (if any) applies
        raw.pop("cache_path", None)
    if site:
        from workbench.services.site import merge

        raw = merge(site, raw)
    return _validate(raw, path)


def _validate(raw: dict[str, Any], path: Path) -> Settings:
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise SettingsError(f"settings file {path}, {where}: {first['msg']}") from None


def _site_defaults(path: Path) -> dict[str, Any]:
    """The site profile and the per-user override merged (workbench.services.site); a broken
    profile is a SettingsError naming its file and field."""
    from workbench.services.site import SiteProfileError, site_defaults, site_layers

    try:
        return site_defaults(site_layers(path))
    except SiteProfileError as exc:
        raise SettingsError(str(exc)) from None


def save_settings(settings: Settings, path: Path | None = None) -> None:
    """Write atomically (temp file + rename), so a crash never leaves half a settings file."""
    path = path or settings_path()
    # values equal to the site profile's stay the site's (workbench.services.site.user_layer)
    from workbench.services.site import user_layer

    mine = user_layer(settings.model_dump(mode="json"), _site_defaults(path))
    make_private_folder(path.parent)
    tmp = path.with_suffix(".json.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # also when an old temporary was there with wider permissions
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(mine, indent=2, ensure_ascii=False))
    tmp.replace(path)


def make_private_folder(folder: Path) -> None:
    """Create ``folder`` and its missing parents readable by the user only (0700, whatever the
    umask); an existing folder is left as it is."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for created in reversed(missing):
        created.mkdir(mode=0o700, exist_ok=True)
        os.chmod(created, 0o700)
