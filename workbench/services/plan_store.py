"""The first plan of a fresh planner process from the plan stored beside the cache (issue 16 §1).

A full plan of the large demo costs a fresh process the preparation (item numbering, coded BOM
lines, sources: ~1.8 s) and the netting of the whole plant (~1.6 s, far more under load). So the
last full plan is stored beside the cache (:mod:`workbench.cache.plan_store`, numpy arrays opened
with ``mmap_mode``), stamped with the cache's entity stamp, the stamp the frame snapshot carries
(:mod:`workbench.cache.snapshot`). A fresh process then:

* finds a plan stored for the cache's current stamp: it is the plan (nothing to net), found
  before any frame is read and answered with the frames and the stored sources read on first
  use (:mod:`workbench.services.lazy_frames`, :class:`~workbench.services.plan_parts.LazySources`);
* else finds a plan stored for an older stamp and, for every write since, the change the sync
  recorded when it patched the frame snapshot (:func:`record_sync_change`, called by
  :mod:`workbench.services.frame_patch`: the items and BOM parents of the rows it wrote): it
  replans only what those changes reach (:func:`workbench.analysis.incremental.replan`, equal
  to a full plan) from the stored plan and the patched frames;
* else, when the stored plan (or its chain of changes) is for another calendar — a sync that
  moves the planning day, as the demo's ``--day 7`` does (its as-of day moves) — nets the whole
  plant over the new calendar but takes the item numbering and the sources from the stored plan
  (the changed items' sources collected again and spliced in, as the replan does): the
  preparation is skipped, the netting is not (``"prepared"``);
* else plans in full (and stores that plan for the next process).

Two more users of the stored plan and the recorded changes:

* the application's planner process keeps its session across a sync made by the writer process
  and brings it up to date by the same net change (:func:`refresh_after_sync`), reading only the
  frames the sync changed from the patched snapshot;
* ``workbench sync`` (the scheduled morning sync) plans the state it wrote for the next process
  (:func:`plan_after_sync`): a sync that moves the planning day changes half the large demo's
  items and every bucket boundary, so a fresh process would net the whole plant again (5.8 s);
  planned by the sync, the planner opened afterwards finds it stored (docs/performance.md §1).

The stored netting is never used when anything it depends on differs (:func:`plan_key`): the
calendar, the forecast consumption windows, the pending decisions overlaid on the PO lines,
the code (:data:`PLANNING_CODE`: every module of the planning engine and the domain, from the
sources or, in a frozen build, the compiled code and the build stamp) or the frames' layout.
The plan matrices are stored as their non-zero parts and read back as
:class:`~workbench.analysis.rowmatrix.RowMatrix` (:func:`stored_arrays`). A write that
recorded no change (a hand edit, a package import, a sync whose patch was skipped) leaves no
chain from the stored stamp to the cache's: full plan. A change of the item master, or one the
replan cannot promise the same answer for, is planned in full by ``replan`` itself.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from workbench.analysis.calendar import Calendar
from workbench.analysis.consumption import DEFAULT_CONSUMPTION, ForecastConsumption
from workbench.analysis.data import PLANNING_ENTITIES, PlanningData, normalise_frame
from workbench.analysis.incremental import Change, replan_detail
from workbench.analysis.incremental_sources import (
    collect_items,
    master_count,
    patched_sources,
    seed_derived,
)
from workbench.analysis.netting import Plan
from workbench.analysis.session import PlanningSession
from workbench.cache import plan_store
from workbench.cache.code_digest import code_digest
from workbench.cache.db import local_base
from workbench.services.plan_parts import (  # noqa: F401 - _matrix, _plan: used by tests
    ALLOCATIONS,
    ARRAYS,
    MATRIX_PARTS,
    OBJECTS,
    _matrix,
    _params,
    _plan,
    collect_if_damaged,
    sources_apart,
    stored_arrays,
)
from workbench.services.tasks import TaskState

log = logging.getLogger(__name__)

#: at most this many recorded changes are followed back from the cache's stamp
MAX_CHAIN = 8
#: a change naming more than this share of the numbered items is planned in full: collecting
#: and splicing the sources of that many items costs more than the preparation it saves (large
#: demo, ``--day 7``: 367k rows changed, the spliced path took 10.7 s against 5.5 s in full)
MAX_CHANGED_SHARE = 0.02
#: entities whose rows name orders other rows refer to (Change.between reads these beside them)
_REFERRED = {"work_orders", "demands", "purchase_orders"}
_REFERRING = ("work_order_components", "inventory", "purchase_order_lines")


def folder_of(engine: Engine) -> Path | None:
    """``<cache>.plan`` for a cache on disk, else None."""
    base = local_base(engine)
    return None if base is None else plan_store.plan_folder(base)


#: the code a stored plan depends on (every module of a package): a change in any of them may
#: plan the same data differently (workbench.cache.code_digest)
PLANNING_CODE = ("workbench.analysis", "workbench.domain", "workbench.services.planning_data",
                 "workbench.services.overlay", "workbench.services.plan_store",
                 "workbench.services.lazy_frames", "workbench.services.plan_parts",
                 "workbench.cache.plan_store")


@functools.cache
def _code_digest() -> str:
    """The digest of :data:`PLANNING_CODE` (sources, or in a frozen build the compiled code and
    the build stamp) and the frame snapshot's layout (the frames the plan was made from)."""
    from workbench.services import planning_data

    digest = hashlib.sha256(code_digest(*PLANNING_CODE).encode())
    digest.update(planning_data.frame_snapshot_layout().encode())
    return digest.hexdigest()


def plan_key(calendar: Calendar | None, consumption: ForecastConsumption | None,
             pending: pd.DataFrame) -> str:
    """What a stored plan must have been made for besides the stamp (module doc); with
    ``calendar`` None, what its date-independent parts (numbering, sources) were made for."""
    rows = pending.astype(str).to_numpy().tolist() if len(pending) else []
    return hashlib.sha256(json.dumps({
        "calendar": None if calendar is None else [calendar.today, calendar.bucket_days,
                                                   calendar.n_buckets],
        "consumption": None if consumption is None else [consumption.backward_days,
                                                         consumption.forward_days],
        "pending": [list(map(str, pending.columns)), rows],
        "code": _code_digest(),
    }).encode()).hexdigest()


def store_plan(engine: Engine, stamp: int | None, key: str, plan_: Plan,
               prepared_key: str = "", consumption: ForecastConsumption | None = None,
               data_day: dt.date | None = None) -> Path | None:
    """Store ``plan_`` (a full or replanned plan of the data of ``stamp``, made with the
    forecast consumption windows ``consumption``) for the next process; None when the cache
    has no folder or no stamp. ``data_day``: the planning day the data of ``stamp`` gives
    (:func:`_data_day`; lets a fresh process find the plan before reading a frame,
    :func:`workbench.services.lazy_frames.open_stored`). Never raises (a failed store is
    logged)."""
    folder = folder_of(engine)
    if folder is None or stamp is None:
        return None
    items = plan_.items
    arrays = stored_arrays(plan_)
    objects = {name: getattr(plan_, name) for name in OBJECTS}
    objects[ALLOCATIONS] = plan_.sources.allocations
    # the numbering is pickled without the frames it knows numbers for (the BOM lines) and its
    # lookup (rebuilt on use); the sources apart, their row keys tied to it again when read
    known, lookup = items.known, items.lookup
    items.known, items.lookup = {}, None
    try:
        params = _params(plan_.calendar, consumption)
        params["items"] = len(items)
        if data_day is not None:
            params["data_day"] = data_day.isoformat()
        with sources_apart(plan_.sources, items) as sources:
            return plan_store.write_plan(folder, stamp, key, arrays, objects, prepared_key,
                                         params, apart={"sources": sources})
    except Exception as exc:  # noqa: BLE001 - the plan was answered: storing is a bonus
        log.warning("plan not stored (%s: %s)", type(exc).__name__, exc)
        return None
    finally:
        items.known, items.lookup = known, lookup


@dataclass
class Stored:
    """A stored plan found for the cache (:func:`find_stored`): its stamp, the plan and the
    change from its data to the cache's (empty: the very state); ``exact``: made for the
    calendar asked (else only its numbering and sources are of use)."""

    stamp: int
    plan: Plan
    change: Change
    exact: bool = True


def _walk(folder: Path, stamp: int, max_items: int | None) -> Any:
    """(stamp, change from that stamp's data to the data of ``stamp``, the frames those writes
    changed or None when a record does not say) for ``stamp`` itself (empty change), then for
    every older stamp a chain of recorded changes leads from, breadth first (short chains
    first), at most :data:`MAX_CHAIN` changes back; chains naming more than ``max_items`` items
    are not followed."""
    Step = tuple[int, Change, "frozenset[str] | None"]
    frontier: list[Step] = [(stamp, Change(), frozenset())]
    seen = {stamp}
    for _ in range(MAX_CHAIN + 1):
        following: list[Step] = []
        for at, change, entities in frontier:
            if max_items is not None and len(change.items) > max_items:
                continue
            yield at, change, entities
            for record in plan_store.changes_to(folder, at):
                before = int(record["before"])
                if before in seen:
                    continue
                seen.add(before)
                wrote = record.get("entities")
                following.append((before, change | Change(
                    frozenset(record["items"]), frozenset(record["bom_parents"]),
                    bool(record["master"])),
                    None if entities is None or wrote is None else entities | set(wrote)))
        frontier = following
        if not frontier:
            break


def find_stored(engine: Engine, stamp: int | None, key: str,
                prepared_key: str | None = None, max_items: int | None = None
                ) -> Stored | None:
    """The stored plan for ``stamp`` and ``key`` (or ``prepared_key``, not exact), else an
    older one with a chain of recorded changes up to ``stamp`` (module doc) naming at most
    ``max_items`` items (a plan is not even read for more), else None."""
    folder = folder_of(engine)
    if folder is None or stamp is None or not folder.is_dir():
        return None
    stored = set(plan_store.stored_stamps(folder))
    for at, change, _ in _walk(folder, stamp, max_items):
        if at in stored:
            found = plan_store.read_plan(folder, at, key, prepared_key)
            if found is not None:
                return Stored(at, _plan(found[0], found[1]), change, found[2])
    return None


def recorded_change(engine: Engine, before: int, after: int, max_items: int | None = None
                    ) -> tuple[Change, frozenset[str] | None] | None:
    """The change from the data of stamp ``before`` to the data of stamp ``after`` along the
    changes the syncs recorded (naming at most ``max_items`` items), with the frames those
    writes changed (None: a record does not say); else None (some write in between recorded
    none: a hand edit, a package import, a sync too big to record)."""
    folder = folder_of(engine)
    if folder is None or not folder.is_dir():
        return None
    for at, change, entities in _walk(folder, after, max_items):
        if at == before:
            return change, entities
    return None


def first_plan(engine: Engine, data: PlanningData, calendar: Calendar,
               consumption: ForecastConsumption | None, stamp: int | None,
               pending: pd.DataFrame) -> tuple[Plan, str] | None:
    """The plan of ``data`` (the cache's data of ``stamp``, read with ``prepare=False``) from a
    stored plan: the stored plan itself or its net change replan; None when none is usable.
    Returns the plan and how it was made (``"stored"``, ``"incremental"``, ``"full: ..."``)."""
    key = plan_key(calendar, consumption, pending)
    # the share of the item master (numbered first): known before a stored plan is read
    limit = int(MAX_CHANGED_SHARE * len(data.items))
    stored = find_stored(engine, stamp, key, plan_key(None, consumption, pending), limit)
    if stored is None:
        return None
    started = time.perf_counter()
    collect_if_damaged(stored.plan.sources, data, consumption)
    if not stored.exact:  # another calendar: its numbering and sources, netted anew
        return _prepared_plan(stored, data, calendar, consumption)
    if not stored.change:
        seed_derived(data, stored.plan.items, stored.plan.sources, consumption)
        return stored.plan, "stored"
    done = replan_detail(stored.plan, data, stored.change, consumption=consumption,
                         in_place=True)
    log.info("first plan from the plan stored for stamp %s: %s, %d rows in %.2f s",
             stored.stamp, done.how, done.rows, time.perf_counter() - started)
    return done.plan, "incremental" if done.how == "incremental" else done.how


def _prepared_plan(stored: Stored, data: PlanningData, calendar: Calendar,
                   consumption: ForecastConsumption | None) -> tuple[Plan, str] | None:
    """A full netting over ``calendar`` that takes the item numbering and the sources from the
    stored plan (the sources of the changed items collected again and spliced in, as the net
    change replan does), so the fresh process skips the preparation; None when the change
    reaches the numbering (item master, BOM, a code the stored plan does not number)."""
    from workbench.analysis.netting import plan

    change, previous = stored.change, stored.plan
    if change.master or change.bom_parents or previous.cycles:
        return None
    items = previous.items
    sources = previous.sources
    if change.items:
        idx = items.idx(sorted(change.items))
        if (idx < 0).any() or (idx >= master_count(data)).any():
            return None
        changed = np.unique(idx).astype(np.int64)
        fresh = collect_items(data, items, changed, consumption)
        patched = patched_sources(previous, fresh, changed)
        if patched is None:
            return None
        sources = patched
    seed_derived(data, items, sources, consumption)
    return plan(data, calendar, consumption=consumption), "prepared"


# --- the sync side: what the rows a sync wrote change --------------------------------------------

def extra_entities(touched: list[str]) -> list[str]:
    """Entities :func:`record_sync_change` needs read beside the ``touched`` ones."""
    if _REFERRED & set(touched):
        return [e for e in _REFERRING if e not in touched]
    return []


#: a sync that wrote more rows than this multiple of MAX_CHANGED_SHARE x the item master's size
#: records no change (the next process plans in full, as it would for that many items):
#: comparing the frames cost 3.65 s of the large demo's ``--day 7`` patch (389k rows written)
MAX_RECORDED_ROWS = 10


def record_sync_change(engine: Engine, before: int, after: int,
                       old: Mapping[str, pd.DataFrame], new: Mapping[str, pd.DataFrame],
                       rows_written: int = 0, n_items: int | None = None) -> None:
    """Record what the write from ``before`` to ``after`` changed (the frames it wrote, before
    in ``old`` and after in ``new``; frames it did not write the same objects in both, or
    absent), for :func:`find_stored`. Only when a plan is stored beside the cache, and not for
    a write of more than :data:`MAX_RECORDED_ROWS` x :data:`MAX_CHANGED_SHARE` x ``n_items``
    rows (``rows_written``; no record: the next process plans in full)."""
    folder = folder_of(engine)
    if folder is None or not plan_store.stored_stamps(folder):
        return
    if n_items is not None and rows_written > MAX_RECORDED_ROWS * MAX_CHANGED_SHARE * n_items:
        log.info("change of the write %s -> %s not recorded: %d rows written", before, after,
                 rows_written)
        return
    from workbench.services.planning_data import LEFT_OUT

    empty: dict[str, pd.DataFrame] = {}

    def frames(which: Mapping[str, pd.DataFrame]) -> Any:
        out = {}
        for entity in PLANNING_ENTITIES:
            if entity in which:
                out[entity] = which[entity]
            else:
                if entity not in empty:
                    empty[entity] = normalise_frame(entity, None, LEFT_OUT.get(entity, ()))
                out[entity] = empty[entity]
        return SimpleNamespace(**out)

    started = time.perf_counter()
    try:
        change = Change.between(cast(PlanningData, frames(old)),
                                cast(PlanningData, frames(new)))
        plan_store.write_change(folder, before, after, {
            "items": sorted(change.items), "bom_parents": sorted(change.bom_parents),
            "master": change.master,
            "entities": sorted(e for e in new if new[e] is not old.get(e))})
        log.info("change of the write %s -> %s recorded: %d items, %d BOM parents%s in %.2f s",
                 before, after, len(change.items), len(change.bom_parents),
                 ", item master" if change.master else "", time.perf_counter() - started)
    except Exception as exc:  # noqa: BLE001 - no record: the next process plans in full
        log.warning("change of the write %s -> %s not recorded (%s: %s)", before, after,
                    type(exc).__name__, exc)


def open_planned_session(engine: Engine, *, today: dt.date | None = None, horizon: str = "26w",
                         bucket: str = "week", state: TaskState | None = None,
                         consumption: ForecastConsumption | None = DEFAULT_CONSUMPTION,
                         store: bool = True) -> PlanningSession:
    """:func:`workbench.services.planning_data.open_session` with its plan made: from the plan
    stored beside the cache when one is usable (module doc), else in full (then stored for the
    next process when ``store``). :attr:`PlanningSession.how` says which: ``"stored"``,
    ``"incremental"``, ``"prepared"``, ``"full"`` or ``"full: <why>"``."""
    from workbench.cache.snapshot import observe_stamp, read_stamp
    from workbench.services.lazy_frames import open_stored
    from workbench.services.planning_data import (
        load_planning_data,
        planning_day,
        prepare_planning_data,
    )

    stamp = observe_stamp(engine)  # any write of an entity table from now on draws a new one
    lazy = open_stored(engine, stamp, today=today, horizon=horizon, bucket=bucket,
                       consumption=consumption)
    if lazy is not None:  # the plan stored for this very state: frames read on first use
        return lazy
    data = load_planning_data(engine, state, consumption=consumption, prepare=False)
    calendar = Calendar.parse(today or planning_day(data), horizon, bucket)
    session = PlanningSession(data, calendar, consumption, stamp=stamp)
    pending = pending_of(data)
    unchanged = stamp is not None and read_stamp(engine) == stamp  # the data is of ``stamp``
    if unchanged:
        found = first_plan(engine, data, calendar, consumption, stamp, pending)
        if found is not None:
            session._plans[False], session.how = found
            session._items = found[0].items
            if store and session.how != "stored":  # the next process starts from this one
                store_session(engine, session)
            return session
    if state is not None:
        state.set_status("numbering items")
    prepare_planning_data(data, consumption)
    session.plan()
    if store and unchanged:
        store_session(engine, session)
    return session


def refresh_after_sync(engine: Engine, session: PlanningSession,
                       state: TaskState | None = None) -> PlanningSession | None:
    """``session`` (a planner process's session, its plan made) brought up to the cache's
    current state after syncs wrote it, or None when it must be opened again
    (:func:`open_planned_session`).

    The syncs' snapshot patches recorded what each write changed (:func:`record_sync_change`);
    along that chain from the session's stamp to the cache's, the frames are read again (the
    patched snapshot: no preparation) and the session's plan is replanned in place by net
    change (:func:`workbench.analysis.incremental.replan_detail`, equal to a full plan), the
    pending decisions that changed meanwhile included; a sync that moved the planning day
    nets the new calendar from the session's numbering and sources (``"prepared"``). None —
    and the session left as it was — when some write recorded no change, the change names
    more than :data:`MAX_CHANGED_SHARE` of the items, or the stamp did not move (decisions
    only: :func:`workbench.services.planning_data.refresh_session`)."""
    from workbench.analysis.data import day_number
    from workbench.cache.snapshot import observe_stamp, read_stamp
    from workbench.services.planning_data import load_planning_data, overlay_change, planning_day

    previous = session._plans.get(False)
    if session.stamp is None or previous is None:
        return None
    stamp = observe_stamp(engine)  # any write from now on draws a new one
    if stamp is None or stamp == session.stamp:
        return None
    limit = int(MAX_CHANGED_SHARE * master_count(session.data))
    found = recorded_change(engine, session.stamp, stamp, limit)
    if found is None or found[0].master:
        return None
    change, entities = found
    started = time.perf_counter()
    data = None if entities is None else _patched_data(engine, session.data, stamp, entities)
    if data is None:
        data = load_planning_data(engine, state, consumption=session.consumption, prepare=False)
    if read_stamp(engine) != stamp:  # written while it was read: its change is not known here
        return None
    before, after = pending_of(session.data), pending_of(data)
    if not before.equals(after):
        change = change | overlay_change(session.data.purchase_order_lines,
                                         data.purchase_order_lines, (before, after))
    old = session.calendar
    calendar = Calendar(day_number(planning_day(data)), old.bucket_days, old.n_buckets)
    if calendar == old:
        done = replan_detail(session._plans.pop(False), data, change,
                             consumption=session.consumption, in_place=True)
        made = (done.plan, done.how)
    else:  # the planning day moved: every bucket boundary with it
        prepared = _prepared_plan(Stored(session.stamp, previous, change, exact=False), data,
                                  calendar, session.consumption)
        if prepared is None:
            return None
        made = prepared
    out = PlanningSession(data, calendar, session.consumption, stamp=stamp)
    out._plans[False], out.how = made
    out._items = made[0].items
    if made[0].items is previous.items and not change.bom_parents:
        out._graphs = session._graphs  # the same numbering and BOM
    session._plans.clear()
    session._pegging.clear()
    log.info("planning session brought from stamp %s to %s: %s in %.2f s", session.stamp, stamp,
             out.how, time.perf_counter() - started)
    return out


def plan_after_sync(engine: Engine, state: TaskState | None = None, *,
                    unless_recorded: bool = False) -> str | None:
    """Plan the state a sync run outside the application wrote (``workbench sync``, e.g. the
    morning's scheduled sync) and store that plan beside the cache, so the planner process
    opened afterwards finds it ready (``"stored"``) instead of netting the plant itself.

    Only when a plan is stored beside the cache (someone plans with this cache) and none for
    the cache's current state: made as a fresh process would make it
    (:func:`open_planned_session`: the stored plan replanned by net change along the changes the
    sync recorded, else netted over the new planning day from its numbering and sources, else
    in full), with the parameters of the stored plan (bucket length, buckets, forecast
    consumption; the planning day is the cache's new as-of day). Returns how the plan was made,
    None when nothing was done. Never raises (a failure is logged: the next process plans).

    ``unless_recorded`` (the application's Sync button): nothing either when the syncs recorded
    a change from the stored plan's state small enough for a net change (no item master change,
    at most :data:`MAX_CHANGED_SHARE` of the items it numbered): the planner process replans
    that itself in memory (:func:`refresh_after_sync`); what it cannot (a day move, a sync too
    big to record) is planned here, in the syncing worker, so the planner finds it stored."""
    from workbench.cache.snapshot import read_stamp

    folder = folder_of(engine)
    stamp = read_stamp(engine)
    if folder is None or stamp is None:
        return None
    found = plan_store.stored_params(folder)
    if found is None or found[0] == stamp:
        return None
    params = found[1]
    if unless_recorded:
        recorded = recorded_change(engine, found[0], stamp)
        if recorded is not None and not recorded[0].master and \
                len(recorded[0].items) <= MAX_CHANGED_SHARE * int(params.get("items") or 0):
            return None
    try:
        days, n = int(params["bucket_days"]), int(params["n_buckets"])
        windows = params["consumption"]
        consumption = None if windows is None else ForecastConsumption(*map(int, windows))
        started = time.perf_counter()
        session = open_planned_session(
            engine, horizon=f"{days * n}d", bucket="week" if days == 7 else "day",
            state=state, consumption=consumption, store=True)
    except Exception as exc:  # noqa: BLE001 - the sync is done: the next process plans
        log.warning("the state the sync wrote was not planned (%s: %s)", type(exc).__name__, exc)
        return None
    log.info("the state the sync wrote planned for the next process: %s in %.2f s",
             session.how, time.perf_counter() - started)
    return session.how


def _patched_data(engine: Engine, data: PlanningData, stamp: int, entities: frozenset[str]
                  ) -> PlanningData | None:
    """``data`` (a session's) with the frames ``entities`` replaced by the snapshot's frames of
    ``stamp`` and the pending decisions overlaid again: the data a load of ``stamp`` gives
    (every other frame, and its numbering, is the same object), without reading the frames
    the writes left alone. None when the snapshot is not of ``stamp`` or the overlay's base is
    not at hand."""
    from workbench.analysis.data import CODE_COLUMNS, seed_codes
    from workbench.cache.snapshot import read_snapshot, snapshot_path
    from workbench.services.overlay import pending_decisions
    from workbench.services.planning_data import _OVERLAY, _overlaid, frame_snapshot_layout

    kept = data._derived.get(_OVERLAY)
    path = snapshot_path(engine)
    if path is None or kept is None or kept[0][0] is not data.purchase_order_lines:
        return None
    if not entities:
        saved_frames: dict[str, pd.DataFrame] = {}
        codes: dict[tuple[str, str], np.ndarray] = {}
    else:
        saved = read_snapshot(path, stamp, frame_snapshot_layout(), only=entities)
        if saved is None or set(saved.frames) != set(entities):
            return None
        saved_frames, codes = saved.frames, saved.codes
    base = data.replace(purchase_order_lines=kept[1][0])  # the lines as read
    out = base.replace(**saved_frames)
    for (entity, column), ids in codes.items():
        if (entity, column) in CODE_COLUMNS:
            seed_codes(out, entity, column, ids)
    return _overlaid(out, pending_decisions(engine))


def store_session(engine: Engine, session: PlanningSession) -> Path | None:
    """Store the plan of ``session`` (opened by :func:`open_planned_session`) for the next
    process, if the cache still holds the state its data was read from; the caller may answer
    the planner first and store afterwards (the plan must not be replanned meanwhile)."""
    from workbench.cache.snapshot import read_stamp

    if session.stamp is None or read_stamp(engine) != session.stamp or \
            False not in session._plans:
        return None
    pending = pending_of(session.data)
    return store_plan(engine, session.stamp, plan_key(session.calendar, session.consumption,
                                                      pending), session._plans[False],
                      plan_key(None, session.consumption, pending), session.consumption,
                      _data_day(session.data))


def _data_day(data: PlanningData) -> dt.date | None:
    """The planning day ``data`` gives (:func:`workbench.services.planning_data.planning_day`),
    None when that may be the calendar's today (no as-of day in the data: another day, another
    answer)."""
    from workbench.services.planning_data import planning_day

    day = planning_day(data)
    return None if day == dt.date.today() else day


def pending_of(data: PlanningData) -> pd.DataFrame:
    """The pending decisions the load overlaid on ``data`` (kept by the overlay; for frames
    not read yet, the decisions they will be overlaid with: lazy_frames)."""
    from workbench.services.planning_data import _OVERLAY

    kept = dict.get(data._derived, _OVERLAY)  # (no frame read for it)
    if kept is None:
        source = data.__dict__.get("_lazy")
        return pd.DataFrame() if source is None else cast(pd.DataFrame, source.pending)
    return cast(pd.DataFrame, kept[1][1])


__all__ = ["ARRAYS", "MATRIX_PARTS", "OBJECTS", "Stored", "extra_entities", "find_stored",
           "first_plan", "folder_of", "open_planned_session", "pending_of", "plan_after_sync",
           "plan_key", "record_sync_change", "recorded_change", "refresh_after_sync", "store_plan",
           "store_session", "stored_arrays"]
