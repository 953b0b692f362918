"""The panels of the navigation list, in order. Each is its own module, runnable alone:
``python -m workbench.ui.panels.<name>`` opens it on the demo data (see :mod:`.preview`)."""

from __future__ import annotations

import importlib

from workbench.ui.panels.base import Panel

#: (module, class) of each panel, in navigation order
PANEL_CLASSES: tuple[tuple[str, str], ...] = (
    ("overview", "OverviewPanel"),
    ("items", "ItemsPanel"),
    ("whereused", "WhereUsedPanel"),
    ("shortages", "ShortagesPanel"),
    ("suppliers", "SuppliersPanel"),
    ("approvals", "ApprovalsPanel"),
    ("sync", "SyncPanel"),
    ("settings", "SettingsPanel"),
)


def panel_classes() -> list[type[Panel]]:
    out = []
    for module, cls in PANEL_CLASSES:
        mod = importlib.import_module(f"{__name__}.{module}")
        out.append(getattr(mod, cls))
    return out
