"""The cache side of supplier EDI messages (tables of migration 0007, PO line updates).

* :func:`load_facts`: what mapping a message needs (suppliers, item cross-references, stock
  units and conversions, live PO lines), read once per inbox sync.
* The archive table ``edi_messages``: one row per message file with its outcome
  (:data:`OUTCOMES`) and, when rejected, the reason (message, segment, element, expected).
* :func:`apply_lines`: a file's lines, each by :func:`apply_acknowledgement` /
  :func:`apply_shipment`: one line of a message onto its PO line, inside the caller's
  transaction; each refuses to roll a line back (returns False when a later message already
  spoke for that line / shipment). The PO line columns they set are held against a later sync
  of the line's own source (:mod:`workbench.cache.holds`).
* :func:`confirmation_mismatches`: lines whose latest acknowledgement rejects the line or
  confirms another quantity than ordered — the data the buyer's exception list reads.

Updates of ``purchase_order_lines`` fire the cache's own triggers (entity stamp, promise history
``observed`` row); the ``edi`` promise-history rows a file inserts are stamped with
:data:`workbench.cache.schema.NEW_STAMP` once, by :func:`apply_lines`.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from workbench.cache import dialect, holds
from workbench.domain.uom import UomConverter

OUTCOMES = ("applied", "duplicate", "superseded", "rejected")
#: a PO line in one of these statuses becomes ``acknowledged`` when the supplier confirms it
ACKNOWLEDGEABLE = ("draft", "pending_approval", "approved", "sent")
EPS = 1e-9


@dataclass(frozen=True)
class PoLineFacts:
    item: str
    supplier: str
    orig_uom: str | None
    status: str
    quantity_ordered: float
    received_date: str | None
    orig_factor: float  # orig_quantity_ordered / quantity_ordered (1 when unknown)


class _Lazy(Mapping[Any, Any]):
    """A read-through cache of one keyed lookup: a key is read (one indexed SELECT) the first
    time it is asked for, then remembered for the rest of the inbox sync — a sync that reads
    20,000 message lines touches a few thousand keys, not the 125,000 PO lines and 190,000
    cross-references of a large plant (reading all of them up front took 1.6 s)."""

    def __init__(self, facts: MappingFacts, sql: str, make: Callable[[tuple[Any, ...]], Any]
                 ) -> None:
        self._facts = facts
        self._sql = sql
        self._make = make
        self._known: dict[Any, Any] = {}

    def _read(self, key: Any) -> Any:
        params = key if isinstance(key, tuple) else (key,)
        cur = self._facts.cursor()
        try:
            rows = cur.execute(self._sql, params).fetchall()
        finally:
            cur.close()
        value = self._make(rows[0]) if rows else None
        self._known[key] = value
        return value

    def __getitem__(self, key: Any) -> Any:
        value = self._known[key] if key in self._known else self._read(key)
        if value is None:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        try:
            self[key]
        except (KeyError, TypeError, sqlite3.Error):
            return False
        return True

    def __iter__(self) -> Iterator[Any]:  # only what was read so far (never all of the table)
        return (k for k, v in list(self._known.items()) if v is not None)

    def __len__(self) -> int:
        return sum(1 for v in self._known.values() if v is not None)


def _po_line(row: tuple[Any, ...]) -> PoLineFacts:
    item, sup, ou, status, q, oq, rd = row
    factor = (oq / q) if q and oq else 1.0
    return PoLineFacts(item, sup, ou, status, float(q or 0), rd, factor)


class MappingFacts:
    """What mapping and applying a message read from the cache: the suppliers and unit
    conversions (read up front: small), the item cross-references (:attr:`xrefs`, read whole
    when first needed) and — read key by key when first asked for, then kept for the sync
    (:class:`_Lazy`) — item stock units and live PO lines ``(purchase order, line) ->``
    :class:`PoLineFacts`.

    The lazy lookups read through the connection given to :meth:`bind` (the file's
    transaction); the values are those of the cache when a key was first read (EDI changes
    none of them but a line's status, which :func:`apply_acknowledgement` only moves forward)."""

    def __init__(self, suppliers: set[str], converter: UomConverter) -> None:
        self.suppliers = suppliers
        self.converter = converter
        live = "deleted_at IS NULL"
        self._xrefs: dict[tuple[str, str], str] | None = None
        self.stock_uom: Mapping[str, str] = _Lazy(
            self, f"SELECT stock_uom FROM items WHERE code = ? AND {live}", lambda r: r[0])
        self.po_lines: Mapping[tuple[str, int], PoLineFacts] = _Lazy(
            self, "SELECT item, supplier, orig_uom, status, quantity_ordered, "
                  "orig_quantity_ordered, received_date FROM purchase_order_lines "
                  f"WHERE purchase_order = ? AND line = ? AND {live}", _po_line)
        self._conn: Connection | None = None

    @property
    def xrefs(self) -> dict[tuple[str, str], str]:
        """Item cross-references ``(system, external code) -> item``, all read at the first
        message line that sends a supplier's item number (there is no index by external code;
        messages that send our own numbers never read them)."""
        if self._xrefs is None:
            cur = self.cursor()
            try:
                self._xrefs = {(s, e): i for i, s, e in cur.execute(
                    "SELECT item, system, external_code FROM item_xrefs WHERE deleted_at IS NULL")}
            finally:
                cur.close()
        return self._xrefs

    def bind(self, conn: Connection) -> None:
        """Read what is not known yet through ``conn`` (until bound to another)."""
        self._conn = conn

    def cursor(self) -> sqlite3.Cursor:
        if self._conn is None:
            raise RuntimeError("MappingFacts used before bind(conn)")
        return line_cursor(self._conn)


def _rows(conn: Connection, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in conn.exec_driver_sql(sql, params)]


def load_facts(conn: Connection) -> MappingFacts:
    """The facts of an inbox sync, bound to ``conn`` (:meth:`MappingFacts.bind` another
    connection once this one is closed)."""
    live = "WHERE deleted_at IS NULL"
    suppliers = {r[0] for r in _rows(conn, f"SELECT code FROM suppliers {live}")}
    conv = UomConverter(known_units={r[0] for r in _rows(conn, f"SELECT code FROM uoms {live}")})
    for item, f, t, factor in _rows(
            conn, f"SELECT item, from_uom, to_uom, factor FROM uom_conversions {live}"):
        conv.add_conversion(item, f, t, factor)
    facts = MappingFacts(suppliers, conv)
    facts.bind(conn)
    return facts


# --- the archive ---------------------------------------------------------------------------

MESSAGE_COLUMNS = (
    "id", "source", "file", "archive_path", "sha256", "received_at", "standard", "version",
    "message_type", "sender", "supplier", "control_ref", "message_refs", "document_number",
    "document_time", "lines", "applied_lines", "outcome", "reason", "message_ref", "segment",
    "element", "expected", "duplicate_of", "processed_at", "replays",
)


def _driver(conn: Connection, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
    """``sql`` on the driver's cursor (the per-file statements: no SQLAlchemy per call)."""
    return line_cursor(conn).execute(sql, params)


@contextmanager
def file_savepoint(conn: Connection) -> Iterator[None]:
    """One message file inside the caller's transaction: everything it wrote, or — when the
    block raises — nothing of it (``ROLLBACK TO``), the transaction going on."""
    cur = line_cursor(conn)
    try:
        cur.execute("SAVEPOINT edi_file")
        try:
            yield
        except BaseException:
            cur.execute("ROLLBACK TO edi_file")
            cur.execute("RELEASE edi_file")
            raise
        cur.execute("RELEASE edi_file")
    finally:
        cur.close()


def insert_message(conn: Connection, values: dict[str, Any]) -> int:
    cols = [c for c in MESSAGE_COLUMNS if c in values and c != "id"]
    return dialect.insert_returning_id(
        line_cursor(conn),
        f"INSERT INTO edi_messages ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
        tuple(values[c] for c in cols))


def update_message(conn: Connection, message_id: int, values: dict[str, Any]) -> None:
    cols = [c for c in MESSAGE_COLUMNS if c in values and c != "id"]
    _driver(conn, f"UPDATE edi_messages SET {', '.join(f'{c} = ?' for c in cols)} WHERE id = ?",
            (*(values[c] for c in cols), message_id))


def messages(conn: Connection, *, rejected_only: bool = False,
             ids: list[int] | None = None) -> list[dict[str, Any]]:
    where, params = [], []
    if rejected_only:
        where.append("outcome = 'rejected'")
    if ids is not None:
        where.append(f"id IN ({', '.join('?' * len(ids))})")
        params.extend(ids)
    sql = f"SELECT {', '.join(MESSAGE_COLUMNS)} FROM edi_messages"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return [dict(zip(MESSAGE_COLUMNS, r)) for r in _rows(conn, sql + " ORDER BY id", tuple(params))]


def applied_copy(conn: Connection, sender: str, control_ref: str, exclude: int | None = None
                 ) -> int | None:
    """The message already taken (applied or superseded) with this sender and control number."""
    row = _driver(
        conn, "SELECT id FROM edi_messages WHERE sender = ? AND control_ref = ? "
        "AND outcome IN ('applied', 'superseded') AND id <> ? ORDER BY id LIMIT 1",
        (sender, control_ref, -1 if exclude is None else exclude)).fetchall()
    return int(row[0][0]) if row else None


def archived_sha(conn: Connection, sha: str, file: str) -> int | None:
    row = _driver(
        conn, "SELECT id FROM edi_messages WHERE sha256 = ? AND file = ? ORDER BY id LIMIT 1",
        (sha, file)).fetchall()
    return int(row[0][0]) if row else None


# --- applying lines --------------------------------------------------------------------------

def _iso(value: dt.date | dt.datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    return value.isoformat()


@dataclass(frozen=True)
class AckLine:
    purchase_order: str
    line: int
    message: int
    message_ref: str
    document_time: dt.datetime
    status: str
    action_code: str
    confirmed_quantity: float | None
    orig_quantity: float | None
    orig_uom: str
    promised_date: dt.date | None


def line_cursor(conn: Connection) -> sqlite3.Cursor:
    """The driver's cursor inside ``conn``'s transaction: the per-line statements below run on
    it directly (SQLAlchemy's per-statement overhead would be most of their cost)."""
    cursor: sqlite3.Cursor = dialect.raw_cursor(conn)  # PostgreSQL: the same, taking ?-SQL
    return cursor


def apply_lines(conn: Connection, lines: Sequence[AckLine | ShipLine], facts: MappingFacts,
                source: str, run_id: int | None) -> int:
    """Apply one file's lines inside ``conn``'s transaction (each onto the PO line its mapping
    found, :attr:`MappingFacts.po_lines`); how many changed their line (the others were older
    than a message applied before)."""
    applied = 0
    cur = line_cursor(conn)
    try:
        for ln in lines:
            pol = facts.po_lines[(ln.purchase_order, ln.line)]
            if isinstance(ln, AckLine):
                applied += apply_acknowledgement(cur, ln, pol, source, run_id)
            else:
                applied += apply_shipment(cur, ln, pol, run_id)
        if applied:
            cur.execute(dialect.new_stamp_sql(conn))  # the promise-history rows inserted (once per file)
    finally:
        cur.close()
    return applied


def apply_acknowledgement(cur: sqlite3.Cursor, ack: AckLine, facts: PoLineFacts, source: str,
                          run_id: int | None) -> bool:
    """The acknowledgement onto its PO line: ``ack_status`` (an acceptance of another quantity
    than ordered is ``changed``, as the model has no confirmed quantity of its own), ``ack_date``
    (the message date),
    ``promised_date`` (the confirmed delivery; a rejection keeps the promise), ``status``
    acknowledged when it was still before that; the promise history gets a row of origin
    ``edi`` at the message's time with the confirmed quantity. False (nothing written) when a
    later acknowledgement of the line was applied already."""
    when = _iso(ack.document_time)
    key = (ack.purchase_order, ack.line)
    rejected = ack.status == "rejected"
    status = ack.status
    if (status == "accepted" and ack.confirmed_quantity is not None
            and abs(ack.confirmed_quantity - facts.quantity_ordered) > EPS):
        status = "changed"  # accepting another quantity is a change, whatever the code said
    confirmed = 0.0 if rejected and ack.confirmed_quantity is None else ack.confirmed_quantity
    # the line's latest acknowledgement first: nothing is written (rowcount 0) when a later
    # one was applied already
    cur.execute(
        "INSERT INTO edi_acknowledgements (purchase_order, line, message, document_time, status, "
        "action_code, confirmed_quantity, orig_quantity, orig_uom, promised_date, ordered_quantity)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (purchase_order, line) DO UPDATE SET "
        "message = excluded.message, document_time = excluded.document_time, "
        "status = excluded.status, action_code = excluded.action_code, "
        "confirmed_quantity = excluded.confirmed_quantity, orig_quantity = excluded.orig_quantity,"
        " orig_uom = excluded.orig_uom, promised_date = excluded.promised_date, "
        "ordered_quantity = excluded.ordered_quantity "
        "WHERE edi_acknowledgements.document_time <= excluded.document_time",
        (*key, ack.message, when, status, ack.action_code, confirmed, ack.orig_quantity,
         ack.orig_uom, _iso(ack.promised_date), facts.quantity_ordered))
    if cur.rowcount == 0:
        return False
    sets: dict[str, Any] = {"ack_status": status, "ack_date": ack.document_time.date().isoformat()}
    if ack.promised_date is not None and not rejected:
        sets["promised_date"] = ack.promised_date.isoformat()
    if not rejected and facts.status in ACKNOWLEDGEABLE:
        sets["status"] = "acknowledged"
    _set_line(cur, key, sets, ack.message, when or "", run_id)
    if not rejected and ack.promised_date is not None:
        promised = ack.promised_date.isoformat()
        cur.execute(
            "INSERT INTO promise_changes (purchase_order, line, changed_at, promised_date, "
            "quantity_ordered, origin, source, source_key, sync_run) "
            "VALUES (?, ?, ?, ?, ?, 'edi', ?, ?, ?) ON CONFLICT (purchase_order, line, changed_at) "
            "DO UPDATE SET promised_date = excluded.promised_date, origin = 'edi', "
            "quantity_ordered = excluded.quantity_ordered, source = excluded.source, "
            "source_key = excluded.source_key, sync_run = excluded.sync_run, deleted_at = NULL",
            (*key, when, promised, confirmed, source, ack.message_ref, run_id))
    return True


@dataclass(frozen=True)
class ShipLine:
    purchase_order: str
    line: int
    shipment: str
    message: int
    document_time: dt.datetime
    shipped_quantity: float
    orig_quantity: float | None
    orig_uom: str
    ship_date: dt.date | None
    expected_date: dt.date


def apply_shipment(cur: sqlite3.Cursor, ship: ShipLine, facts: PoLineFacts,
                   run_id: int | None = None) -> bool:
    """The ship notice's line: kept per (PO line, shipment), a later notice of the same shipment
    replacing it; the PO line's ``asn_quantity`` becomes the sum shipped by its pending
    shipments (expected after the line's last receipt, if any) and ``asn_date`` the latest of
    their expected dates — the whole notified quantity is planned at the last arrival. False
    when a later notice of this shipment was applied already."""
    when = _iso(ship.document_time) or ""
    key = (ship.purchase_order, ship.line)
    cur.execute(
        "INSERT INTO edi_shipments (purchase_order, line, shipment, message, document_time, "
        "shipped_quantity, orig_quantity, orig_uom, ship_date, expected_date) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (purchase_order, line, shipment) "
        "DO UPDATE SET message = excluded.message, document_time = excluded.document_time, "
        "shipped_quantity = excluded.shipped_quantity, orig_quantity = excluded.orig_quantity, "
        "orig_uom = excluded.orig_uom, ship_date = excluded.ship_date, "
        "expected_date = excluded.expected_date "
        "WHERE edi_shipments.document_time <= excluded.document_time",
        (*key, ship.shipment, ship.message, when, ship.shipped_quantity, ship.orig_quantity,
         ship.orig_uom, _iso(ship.ship_date), ship.expected_date.isoformat()))
    if cur.rowcount == 0:  # a later notice of this shipment was applied already
        return False
    quantity, latest = cur.execute(
        "SELECT coalesce(sum(shipped_quantity), 0), max(expected_date) FROM edi_shipments "
        "WHERE purchase_order = ? AND line = ? AND expected_date > ?",
        (*key, facts.received_date or "")).fetchone()
    _set_line(cur, key, {"asn_quantity": float(quantity),
                         "orig_asn_quantity": float(quantity) * facts.orig_factor,
                         "asn_date": latest}, ship.message, when, run_id)
    return True


def _set_line(cur: sqlite3.Cursor, key: tuple[str, int], sets: dict[str, Any], message: int,
              when: str, run_id: int | None = None) -> None:
    """Set columns of the live PO line ``key`` from a message, holding them against a later
    sync of the line's source (:func:`workbench.cache.holds.hold`, before they change); the
    line carries the message's run in ``sync_run`` like a row a sync wrote (what that run
    changed: workbench/cache/sync_changes.py)."""
    holds.hold(cur, key[0], key[1], sets, message, when)
    if run_id is not None:
        sets = {**sets, "sync_run": run_id}
    cur.execute(
        f"UPDATE purchase_order_lines SET {', '.join(f'{c} = ?' for c in sets)} "
        "WHERE purchase_order = ? AND line = ? AND deleted_at IS NULL", (*sets.values(), *key))


# --- what the buyer reads ------------------------------------------------------------------

@dataclass(frozen=True)
class ConfirmationMismatch:
    """A PO line whose latest acknowledgement rejects it or confirms another quantity."""

    purchase_order: str
    line: int
    item: str
    supplier: str
    status: str  # the acknowledgement: rejected, changed, accepted
    quantity_ordered: float  # stock unit, as the cache holds it now
    confirmed_quantity: float  # stock unit (0 for a rejection that states none)
    promised_date: str | None
    requested_date: str | None
    message: int
    file: str
    document_number: str


def confirmation_mismatches(conn: Connection) -> list[ConfirmationMismatch]:
    rows = _rows(conn, """
        SELECT a.purchase_order, a.line, p.item, p.supplier, a.status, p.quantity_ordered,
               coalesce(a.confirmed_quantity, p.quantity_ordered), p.promised_date,
               p.requested_date, a.message, m.file, m.document_number
        FROM edi_acknowledgements a
        JOIN purchase_order_lines p ON p.purchase_order = a.purchase_order AND p.line = a.line
        JOIN edi_messages m ON m.id = a.message
        WHERE p.deleted_at IS NULL AND (a.status = 'rejected'
              OR abs(coalesce(a.confirmed_quantity, p.quantity_ordered) - p.quantity_ordered) > ?)
        ORDER BY a.purchase_order, a.line""", (EPS,))
    return [ConfirmationMismatch(po, int(ln), item, sup, st, float(q), float(c), pd, rd, int(mid),
                                 f, doc) for po, ln, item, sup, st, q, c, pd, rd, mid, f, doc in rows]
