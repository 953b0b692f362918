"""The cache rows of computed messages (:func:`workbench.services.exceptions.message_rows`,
column by column) are the rows the message-by-message path made: a typed message per row,
``plain(asdict(message))`` dumped as the payload, the list's columns from it. Compared on
hand-made values (NaN, NaT, no endangers, text to escape, quantities to round) and on every
message of the small demo."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.analysis.exceptions import ExceptionList, compute_exceptions
from workbench.cache import exceptions as repo
from workbench.cache.db import open_cache
from workbench.domain.enums import SyncRunStatus
from workbench.services.exceptions import message_rows, site_names
from workbench.services.planning import open_session, plain
from workbench.services.sources import demo_connector
from workbench.services.sync import run_sync


def _one_by_one(result: ExceptionList) -> list[dict[str, Any]]:
    """The rows as compute_messages made them message by message (before message_rows)."""
    stored = []
    for m in result.typed():
        payload = plain(asdict(m))
        shown = {f: payload.get(f) for f in repo.LIST_FIELDS}
        for f in ("due_date", "need_date", "suggested_date"):
            shown[f] = None if shown[f] is None else str(shown[f])
        stored.append({"message_key": m.key, "kind": m.kind, "code": m.code,
                       "element": m.element, "item": m.item, "site": m.site,
                       "supplier": m.supplier, "role": m.role, "severity": m.severity,
                       "payload": json.dumps(payload, default=str), **shown})
    return stored


def _same(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert list(x) == list(y)  # same columns, same order
        assert x == y
        assert x["payload"] == y["payload"]  # the very same JSON text


def test_hand_made_values_give_the_same_rows() -> None:
    shared = {"peg": "SO-1", "due_date": dt.date(2026, 12, 21), "quantity": 2015.76}
    frame = pd.DataFrame({
        "key": ["reduce|PO-1/1", "cancel|PO-1/1", "data_problem|x"],
        "code": ["E04", "E03", "E15"], "kind": ["reduce", "cancel", "data_problem"],
        "severity": ["low", "medium", "high"], "role": ["buyer", "buyer", "data_steward"],
        "element": ["PO-1/1", "PO-1/1", "x"],
        "element_type": ["purchase_order_line", "purchase_order_line", "record"],
        "item": ["Ä-1", "Ä-1", np.nan], "site": ["P1", "P1", ""], "supplier": ["S1", "S1", ""],
        "due_date": np.array(["2026-12-09", "NaT", "2027-01-04"], "datetime64[s]"),
        "need_date": np.array(["NaT", "NaT", "2026-12-09"], "datetime64[s]"),
        "suggested_date": np.array(["2026-12-09", "NaT", "NaT"], "datetime64[s]"),
        "quantity": [0.1 + 0.2, -0.0, np.nan], "suggested_quantity": [1 / 3, 0.0, np.nan],
        "days": [68.0, np.nan, 2.5e-7],
        "reason": ['more than "needed"\nsee ½', "no need", "negative stock"],
        "endangers": [[shared, {"peg": "work_order:W", "due_date": None, "quantity": 1e-7}],
                      [shared, {"peg": "X", "due_date": None, "quantity": float("nan")},
                       {"peg": "Y", "quantity": 2.0}], None],
        "item_description": ["Müller nut", "Müller nut", ""], "unit": ["EA", "EA", ""],
        "planner": ["", "", ""], "buyer": ["B", "B", ""], "supplier_name": ["Ñ", "Ñ", ""],
        "site_name": ["", "", ""]})
    result = ExceptionList(dt.date(2026, 12, 7), frame)
    rows = message_rows(result)
    _same(rows, _one_by_one(result))
    assert json.loads(rows[0]["payload"])["quantity"] == 0.3  # rounded to 6 decimals
    assert rows[1]["due_date"] is None and rows[0]["due_date"] == "2026-12-09"


def test_every_message_of_the_small_demo_gives_the_same_row(tmp_path: Path) -> None:
    engine = open_cache(tmp_path / "cache.sqlite")
    assert run_sync(engine, demo_connector(scale="small", day=0)).status == \
        SyncRunStatus.SUCCEEDED
    session = open_session(engine)
    result = compute_exceptions(session.data, session.plan(), site_names=site_names(engine))
    assert len(result.messages) > 100
    _same(message_rows(result), _one_by_one(result))
