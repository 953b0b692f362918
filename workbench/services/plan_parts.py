"""How a plan is stored beside the cache (issue 16 §1): which of its fields are arrays (each
mapped from its ``.npy`` file), which are pickled together, and the plan matrices kept as their
non-zero parts (:class:`~workbench.analysis.rowmatrix.RowMatrix`). Split from
:mod:`workbench.services.plan_store`, which stores and finds the plans."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from workbench.analysis.calendar import Calendar
from workbench.analysis.consumption import ForecastConsumption
from workbench.analysis.netting import Plan
from workbench.analysis.rowmatrix import RowMatrix

#: the Plan fields stored as arrays (opened with mmap); the rest is pickled
ARRAYS = ("key", "level", "on_hand", "gross", "scheduled", "net", "planned", "planned_at", "llc")
#: the Plan fields pickled together (one pickle keeps the sources' keys tied to the numbering)
OBJECTS = ("calendar", "items", "sites", "segments", "sources", "cycles")
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
    return Plan(**fields)


__all__ = ["ARRAYS", "MATRIX_PARTS", "OBJECTS", "stored_arrays"]
