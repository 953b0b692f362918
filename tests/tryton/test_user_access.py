"""The connector under an ordinary Tryton user, as the README tells people to connect.

The user is created by a second (admin) session with exactly the groups docs/tryton.md lists,
no administrator rights; it must see the whole plant as admin sees it and be able to send the
decisions its groups allow. A user without the Purchase Request group gets an error naming the
model it may not read, and the cache stays as it was.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from planner_connectors.tryton import TrytonConnector
from planner_connectors.tryton.rpc import ACCESS_GROUPS, TrytonRPC

from tests.support.tryton.devserver import DATABASE, TrytonServer
from workbench.cache.db import open_cache
from workbench.cache.frames import read_entity_frame
from workbench.services.decisions import record_decision
from workbench.services.sync import run_sync
from workbench.services.writeback import drain_outbox

pytestmark = pytest.mark.tryton

PASSWORD = "planner-secret-42"
T0 = dt.datetime(2030, 1, 1, 8, 0, 0)


def add_user(rpc: TrytonRPC, login: str, groups: tuple[str, ...]) -> int:
    """A Tryton user in ``groups`` only, working for the seeded company."""
    by_name = {g["name"]: g["id"] for g in rpc.search_read("res.group", [], ["name"])}
    company = rpc.context["company"]
    (uid,) = rpc.create(
        "res.user",
        [
            {
                "name": login.title(),
                "login": login,
                "password": PASSWORD,
                "groups": [["add", [by_name[g] for g in groups]]],
                "companies": [["add", [company]]],
                "company": company,
            }
        ],
    )
    return int(uid)


def cache_rows(engine, entity: str) -> list[tuple]:  # type: ignore[no-untyped-def]
    """The entity's cached rows without run bookkeeping, sorted: comparable between caches."""
    frame = read_entity_frame(engine, entity, parse_dates=False)
    frame = frame.drop(columns=[c for c in ("sync_run",) if c in frame.columns])
    return sorted(tuple(map(str, r)) for r in frame.itertuples(index=False))


def test_a_planner_user_pulls_everything_and_writes_back(
    tryton_fresh: TrytonServer, admin_rpc, make_connector, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    rpc = admin_rpc(tryton_fresh)
    uid = add_user(rpc, "planner", ACCESS_GROUPS)
    (user,) = rpc.read("res.user", [uid], ["groups.name"])
    assert sorted(g["name"] for g in user["groups."]) == sorted(ACCESS_GROUPS)  # nothing more

    admin_cache = open_cache(tmp_path / "admin.sqlite")
    user_cache = open_cache(tmp_path / "user.sqlite")
    try:
        as_admin = make_connector(tryton_fresh)
        assert run_sync(admin_cache, as_admin).ok
        planner = TrytonConnector(tryton_fresh.url, DATABASE, "planner", PASSWORD)
        try:
            check = planner.check()
            assert check.ok and "'planner'" in check.message, check.message
            result = run_sync(user_cache, planner)
            assert result.ok, result.error
            for entity in planner.entities():
                theirs = cache_rows(admin_cache, entity)
                assert theirs, entity  # the seeded plant has every entity
                assert cache_rows(user_cache, entity) == theirs, entity

            # a write-back the groups allow: reduce a draft purchase request
            (mrp,) = rpc.search(
                "purchase.request", [("origin", "=", "stock.order_point,-1")], limit=1
            )
            decision = record_decision(
                user_cache, f"REQ-{mrp}", "modify", decided_by="pat", action="reduce",
                quantity=1, now=T0,
            )
            sent = drain_outbox(user_cache, {"tryton": planner}, now=T0)
            assert sent.sent == [decision.outbox], sent
            assert rpc.read("purchase.request", [mrp], ["quantity"])[0]["quantity"] == 1
            (note,) = rpc.search_read(
                "ir.note", [("resource", "=", f"purchase.request,{mrp}")], ["create_uid"]
            )
            assert note["create_uid"] == uid  # written as the planner, not as admin
        finally:
            planner.close()
    finally:
        admin_cache.dispose()
        user_cache.dispose()


def test_a_user_without_access_gets_the_model_named(
    tryton_fresh: TrytonServer, admin_rpc, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    rpc = admin_rpc(tryton_fresh)
    add_user(rpc, "storeman", ("Stock", "Production"))
    cache = open_cache(tmp_path / "cache.sqlite")
    connector = TrytonConnector(tryton_fresh.url, DATABASE, "storeman", PASSWORD)
    try:
        assert run_sync(cache, connector, entities=["uoms", "sites", "suppliers", "items"]).ok
        before = cache_rows(cache, "items")
        result = run_sync(cache, connector, entities=["items", "requisitions"], full=True)
        assert not result.ok
        assert "user 'storeman' has no access to model 'purchase.request'" in result.error
        assert "Purchase Request" in result.error  # Tryton's own words and the group to add
        assert "the cache is unchanged" in result.error
        assert cache_rows(cache, "items") == before
        assert cache_rows(cache, "requisitions") == []
    finally:
        connector.close()
        cache.dispose()
