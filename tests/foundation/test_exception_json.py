"""The endangered demands kept as columns (:class:`workbench.analysis.exceptions.Endangered`)
give the same lists and the same cache JSON as the dicts the message frame held before: by
hand on a few entries, and on every message of the medium demo (the payload text written
straight from the columns against the one written from the listed dicts, byte for byte)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.analysis.exceptions import Endangered, ExceptionList, compute_exceptions
from workbench.analysis.exceptions.listing import day_dates
from workbench.cache.db import open_cache
from workbench.domain.enums import SyncRunStatus
from workbench.services.exceptions import message_rows, site_names
from workbench.services.planning import open_session, plain
from workbench.services.sources import demo_connector
from workbench.services.sync import run_sync


def _day(date: dt.date) -> int:
    return int(np.datetime64(date, "D").astype(np.int64))


def test_columns_give_the_lists_and_their_json_by_hand() -> None:
    # entries: SO-1 (2026-12-21, 2015.76), "Ä\"1" (no date, 0.1), WO (2027-01-04, 3.0);
    # message 0 and 2 share entries 0-1 (one receipt), message 1 none, message 3 entry 2
    names = np.array(["SO-1", 'Ä"1', "work_order:W1"], dtype=object)
    columns = Endangered(
        start=np.array([0, 0, 0, 2]), stop=np.array([2, 0, 2, 3]), names=names,
        peg=np.array([0, 1, 2]),
        day=np.array([_day(dt.date(2026, 12, 21)), -(10**12), _day(dt.date(2027, 1, 4))]),
        quantity=np.array([2015.76, 0.1, 3.0]))
    assert day_dates(columns.day[:1])[0] == dt.date(2026, 12, 21)
    first = [{"peg": "SO-1", "due_date": dt.date(2026, 12, 21), "quantity": 2015.76},
             {"peg": 'Ä"1', "due_date": None, "quantity": 0.1}]
    last = [{"peg": "work_order:W1", "due_date": dt.date(2027, 1, 4), "quantity": 3.0}]
    assert columns.lists() == [first, [], first, last]
    assert [columns[i] for i in range(4)] == [first, [], first, last]
    want = ['"endangers": [{"peg": "SO-1", "due_date": "2026-12-21", "quantity": 2015.76}, '
            '{"peg": "\\u00c4\\"1", "due_date": null, "quantity": 0.1}]',
            '"endangers": []',
            '"endangers": [{"peg": "SO-1", "due_date": "2026-12-21", "quantity": 2015.76}, '
            '{"peg": "\\u00c4\\"1", "due_date": null, "quantity": 0.1}]',
            '"endangers": [{"peg": "work_order:W1", "due_date": "2027-01-04", '
            '"quantity": 3.0}]']
    assert columns.json_texts() == want
    # what json.dumps(plain(...)) writes of the lists
    assert ['"endangers": ' + json.dumps(plain(x), default=str) for x in columns.lists()] == want
    # in the frame's order after a sort; the frame's column listed on first read
    frame = pd.DataFrame({"kind": ["a", "b", "c", "d"], "endangers": [None] * 4})
    result = ExceptionList(dt.date(2026, 12, 7), frame, columns.take(np.array([3, 1, 0, 2])))
    assert result.frame["endangers"].isna().all()
    assert result.counts() == {"a": 1, "b": 1, "c": 1, "d": 1}
    assert result.frame["endangers"].isna().all()  # counting did not list them
    assert result.messages["endangers"].tolist() == [last, [], first, first]


@pytest.mark.slow
def test_medium_demo_cache_json_is_byte_identical(tmp_path: Path) -> None:
    engine = open_cache(tmp_path / "medium.sqlite")
    assert run_sync(engine, demo_connector(scale="medium", day=0)).status == \
        SyncRunStatus.SUCCEEDED
    session = open_session(engine)
    result = compute_exceptions(session.data, session.plan(), site_names=site_names(engine))
    assert result.endangered is not None
    straight = message_rows(result)  # from the columns
    listed = ExceptionList(result.planning_day, result.messages.copy())  # dicts, as before
    assert listed.endangered is None
    assert sum(1 for x in listed.messages["endangers"] if x) > 10_000
    before = message_rows(listed)
    assert len(straight) == len(before) > 20_000
    differ = [a["message_key"] for a, b in zip(straight, before) if a != b]
    assert not differ, differ[:5]
    assert "".join(r["payload"] for r in straight) == "".join(r["payload"] for r in before)
