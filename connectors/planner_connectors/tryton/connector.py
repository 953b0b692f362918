"""The Tryton connector: pulls the plant from a trytond server and writes decisions back.

It is opened through the registry like any connector (``open_connector("tryton", {"url": ...,
"database": ..., "user": ...})``, :mod:`workbench.connect.factory`), which fetches the password
from the system keyring (``workbench.connect.credentials``); it is never stored elsewhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import httpx

from planner_connectors.tryton import pull_master as master
from planner_connectors.tryton import pull_stock as stock
from planner_connectors.tryton import pull_supply as supply
from planner_connectors.tryton.options import TrytonOptions
from planner_connectors.tryton.push import push_decision
from planner_connectors.tryton.reading import Mark, Reader, server_offset
from planner_connectors.tryton.rpc import REQUIRED_MODULES, TrytonRPC
from workbench.connect.port import (
    Batch,
    Capability,
    CheckResult,
    ConnectorBase,
    ConnectorError,
    PermanentError,
    PushRequest,
    PushResult,
)
from workbench.connect.urls import redact_url

#: the canonical entities this connector delivers, in load order (referenced ones first)
ENTITIES = (
    "uoms",
    "sites",
    "suppliers",
    "items",
    "uom_conversions",
    "bom_revisions",
    "bom_lines",
    "inventory",
    "work_orders",
    "work_order_components",
    "purchase_orders",
    "purchase_order_lines",
    "requisitions",
)


class TrytonConnector(ConnectorBase):
    """Tryton ERP over JSON-RPC: pull, incremental pull, deletions, write-back with a version
    check."""

    name: ClassVar[str] = "tryton"
    capabilities: ClassVar[Capability] = (
        Capability.PULL
        | Capability.PUSH
        | Capability.INCREMENTAL
        | Capability.DELETIONS
        | Capability.VERSION_CHECK
    )
    #: the settings a user gives (typed, checked when saved; see workbench.connect.factory)
    options: ClassVar[type[TrytonOptions]] = TrytonOptions

    def __init__(
        self,
        url: str,
        database: str,
        user: str = "admin",
        password: str | None = None,
        *,
        timeout: float = 60.0,
        overlap_seconds: float = 300.0,
        parallel_reads: int | str = 1,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], dt.date] = dt.date.today,
        insecure: bool = False,
    ) -> None:
        if not password:
            raise PermanentError(
                f"no password for Tryton user {user!r} on {redact_url(url)} / {database}: store "
                "it in the system keyring (see docs/tryton.md)"
            )
        self.url, self.database, self.user = url, database, user
        #: reads at a time: 1 for trytond's own server; the number of worker processes of a
        #: server run under a WSGI server (gunicorn, uwsgi) to read that many at once
        self.parallel_reads = _positive(parallel_reads, "parallel_reads")
        # refuses a URL with credentials in it, and plain http to another machine unless
        # ``insecure`` (see workbench.connect.urls)
        self.rpc = TrytonRPC(url, database, user, password, timeout=timeout, transport=transport,
                             insecure=insecure)
        self.overlap = dt.timedelta(seconds=overlap_seconds)
        self.clock = clock
        self.facts = master.Facts()
        self._offset: dt.timedelta | None = None

    # -- Connector protocol ----------------------------------------------------------------
    def check(self) -> CheckResult:
        """Server reachable, login accepted, required modules activated — nothing changed."""
        try:
            version = self.rpc.server_version()
            self.rpc.login()
            rows = self.rpc.search_read(
                "ir.module", [("name", "in", list(REQUIRED_MODULES))], ["name", "state"]
            )
        except ConnectorError as exc:
            return CheckResult(False, str(exc))
        active = {r["name"] for r in rows if r["state"] == "activated"}
        missing = [m for m in REQUIRED_MODULES if m not in active]
        if missing:
            return CheckResult(
                False,
                (
                    f"Tryton database {self.database!r} lacks the module(s) {', '.join(missing)}; "
                    "activate them in Tryton (Administration > Modules)"
                ),
            )
        return CheckResult(
            True,
            f"Tryton {version} at {self.rpc.shown_url}, database {self.database!r}, "
            f"user {self.user!r}",
        )

    def entities(self) -> list[str]:
        return list(ENTITIES)

    def pull(self, entity: str, since: str | None) -> Iterator[Batch]:
        puller = _PULLERS.get(entity)
        if puller is None:
            raise PermanentError(f"the Tryton connector does not deliver {entity!r}")
        reader = self._reader(since)
        self.facts.today = self.clock()
        yield from puller(reader, self.facts)

    def push(self, request: PushRequest) -> PushResult:
        self._session()
        return push_decision(self.rpc, request, self.clock())

    def close(self) -> None:
        self.rpc.close()

    # -- session facts ---------------------------------------------------------------------
    def _session(self) -> None:
        """Log in and learn what every pull needs once: clock offset, company, own parties."""
        if self._offset is not None:
            return
        if self.rpc.user_id is None:
            self.rpc.login()
        self._offset = server_offset(self.rpc)
        companies = self.rpc.search_read("company.company", [], ["party", "timezone"])
        employees = self.rpc.search_read(
            "company.employee", [], ["party"], context={"active_test": False}
        )
        self.facts.excluded_parties = {c["party"] for c in companies} | {
            e["party"] for e in employees
        }
        company = self.rpc.context.get("company")
        tz = next((c.get("timezone") for c in companies if c["id"] == company), None)
        self.facts.timezone = tz or "UTC"

    def _reader(self, since: str | None) -> Reader:
        self._session()
        return Reader(
            self.rpc,
            Mark.decode(since),
            overlap=self.overlap,
            server_offset=self._offset or dt.timedelta(0),
            context=_read_context(self.rpc),
            parallel=self.parallel_reads,
        )


_PULLERS: dict[str, Callable[[Reader, master.Facts], Iterator[Batch]]] = {
    "uoms": master.pull_uoms,
    "sites": master.pull_sites,
    "suppliers": master.pull_suppliers,
    "items": master.pull_items,
    "uom_conversions": master.pull_uom_conversions,
    "bom_revisions": master.pull_bom_revisions,
    "bom_lines": master.pull_bom_lines,
    "inventory": stock.pull_inventory,
    "work_orders": supply.pull_work_orders,
    "work_order_components": supply.pull_work_order_components,
    "purchase_orders": supply.pull_purchase_orders,
    "purchase_order_lines": supply.pull_purchase_order_lines,
    "requisitions": supply.pull_requisitions,
}
assert tuple(_PULLERS) == ENTITIES


def _positive(value: int | str, name: str) -> int:
    """A setting that must be a whole number of at least 1 (settings hold text)."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if number < 1:
        raise PermanentError(f"Tryton source setting {name}={value!r}: give a whole number >= 1")
    return number


def _read_context(rpc: TrytonRPC) -> dict[str, Any]:
    return {"company": rpc.context.get("company")} if rpc.context.get("company") else {}
