"""The Exceptions list read from the list's columns (migration 0013), filters and limit in SQL,
equals the list built from every stored message's JSON (:func:`workbench.services.exceptions.
list_exceptions`, the CLI's) row for row, on the small demo with acknowledged, snoozed and
decided messages."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine

from workbench.app.exception_views import MESSAGE_COLUMNS, _row, exception_table
from workbench.app.sync import DEMO_SOURCE, sync_sources
from workbench.app.tables import TableData
from workbench.cache.db import open_cache
from workbench.services import exceptions as svc
from workbench.services.message_decisions import record_message_decision
from workbench.services.planning import open_session
from workbench.services.tasks import SimpleState


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    engine = open_cache(tmp_path_factory.mktemp("list") / "cache.sqlite")
    [result] = sync_sources(engine, [DEMO_SOURCE.model_copy(deep=True)], SimpleState())
    assert result.ok
    svc.refresh_exceptions(engine, open_session(engine))
    listed = svc.list_exceptions(engine)
    day = svc.current_day(engine)
    svc.acknowledge(engine, [listed[0].id, listed[1].id], "ana")
    svc.snooze(engine, [listed[2].id], day + dt.timedelta(days=3), "ana")
    e01 = next(m for m in listed if m.kind == "reschedule_in"
               and m.message["element_type"] == "purchase_order_line")
    record_message_decision(engine, e01.id, "reject", decided_by="bea")
    return engine


def _table_rows(table: TableData) -> list[dict[str, Any]]:
    """The table's cells as plain values (what the panel shows), row by row."""
    out = []
    for i in range(len(table)):
        row: dict[str, Any] = {}
        for c in MESSAGE_COLUMNS:
            v = table.arrays[c.name][i]
            if isinstance(v, np.datetime64):
                v = None if np.isnat(v) else str(v)
            elif isinstance(v, (float, np.floating)):
                v = None if np.isnan(v) else float(v)
            else:
                v = v.item() if isinstance(v, np.generic) else v
            row[c.name] = v
        out.append(row)
    return out


def _expected(engine: Engine, closed: bool) -> list[dict[str, Any]]:
    """The table as built before migration 0013: every message's JSON parsed."""
    found = svc.list_exceptions(engine, include_snoozed=closed, include_resolved=closed)
    frame = pd.DataFrame([_row(m) for m in found],
                         columns=[c.name for c in MESSAGE_COLUMNS] + ["tone"])
    return _table_rows(TableData.from_frame(frame, MESSAGE_COLUMNS, "id", tone="tone"))


def _shown(answer: Any) -> list[dict[str, Any]]:
    return _table_rows(answer.table)


@pytest.mark.parametrize("closed", [False, True])
def test_the_sql_list_equals_the_list_of_every_message(engine: Engine, closed: bool) -> None:
    want = _expected(engine, closed)
    answer = exception_table(engine, closed)
    got = _shown(answer)
    assert answer.rows == answer.total == len(want) > 20
    if closed:  # equal ages: the SQL orders the same rows, by code and element
        want.sort(key=lambda r: (-r["age_days"], r["kind_label"], r["element"]))
        got.sort(key=lambda r: (-r["age_days"], r["kind_label"], r["element"]))
    assert got == want


def test_filters_and_limit_in_sql_give_the_first_rows_of_the_filtered_list(
        engine: Engine) -> None:
    every = _expected(engine, False)
    for picker in ("role", "kind_label", "severity", "age_band", "state", "decision",
                   "planner", "buyer", "supplier_label", "site_label"):
        values = sorted({str(r[picker]) for r in every if r[picker]})
        for value in values[:3]:
            want = [r for r in every if r[picker] == value]
            answer = exception_table(engine, limit=5, filters={picker: value})
            assert answer.total == len(want), (picker, value)
            assert _shown(answer) == want[:5], (picker, value)
    both = {"role": "buyer", "kind_label": "E01 reschedule in"}
    want = [r for r in every if all(r[k] == v for k, v in both.items())]
    assert exception_table(engine, filters=both).total == len(want) > 0
