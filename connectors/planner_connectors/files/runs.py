"""An indented table's rows in runs, and columns picked at rows (for
:mod:`planner_connectors.files.indented`)."""

from __future__ import annotations

from collections.abc import Iterator
from operator import itemgetter
from typing import Any

from planner_connectors.files.tables import Table


def units(columns: Any, table: Table) -> Iterator[list[tuple[int, list[Any]]]]:
    """The table's rows in runs that each start at a level-0 row (after the first), as its
    blocks arrive: a run is read while the next blocks of the sheet are still being parsed
    (:mod:`planner_connectors.files.xlsx_parts`), and no BOM spans two runs, so reading run by
    run gives what reading the table at once gives (the state carries what was listed).
    ``columns``: the table's converters (``indented._Columns``), whose ``last_top`` finds a
    block's last level-0 row."""
    blocks = table.blocks if table.blocks is not None else iter([list(table.rows)])
    pending: list[tuple[int, list[Any]]] = []
    for block in blocks:
        if not block:
            continue
        cut = columns.last_top(block)
        if cut > 0 or (cut == 0 and pending):
            unit, pending = pending + block[:cut], block[cut:]
            if unit:
                yield unit
        else:
            pending += block
    if pending:
        yield pending


def picker(rows: list[int]) -> Any:
    """``column -> the values at rows``, at C speed (one value: itemgetter gives it bare)."""
    if not rows:
        return lambda column: []
    if len(rows) == 1:
        (only,) = rows
        return lambda column: [column[only]]
    get = itemgetter(*rows)
    return lambda column: list(get(column))


def constant(fixed: dict[str, Any], n: int) -> dict[str, list[Any]]:
    return {name: [value] * n for name, value in fixed.items()}
