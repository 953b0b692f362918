"""Reading several requests at a time from a Tryton server with several worker processes.

A production trytond runs under a WSGI server with worker processes (here gunicorn with 2, on a
copy of the same seeded database as the shared server); ``parallel_reads=2`` makes the
connector read two requests at a time and cut big full reads into id ranges. What it stores
must be exactly what reading one request at a time from trytond's own server stores.
"""

from __future__ import annotations

import datetime as dt
import gc
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from planner_connectors.tryton import TrytonConnector
from planner_connectors.tryton.connector import ENTITIES
from planner_connectors.tryton.reading import Reader
from planner_connectors.tryton.rpc import TrytonRPC

from tests.support.tryton.devserver import ADMIN_PASSWORD, DATABASE, TrytonServer, server_on_copy
from workbench.cache.db import open_cache
from workbench.cache.frames import read_entity_frame
from workbench.connect.port import PermanentError
from workbench.domain.models import ENTITY_MODELS
from workbench.services.sync import run_sync

pytestmark = pytest.mark.tryton


@pytest.fixture(scope="module")
def tryton_workers(tryton_template, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrytonServer]:  # type: ignore[no-untyped-def]
    server = server_on_copy(
        tryton_template.db_file, tmp_path_factory.mktemp("tryton-workers"), workers=2
    )
    try:
        yield server
    finally:
        server.stop()


def _sync_all(server: TrytonServer, cache: Path, parallel: int):  # type: ignore[no-untyped-def]
    engine = open_cache(cache)
    connector = TrytonConnector(
        server.url, DATABASE, "admin", ADMIN_PASSWORD, parallel_reads=parallel
    )
    try:
        result = run_sync(engine, connector)
    finally:
        connector.close()
    assert result.ok, result.error
    return engine, result


def _content(engine, entity: str) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    """Every cached row of ``entity`` without the cache's own bookkeeping, in key order."""
    frame = read_entity_frame(engine, entity, parse_dates=False, include_deleted=True)
    mine = [c for c in frame.columns if c in ENTITY_MODELS[entity].model_fields]
    keys = list(ENTITY_MODELS[entity].key_fields)
    return frame[mine].sort_values(keys).to_dict("records")  # type: ignore[no-any-return]


def test_parallel_pull_stores_what_a_single_stream_stores(
    tryton_shared: TrytonServer, tryton_workers: TrytonServer, tmp_path: Path
) -> None:
    one, one_result = _sync_all(tryton_shared, tmp_path / "one.sqlite", 1)
    two, two_result = _sync_all(tryton_workers, tmp_path / "two.sqlite", 2)
    try:
        assert two_result.counts == one_result.counts
        assert one_result.counts["bom_lines"]["received"] == 36  # the seed's shape
        for entity in ENTITIES:  # what Tryton delivers (not what the cache derives at sync time)
            assert _content(two, entity) == _content(one, entity), entity
    finally:
        one.dispose()
        two.dispose()


def _reader(rpc: TrytonRPC, parallel: int) -> Reader:
    return Reader(
        rpc,
        None,
        overlap=dt.timedelta(minutes=5),
        server_offset=dt.timedelta(0),
        context={},
        parallel=parallel,
    )


@pytest.mark.parametrize("parallel", [1, 2, 3])
def test_pages_cover_every_record_once(tryton_workers: TrytonServer, admin_rpc, parallel: int) -> None:  # type: ignore[no-untyped-def]
    rpc = admin_rpc(tryton_workers)
    every = {"active_test": False}
    expected = rpc.search_read("production.bom.input", [], ["bom", "quantity"], context=every)
    assert len(expected) == 36
    some_boms = sorted({r["bom"] for r in expected})[:5]
    reader = _reader(rpc, parallel)
    reader._counting = {"production.bom.input": []}  # a full pull sizes the model from its read
    # pages of 4 rows: the 36 lines in 9 pages (1 stream) or in id ranges of several pages
    pages = list(reader.pages("production.bom.input", [], ["bom", "quantity"], page=4))
    got = [row for part in pages for row in part]
    assert sorted(r["id"] for r in got) == [r["id"] for r in expected]  # each once, none missed
    assert {r["id"]: (r["bom"], r["quantity"]) for r in got} == {
        r["id"]: (r["bom"], r["quantity"]) for r in expected
    }
    assert all(len(part) <= 8 for part in pages)
    assert reader.mark.sizes["production.bom.input"] == (expected[-1]["id"], 36)
    assert reader.mark.ts == max(float(r["_timestamp"]) for r in got)
    # a domain is kept in every range
    subset = _reader(rpc, parallel).pages(
        "production.bom.input", [("bom", "in", some_boms)], ["bom"], page=3
    )
    ids = sorted(r["id"] for part in subset for r in part)
    assert ids == [r["id"] for r in expected if r["bom"] in some_boms]


def test_a_stream_dropped_unread_stops_its_readers(tryton_workers: TrytonServer, admin_rpc) -> None:  # type: ignore[no-untyped-def]
    def readers() -> int:
        return sum(t.name == "tryton-page" and t.is_alive() for t in threading.enumerate())

    before = readers()
    pages = _reader(admin_rpc(tryton_workers), 2).pages("production.bom.input", [], [], page=2)
    next(pages)  # the readers are now waiting to hand over their next pages
    assert readers() > before
    del pages
    gc.collect()
    deadline = time.monotonic() + 5
    while readers() > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert readers() == before


def test_parallel_reads_setting_must_be_a_whole_number() -> None:
    for bad in ("two", "0", -1):
        with pytest.raises(PermanentError, match="parallel_reads"):
            TrytonConnector("http://127.0.0.1:1", DATABASE, "admin", "pw", parallel_reads=bad)
    ok = TrytonConnector("http://127.0.0.1:1", DATABASE, "admin", "pw", parallel_reads="4")
    assert ok.parallel_reads == 4
    ok.close()
