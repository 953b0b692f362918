"""Fixtures shared by the stored-plan tests of this folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.cache.db import open_cache
from workbench.services.sources import demo_connector
from workbench.services.sync import run_sync


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small demo synced once per test session; tests work on copies of it (``_copy`` in
    test_first_plan_store) and never write to it."""
    path = tmp_path_factory.mktemp("first-plan") / "cache.sqlite"
    engine = open_cache(path)
    assert run_sync(engine, demo_connector(scale="small")).ok
    engine.dispose()
    return path
