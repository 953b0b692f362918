"""The pending decisions the plan overlays (rule: :mod:`workbench.analysis.overlay`), read from
the cache when a planning session loads its data (:func:`workbench.services.planning.
load_planning_data`)."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine

from workbench.analysis.data import PlanningData
from workbench.analysis.overlay import PENDING_COLUMNS, PENDING_STATES, apply_pending
from workbench.cache.exception_reads import pending_writes


def pending_decisions(engine: Engine) -> pd.DataFrame:
    """Approved or modified decisions whose write-back no sync has confirmed (nor a user
    discarded): :data:`~workbench.analysis.overlay.PENDING_COLUMNS`, oldest first."""
    with engine.connect() as conn:
        rows = pending_writes(conn, PENDING_STATES)
    return pd.DataFrame(rows, columns=list(PENDING_COLUMNS))


def overlay_pending(engine: Engine, data: PlanningData) -> PlanningData:
    """``data`` with the cache's pending decisions applied (the plan as it will be)."""
    return apply_pending(data, pending_decisions(engine))
