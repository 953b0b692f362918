"""Master data of the demo plant: units, sites, locations, suppliers, the item master.

Items are held in *structural order* — finished goods, then sub-assemblies sorted by BOM height,
then purchased parts, then raw materials — so the BOM generator can draw "a sub-assembly at most
h levels deep" as a contiguous index range. Their codes are shuffled within each kind, so
``SA-00001`` is not the shallowest assembly. Purchased parts have a class (fastener, small part,
bought component) that sets their description, cost and quantity per parent; the parts BOMs use
most are mostly fasteners.

The planning parameters made here (safety stock, minimum and multiple, the typical lot) are
first guesses: :mod:`planner_connectors.demo.mrp` resizes them on each item's planned usage.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from planner_connectors.demo import words
from planner_connectors.demo.clock import stream
from planner_connectors.demo.scales import (
    FG,
    KIND_PREFIX,
    KIND_SHARES,
    MAX_DEPTH,
    MIN_DEPTH,
    PP,
    RM,
    SA,
    Scale,
)

#: (code, name, category)
UOMS = (
    ("EA", "Each", "count"),
    ("BOX", "Box", "count"),
    ("KG", "Kilogram", "mass"),
    ("G", "Gram", "mass"),
    ("M", "Metre", "length"),
    ("CM", "Centimetre", "length"),
    ("L", "Litre", "volume"),
    ("ML", "Millilitre", "volume"),
)
UOM_CODES = np.array([u[0] for u in UOMS], dtype=object)
EA, BOX, KG, G, M, CM, L, ML = range(len(UOMS))
#: global conversions: 1 from = factor to; BOM lines may state a component in the smaller unit
GLOBAL_CONVERSIONS = ((KG, G, 1000.0), (M, CM, 100.0), (L, ML, 1000.0))
SMALLER_UNIT = {big: small for big, small, _ in GLOBAL_CONVERSIONS}
SMALLER_FACTOR = {big: factor for big, _, factor in GLOBAL_CONVERSIONS}


def stock_factor(uom: np.ndarray) -> np.ndarray:
    """Divide a quantity stated in ``uom`` by this to get it in the stock unit: a BOM line in
    grams of an item stocked in kilograms divides by 1000 (the stock unit is never the smaller)."""
    factor = np.ones(len(uom))
    for _big, small, f in GLOBAL_CONVERSIONS:
        factor[uom == small] = f
    return factor


RELIABLE, OCCASIONAL, CHRONIC = 0, 1, 2


def shares(n: int, weights: list[float], minimum: int = 1) -> np.ndarray:
    """Split n into parts proportional to weights, each at least ``minimum``, summing to n."""
    w = np.asarray(weights, dtype=float)
    parts = np.maximum(minimum, np.floor(n * w / w.sum()).astype(np.int64))
    parts[int(np.argmax(w))] += n - parts.sum()
    return parts


def nice(x: np.ndarray) -> np.ndarray:
    """Round up to a 'nice' order quantity: 1, 2 or 5 times a power of ten."""
    x = np.maximum(x, 1.0)
    mag = 10.0 ** np.floor(np.log10(x))
    lead = x / mag
    out: np.ndarray = mag * np.select([lead <= 1, lead <= 2, lead <= 5], [1, 2, 5], 10)
    return out


@dataclass
class Suppliers:
    codes: np.ndarray
    names: list[str]
    lead_time: np.ndarray
    currency: np.ndarray
    #: RELIABLE never slip, OCCASIONAL slip now and then by a few days, CHRONIC often and by weeks
    reliability: np.ndarray

    def __len__(self) -> int:
        return len(self.codes)


def make_suppliers(scale: Scale, seed: int) -> Suppliers:
    rng = stream(seed, "suppliers")
    n = scale.suppliers
    combos = rng.permutation(
        len(words.SUPPLIER_FIRST) * len(words.SUPPLIER_TRADE) * len(words.SUPPLIER_FORM)
    )[:n]
    n_trade, n_form = len(words.SUPPLIER_TRADE), len(words.SUPPLIER_FORM)
    names = [
        f"{words.SUPPLIER_FIRST[c // (n_trade * n_form)]} "
        f"{words.SUPPLIER_TRADE[(c // n_form) % n_trade]} {words.SUPPLIER_FORM[c % n_form]}"
        for c in combos.tolist()
    ]
    reliability = np.repeat(np.arange(3), shares(n, [0.35, 0.40, 0.25], minimum=2))
    return Suppliers(
        codes=np.array([f"S{i + 1:04d}" for i in range(n)], dtype=object),
        names=names,
        lead_time=rng.integers(5, 61, n),
        currency=rng.choice(np.array(words.CURRENCIES, dtype=object), n),
        reliability=rng.permutation(reliability).astype(np.int8),
    )


@dataclass
class Items:
    codes: np.ndarray
    kind: np.ndarray
    #: first index of each kind, and the total: kind k is items[start[k]:start[k+1]]
    start: np.ndarray
    #: levels of BOM below the item (0 for bought items); components are always lower
    height: np.ndarray
    #: first sub-assembly index of each height 0..MAX_DEPTH+1 (SA of height h: sa_start[h]..)
    sa_start: np.ndarray
    uom: np.ndarray
    #: purchased parts: words.FASTENER, SMALL_PART or COMPONENT (-1 for other kinds)
    part_class: np.ndarray
    lead_time: np.ndarray
    safety_stock: np.ndarray
    min_order_qty: np.ndarray
    order_multiple: np.ndarray
    standard_cost: np.ndarray
    planner: np.ndarray
    buyer: np.ndarray
    supplier: np.ndarray  # -1 for made items
    home_site: np.ndarray
    #: a typical quantity moved at once, in the stock unit (lots, orders, stock levels scale on it)
    unit_scale: np.ndarray
    box_factor: np.ndarray  # > 0: bought in boxes of this many (item-specific BOX -> EA)
    each_weight: np.ndarray  # > 0: stocked in KG but bought per piece of this weight
    #: descriptions are drawn from word lists, so a table of distinct ones and an index into it
    description_table: np.ndarray
    description: np.ndarray
    #: planner and buyer names (the last one is ""); ``planner`` and ``buyer`` index into it
    people: np.ndarray
    supplier_buyer: np.ndarray  # the buyer (index into people) looking after each supplier

    def __len__(self) -> int:
        return len(self.codes)

    def range(self, kind: int) -> tuple[int, int]:
        return int(self.start[kind]), int(self.start[kind + 1])


def _description_pool(kind: int, uom: int, part_class: int = -1) -> list[str]:
    """Every distinct description the word lists make for items of a kind (and unit, and for
    purchased parts, class)."""
    if kind == FG:
        out = [
            f"{series} {product} {''.join(w[0] for w in product.split())}-{model}"
            for series in words.SERIES
            for product in words.PRODUCTS
            for model in range(10, 100, 5)
        ]
    elif kind == SA:
        out = [
            f"{assembly} {kind_word} {variant}"
            for assembly in words.ASSEMBLIES
            for kind_word in words.ASSEMBLY_KINDS
            for variant in words.VARIANTS
        ]
    elif kind == PP:
        out = [
            template.format(a, b)
            for template, first, second, cls in words.PARTS
            if cls == part_class
            for a in first
            for b in second
        ]
    else:
        out = [
            template.format(t, d, r)
            for template in words.MATERIALS[str(UOM_CODES[uom])]
            for t in words.THICKNESSES
            for d in words.DIAMETERS
            for r in words.RAL
        ]
    return list(dict.fromkeys(out))


def _descriptions(
    rng: np.random.Generator, kind: np.ndarray, uom: np.ndarray, part_class: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """A description table and each item's index into it."""
    table: list[str] = []
    index = np.zeros(len(kind), dtype=np.int64)
    groups = [(FG, EA, -1), (SA, EA, -1)]
    groups += [(PP, EA, c) for c in (words.FASTENER, words.SMALL_PART, words.COMPONENT)]
    groups += [(RM, KG, -1), (RM, M, -1), (RM, L, -1)]
    for k, u, c in groups:
        pool = _description_pool(k, u, c)
        sel = (kind == k) & (uom == u) & (part_class == c)
        index[sel] = len(table) + rng.integers(0, len(pool), int(sel.sum()))
        table += pool
    return np.array(table, dtype=object), index


def _sa_heights(n_sa: int) -> np.ndarray:
    """Sub-assembly heights 1..MAX_DEPTH-1, shallow ones commonest, every height present."""
    heights = np.arange(1, MAX_DEPTH)
    counts = shares(n_sa, [MAX_DEPTH + 2 - h for h in heights.tolist()], minimum=2)
    return np.repeat(heights, counts)


def _part_classes(rng: np.random.Generator, kind: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Classes of purchased parts. BOMs draw the first parts of the range far more often, so
    those are mostly fasteners (the long where-used lists); motors and sensors are rarer."""
    out = np.full(len(kind), -1, dtype=np.int8)
    lo, hi = int(start[PP]), int(start[PP + 1])
    rank = np.arange(hi - lo) / max(1, hi - lo)
    u = rng.random(hi - lo)
    fastener = 0.6 - 0.4 * rank
    out[lo:hi] = np.where(
        u < fastener,
        words.FASTENER,
        np.where(u < fastener + 0.25, words.SMALL_PART, words.COMPONENT),
    )
    return out


def make_items(scale: Scale, seed: int, suppliers: Suppliers) -> Items:
    rng = stream(seed, "items")
    counts = shares(scale.items, list(KIND_SHARES), minimum=10)
    start = np.concatenate([[0], np.cumsum(counts)])
    n = int(start[-1])
    kind = np.repeat(np.arange(4), counts).astype(np.int8)
    height = np.zeros(n, dtype=np.int8)
    height[start[FG] : start[FG + 1]] = rng.integers(MIN_DEPTH, MAX_DEPTH + 1, counts[FG])
    height[start[SA] : start[SA + 1]] = _sa_heights(int(counts[SA]))
    sa_heights = height[start[SA] : start[SA + 1]]
    sa_start = start[SA] + np.searchsorted(sa_heights, np.arange(MAX_DEPTH + 2))

    codes = np.empty(n, dtype=object)
    for k in range(4):
        lo, hi = start[k], start[k + 1]
        width = max(5, len(str(hi - lo)))
        numbers = rng.permutation(hi - lo) + 1
        pattern = f"{KIND_PREFIX[k]}-%0{width}d"
        codes[lo:hi] = [pattern % num for num in numbers.tolist()]

    uom = np.full(n, EA, dtype=np.int8)
    rm = slice(start[RM], start[RM + 1])
    uom[rm] = rng.choice(np.array([KG, M, L], dtype=np.int8), counts[RM], p=[0.5, 0.3, 0.2])

    # a typical quantity per kind and unit (in the stock unit), spread log-normally
    typical = np.select(
        [kind == FG, kind == SA, kind == PP, uom == KG, uom == M],
        [20.0, 50.0, 400.0, 200.0, 300.0],
        50.0,
    )
    unit_scale = np.round(typical * rng.lognormal(0, 0.6, n), 0) + 1
    part_class = _part_classes(rng, kind, start)
    cost_median = np.select(
        [
            kind == FG,
            kind == SA,
            part_class == words.FASTENER,
            part_class == words.SMALL_PART,
            kind == PP,
            uom == KG,
            uom == M,
        ],
        [4000.0, 120.0, 0.15, 1.8, 45.0, 6.0, 4.0],
        12.0,
    )
    standard_cost = np.round(cost_median * rng.lognormal(0, 0.8, n), 2) + 0.01

    buy = kind >= PP
    # every supplier supplies something; big suppliers supply much more (Zipf-like weights)
    n_buy = int(buy.sum())
    w = 1.0 / (np.arange(len(suppliers)) + 5.0)
    sup = rng.choice(len(suppliers), n_buy, p=w / w.sum())
    sup[: min(n_buy, len(suppliers))] = np.arange(min(n_buy, len(suppliers)))
    supplier = np.full(n, -1, dtype=np.int32)
    supplier[buy] = rng.permutation(sup)

    lead_time = np.where(
        buy,
        np.maximum(2, np.round(suppliers.lead_time[supplier] * rng.uniform(0.7, 1.3, n))),
        np.where(kind == FG, rng.integers(5, 16, n), rng.integers(2, 11, n)),
    ).astype(np.int32)

    countable = uom == EA
    has_ss = rng.random(n) < 0.5
    safety = np.where(has_ss, unit_scale * rng.uniform(0.2, 1.0, n), 0.0)
    safety = np.where(countable, np.round(safety), np.round(safety, 1))
    order_multiple = np.where(rng.random(n) < np.where(buy, 0.3, 0.2), nice(unit_scale * 0.1), 0.0)
    moq = np.where(buy & (rng.random(n) < 0.4), nice(unit_scale * 0.5), 0.0)
    moq = np.where(
        order_multiple > 0, np.ceil(moq / np.maximum(order_multiple, 1)) * order_multiple, moq
    )

    box_factor = np.where(
        (kind == PP) & (rng.random(n) < 0.2),
        rng.choice(np.array([10.0, 20.0, 25.0, 50.0, 100.0, 250.0]), n),
        0.0,
    )
    each_weight = np.where(
        (uom == KG) & (rng.random(n) < 0.15), np.round(rng.uniform(0.5, 25.0, n), 3), 0.0
    )

    n_last = len(words.LAST_NAMES)
    pairs = rng.permutation(len(words.FIRST_NAMES) * len(words.LAST_NAMES))[
        : scale.planners + scale.buyers
    ]
    people = np.array(
        [f"{words.FIRST_NAMES[p // n_last]} {words.LAST_NAMES[p % n_last]}" for p in pairs.tolist()]
        + [""],
        dtype=object,
    )
    planner = rng.integers(0, scale.planners, n).astype(np.int16)
    # buyers look after suppliers, so an item's buyer follows its supplier; made items have none
    buyer_of_supplier = scale.planners + rng.integers(0, scale.buyers, len(suppliers))
    buyer = np.where(buy, buyer_of_supplier[np.maximum(supplier, 0)], -1).astype(np.int16)

    site_w = 1.0 / (np.arange(scale.sites) + 1.0)
    home_site = rng.choice(scale.sites, n, p=site_w / site_w.sum()).astype(np.int8)
    # every plant builds some finished goods (their parts follow them, see planner_connectors.demo.mrp)
    home_site[start[FG] : start[FG] + min(scale.sites, counts[FG])] = np.arange(
        min(scale.sites, counts[FG])
    )

    description_table, description = _descriptions(rng, kind, uom, part_class)
    return Items(
        codes=codes,
        kind=kind,
        start=start,
        height=height,
        sa_start=sa_start,
        uom=uom,
        part_class=part_class,
        lead_time=lead_time,
        safety_stock=safety,
        min_order_qty=moq,
        order_multiple=order_multiple,
        standard_cost=standard_cost,
        planner=planner,
        buyer=buyer,
        supplier=supplier,
        home_site=home_site,
        unit_scale=unit_scale,
        box_factor=box_factor,
        each_weight=each_weight,
        description_table=description_table,
        description=description,
        people=people,
        supplier_buyer=buyer_of_supplier,
    )
