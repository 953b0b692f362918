"""Names beside codes and units beside quantities: what the screens read to show ``CODE — Name``
and ``1,200 EA`` (the display rules are :mod:`workbench.ui.format`).

:func:`display_names` reads, once per window and again after a sync, the name of every item
(its description), supplier and site and every item's stock unit. Importing this module loads
neither pandas nor Qt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from workbench.app.ops import cache_query

if TYPE_CHECKING:
    from sqlalchemy import Engine


def with_name(code: str, name: str | None) -> str:
    """``CODE — Name``; the code alone when there is no name (or it is the code)."""
    if not code or not name or name == code:
        return code
    return f"{code} — {name}"


@dataclass(frozen=True)
class DisplayNames:
    """Names of items, suppliers and sites and the stock unit of each item, by code."""

    items: dict[str, str] = field(default_factory=dict)
    suppliers: dict[str, str] = field(default_factory=dict)
    sites: dict[str, str] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)

    def name(self, kind: str, code: str) -> str | None:
        """The name of ``code`` of ``kind`` (item, supplier, site), None when unknown."""
        table = {"item": self.items, "supplier": self.suppliers, "site": self.sites}[kind]
        return table.get(code)

    def label(self, kind: str, code: str) -> str:
        """``CODE — Name`` of ``code`` of ``kind``."""
        return with_name(code, self.name(kind, code))

    def unit(self, item: str) -> str:
        """The stock unit of ``item`` ("" when unknown)."""
        return self.units.get(item, "")


@cache_query
def display_names(engine: Engine) -> DisplayNames:
    """Every live item's description and stock unit, supplier's and site's name."""
    from workbench.cache.readmodels import master_names

    items, suppliers, sites = master_names(engine)
    return DisplayNames(
        items={code: name for code, name, _unit in items if name},
        suppliers={code: name for code, name in suppliers if name},
        sites={code: name for code, name in sites if name},
        units={code: unit for code, _name, unit in items if unit},
    )
