"""The cache written out as a canonical data package (``workbench export --package DIR``).

A cache query: it reads the cache (reader process, or inline for the CLI) and writes files, never
the cache. Importing this module loads neither pandas nor Qt.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from workbench.app.ops import cache_query

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from workbench.services.tasks import TaskState


@cache_query
def export_package(engine: Engine, folder: str | Path, *, state: TaskState) -> dict[str, int]:
    """Write every entity of the cache to ``folder`` (one CSV each, written beside its final
    name and renamed over it); entity -> rows written."""
    from workbench.services import packages

    return packages.export_package(engine, folder, state)
