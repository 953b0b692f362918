"""The demands each message endangers, for every message at once (:mod:`.pegmatrix`).

The same answers as the message-by-message path of :mod:`.straight`: a message on a firm
receipt (a PO line or work order in the firm coverage) lists the demands of the requirements
its coverage serves, a planned order's message (E06) its late buckets' pegs, a row below safety
stock (E08) the pegs of its requirements up to the bucket it falls below, E09 its own demand;
at most ``limit`` per message, largest quantity first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from workbench.analysis.data import PlanningData, day_numbers
from workbench.analysis.netting import Plan
from workbench.analysis.sources import EPS

from .intervals import expand, group_cumsum, overlaps
from .kinds import frame
from .listing import Endangered, distinct_marked, listed_entries, round6
from .pegmatrix import PegMatrix
from .pegs import DueDates
from .perload import kept_while_equal
from .straight import late_reason


def demand_late(data: PlanningData, plan: Plan, released: pd.DataFrame,
                matrix: PegMatrix) -> pd.DataFrame:
    """E09 (:func:`.straight.demand_late`) from the order pegs: per demand the worst delay over
    the late planned receipts it pegs to (the first such receipt, by row then bucket, on a tie)."""
    cal = plan.calendar
    rows = released["_row"].to_numpy(np.int64)
    n = len(rows)
    late = np.array(list(released["_late"]), bool).reshape(n, cal.n_buckets) if n \
        else np.zeros((0, cal.n_buckets), bool)
    owner, bucket = np.nonzero(late)
    order = matrix.order_of(rows[owner], bucket)
    pegs = matrix.order_pegs[np.maximum(order, 0)].tocoo() if len(order) else \
        sparse.coo_matrix((0, len(matrix.columns)))
    at, col, qty = pegs.row, pegs.col, pegs.data
    lead = plan.items.lead_time_days[plan.item[rows[owner[at]]]].astype(np.int64)
    days = (cal.today + lead - np.maximum(cal.starts[bucket[at]], cal.today)).astype(float)
    keep = (order[at] >= 0) & (qty > EPS) & (days > -1.0)
    at, col, qty, days = at[keep], col[keep], qty[keep], days[keep]
    first = np.lexsort((at, -days, col))  # per demand: worst days, then the first receipt
    pick = first[np.r_[True, col[first][1:] != col[first][:-1]]] if len(first) else first
    col, qty, days, at = col[pick], qty[pick], days[pick], at[pick]
    names = matrix.columns[col].astype(str)
    src_row = rows[owner[at]]
    item = plan.items.codes[plan.item[src_row]].astype(str)
    site = np.asarray(plan.sites)[plan.site[src_row]].astype(str)
    # each column's owner (a demand, else a work order) and its item and site: once per load
    owners = data.derived("exceptions.column_owners",
                          (matrix.columns, data.demands, data.work_orders),
                          lambda: _owners(data, matrix.columns))
    is_demand, of_item, of_site = (o[col] for o in owners)
    due_day = matrix.due_day[col]
    out = frame("demand_late", len(names), {
        "element": names, "element_type": np.where(is_demand, "demand", "work_order"),
        "item": of_item.astype(str), "site": of_site.astype(str), "need_day": due_day,
        "days": days, "quantity": qty,
        "reason": [late_reason(i, s, d) for i, s, d in zip(item.tolist(), site.tolist(),
                                                          days.tolist())]})
    # its one endangered demand is itself (listed by attach_endangers): the due day and the
    # quantity rounded to 6 decimals
    out["_own_day"] = due_day.astype(np.int64)
    out["_own_quantity"] = round6(qty)
    return out


@dataclass
class RefIndex:
    """Firm coverage's references (``cov["ref"]``) as positions: per coverage row the last
    row of its reference (what a dict by reference keeps: ``drop_duplicates("ref",
    keep="last")``) and the dense rank of its text (as ``np.argsort`` of fixed-width unicode
    compares it), the rows in that order and the distinct references for looking elements up
    (the look-ups of the per-load rules' frames are kept with those frames, in
    :func:`workbench.analysis.exceptions.compute_exceptions`). Kept per data
    (:func:`ref_index`) while the coverage has equal references (the receipts' order is per
    load, :class:`.coverage._Layout`)."""

    refs: np.ndarray
    last: np.ndarray
    rank: np.ndarray
    index: pd.Index
    last_of: np.ndarray
    by_rank: np.ndarray  # the coverage rows by that rank (stable: equal texts in row order)

    @classmethod
    def of(cls, refs: np.ndarray) -> RefIndex:
        codes, distinct = pd.factorize(refs)  # a missing reference: -1, found by no element
        ok = codes >= 0
        last_of = np.full(len(distinct), -1, np.int64)
        np.maximum.at(last_of, codes[ok], np.flatnonzero(ok))
        last = np.where(ok, last_of[np.maximum(codes, 0)] if len(distinct) else -1, -1)
        _, rank = np.unique(refs.astype(str), return_inverse=True)
        rank = rank.reshape(-1).astype(np.int64)
        return cls(refs, last.astype(np.int64), rank, pd.Index(distinct), last_of,
                   np.argsort(rank, kind="stable"))

    def lookup(self, elements: np.ndarray) -> np.ndarray:
        """Per element the last coverage row of the reference equal to it, -1 for none."""
        found = self.index.get_indexer(pd.Index(elements).astype(str)) if len(self.index) \
            else np.full(len(elements), -1, np.int64)
        return np.where(found >= 0, self.last_of[np.maximum(found, 0)], -1).astype(np.int64) \
            if len(self.last_of) else found.astype(np.int64)


def ref_index(data: PlanningData, cov: pd.DataFrame) -> RefIndex:
    """:class:`RefIndex` of ``cov``, made again only when its references differ from the
    last one made for ``data`` (compared by value: the same objects on a later plan)."""
    refs = cov["ref"].to_numpy(dtype=object) if "ref" in cov else np.zeros(0, object)
    kept = data.derived("exceptions.references", (), dict)
    index: RefIndex = kept_while_equal(kept, "index", refs, RefIndex.of)
    return index


def _owners(data: PlanningData, columns: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per name of ``columns`` (the demands and work orders pegs name): whether it is a
    demand, and the item and site of the demand, else of the work order (``work_order:``
    prefix dropped; NaN where neither has it)."""
    dem = data.demands.drop_duplicates("code").set_index("code")
    wo = data.work_orders.drop_duplicates("code").set_index("code")
    names = np.asarray(columns).astype(str)
    is_demand = pd.Index(dem.index).get_indexer(names) >= 0
    bare = pd.Series(names).str.removeprefix("work_order:").to_numpy()
    of_item = np.where(is_demand, pd.Series(names).map(dem["item"]).to_numpy(dtype=object),
                       pd.Series(bare).map(wo["item"]).to_numpy(dtype=object))
    of_site = np.where(is_demand, pd.Series(names).map(dem["site"]).to_numpy(dtype=object),
                       pd.Series(bare).map(wo["site"]).to_numpy(dtype=object))
    return is_demand, of_item, of_site


def attach_endangers(messages: pd.DataFrame, cov: pd.DataFrame, matrix: PegMatrix,
                     due: DueDates, limit: int, at: np.ndarray | None = None) -> Endangered:
    """The endangered demands of every message (module doc), as columns
    (:class:`.listing.Endangered`, in the frame's order): an E09 message's own demand (its
    hidden ``_own_day``/``_own_quantity``), else the pegs of E06's late buckets, of a firm
    receipt's coverage or of a row below safety stock; nothing for the others. ``at``: per
    message the last coverage row of the reference equal to its element (-1 for none,
    :class:`RefIndex`) when the caller knows it; else it is looked up here."""
    plan = matrix.plan
    n = len(messages)
    own = messages["_own_day"].notna().to_numpy(bool)  # E09: its own demand
    late_col = messages["_late"].to_numpy(dtype=object)
    is_late = messages["_late"].notna().to_numpy(bool) & ~own  # E06's late buckets
    if at is None:
        cov = cov.drop_duplicates("ref", keep="last")  # as a dict by reference keeps it
        at = pd.Index(cov["ref"]).get_indexer(messages["element"].astype(str))
    firm = ~own & ~is_late & messages["element_type"].isin(
        ["purchase_order_line", "work_order"]).to_numpy() & (at >= 0)
    safety = ~own & ~is_late & ~firm & \
        (messages["kind"].to_numpy(dtype=object) == "below_safety_stock")
    # (pegs per block row, the messages of the block, which block row each message reads)
    blocks: list[tuple[sparse.csr_matrix, np.ndarray, np.ndarray | None]] = []
    if is_late.any():
        sel = np.flatnonzero(is_late)
        rows = messages["_row"].to_numpy()[sel].astype(np.int64)
        late = np.array([late_col[i] for i in sel], bool)
        blocks.append((orders_in(matrix, rows, late), sel, None))
    if firm.any():
        sel = np.flatnonzero(firm)
        # one coverage per receipt (several messages may name one; a row's receipts are
        # disjoint intervals, as :func:`covered` needs), listed once per receipt:
        # the messages on one receipt share its entries
        hit, inverse = distinct_marked(at[sel], len(cov))
        blocks.append((covered(matrix, cov["row"].to_numpy(np.int64)[hit],
                                      cov["before"].to_numpy(float)[hit],
                                      cov["needed"].to_numpy(float)[hit]), sel, inverse))
    if safety.any():
        sel = np.flatnonzero(safety)
        day = day_numbers(messages["need_date"].to_numpy()[sel].astype("datetime64[D]"))
        bucket = np.maximum(plan.calendar.bucket(day), 0)
        blocks.append((requirements_until(
            matrix,             messages["_row"].to_numpy()[sel].astype(np.int64), bucket), sel, None))
    start = np.zeros(n, np.int64)
    stop = np.zeros(n, np.int64)
    if blocks:
        bounds, used, peg, quantity = listed_entries(
            sparse.vstack([b[0] for b in blocks], format="csr"), due, limit)
        offset = 0
        for pegs, sel, which in blocks:
            part = offset + (np.arange(pegs.shape[0]) if which is None else which)
            start[sel], stop[sel] = bounds[part], bounds[part + 1]
            offset += pegs.shape[0]
    else:
        used, peg, quantity = np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, float)
    names = due.names[used].astype(object)
    day = due.days[used][peg].astype(np.int64)
    sel = np.flatnonzero(own)
    if len(sel):  # each E09 its one entry, after the listed ones
        first = len(peg)
        start[sel] = first + np.arange(len(sel))
        stop[sel] = start[sel] + 1
        peg = np.concatenate([peg, len(names) + np.arange(len(sel))])
        names = np.concatenate([names, messages["element"].to_numpy(dtype=object)[sel]])
        day = np.concatenate([day, messages["_own_day"].to_numpy()[sel].astype(np.int64)])
        quantity = np.concatenate([quantity,
                                   messages["_own_quantity"].to_numpy()[sel].astype(float)])
    return Endangered(start, stop, names, peg, day, quantity)


# --- the pegs a message reads from the matrix ------------------------------------------------
def covered(matrix: PegMatrix, rows: np.ndarray, before: np.ndarray, needed: np.ndarray
            ) -> sparse.csr_matrix:
    """Per firm receipt (row, coverage ``(before, before + needed]``, disjoint within a
    row: each receipt once) the pegs of the requirements it serves
    (:func:`.pegs.covered_pegs`): receipts × columns."""
    plan = matrix.plan
    c = matrix.claims
    wanted = np.zeros(len(plan.key), bool)
    wanted[rows] = True
    mine = np.flatnonzero(wanted[c.row])  # only the claims of the receipts' rows
    row, quantity = c.row[mine], c.quantity[mine]
    safety = plan.items.safety_stock[plan.item[row]].astype(float)
    if plan.planned_at is not None:
        safety = np.where(plan.planned_at[plan.key[row]], safety, 0.0)
    safety = np.where(safety > EPS, safety, 0.0)
    end = safety + group_cumsum(quantity, row)
    start = end - quantity
    at, ri, length = overlaps(row, start, end, rows.astype(np.int64), before,
                              before + np.where(needed > EPS, needed, 0.0))
    ci = mine[at]
    share = np.where(c.quantity[ci] > EPS, length / np.maximum(c.quantity[ci], EPS), 0.0)
    pick = sparse.csr_matrix((share, (ri, ci)), shape=(len(rows), len(c.row)))
    return (pick @ matrix.claim_pegs).tocsr()

def requirements_until(matrix: PegMatrix, rows: np.ndarray, buckets: np.ndarray) -> sparse.csr_matrix:
    """Per (row, bucket): the pegs of the row's requirements up to that bucket."""
    c = matrix.claims
    width = matrix.plan.calendar.n_buckets + 1
    key = c.row * width + c.bucket
    end = np.searchsorted(key, rows * width + buckets, "right")
    start = c.ptr[rows]
    owner, claim = expand(start, np.maximum(end - start, 0))
    pick = sparse.csr_matrix((np.ones(len(claim)), (owner, claim)),
                             shape=(len(rows), len(c.row)))
    return (pick @ matrix.claim_pegs).tocsr()

def orders_in(matrix: PegMatrix, rows: np.ndarray, late: np.ndarray) -> sparse.csr_matrix:
    """Per row (``late``: rows × buckets mask) the pegs of its planned receipts in the
    masked buckets, summed."""
    owner, bucket = np.nonzero(late)
    ids = matrix.order_of(rows[owner], bucket)
    keep = ids >= 0
    pick = sparse.csr_matrix((np.ones(int(keep.sum())), (owner[keep], ids[keep])),
                             shape=(len(rows), len(matrix.order_row)))
    return (pick @ matrix.order_pegs).tocsr()
