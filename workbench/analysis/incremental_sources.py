"""Net change planning, the sources side (:mod:`workbench.analysis.incremental`): the planning
sources of the changed items collected again and spliced into the previous plan's, and each row's
own inputs kept sorted by key for the re-netting.

* :func:`collect_items` collects the sources of the changed items only (their rows of every frame,
  the work orders of their component rows, the orders their reservations name);
* :func:`patched_sources` puts them in place of those items' rows of the previous sources
  (:class:`PatchedSources`: the big frames are put together on first use only);
* :class:`RowInputs`: each row's on hand, receipts and requirements as sorted (key, bucket,
  quantity) arrays, patched by item range;
* :func:`keep_codes`, :func:`item_rows`, :func:`master_count`, :func:`seed_derived`: the numbering
  of the frames' code columns a replan reuses instead of hashing strings again.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from workbench.analysis.bom import ItemIndex, gather
from workbench.analysis.consumption import ForecastConsumption
from workbench.analysis.data import PlanningData, column_codes
from workbench.analysis.netting import Plan
from workbench.analysis.ranges import concat_ranges
from workbench.analysis.sources import Sources, _collect, _label, requirement_buckets
from workbench.domain.enums import InventoryStatus


def keep_codes(before: PlanningData, after: PlanningData, entity: str, column: str) -> None:
    """Give ``after.<entity>`` the numbering of ``before``'s column (:func:`column_codes`) for its
    first rows, numbering only the rows appended after them: for a frame copied with some values
    changed but the same codes in the same rows (the overlay of pending decisions on the PO
    lines, a sync changing quantities and dates), so a replan finds the rows of the changed items
    without hashing the whole column again. The caller vouches that those codes are unchanged."""
    old, new = getattr(before, entity), getattr(after, entity)
    if new is old or len(new) < len(old):
        return
    ids, distinct = column_codes(before, entity, column)
    extra = new[column].iloc[len(old):].astype(str).to_numpy(object)
    if len(extra):
        e_ids, e_distinct = pd.factorize(extra)
        known = pd.Index(distinct).get_indexer(e_distinct)
        fresh = known < 0
        known[fresh] = len(distinct) + np.arange(int(fresh.sum()))
        ids = np.concatenate([ids, known[e_ids]])
        distinct = np.concatenate([np.asarray(distinct, object),
                                   np.asarray(e_distinct, object)[fresh]])
    after._derived[f"codes:{entity}.{column}"] = ((new,), (ids, distinct))
    name = f"incremental:items:{entity}.{column}"
    hit = before._derived.get(name)  # the item number of each row (:func:`item_rows`)
    if hit is not None and hit[0][0] is old:
        items: ItemIndex = hit[0][1]  # type: ignore[assignment]
        number = hit[1]
        if len(extra):
            number = np.concatenate([number, np.asarray(items.idx(extra), number.dtype)])
        after._derived[name] = ((new, items), number)
        by_item = f"incremental:rows_by_item:{entity}.{column}"
        if by_item in before._derived and by_item not in after._derived:
            after._derived[by_item] = before._derived[by_item]  # keyed by the number array


def master_count(data: PlanningData, plan_: Plan | None = None) -> int:
    """How many distinct codes the item master has: they come first in the numbering
    (:meth:`ItemIndex.build`), so a code numbered below this count is in the master and stays
    numbered whatever records change. Kept on the data and, with ``plan_``, on the plan for
    that item master too (a what-if's data is a fresh copy each time: counting 200,000 codes
    again was half of its cost)."""
    if plan_ is not None:
        hit = plan_.cache.get("incremental:master_count")
        if hit is not None and hit[0] is data.items:
            data._derived["incremental:master_count"] = ((data.items,), hit[1])
            return int(hit[1])
    count: int = data.derived("incremental:master_count", (data.items,),
                              lambda: int(data.items["code"].nunique()))
    if plan_ is not None:
        plan_.cache["incremental:master_count"] = (data.items, count)
    return count


def item_rows(data: PlanningData, entity: str, column: str, items: ItemIndex,
               wanted: np.ndarray) -> np.ndarray:
    """Rows of ``data.<entity>`` whose ``column`` is one of the item numbers ``wanted``: a look-up
    in the item number of each row, computed once per frame (from the numbering a bulk load
    seeded or the item index keeps, else one factorization of the column); no string is hashed
    again (a million rows: a few milliseconds)."""
    frame = getattr(data, entity)

    def build() -> np.ndarray:
        hit = items.known.get((entity, column))
        if hit is not None and hit[0] is frame:
            return hit[1]  # the numbering's own array, not a copy
        ids, distinct = column_codes(data, entity, column)
        number = items.idx(distinct)[ids] if len(ids) else np.zeros(0, np.int64)
        return np.asarray(number, np.int32)  # item numbers fit: half the memory

    number = data.derived(f"incremental:items:{entity}.{column}", (frame, items), build)
    wanted = np.asarray(wanted, np.int64)
    csr = _rows_by_item(data, f"{entity}.{column}", number, len(items) + 1)
    if csr is not None:
        rows, _ = gather(csr[0], csr[1], wanted[(wanted >= 0) & (wanted <= len(items))])
        return np.sort(rows)
    mask = np.zeros(len(items) + 1, bool)  # the last one: codes the numbering does not know
    mask[wanted] = True
    return np.flatnonzero(mask[number])


def _rows_by_item(data: PlanningData, name: str, number: np.ndarray, size: int
                  ) -> tuple[np.ndarray, np.ndarray] | None:
    """The rows of each item number (CSR: ptr, rows ascending per item) of the item number array
    ``number``, built the second time a replan asks for rows of the same array (a frame a chain
    of replans carries by :func:`keep_codes`: a sync's or a decision's copy of it), None the
    first time: a look-up then costs what it finds, not a pass over a million rows, while a frame
    read once (a sync's fresh frame, a what-if's copy) pays no sort. Kept on the data, keyed by
    the array itself (:meth:`PlanningData.derived`), so a copied frame with the same numbering
    keeps it."""
    key = f"incremental:rows_by_item:{name}"
    hit = data._derived.get(key)
    if hit is not None and hit[0][0] is number and len(hit[0]) == 1:
        if hit[1] is not None:
            return hit[1]
        known = np.where(number < 0, size - 1, number)  # -1: a code the numbering lacks
        order = np.argsort(known, kind="stable")
        if len(order) < 2**31:  # row numbers as int32: half the memory kept per frame
            order = order.astype(np.int32)
        ptr = np.zeros(size + 1, np.int64)
        np.cumsum(np.bincount(known, minlength=size), out=ptr[1:])
        csr = (ptr, order)
        data._derived[key] = ((number,), csr)
        return csr
    data._derived[key] = ((number,), None)  # seen once
    return None


class PatchedSources(Sources):
    """Sources of a replan: the rows of the changed items collected again, every other row the
    previous sources'. The four big frames (a million requirement rows on the large demo) are put
    together on first use only — the replan itself reads their keys and quantities as arrays
    (:class:`RowInputs`), and a chain of replans keeps patching the same base frames."""

    def __init__(self, base: Sources, base_keys: dict[str, np.ndarray],
                 base_items: dict[str, np.ndarray], keep: dict[str, np.ndarray],
                 added: dict[str, pd.DataFrame], added_keys: dict[str, np.ndarray],
                 allocations: pd.DataFrame, site_rows: np.ndarray, items: ItemIndex,
                 sites: pd.Index):
        self._base, self._base_keys, self._base_items = base, base_keys, base_items
        self._keep, self._added, self._added_keys = keep, added, added_keys
        self._site_rows = site_rows  # rows per site over the four frames
        self._numbering = (items, sites)
        self._frames: dict[str, pd.DataFrame] = {}
        self._keys = {}
        self.allocations = allocations
        #: whether the last patch moved where a changed item is planned by its records
        self.planned_moved = True

    def keys(self, name: str, items: Any, sites: pd.Index) -> np.ndarray:
        if name in FRAMES and items is self._numbering[0] and sites.equals(self._numbering[1]):
            if name not in self._keys:
                self._keys[name] = (items, sites, np.concatenate(
                    [self._base_keys[name][self._keep[name]], self._added_keys[name]]))
            return self._keys[name][2]
        return super().keys(name, items, sites)

    def _frame(self, name: str) -> pd.DataFrame:
        if name not in self._frames:
            base: pd.DataFrame = getattr(self._base, name)
            self._frames[name] = pd.concat([base[self._keep[name]], self._added[name]],
                                           ignore_index=True)
        return self._frames[name]

    def _set(self, name: str, frame: pd.DataFrame) -> None:
        self._frames[name] = frame

    on_hand = property(lambda self: self._frame("on_hand"),
                       lambda self, f: self._set("on_hand", f))
    receipts = property(lambda self: self._frame("receipts"),
                        lambda self, f: self._set("receipts", f))
    requirements = property(lambda self: self._frame("requirements"),
                            lambda self, f: self._set("requirements", f))
    planned = property(lambda self: self._frame("planned"),
                       lambda self, f: self._set("planned", f))

    # the frame is kept under the field's own name in the instance dict (None until read), as
    # a plain Sources keeps it: a stored plan's lazy sources put the reservations they have at
    # hand there (services.plan_parts.LazySources)
    def _allocations(self) -> pd.DataFrame:
        frame: pd.DataFrame | None = self.__dict__.get("allocations")
        if frame is None:  # put together on first use (:func:`patched_sources`)
            parts = self.__dict__["_alloc_parts"]
            frame = pd.concat([parts[0][parts[1]], parts[2]], ignore_index=True)
            self.__dict__["allocations"] = frame
        return frame

    def _set_allocations(self, frame: pd.DataFrame) -> None:
        self.__dict__["allocations"], self.__dict__["_alloc_parts"] = frame, None

    allocations = property(_allocations, _set_allocations)


#: the frames of :class:`Sources` a replan patches by item
FRAMES = ("on_hand", "receipts", "requirements", "planned")


def collect_items(data: PlanningData, items: ItemIndex, changed: np.ndarray,
                   consumption: ForecastConsumption | None) -> Sources:
    """The sources of the ``changed`` items only: their rows of every frame, plus the work
    orders of their component rows and the orders their reservations name (so a reservation
    serves what it serves in a full collection)."""
    inv = data.inventory.iloc[item_rows(data, "inventory", "item", items, changed)]
    woc = data.work_order_components.iloc[
        item_rows(data, "work_order_components", "component", items, changed)]
    targets = set(inv.loc[inv["status"] == InventoryStatus.ALLOCATED.value,
                          "allocated_to"].astype(str)) - {""}
    dem_rows = item_rows(data, "demands", "item", items, changed)
    wo_rows = item_rows(data, "work_orders", "item", items, changed)
    wanted_wo = set(woc["work_order"].astype(str)) | targets
    if wanted_wo:  # each row once, in frame order, as a full collection sees them
        wo_rows = np.union1d(wo_rows, code_rows(data, "work_orders", wanted_wo))
    # a reservation's target matters here only for being known (its stock on hand, or covering
    # nothing) and for the changed item's own requirement rows it serves, which the item's rows
    # already hold: a target known as a work order needs no look-up among the demands (a
    # sync's demand frame is new: indexing its codes was a tenth of a replan)
    targets -= set(data.work_orders["code"].iloc[wo_rows].astype(str)) if targets else set()
    if targets:
        dem_rows = np.union1d(dem_rows, code_rows(data, "demands", targets))
    demands = data.demands.iloc[dem_rows]
    wos = data.work_orders.iloc[wo_rows]
    pol = data.purchase_order_lines.iloc[
        item_rows(data, "purchase_order_lines", "item", items, changed)]
    # the headers of these lines only (a cancelled or closed header ends its lines): not a
    # pass over every header's status per replan
    headers = data.purchase_orders
    if len(pol) and len(headers):
        headers = headers.iloc[code_rows(data, "purchase_orders",
                                         set(pol["purchase_order"].astype(str)))]
    sub = PlanningData(items=data.items, inventory=inv, demands=demands, work_orders=wos,
                       work_order_components=woc, purchase_orders=headers,
                       purchase_order_lines=pol)
    fresh = _collect(sub, None, consumption)
    codes = set(items.codes[changed])
    for name in (*FRAMES, "allocations"):
        frame: pd.DataFrame = getattr(fresh, name)
        setattr(fresh, name, frame[frame["item"].isin(codes)].reset_index(drop=True))
    return fresh


def code_rows(data: PlanningData, entity: str, codes: set[str]) -> np.ndarray:
    """Rows of ``data.<entity>`` whose ``code`` is one of ``codes``, ascending: looked up in an
    index of the column kept per frame (no pass over the frame's strings per replan)."""
    frame = getattr(data, entity)
    index: pd.Index = data.derived(f"incremental:codes:{entity}", (frame,),
                                   lambda: pd.Index(frame["code"].astype(str).to_numpy(object)))
    if not index.is_unique:
        return np.flatnonzero(frame["code"].isin(codes).to_numpy())
    at = index.get_indexer(sorted(codes))
    return np.unique(at[at >= 0])


def _item_index(base_items: dict[str, np.ndarray], previous: PatchedSources | None,
                n_items: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per base frame, its rows by item number (CSR: ptr, rows), built once per base (kept on
    the patched sources of each replan): a replan finds the changed items' rows without a pass
    over the million base rows. Reused only from ``previous`` patched sources of the same base
    (None: built from ``base_items``): any other sources' index numbers other rows."""
    index: dict[str, tuple[np.ndarray, np.ndarray]] | None = \
        None if previous is None else getattr(previous, "_base_index", None)
    if index is None:
        index = {}
        for n in FRAMES:
            numbers = base_items[n]
            ptr = np.zeros(n_items + 1, np.int64)
            np.cumsum(np.bincount(numbers, minlength=n_items), out=ptr[1:])
            index[n] = (ptr, np.argsort(numbers, kind="stable"))
    return index


def patched_sources(previous: Plan, fresh: Sources, changed: np.ndarray) -> Sources | None:
    """The previous plan's sources with the rows of the ``changed`` items replaced by ``fresh``
    (:func:`collect_items`); None when the plan's sites would change (a site without rows)."""
    items, sites = previous.items, previous.sites
    n_sites = len(sites)
    in_changed = np.zeros(len(items), bool)
    in_changed[changed] = True
    old = previous.sources
    # a stored plan's sources not read yet (services.plan_parts.LazySources) become what was
    # stored first: a patched sources seen as plain ones would pair its own rows-by-item index
    # with the concatenated frames (issue 16 review: other items' rows dropped)
    resolve = getattr(old, "resolve", None)
    if callable(resolve):
        old = resolve()
    if isinstance(old, PatchedSources):
        base, base_keys, base_items = old._base, old._base_keys, old._base_items
        keep, site_rows = dict(old._keep), old._site_rows.copy()
        added = dict(old._added)
        added_keys = dict(old._added_keys)
    else:
        base = old
        base_keys = {n: old.keys(n, items, sites) for n in FRAMES}
        base_items = {n: (base_keys[n] // n_sites).astype(np.int32) for n in FRAMES}
        keep = {n: np.ones(len(base_keys[n]), bool) for n in FRAMES}
        site_rows = sum((np.bincount(base_keys[n] % n_sites, minlength=n_sites)
                         for n in FRAMES), np.zeros(n_sites, np.int64))
        added = {n: getattr(old, n).iloc[:0] for n in FRAMES}
        added_keys = {n: np.zeros(0, np.int64) for n in FRAMES}
    planned_moved = False
    index = _item_index(base_items, old if isinstance(old, PatchedSources) else None,
                        len(items))
    for n in FRAMES:
        ptr, order = index[n]
        rows, _ = gather(ptr, order, changed)
        hit = rows[keep[n][rows]]  # the changed items' base rows still counted
        site_rows -= np.bincount(base_keys[n][hit] % n_sites, minlength=n_sites)
        keep[n] = keep[n].copy()
        keep[n][hit] = False
        gone = in_changed[added_keys[n] // n_sites]
        site_rows -= np.bincount(added_keys[n][gone] % n_sites, minlength=n_sites)
        removed_keys = np.concatenate([base_keys[n][hit], added_keys[n][gone]])
        new: pd.DataFrame = getattr(fresh, n)
        new_item = items.idx(new["item"]).astype(np.int64)
        new_site = sites.get_indexer(new["site"])
        if (new_item < 0).any() or (new_site < 0).any():
            return None
        site_rows += np.bincount(new_site, minlength=n_sites)
        if n == "planned":  # where the changed items are planned by their records
            planned_moved = not np.array_equal(np.unique(removed_keys),
                                               np.unique(new_item * n_sites + new_site))
        added[n] = pd.concat([added[n][~gone], new], ignore_index=True)
        added_keys[n] = np.concatenate([added_keys[n][~gone], new_item * n_sites + new_site])
    if (site_rows <= 0).any():
        return None
    # the reservations of the changed items replaced, found by item number: the base's kept
    # by a mask, the replans' own after them, the frame put together on first use (the 34k
    # reservations of the large demo are not copied per replan)
    parts = old.__dict__.get("_alloc_parts") if isinstance(old, PatchedSources) else None
    if parts is None:
        frame = old.allocations
        numbers = np.asarray(items.idx(frame["item"]), np.int64)  # -1: not in the numbering
        parts = (frame, np.ones(len(frame), bool), frame.iloc[:0], numbers,
                 np.zeros(0, np.int64))
    a_base, a_keep, a_added, a_base_items, a_added_items = parts
    in_changed_or_unknown = np.append(in_changed, False)  # index -1: never a changed item
    a_keep = a_keep & ~in_changed_or_unknown[a_base_items]
    stay = ~in_changed_or_unknown[a_added_items]
    fresh_alloc = fresh.allocations
    a_added = pd.concat([a_added[stay], fresh_alloc], ignore_index=True)
    a_added_items = np.concatenate([a_added_items[stay],
                                    np.asarray(items.idx(fresh_alloc["item"]), np.int64)])
    out = PatchedSources(base, base_keys, base_items, keep, added, added_keys, a_added,
                          site_rows, items, sites)
    out.__dict__["_alloc_parts"] = (a_base, a_keep, a_added, a_base_items, a_added_items)
    out.__dict__["allocations"] = None
    out._base_index = index  # type: ignore[attr-defined]
    out.planned_moved = planned_moved
    return out


def item_keys(sources: Sources, name: str, items: ItemIndex, sites: pd.Index,
              wanted: np.ndarray) -> np.ndarray:
    """Keys (``item * n_sites + site``) of the rows of frame ``name`` (:data:`FRAMES`) whose
    item is among the item numbers ``wanted`` — or more of the frame's keys (every one, for
    sources that are not patched): for a caller that keeps the keys of ``wanted`` only. Patched
    sources answer from their rows by item, without the million keys of the whole frame."""
    if not isinstance(sources, PatchedSources) or items is not sources._numbering[0] or \
            not sites.equals(sources._numbering[1]):
        return sources.keys(name, items, sites)
    ptr, order = sources._base_index[name]  # type: ignore[attr-defined]
    rows, _ = gather(ptr, order, np.asarray(wanted, np.int64))
    rows = rows[sources._keep[name][rows]]
    added = sources._added_keys[name]
    mine = np.zeros(len(items), bool)
    mine[wanted] = True
    return np.concatenate([sources._base_keys[name][rows], added[mine[added // len(sites)]]])


def seed_derived(data: PlanningData, items: ItemIndex, sources: Sources,
                  consumption: ForecastConsumption | None) -> None:
    """Make ``data`` answer its item numbering and (plain) sources from the replan's, so the
    session built on it does not compute them again (:meth:`PlanningData.derived`)."""
    data._derived["item_index"] = (
        (data.items, data.bom_lines, data.bom_revisions, data.inventory, data.demands,
         data.work_orders, data.work_order_components, data.purchase_order_lines,
         data.requisitions), items)
    data._derived[f"sources:{_label(consumption)}"] = (
        (data.inventory, data.purchase_orders, data.purchase_order_lines, data.work_orders,
         data.demands, data.work_order_components), sources)


#: the overlay of replaced items' entries is merged into the sorted base entries once it holds
#: this share of them (each merge copies the base arrays: a million requirement rows)
MERGE_SHARE = 0.05

Entries = tuple[np.ndarray, np.ndarray, np.ndarray]


class RowInputs:
    """Each row's own inputs — on hand, scheduled receipts and requirements in the horizon — as
    (key, bucket, quantity) sorted by key, looked up by key. Built once for a full plan (sorting
    a million requirement rows), then patched by each replan: the changed items' entries of the
    sorted base no longer count (``replaced``) and their fresh ones sit in a small sorted
    overlay (``extra``), so a replan costs what it changes, not a copy of the base; the overlay
    is merged into the base when it grows past :data:`MERGE_SHARE` of it."""

    def __init__(self, parts: dict[str, Entries], replaced: np.ndarray | None = None,
                 extra: dict[str, Entries] | None = None, n_sites: int = 1):
        self.parts = parts
        self.replaced = replaced  # per item: its entries are the overlay's, not the base's
        self.extra = extra or {}
        self.n_sites = n_sites

    @classmethod
    def of(cls, plan_: Plan) -> RowInputs:
        hit = plan_.cache.get("incremental:inputs")
        if hit is None:
            hit = cls(cls._entries(plan_.sources, plan_.items, plan_.sites, plan_.calendar),
                      n_sites=plan_.n_sites)
            plan_.cache["incremental:inputs"] = hit
        return hit

    @staticmethod
    def _entries(sources: Sources, items: ItemIndex, sites: pd.Index, calendar: Any
                 ) -> dict[str, Entries]:
        req = sources.requirements
        rec = sources.receipts
        out = {}
        for name, bucket, qty in (
                ("requirements", requirement_buckets(req, calendar),
                 req["quantity"].to_numpy(float)),
                ("receipts", calendar.bucket(rec["day"].to_numpy(np.int64)),
                 rec["quantity"].to_numpy(float)),
                ("on_hand", None, sources.on_hand["quantity"].to_numpy(float))):
            key = sources.keys(name, items, sites)
            if bucket is None:
                bucket = np.zeros(len(key), np.int64)
            inside = bucket >= 0
            key, qty = key[inside], qty[inside]
            bucket = bucket[inside].astype(np.int32)  # buckets fit: less memory kept
            order = np.argsort(key, kind="stable")
            out[name] = (key[order], bucket[order], qty[order])
        return out

    def patched(self, previous: Plan, fresh: Sources | None, changed: np.ndarray) -> RowInputs:
        """These inputs with the entries of the ``changed`` items replaced by ``fresh``'s (in
        the overlay; merged into the base when the overlay has grown, :meth:`merged`)."""
        if fresh is None or len(changed) == 0:
            return self
        n_sites = previous.n_sites
        fresh._keys.clear()
        new = self._entries(fresh, previous.items, previous.sites, previous.calendar)
        replaced = np.zeros(len(previous.items), bool) if self.replaced is None \
            else self.replaced.copy()
        replaced[changed] = True
        in_changed = np.zeros(len(previous.items), bool)
        in_changed[changed] = True
        extra: dict[str, Entries] = {}
        for name, entries in new.items():
            old = self.extra.get(name)
            if old is not None:
                keep = ~in_changed[old[0] // n_sites]
                entries = tuple(np.concatenate([o[keep], f])  # type: ignore[assignment]
                                for o, f in zip(old, entries))
            order = np.argsort(entries[0], kind="stable")
            extra[name] = (entries[0][order], entries[1][order], entries[2][order])
        out = RowInputs(self.parts, replaced, extra, n_sites)
        size = sum(len(e[0]) for e in extra.values())
        if size > MERGE_SHARE * sum(len(e[0]) for e in self.parts.values()):
            out = out.merged()
        return out

    def merged(self) -> RowInputs:
        """The same inputs with the overlay merged into the sorted base: each replaced item's
        range of the base (``item * n_sites + site`` keys: one range per item) cut out and its
        overlay entries put in its place."""
        if self.replaced is None:
            return self
        n_sites = self.n_sites
        changed = np.flatnonzero(self.replaced)
        parts: dict[str, Entries] = {}
        for name, old in self.parts.items():
            new = self.extra[name]
            lo = np.searchsorted(old[0], changed * n_sites, "left")
            hi = np.searchsorted(old[0], (changed + 1) * n_sites, "left")
            n_lo = np.searchsorted(new[0], changed * n_sites, "left")
            n_hi = np.searchsorted(new[0], (changed + 1) * n_sites, "left")
            starts = np.concatenate([[0], hi])
            ends = np.concatenate([lo, [len(old[0])]])
            key, bucket, qty = (_splice(c, f, starts, ends, n_lo, n_hi)
                                for c, f in zip(old, new))
            parts[name] = (key, bucket, qty)
        return RowInputs(parts, n_sites=n_sites)

    def entries(self, name: str, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(position in ``keys``, bucket, quantity) of every entry of ``keys`` (sorted)."""
        if self.replaced is None:
            return lookup(self.parts[name], keys, np.arange(len(keys)))
        over = self.replaced[keys // self.n_sites]
        base = lookup(self.parts[name], keys[~over], np.flatnonzero(~over))
        extra = lookup(self.extra[name], keys[over], np.flatnonzero(over))
        return tuple(np.concatenate([a, b])  # type: ignore[return-value]
                     for a, b in zip(base, extra))


def lookup(entries: Entries, keys: np.ndarray, position: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(``position`` of the key, bucket, quantity) of every entry of ``keys`` (sorted) in
    sorted ``entries``."""
    key, bucket, qty = entries
    lo = np.searchsorted(key, keys, "left")
    hi = np.searchsorted(key, keys, "right")
    counts = hi - lo
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    src = np.repeat(position, counts)
    at = concat_ranges(lo, counts)
    return src, bucket[at], qty[at]


def _splice(column: np.ndarray, fresh: np.ndarray, starts: np.ndarray, ends: np.ndarray,
            fresh_lo: np.ndarray, fresh_hi: np.ndarray) -> np.ndarray:
    """``column`` between the cut ranges (``starts[k]:ends[k]``), each cut filled with
    ``fresh[fresh_lo[k]:fresh_hi[k]]``."""
    pieces = []
    for k in range(len(starts)):
        pieces.append(column[starts[k]:ends[k]])
        if k < len(fresh_lo):
            pieces.append(fresh[fresh_lo[k]:fresh_hi[k]])
    return np.concatenate(pieces)
