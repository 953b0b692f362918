"""Read models: what the screens and the CLI read of decisions, the outbox and the cache's state.

Each function is one query on the cache, returning a documented frame or plain rows; the
services and :mod:`workbench.app` shape them for a screen. pandas is imported only by the
functions that build frames: the status reads run at start-up, before pandas is loaded.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from workbench.cache import dialect
from workbench.cache.schema import ENTITY_TABLES
from workbench.domain.enums import OutboxState

if TYPE_CHECKING:
    import pandas as pd


def query_frame(engine: Engine, sql: str, params: tuple[Any, ...] = ()) -> pd.DataFrame:
    """Rows of ``sql`` as a DataFrame (raw cursor, as :mod:`workbench.cache.frames` does)."""
    import pandas as pd

    raw = engine.raw_connection()
    try:
        cur = dialect.cursor_of(raw)
        cur.execute(sql, params)
        columns = [d[0] for d in cur.description]
        rows = cur.fetchall()
        cur.close()
    finally:
        raw.close()
    return pd.DataFrame.from_records(rows, columns=columns)


def rows(engine: Engine, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    """Rows of ``sql`` as dicts, without pandas."""
    with engine.connect() as conn:
        return [dict(r) for r in conn.exec_driver_sql(sql, params).mappings()]


# --- decisions and advice -------------------------------------------------------------------


def open_recommendations(engine: Engine) -> pd.DataFrame:
    """Open recommendations with their live requisition, by requisition code. Columns: ``id``,
    ``requisition``, ``action``, ``proposed_quantity``, ``proposed_date``,
    ``proposed_supplier``, ``proposed_item``, ``reason``, ``evidence`` (JSON), ``run_at``; the
    requisition's ``item``, ``site``, ``buyer``, ``quantity``, ``need_date``,
    ``suggested_supplier``, ``status``; the item's ``description``."""
    return query_frame(engine, (
        "SELECT r.id, r.requisition, r.action, r.proposed_quantity, r.proposed_date, "
        "r.proposed_supplier, r.proposed_item, r.reason, r.evidence, r.run_at, "
        "q.item, q.site, q.buyer, q.quantity, q.need_date, q.suggested_supplier, q.status, "
        "i.description "
        "FROM recommendations r "
        "JOIN requisitions q ON q.code = r.requisition AND q.deleted_at IS NULL "
        "LEFT JOIN items i ON i.code = q.item "
        "WHERE r.status = 'open' ORDER BY r.requisition"
    ))


def decisions_frame(engine: Engine, requisition: str | None = None) -> pd.DataFrame:
    """Every decision (of ``requisition``, when given) with the state of its write-back, newest
    first: the history of decisions — who (``decided_by``), when (``decided_at``), what
    (``verdict``, ``action``, ``item``, ``quantity``, ``date``, ``supplier``) and why
    (``comment``), its ``base_version`` and ``recommendation``, with the advice decided on
    (``advice_action``, ``advice_quantity``, ``advice_date``, ``advice_reason``) and the
    write-back (``outbox``, ``outbox_state``, ``last_error``)."""
    where, params = ("WHERE d.requisition = ? ", (requisition,)) if requisition else ("", ())
    return query_frame(
        engine,
        (
            "SELECT d.id, d.requisition, d.verdict, d.action, d.item, d.quantity, d.date, "
            "d.supplier, "
            "d.comment, d.decided_by, d.decided_at, d.base_version, d.recommendation, "
            "r.action AS advice_action, r.proposed_quantity AS advice_quantity, "
            "r.proposed_date AS advice_date, r.reason AS advice_reason, "
            "o.id AS outbox, o.state AS outbox_state, o.last_error "
            "FROM decisions d LEFT JOIN outbox o ON o.decision = d.id "
            "LEFT JOIN recommendations r ON r.id = d.recommendation "
            f"{where}ORDER BY d.id DESC"
        ),
        params,
    )


def latest_decisions_on_advice(engine: Engine) -> pd.DataFrame:
    """Per requisition, its latest decision on a recommendation: ``id``, ``requisition``,
    ``verdict``, ``decided_action``, ``quantity``, ``date``, ``comment``, ``decided_by``,
    ``decided_at``, ``base_version``; the advice decided on (``action``, ``evidence`` JSON,
    ``proposed_quantity``) and the version its latest write-back produced
    (``result_version``)."""
    return query_frame(engine, (
        "SELECT d.id, d.requisition, d.verdict, d.action AS decided_action, d.quantity, d.date, "
        "d.comment, d.decided_by, d.decided_at, d.base_version, r.action, r.evidence, "
        "r.proposed_quantity, (SELECT o.result_version FROM outbox o WHERE o.decision = d.id "
        "ORDER BY o.id DESC LIMIT 1) AS result_version "
        "FROM decisions d JOIN recommendations r ON r.id = d.recommendation "
        "WHERE d.id = (SELECT MAX(d2.id) FROM decisions d2 WHERE d2.requisition = d.requisition "
        "AND d2.recommendation IS NOT NULL)"))


def unit_frames(engine: Engine) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Live units (``code``, ``category``) and unit conversions (``item``, ``from_uom``,
    ``to_uom``, ``factor``)."""
    uoms = query_frame(engine, "SELECT code, category FROM uoms WHERE deleted_at IS NULL")
    conversions = query_frame(engine, "SELECT item, from_uom, to_uom, factor FROM "
                              "uom_conversions WHERE deleted_at IS NULL")
    return uoms, conversions


def purchase_frames(engine: Engine) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Live PO lines (``purchase_order``, ``line``, ``item``, ``supplier``, ``orig_uom``) and
    items (``code``, ``stock_uom``): what the supplier packs are learnt from."""
    lines = query_frame(engine, "SELECT purchase_order, line, item, supplier, orig_uom "
                        "FROM purchase_order_lines WHERE deleted_at IS NULL")
    items = query_frame(engine, "SELECT code, stock_uom FROM items WHERE deleted_at IS NULL")
    return lines, items


# --- the outbox and its audit log -----------------------------------------------------------


def outbox_frame(engine: Engine) -> pd.DataFrame:
    """Every outbox entry with its decision (newest first). Columns: ``id``, ``state``,
    ``requisition``, ``action``, ``verdict``, ``connector``, ``attempts``,
    ``next_attempt_at``, ``updated_at``, ``last_error``, ``conflict`` (JSON: ours and
    theirs), ``result_version``, ``idempotency_key``, ``decided_by``, ``decided_at``,
    ``decision``."""
    return query_frame(
        engine,
        (
            "SELECT o.id, o.state, d.requisition, d.action, d.verdict, o.connector, o.attempts, "
            "o.next_attempt_at, o.updated_at, o.last_error, o.conflict, o.result_version, "
            "o.idempotency_key, d.decided_by, d.decided_at, o.decision "
            "FROM outbox o JOIN decisions d ON d.id = o.decision ORDER BY o.id DESC"
        ),
    )


def audit_frame(engine: Engine, outbox_id: int | None = None) -> pd.DataFrame:
    """The audit log (newest first), optionally of one outbox entry. Columns: ``id``, ``at``,
    ``actor``, ``action``, ``target``, ``outbox``, ``result``, ``detail`` (JSON)."""
    where, params = ("WHERE outbox = ?", (outbox_id,)) if outbox_id is not None else ("", ())
    return query_frame(
        engine,
        "SELECT id, at, actor, action, target, outbox, result, detail "
        f"FROM audit_events {where} ORDER BY id DESC",
        params,
    )


def cached_records(engine: Engine) -> dict[int, dict[str, Any]]:
    """For each entry in conflict, its requisition as the cache holds it, under the canonical
    names a conflict report uses (``code``, ``item``, ``quantity``, ``uom``, ``need_date``,
    ``suggested_supplier``, ``status``, ``version``): the state the analysis saw, until a sync
    brings the source's. The cache keeps quantities in the item's stock unit, so that is the
    unit shown."""
    with engine.connect() as conn:
        found = conn.exec_driver_sql(
            "SELECT o.id AS entry, q.code, q.item, q.quantity, i.stock_uom AS uom, q.need_date, "
            "q.suggested_supplier, q.status, q.source_version AS version "
            "FROM outbox o JOIN decisions d ON d.id = o.decision "
            "JOIN requisitions q ON q.code = d.requisition "
            "LEFT JOIN items i ON i.code = q.item WHERE o.state = ?",
            (OutboxState.CONFLICT.value,),
        ).mappings().all()
    out: dict[int, dict[str, Any]] = {}
    for row in found:
        record = {k: v for k, v in row.items() if k != "entry"}
        record["need_date"] = str(record["need_date"])[:10] if record["need_date"] else None
        out[int(row["entry"])] = record
    return out


# --- the cache's contents and freshness -----------------------------------------------------


def schema_version(engine: Engine) -> int:
    with engine.connect() as conn:
        return dialect.schema_version(conn)


def live_rows_by_source(engine: Engine) -> dict[str, dict[str, int]]:
    """entity -> source ("" when none) -> live rows, sources in name order (PostgreSQL's
    GROUP BY does not sort as SQLite's does: the order is asked for)."""
    out: dict[str, dict[str, int]] = {}
    with engine.connect() as conn:
        for entity in ENTITY_TABLES:
            found = conn.exec_driver_sql(
                f"SELECT source, count(*) FROM {entity} WHERE deleted_at IS NULL GROUP BY source "
                "ORDER BY coalesce(source, '')"
            ).all()
            out[entity] = {src or "": n for src, n in found}
    return out


def cache_is_empty(engine: Engine) -> bool:
    """True when no entity table holds a live row: one indexed probe per table, so it stays
    instant on the large plant (counting every row takes seconds there)."""
    probes = " OR ".join(f"EXISTS (SELECT 1 FROM {t} WHERE deleted_at IS NULL)"
                         for t in ENTITY_TABLES)
    with engine.connect() as conn:
        return not conn.exec_driver_sql(f"SELECT {probes}").scalar()


def sync_runs(engine: Engine, limit: int = 50) -> list[dict[str, Any]]:
    """The latest sync runs, newest first: ``id``, ``connector``, ``started_at``,
    ``finished_at``, ``status``, ``counts`` (JSON text), ``rejected``, ``duration_s``,
    ``error``."""
    return rows(engine, "SELECT id, connector, started_at, finished_at, status, counts, "
                        "rejected, duration_s, error FROM sync_runs ORDER BY id DESC LIMIT ?",
                (limit,))


def sync_rejections(engine: Engine, run_id: int) -> list[dict[str, Any]]:
    """The rows run ``run_id`` rejected: ``entity``, ``key``, ``field``, ``reason``, ``file``,
    ``row``."""
    return rows(engine, "SELECT entity, key, field, reason, file, row FROM sync_rejections "
                        "WHERE sync_run = ? ORDER BY id", (run_id,))


def open_advice_by_action(engine: Engine) -> dict[str, int]:
    """Open recommendations per action."""
    found = rows(engine, "SELECT action, count(*) AS n FROM recommendations "
                         "WHERE status = 'open' GROUP BY action ORDER BY action")
    return {str(r["action"]): int(r["n"]) for r in found}


def outbox_by_state(engine: Engine) -> dict[str, int]:
    """Outbox entries per state."""
    found = rows(engine, "SELECT state, count(*) AS n FROM outbox GROUP BY state")
    return {str(r["state"]): int(r["n"]) for r in found}


def source_freshness(engine: Engine) -> list[dict[str, Any]]:
    """Per connector: ``connector``, ``last_run_status``, ``last_run_at``, ``last_error``,
    ``last_success_at`` and ``runs`` — from the sync-run log only (no row counts)."""
    return rows(engine, (
        "SELECT s.connector, s.status AS last_run_status, s.finished_at AS last_run_at, "
        "s.error AS last_error, (SELECT max(finished_at) FROM sync_runs s2 WHERE "
        "s2.connector = s.connector AND s2.status IN ('succeeded', 'partial')) AS last_success_at, "
        "(SELECT count(*) FROM sync_runs s3 WHERE s3.connector = s.connector) AS runs "
        "FROM sync_runs s WHERE s.id IN (SELECT max(id) FROM sync_runs GROUP BY connector) "
        "ORDER BY s.connector"
    ))


# --- names beside codes ---------------------------------------------------------------------


def master_names(engine: Engine) -> tuple[list[tuple[str, str | None, str | None]],
                                          list[tuple[str, str | None]],
                                          list[tuple[str, str | None]]]:
    """Live items (``code``, ``description``, ``stock_uom``), suppliers and sites (``code``,
    ``name``): the names the screens show beside codes (workbench.app.names)."""
    with engine.connect() as conn:
        items = [tuple(r) for r in conn.exec_driver_sql(
            "SELECT code, description, stock_uom FROM items WHERE deleted_at IS NULL")]
        suppliers = [tuple(r) for r in conn.exec_driver_sql(
            "SELECT code, name FROM suppliers WHERE deleted_at IS NULL")]
        sites = [tuple(r) for r in conn.exec_driver_sql(
            "SELECT code, name FROM sites WHERE deleted_at IS NULL")]
    return items, suppliers, sites


def outbox_targets(engine: Engine) -> list[dict[str, Any]]:
    """What each outbox entry will do, read from its payload and the record it targets. Rows:
    ``id``, ``action``, ``target_kind`` (requisition | purchase_order_line), ``record`` (the
    requisition code or ``PO/line``), ``quantity`` and ``unit`` (a requisition: stock unit; a
    PO line: the line's own unit, as sent; a PO line's reschedule sends no quantity: the open
    quantity it moves), ``date`` (a PO line's reduce or cancel sends none: its promised
    date), ``supplier``, ``item``, ``site``. A target no longer in the cache leaves item, site
    and unit empty."""
    with engine.connect() as conn:
        entries = [dict(r) for r in conn.exec_driver_sql(
            "SELECT o.id, o.payload, d.requisition AS record, d.item AS decided_item "
            "FROM outbox o JOIN decisions d ON d.id = o.decision ORDER BY o.id DESC").mappings()]
        out = []
        for e in entries:
            payload = json.loads(e["payload"] or "{}")
            kind = str(payload.get("target_kind") or "requisition")
            record = str(e["record"] or "")
            row: dict[str, Any] = {
                "id": e["id"], "action": payload.get("action"), "target_kind": kind,
                "record": record, "quantity": payload.get("quantity"),
                "date": payload.get("date"), "supplier": payload.get("supplier"),
                "item": payload.get("item") or None, "site": None, "unit": None}
            if kind == "requisition":
                found = conn.exec_driver_sql(
                    "SELECT q.item, q.site, q.suggested_supplier, i.stock_uom FROM requisitions q "
                    "LEFT JOIN items i ON i.code = q.item WHERE q.code = ?", (record,)).first()
                if found is not None:
                    row["item"] = row["item"] or found[0]
                    row["site"], row["unit"] = found[1], found[3]
                    row["supplier"] = row["supplier"] or found[2]
            else:
                po, _, line = record.rpartition("/")
                found = conn.exec_driver_sql(
                    "SELECT l.item, l.site, l.supplier, coalesce(l.orig_uom, i.stock_uom), "
                    "l.promised_date, coalesce(l.orig_quantity_ordered, l.quantity_ordered) - "
                    "coalesce(l.orig_quantity_received, l.quantity_received, 0) "
                    "FROM purchase_order_lines l LEFT JOIN items i ON i.code = l.item "
                    "WHERE l.purchase_order = ? AND l.line = ?",
                    (po, int(line) if line.isdigit() else -1)).first()
                if found is not None:
                    row["item"], row["site"], row["supplier"], row["unit"] = found[:4]
                    row["date"] = row["date"] or found[4]
                    if row["quantity"] is None:  # a reschedule moves what is still to come
                        row["quantity"] = found[5]
            out.append(row)
    return out
