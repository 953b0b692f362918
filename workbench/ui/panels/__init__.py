"""The panels of the navigation list, in order. Each is its own module, runnable alone:
``python -m workbench.ui.panels.<name>`` opens it on the demo data (see :mod:`.preview`).

The registry names each panel's module, class and title without importing it: the main window
builds a panel the first time it is shown, so starting the app imports only what the first
panel needs (charts, pandas and the planning engine come later, or in the worker processes).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workbench.ui.panels.base import Panel

#: (name = module, class, title) of each panel, in navigation order
PANELS: tuple[tuple[str, str, str], ...] = (
    ("overview", "OverviewPanel", "Overview"),
    ("exceptions", "ExceptionsPanel", "Exceptions"),
    ("items", "ItemsPanel", "Items & BOM"),
    ("whereused", "WhereUsedPanel", "Where-used & Impact"),
    ("shortages", "ShortagesPanel", "Shortages"),
    ("suppliers", "SuppliersPanel", "Suppliers"),
    ("approvals", "ApprovalsPanel", "Approvals"),
    ("sync", "SyncPanel", "Sync & Outbox"),
    ("settings", "SettingsPanel", "Settings"),
)
NAMES: tuple[str, ...] = tuple(p[0] for p in PANELS)


def panel_class(name: str) -> type[Panel]:
    module, cls, _title = next(p for p in PANELS if p[0] == name)
    panel: type[Panel] = getattr(importlib.import_module(f"{__name__}.{module}"), cls)
    return panel


def panel_classes() -> list[type[Panel]]:
    return [panel_class(name) for name in NAMES]
