"""PO line fields a supplier's EDI message set, held against a later sync of the line's source.

The rule (docs/edi.md, "A message's values and the next sync of the line's source"): **per
field, the newer information wins**. A message (acknowledgement, ship notice) that sets a field
of a PO line — :data:`HELD`: promised date, acknowledgement status and date, the line's status
*acknowledged*, ship-notice quantity and date — records a hold (table ``edi_field_holds``,
migration 0009) with the value the field had before the first message set it: the source's
value. A later sync of the line's own source (ERP, data package, demo plant) then:

* sends that same value for the field: the source has recorded nothing new since the message,
  so the message's value stays (the sync writes the held value instead: the row does not differ,
  nothing is rewritten, the promise history gets no spurious change);
* sends another value: the source itself recorded something newer; its value wins and the hold
  of that field ends (the other held fields of the line stay held);
* does not carry the field (a partial batch, ``Batch.fields``): the cached value stays anyway,
  and so does the hold.

A message applied while a hold exists keeps the hold's source value (the cached value is the
earlier message's, not the source's) and replaces its message value; a message after the source
won holds against the source's new value.

Values compare as the cache stores them: dates as ISO text, enums as their value, quantities
(stock unit) within :data:`EPS`.

:func:`hold` is called by :mod:`workbench.cache.edi` while a message's line is applied;
:func:`load` and :func:`keep_held` by the sync's entity writer (:mod:`workbench.cache.upsert`);
:func:`release` after its upsert.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from workbench.cache import dialect

#: the columns of ``purchase_order_lines`` a supplier message sets
HELD = (
    "promised_date",
    "ack_status",
    "ack_date",
    "status",
    "asn_quantity",
    "orig_asn_quantity",
    "asn_date",
)
#: the model field a held column belongs to (what ``Batch.fields`` names)
FIELD_OF = {c: ("asn_quantity" if c == "orig_asn_quantity" else c) for c in HELD}
EPS = 1e-9

#: (purchase order, line) -> column -> (source value, message value)
Holds = dict[tuple[str, int], dict[str, tuple[Any, Any]]]


def hold(
    cur: sqlite3.Cursor,
    purchase_order: str,
    line: int,
    values: Mapping[str, Any],
    message: int,
    held_at: str,
) -> None:
    """Hold the columns ``values`` (column -> the value the message sets) of the live line,
    before the caller writes them: a new hold records the column's current value as the
    source's; an existing one keeps its source value and takes the new message value."""
    columns = [c for c in values if c in HELD]
    if not columns:
        return
    pg = dialect.is_postgres_cursor(cur)  # PostgreSQL: the values as jsonb (number or text)
    cur.execute(
        _hold_sql(tuple(columns), pg),
        (message, held_at,
         *(v for c in columns for v in (c, json.dumps(stored(values[c])) if pg else stored(values[c]))),
         purchase_order, line),
    )


@functools.lru_cache(maxsize=64)
def _hold_sql(columns: tuple[str, ...], pg: bool = False) -> str:
    """One statement per line: the line's current values of ``columns`` beside the message's
    (a VALUES list of (column, message value)) into the holds (the driver caches it). On
    PostgreSQL the two values are jsonb (SQLite's untyped columns keep a number a number)."""
    current = " ".join(f"WHEN '{c}' THEN {f'to_jsonb(p.{c})' if pg else f'p.{c}'}" for c in columns)
    pairs = ", ".join("(?, CAST(? AS jsonb))" if pg else "(?, ?)" for _ in columns)
    return (
        "INSERT INTO edi_field_holds (purchase_order, line, field, source_value, edi_value, "
        f"message, held_at) SELECT p.purchase_order, p.line, v.column1, CASE v.column1 {current} "
        f"END, v.column2, ?, ? FROM purchase_order_lines p, (VALUES {pairs}) v "
        "WHERE p.purchase_order = ? AND p.line = ? AND p.deleted_at IS NULL "
        "ON CONFLICT (purchase_order, line, field) DO UPDATE SET edi_value = excluded.edi_value, "
        "message = excluded.message, held_at = excluded.held_at"
    )


def load(cur: sqlite3.Cursor) -> Holds:
    """Every hold, by PO line (usually a few hundred rows at most: read once per sync)."""
    out: Holds = {}
    for po, line, column, source_value, edi_value in cur.execute(
        "SELECT purchase_order, line, field, source_value, edi_value FROM edi_field_holds"
    ):
        out.setdefault((po, int(line)), {})[column] = (source_value, edi_value)
    return out


def release(cur: sqlite3.Cursor, ended: Iterable[tuple[str, int, str]]) -> None:
    """End the holds (purchase order, line, column) whose source recorded a newer value."""
    cur.executemany(
        "DELETE FROM edi_field_holds WHERE purchase_order = ? AND line = ? AND field = ?",
        list(ended),
    )


def stored(value: Any) -> Any:
    """A value as the cache stores it (dates ISO text, enums their value)."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def same(a: Any, b: Any) -> bool:
    a, b = stored(a), stored(b)
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool):
        return abs(a - b) <= EPS * max(1.0, abs(a), abs(b))
    return bool(a == b)


def keep_held(
    rows: list[tuple[Any, ...]],
    columns: Sequence[str],
    holds: Holds,
    written: frozenset[str] | None,
) -> tuple[list[tuple[Any, ...]], list[tuple[str, int, str]]]:
    """Apply the rule to a batch of ``purchase_order_lines`` rows laid out as ``columns``: a
    held column whose incoming value is the hold's source value takes the message's value; one
    with another value keeps it and its hold is returned as ended. ``written``: the fields the
    batch carries (None: all); a column it does not carry is left alone. The ended holds are
    dropped from ``holds`` as well."""
    if not holds:
        return rows, []
    po_at, line_at = columns.index("purchase_order"), columns.index("line")
    at = {
        c: columns.index(c)
        for c in HELD
        if c in columns and (written is None or FIELD_OF[c] in written)
    }
    ended: list[tuple[str, int, str]] = []
    out = rows
    for i, row in enumerate(rows):
        held = holds.get((row[po_at], row[line_at]))
        if not held:
            continue
        new = list(row)
        for column, (source_value, edi_value) in held.items():
            if column not in at:
                continue
            if same(row[at[column]], source_value):
                new[at[column]] = edi_value
            else:
                ended.append((row[po_at], row[line_at], column))
        if out is rows:
            out = list(rows)
        out[i] = tuple(new)
    for po, line, column in ended:  # a later batch of the run sees them ended too
        holds[(po, line)].pop(column, None)
    return out, ended
