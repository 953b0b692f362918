"""Items and BOMs: the item table, an item's revisions, the lines of one revision, the diff of
two revisions (the Items & BOM panel, the Where-used panel's revision pickers).

Every function is an operation (:mod:`workbench.app.ops`): top-level, so it pickles by reference
into the worker process that runs it. Importing this module loads neither pandas nor Qt.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from workbench.app.ops import cache_query, planning_query

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy import Engine

    from workbench.analysis.session import PlanningSession
    from workbench.app.tables import TableData


@cache_query
def load_item_table(engine: Engine) -> TableData:
    """The item list as column arrays (:data:`workbench.app.columns.ITEM_COLUMNS`), searchable on
    code, description, planner, buyer and default supplier, with the make/buy and planner picker
    values computed (built in the reader process; the UI thread only swaps it in)."""
    from workbench.app.columns import ITEM_COLUMNS
    from workbench.app.tables import TableData
    from workbench.cache.frames import read_entity_frame

    frame = read_entity_frame(engine, "items", columns=[c.name for c in ITEM_COLUMNS],
                              parse_dates=False)
    table = TableData.from_frame(frame, ITEM_COLUMNS, "code",
                                 search=["code", "description", "planner", "buyer",
                                         "default_supplier"])
    for picker in ("make_buy", "planner"):
        table.distinct(picker)
    return table


@dataclass
class Revisions:
    """The BOM revisions of ``item``: ``table`` has one row per revision (revision, status,
    effective_from, effective_to, description), sorted by revision; ``in_force`` is the revision
    in force on the planning day (None: none)."""

    item: str
    table: pd.DataFrame
    in_force: str | None


@planning_query
def item_revisions(session: PlanningSession, item: str) -> Revisions:
    from workbench.analysis.bom import revisions_at
    from workbench.analysis.data import day_number

    revs = session.data.bom_revisions
    mine = revs[revs["parent"] == item].sort_values("revision")
    now = revisions_at(revs[revs["parent"] == item], day_number(session.today))
    return Revisions(item, mine[["revision", "status", "effective_from", "effective_to",
                                 "description"]].reset_index(drop=True),
                     str(now["revision"].iloc[0]) if len(now) else None)


@planning_query
def revisions_and_today(session: PlanningSession, item: str) -> tuple[Revisions, dt.date]:
    """The revisions of ``item`` and the planning day (the default effectivity date)."""
    return item_revisions(session, item), session.today


@planning_query
def bom_lines(session: PlanningSession, parent: str, revision: str | None) -> pd.DataFrame:
    """Lines of ``parent`` (``revision``, else the one in force; an empty frame when none is),
    sorted by position: component, quantity_per, orig_uom, scrap_pct, revision, position, the
    component's description and stock_uom, and has_bom (the component has a BOM of its own)."""
    import pandas as pd

    from workbench.analysis.bom import revisions_at
    from workbench.analysis.data import day_number

    data = session.data
    if revision is None:
        now = revisions_at(data.bom_revisions[data.bom_revisions["parent"] == parent],
                           day_number(session.today))
        if not len(now):
            return pd.DataFrame()
        revision = str(now["revision"].iloc[0])
    lines = data.bom_lines[(data.bom_lines["parent"] == parent)
                           & (data.bom_lines["revision"] == revision)].sort_values("position")
    items = data.items.set_index("code")
    parents = set(data.bom_revisions["parent"])
    out = lines[["component", "quantity_per", "orig_uom", "scrap_pct", "revision", "position"]].copy()
    out["description"] = out["component"].map(items["description"]).fillna("")
    out["stock_uom"] = out["component"].map(items["stock_uom"]).fillna("")
    out["has_bom"] = out["component"].isin(parents)
    return out


@planning_query
def diff_frame(session: PlanningSession, item: str, rev_a: str, rev_b: str) -> pd.DataFrame:
    """The line differences of two revisions of ``item``
    (:func:`workbench.analysis.revisions.revision_diff`) with ``changed`` (the changed fields as
    words) and ``tone`` (the change: added, removed, changed) for colouring; the columns of
    :data:`workbench.app.columns.DIFF_COLUMNS` at least."""
    import pandas as pd

    from workbench.analysis.revisions import revision_diff
    from workbench.app.columns import DIFF_COLUMNS

    diff = revision_diff(session.data, item, rev_a, rev_b)
    if diff.empty:
        return pd.DataFrame(columns=[c.name for c in DIFF_COLUMNS] + ["tone"])
    diff["changed"] = diff["changed_fields"].map(lambda f: ", ".join(x.replace("_", " ") for x in f))
    diff["tone"] = diff["change"]
    return diff
