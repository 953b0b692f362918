"""The application's planner process after a sync (issue 16 §1): it opens its plan from the plan
stored beside the cache, stores the plan it made for the next process, and after a sync made by
the writer process brings its plan up to date by net change — the answer equal, element by
element, to a full plan of the synced state. Real worker processes (ProcessRunner)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from workbench.app.ops import Changes, Outcome, command, planning_query
from workbench.app.runner import ProcessRunner
from workbench.cache import plan_store as plan_files
from workbench.cache import snapshot
from workbench.cache.db import open_cache
from workbench.services.settings import PlanningDefaults

#: the plan arrays compared (the matrices as plain arrays)
FIELDS = ("key", "level", "on_hand", "gross", "scheduled", "net", "planned")


@planning_query
def plan_state(session: Any) -> dict[str, Any]:
    """How the planner's session was made, its stamp and calendar, and its plan's arrays."""
    p = session.plan()
    out: dict[str, Any] = {"how": session.how, "stamp": session.stamp,
                           "calendar": session.calendar,
                           "items": list(p.items.codes), "sites": list(p.sites)}
    out.update({name: np.array(getattr(p, name)) for name in FIELDS})
    return out


@command
def sync_moved_promises(engine: Any, n: int) -> Outcome[int]:
    """A sync (in the writer process) of ``n`` PO lines promised a week later."""
    from tests.analysis.test_first_plan_store import _moved_promises
    from workbench.services.sync import run_sync

    result = run_sync(engine, _moved_promises(n))
    assert result.ok, result.error
    return Outcome(result.total("changed"), Changes(data=True))


def _wait_stored(cache: Path, timeout_s: float = 60.0) -> int:
    """The stamp of the plan the planner stored beside the cache once its frame snapshot is
    written too (a sync records its change only then)."""
    folder = plan_files.plan_folder(cache)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        stamps = plan_files.stored_stamps(folder)
        manifest = snapshot.snapshot_manifest(Path(f"{cache}.frames")) or {}
        if stamps and manifest.get("stamp") == stamps[0]:
            return stamps[0]
        time.sleep(0.05)
    raise AssertionError("the planner stored no plan beside the cache")


def _full(cache: Path, today: int) -> dict[str, Any]:
    """The reference: every frame from SQLite, prepared and planned in full in this process."""
    from workbench.analysis.calendar import Calendar
    from workbench.analysis.data import PLANNING_ENTITIES, PlanningData, date_of
    from workbench.analysis.netting import plan
    from workbench.services.planning_data import prepare_planning_data, read_planning_frames

    engine = open_cache(cache)
    try:  # no pending decision in this cache: nothing to overlay
        frames, _ = read_planning_frames(engine, list(PLANNING_ENTITIES), snapshot=False)
        data = prepare_planning_data(PlanningData(**frames))
        p = plan(data, Calendar.weekly(date_of(today), 26))
    finally:
        engine.dispose()
    out: dict[str, Any] = {"items": list(p.items.codes), "sites": list(p.sites)}
    out.update({name: np.array(getattr(p, name)) for name in FIELDS})
    return out


def _assert_same(got: dict[str, Any], want: dict[str, Any]) -> None:
    assert got["items"] == want["items"] and got["sites"] == want["sites"]
    assert len(want["key"]) > 100
    for name in FIELDS:
        a, b = got[name], want[name]
        assert a.shape == b.shape, name
        if a.dtype.kind == "f":
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-9, err_msg=name)
        else:
            np.testing.assert_array_equal(a, b, err_msg=name)


def test_the_planner_process_replans_after_a_sync_and_a_new_one_starts_from_the_stored_plan(
        cache_path: Path) -> None:
    defaults = PlanningDefaults(horizon_weeks=26)
    runner = ProcessRunner(cache_path, lambda: defaults)
    try:
        first = runner.run(plan_state)
        assert first["how"] == "full"  # nothing stored yet
        stamp = _wait_stored(cache_path)  # stored once the answer was sent
        assert stamp == first["stamp"]
        assert runner.run(sync_moved_promises, 5).value == 5  # the writer process
        assert runner.generation == 1
        after = runner.run(plan_state)
        assert after["how"] == "incremental"  # the same process, its plan replanned
        assert after["stamp"] != stamp and after["calendar"] == first["calendar"]
        want = _full(cache_path, first["calendar"].today)
        _assert_same(after, want)
        assert not np.array_equal(first["scheduled"], want["scheduled"])  # the sync moved it
        new_stamp = _wait_stored(cache_path)
        assert new_stamp == after["stamp"]  # the replanned plan stored for the next process
    finally:
        runner.shutdown()
    # a new planner process (the application opened again): the stored plan, as it was
    runner = ProcessRunner(cache_path, lambda: defaults)
    try:
        again = runner.run(plan_state)
        assert again["how"] == "stored" and again["stamp"] == new_stamp
        _assert_same(again, want)
    finally:
        runner.shutdown()
