"""The demo plant: a deterministic, believable multi-site discrete manufacturer.

What the plant looks like
    A maker of pumps, drives, compressors and similar machines (finished goods ``FG-…``) built
    from sub-assemblies (``SA-…``), purchased parts (``PP-…``: fasteners, small parts such as
    seals and fuses, bought components such as bearings, sensors and motors) and raw material
    (``RM-…``: sheet and bar stock in KG, tube and cable in M, oils and paints in L), at several
    plants (``P1``, ``P2``, … each with a main store, a receiving dock, a quality area and
    storage bins). BOMs are 6-10 levels deep with shared sub-assemblies, released, draft and
    obsolete revisions with effectivity dates, alternates and scrap (see
    :mod:`connectors.demo.boms`). Quantities per parent are those of a machine builder: a
    sub-assembly mostly once, fasteners by the handful, sheet and bar by the fraction of a
    kilogram, paint by the decilitre; one machine holds a few hundred sub-assembly units and
    no part more than a few hundred times (about 250 at most on the small plant). Units EA,
    BOX, KG, G, M, CM, L, ML: some parts are bought in boxes, some bar stock per piece
    (item-specific conversions), and some BOM lines state grams or centimetres, so unit
    conversion always has work to do. Suppliers are reliable, occasionally late, or
    chronically late (:mod:`connectors.demo.purchasing`); stock includes quality holds,
    allocations and transfers in transit (:mod:`connectors.demo.production`); demand is
    forecast plus sales orders over the next 26 weeks; requisitions wait for a buyer, some of
    them for parts an engineering change is about to remove
    (:mod:`connectors.demo.requisitions`).

A plan balanced three weeks ago, drifted since (:mod:`connectors.demo.mrp`)
    Work orders, open purchase-order lines and stock were sized by an MRP run three weeks
    before day 0, level by level down the BOM, so each plant holds the stock and orders of what
    it builds and most item/site rows are covered over the 26-week horizon. What moved since
    makes the shortages a planner expects: late promises of unreliable suppliers, lots held by
    incoming inspection, engineering changes released after the run (a component added; a
    removed one left with stock and open orders, i.e. excess), sales orders taken since, and
    requisitions the run proposed for later needs that no buyer has ordered yet.
    Planned with the workbench's rules (``workbench shortages``), about a tenth of the
    item/site rows of each scale run short at some point, the first shortage
    of about a third of them this week and of the rest spread over the horizon.

Scales (:mod:`connectors.demo.scales`)
    ``small``: 300 items, 3 sites, 12 suppliers, about 2,700 BOM lines, 200 open PO lines, about
    6,000 records — every situation on a handful of records, for tests and first looks.
    ``medium``: 20,000 items, 5 sites, 200,000 BOM lines, 10,000 open PO lines, 2,000
    requisitions, 5,000 work orders, 50,000 stock rows. ``large``: 200,000 items, 8 sites,
    2,000,000 BOM lines, 100,000 open PO lines, 20,000 requisitions, 50,000 work orders,
    500,000 stock rows — about 4.4 million records, generated in 10-14 s of CPU here (2-3 s of
    it builds the arrays, the rest the record dicts; peak memory about 400 MB).

Time
    "Today" is ``BASE_DATE`` (Monday 2 November 2026) + ``day``, independent of the wall clock;
    every date is relative to it. ``DemoConnector(day=7)`` is the same plant a week later: the
    same items, BOMs, orders and keys, but the events of days 1..7 have happened (deliveries,
    acknowledgements, promise pushes by unreliable suppliers, ship notices, work orders moving
    on and putting their output into stock, components issued from the main store,
    requisitions approved). The events of day t are a function of (seed, t) only, so day 7
    contains exactly day 3's changes plus the later ones. No new orders are created, so the
    simulation is meant for days to a few weeks, not months.

Versions and incremental pulls
    ``source_version`` is ``d`` + the zero-padded simulated day of a record's last change
    (``d00000`` for everything that existed on day 0). ``pull(entity, since)`` yields only records
    changed after ``since``; each batch's watermark is the highest version yielded so far. So a
    sync at day 7 after one at day 0 moves only the lines, orders and history rows that changed.

Determinism and size
    Same (scale, seed, day): identical records. Data are generated with numpy per entity (each
    from its own seeded stream, so pull order does not matter) and turned into dicts only one
    batch of 20,000 at a time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import ClassVar

from connectors.base import (
    Batch,
    Capability,
    CheckResult,
    PermanentError,
    PushRequest,
    PushResult,
)
from connectors.demo.clock import BASE_DATE, parse_version, version
from connectors.demo.entities import build_table
from connectors.demo.plant import Plant
from connectors.demo.scales import SCALES
from workbench.domain.models import ENTITIES

__all__ = ["BASE_DATE", "DemoConnector"]


class DemoConnector:
    """The built-in source of synthetic plant data (see the module docstring)."""

    name: ClassVar[str] = "demo"
    capabilities: ClassVar[Capability] = Capability.PULL | Capability.INCREMENTAL
    batch_size: ClassVar[int] = 20_000

    def __init__(self, scale: str = "small", seed: int = 42, day: int = 0) -> None:
        if scale not in SCALES:
            raise ValueError(f"unknown demo scale {scale!r} (choose {', '.join(SCALES)})")
        if day < 0:
            raise ValueError(f"the demo starts on day 0; day {day} is before it")
        self.scale = scale
        self.seed = seed
        self.day = day
        #: the demo's "now": what the sync service records as observation time
        self.today: dt.date = BASE_DATE + dt.timedelta(days=day)
        self._plant = Plant(SCALES[scale], seed, day)

    def check(self) -> CheckResult:
        return CheckResult(
            True, f"demo plant, {self.scale} scale, seed {self.seed}, day {self.day} ({self.today})"
        )

    def entities(self) -> list[str]:
        return list(ENTITIES)

    def count(self, entity: str, since: str | None = None) -> int:
        """How many records ``pull(entity, since)`` will yield (for progress reporting)."""
        table = build_table(self._plant, entity)
        if since is None:
            return len(table)
        return int((table.version > parse_version(since)).sum())

    def pull(self, entity: str, since: str | None) -> Iterator[Batch]:
        if entity not in ENTITIES:
            raise PermanentError(f"the demo plant has no entity {entity!r}")
        try:
            since_day = None if since is None else parse_version(since)
        except ValueError as exc:
            raise PermanentError(str(exc)) from None
        table = build_table(self._plant, entity)
        highest = -1
        for records, top in table.batches(since_day, self.batch_size):
            highest = max(highest, top)
            yield Batch(entity, records, watermark=version(highest))

    def push(self, request: PushRequest) -> PushResult:
        raise PermanentError(
            "the demo plant is read-only: decisions stay in the cache and outbox; "
            "connect a source system (e.g. Tryton) to write them back"
        )

    def close(self) -> None:
        self._plant = Plant(SCALES[self.scale], self.seed, self.day)
