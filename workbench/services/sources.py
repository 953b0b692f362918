"""Building connectors by name through the registry (the core never imports a concrete one)."""

from __future__ import annotations

from typing import Any

from connectors.base import Connector, get_connector_class


def make_connector(name: str, **params: Any) -> Connector:
    """An instance of the registered connector ``name`` with its parameters."""
    return get_connector_class(name)(**params)


def demo_connector(scale: str = "small", day: int = 0, seed: int = 42) -> Connector:
    return make_connector("demo", scale=scale, day=day, seed=seed)


def package_connector(folder: str) -> Connector:
    return make_connector("files", folder=folder)


def configured_connector(name: str) -> Connector:
    """The connector of the source ``name`` from the user's settings."""
    from workbench.services.settings import load_settings

    settings = load_settings()
    cfg = settings.source(name)
    if cfg is None:
        known = ", ".join(s.name for s in settings.sources) or "none configured"
        raise LookupError(f"no source named {name!r} ({known}); add one with `workbench sources add`")
    from workbench.services.credentials import connector_params

    return make_connector(cfg.connector, **connector_params(cfg.connector, cfg.params))
