"""How big the demo plant is at each scale.

The large scale is sized like a real multi-site discrete manufacturer (and is what the sync
benchmark loads); medium is a tenth of it with the transactional entities scaled alike; small is
hand-sized so tests and first-time users see every situation (slipping suppliers, revision
changes, quality holds) on a few hundred items.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    name: str
    items: int
    sites: int
    suppliers: int
    #: BOM lines over all revisions (approximate: duplicates within a BOM are dropped)
    bom_lines: int
    open_po_lines: int
    requisitions: int
    work_orders: int
    inventory_rows: int
    #: storage bins per site (besides the main warehouse, the dock and the quality area)
    bins_per_site: int
    planners: int
    buyers: int


SCALES: dict[str, Scale] = {
    s.name: s
    for s in (
        Scale("small", 300, 3, 12, 3_000, 200, 40, 60, 800, 2, 3, 2),
        Scale("medium", 20_000, 5, 150, 200_000, 10_000, 2_000, 5_000, 50_000, 6, 8, 6),
        Scale("large", 200_000, 8, 800, 2_000_000, 100_000, 20_000, 50_000, 500_000, 12, 20, 14),
    )
}

#: share of the item master per kind: finished goods, sub-assemblies, purchased parts, raw material
KIND_SHARES = (0.03, 0.45, 0.35, 0.17)
FG, SA, PP, RM = 0, 1, 2, 3
KIND_PREFIX = ("FG", "SA", "PP", "RM")
#: BOM depth (levels below the finished good) is drawn from this range per finished good
MIN_DEPTH, MAX_DEPTH = 6, 10
