"""What a sync changed: per entity the rows added, changed and removed, and those rows.

Queries (reader process) the Sync & Outbox panel asks after a sync and for a run chosen in its
list: :func:`run_changes` (one :class:`EntityChanges` per entity the run changed) and
:func:`changed_rows` (the rows of one entity the run wrote, as a table with their state). The
rule telling added from changed rows is :mod:`workbench.cache.sync_changes`. Importing this
module loads neither pandas nor Qt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from workbench.app.ops import cache_query
from workbench.app.tables import Col

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from workbench.app.tables import TableData

#: how a planner calls each synced entity (in the cache's order)
ENTITY_TITLES: dict[str, str] = {
    "uoms": "Units", "sites": "Sites", "locations": "Locations", "suppliers": "Suppliers",
    "items": "Items", "uom_conversions": "Unit conversions", "item_xrefs": "Item cross-references",
    "bom_revisions": "BOM revisions", "bom_lines": "BOM lines", "inventory": "Stock",
    "demands": "Demands", "work_orders": "Work orders",
    "work_order_components": "Work order components", "purchase_orders": "Purchase orders",
    "promise_changes": "Promise changes", "purchase_order_lines": "PO lines",
    "requisitions": "Requisitions",
}


def _col(name: str, title: str, kind: str = "text", *, names: str = "", unit_of: str = ""
         ) -> Col:
    """A column of a changed row; its header says the value is the row's after the sync."""
    return Col(name, title, kind, tip=f"{title} of the row as this sync left it", names=names,
               unit_of=unit_of)


#: the columns that say what a changed row is, per entity (after its state)
ROW_COLUMNS: dict[str, list[Col]] = {
    "uoms": [_col("code", "Unit"), _col("name", "Name"), _col("category", "Category")],
    "sites": [_col("code", "Site"), _col("name", "Name"), _col("timezone", "Time zone")],
    "locations": [_col("code", "Location"), _col("site", "Site", names="site"),
                  _col("name", "Name"), _col("kind", "Kind")],
    "suppliers": [_col("code", "Supplier"), _col("name", "Name"),
                  _col("lead_time_days", "Lead time (days)", "int")],
    "items": [_col("code", "Item"), _col("description", "Description"), _col("stock_uom", "Unit"),
              _col("make_buy", "Make/buy"), _col("lead_time_days", "Lead time (days)", "int"),
              _col("default_supplier", "Supplier", names="supplier")],
    "uom_conversions": [_col("item", "Item", names="item"), _col("from_uom", "From unit"),
                        _col("to_uom", "To unit"), _col("factor", "Factor", "qty")],
    "item_xrefs": [_col("item", "Item", names="item"), _col("system", "System"),
                   _col("external_code", "Code there")],
    "bom_revisions": [_col("parent", "Parent", names="item"), _col("revision", "Revision"),
                      _col("status", "Status"), _col("effective_from", "From", "date"),
                      _col("effective_to", "To", "date")],
    "bom_lines": [_col("parent", "Parent", names="item"), _col("revision", "Revision"),
                  _col("position", "Position", "int"), _col("component", "Component", names="item"),
                  _col("quantity_per", "Qty per", "qty", unit_of="component")],
    "inventory": [_col("item", "Item", names="item"), _col("site", "Site", names="site"),
                  _col("location", "Location"), _col("lot", "Lot"), _col("status", "Status"),
                  _col("quantity", "Quantity", "qty", unit_of="item")],
    "demands": [_col("code", "Demand"), _col("kind", "Kind"), _col("item", "Item", names="item"),
                _col("site", "Site", names="site"), _col("quantity", "Quantity", "qty",
                                                      unit_of="item"),
                _col("due_date", "Due", "date"), _col("status", "Status")],
    "work_orders": [_col("code", "Work order"), _col("item", "Item", names="item"),
                    _col("site", "Site", names="site"),
                    _col("quantity", "Quantity", "qty", unit_of="item"),
                    _col("due_date", "Due", "date"), _col("status", "Status")],
    "work_order_components": [_col("work_order", "Work order"), _col("position", "Position", "int"),
                              _col("component", "Component", names="item"),
                              _col("required_quantity", "Required qty", "qty",
                                  unit_of="component"),
                              _col("required_date", "Required", "date")],
    "purchase_orders": [_col("code", "PO"), _col("supplier", "Supplier", names="supplier"),
                        _col("site", "Site", names="site"), _col("status", "Status"),
                        _col("order_date", "Ordered", "date")],
    "promise_changes": [_col("purchase_order", "PO"), _col("line", "Line", "int"),
                        _col("changed_at", "Changed at"), _col("promised_date", "Promised", "date"),
                        _col("origin", "From")],
    "purchase_order_lines": [_col("purchase_order", "PO"), _col("line", "Line", "int"),
                             _col("item", "Item", names="item"),
                             _col("supplier", "Supplier", names="supplier"),
                             _col("quantity_ordered", "Ordered qty", "qty", unit_of="item"),
                             _col("promised_date", "Promised", "date"), _col("status", "Status")],
    "requisitions": [_col("code", "Requisition"), _col("item", "Item", names="item"),
                     _col("site", "Site", names="site"),
                     _col("quantity", "Quantity", "qty", unit_of="item"),
                     _col("need_date", "Need date", "date"), _col("status", "Status")],
}
STATE_COLUMN = Col("state", "Change", tip="What the sync did to the row: added (new in the "
                   "cache), changed (a field differs from before), removed (no longer in the "
                   "source; kept, marked deleted)")
#: row colours of the states (workbench.ui.models.TONE_COLOURS)
STATE_TONES = {"added": "added", "changed": "changed", "removed": "removed"}


@dataclass(frozen=True)
class EntityChanges:
    """What one sync run did to one entity."""

    entity: str
    added: int
    changed: int
    removed: int

    @property
    def title(self) -> str:
        return ENTITY_TITLES.get(self.entity, self.entity.replace("_", " ").capitalize())

    @property
    def total(self) -> int:
        return self.added + self.changed + self.removed

    def text(self) -> str:
        """'PO lines: 3 added, 40 changed, 1 removed' (zero counts left out)."""
        parts = [f"{n:,} {what}" for n, what in ((self.added, "added"),
                                                  (self.changed, "changed"),
                                                  (self.removed, "removed")) if n]
        return f"{self.title}: {', '.join(parts)}"


def changes_text(changes: list[EntityChanges]) -> str:
    """Every entity's changes in one line ('' when the run changed nothing)."""
    return "; ".join(c.text() for c in changes)


@cache_query
def run_changes(engine: Engine, run_id: int) -> list[EntityChanges]:
    """Per entity run ``run_id`` changed: the rows it added, changed and removed."""
    from workbench.cache.sync_changes import entity_changes

    return [EntityChanges(entity, *counts)
            for entity, counts in entity_changes(engine, int(run_id)).items()]


@cache_query
def changed_rows(engine: Engine, run_id: int, entity: str, limit: int = 10_000) -> TableData:
    """The rows of ``entity`` run ``run_id`` wrote (added first, then changed, removed), as a
    table: the change (``state``) and the columns of :data:`ROW_COLUMNS` saying what each row
    is; at most ``limit`` rows. Row keys are positions."""
    import pandas as pd

    from workbench.app.tables import TableData
    from workbench.cache.sync_changes import changed_rows as rows_of

    columns = ROW_COLUMNS[entity]
    names, rows = rows_of(engine, int(run_id), entity, [c.name for c in columns], limit)
    frame = pd.DataFrame.from_records(rows, columns=names)
    frame["n"] = range(len(frame))
    frame["tone"] = frame["state"].map(STATE_TONES)
    return TableData.from_frame(frame, [STATE_COLUMN, *columns], "n", tone="tone")
