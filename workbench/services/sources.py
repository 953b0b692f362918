"""Connectors for the sources the CLI and the screens name: the demo plant, a data package, a
configured source (all opened through :func:`workbench.connect.factory.open_connector`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from workbench.connect.factory import open_connector
from workbench.connect.port import Connector

if TYPE_CHECKING:
    from sqlalchemy import Engine


def cache_path(engine: Engine | None) -> Path | None:
    """The cache file behind ``engine`` (None for an in-memory cache); for a PostgreSQL cache
    the path its local files start with (:func:`workbench.cache.db.local_base`)."""
    from workbench.cache.db import local_base

    return local_base(engine) if engine is not None else None


def demo_connector(
    scale: str = "small", day: int = 0, seed: int = 42, cache: Path | str | None = None
) -> Connector:
    """The demo plant; with ``cache``, it takes decisions into the ledger beside that cache."""
    return open_connector("demo", {"scale": scale, "day": day, "seed": seed}, cache=cache)


def package_connector(folder: str, complete: bool = True) -> Connector:
    """The files connector on a data package folder; ``complete=False`` loads it as a partial
    update (nothing deleted; see connectors/planner_connectors/files)."""
    return open_connector("files", {"folder": folder, "complete": complete})


def configured_connector(name: str, cache: Path | str | None = None) -> Connector:
    """The connector of the source ``name`` from the user's settings (with its store beside
    ``cache`` when it keeps one)."""
    from workbench.services.settings import load_settings

    settings = load_settings()
    cfg = settings.source(name)
    if cfg is None:
        known = ", ".join(s.name for s in settings.sources) or "none configured"
        raise LookupError(f"no source named {name!r} ({known}); add one with `workbench sources add`")
    return open_connector(cfg.connector, cfg.params, cache=cache)
