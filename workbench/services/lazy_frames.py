"""Planning frames read from the frame snapshot on first use (issue 16 §1).

A fresh planner process that finds the plan stored for the cache's current state
(:mod:`workbench.services.plan_store`) answers the plan from the stored arrays, numbering and
sources alone: reading every frame from the snapshot first (strings rebuilt, codes seeded:
1.4 of the 2.6 CPU-s of that path on the large demo, 2026-12-06) buys nothing for the shortage
list, which needs only the item master's descriptions. :class:`LazyPlanningData` is a
:class:`~workbench.analysis.data.PlanningData` whose frames are read on first use, in two
groups: the item master alone (the shortage table's descriptions, planners and buyers), then
every other frame at once (their shared item-code strings stay one object each, as
:func:`workbench.services.planning_data.load_planning_data` reads them). Each group gets what a
whole load gives it: the snapshot's code numbering seeded (:func:`seed_codes`), the pending
decisions overlaid on the PO lines (:func:`workbench.services.planning_data._overlaid`), and the
derived entries the stored plan answers (item numbering, sources: ``seeds``) once every frame
they depend on is read.

The snapshot file is opened when the data is made and held open (:class:`SnapshotFile`): a
sync that replaces the snapshot afterwards renames a new file over the path, and the frames
read later still come from the state the plan was stored for. That is POSIX behaviour; where
an open file cannot be renamed over (Windows) the caller reads the frames at once
(:func:`lazy_frames_supported`).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from workbench.analysis.consumption import ForecastConsumption
from workbench.analysis.data import (
    CODE_COLUMNS,
    PLANNING_ENTITIES,
    PlanningData,
    normalise_frame,
    seed_codes,
)
from workbench.analysis.session import PlanningSession

#: the frames read together on first use (the item master alone: the shortage table's
#: descriptions need only it); every other planning frame is the second group
FIRST_GROUP = ("items",)
_ENTITIES = frozenset(PLANNING_ENTITIES)


def lazy_frames_supported() -> bool:
    """Whether a file held open may be renamed over (POSIX): see the module doc."""
    return os.name == "posix"


class SnapshotFile:
    """The frame snapshot of one stamp, held open so a later snapshot renamed over the path
    does not change what is read (module doc)."""

    def __init__(self, handle: io.BufferedReader, stamp: int, layout: str) -> None:
        self._handle = handle
        self.stamp = stamp
        self.layout = layout
        self._lock = threading.Lock()

    @classmethod
    def open(cls, path: Path, stamp: int, layout: str) -> SnapshotFile | None:
        """The snapshot at ``path`` if it is of ``stamp`` and ``layout``, else None."""
        try:
            handle = open(path, "rb")
        except OSError:
            return None
        out = cls(handle, stamp, layout)
        try:
            manifest = out._manifest()
        except Exception:  # noqa: BLE001 - unreadable: the caller reads frames as it would
            manifest = None
        from workbench.cache import snapshot

        if manifest is None or manifest.get("format") != snapshot.FORMAT or \
                manifest.get("stamp") != stamp or manifest.get("layout") != layout:
            out.close()
            return None
        return out

    def _manifest(self) -> dict[str, Any]:
        self._handle.seek(0)
        with np.load(self._handle, allow_pickle=False) as archive:
            return dict(json.loads(bytes(archive["manifest"]).decode("utf-8")))

    def read(self, names: tuple[str, ...], shared: Any = ()) -> Any:
        """The :class:`workbench.cache.snapshot.Snapshot` of the frames ``names`` (those the
        snapshot holds)."""
        from workbench.cache import snapshot

        with self._lock:
            self._handle.seek(0)
            with np.load(self._handle, allow_pickle=False) as archive:
                manifest = json.loads(bytes(archive["manifest"]).decode("utf-8"))
                if manifest.get("stamp") != self.stamp:  # cannot be: the file is held open
                    raise snapshot.SnapshotError(f"snapshot of {manifest.get('stamp')}")
                manifest = dict(manifest, frames={n: f for n, f in manifest["frames"].items()
                                                  if n in names})
                return snapshot._rebuild(archive, manifest, set(shared))

    def close(self) -> None:
        self._handle.close()


class _Source:
    """What every copy of one :class:`LazyPlanningData` shares: the snapshot, the frames read
    so far (the same objects for every copy: derived entries check identity), the derived
    entries those reads made and the seeds (module doc)."""

    def __init__(self, snapshot: SnapshotFile, pending: pd.DataFrame,
                 omit: Mapping[str, Any], shared: Any) -> None:
        self.snapshot = snapshot
        self.pending = pending
        self.omit = omit
        self.shared = shared
        self.frames: dict[str, pd.DataFrame] = {}
        self.derived: dict[str, tuple[tuple[object, ...], Any]] = {}
        self.seeds: dict[str, tuple[tuple[str, ...], Any]] = {}
        self.lock = threading.RLock()

    def group_of(self, name: str) -> tuple[str, ...]:
        if name in FIRST_GROUP:
            return FIRST_GROUP
        return tuple(e for e in PLANNING_ENTITIES if e not in FIRST_GROUP)

    def load(self, name: str) -> None:
        """Read the group of frame ``name`` unless read (module doc)."""
        from workbench.services.planning_data import _overlaid

        with self.lock:
            if name in self.frames:
                return
            group = self.group_of(name)
            saved = self.snapshot.read(group, self.shared)
            frames = {entity: saved.frames[entity] if entity in saved.frames else
                      normalise_frame(entity, None, self.omit.get(entity, ())) for entity in group}
            data = PlanningData(**frames)
            for (entity, column), ids in saved.codes.items():
                if (entity, column) in CODE_COLUMNS:
                    seed_codes(data, entity, column, ids)
            if "purchase_order_lines" in group:  # the plan as it will be (load_planning_data)
                data = _overlaid(data, self.pending)
            self.frames.update({entity: getattr(data, entity) for entity in group})
            self.derived.update(data._derived)
            if len(self.frames) == len(PLANNING_ENTITIES):
                self.snapshot.close()  # every frame read: nothing more to read from it


class _Derived(dict):  # type: ignore[type-arg]
    """A lazy data's derived entries: a direct lookup of an entry not there (code outside
    :meth:`PlanningData.derived`, e.g. the overlay's base lines a decision's refresh reads)
    reads every frame first, so it finds what a whole load would have set."""

    def __init__(self, owner: LazyPlanningData) -> None:
        super().__init__()
        self._owner = owner

    def get(self, key: Any, default: Any = None) -> Any:
        if key not in self:
            self._owner.read_all()
        return super().get(key, default)


class LazyPlanningData(PlanningData):
    """Planning data whose frames are read from a held-open frame snapshot on first use
    (module doc); otherwise a :class:`PlanningData` (``replace`` keeps the frames not replaced
    lazy; ``derived`` answers the seeded entries once their frames are read)."""

    def __init__(self, source: _Source) -> None:  # frames: read on first use
        self._derived = _Derived(self)
        self._lazy = source

    def read_all(self) -> None:
        """Read every frame not read yet."""
        for entity in PLANNING_ENTITIES:
            getattr(self, entity)

    @classmethod
    def of(cls, snapshot: SnapshotFile, pending: pd.DataFrame) -> LazyPlanningData:
        """Lazy data of ``snapshot`` with the ``pending`` decisions overlaid on its PO lines."""
        from workbench.services.planning_data import LEFT_OUT, SHARED_TEXT

        return cls(_Source(snapshot, pending, LEFT_OUT, SHARED_TEXT))

    def __getattr__(self, name: str) -> Any:  # only for attributes not set: unread frames
        source = self.__dict__.get("_lazy")
        if source is None or name not in _ENTITIES:
            raise AttributeError(name)
        source.load(name)
        with source.lock:
            for entity, frame in source.frames.items():
                self.__dict__.setdefault(entity, frame)
            for key, entry in source.derived.items():
                self._derived.setdefault(key, entry)
            self._install_seeds()
        return self.__dict__[name]

    def frames_read(self) -> list[str]:
        """The frames read so far (for tests and logs)."""
        return [e for e in PLANNING_ENTITIES if e in self.__dict__]

    def seed(self, seeds: Mapping[str, tuple[tuple[str, ...], Any]]) -> None:
        """Derived entries (name: (the frames it was made from, by name; value)) this data
        answers once those frames are read (the stored plan's numbering and sources)."""
        self._lazy.seeds.update(seeds)
        self._install_seeds()

    def _install_seeds(self) -> None:
        source = self._lazy
        for key, (names, value) in source.seeds.items():
            if key in self._derived or not all(n in self.__dict__ for n in names):
                continue
            # only for the very frames the seed was made of: a copy may have replaced one
            if all(self.__dict__[n] is source.frames.get(n) for n in names):
                self._derived[key] = (tuple(self.__dict__[n] for n in names), value)

    def derived(self, name: str, frames: tuple[object, ...], build: Any) -> Any:
        self._install_seeds()  # ``frames`` were read by the caller: a seed may apply now
        hit = dict.get(self._derived, name)  # (PlanningData.derived, without reading frames)
        if hit is not None and len(hit[0]) == len(frames) and \
                all(a is b for a, b in zip(hit[0], frames)):
            return hit[1]
        value = build()
        self._derived[name] = (frames, value)
        return value

    def replace(self, **frames: pd.DataFrame) -> PlanningData:
        unknown = set(frames) - _ENTITIES
        if unknown:
            raise TypeError(f"not planning frames: {sorted(unknown)}")
        copy = LazyPlanningData(self._lazy)
        copy.__dict__.update({e: self.__dict__[e] for e in PLANNING_ENTITIES
                              if e in self.__dict__})
        copy.__dict__.update(frames)
        copy._derived.update(self._derived)  # safe: entries check the identity of their frames
        return copy

    def __reduce__(self) -> Any:  # pickled as the plain data it stands for (every frame read)
        return (_plain, ({e: getattr(self, e) for e in PLANNING_ENTITIES},))


def _plain(frames: dict[str, pd.DataFrame]) -> PlanningData:
    return PlanningData(**frames)


def seeds_of(seed: Any, *args: Any) -> dict[str, tuple[tuple[str, ...], Any]]:
    """The derived entries ``seed(data, *args)`` (e.g.
    :func:`workbench.analysis.incremental_sources.seed_derived`) would set on a data, with the
    frames each depends on by name, without reading a frame (for :meth:`LazyPlanningData.seed`)."""
    names = SimpleNamespace(**{e: e for e in PLANNING_ENTITIES}, _derived={})
    seed(names, *args)
    return {key: (tuple(str(n) for n in frames), value)
            for key, (frames, value) in names._derived.items()}




def open_stored(engine: Any, stamp: int | None, *, today: dt.date | None, horizon: str,
                bucket: str, consumption: ForecastConsumption | None) -> PlanningSession | None:
    """The planning session of the plan stored for ``stamp`` (the cache's entity stamp, just
    observed) with its frames read on first use from the snapshot of ``stamp`` (module doc);
    None when that cannot be: no plan stored for this very state and calendar (the planning
    day the data gives is stored beside it: ``data_day``), no snapshot of ``stamp``, or a
    platform where the snapshot cannot be held open."""
    from workbench.analysis.calendar import Calendar
    from workbench.analysis.incremental_sources import seed_derived
    from workbench.cache import plan_store as files
    from workbench.cache.snapshot import snapshot_path
    from workbench.services import plan_parts, plan_store
    from workbench.services.overlay import pending_decisions
    from workbench.services.planning_data import frame_snapshot_layout

    if stamp is None or not lazy_frames_supported():
        return None
    folder, path = plan_store.folder_of(engine), snapshot_path(engine)
    if folder is None or path is None or not folder.is_dir():
        return None
    params = files.plan_params(folder, stamp)
    day = today if today is not None else (params or {}).get("data_day")
    if not day:
        return None
    snapshot = SnapshotFile.open(path, stamp, frame_snapshot_layout())
    if snapshot is None:
        return None
    try:
        pending = pending_decisions(engine)
        calendar = Calendar.parse(day if isinstance(day, dt.date) else
                                  dt.date.fromisoformat(str(day)), horizon, bucket)
        found = files.read_plan(folder, stamp, plan_store.plan_key(calendar, consumption,
                                                                   pending))
        if found is None or not found[2]:
            snapshot.close()
            return None
    except BaseException:
        snapshot.close()
        raise
    plan = plan_parts._plan(found[0], found[1])
    data = LazyPlanningData.of(snapshot, pending)
    plan_parts.collect_if_damaged(plan.sources, data, consumption)
    data.seed(seeds_of(seed_derived, plan.items, plan.sources, consumption))
    session = PlanningSession(data, calendar, consumption, stamp=stamp)
    session._plans[False], session.how = plan, "stored"
    session._items = plan.items
    return session


__all__ = ["FIRST_GROUP", "LazyPlanningData", "SnapshotFile", "lazy_frames_supported",
           "open_stored", "seeds_of"]
