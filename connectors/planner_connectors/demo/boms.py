"""Bills of material of the demo plant: revisions with effectivity, and their lines.

Every made item has a *height* (BOM levels below it: 6-10 for finished goods, 1-9 for
sub-assemblies). A BOM line's component is always lower than its parent, so the structure is a
DAG by construction, and line 10 of every revision is the *spine*: a sub-assembly exactly one level
lower, which makes an item of height h exactly h levels deep. Other lines draw sub-assemblies of
any lower height (so popular sub-assemblies are shared by many parents) or bought parts, the
cheap standard ones far more often than the rest (where-used lists of bolts are long). Most lines
are bought parts: a finished good has about five sub-assemblies besides its spine, a
sub-assembly about one in three, because every extra sub-assembly line multiplies the units per
machine level by level (with more, a 10-level machine would hold thousands of assemblies and
millions of bolts).

Quantities per parent: a sub-assembly once (sometimes two to four times); fasteners 4-24,
small parts 1-6, bought components mostly 1; sheet and bar a fraction of a kilogram, tube and
cable up to a few metres, paint and oil a few centilitres to half a litre.

Revisions per made item (in the proportions below):

* single: rev A released, open-ended;
* change: rev A released until T-1, rev B released from T (T within -60..+90 days of today);
* draft: rev A released, rev B a draft effective from a future date (not used for planning);
* superseded: rev A obsolete until T-1 (T in the past), rev B released, sometimes a draft rev C.

A later revision copies the one before and mutates it like an engineering change order: a
component replaced by another of the same kind, a quantity changed, a line dropped or added. The
spine never changes, so every revision keeps the item's depth. About 3% of bought lines carry an
alternate (same ``alternate_group``, priority 1 = preferred, 2 = alternate, position + 5).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from planner_connectors.demo import words
from planner_connectors.demo.clock import NO_DATE, pick_in, stream, to_weekday
from planner_connectors.demo.master import EA, KG, SMALLER_FACTOR, SMALLER_UNIT, Items, M
from planner_connectors.demo.scales import FG, PP, RM, SA, Scale

SINGLE, CHANGE, DRAFT, SUPERSEDED = range(4)
PATTERN_SHARES = (0.70, 0.12, 0.10, 0.08)
REVISION_CODES = np.array(["A", "B", "C"], dtype=object)
BOM_STATUS = np.array(["draft", "released", "obsolete"], dtype=object)
DRAFT_S, RELEASED_S, OBSOLETE_S = range(3)
_SCRAP = np.array([0.5, 1.0, 2.0, 3.0, 5.0, 8.0])
#: quantities per parent, drawn uniformly from these lists: a sub-assembly goes in once (now and
#: then two to four times), fasteners by the handful, small parts a few, components mostly once
_ASSEMBLY_QTY = np.array([1] * 41 + [2] * 6 + [3, 3, 4, 4], dtype=float)
_CLASS_QTY = (
    np.array([4, 4, 6, 8, 8, 12, 16, 24], dtype=float),  # words.FASTENER
    np.array([1, 1, 1, 2, 2, 3, 4, 6], dtype=float),  # words.SMALL_PART
    np.array([1, 1, 1, 1, 2], dtype=float),  # words.COMPONENT
)


#: expected sub-assembly lines (besides the spine) of a finished good and of a sub-assembly
_FG_ASSEMBLIES, _SA_ASSEMBLIES = 5.0, 0.35


def block_rows(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Row numbers of the blocks [starts[j], starts[j] + counts[j]) concatenated."""
    ends = np.cumsum(counts)
    return np.repeat(starts - ends + counts, counts) + np.arange(int(ends[-1]) if len(ends) else 0)


@dataclass
class Lines:
    """BOM lines, column-wise, sorted by revision then position."""

    rev: np.ndarray
    position: np.ndarray
    component: np.ndarray
    quantity: np.ndarray
    uom: np.ndarray
    scrap: np.ndarray
    alt_prio: np.ndarray  # 0 = no alternates, 1 = preferred, 2 = alternate

    def take(self, rows: np.ndarray) -> Lines:
        return Lines(*(getattr(self, f)[rows] for f in self.__dataclass_fields__))

    @staticmethod
    def concat(parts: list[Lines]) -> Lines:
        return Lines(
            *(np.concatenate([getattr(p, f) for p in parts]) for f in Lines.__dataclass_fields__)
        )


@dataclass
class Boms:
    rev_item: np.ndarray
    rev_code: np.ndarray  # index into REVISION_CODES
    rev_status: np.ndarray  # index into BOM_STATUS
    rev_from: np.ndarray  # day offsets
    rev_to: np.ndarray
    rev_eco: np.ndarray  # engineering change number (0 for the initial release)
    lines: Lines
    line_start: np.ndarray  # CSR: lines of revision r are line_start[r]:line_start[r+1]
    pattern: np.ndarray  # per made item
    #: per made item: the revision released from ``change_day`` on (-1: none), A is index = item
    next_rev: np.ndarray
    change_day: np.ndarray
    #: components in an item's rev A but not in the rev B that replaces it (component, day)
    dropped_component: np.ndarray
    dropped_day: np.ndarray

    def revision_at(self, items: np.ndarray, days: np.ndarray) -> np.ndarray:
        """The released revision of each (made) item effective on each day."""
        nxt = self.next_rev[items]
        return np.where((nxt >= 0) & (days >= self.change_day[items]), nxt, items)

    def eco_text(self, r: int) -> str:
        eco = int(self.rev_eco[r])
        if eco == 0:
            return "Initial release"
        return f"ECO-{eco:05d}: {words.ECO_REASONS[eco % len(words.ECO_REASONS)]}"


class _Picker:
    """Draws components that respect the height rule."""

    def __init__(self, items: Items, rng: np.random.Generator) -> None:
        self.items = items
        self.rng = rng

    def bought(self, kind: np.ndarray) -> np.ndarray:
        """A bought item of the given kind (PP or RM), standard parts far likelier."""
        lo = np.where(kind == PP, self.items.start[PP], self.items.start[RM])
        hi = np.where(kind == PP, self.items.start[PP + 1], self.items.start[RM + 1])
        u = self.rng.random(len(kind)) ** 2.2
        return pick_in(lo, hi, u)

    def below(self, height: np.ndarray) -> np.ndarray:
        """A sub-assembly of any height lower than ``height`` (>= 2)."""
        lo = self.items.start[SA]
        hi = self.items.sa_start[height]
        return pick_in(lo, hi, self.rng.random(len(height)))

    def spine(self, height: np.ndarray) -> np.ndarray:
        """A sub-assembly exactly one level lower than ``height`` (>= 2)."""
        lo = self.items.sa_start[height - 1]
        hi = self.items.sa_start[height]
        return pick_in(lo, hi, self.rng.random(len(height)))

    def mixed(self, parent_height: np.ndarray, make_share: np.ndarray) -> np.ndarray:
        r = self.rng.random(len(parent_height))
        kind = np.where(r < make_share + 0.3, RM, PP)
        comp = self.bought(kind)
        make = (r < make_share) & (parent_height >= 2)
        comp[make] = self.below(parent_height[make])
        return comp

    def quantities(self, comp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Quantity per parent and the unit it is stated in (sometimes a smaller unit): sheet and
        bar by the fraction of a kilogram, tube and cable by the metre, paint and oil by the
        centilitre."""
        n = len(comp)
        uom = self.items.uom[comp].astype(np.int8)
        cls = self.items.part_class[comp]
        rng = self.rng
        u = rng.random(n)
        qty = np.select(
            [
                self.items.kind[comp] < PP,
                cls == words.FASTENER,
                cls == words.SMALL_PART,
                cls == words.COMPONENT,
                uom == KG,
                uom == M,
            ],
            [
                _ASSEMBLY_QTY[pick_in(0, len(_ASSEMBLY_QTY), u)],
                _CLASS_QTY[words.FASTENER][pick_in(0, len(_CLASS_QTY[0]), u)],
                _CLASS_QTY[words.SMALL_PART][pick_in(0, len(_CLASS_QTY[1]), u)],
                _CLASS_QTY[words.COMPONENT][pick_in(0, len(_CLASS_QTY[2]), u)],
                np.round(np.clip(rng.lognormal(-1.0, 0.9, n), 0.02, 12.0), 3),
                np.round(rng.uniform(0.1, 2.5, n), 2),
            ],
            np.round(np.clip(rng.lognormal(-3.0, 0.8, n), 0.005, 0.5), 3),  # litres
        )
        smaller = (uom != EA) & (rng.random(n) < 0.25)
        for big, small in SMALLER_UNIT.items():
            sel = smaller & (uom == big)
            qty[sel] = np.round(qty[sel] * SMALLER_FACTOR[big], 1)
            uom[sel] = small
        return qty, uom


class _BomBuilder:
    def __init__(self, items: Items, scale: Scale, seed: int) -> None:
        self.items = items
        self.scale = scale
        self.rng = stream(seed, "boms")
        self.pick = _Picker(items, self.rng)
        self.n_make = int(items.start[PP])

    def build(self) -> Boms:
        rng, n_make = self.rng, self.n_make
        pattern = rng.choice(4, n_make, p=PATTERN_SHARES).astype(np.int8)
        has_b = np.flatnonzero(pattern != SINGLE)
        has_c = np.flatnonzero((pattern == SUPERSEDED) & (rng.random(n_make) < 0.4))
        self._rev_items = np.concatenate([np.arange(n_make), has_b, has_c])
        first = self._alternates(self._first_lines(len(has_b) + len(has_c)))
        b_rev = np.full(n_make, -1, dtype=np.int64)
        b_rev[has_b] = n_make + np.arange(len(has_b))
        second = self._derive(first, has_b, b_rev[has_b])
        c_rev = n_make + len(has_b) + np.arange(len(has_c))
        third = self._derive(second, b_rev[has_c], c_rev)
        lines = Lines.concat([first, second, third])
        n_rev = n_make + len(has_b) + len(has_c)
        line_start = np.searchsorted(lines.rev, np.arange(n_rev + 1))

        rev_item = self._rev_items
        rev_code = np.repeat(np.arange(3), [n_make, len(has_b), len(has_c)]).astype(np.int8)
        status = np.full(n_rev, RELEASED_S, dtype=np.int8)
        rev_from = np.full(n_rev, NO_DATE, dtype=np.int64)
        rev_to = np.full(n_rev, NO_DATE, dtype=np.int64)
        change_day = np.full(n_make, NO_DATE, dtype=np.int64)

        change = rng.integers(-60, 91, n_make)
        change = np.where(pattern == SUPERSEDED, -rng.integers(30, 401, n_make), change)
        change = np.where(pattern == DRAFT, rng.integers(30, 121, n_make), change)
        change = to_weekday(change)
        rev_from[:n_make] = to_weekday(
            np.where(pattern == SINGLE, 0, np.minimum(change, 0)) - rng.integers(200, 1500, n_make)
        )
        b_items = has_b
        switches = pattern[b_items] != DRAFT
        rev_to[b_items[switches]] = change[b_items[switches]] - 1
        status[b_items[pattern[b_items] == SUPERSEDED]] = OBSOLETE_S
        rev_from[n_make : n_make + len(has_b)] = change[b_items]
        status[n_make : n_make + len(has_b)] = np.where(switches, RELEASED_S, DRAFT_S)
        change_day[b_items[switches]] = change[b_items[switches]]
        rev_from[n_make + len(has_b) :] = to_weekday(rng.integers(20, 101, len(has_c)))
        status[n_make + len(has_b) :] = DRAFT_S
        next_rev = np.where(change_day != NO_DATE, b_rev, -1)

        eco = np.zeros(n_rev, dtype=np.int64)
        eco[n_make:] = 10001 + rng.permutation(n_rev - n_make)
        dropped_comp, dropped_day = self._dropped(lines, line_start, pattern, b_rev, change_day)
        return Boms(
            rev_item=rev_item,
            rev_code=rev_code,
            rev_status=status,
            rev_from=rev_from,
            rev_to=rev_to,
            rev_eco=eco,
            lines=lines,
            line_start=line_start,
            pattern=pattern,
            next_rev=next_rev,
            change_day=change_day,
            dropped_component=dropped_comp,
            dropped_day=dropped_day,
        )

    def _first_lines(self, n_extra_revs: int) -> Lines:
        items, rng, pick, n_make = self.items, self.rng, self.pick, self.n_make
        kind = items.kind[:n_make]
        n_fg = int((kind == FG).sum())
        first_lines = self.scale.bom_lines / 1.04 / (1 + n_extra_revs / n_make)
        sa_mean = max(3.0, (first_lines - 30.0 * n_fg) / max(1, n_make - n_fg))
        # assemblies near the raw material are simple (a few lines), higher ones have more
        height = items.height[:n_make].astype(float)
        size = 0.4 + 0.15 * height
        size /= size[kind != FG].mean()
        spread = rng.lognormal(0, 0.45, n_make) / np.exp(0.1)
        sa_count = np.maximum(2, np.round(sa_mean * size * spread))
        count = np.where(kind == FG, rng.integers(15, 46, n_make), sa_count).astype(np.int64)
        rev = np.repeat(np.arange(n_make), count)
        k = np.arange(len(rev)) - np.repeat(np.cumsum(count) - count, count)
        h = items.height[rev].astype(np.int64)
        # besides the spine, a finished good has a handful of sub-assemblies and a sub-assembly
        # about one in three: more would multiply the assemblies per machine level by level
        per_line = np.where(items.kind[:n_make] == FG, _FG_ASSEMBLIES, _SA_ASSEMBLIES) / count
        comp = pick.mixed(h, per_line[rev])
        spine = (k == 0) & (h >= 2)
        comp[spine] = pick.spine(h[spine])
        keep = _first_occurrence(rev, comp, len(items))
        rev, comp = rev[keep], comp[keep]
        position = (rank_in_group(rev) + 1) * 10
        qty, uom = pick.quantities(comp)
        qty[(position == 10) & (items.kind[comp] == SA)] = 1.0  # one of each spine assembly
        scrap = np.where(
            rng.random(len(rev)) < 0.3, _SCRAP[rng.integers(0, len(_SCRAP), len(rev))], 0.0
        )
        return Lines(rev, position, comp, qty, uom, scrap, np.zeros(len(rev), np.int8))

    def _alternates(self, lines: Lines) -> Lines:
        """Give about 3% of bought lines an alternate: the next part of the same kind and unit."""
        items = self.items
        comp = lines.component
        kind = items.kind[comp]
        cand = comp + 1
        ok = (kind >= PP) & (lines.position != 10) & (self.rng.random(len(comp)) < 0.03)
        ok &= cand < items.start[np.minimum(kind + 1, 4)]
        ok &= items.uom[np.minimum(cand, len(items) - 1)] == items.uom[comp]
        taken = lines.rev.astype(np.int64) * len(items) + comp
        ok &= ~member(lines.rev.astype(np.int64) * len(items) + cand, taken)
        sel = np.flatnonzero(ok)
        alt = lines.take(sel)
        alt.component = cand[sel]
        alt.position = alt.position + 5
        alt.alt_prio[:] = 2
        lines.alt_prio[sel] = 1
        both = Lines.concat([lines, alt])
        return both.take(_by_revision_and_position(both))

    def _derive(self, source: Lines, src_revs: np.ndarray, new_revs: np.ndarray) -> Lines:
        """Copy the source revisions' lines into new revisions, mutated like an ECO."""
        items, rng, pick = self.items, self.rng, self.pick
        if len(src_revs) == 0:
            return source.take(np.zeros(0, dtype=np.int64))
        start = np.searchsorted(source.rev, src_revs)
        count = np.searchsorted(source.rev, src_revs, side="right") - start
        new = source.take(block_rows(start, count))
        new.rev = np.repeat(new_revs, count)
        parent_height = items.height[self._rev_item(new.rev)].astype(np.int64)
        n = len(new.rev)
        free = (new.position != 10) & (new.alt_prio == 0)
        r = rng.random(n)
        replace = np.flatnonzero(free & (r < 0.12))
        bought = items.kind[new.component[replace]] >= PP
        new.component[replace[bought]] = pick.bought(items.kind[new.component[replace[bought]]])
        made = replace[~bought]
        new.component[made] = pick.below(parent_height[made])
        new.quantity[replace], new.uom[replace] = pick.quantities(new.component[replace])
        rescale = np.flatnonzero(free & (r >= 0.12) & (r < 0.22))
        factor = np.array([0.5, 1.5, 2.0])[rng.integers(0, 3, len(rescale))]
        counted = items.uom[new.component[rescale]] == EA
        q = new.quantity[rescale] * factor
        new.quantity[rescale] = np.where(
            counted, np.maximum(1.0, np.round(q)), np.maximum(np.round(q, 3), 0.001)
        )
        keep = ~(free & (r >= 0.22) & (r < 0.27))
        added_revs = new_revs[rng.random(len(new_revs)) < 0.3]
        last = np.searchsorted(new.rev, added_revs, side="right") - 1
        comp = pick.mixed(
            items.height[self._rev_item(added_revs)].astype(np.int64),
            np.full(len(added_revs), 0.05),
        )
        qty, uom = pick.quantities(comp)
        added = Lines(
            added_revs,
            (new.position[last] // 10 + 1) * 10,
            comp,
            qty,
            uom,
            np.zeros(len(added_revs)),
            np.zeros(len(added_revs), np.int8),
        )
        out = Lines.concat([new.take(np.flatnonzero(keep)), added])
        out = out.take(_by_revision_and_position(out))
        return out.take(_first_occurrence(out.rev, out.component, len(items)))

    def _rev_item(self, revs: np.ndarray) -> np.ndarray:
        """Made item of revisions (A revisions are numbered like their item; others map back)."""
        items: np.ndarray = self._rev_items[revs]
        return items

    def _dropped(
        self,
        lines: Lines,
        line_start: np.ndarray,
        pattern: np.ndarray,
        b_rev: np.ndarray,
        change_day: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Bought components an item's rev A uses and the rev B replacing it no longer does."""
        n = len(self.items)
        items = np.flatnonzero(pattern == CHANGE)
        a_rows = block_rows(line_start[items], line_start[items + 1] - line_start[items])
        b_rows = block_rows(
            line_start[b_rev[items]], line_start[b_rev[items] + 1] - line_start[b_rev[items]]
        )
        a_keys = lines.rev[a_rows].astype(np.int64) * n + lines.component[a_rows]
        b_keys = self._rev_items[lines.rev[b_rows]] * n + lines.component[b_rows]
        gone = a_rows[~member(a_keys, b_keys) & (self.items.kind[lines.component[a_rows]] >= PP)]
        return lines.component[gone], change_day[lines.rev[gone]]


def rank_in_group(keys: np.ndarray) -> np.ndarray:
    """0, 1, 2, ... within each run of equal values of a sorted array."""
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    return np.arange(len(keys)) - np.repeat(starts, np.diff(np.r_[starts, len(keys)]))


def _by_revision_and_position(lines: Lines) -> np.ndarray:
    """Sort order by (revision, position); a stable sort is quick on the nearly sorted input."""
    return np.argsort(lines.rev.astype(np.int64) * 1_000_000 + lines.position, kind="stable")


def member(values: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """``np.isin`` by sorting: several times faster than numpy's hashing on millions of ints."""
    if len(pool) == 0:
        return np.zeros(len(values), dtype=bool)
    ordered = np.sort(pool)
    at = np.minimum(np.searchsorted(ordered, values), len(ordered) - 1)
    found: np.ndarray = ordered[at] == values
    return found


def _first_occurrence(rev: np.ndarray, comp: np.ndarray, n_items: int) -> np.ndarray:
    """Rows to keep so a component appears once per revision (the first time), in order."""
    _, first = np.unique(rev.astype(np.int64) * n_items + comp, return_index=True)
    return np.sort(first)


def make_boms(items: Items, scale: Scale, seed: int) -> Boms:
    return _BomBuilder(items, scale, seed).build()
