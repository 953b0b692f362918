"""Memory of the planning process (issue 16 §3): provenance the engine never reads stays out
of the planning frames (a distinct ``source_key`` string per row held ~60 MiB on the large
demo), and the preparation gives the heap pages it freed back to the operating system."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from tests.analysis.test_services_cli import cache  # noqa: F401 - the fixture
from workbench.analysis.data import PLANNING_ENTITIES, release_free_memory
from workbench.cache.db import open_cache
from workbench.services.planning import load_planning_data

PROVENANCE = ("source", "source_key", "source_version")


def test_provenance_is_left_out_but_where_planning_reads_it(cache: Path) -> None:  # noqa: F811
    data = load_planning_data(open_cache(cache))
    for entity in PLANNING_ENTITIES:
        columns = set(getattr(data, entity).columns)
        if entity in ("purchase_order_lines", "requisitions"):
            # the overlay of pending decisions and the requisition advice read the version
            assert set(PROVENANCE) <= columns, entity
        elif entity != "suppliers":
            assert not set(PROVENANCE) & columns, entity
    assert len(data.items) and len(data.bom_lines) and "code" in data.items


def _resident_mib() -> float:
    for row in Path("/proc/self/status").read_text().splitlines():
        if row.startswith("VmRSS:"):
            return int(row.split()[1]) / 1024
    return float("nan")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_freed_heap_pages_go_back_to_the_system() -> None:
    """Arrays of 64 KiB (below glibc's mmap threshold) live in the heap; freed, they stay
    resident until trimmed."""
    blocks = [np.ones(8192) for _ in range(3200)]  # 200 MiB of 64 KiB arrays
    keep = blocks[-1]  # the top of the heap stays in use: only a trim inside it helps
    del blocks
    before = _resident_mib()
    release_free_memory()
    after = _resident_mib()
    assert before - after > 100, (before, after)
    assert keep.sum() == 8192
