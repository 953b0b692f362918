"""How a plan is stored beside the cache (issue 16 §1): which of its fields are arrays (each
mapped from its ``.npy`` file), which are pickled together, and the plan matrices kept as their
non-zero parts (:class:`~workbench.analysis.rowmatrix.RowMatrix`). Split from
:mod:`workbench.services.plan_store`, which stores and finds the plans."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np

from workbench.analysis.calendar import Calendar
from workbench.analysis.consumption import ForecastConsumption
from workbench.analysis.data import PlanningData
from workbench.analysis.netting import Plan
from workbench.analysis.rowmatrix import RowMatrix
from workbench.analysis.sources import Sources, _collect
from workbench.cache.plan_store import Deferred

#: the Plan fields stored as arrays (opened with mmap); the rest is pickled
ARRAYS = ("key", "level", "on_hand", "gross", "scheduled", "net", "planned", "planned_at", "llc")
#: the Plan fields pickled together
OBJECTS = ("calendar", "items", "sites", "segments", "cycles")
#: the Plan fields pickled apart, each read on first use (:class:`LazySources`): answering the
#: plan needs none of them (the large demo's sources: 100 of the 156 MiB pickled, half the
#: CPU of reading them back, 2026-12-06)
APART = ("sources",)
#: the sources' reservations, pickled with :data:`OBJECTS` under this name: the plan's summary
#: (the shortage list) reads them (:meth:`Plan.reserved_elsewhere`; 32k rows on the large demo)
ALLOCATIONS = "sources.allocations"
#: the parts of a :class:`RowMatrix` stored as ``<field>.<part>`` (its block only up to its
#: all-zero row: ``n_stored`` is the block's length less one)
MATRIX_PARTS = ("slot", "block", "ptr", "col", "val")


def stored_arrays(plan_: Plan) -> dict[str, np.ndarray]:
    """The arrays :func:`store_plan` stores of ``plan_``: each :data:`ARRAYS` field as it is,
    a plan matrix kept as its non-zero values (:class:`RowMatrix`) as its parts (never the
    dense matrix: 458 MB on the large demo against ~20 MB)."""
    out: dict[str, np.ndarray] = {}
    for name in ARRAYS:
        value = getattr(plan_, name)
        if value is None:
            continue
        if isinstance(value, RowMatrix):
            out.update({f"{name}.{part}": getattr(value, part) for part in MATRIX_PARTS})
            out[f"{name}.block"] = value.block[:value.n_stored + 1]
        else:
            out[name] = value
    return out


def _matrix(arrays: Mapping[str, np.ndarray], name: str) -> Any:
    """The field ``name`` of a stored plan: the array, or the RowMatrix joined from its parts
    (mapped copy-on-write: the incremental replan's writes stay in the process)."""
    if name in arrays:
        return arrays[name]
    if f"{name}.slot" not in arrays:
        return None
    slot, block, ptr, col, val = (arrays[f"{name}.{part}"] for part in MATRIX_PARTS)
    return RowMatrix(slot, block, len(block) - 1, ptr, col, val)


def _params(calendar: Calendar, consumption: ForecastConsumption | None) -> dict[str, Any]:
    """The planning parameters a plan was made with, as :func:`plan_after_sync` reads them."""
    return {"bucket_days": calendar.bucket_days, "n_buckets": calendar.n_buckets,
            "consumption": None if consumption is None else [consumption.backward_days,
                                                             consumption.forward_days]}


def _plan(arrays: dict[str, np.ndarray], objects: dict[str, Any]) -> Plan:
    fields = dict(objects)
    fields.update({name: _matrix(arrays, name) for name in ARRAYS})
    allocations = fields.pop(ALLOCATIONS, None)
    if isinstance(fields.get("sources"), Deferred):
        fields["sources"] = LazySources(fields["sources"], fields["items"], allocations)
    return Plan(**fields)


@contextmanager
def sources_apart(sources: Sources, items: Any) -> Iterator[Sources]:
    """``sources`` ready to be pickled apart from the numbering ``items``: its row keys made
    for ``items`` name it as None (tied again when read, :class:`LazySources`), the others
    left out (made again on use); as they were afterwards."""
    keys = sources._keys
    sources._keys = {name: (None, sites, key) for name, (numbering, sites, key) in keys.items()
                     if numbering is items}
    # a patched sources' numbering (its fast path: ``items is self._numbering[0]``) likewise
    numbering = sources.__dict__.get("_numbering")
    if isinstance(numbering, tuple) and numbering and numbering[0] is items:
        sources.__dict__["_numbering"] = (None, *numbering[1:])
    try:
        yield sources
    finally:
        sources._keys = keys
        if isinstance(numbering, tuple) and numbering and numbering[0] is items:
            sources.__dict__["_numbering"] = numbering


_LOCK = threading.Lock()
log = logging.getLogger(__name__)


class LazySources(Sources):
    """The sources of a stored plan, unpickled on first use of any of their fields (the stored
    plan answers without them: :data:`APART`); then this very object becomes the sources read
    (their class, e.g. a replan's patched sources, and their fields), their row keys tied to
    the plan's numbering again (:func:`sources_apart`). :func:`sources_read` says which."""

    def __init__(self, deferred: Deferred, items: Any, allocations: Any = None) -> None:
        self.__dict__.update(_lazy_deferred=deferred, _lazy_items=items)  # the rest: on use
        if allocations is not None:  # at hand (:data:`ALLOCATIONS`)
            self.__dict__["allocations"] = allocations

    def __getattr__(self, name: str) -> Any:  # only for attributes not set: not read yet
        state = self.__dict__
        if "_lazy_deferred" not in state or name.startswith("__"):
            raise AttributeError(name)
        with _LOCK:
            if "_lazy_deferred" in state:
                read: Any = _read(state)
                items = state["_lazy_items"]
                fields = dict(read.__dict__)
                keys = fields.get("_keys")
                if isinstance(keys, dict):
                    fields["_keys"] = {
                        key: (items if numbering is None else numbering, sites, rows)
                        for key, (numbering, sites, rows) in keys.items()}
                numbering = fields.get("_numbering")
                if isinstance(numbering, tuple) and numbering and numbering[0] is None:
                    fields["_numbering"] = (items, *numbering[1:])
                if "allocations" in state and "allocations" in fields:
                    fields["allocations"] = state["allocations"]  # the same object as before
                state.clear()
                state.update(fields)
                self.__class__ = type(read)
        return getattr(self, name)

    def resolve(self) -> Sources:
        """These sources read (this very object, of the stored class from now on): for a
        caller that tells the sources apart by class (the net change's patched sources)."""
        self._keys  # noqa: B018 - reads them
        return self

    def __reduce__(self) -> Any:  # pickled as the sources read
        self._keys  # noqa: B018 - reads them: this object is of their class from now on
        return self.__reduce_ex__(5)


def _read(state: dict[str, Any]) -> Sources:
    """The sources a :class:`LazySources`' state names: unpickled, else (a damaged file: a
    torn write, a full disk) collected from the data (:func:`collect_if_damaged`; the stored
    plan is removed then, so a later process plans in full), else the error raised."""
    deferred: Deferred = state["_lazy_deferred"]
    try:
        read: Sources = deferred.load()
        return read
    except Exception as exc:
        collect = state.get("_lazy_collect")
        log.warning("stored sources not read (%s: %s): %s", type(exc).__name__, exc,
                    "collected from the data" if collect is not None else "no data to collect")
        deferred.drop_stored()
        if collect is None:
            raise
        fresh: Sources = collect()
        return fresh


def collect_if_damaged(sources: Sources, data: PlanningData,
                       consumption: ForecastConsumption | None) -> None:
    """Have a stored plan's ``sources`` (not read yet) collected from ``data`` (the data of
    that plan's state, or a later state whose change the plan is netted with: the changed
    items' rows are replaced then) if their file cannot be read."""
    if isinstance(sources, LazySources) and "_lazy_deferred" in sources.__dict__:
        # not Sources.collect: the data's derived sources are these very lazy sources
        sources.__dict__["_lazy_collect"] = lambda: _collect(data, None, consumption)


def sources_read(sources: Sources) -> bool:
    """Whether ``sources`` (a stored plan's) were read (for tests and logs)."""
    return not isinstance(sources, LazySources)


__all__ = ["ALLOCATIONS", "APART", "ARRAYS", "MATRIX_PARTS", "OBJECTS", "LazySources",
           "collect_if_damaged", "sources_apart", "sources_read", "stored_arrays"]
