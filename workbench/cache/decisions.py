"""Decisions and recommendations in the cache: the statements of the decision use cases.

:mod:`workbench.services.decisions` and :mod:`workbench.services.reevaluate` decide what to
write; this module writes it, inside the caller's transaction where a use case needs several
statements to hold together (a decision, its outbox entry and its audit event).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from workbench.cache.schema import ENTITY_TABLES, decisions, recommendations

#: advice that a new run replaces (decided advice is left alone)
REPLACEABLE = ("open", "held")
_CHUNK = 500  # requisition codes per IN (...) list


class DecisionStore:
    """Requisitions, recommendations and decisions, in the transaction of ``conn``."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def requisition(self, code: str) -> dict[str, Any] | None:
        """The cached requisition ``code`` (deleted ones too: ``deleted_at`` says so)."""
        table = ENTITY_TABLES["requisitions"]
        row = self.conn.execute(select(table).where(table.c.code == code)).mappings().first()
        return None if row is None else dict(row)

    def recommendation(self, rec_id: int) -> dict[str, Any] | None:
        row = self.conn.execute(
            select(recommendations).where(recommendations.c.id == rec_id)).mappings().first()
        return None if row is None else dict(row)

    def purchase_line(self, purchase_order: str, line: int) -> dict[str, Any] | None:
        """The cached PO line (deleted ones too: ``deleted_at`` says so)."""
        table = ENTITY_TABLES["purchase_order_lines"]
        row = self.conn.execute(select(table).where(
            table.c.purchase_order == purchase_order, table.c.line == line)).mappings().first()
        return None if row is None else dict(row)

    def work_order(self, code: str) -> dict[str, Any] | None:
        """The cached work order ``code`` (deleted ones too)."""
        table = ENTITY_TABLES["work_orders"]
        row = self.conn.execute(select(table).where(table.c.code == code)).mappings().first()
        return None if row is None else dict(row)

    def item_exists(self, code: str) -> bool:
        table = ENTITY_TABLES["items"]
        return self.conn.execute(select(table.c.code).where(table.c.code == code)).first() \
            is not None

    def add_decision(self, values: Mapping[str, Any]) -> int:
        """Insert a ``decisions`` row; its id."""
        new = self.conn.execute(insert(decisions).values(**values))
        return int(new.inserted_primary_key[0])  # type: ignore[index]

    def set_recommendation_status(self, rec_id: int, status: str) -> None:
        self.conn.execute(update(recommendations).where(recommendations.c.id == rec_id)
                          .values(status=status))

    def replace_advice(self, rows: list[dict[str, Any]]) -> int:
        """Supersede the open or held advice of the requisitions in ``rows``, then insert
        ``rows`` (one ``recommendations`` row each); the count inserted."""
        codes = [r["requisition"] for r in rows]
        for start in range(0, len(codes), _CHUNK):
            self.conn.execute(
                update(recommendations)
                .where(recommendations.c.requisition.in_(codes[start:start + _CHUNK]))
                .where(recommendations.c.status.in_(REPLACEABLE))
                .values(status="superseded"))
        if rows:
            self.conn.execute(insert(recommendations), rows)
        return len(rows)


def store_advice(engine: Engine, rows: Iterable[dict[str, Any]]) -> int:
    """:meth:`DecisionStore.replace_advice` in a transaction of its own."""
    with engine.begin() as conn:
        return DecisionStore(conn).replace_advice(list(rows))
