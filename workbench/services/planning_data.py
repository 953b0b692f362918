"""Loading the planning data from the cache: the frames (from the frame snapshot when it is
current, else from SQLite column by column), the pending decisions overlaid, the date-independent
inputs prepared once, and a planning session opened on them with the cache's planning day.

The planning day ("today") defaults to the cache's as-of day: the latest inventory snapshot date
(``as_of``), else the latest day a sync observed a promise, else the wall clock. A demo cache is
thus planned on its simulated day, not on the day someone happens to run the command.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Iterable

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from workbench import __version__
from workbench.analysis.bom import CodedLines, ItemIndex, ParentRows
from workbench.analysis.calendar import Calendar
from workbench.analysis.consumption import DEFAULT_CONSUMPTION, ForecastConsumption
from workbench.analysis.data import (
    CODE_COLUMNS,
    PLANNING_ENTITIES,
    PlanningData,
    column_kinds,
    normalise_frame,
    release_free_memory,
    seed_codes,
)
from workbench.analysis.incremental import Change, keep_codes
from workbench.analysis.netting import plan_sites
from workbench.analysis.overlay import LINE, apply_pending
from workbench.analysis.session import PlanningSession
from workbench.analysis.sources import collect
from workbench.cache.db import read_transaction
from workbench.cache.frames import read_entity_columns
from workbench.cache.schema import entity_columns
from workbench.cache.snapshot import (
    observe_stamp,
    read_snapshot,
    read_stamp,
    snapshot_path,
    write_in_background,
)
from workbench.domain.models import ENTITY_MODELS
from workbench.services.overlay import pending_decisions
from workbench.services.tasks import TaskState, check_cancelled

#: Provenance columns the engine never reads, left out of the planning frames when loading
#: (fewer Python strings to fetch for the 2M BOM lines; a frame lacks them rather than faking
#: them). ``source_key`` is a distinct string per row: on the large demo the provenance of
#: items, BOM revisions, demands, work orders, purchase orders and the promise history held
#: ~60 MiB of the planner process (issue 16 §3). Kept where planning reads them: the PO lines'
#: and requisitions' ``source_version`` (pending decisions are overlaid only on the version
#: they were made for, :mod:`workbench.analysis.overlay`; a requisition's advice carries it).
#: Services that write back read provenance from the cache rows, never from these frames.
_PROVENANCE = ("source", "source_key", "source_version")
LEFT_OUT: dict[str, tuple[str, ...]] = {
    "items": _PROVENANCE,
    "bom_revisions": _PROVENANCE,
    "bom_lines": (*_PROVENANCE, "orig_quantity_per"),
    "inventory": (*_PROVENANCE, "orig_quantity"),
    "demands": _PROVENANCE,
    "work_orders": _PROVENANCE,
    "work_order_components": (*_PROVENANCE, "orig_required_quantity", "orig_issued_quantity"),
    "purchase_orders": _PROVENANCE,
    "promise_changes": _PROVENANCE,
}


#: text columns whose equal values the frame snapshot loads as one str object: item codes
#: (``CODE_COLUMNS`` but BOM revisions) and the order codes lines refer to (issue 16 §3)
SHARED_TEXT: tuple[tuple[str, str], ...] = (
    *(c for c in CODE_COLUMNS if c != ("bom_lines", "revision")),
    ("work_orders", "code"), ("work_order_components", "work_order"),
    ("purchase_orders", "code"), ("purchase_order_lines", "purchase_order"),
    ("promise_changes", "purchase_order"),
)


def load_planning_data(engine: Engine, state: TaskState | None = None,
                       entities: Iterable[str] = PLANNING_ENTITIES, *,
                       prepare: bool = True,
                       consumption: ForecastConsumption | None = DEFAULT_CONSUMPTION
                       ) -> PlanningData:
    """The planning frames from the cache (deleted rows excluded, :data:`LEFT_OUT` columns left
    out), read column by column (:func:`read_entity_columns`) and normalised, with the item
    numbering, coded BOM lines, each parent's BOM rows and supply/demand sources prepared once
    (date-independent, reused by every plan of a session; the requirements after forecast
    consumption with the windows ``consumption``), with the pending decisions overlaid
    (:mod:`workbench.analysis.overlay`)."""
    frames, numbering = read_planning_frames(engine, list(entities), state)
    for entity in PLANNING_ENTITIES:  # entities not read: empty, with every column
        if entity not in frames:
            frames[entity] = normalise_frame(entity, None, LEFT_OUT.get(entity, ()))
    data = PlanningData(**frames)
    for (entity, column), ids in numbering.items():  # the item numbering starts from these
        if (entity, column) in CODE_COLUMNS:
            seed_codes(data, entity, column, ids)
    if "purchase_order_lines" in frames:  # pending decisions: the plan as it will be
        data = _overlaid(data, pending_decisions(engine))
    if prepare:
        if state is not None:
            state.set_status("numbering items")
        prepare_planning_data(data, consumption)
    return data


def read_planning_frames(engine: Engine, entities: list[str], state: TaskState | None = None,
                         *, snapshot: bool = True
                         ) -> tuple[dict[str, pd.DataFrame], dict[tuple[str, str], np.ndarray]]:
    """The normalised frames of ``entities`` and the numbering of their text columns.

    All planning entities come from the frame snapshot beside the cache when it was made from
    the cache's current state (:mod:`workbench.cache.snapshot`), else from SQLite column by
    column; a load from SQLite during which no write landed is then snapshotted in the
    background for the next load. ``snapshot=False`` always reads SQLite and writes nothing.
    """
    whole = snapshot and sorted(entities) == sorted(PLANNING_ENTITIES)
    path = snapshot_path(engine) if whole else None
    stamp = read_stamp(engine) if path is not None else None
    layout = frame_snapshot_layout()
    if path is not None and stamp is not None:
        if state is not None:
            state.set_status("reading the planning frame snapshot")
        saved = read_snapshot(path, stamp, layout, shared=SHARED_TEXT)
        if saved is not None:
            return saved.frames, saved.codes
        stamp = observe_stamp(engine)  # from now on, any write draws a new stamp
    frames: dict[str, pd.DataFrame] = {}
    numbering: dict[tuple[str, str], np.ndarray] = {}
    rowids: dict[str, np.ndarray] = {}
    # one read transaction for every entity: a sync committing meanwhile is seen whole or not
    # at all, never as new items with old inventory
    with read_transaction(engine) as connection:
        for n, entity in enumerate(entities):
            check_cancelled(state)
            if state is not None:
                state.set_status(f"reading {entity}")
                state.set_progress(n, len(entities))
            text, numbers, omit = planning_columns(entity)
            numbered: dict[str, np.ndarray] = {}
            row_ids: list[np.ndarray] | None = [] if path is not None else None
            frames[entity] = normalise_frame(entity, read_entity_columns(
                engine, entity, text, numbers, numbered, connection=connection, rowids=row_ids),
                omit)
            numbering.update({(entity, c): ids for c, ids in numbered.items()})
            if row_ids:
                rowids[entity] = row_ids[0]
    if path is not None and stamp is not None and read_stamp(engine) == stamp:
        write_in_background(path, stamp, layout, frames, numbering, rowids)
    return frames, numbering


def planning_columns(entity: str) -> tuple[list[str], list[str], tuple[str, ...]]:
    """(text columns, number columns, columns left out) of ``entity`` as a planning load reads
    them (the frame snapshot's patch after a sync reads its rows the same way)."""
    omit = LEFT_OUT.get(entity, ())
    columns = [c for c in entity_columns(ENTITY_MODELS[entity]) if c not in omit]
    kinds = column_kinds(entity)
    numbers = [c for c in columns if kinds.get(c) == "float"]  # integers read as text
    return [c for c in columns if c not in numbers], numbers, omit


@functools.cache
def frame_snapshot_layout() -> str:
    """What a snapshot must have been made for: this version's columns and kinds per frame, and
    the code that reads and normalises them (:data:`workbench.cache.snapshot.LAYOUT_CODE`: every
    module's source, in a frozen build its compiled code and the build stamp; the version does
    not move with every edit)."""
    from workbench.cache.snapshot import layout_code_digest

    return json.dumps({"version": __version__, "code": layout_code_digest(), "frames": {
        entity: [[c, k] for c, k in column_kinds(entity).items()
                 if c not in LEFT_OUT.get(entity, ())] for entity in PLANNING_ENTITIES}})


def prepare_planning_data(data: PlanningData,
                          consumption: ForecastConsumption | None = DEFAULT_CONSUMPTION
                          ) -> PlanningData:
    """Compute the date-independent inputs of every plan once: item numbering, coded BOM lines,
    each parent's BOM rows (for revision impact and what-if), supply and demand sources (demand
    after forecast consumption with the windows ``consumption``) with their row keys (kept
    inside ``data``, see :meth:`PlanningData.derived`)."""
    # the sources first: their collection is the preparation's peak (~250 MiB of temporaries
    # on the large demo), reached before the numbering and the coded lines exist (issue 16 §3)
    sources = collect(data, consumption=consumption)
    items = ItemIndex.build(data)
    CodedLines.of(data, items)
    ParentRows.of(data, items)
    sites = plan_sites(sources)
    for name in ("on_hand", "receipts", "requirements"):
        sources.keys(name, items, sites)
    release_free_memory()  # the preparation's temporaries, freed, leave the heap
    return data


def planning_day(data: PlanningData) -> dt.date:
    """The cache's as-of day (see module doc)."""
    as_of = data.inventory["as_of"].max() if len(data.inventory) else pd.NaT
    if not pd.isna(as_of):
        return pd.Timestamp(as_of).date()
    pc = data.promise_changes
    observed = pc.loc[pc["origin"] == "observed", "changed_at"].max() if len(pc) else pd.NaT
    if not pd.isna(observed):
        return pd.Timestamp(observed).date()
    return dt.date.today()


def open_session(engine: Engine, *, today: dt.date | None = None, horizon: str = "26w",
                 bucket: str = "week", state: TaskState | None = None,
                 consumption: ForecastConsumption | None = DEFAULT_CONSUMPTION
                 ) -> PlanningSession:
    """A session on the cache's data with the planning parameters: planning day, horizon and
    bucket, and the forecast consumption windows (``None``: no consumption, see
    :mod:`workbench.analysis.consumption`)."""
    stamp = observe_stamp(engine)  # any write of an entity table from now on draws a new one
    data = load_planning_data(engine, state, consumption=consumption)
    day = today or planning_day(data)
    session = PlanningSession(data, Calendar.parse(day, horizon, bucket), consumption)
    session.stamp = stamp
    return session

#: the name under which :func:`_overlaid` keeps the PO lines before the overlay
_OVERLAY = "overlay:base"


def _overlaid(data: PlanningData, pending: pd.DataFrame) -> PlanningData:
    """``data`` with the ``pending`` decisions overlaid; the PO lines before the overlay and the
    decisions are kept in the result (:meth:`PlanningData.derived`, checked by the identity of
    the overlaid lines) for :func:`refresh_session`."""
    base = data.purchase_order_lines
    out = apply_pending(data, pending)
    keep_codes(data, out, "purchase_order_lines", "item")  # lines keep their rows and items
    out._derived[_OVERLAY] = ((out.purchase_order_lines,), (base, pending))
    return out


def overlay_change(before: pd.DataFrame, after: pd.DataFrame,
                   decisions: Iterable[pd.DataFrame]) -> Change:
    """The items whose PO lines the overlay of ``decisions`` may set differently between the
    overlaid lines ``before`` and ``after``: every line of an order a decision names (a line
    decision's order, the ``pending:REQ`` order a requisition's decision places)."""
    orders: set[str] = set()
    for pending in decisions:
        for kind, element in zip(pending["target_kind"].fillna(""), pending["element"]):
            text = str(element)
            orders.add(text.rsplit("/", 1)[0] if kind == LINE else f"pending:{text}")
    items: set[str] = set()
    for lines in (before, after):
        items.update(lines.loc[lines["purchase_order"].isin(orders), "item"].astype(str))
    return Change.of(items=items)


def refresh_session(engine: Engine, session: PlanningSession) -> PlanningSession | None:
    """``session`` brought up to date after a command changed the planning input, or None when
    it must be opened again (:func:`open_session`).

    When no entity table was written since the session's data was read (the cache's entity
    stamp is the one observed then), only the pending decisions can have changed (a decision
    approved, a write-back confirmed or discarded): they are overlaid on the PO lines as read,
    and the plan is replanned by net change from the session's plan (the items of the orders
    the decisions name and everything below them, :mod:`workbench.analysis.incremental`),
    equal to the plan a new session would make. The old session's plan is reused in place.
    """
    if session.stamp is None or read_stamp(engine) != session.stamp:
        return None
    data = session.data
    kept = data._derived.get(_OVERLAY)
    if kept is None or kept[0][0] is not data.purchase_order_lines:
        return None
    base, before = kept[1]
    pending = pending_decisions(engine)
    if pending.equals(before):  # nothing to replan: the same plan in a new session
        return session.replanned(data, Change())
    after = _overlaid(data.replace(purchase_order_lines=base), pending)
    change = overlay_change(data.purchase_order_lines, after.purchase_order_lines,
                            (before, pending))
    return session.replanned(after, change)
