"""Net change planning, the re-netting (:mod:`workbench.analysis.incremental`): the rows a change
reaches re-netted level by level (low-level code) from their own inputs and the explosion of all
their parents' planned orders, then written over the previous plan's rows
(:meth:`Renet.finish`) or handed out as they are (:attr:`Renet.done`: a what-if that keeps the
base plan, :func:`workbench.analysis.incremental.renetted`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.analysis.bom import gather
from workbench.analysis.incremental_layout import relaid
from workbench.analysis.incremental_sources import RowInputs, lookup
from workbench.analysis.netting import Plan, Segments, net_rows
from workbench.analysis.sources import EPS, Sources

#: extra requirements of some rows: (key, bucket, quantity), e.g. the component requirements a
#: revision impact moves from the old BOM to the new one for planned work orders
Extra = tuple[np.ndarray, np.ndarray, np.ndarray]


def _sums(at: np.ndarray, weights: np.ndarray, size: int) -> np.ndarray:
    """``np.bincount`` of float weights, float even when there are none."""
    return np.bincount(at, weights=np.asarray(weights, float), minlength=size).astype(float)


class _Slots:
    """Key -> row of the rows re-netted so far, as sorted arrays: a replan re-nets a few
    thousand of the millions of possible keys (an array over every key was filled per replan:
    8 MB on the large demo, a few ms of page faults each time)."""

    def __init__(self) -> None:
        self.keys = np.zeros(0, np.int64)
        self.rows = np.zeros(0, np.int64)

    def get(self, keys: np.ndarray) -> np.ndarray:
        """The row of each of ``keys``, -1 for a key not re-netted."""
        if not len(self.keys):
            return np.full(len(keys), -1, np.int64)
        at = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        return np.where(self.keys[at] == keys, self.rows[at], -1)

    def set(self, keys: np.ndarray, rows: np.ndarray) -> None:
        """``keys`` re-netted into ``rows`` (a key set again takes its last row)."""
        key = np.concatenate([self.keys, np.asarray(keys, np.int64)])
        row = np.concatenate([self.rows, np.asarray(rows, np.int64)])
        order = np.argsort(key, kind="stable")
        key, row = key[order], row[order]
        last = np.ones(len(key), bool)
        last[:-1] = key[1:] != key[:-1]
        self.keys, self.rows = key[last], row[last]


class Renet:
    """The rows re-netted by one replan, level by level, and their write-back."""

    def __init__(self, previous: Plan, inputs: RowInputs, segments: Segments,
                 where: np.ndarray, in_place: bool, extra: Extra | None = None):
        self.prev, self.inputs, self.segments, self.where = previous, inputs, segments, where
        self.extra = None
        if extra is not None and len(extra[0]):
            order = np.argsort(extra[0], kind="stable")
            self.extra = tuple(np.asarray(a)[order] for a in extra)
        self.in_place = in_place
        #: set by the caller: the sources and low-level codes after the change, the levels run
        self.sources: Sources = previous.sources
        self.llc: np.ndarray = previous.llc if previous.llc is not None else np.zeros(0, np.int64)
        self.levels: list[int] = []
        self.n_sites = previous.n_sites
        self.width = previous.calendar.n_buckets
        items = previous.items
        self.offset_all = previous.calendar.offset(items.lead_time_days)
        self.slot = _Slots()  # key -> done row
        self.done_key: list[np.ndarray] = []
        self.done: list[dict[str, np.ndarray]] = []
        self.n_done = 0
        self.recomputed = 0
        self._stack: dict[str, tuple[int, np.ndarray]] = {}  # done rows stacked, per name

    def _planned_pairs(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(positions in ``keys`` whose row has planned orders, those rows' planned orders) in
        the plan as replanned so far; a row without any (most parents of a common component)
        is left out before its row is read."""
        at_parts, row_parts = [], []
        slot = self.slot.get(keys)
        mine = slot >= 0
        if mine.any():
            at = np.flatnonzero(mine)
            planned = self._stacked("planned")[slot[at]]
            some = planned.any(axis=1)  # a replanned row that vanished has none either
            at_parts.append(at[some])
            row_parts.append(planned[some])
        rest = np.flatnonzero(~mine)
        if len(rest):
            rows = self.prev.rows_for_keys(keys[rest])
            hit = rows >= 0
            at, rows = rest[hit], rows[hit]
            matrix = self.prev.planned
            if hasattr(matrix, "slot") and hasattr(matrix, "n_stored"):  # stored rows only
                stored = matrix.slot[rows] != matrix.n_stored
                at, rows = at[stored], rows[stored]
            planned = np.asarray(matrix[rows])
            some = planned.any(axis=1)
            at_parts.append(at[some])
            row_parts.append(planned[some])
        if not at_parts:
            return np.zeros(0, np.int64), np.zeros((0, self.width))
        return np.concatenate(at_parts), np.concatenate(row_parts)

    def _stacked(self, name: str) -> np.ndarray:
        hit = self._stack.get(name)
        if hit is None or hit[0] != len(self.done):
            hit = (len(self.done), np.concatenate([d[name] for d in self.done]))
            self._stack[name] = hit
        return hit[1]

    def run(self, seeds: np.ndarray, llc: np.ndarray) -> list[int]:
        n_sites = self.n_sites
        pending = np.unique(seeds)
        levels: list[int] = []
        while len(pending):
            lv = llc[pending // n_sites]
            level = int(lv.min())
            keys = pending[lv == level]
            pending = pending[lv != level]
            changed = self._net_level(keys, level)
            levels.append(level)
            if len(changed):
                seg, src = gather(self.segments.ptr_parent, self.segments.by_parent,
                                  changed // n_sites)
                kids = self.segments.component[seg].astype(np.int64) * n_sites + \
                    changed[src] % n_sites
                pending = np.union1d(pending, kids)
        return levels

    def _explosion(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(gross requirements from the parents' planned orders, reached by some) of ``keys``."""
        n, width, n_sites, seg_all = len(keys), self.width, self.n_sites, self.segments
        gross: np.ndarray = np.zeros((n, width))
        reached = np.zeros(n, bool)
        seg, src = gather(seg_all.ptr_child, seg_all.by_child, keys // n_sites)
        if len(seg) == 0:
            return gross, reached
        at, planned = self._planned_pairs(seg_all.parent[seg].astype(np.int64) * n_sites +
                                          keys[src] % n_sites)
        seg, src = seg[at], src[at]
        parent = seg_all.parent[seg].astype(np.int64)
        b = np.arange(width)[None, :]
        active = (seg_all.first_bucket[seg][:, None] <= b) & (b < seg_all.end_bucket[seg][:, None])
        live = np.where(active, planned, 0.0)
        hit = live > EPS
        reached = np.bincount(src, weights=hit.any(axis=1), minlength=n) > 0
        pair, bucket = np.nonzero(hit)
        release = np.maximum(bucket - self.offset_all[parent[pair]], 0)
        flat = src[pair] * width + release
        gross = _sums(flat, live[pair, bucket] * seg_all.quantity[seg[pair]],
                      n * width).reshape(n, width)
        return gross, reached

    def _net_level(self, keys: np.ndarray, level: int) -> np.ndarray:
        """Re-net ``keys`` (sorted, all of ``level``); the keys whose planned orders changed."""
        prev, items, n_sites, width = self.prev, self.prev.items, self.n_sites, self.width
        n = len(keys)
        self.recomputed += n
        gross, reached = self._explosion(keys)
        present = reached.copy()
        src, bucket, qty = self.inputs.entries("requirements", keys)
        present[src] = True
        gross += _sums(src * width + bucket, qty, n * width).reshape(n, width)
        if self.extra is not None:  # a requirement change: gross stays >= 0 (as the delta's)
            src, bucket, qty = lookup(self.extra, keys, np.arange(n))  # type: ignore[arg-type]
            if len(src):
                present[src] = True
                gross += _sums(src * width + bucket, qty, n * width).reshape(n, width)
                touched = np.unique(src)
                fixed = np.maximum(gross[touched], 0.0)
                fixed[np.abs(fixed) <= EPS] = 0.0
                gross[touched] = fixed
        src, bucket, qty = self.inputs.entries("receipts", keys)
        present[src] = True
        scheduled = _sums(src * width + bucket, qty, n * width).reshape(n, width)
        src, _, qty = self.inputs.entries("on_hand", keys)
        present[src] = True
        on_hand = _sums(src, qty, n)
        item = keys // n_sites
        present |= self.where[keys] & (items.safety_stock[item] > 0)
        net, planned = net_rows(on_hand, scheduled, gross, items.safety_stock[item],
                                items.min_order_qty[item], items.order_multiple[item])
        for m in (gross, scheduled, net, planned):
            m[~present] = 0.0
        on_hand[~present] = 0.0
        was_rows = prev.rows_for_keys(keys)
        was = was_rows >= 0
        before = np.zeros((n, width))
        before[was] = prev.planned[was_rows[was]]
        differs = (planned != before).any(axis=1)
        self.slot.set(keys, self.n_done + np.arange(n))
        self.n_done += n
        self.done_key.append(keys)
        self.done.append({"exists": present, "level": np.full(n, level, np.int64),
                          "on_hand": on_hand, "gross": gross, "scheduled": scheduled,
                          "net": net, "planned": planned})
        return keys[differs]

    def finish(self, segments: Segments, sources: Sources, where: np.ndarray,
               llc: np.ndarray) -> Plan:
        """The replanned plan: re-netted rows written over their previous values; when rows
        appear, vanish or change level (a BOM change moved their item's low-level code), one
        new layout in level then key order, as a full plan lays its rows out."""
        prev, n_sites = self.prev, self.n_sites
        names = ("on_hand", "gross", "scheduled", "net", "planned")
        arrays = {n: getattr(prev, n) for n in names}
        key, level = prev.key, prev.level
        row_of_key = prev._row_of_key
        assert prev.llc is not None
        moved = np.flatnonzero(llc[key // n_sites] != level) \
            if not np.array_equal(llc, prev.llc) else np.zeros(0, np.int64)
        if self.done or len(moved):
            width = self.width
            if self.done:
                done_key = np.concatenate(self.done_key)
                done = {n: self._stacked(n) for n in ("exists", "level") + names}
            else:
                done_key = np.zeros(0, np.int64)
                done = {"exists": np.zeros(0, bool), "level": np.zeros(0, np.int64),
                        "on_hand": np.zeros(0), **{n: np.zeros((0, width)) for n in names[1:]}}
            rows = prev.rows_for_keys(done_key)
            was, now = rows >= 0, done["exists"]
            if not self.in_place:
                arrays = {n: a.copy() for n, a in arrays.items()}
            added = np.flatnonzero(~was & now)
            if len(added) or (was & ~now).any() or len(moved):
                # laid out first (the added rows as zeros), then every re-netted row written
                # once at its new place: one write per matrix, not one before and one during
                # the layout (each storing write of a RowMatrix scans its 550k slots)
                gone_keys = done_key[was & ~now]
                zeros = {n: np.zeros((len(added),) + done[n].shape[1:]) for n in names}
                key, level = self._layout(arrays, key, level, llc, rows[was & ~now], moved,
                                          done_key[added], done["level"][added], zeros)
                if self.in_place and row_of_key is not None:
                    # the key -> row map updated where it is (the previous plan is not used
                    # again): filling a new one over every key was ~5 ms of each such replan
                    row_of_key[gone_keys] = -1
                    row_of_key[key] = np.arange(len(key))
                    at = row_of_key[done_key[now]]
                else:
                    row_of_key = None
                    space = len(prev.items) * n_sites
                    at = np.searchsorted(level * space + key,
                                         done["level"][now] * space + done_key[now])
                for n in names:
                    arrays[n][at] = done[n][now]
            else:
                upd = was & now
                for n in names:
                    arrays[n][rows[upd]] = done[n][upd]
        out = Plan(prev.calendar, prev.items, prev.sites, segments, sources, key, level,
                   arrays["on_hand"], arrays["gross"], arrays["scheduled"], arrays["net"],
                   arrays["planned"], prev.cycles, where, llc)
        if row_of_key is not None and (key is prev.key or self.in_place):
            out._row_of_key = row_of_key
        return out

    def _layout(self, arrays: dict[str, Any], key: np.ndarray, level: np.ndarray,
                llc: np.ndarray, drop: np.ndarray, moved: np.ndarray, add_key: np.ndarray,
                add_level: np.ndarray, add_vals: dict[str, np.ndarray]
                ) -> tuple[np.ndarray, np.ndarray]:
        """Lay the rows out again in level then key order (``arrays`` replaced in the dict):
        ``drop`` rows vanish, ``moved`` rows change level (same values, new place), the added
        rows come in; returns the new (key, level). The rows that stay keep their order, so the
        new layout is a merge (:func:`~workbench.analysis.incremental_layout.relaid`)."""
        n_sites = self.n_sites
        keep = np.ones(len(key), bool)
        keep[drop] = False
        again = moved[keep[moved]]  # rows changing level: out, then in at their level
        keep[again] = False
        kept = np.flatnonzero(keep)
        in_key = np.concatenate([add_key, key[again]])
        in_level = np.concatenate([add_level, llc[key[again] // n_sites]])
        # where each incoming row comes from: an added row (-1 - its index) or an old row
        in_src = np.concatenate([-1 - np.arange(len(add_key)), again])
        space = len(self.prev.items) * n_sites
        order_new = in_level * space + in_key
        sort = np.argsort(order_new)
        pos = np.searchsorted(level[kept] * space + key[kept], order_new[sort]) + \
            np.arange(len(sort))
        total = len(kept) + len(sort)
        old_pos = np.ones(total, bool)
        old_pos[pos] = False
        src = np.empty(total, np.int64)
        src[old_pos], src[pos] = kept, in_src[sort]
        for n, a in arrays.items():
            arrays[n] = relaid(a, src, add_vals[n])
        new_key = np.empty(total, np.int64)
        new_key[old_pos], new_key[pos] = key[kept], in_key[sort]
        new_level = np.empty(total, np.int64)
        new_level[old_pos], new_level[pos] = level[kept], in_level[sort]
        return new_key, new_level
