"""A stored plan whose ``sources.pickle`` (read on first use) is damaged (issue 16 review §2): a
truncated file is found when the plan is opened (its size is in ``meta.json``: the plan is made
in full), a file of the right size that does not unpickle has the sources collected from the
data when first used (and the stored plan removed); either way the session's exception
messages are a full plan's, never an UnpicklingError."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd

from tests.analysis.test_first_plan_lazy import _stored
from tests.analysis.test_first_plan_store import _assert_same_plan, _full_at
from workbench.analysis.exceptions import compute_exceptions
from workbench.cache import snapshot
from workbench.cache.db import open_cache
from workbench.services import plan_store
from workbench.services.plan_parts import sources_read
from workbench.services.planning_data import load_planning_data


def _sources_file(path: Path) -> Path:
    engine = open_cache(path)
    folder = plan_store.folder_of(engine)
    engine.dispose()
    assert folder is not None
    [stored] = [p for p in folder.iterdir() if p.name.startswith("s")]
    return stored / "sources.pickle"


def _messages(frame: pd.DataFrame) -> list[str]:
    return sorted(frame["key"].astype(str))


def _check_against_full(path: Path, day: dt.date, expect_how: str) -> Path:
    file = _sources_file(path)
    engine = open_cache(path)
    session = plan_store.open_planned_session(engine, today=day, store=False)
    assert session.how == expect_how
    got = compute_exceptions(session.data, session.plan()).messages
    assert sources_read(session.plan().sources)
    want_plan = _full_at(engine, day)
    want = compute_exceptions(load_planning_data(engine), want_plan).messages
    _assert_same_plan(session.plan(), want_plan)
    assert len(got) == len(want) > 0
    assert _messages(got) == _messages(want)
    assert snapshot.wait_for_writes(60)
    engine.dispose()
    return file


def test_a_truncated_sources_file_is_found_at_open_and_the_plan_made_in_full(
        template: Path, tmp_path: Path) -> None:
    path, day = _stored(template, tmp_path)
    file = _sources_file(path)
    meta = json.loads((file.parent / "meta.json").read_text())
    assert meta["apart_sizes"] == {"sources": file.stat().st_size}
    with open(file, "r+b") as fh:
        fh.truncate(file.stat().st_size // 2)
    _check_against_full(path, day, "full")


def test_a_sources_file_that_does_not_unpickle_is_collected_from_the_data(
        template: Path, tmp_path: Path) -> None:
    path, day = _stored(template, tmp_path)
    file = _sources_file(path)
    size = file.stat().st_size
    with open(file, "r+b") as fh:  # the size as written, the bytes not
        fh.write(b"\0" * 64)
    assert file.stat().st_size == size
    _check_against_full(path, day, "stored")
    assert not file.parent.exists()  # removed: a later process plans in full
