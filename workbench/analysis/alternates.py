"""Alternate components with free stock for a requisition's need: rule 3 of
:mod:`workbench.analysis.requisitions` (its module doc states the rule in full)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.analysis.bom import preferred_lines, scrap_factor
from workbench.analysis.data import PlanningData
from workbench.analysis.netting import Plan
from workbench.analysis.sources import EPS


@dataclass(frozen=True)
class Alternate:
    """A lower-ranked line of an alternate group, seen from the group's preferred line."""

    item: str
    group: str
    priority: int
    position: int
    ratio: float  # units of this item per unit of the preferred item (scrap included)


def alternate_lines(data: PlanningData) -> dict[tuple[str, str, str], list[Alternate]]:
    """(parent, revision, preferred component) -> its alternates, in alternate order (see the
    module doc); computed once per set of BOM lines."""
    return data.derived(
        "alternate_lines", (data.bom_lines,), lambda: _alternate_lines(data.bom_lines))


def _alternate_lines(lines: pd.DataFrame) -> dict[tuple[str, str, str], list[Alternate]]:
    grouped = lines[lines["alternate_group"].fillna("").astype(str) != ""]
    if grouped.empty:
        return {}
    keys = ["parent", "revision", "alternate_group"]
    frame = grouped[keys + ["component", "alternate_priority", "position"]].assign(
        per_unit=grouped["quantity_per"].to_numpy(float)
        * scrap_factor(grouped["scrap_pct"].to_numpy(float)))
    preferred = preferred_lines(grouped).to_numpy(bool)
    pairs = frame[preferred].merge(frame[~preferred], on=keys, suffixes=("", "_alt"))
    pairs = pairs[pairs["component_alt"] != pairs["component"]].sort_values(
        keys + ["alternate_priority_alt", "position_alt", "component_alt"], kind="stable")
    out: dict[tuple[str, str, str], list[Alternate]] = {}
    for r in pairs.itertuples(index=False):
        out.setdefault((str(r.parent), str(r.revision), str(r.component)), []).append(Alternate(
            str(r.component_alt), str(r.alternate_group), int(r.alternate_priority_alt),
            int(r.position_alt), float(r.per_unit_alt) / float(r.per_unit)))
    return out


@dataclass
class _Use:
    """X's dependent requirement from one parent line in one bucket that an alternate may take."""

    parent: str
    revision: str
    group: str
    quantity: float
    ratio: float
    priority: int
    position: int


@dataclass
class AlternateStock:
    """Rule 3 of the module doc over one plan: which alternate can take a requisition's need,
    keeping track of the free stock and the parent requirements already switched."""

    plan: Plan
    lines: dict[tuple[str, str, str], list[Alternate]]
    #: whether an item is kept in a count unit: its switched quantity is then whole units
    whole: Callable[[str], bool] = field(default=lambda _item: False)
    _free: dict[int, np.ndarray] = field(default_factory=dict)  # row -> firm projected - safety
    #: (item, site, parent, revision, group, bucket) -> requirement already switched
    _switched: dict[tuple[str, str, str, str, str, int], float] = field(default_factory=dict)
    _preferred: set[str] = field(init=False)

    def __post_init__(self) -> None:
        self._preferred = {x for _, _, x in self.lines}

    def free(self, item: str, site: str, bucket: int) -> float:
        """Y's free stock by ``bucket`` (module doc), less what earlier switches took."""
        row = self.plan.row(item, site)
        if row is None:
            return 0.0
        if row not in self._free:
            p = self.plan
            firm = p.on_hand[row] + np.cumsum(p.scheduled[row] - p.gross[row])
            self._free[row] = firm - p.items.safety_stock[p.item[row]]
        return max(float(self._free[row][bucket:].min()), 0.0)

    def _uses(self, item: str, site: str) -> dict[str, dict[int, list[_Use]]]:
        """Per alternate item, per bucket: the switchable dependent requirements of ``item``."""
        p, seg = self.plan, self.plan.segments
        out: dict[str, dict[int, list[_Use]]] = {}
        x = int(p.items.idx([item])[0])
        for s in seg.by_child[seg.ptr_child[x]:seg.ptr_child[x + 1]]:
            parent = str(p.items.codes[seg.parent[s]])
            alternates = self.lines.get((parent, str(seg.revision[s]), item), [])
            prow = p.row(parent, site) if alternates else None
            if prow is None:
                continue
            offset = int(p.calendar.offset(p.items.lead_time_days[seg.parent[s]]))
            for b in range(int(seg.first_bucket[s]), int(seg.end_bucket[s])):
                qty = float(p.planned[prow, b] * seg.quantity[s])
                if qty <= EPS:
                    continue
                for alt in alternates:
                    out.setdefault(alt.item, {}).setdefault(max(b - offset, 0), []).append(
                        _Use(parent, str(seg.revision[s]), alt.group, qty, alt.ratio,
                             alt.priority, alt.position))
        for per_bucket in out.values():
            for uses in per_bucket.values():
                uses.sort(key=lambda u: (u.parent, u.revision))
        return out

    def switch(self, item: str, site: str, covered: list[tuple[int, float]]
               ) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """The alternate that takes all of ``covered`` (its evidence), or None; with the
        alternates looked at and why each could not."""
        if item not in self._preferred or not covered:
            return None, []
        need = sum(q for _, q in covered)
        first = covered[0][0]
        checked: list[dict[str, Any]] = []
        uses = self._uses(item, site)
        rank = {y: min((u.priority, u.position) for us in per_bucket.values() for u in us)
                for y, per_bucket in uses.items()}
        for y in sorted(uses, key=lambda y: (rank[y], y)):
            taken: list[tuple[tuple[str, str, str, str, str, int], _Use, float]] = []
            for b, qty in covered:
                left = qty
                for u in uses[y].get(b, []):
                    key = (item, site, u.parent, u.revision, u.group, b)
                    take = min(left, u.quantity - self._switched.get(key, 0.0))
                    if take > EPS:
                        taken.append((key, u, take))
                        left -= take
            switched = float(sum(t for _, _, t in taken))
            exact = float(sum(t * u.ratio for _, u, t in taken))
            y_qty = float(np.ceil(exact - 1e-9)) if self.whole(y) else exact
            free = self.free(y, site, first)
            if switched < need - EPS:
                checked.append({"item": y, "reason": "only part of the need is demand of "
                                "parents it may serve" if switched > EPS else "the need is not "
                                "demand of parents it may serve", "switchable_quantity": switched})
                continue
            if free < y_qty - EPS:
                checked.append({"item": y, "reason": "not enough free stock",
                                "free_quantity": free, "quantity_needed": y_qty})
                continue
            row = self.plan.row(y, site)
            assert row is not None  # free stock > 0 needs a plan row
            self._free[row][first:] -= y_qty
            lines: dict[tuple[str, str, str], list[float]] = {}
            for key, u, t in taken:
                self._switched[key] = self._switched.get(key, 0.0) + t
                acc = lines.setdefault((u.parent, u.revision, u.group), [0.0, 0.0, u.ratio])
                acc[0] += t
                acc[1] += t * u.ratio
            return {
                "item": y, "quantity": y_qty, "converted_quantity": exact,
                "replaces_quantity": switched,
                "free_quantity": free, "free_by": self.plan.calendar.need_date(first),
                "lines": [{"parent": p, "revision": r, "group": g, "quantity": a[0],
                           "alternate_quantity": a[1], "ratio": a[2]}
                          for (p, r, g), a in sorted(lines.items())],
            }, checked
        return None, checked
