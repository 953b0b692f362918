"""The demo plant: a deterministic, believable multi-site discrete manufacturer.

What the plant looks like
    A maker of pumps, drives, compressors and similar machines (finished goods ``FG-…``) built
    from sub-assemblies (``SA-…``), purchased parts (``PP-…``: fasteners, small parts such as
    seals and fuses, bought components such as bearings, sensors and motors) and raw material
    (``RM-…``: sheet and bar stock in KG, tube and cable in M, oils and paints in L), at several
    plants (``P1``, ``P2``, … each with a main store, a receiving dock, a quality area and
    storage bins). BOMs are 6-10 levels deep with shared sub-assemblies, released, draft and
    obsolete revisions with effectivity dates, alternates and scrap (see
    :mod:`planner_connectors.demo.boms`). Quantities per parent are those of a machine builder: a
    sub-assembly mostly once, fasteners by the handful, sheet and bar by the fraction of a
    kilogram, paint by the decilitre; one machine holds a few hundred sub-assembly units and
    no part more than a few hundred times (about 250 at most on the small plant). Units EA,
    BOX, KG, G, M, CM, L, ML: some parts are bought in boxes, some bar stock per piece
    (item-specific conversions), and some BOM lines state grams or centimetres, so unit
    conversion always has work to do. Suppliers are reliable, occasionally late, or
    chronically late (:mod:`planner_connectors.demo.purchasing`); stock includes quality holds,
    allocations and transfers in transit (:mod:`planner_connectors.demo.production`); demand is
    forecast plus sales orders over the next 26 weeks; requisitions wait for a buyer, some of
    them for parts an engineering change is about to remove
    (:mod:`planner_connectors.demo.requisitions`).

A plan balanced three weeks ago, drifted since (:mod:`planner_connectors.demo.mrp`)
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

Scales (:mod:`planner_connectors.demo.scales`)
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
    (``d00000`` for everything that existed on day 0), with ``.w`` + the write number added when
    the last change was a write (``d00007.w000003``, see below). ``pull(entity, since)`` yields
    only records changed after ``since``; each batch's watermark is the highest version yielded
    so far. So a sync at day 7 after one at day 0 moves only the lines, orders and history rows
    that changed, and a sync right after a write moves the written requisitions (and the orders
    an ``order`` write placed), on the same day.

Write-back (:mod:`planner_connectors.demo.writes`, :mod:`planner_connectors.demo.ledger`)
    Given a ``ledger`` (a file; the app keeps it beside the cache, ``<cache>.demo-ledger.jsonl``)
    the demo behaves like a source system that takes decisions: ``push`` changes a requisition's
    quantity, need date, supplier, item (an alternate) or status, or a firm purchase-order
    line's delivery date, quantity or status (an exception message's reschedule, reduce or
    cancel: :mod:`planner_connectors.demo.line_writes`), after checking the version the
    decision saw (a conflict otherwise) and its idempotency key (never applied twice), and
    appends the write to the ledger (fsync'ed). Every pull lays the ledger's writes over the
    generated requisitions, so the next sync shows them with new versions, after an app restart
    too. Ordering a requisition also places a draft purchase order with one line for it (code
    ``PO-W`` + the write's number, the write's version), which the next sync brings as supply.
    What each action writes, and the rules (refusals, conflicts, replays), are in the table of
    :mod:`planner_connectors.demo.writes`. A pull also notes the plant and day it read in the ledger
    (its *clock*): pushes happen on that plant and day, so a connector made from the ledger
    alone (``DemoConnector(ledger=path)``, as the outbox makes it) checks versions against what
    the cache last saw. Without a ledger the demo is read-only: ``push`` refuses, and decisions
    stay in the outbox.

Determinism and size
    Same (scale, seed, day, ledger writes): identical records. Data are generated with numpy per
    entity (each from its own seeded stream, so pull order does not matter) and turned into dicts
    only one batch of 20,000 at a time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from planner_connectors.demo.clock import BASE_DATE, parse_version, version
from planner_connectors.demo.entities import build_table
from planner_connectors.demo.ledger import SUFFIX, Clock, Ledger, Write
from planner_connectors.demo.line_writes import LineBook, decide_line
from planner_connectors.demo.options import DemoOptions
from planner_connectors.demo.plant import Plant
from planner_connectors.demo.scales import SCALES
from planner_connectors.demo.writes import WRITTEN_ENTITIES, RequisitionBook, decide, placed_order_code
from workbench.connect.inbox import MessageInbox
from workbench.connect.port import (
    Batch,
    Capability,
    CheckResult,
    ColumnBatch,
    ConnectorBase,
    PermanentError,
    PushRequest,
    PushResult,
    TargetKind,
)
from workbench.domain.enums import WriteAction
from workbench.domain.models import ENTITIES

__all__ = ["BASE_DATE", "DemoConnector"]

READ_ONLY = (
    "the demo plant is read-only: decisions stay in the cache and outbox; "
    "connect a source system (e.g. Tryton) to write them back"
)


class DemoConnector(ConnectorBase):
    """The built-in source of synthetic plant data (see the module docstring).

    ``scale``, ``seed`` and ``day`` left out come from the ledger's clock (the plant its last
    sync read), else small, 42 and 0. Pushing needs a ``ledger``.
    """

    name: ClassVar[str] = "demo"
    capabilities: ClassVar[Capability] = (
        Capability.PULL | Capability.INCREMENTAL | Capability.PUSH | Capability.VERSION_CHECK
    )
    #: the demo keeps its writes in a file beside the cache: (parameter, suffix of the cache path);
    #: so the app builds it for a cache without any configuration (workbench.connect.factory)
    cache_store: ClassVar[tuple[str, str]] = ("ledger", SUFFIX)
    #: the settings a user gives (typed, checked when saved; see workbench.connect.factory)
    options: ClassVar[type[DemoOptions]] = DemoOptions
    batch_size: ClassVar[int] = 20_000

    def __init__(
        self,
        scale: str | None = None,
        seed: int | None = None,
        day: int | None = None,
        ledger: str | Path | None = None,
    ) -> None:
        self.ledger = Ledger(ledger) if ledger else None
        clock = self.ledger.read().clock if self.ledger else None
        scale = scale if scale is not None else (clock.scale if clock else "small")
        seed = seed if seed is not None else (clock.seed if clock else 42)
        day = day if day is not None else (clock.day if clock else 0)
        if scale not in SCALES:
            raise ValueError(f"unknown demo scale {scale!r} (choose {', '.join(SCALES)})")
        if day < 0:
            raise ValueError(f"the demo starts on day 0; day {day} is before it")
        self.scale = scale
        self.seed = int(seed)
        self.day = int(day)
        #: the demo's "now": what the sync service records as observation time
        self.today: dt.date = BASE_DATE + dt.timedelta(days=self.day)
        self._plant = Plant(SCALES[scale], self.seed, self.day)
        self._present: Plant | None = None  # the plant pushes happen on, when not ours
        self._clock_noted = False

    def check(self) -> CheckResult:
        text = f"demo plant, {self.scale} scale, seed {self.seed}, day {self.day} ({self.today})"
        if self.ledger is not None:
            writes = len(self.ledger.read().writes)
            text += f"; takes decisions ({writes} written so far, in {self.ledger.path})"
        return CheckResult(True, text)

    def entities(self) -> list[str]:
        return list(ENTITIES)

    def count(self, entity: str, since: str | None = None) -> int:
        """How many records ``pull(entity, since)`` will yield (for progress reporting)."""
        self._lay_writes(entity)
        table = build_table(self._plant, entity)
        if since is None:
            return len(table)
        return len(table.changed_since(parse_version(since)))

    def pull(self, entity: str, since: str | None) -> Iterator[Batch]:
        if entity not in ENTITIES:
            raise PermanentError(f"the demo plant has no entity {entity!r}")
        try:
            since_version = None if since is None else parse_version(since)
        except ValueError as exc:
            raise PermanentError(str(exc)) from None
        self._note_clock()
        self._lay_writes(entity)
        table = build_table(self._plant, entity)
        highest = (-1, 0)
        for columns, top in table.column_batches(since_version, self.batch_size):
            highest = max(highest, top)
            yield ColumnBatch(entity, columns, watermark=version(*highest))

    def push(self, request: PushRequest) -> PushResult:
        """Apply one decision to a requisition or a purchase-order line (rules:
        :mod:`planner_connectors.demo.writes`, :mod:`planner_connectors.demo.line_writes`)."""
        if self.ledger is None:
            raise PermanentError(READ_ONLY)
        with self.ledger.locked():
            state = self.ledger.read()
            clock = state.clock or self._clock()
            plant = self._plant_of(clock)
            writes = state.of_plant(clock.scale, clock.seed)
            done = next((w for w in state.writes if w.key == request.idempotency_key), None)
            if request.target_kind is TargetKind.PURCHASE_ORDER_LINE:
                outcome = decide_line(LineBook(plant, plant.purchasing_with(writes)), request,
                                      done)
            else:
                book = RequisitionBook(plant, plant.requisitions_with(writes))
                outcome = decide(book, request, done)
            if outcome.result is not None:
                return outcome.result
            assert outcome.values is not None
            seq = len(state.writes) + 1
            what = outcome.what
            if request.action is WriteAction.ORDER:
                what += f" on {placed_order_code(seq)}"
            write = Write(
                seq=seq,
                key=request.idempotency_key,
                action=request.action,
                target=request.target,
                day=max([clock.day] + [w.day for w in writes]),
                values=outcome.values,
                scale=clock.scale,
                seed=clock.seed,
                kind=request.target_kind.value,
            )
            self.ledger.append_write(
                write,
                {"base_version": request.base_version, "comment": request.comment,
                 "what": what},
            )
        new_version = version(write.day, write.seq)
        return PushResult(new_version, {"what": what, "ledger_write": write.seq})

    def supplier_inbox(self, folder: Path) -> MessageInbox:
        """The demo suppliers' EDI messages of today written into ``folder``, and the EDI inbox
        on it (see :mod:`planner_connectors.demo.edi_inbox`; taken after each demo sync)."""
        from planner_connectors.demo.edi_inbox import write_messages
        from planner_connectors.edi import EdiConnector

        lines = [r for b in self.pull("purchase_order_lines", None) for r in b.records]
        orders = {r["code"]: r["order_date"]
                  for b in self.pull("purchase_orders", None) for r in b.records}
        write_messages(lines, orders, self.today, self.day, folder)
        return EdiConnector(folder)

    def close(self) -> None:
        self._plant = Plant(SCALES[self.scale], self.seed, self.day)
        self._present = None

    # -- the ledger ---------------------------------------------------------------------------
    def _clock(self) -> Clock:
        return Clock(self.scale, self.seed, self.day)

    def _note_clock(self) -> None:
        """Note in the ledger the plant and day this sync reads (once per connector)."""
        if self.ledger is None or self._clock_noted:
            return
        with self.ledger.locked():
            if self.ledger.read().clock != self._clock():
                self.ledger.append_clock(self._clock())
        self._clock_noted = True

    def _lay_writes(self, entity: str) -> None:
        if self.ledger is not None and entity in WRITTEN_ENTITIES:
            self._plant.set_writes(self.ledger.read().of_plant(self.scale, self.seed))

    def _plant_of(self, clock: Clock) -> Plant:
        """The plant a push happens on: the ledger's clock (what the cache's last sync read)."""
        if clock == self._clock():
            return self._plant
        if clock.scale not in SCALES:
            raise PermanentError(f"the demo ledger names an unknown scale {clock.scale!r}")
        p = self._present
        if p is None or (p.scale, p.seed, p.day) != (SCALES[clock.scale], clock.seed, clock.day):
            self._present = p = Plant(SCALES[clock.scale], clock.seed, clock.day)
        return p
