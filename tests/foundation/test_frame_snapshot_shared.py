"""Item codes (and the order codes lines refer to) loaded from the frame snapshot are one str
object per value across the frames (issue 16 §3: the large demo held 40 MiB of duplicates),
the frames still equal a fresh read of SQLite value for value."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine

from tests.foundation.test_frame_snapshot import (  # noqa: F401 - the fixtures
    WANTED,
    _assert_same_frames,
    _snapshotted,
    demo,
    demo_template,
)
from workbench.services import planning
from workbench.services.planning_data import SHARED_TEXT


def _objects(frame: pd.DataFrame, column: str) -> dict[str, int]:
    return {str(v): id(v) for v in frame[column].array}


def test_shared_columns_hold_one_object_per_value(demo: Engine) -> None:  # noqa: F811
    from_sqlite = _snapshotted(demo)
    loaded, _ = planning.read_planning_frames(demo, WANTED)  # from the snapshot now
    _assert_same_frames(loaded, from_sqlite)
    items = _objects(loaded["items"], "code")
    for entity, column in [("bom_lines", "component"), ("bom_lines", "parent"),
                           ("inventory", "item"), ("work_order_components", "component"),
                           ("bom_revisions", "parent"), ("demands", "item")]:
        mine = _objects(loaded[entity], column)
        assert mine, (entity, column)
        known = [code for code in mine if code in items]
        assert len(known) == len(mine), (entity, column)  # the demo's codes are all items
        assert all(mine[code] == items[code] for code in known), (entity, column)
    orders = _objects(loaded["work_orders"], "code")
    lines = _objects(loaded["work_order_components"], "work_order")
    assert lines and all(lines[c] == orders[c] for c in lines if c in orders)
    # revisions are not item codes: left alone
    assert ("bom_lines", "revision") not in SHARED_TEXT
