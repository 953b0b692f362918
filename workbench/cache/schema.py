"""SQLAlchemy schema of the cache.

Entity tables are derived from the canonical pydantic models, so the model is the one place a
field is declared: each model field becomes a column, except ``uom``, which becomes ``orig_uom``
(the unit the source used) while every quantity field is stored converted to the item's stock
unit, with the source's figure kept in ``orig_<field>``. Every entity table also has
``deleted_at`` (set when a source no longer has the record) and ``sync_run`` (the run that last
changed the row).

The migrations in :mod:`workbench.cache.migrations` create and evolve these tables; a test checks
that a cache built by the migrations has exactly the columns declared here.
"""

from __future__ import annotations

import datetime as dt
import enum
import types
import typing
from typing import Any

from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
)

from workbench.domain.models import ENTITY_MODELS, Record

metadata = MetaData()


def _sql_type(annotation: Any) -> type:
    """Column type for a pydantic field annotation (dates are ISO-8601 text in SQLite)."""
    args = typing.get_args(annotation)
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _sql_type(args[0])
    if origin in (typing.Union, types.UnionType):
        real = [a for a in args if a is not type(None)]
        return _sql_type(real[0])
    if annotation is bool or annotation is int:
        return Integer
    if annotation is float:
        return Float
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return Text
    if annotation in (str, dt.date, dt.datetime):
        return Text
    raise TypeError(f"no column type for {annotation!r}")


def entity_columns(model: type[Record]) -> list[str]:
    """Names of the cache columns of an entity, in table order."""
    cols = []
    for name in model.model_fields:
        if name == "uom":
            continue
        cols.append(name)
    if model.quantity_fields:
        cols.append("orig_uom")
        cols.extend(f"orig_{q}" for q in model.quantity_fields)
    return cols


def _entity_table(model: type[Record]) -> Table:
    columns: list[Column[Any]] = []
    for name, info in model.model_fields.items():
        if name == "uom":
            continue
        required = info.is_required() and name in model.key_fields
        columns.append(Column(name, _sql_type(info.annotation), nullable=not required))
    if model.quantity_fields:
        columns.append(Column("orig_uom", Text))
        columns.extend(Column(f"orig_{q}", Float) for q in model.quantity_fields)
    columns.append(Column("deleted_at", Text))
    columns.append(Column("sync_run", Integer))
    return Table(model.entity, metadata, *columns, PrimaryKeyConstraint(*model.key_fields))


ENTITY_TABLES: dict[str, Table] = {name: _entity_table(m) for name, m in ENTITY_MODELS.items()}

# Secondary indexes the planning queries need (where-used walks child -> parent).
Index("ix_bom_lines_component", ENTITY_TABLES["bom_lines"].c.component)
Index("ix_inventory_site_item", ENTITY_TABLES["inventory"].c.site, ENTITY_TABLES["inventory"].c.item)
Index("ix_pol_item", ENTITY_TABLES["purchase_order_lines"].c.item)
Index("ix_woc_component", ENTITY_TABLES["work_order_components"].c.component)
Index("ix_req_item", ENTITY_TABLES["requisitions"].c.item)
Index("ix_demands_item", ENTITY_TABLES["demands"].c.item)


sync_runs = Table(
    "sync_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("connector", Text, nullable=False),
    Column("started_at", Text, nullable=False),
    Column("finished_at", Text),
    Column("status", Text, nullable=False),
    Column("counts", Text),  # JSON: entity -> {"received": n, "changed": n}
    Column("rejected", Integer, nullable=False, server_default="0"),
    Column("duration_s", Float),
    Column("watermarks", Text),  # JSON: entity -> watermark
    Column("error", Text),
)

sync_rejections = Table(
    "sync_rejections",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sync_run", Integer, ForeignKey("sync_runs.id", ondelete="CASCADE"), nullable=False),
    Column("entity", Text, nullable=False),
    Column("key", Text),
    Column("field", Text),
    Column("reason", Text),
    Column("file", Text),
    Column("row", Integer),
)

watermarks = Table(
    "watermarks",
    metadata,
    Column("connector", Text, nullable=False),
    Column("entity", Text, nullable=False),
    Column("watermark", Text),
    Column("updated_at", Text),
    PrimaryKeyConstraint("connector", "entity"),
)

bom_revision_history = Table(
    "bom_revision_history",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("parent", Text, nullable=False),
    Column("revision", Text, nullable=False),
    Column("old_status", Text),
    Column("new_status", Text),
    Column("observed_at", Text, nullable=False),
)

recommendations = Table(
    "recommendations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_at", Text, nullable=False),
    Column("requisition", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("proposed_quantity", Float),
    Column("proposed_date", Text),
    Column("proposed_supplier", Text),
    Column("reason", Text),
    Column("evidence", Text),  # JSON
    Column("base_version", Text),  # the requisition's source_version the analysis saw
    Column("status", Text, nullable=False, server_default="open"),
    # migration 0003: the alternate component a switch_source advice proposes (NULL: same item)
    Column("proposed_item", Text),
)
Index("ix_recommendations_req", recommendations.c.requisition)

decisions = Table(
    "decisions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("recommendation", Integer, ForeignKey("recommendations.id")),
    Column("requisition", Text, nullable=False),
    Column("verdict", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("quantity", Float),
    Column("date", Text),
    Column("supplier", Text),
    Column("comment", Text),
    Column("decided_by", Text),
    Column("decided_at", Text, nullable=False),
    Column("base_version", Text),
    Column("item", Text),  # migration 0003: alternate component switched to (NULL: same item)
    # migration 0010: what the decision is about (NULL/requisition, purchase_order_line,
    # work_order; for the latter two ``requisition`` holds the element's code) and the
    # exception message decided on (kind|element)
    Column("target_kind", Text),
    Column("message_key", Text),
    # migration 0015: who decided, beside decided_by (the configured name): the workstation's
    # OS login and the database role (PostgreSQL's current_user; the OS login on SQLite)
    Column("workstation_user", Text),
    Column("db_role", Text),
)
Index("ix_decisions_message", decisions.c.message_key)

# migration 0015: the version of each decided target, counted up by every decision stored on
# it (workbench.cache.decisions.take_version): two buyers deciding the same requisition or PO
# line from the version they saw, the second gets a conflict, never a lost update
decision_versions = Table(
    "decision_versions",
    metadata,
    Column("target_kind", Text, primary_key=True),
    Column("target", Text, primary_key=True),
    Column("version", Integer, nullable=False, server_default="0"),
    Column("decision", Integer, ForeignKey("decisions.id")),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("decision", Integer, ForeignKey("decisions.id"), nullable=False),
    Column("connector", Text, nullable=False),
    Column("idempotency_key", Text, nullable=False, unique=True),
    Column("payload", Text, nullable=False),  # JSON
    Column("state", Text, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", Text),
    Column("last_error", Text),
    Column("result_version", Text),
    Column("conflict", Text),  # JSON: ours and theirs
    Column("created_at", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
    # migration 0015: the worker sending it (workbench.cache.outbox claims) and until when
    Column("claimed_by", Text),
    Column("claimed_at", Text),
    Column("lease_until", Text),
)
Index("ix_outbox_state", outbox.c.state)

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("target", Text),
    Column("outbox", Integer),
    Column("result", Text),
    Column("detail", Text),  # JSON
    # migration 0015: the workstation's OS login and the database role, beside actor
    Column("workstation_user", Text),
    Column("db_role", Text),
)

sync_context = Table(
    "sync_context",
    metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text),
)

# migrations 0004/0005: one row (id 1) whose stamp a trigger on every entity table draws again
# at the first row written after the stamp was observed (``observed`` = 1, set by whoever reads
# it to snapshot the planning frames), in the writing transaction; the planning frame snapshot
# is valid only while its stamp equals this one (see workbench.cache.snapshot)
entity_stamp = Table(
    "entity_stamp",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("stamp", Integer, nullable=False),
    Column("observed", Integer, nullable=False, server_default="1"),
)
#: What a writer inserting entity rows runs after each statement that wrote some, in the same
#: transaction (inserts have no trigger: see migration 0005); a no-op until the stamp was
#: observed again.
NEW_STAMP = "UPDATE entity_stamp SET stamp = random(), observed = 0 WHERE id = 1 AND observed = 1"
