"""Order quantities a buyer can place: the item's unit and lot rules, and the supplier's pack.

A re-evaluated requisition proposes the quantity that is **actually needed**, rounded **up**
step by step, each step only when it changes the figure (the reason then names it):

1. **whole units** — an item kept in a *count* unit (category ``count`` in the units table:
   each, pieces, boxes) is ordered in whole units: 311.08 EA becomes 312;
2. **minimum order quantity** of the item: raised to it;
3. **order multiple** of the item: rounded up to the next multiple;
4. **the supplier's pack**: when the supplier sells the item in a pack unit, the quantity is
   rounded up to whole packs (see :func:`pack_sizes`);
5. a count unit stays whole after 3-4 (a fractional multiple of a count unit is rounded again).

Without a units table (``count_units`` not given) the usual count codes of
:data:`COUNT_UNIT_CODES` are taken as count units.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

#: unit codes taken as count units when the units table is not at hand (case-insensitive)
COUNT_UNIT_CODES = frozenset({"EA", "EACH", "PC", "PCS", "PCE", "PIECE", "PIECES", "UNIT",
                              "UNITS", "U", "BOX", "PK", "PACK", "SET", "PR", "PAIR"})
_EPS = 1e-9


def count_units(uoms: pd.DataFrame | None) -> frozenset[str]:
    """The codes of the count units in the units table (``code``, ``category``); the usual
    count codes when there is no table."""
    if uoms is None or not len(uoms) or "category" not in uoms:
        return COUNT_UNIT_CODES
    return frozenset(str(c) for c, cat in zip(uoms["code"], uoms["category"])
                     if str(cat) == "count")


@dataclass(frozen=True)
class Pack:
    """A supplier sells the item in ``unit``, one of which is ``size`` stock units."""

    unit: str
    size: float


def pack_sizes(purchase_order_lines: pd.DataFrame, conversions: pd.DataFrame | None,
               counts: Iterable[str], items: pd.DataFrame) -> dict[tuple[str, str], Pack]:
    """(item, supplier) -> the pack the supplier sells the item in, where known.

    Known means: the supplier's latest purchase-order line of the item (by order, then line)
    was ordered in a *count* unit other than the item's stock unit, and an **item-specific**
    conversion of that unit exists (``1 BOX of X = 12 EA``): a pack is a property of the item,
    so a global conversion (``1 KG = 1000 G``) is no pack. ``items``: the item master (code,
    stock_uom); a line in the item's stock unit has no pack.
    """
    counted = set(counts)
    if conversions is None or not len(conversions) or not len(purchase_order_lines) \
            or "orig_uom" not in purchase_order_lines:
        return {}
    conv = conversions[conversions["item"].fillna("").astype(str) != ""]
    factor = {(str(r.item), str(r.from_uom)): float(r.factor) for r in conv.itertuples()
              if float(r.factor) > 0}
    factor.update({(str(r.item), str(r.to_uom)): 1.0 / float(r.factor)
                   for r in conv.itertuples() if float(r.factor) > 0
                   and (str(r.item), str(r.to_uom)) not in factor})
    pol = purchase_order_lines
    sort = [c for c in ("purchase_order", "line") if c in pol]
    latest = pol.sort_values(sort, kind="stable").groupby(["item", "supplier"]).tail(1)
    stock_unit = dict(zip(items["code"].astype(str), items["stock_uom"].astype(str)))
    out: dict[tuple[str, str], Pack] = {}
    for r in latest.itertuples():
        unit = str(r.orig_uom or "")
        if unit == stock_unit.get(str(r.item), ""):
            continue
        size = factor.get((str(r.item), unit))
        if unit in counted and size is not None and size > _EPS:
            out[(str(r.item), str(r.supplier))] = Pack(unit, size)
    return out


@dataclass(frozen=True)
class OrderRules:
    """What a purchase of one item from one supplier must look like."""

    unit: str = ""
    whole: bool = False
    minimum: float = 0.0
    multiple: float = 0.0
    pack: Pack | None = None


@dataclass
class Rounded:
    """A proposed quantity and the steps that rounded it (empty: none needed)."""

    needed: float
    quantity: float
    steps: list[str] = field(default_factory=list)

    def note(self, fmt: str = "{:,.6g}") -> str:
        """'311.08 needed, rounded up to 312: whole EA' for the reason; '' when not rounded."""
        if not self.steps:
            return ""
        return (f"{fmt.format(self.needed)} needed, rounded up to {fmt.format(self.quantity)}: "
                + "; ".join(self.steps))


def _up(qty: float, step: float) -> float:
    return math.ceil(qty / step - _EPS) * step


def order_quantity(needed: float, rules: OrderRules) -> Rounded:
    """The quantity to order for ``needed`` under ``rules``, in the order of the module doc."""
    out = Rounded(needed, needed)
    if needed <= _EPS:
        out.quantity = 0.0
        return out
    unit = f" {rules.unit}" if rules.unit else ""
    qty = needed
    if rules.whole and abs(qty - round(qty)) > _EPS:
        qty = float(math.ceil(qty - _EPS))
        out.steps.append(f"whole{unit or ' units'} ({rules.unit or 'a count unit'} is counted)")
    if rules.minimum > _EPS and qty < rules.minimum - _EPS:
        qty = rules.minimum
        out.steps.append(f"minimum order quantity {rules.minimum:,.6g}{unit}")
    if rules.multiple > _EPS:
        up = _up(qty, rules.multiple)
        if up > qty + _EPS:
            out.steps.append(f"order multiple {rules.multiple:,.6g}{unit}")
        qty = up
    if rules.pack is not None and rules.pack.size > _EPS:
        up = _up(qty, rules.pack.size)
        if up > qty + _EPS:
            out.steps.append(f"whole {rules.pack.unit} of {rules.pack.size:,.6g}{unit} "
                             f"(the supplier's pack)")
        qty = up
    if rules.whole and abs(qty - round(qty)) > _EPS:
        qty = float(math.ceil(qty - _EPS))
        out.steps.append(f"whole{unit or ' units'}")
    out.quantity = float(round(qty, 9))
    return out
