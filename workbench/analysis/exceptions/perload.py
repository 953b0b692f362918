"""The rules that read the planning data only, judged once per data load (not once per plan).

E07 (order past due), E10-E12 (supplier confirmations, ship notices), E13 (revision conflict),
E14 (draft revision pending) and E15 (data problems) read the source frames, the planning day
and the settings, never the plan's quantities: E13 reads the plan's requirement keys, which
come from the collected sources (:func:`workbench.analysis.sources.collect`, itself computed
once per set of frames) and the plan's item and site numbering. The same is true of the open PO
lines and work orders several rules read, of the due dates of the demands pegs name
(:class:`.pegs.DueDates`), and of the requirements' peg columns and reference ranks the
pegging matrix sorts its claims by (:class:`.pegs.RequirementCodes`).

:func:`data_rules` keeps them with the data (:meth:`PlanningData.derived`): while every frame
is the very same object (frames are immutable once handed to the engine), the sources and the
item numbering are the same objects, and the planning day, settings and sites are equal, the
next plan's messages reuse them. A sync (new frames), a pending decision's overlay (new PO line
and requisition frames), a risk-adjusted plan (its own sources), another planning day or other
settings judge them again. Measured on the large demo (docs/exceptions.md, Performance): about
0.6-0.7 s CPU of the 3.6 s the messages took with every plan.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd

from workbench.analysis.data import PlanningData
from workbench.analysis.netting import Plan
from workbench.analysis.sources import open_purchase_lines, open_work_orders

from . import engineering, purchasing, records, supply
from .kinds import ExceptionSettings
from .pegs import DueDates, RequirementCodes

#: the frames of the data (every field of :class:`PlanningData` but its private cache)
FRAMES = tuple(f.name for f in fields(PlanningData) if not f.name.startswith("_"))


@dataclass(frozen=True)
class DataRules:
    """What :func:`data_rules` keeps: the open PO lines' order, line and source (what the
    messages on a pending decision's order are found by), the due dates of the demands, and
    the messages of E07 and E10-E15 (each rule's frame, in code order). Kept with the data:
    about 49 MiB on the large demo (docs/exceptions.md)."""

    lines: pd.DataFrame
    due: DueDates
    codes: RequirementCodes  # the requirements' peg columns and reference ranks (pegmatrix)
    past_due: pd.DataFrame  # E07
    purchasing: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]  # E10, E11, E12
    engineering: tuple[pd.DataFrame, pd.DataFrame]  # E13, E14
    records: pd.DataFrame  # E15


def data_rules(data: PlanningData, plan: Plan, settings: ExceptionSettings) -> DataRules:
    """The plan-independent rules of ``data`` (module doc), computed once per data load,
    planning day, settings, sources and numbering; the frames returned are shared: read only."""
    today = int(plan.calendar.today)
    # one entry per data (not one per day or settings: each is ~49 MiB on the large demo and
    # holds the frames it was judged from): the day, settings and sites are compared by value
    key = (today, repr(settings), tuple(map(str, plan.sites)))
    frames = (*(getattr(data, f) for f in FRAMES), plan.sources, plan.items)
    kept: dict[str, tuple[tuple[object, ...], DataRules]] = data.derived(
        "exceptions.data_rules", frames, dict)
    hit = kept.get("rules")
    if hit is None or hit[0] != key:
        kept["rules"] = hit = (key, _judge(data, plan, today, settings))
    return hit[1]


def _judge(data: PlanningData, plan: Plan, today: int, s: ExceptionSettings) -> DataRules:
    pol, wo = open_purchase_lines(data), open_work_orders(data)
    due = DueDates(data)
    return DataRules(
        pol[[c for c in ("purchase_order", "line", "source") if c in pol]], due,
        RequirementCodes.of(plan.sources.requirements, pd.Index(due.names)),
        supply.order_past_due(data, today, s, pol, wo),
        (purchasing.confirmation_missing(data, today, s, pol),
         purchasing.confirmation_differs(data, s, pol),
         purchasing.ship_notice_mismatch(data, s, pol)),
        (engineering.revision_conflict(data, plan, pol, wo),
         engineering.draft_revision_pending(data, wo)),
        records.data_problems(data, plan.items))


def kept_for(kept: dict[Any, Any], part: pd.DataFrame, make: Any) -> Any:
    """``make(part)`` of a per-load rule's frame (shared, read only), made once (``kept``
    by the frame's identity; ``kept`` itself belongs to the rules' entry it came from)."""
    hit = kept.get(id(part))
    if hit is None or hit[0] is not part:
        if len(kept) > 64:
            kept.clear()
        hit = kept[id(part)] = (part, make(part))
    return hit[1]


def kept_while_equal(kept: dict[Any, Any], name: str, values: np.ndarray, make: Any) -> Any:
    """``make(values)``, made again only when ``values`` differ from the last ones kept under
    ``name`` (compared by value; on a later plan they are the same object: no cost)."""
    hit = kept.get(name)
    if hit is None or len(hit[0]) != len(values) or not (
            hit[0] is values or bool(np.array_equal(hit[0], values))):
        hit = kept[name] = (values, make(values))
    return hit[1]
