"""Screenshots of every panel on the demo plant: ``python -m tools.screenshots [--out DIR]
[--size 1600x1000]``.

Starts the app offscreen on a fresh small-demo cache (in a temporary folder, no site profile
of this machine read), runs a requisition re-evaluation, records two decisions so Approvals and
the outbox have something to show and syncs the demo a week later so Sync shows what a sync
changed, then opens each panel, does what a planner would do there first (select a shortage, ask
where an item is used, compute a revision impact, open a run's changed PO lines) and saves
``<out>/<n>-<panel>.png`` at ``--size`` (default 1600×1000; the 1280×720 check of the key
columns is tests/ui/test_readable_screens.py).
"""

from __future__ import annotations

import argparse
import functools
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SIZE = (1600, 1000)


def _size(text: str) -> tuple[int, int]:
    width, _, height = text.lower().partition("x")
    return int(width), int(height)


def _prepare(cache: Path) -> None:
    """Load the demo, re-evaluate the requisitions and record two decisions (services only)."""
    from workbench.app.sync import load_demo
    from workbench.cache.db import open_cache
    from workbench.services.decisions import record_decision
    from workbench.services.planning import open_session
    from workbench.services.reevaluate import run_reevaluation
    from workbench.services.tasks import SimpleState

    engine = open_cache(cache)
    try:
        load_demo(engine, SimpleState())
        _week_later(engine)
        try:
            result = run_reevaluation(engine, open_session(engine))
        except Exception as exc:  # noqa: BLE001 - a screenshot run still shows the other panels
            print(f"re-evaluation failed, Approvals will be empty: {exc}", file=sys.stderr)
            return
        recs = [r for r in result["recommendations"] if r["action"] != "keep"][:2]
        with engine.connect() as conn:
            ids: dict[str, int] = dict(conn.exec_driver_sql(
                "SELECT requisition, id FROM recommendations WHERE status = 'open'").all())
        for rec in recs:
            record_decision(engine, rec["requisition"], "approve", decided_by="demo buyer",
                            recommendation=ids[rec["requisition"]])
    finally:
        engine.dispose()


def _week_later(engine: Any) -> None:
    """The demo a week later (promises slipped, stock moved): Sync shows what that run changed."""
    from workbench.app.sync import demo_source, sync_sources
    from workbench.services.tasks import SimpleState

    sync_sources(engine, [demo_source(day=7)], SimpleState())


def _settle(app: Any, window: Any, seconds: float = 1.0, timeout: float = 120.0) -> None:
    """Process events until no background work runs (and at least ``seconds``)."""
    from workbench.ui.operations import Op

    start = time.monotonic()
    while time.monotonic() - start < timeout:
        app.processEvents()
        panel = window.current_panel
        busy = Op.running() or (panel is not None and panel.is_loading)
        if not busy and time.monotonic() - start > seconds:
            break
        time.sleep(0.02)
    for _ in range(10):
        app.processEvents()
        time.sleep(0.02)


def demo_window(prefix: str, size: tuple[int, int]) -> tuple[Any, Any]:
    """The application and a main window on a fresh small demo cache in a temporary folder,
    shown offscreen at ``size`` and settled."""
    from workbench.ui.app import build_context, make_application

    app = make_application(offscreen=True)
    from PySide6.QtCore import QSettings

    from workbench.app.sync import DEMO_SOURCE
    from workbench.services.settings import Settings, save_settings
    from workbench.ui.mainwindow import MainWindow

    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    import os

    os.environ["PWB_SITE_PROFILE"] = str(tmp / "no-site-profile.toml")  # this machine's: not ours
    cache = tmp / "demo.sqlite"
    _prepare(cache)
    save_settings(Settings(user="demo buyer", sources=[DEMO_SOURCE]), tmp / "settings.json")
    ctx = build_context(cache, tmp / "settings.json", tmp / "ui.json")
    window = MainWindow(ctx, qsettings=QSettings(str(tmp / "w.ini"), QSettings.Format.IniFormat))
    window.resize(*size)
    window.show()
    _settle(app, window, 2.0)
    return app, window


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    ap.add_argument("--size", type=_size, default=SIZE, help="window size, e.g. 1280x720")
    args = ap.parse_args(argv)
    app, window = demo_window("pwb-screens-", args.size)
    ctx = window.ctx
    args.out.mkdir(parents=True, exist_ok=True)

    def first_shortage(p: Any) -> None:
        p.table.select_row(0)

    def where_used(p: Any) -> None:
        parent = _draft_parent(ctx.engine)
        component = _first_component(ctx.engine, parent)
        p.focus_on(component)
        _settle(app, window)
        p.set_parent(parent)
        _settle(app, window)
        p.compute_impact()
        p.tabs.setCurrentIndex(p.tabs.count() - 1)  # the plan before vs after, week by week

    def items(p: Any) -> None:
        p.focus_on(_draft_parent(ctx.engine))
        _settle(app, window)
        p.bom.tabs.setCurrentIndex(0)

    def items_diff(p: Any) -> None:
        p.bom.tabs.setCurrentIndex(1)

    def outbox(p: Any) -> None:
        p.tabs.setCurrentIndex(1)

    def sync_changes(p: Any) -> None:
        p.tabs.setCurrentIndex(0)
        demo_run = next(r for r in range(p.runs.model.rowCount())
                        if p.runs.model.value(r, "connector") == "demo")
        p.runs.select_row(demo_run)
        _settle(app, window)
        p.changes.select_key("purchase_order_lines")

    def first_message(p: Any) -> None:
        p.queue.select_row(0)

    steps: list[tuple[str, str, Callable[[Any], None] | None]] = [
        ("overview", "overview", None),
        ("items", "items-bom", items),
        ("items", "items-revision-diff", items_diff),
        ("whereused", "whereused-impact", where_used),
        ("shortages", "shortages", first_shortage),
        ("suppliers", "suppliers", None),
        ("approvals", "approvals", None),
        ("sync", "sync", sync_changes),
        ("sync", "outbox", outbox),
        ("settings", "settings", lambda p: p.sources.select_row(0)),
        ("exceptions", "exceptions", first_message),
    ]
    for n, (panel_name, label, action) in enumerate(steps, start=1):
        panel = window.go_to(panel_name)
        _settle(app, window)
        if action is not None:
            action(panel)
            _settle(app, window, 1.5)
        path = args.out / f"{n:02d}-{label}.png"
        window.grab().save(str(path))
        print(path)
    window.close()
    ctx.engine.dispose()
    return 0


@functools.cache
def _draft_parent(engine: Any) -> str:
    """The parent of a draft revision whose impact shows something (excess, new requirements,
    re-planned rows), on the date the panel proposes; the first draft parent if none does."""
    import pandas as pd

    from workbench.cache.frames import read_entity_frame
    from workbench.services import planning

    session = planning.open_session(engine)
    today = session.today
    revs = read_entity_frame(engine, "bom_revisions").sort_values(["parent", "revision"])
    released = revs[revs["status"] == "released"].groupby("parent")["revision"].first()
    drafts = revs[(revs["status"] == "draft") & revs["parent"].isin(released.index)]
    best, score = str(drafts["parent"].iloc[0]), 0
    for d in drafts.itertuples():
        on = today if pd.isna(d.effective_from) else max(d.effective_from.date(), today)
        answer = planning.impact(session, d.parent, released[d.parent], d.revision, on=on)
        found = len(answer.excess) + len(answer.new_requirements) + len(answer.affected_rows)
        if found > score:
            best, score = str(d.parent), found
    return best


def _first_component(engine: Any, parent: str) -> str:
    with engine.connect() as conn:
        return str(conn.exec_driver_sql(
            "SELECT component FROM bom_lines WHERE parent = ? AND component LIKE 'RM-%' "
            "ORDER BY position LIMIT 1", (parent,)).scalar_one())


if __name__ == "__main__":
    raise SystemExit(main())
