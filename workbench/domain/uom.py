"""Unit-of-measure conversion to an item's stock unit.

Conversions are looked up item-specific first (``1 BOX of item X = 12 EA``), then global
(``1 KG = 1000 G``), then by the inverse of either, so a source only has to state each relation
once. An unknown unit or a missing conversion is an error naming the unit, never a silent 1:1.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class UomError(ValueError):
    pass


@dataclass
class UomConverter:
    known_units: set[str] = field(default_factory=set)
    #: (item or "", from, to) -> factor, meaning 1 from = factor to
    factors: dict[tuple[str, str, str], float] = field(default_factory=dict)

    def add_unit(self, code: str) -> None:
        self.known_units.add(code)

    def add_conversion(self, item: str, from_uom: str, to_uom: str, factor: float) -> None:
        self.factors[(item or "", from_uom, to_uom)] = factor

    def factor(self, item: str, from_uom: str, to_uom: str) -> float:
        """How many ``to_uom`` one ``from_uom`` of ``item`` is."""
        if from_uom == to_uom:
            return 1.0
        for unit in (from_uom, to_uom):
            if unit not in self.known_units:
                raise UomError(f"unknown unit {unit!r}")
        for scope in (item, ""):
            f = self.factors.get((scope, from_uom, to_uom))
            if f is not None:
                return f
            f = self.factors.get((scope, to_uom, from_uom))
            if f is not None:
                return 1.0 / f
        raise UomError(f"no conversion from {from_uom} to {to_uom} for item {item}")

    def to_stock(self, item: str, quantity: float, from_uom: str, stock_uom: str) -> float:
        return quantity * self.factor(item, from_uom, stock_uom)
