"""What the EDI inbox view and a PO line's promise history read beside the message archive.

The archive rows themselves come from :func:`workbench.cache.edi.messages` (through
:func:`workbench.services.edi.list_messages`); this module adds the names a buyer reads beside
the codes (supplier names) and, for one PO line, its promise history with where each change
came from: the message (file, control number, type) for rows of origin ``edi`` — their
``source_key`` is ``edi_messages:<archive id>/<message ref>`` — and the sync run otherwise.
Plain rows, no pandas: :mod:`workbench.app` shapes them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Engine

#: ``source_key`` prefix of a promise-history row written by an EDI message
EDI_KEY_PREFIX = "edi_messages:"


def _placeholders(n: int) -> str:
    return ", ".join("?" * n)


def supplier_names(engine: Engine, codes: Iterable[str]) -> dict[str, str]:
    """Supplier code -> name (live suppliers with a name; others are left out)."""
    wanted = sorted({c for c in codes if c})
    if not wanted:
        return {}
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            f"SELECT code, name FROM suppliers WHERE code IN ({_placeholders(len(wanted))}) "
            "AND deleted_at IS NULL AND coalesce(name, '') <> ''", tuple(wanted))
        return {str(code): str(name) for code, name in rows}


def po_line_facts(engine: Engine, purchase_order: str, line: int) -> dict[str, Any] | None:
    """The PO line's item, its description, supplier and supplier name, ordered quantity in the
    stock unit, stock unit, requested and promised dates, acknowledgement status (None when
    there is no live line)."""
    with engine.connect() as conn:
        row = conn.exec_driver_sql(
            "SELECT p.item, coalesce(i.description, ''), p.supplier, coalesce(s.name, ''), "
            "p.quantity_ordered, coalesce(i.stock_uom, ''), p.requested_date, p.promised_date, "
            "coalesce(p.ack_status, '') "
            "FROM purchase_order_lines p LEFT JOIN items i ON i.code = p.item "
            "LEFT JOIN suppliers s ON s.code = p.supplier "
            "WHERE p.purchase_order = ? AND p.line = ? AND p.deleted_at IS NULL",
            (purchase_order, int(line))).first()
    if row is None:
        return None
    keys = ("item", "description", "supplier", "supplier_name", "quantity_ordered", "stock_uom",
            "requested_date", "promised_date", "ack_status")
    return dict(zip(keys, row))


def promise_changes_of_line(engine: Engine, purchase_order: str, line: int) -> list[dict[str, Any]]:
    """The line's live promise-history rows, oldest first: ``purchase_order``, ``line``,
    ``changed_at``, ``promised_date``, ``quantity_ordered``, ``origin`` (``source``,
    ``observed``, ``edi``), ``source``, ``source_key``, ``sync_run``; with the sync run's
    ``run_connector`` and ``run_started_at`` ("" without a run)."""
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT c.purchase_order, c.line, c.changed_at, c.promised_date, c.quantity_ordered, "
            "coalesce(c.origin, 'source'), coalesce(c.source, ''), coalesce(c.source_key, ''), "
            "c.sync_run, coalesce(r.connector, ''), coalesce(r.started_at, '') "
            "FROM promise_changes c LEFT JOIN sync_runs r ON r.id = c.sync_run "
            "WHERE c.purchase_order = ? AND c.line = ? AND c.deleted_at IS NULL "
            "ORDER BY c.changed_at", (purchase_order, int(line))).all()
    keys = ("purchase_order", "line", "changed_at", "promised_date", "quantity_ordered", "origin",
            "source", "source_key", "sync_run", "run_connector", "run_started_at")
    return [dict(zip(keys, r)) for r in rows]


def messages_by_id(engine: Engine, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Archive id -> ``file``, ``message_type``, ``version``, ``standard``, ``control_ref``,
    ``document_number``, ``sender``, ``supplier``, ``outcome`` ("" for what is unknown)."""
    wanted = sorted({int(i) for i in ids})
    if not wanted:
        return {}
    keys = ("file", "message_type", "version", "standard", "control_ref", "document_number",
            "sender", "supplier", "outcome")
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            f"SELECT id, {', '.join(f'coalesce({k}, {chr(39) * 2})' for k in keys)} "
            f"FROM edi_messages WHERE id IN ({_placeholders(len(wanted))})", tuple(wanted)).all()
    return {int(r[0]): dict(zip(keys, r[1:])) for r in rows}
