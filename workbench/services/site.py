"""The site profile: defaults that plant IT deploys, under each user's own settings.

Three layers, each overriding the one before (``docs/site-profile.md``):

1. the site profile :func:`site_profile_path` — ``/etc/planner-workbench/site.toml`` (on Windows
   ``%PROGRAMDATA%\\planner-workbench\\site.toml``; ``PWB_SITE_PROFILE`` names another file);
2. the per-user override ``site.toml`` beside the user's ``settings.json``
   (:func:`user_site_profile_path`), e.g. a team cache for one group of planners;
3. the user's own ``settings.json`` (what the Settings panel saves).

A profile is TOML with the keys of :class:`workbench.services.settings.Settings`::

    cache_path = "/srv/planning/team-cache.sqlite"   # local or a team cache
    [planning]
    horizon_weeks = 13
    [[sources]]
    name = "erp"
    connector = "tryton"
    params = { url = "https://erp.plant.example", database = "plant", user = "planner" }

Mapping profiles come with a source (``params = { dir = ..., mapping = "/etc/planner-workbench/
items.toml" }`` for a files source). Sources merge by name (a user's source of the same name
replaces the site's whole entry); ``planning`` merges field by field; other keys are replaced.
A profile never holds a password: a secret-looking parameter is refused with the file and
field named, exactly as in the user's settings. Values equal to the site's are not stored as
the user's own when settings are saved (:func:`user_layer`), so a later change of the site
profile reaches every user who did not change that value. :func:`value_origins` tells, per
value, where it came from (for the Settings panel).

No Qt and no SQL here.
"""

from __future__ import annotations

import os
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: the one file plant IT ships (a .deb or the installer's ``--site-profile`` puts it there)
SYSTEM_SITE_PROFILE = Path("/etc/planner-workbench/site.toml")
#: the environment variable naming another site profile (tests, a portable install)
SITE_PROFILE_ENV = "PWB_SITE_PROFILE"
#: keys a profile may set (the rest of Settings is personal: ``user``, ``schema_version``)
PROFILE_KEYS = frozenset({"cache_path", "sources", "planning"})


class SiteProfileError(RuntimeError):
    """A site profile that cannot be used; the message names the file and the field."""


def site_profile_path() -> Path:
    """Where the site-wide profile is read from (it need not exist)."""
    env = os.environ.get(SITE_PROFILE_ENV)
    if env:
        return Path(env)
    if sys.platform == "win32":  # pragma: no cover - portability
        return Path(os.environ.get("PROGRAMDATA", r"C:\ProgramData")) / "planner-workbench" / "site.toml"
    return SYSTEM_SITE_PROFILE


def user_site_profile_path(settings_file: Path) -> Path:
    """The per-user override: ``site.toml`` beside the user's settings file."""
    return settings_file.with_name("site.toml")


@dataclass(frozen=True)
class SiteLayer:
    """One profile file as read: its path and its raw values (only :data:`PROFILE_KEYS`)."""

    path: Path
    values: dict[str, Any]


def read_profile(path: Path) -> SiteLayer | None:
    """One profile; None when the file does not exist. Unknown keys, a personal key, a secret or
    a malformed file raise :class:`SiteProfileError` naming the file and the key."""
    if not path.is_file():
        return None
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SiteProfileError(f"site profile {path} is unreadable ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise SiteProfileError(f"site profile {path}: {exc}") from None
    unknown = sorted(set(raw) - PROFILE_KEYS)
    if unknown:
        raise SiteProfileError(f"site profile {path}, {unknown[0]}: not a site setting (allowed: "
                               f"{', '.join(sorted(PROFILE_KEYS))})")
    _check(path, raw)
    return SiteLayer(path, raw)


def _check(path: Path, raw: dict[str, Any]) -> None:
    from pydantic import ValidationError

    from workbench.services.settings import PlanningDefaults, SourceConfig

    if "cache_path" in raw and not isinstance(raw["cache_path"], str):
        raise SiteProfileError(f"site profile {path}, cache_path: must be a text (a file path)")
    planning = raw.get("planning", {})
    if not isinstance(planning, dict):
        raise SiteProfileError(f"site profile {path}, planning: must be a table ([planning])")
    try:
        PlanningDefaults.model_validate(planning)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise SiteProfileError(f"site profile {path}, planning.{where}: {first['msg']}") from None
    sources = raw.get("sources", [])
    if not isinstance(sources, list):
        raise SiteProfileError(f"site profile {path}, sources: must be a list ([[sources]])")
    for n, source in enumerate(sources, 1):
        try:
            SourceConfig.model_validate(source)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            name = source.get("name", f"#{n}") if isinstance(source, dict) else f"#{n}"
            raise SiteProfileError(f"site profile {path}, sources[{name}].{where}: "
                                   f"{first['msg']}") from None


def site_layers(settings_file: Path) -> list[SiteLayer]:
    """The site profile, then the per-user override, as far as they exist."""
    found = [read_profile(site_profile_path()), read_profile(user_site_profile_path(settings_file))]
    return [layer for layer in found if layer is not None]


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base`` by the profile rules (sources by name, planning by field)."""
    out = dict(base)
    for key, value in over.items():
        if key == "planning" and isinstance(value, dict):
            out["planning"] = {**dict(base.get("planning") or {}), **value}
        elif key == "sources" and isinstance(value, list):
            mine = {s.get("name"): s for s in value if isinstance(s, dict)}
            kept = [s for s in base.get("sources") or [] if s.get("name") not in mine]
            out["sources"] = kept + list(value)
        else:
            out[key] = value
    return out


def site_defaults(layers: list[SiteLayer]) -> dict[str, Any]:
    """The layers merged in order: what the user's settings are read on top of."""
    merged: dict[str, Any] = {}
    for layer in layers:
        merged = merge(merged, layer.values)
    return merged


def user_layer(saved: dict[str, Any], site: dict[str, Any]) -> dict[str, Any]:
    """What to store as the user's own: ``saved`` (a dumped Settings) without the values that
    equal the site's (a site source unchanged, a planning field unchanged, the same cache)."""
    if not site:
        return saved
    out = dict(saved)
    if "cache_path" in site and out.get("cache_path") == site["cache_path"]:
        out.pop("cache_path")
    if isinstance(site.get("planning"), dict) and isinstance(out.get("planning"), dict):
        planning = {k: v for k, v in out["planning"].items()
                    if not (k in site["planning"] and site["planning"][k] == v)}
        out["planning"] = planning
    if isinstance(site.get("sources"), list) and isinstance(out.get("sources"), list):
        from workbench.services.settings import SourceConfig

        theirs = {s["name"]: SourceConfig.model_validate(s).model_dump() for s in site["sources"]}
        out["sources"] = [s for s in out["sources"] if theirs.get(s.get("name")) != s]
    return out


def value_origins(settings_file: Path | None = None) -> dict[str, str]:
    """Where each site-configurable value comes from: ``"cache_path"``, ``"planning.<field>"``,
    and ``"sources.<name>"`` map to the path of the profile that set it, or to
    ``"user"`` (the user's own settings) — keys set by neither are absent (built-in default).
    Qt-free, for the Settings panel and ``workbench --version``."""
    import json

    from workbench.services.settings import settings_path

    settings_file = settings_file or settings_path()
    origins: dict[str, str] = {}
    layers: list[tuple[str, dict[str, Any]]] = [
        (str(layer.path), layer.values) for layer in site_layers(settings_file)]
    if settings_file.is_file():
        try:
            layers.append(("user", json.loads(settings_file.read_text(encoding="utf-8"))))
        except (OSError, ValueError):
            pass
    for origin, values in layers:
        if "cache_path" in values and values["cache_path"] is not None:
            origins["cache_path"] = origin
        for key in (values.get("planning") or {}):
            origins[f"planning.{key}"] = origin
        for source in values.get("sources") or []:
            if isinstance(source, dict) and "name" in source:
                origins[f"sources.{source['name']}"] = origin
    return origins
