"""Purchase orders, their lines and promise-date history, and how they move on in time.

Each supplier has a reliability class: *reliable* suppliers confirm the requested date and deliver
on it; *occasional* ones now and then confirm a few days late or push a promise once; *chronic*
ones usually confirm late, push promises several times by one to two weeks, and leave lines
overdue. The open lines are the ones the plan (:mod:`planner_connectors.demo.mrp`) wanted, requested
for when their parts are needed and ordered a lead time earlier; lines of one supplier, site
and week share a PO. So a late promise is a late part: that is where most of the plant's
shortages come from. Open POs are drafts, waiting for approval, approved, sent (no
acknowledgement yet) or acknowledged, by how long ago they went out; acknowledged lines carry a
promised date and acknowledgement date, some are partly received (what came was used; what is
still to come is the plan's quantity), and lines due within a week often have a ship notice
(quantity and date). Received and closed POs of the last months are included, since slippage
statistics learn from them.

A line's promise history (``promise_changes``) starts with the acknowledgement and has one row per
later push, each with the time it happened (always before "today"); its last promised date is the
line's current one. Quantities in the history are in the item's stock unit.

Later in time (``advance``): events of simulated day t happen during the working day before the
morning of day t (weekends are quiet). Drafts get approved and sent, sent lines get acknowledged,
lines due are received (reliable suppliers on time; unreliable ones often push the promise
instead), unreliable suppliers push promises ahead of time, and ship notices arrive. Every
changed line gets version t; every change of promise adds a history row; every receipt adds a
goods-receipt stock row.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from planner_connectors.demo.boms import rank_in_group
from planner_connectors.demo.clock import NO_DATE, is_workday, pick_in, stream, to_weekday
from planner_connectors.demo.master import BOX, CHRONIC, EA, OCCASIONAL, RELIABLE, Items, Suppliers
from planner_connectors.demo.mrp import BuyLines
from planner_connectors.demo.production import round_quantity
from planner_connectors.demo.scales import Scale

PURCHASE_STATUS = np.array(
    [
        "draft",
        "pending_approval",
        "approved",
        "sent",
        "acknowledged",
        "partially_received",
        "received",
        "closed",
        "cancelled",
    ],
    dtype=object,
)
DRAFT, PENDING, APPROVED, SENT, ACKED, PARTIAL, RECEIVED, CLOSED, CANCELLED = range(9)
ACK_STATUS = np.array(["none", "accepted", "changed", "rejected"], dtype=object)
NO_ACK, ACCEPTED, CHANGED, REJECTED = range(4)
DAY_SECONDS = 86_400
#: per reliability class (reliable, occasional, chronic)
_CONFIRM_LATE = np.array([0.0, 0.25, 0.65])  # chance the first promise is after the request
_CONFIRM_SLIP = np.array([[0, 1], [1, 6], [3, 21]])  # days late, [lo, hi)
_PUSH_SIZE = np.array([[0, 1], [1, 6], [3, 16]])
_DELIVERS_WHEN_DUE = np.array([0.95, 0.7, 0.35])
_PUSHES_AHEAD = np.array([0.0, 0.004, 0.025])  # chance per day of pushing a promise early


def _between(rng: np.random.Generator, bounds: np.ndarray, cls: np.ndarray) -> np.ndarray:
    lo, hi = bounds[cls, 0], bounds[cls, 1]
    return pick_in(lo, hi, rng.random(len(cls)))


def _office_seconds(rng: np.random.Generator, days: np.ndarray) -> np.ndarray:
    """A moment during office hours (08:00-18:00) of each day, in seconds from the base date."""
    return days * DAY_SECONDS + 8 * 3600 + rng.integers(0, 36_000, len(days))


class Purchasing:
    """Purchase orders (``po_*``, one entry per PO) and their lines (one entry per line)."""

    # lines, sorted by purchase order
    po: np.ndarray
    line_no: np.ndarray
    item: np.ndarray
    reliability: np.ndarray
    quantity: np.ndarray
    stock_factor: np.ndarray  # one unit of the line = this many stock units
    uom: np.ndarray
    price: np.ndarray
    requested: np.ndarray
    promised: np.ndarray
    ack: np.ndarray
    ack_date: np.ndarray
    asn_quantity: np.ndarray
    asn_date: np.ndarray
    received: np.ndarray
    received_date: np.ndarray
    status: np.ndarray
    requisition: np.ndarray
    version: np.ndarray
    #: the demo write that last changed each line (0: none since its last simulated change)
    written: np.ndarray
    po_status: np.ndarray
    po_version: np.ndarray

    def __init__(
        self, supplier: np.ndarray, site: np.ndarray, order: np.ndarray, buyer: np.ndarray
    ) -> None:
        self.po_supplier = supplier
        self.po_site = site
        self.po_order = order
        self.po_buyer = buyer
        #: promise history pieces: (line, seconds from base midnight, promised day, version)
        self.history: list[tuple[np.ndarray, ...]] = []
        #: goods receipts after day 0: (line, quantity in the line's unit, day, version)
        self.receipts: list[tuple[np.ndarray, ...]] = []

    def copy(self) -> Purchasing:
        """Arrays of its own, so advancing it (and laying writes over it) leaves this one as
        it is."""
        other = Purchasing.__new__(Purchasing)
        for name, value in vars(self).items():
            setattr(other, name, value.copy() if isinstance(value, (np.ndarray, list)) else value)
        return other

    def history_columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return tuple(np.concatenate(p) for p in zip(*self.history))  # type: ignore[return-value]

    def receipt_columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if not self.receipts:
            empty = np.zeros(0, np.int64)
            return empty, np.zeros(0), empty, empty
        return tuple(np.concatenate(p) for p in zip(*self.receipts))  # type: ignore[return-value]

    def header_status(self) -> np.ndarray:
        """A PO's status from its lines: the least advanced one, partly received if any is."""
        starts = np.flatnonzero(np.r_[True, self.po[1:] != self.po[:-1]])
        cancelled = self.status == CANCELLED
        lo = np.minimum.reduceat(np.where(cancelled, 99, self.status), starts)
        hi = np.maximum.reduceat(np.where(cancelled, -1, self.status), starts)
        any_received = np.maximum.reduceat((self.status == RECEIVED).astype(np.int8), starts)
        done = np.where(any_received == 1, RECEIVED, CLOSED)
        out = np.where(
            lo == 99,
            CANCELLED,
            np.where(lo >= RECEIVED, done, np.where(hi >= PARTIAL, PARTIAL, lo)),
        )
        header = np.zeros(len(self.po_supplier), dtype=np.int8)
        header[self.po[starts]] = out
        return header


def _orders_per_po(rng: np.random.Generator, n_lines: int) -> np.ndarray:
    """Line counts of POs (1-10, about 2.5 on average) adding up to exactly n_lines."""
    counts = np.minimum(rng.geometric(0.4, int(n_lines / 2.0) + 10), 10)
    cum = np.cumsum(counts)
    m = int(np.searchsorted(cum, n_lines)) + 1
    counts = counts[:m].copy()
    counts[-1] -= int(cum[m - 1] - n_lines)
    return counts


def _open_orders(rng: np.random.Generator, items: Items, buy: BuyLines) -> tuple[np.ndarray, ...]:
    """The plan's lines grouped into purchase orders: one per supplier, site and week the
    order went out (at most ten lines). Returns the lines' order (into ``buy``), their PO, and
    per PO supplier, site, order date and the state it has reached."""
    n = len(buy.item)
    supplier = items.supplier[buy.item].astype(np.int64)
    ideal = buy.requested - items.lead_time[buy.item] - rng.integers(0, 4, n)
    # what was due to be ordered already went out then; the rest was ordered in the last days
    order = to_weekday(np.where(ideal <= -1, ideal, -rng.integers(0, 3, n)), back=True)
    week = (order + 7 * 1000) // 7
    rows = np.lexsort((order, week, buy.site, supplier))
    group = (supplier[rows] * 100 + buy.site[rows]) * 100_000 + week[rows]
    new = np.r_[True, group[1:] != group[:-1]] if n else np.zeros(0, bool)
    new |= (rank_in_group(np.cumsum(new)) % 10) == 0
    po = np.cumsum(new) - 1
    starts = np.flatnonzero(new)
    po_order = np.minimum.reduceat(order[rows], starts) if n else np.zeros(0, np.int64)
    age = -po_order
    n_po = len(starts)
    state = np.select(
        [age <= 2, age <= 6],
        [
            rng.choice([DRAFT, PENDING, APPROVED, SENT], n_po),
            np.where(rng.random(n_po) < 0.6, ACKED, SENT),
        ],
        np.where(rng.random(n_po) < 0.95, ACKED, SENT),
    )
    return rows, po, supplier[rows][starts], buy.site[rows][starts], po_order, state


def make_purchasing(
    items: Items, suppliers: Suppliers, buy: BuyLines, scale: Scale, seed: int
) -> Purchasing:
    """Open orders for the plan's lines (see :mod:`planner_connectors.demo.mrp`) and closed orders of
    the last months, with acknowledgements, promises and their history."""
    rng = stream(seed, "purchasing")
    rows, o_po, o_supplier, o_site, o_order, o_state = _open_orders(rng, items, buy)
    n_open_po = len(o_supplier)
    closed_counts = _orders_per_po(rng, max(20, scale.open_po_lines // 4))
    n_closed = len(closed_counts)
    buyable = np.flatnonzero(items.supplier >= 0)
    by_supplier = buyable[np.argsort(items.supplier[buyable], kind="stable")]
    sup_start = np.searchsorted(items.supplier[by_supplier], np.arange(len(suppliers) + 1))
    c_supplier = items.supplier[buyable[rng.integers(0, len(buyable), n_closed)]].astype(np.int64)
    site_w = 1.0 / (np.arange(scale.sites) + 1.0)
    c_site = rng.choice(scale.sites, n_closed, p=site_w / site_w.sum())
    c_order = to_weekday(-rng.integers(60, 241, n_closed), back=True)
    supplier = np.concatenate([o_supplier, c_supplier])
    order = np.concatenate([o_order, c_order])
    state = np.concatenate([o_state, np.full(n_closed, ACKED)])
    closed_po = np.arange(len(supplier)) >= n_open_po
    p = Purchasing(
        supplier, np.concatenate([o_site, c_site]), order, items.supplier_buyer[supplier]
    )

    c_po = n_open_po + np.repeat(np.arange(n_closed), closed_counts)
    c_item = by_supplier[
        pick_in(sup_start[supplier[c_po]], sup_start[supplier[c_po] + 1], rng.random(len(c_po)))
    ]
    po = np.concatenate([o_po, c_po])
    n = len(po)
    p.po = po
    p.line_no = rank_in_group(po) + 1
    item = p.item = np.concatenate([buy.item[rows], c_item])
    s = supplier[po]
    p.reliability = suppliers.reliability[s]
    cls = p.reliability.astype(np.int64)

    counted = items.uom[item] == EA
    c_qty = items.unit_scale[c_item] * rng.uniform(0.5, 3.0, len(c_item))
    c_qty = np.maximum(c_qty, items.min_order_qty[c_item])
    mult = items.order_multiple[c_item]
    c_qty = np.where(mult > 0, np.ceil(c_qty / np.maximum(mult, 1e-9)) * mult, c_qty)
    qty = round_quantity(np.concatenate([buy.quantity[rows], c_qty]), counted)
    in_boxes = (items.box_factor[item] > 0) & (rng.random(n) < 0.6)
    in_pieces = (items.each_weight[item] > 0) & (rng.random(n) < 0.7)
    factor = np.select(
        [in_boxes, in_pieces], [items.box_factor[item], items.each_weight[item]], 1.0
    )
    p.quantity = np.where(in_boxes | in_pieces, np.ceil(qty / factor - 1e-9), qty)
    p.stock_factor = factor
    p.uom = np.select([in_boxes, in_pieces], [BOX, EA], items.uom[item]).astype(np.int8)
    p.price = np.maximum(
        0.01, np.round(items.standard_cost[item] * factor * rng.uniform(0.9, 1.1, n), 2)
    )

    open_line = ~closed_po[po]
    c_requested = to_weekday(order[c_po] + items.lead_time[c_item] + rng.integers(0, 4, len(c_po)))
    p.requested = np.concatenate([buy.requested[rows], c_requested])
    line_state = state[po]
    acked = line_state == ACKED
    rejected = acked & open_line & (rng.random(n) < 0.01)
    acked &= ~rejected
    p.ack = np.where(rejected, REJECTED, NO_ACK).astype(np.int8)
    p.ack_date = np.where(
        acked | rejected, np.minimum(to_weekday(order[po] + rng.integers(1, 7, n)), -1), NO_DATE
    )
    p.ack_date = np.where(p.ack_date != NO_DATE, to_weekday(p.ack_date, back=True), NO_DATE)
    p.status = np.where(acked, ACKED, np.where(rejected, SENT, line_state)).astype(np.int8)
    p.requisition = np.full(n, -1, dtype=np.int64)
    p.version = np.zeros(n, dtype=np.int64)
    p.written = np.zeros(n, dtype=np.int64)
    p.received = np.zeros(n)
    p.received_date = np.full(n, NO_DATE, dtype=np.int64)
    p.asn_quantity = np.zeros(n)
    p.asn_date = np.full(n, NO_DATE, dtype=np.int64)

    first_promise = to_weekday(
        p.requested + (rng.random(n) < _CONFIRM_LATE[cls]) * _between(rng, _CONFIRM_SLIP, cls)
    )
    # a supplier never promises a date that has passed when it acknowledges
    first_promise = np.where(
        p.ack_date != NO_DATE, to_weekday(np.maximum(first_promise, p.ack_date + 1)), first_promise
    )
    # some lines of unreliable suppliers are overdue: promised long ago for a date now past
    overdue = acked & open_line & (rng.random(n) < np.array([0.0, 0.08, 0.3])[cls])
    target = to_weekday(np.maximum(p.ack_date + 2, -rng.integers(1, 16, n)), back=True)
    shift = first_promise - target
    overdue &= (p.ack_date <= -5) & (target <= -1) & (shift > 0)
    earlier_request = to_weekday(p.requested - shift, back=True)
    overdue &= earlier_request > order[po]
    p.requested = np.where(overdue, earlier_request, p.requested)
    first_promise = np.where(overdue, target, first_promise)
    window_end = np.where(open_line, -1, np.minimum(-1, first_promise + 5))
    window_end = np.where(overdue, p.ack_date, window_end)  # no pushes since
    p.promised = np.full(n, NO_DATE, dtype=np.int64)
    _promise_history(p, rng, np.flatnonzero(acked), first_promise, window_end)
    p.ack[acked] = np.where(first_promise[acked] == p.requested[acked], ACCEPTED, CHANGED)

    # closed POs: received (some short), closed, or cancelled
    late = (rng.random(n) < np.array([0.0, 0.2, 0.5])[cls]) * _between(
        rng, np.array([[0, 1], [1, 4], [1, 11]]), cls
    )
    done = ~open_line
    outcome = rng.choice([RECEIVED, CLOSED, CANCELLED], n, p=[0.7, 0.28, 0.02])
    p.status[done] = outcome[done]
    got = done & (outcome != CANCELLED)
    received = to_weekday(np.minimum(-1, p.promised[got] + late[got]), back=True)
    p.received_date[got] = np.maximum(received, p.ack_date[got])
    short = np.where(rng.random(n) < 0.05, 0.9, 1.0)
    p.received[got] = round_quantity(
        p.quantity[got] * short[got], (p.uom[got] == EA) | (p.uom[got] == BOX)
    )
    p.asn_quantity[got] = p.received[got]
    p.asn_date[got] = p.received_date[got]

    # open, acknowledged: part-received when due soon; ship notices for what is due this week
    partial = acked & open_line & (p.promised <= 10) & (rng.random(n) < 0.35)
    p.status[partial] = PARTIAL
    # what came already was used already: the plan's quantity is what is still to come
    p.received[partial] = np.floor(p.quantity[partial] * rng.uniform(0.25, 1.0, int(partial.sum())))
    p.quantity[partial] += p.received[partial]
    p.status[partial & (p.received == 0)] = ACKED
    p.received_date[p.status == PARTIAL] = np.maximum(
        p.ack_date[p.status == PARTIAL],
        to_weekday(-rng.integers(1, 11, int((p.status == PARTIAL).sum())), back=True),
    )
    shipping = acked & open_line & (p.promised >= 0) & (p.promised <= 7)
    shipping &= rng.random(n) < np.array([0.6, 0.6, 0.4])[cls]
    p.asn_quantity[shipping] = p.quantity[shipping] - p.received[shipping]
    p.asn_date[shipping] = p.promised[shipping]

    p.po_status = p.header_status()
    p.po_version = np.zeros(len(supplier), dtype=np.int64)
    return p


def _promise_history(
    p: Purchasing,
    rng: np.random.Generator,
    lines: np.ndarray,
    first: np.ndarray,
    window_end: np.ndarray,
) -> None:
    """Acknowledgement plus pushes before day 0 for ``lines``; sets their promised date."""
    cls = p.reliability[lines].astype(np.int64)
    ack = p.ack_date[lines]
    room = window_end[lines] - ack
    n_push = np.select(
        [cls == CHRONIC, cls == OCCASIONAL],
        [
            np.minimum(rng.poisson(1.6, len(lines)), 5),
            (rng.random(len(lines)) < 0.15).astype(np.int64),
        ],
        0,
    )
    n_push = np.where(room >= 1, n_push, 0)
    rows = np.repeat(np.arange(len(lines)), n_push)
    day = pick_in(ack[rows] + 1, ack[rows] + 1 + room[rows], rng.random(len(rows)))
    day = np.maximum(ack[rows] + 1, to_weekday(day, back=True))
    push_seconds = _office_seconds(rng, day)
    order = np.lexsort((push_seconds, rows))  # pushes of a line in time order
    rows, push_seconds = rows[order], push_seconds[order]
    size = _between(rng, _PUSH_SIZE, cls[rows])
    run = np.cumsum(size)
    pushing = n_push > 0
    group_start = (np.cumsum(n_push) - n_push)[pushing]
    within_total = run - np.repeat(run[group_start] - size[group_start], n_push[pushing])
    promised_at_push = to_weekday(first[lines][rows] + within_total)
    total = np.zeros(len(lines), dtype=np.int64)
    np.add.at(total, rows, size)
    p.promised[lines] = to_weekday(first[lines] + total)

    hist_rows = np.concatenate([np.arange(len(lines)), rows])
    hist_promised = np.concatenate([first[lines], promised_at_push])
    seconds = np.concatenate([_office_seconds(rng, ack), push_seconds])
    order = np.lexsort((seconds, hist_rows))  # the acknowledgement (earlier day) comes first
    hist_rows, seconds, hist_promised = hist_rows[order], seconds[order], hist_promised[order]
    # keep times strictly increasing within a line (two changes never share a timestamp)
    rank = rank_in_group(hist_rows)
    seconds = seconds + rank
    p.history.append((lines[hist_rows], seconds, hist_promised, np.zeros(len(hist_rows), np.int64)))


def advance(
    p: Purchasing, day: int, seed: int, end_of_day: Callable[[int], None] | None = None
) -> None:
    """Simulate days 1..day (see the module docstring); deterministic in (seed, day).

    ``end_of_day(t)`` runs after the events of each day ``t`` in 0..day: the writes the demo
    took on PO lines that day go in there (:mod:`planner_connectors.demo.writes`), so later
    days see them (a line deferred on day 2 is not received on its old date on day 3)."""
    base_header = p.po_status.copy()
    if end_of_day:
        end_of_day(0)
    for t in range(1, day + 1):
        event = t - 1
        if is_workday(event):
            _one_day(p, t, event, stream(seed, "purchasing", t))
        if end_of_day:
            end_of_day(t)
    p.po_status = p.header_status()
    changed = p.po_status != base_header
    line_day = np.zeros(len(p.po_supplier), dtype=np.int64)
    np.maximum.at(line_day, p.po, p.version)
    p.po_version = np.where(changed, line_day, 0)


def _one_day(p: Purchasing, t: int, event: int, rng: np.random.Generator) -> None:
    n = len(p.po)
    cls = p.reliability.astype(np.int64)
    r = rng.random(n)
    touched = np.zeros(n, dtype=bool)

    # approval flow and sending
    for before, after, chance in (
        (APPROVED, SENT, 0.5),
        (PENDING, APPROVED, 0.3),
        (DRAFT, PENDING, 0.3),
    ):
        move = (p.status == before) & (r < chance) & ~touched
        p.status[move] = after
        touched |= move

    new_promise = np.full(n, NO_DATE, dtype=np.int64)
    # acknowledgements of sent lines
    acking = (
        (p.status == SENT) & (p.ack == NO_ACK) & ~touched & (p.po_order[p.po] < event) & (r < 0.3)
    )
    slip = (rng.random(n) < _CONFIRM_LATE[cls]) * _between(rng, _CONFIRM_SLIP, cls)
    first = to_weekday(np.maximum(p.requested, event + 1) + slip)
    new_promise[acking] = first[acking]
    p.ack[acking] = np.where(first[acking] == p.requested[acking], ACCEPTED, CHANGED)
    p.ack_date[acking] = event
    p.status[acking] = ACKED
    touched |= acking

    open_acked = ((p.status == ACKED) | (p.status == PARTIAL)) & ~touched
    due = np.where(p.promised != NO_DATE, p.promised, p.requested)
    r2 = rng.random(n)
    due_now = open_acked & (due <= event)
    delivers = due_now & (r2 < _DELIVERS_WHEN_DUE[cls])
    if delivers.any():
        lines = np.flatnonzero(delivers)
        qty = p.quantity[lines] - p.received[lines]
        p.receipts.append((lines, qty, np.full(len(lines), event), np.full(len(lines), t)))
        p.received[lines] = p.quantity[lines]
        p.received_date[lines] = event
        p.status[lines] = RECEIVED
    push_due = due_now & ~delivers & (cls != RELIABLE)
    new_promise[push_due] = to_weekday(event + 1 + _between(rng, _PUSH_SIZE, cls[push_due]))
    ahead = open_acked & (due > event) & (due <= event + 45) & (r2 < _PUSHES_AHEAD[cls])
    new_promise[ahead] = to_weekday(due[ahead] + _between(rng, _PUSH_SIZE, cls[ahead]))
    pushed = push_due | ahead
    p.ack[pushed] = CHANGED
    touched |= delivers | pushed | acking

    shipping = open_acked & ~touched & (due > event) & (due <= event + 5) & (p.asn_quantity == 0)
    shipping &= rng.random(n) < 0.4
    p.asn_quantity[shipping] = p.quantity[shipping] - p.received[shipping]
    p.asn_date[shipping] = due[shipping]
    touched |= shipping

    promised_lines = np.flatnonzero(new_promise != NO_DATE)
    if len(promised_lines):
        p.promised[promised_lines] = new_promise[promised_lines]
        p.history.append(
            (
                promised_lines,
                _office_seconds(rng, np.full(len(promised_lines), event)),
                new_promise[promised_lines],
                np.full(len(promised_lines), t),
            )
        )
    p.version[touched] = t
    p.written[touched] = 0
