"""Open one panel alone for a look: ``python -m workbench.ui.panels.<name> [--cache PATH]``.

Without ``--cache`` the panel opens on a demo cache kept in the user cache directory (loaded on
first use, at ``--scale``), so a panel can be looked at without the rest of the application.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from workbench import APP_NAME

if TYPE_CHECKING:
    from workbench.ui.panels.base import Panel


def demo_preview_cache(scale: str) -> Path:
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)) / f"preview-{scale}.sqlite"


def ensure_demo(path: Path, scale: str) -> None:
    """Load the demo plant into ``path`` unless it already holds data."""
    from workbench.app.runner import InlineRunner
    from workbench.app.sync import demo_source, is_empty, load_source
    from workbench.cache.db import open_cache
    from workbench.services.tasks import SimpleState

    engine = open_cache(path)
    runner = InlineRunner(engine)
    try:
        if runner.run(is_empty):
            print(f"loading the {scale} demo into {path}…", file=sys.stderr)
            loaded = runner.run(load_source, demo_source(scale), state=SimpleState(echo=True))
            failed = [r for r in loaded.value.results if not r.ok]
            if failed:
                raise RuntimeError(failed[0].error or "the demo plant could not be loaded")
    finally:
        engine.dispose()


def preview(panel_cls: type[Panel], argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=f"Preview the {panel_cls.title} panel")
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--scale", choices=["small", "medium", "large"], default="small")
    args = parser.parse_args(argv)

    from workbench.app.sync import demo_source
    from workbench.ui.app import build_context, make_application
    from workbench.ui.errors import setup_logging
    from workbench.ui.operations import Op

    app = make_application()
    setup_logging()
    path = args.cache or demo_preview_cache(args.scale)
    if args.cache is None:
        ensure_demo(path, args.scale)
    ctx = build_context(path, path.with_suffix(".settings.json"), path.with_suffix(".ui.json"))
    if args.cache is None and ctx.settings.source("demo") is None:
        ctx.settings.sources.append(demo_source(args.scale))
        ctx.save_settings()
    panel = panel_cls(ctx)
    panel.setWindowTitle(f"{panel_cls.title} — preview")
    panel.resize(1280, 820)
    panel.show()
    code = app.exec()
    ctx.runner.shutdown()
    Op.shutdown()
    ctx.engine.dispose()
    sys.exit(code)
