"""Reading Tryton incrementally: watermarks, the change window, paging and deletion checks.

*Watermark.* A Tryton record's version is its ``_timestamp`` (epoch seconds of
``coalesce(write_date, create_date)``, the server's transaction start time). The watermark of an
entity is the highest ``_timestamp`` seen, written with a fixed width so that later marks sort
after earlier ones as text (the sync service keeps the greatest), followed by ``|`` and, per
Tryton model the entity is built from, ``[highest id, number of records]`` at the end of the
pull (for the deletion check below).

*Change window.* The next pull asks for ``last_modified_at >= watermark - overlap``. Tryton
stamps a change with the time its transaction *started*, so a transaction still running during
our read commits rows stamped before the highest stamp we saw; the overlap (default 5 minutes)
catches them, and the sync service ignores rows that did not change. ``last_modified_at`` is a
naive datetime in the server's storage time (local time on SQLite, UTC on PostgreSQL) while
``_timestamp`` is a true epoch, so the connector measures the server's offset once per session
from one record that has both.

*Deletions.* Tryton keeps no tombstones. A model's records with ``id <= highest id`` can only
become fewer by deletion, so when their count dropped since the last pull the entity is pulled
in full and marked ``complete`` (the sync service then marks every key it did not receive as
deleted). A full pull (no watermark) is always complete. A full pull reads every record of its
models anyway, so it takes their highest id and count from what it read (no counting calls);
an incremental pull counts in the background while it reads.
"""

from __future__ import annotations

import datetime as dt
import json
import queue
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from planner_connectors.tryton.rpc import TrytonRPC

#: rows per search_read call. Each call costs Tryton a keyset search and its own overhead:
#: 20,000 BOM lines in pages of 10,000 took its server about a quarter less time than in pages
#: of 5,000 (and one page of all of them more, as storing no longer overlaps reading); bounded,
#: so no single request of a big database runs into the server's request timeout
PAGE = 10_000
#: ids per ``id in [...]`` domain (a parameter each in the server's SQL)
IDS_PER_CALL = 5_000
#: rows per call when reading a *translated* field (a BOM's name) of records written since the
#: server last synchronised its caches: Tryton then looks their translations up again and builds
#: each translation record with the whole list of them, a cost that grows with the square of the
#: rows per call (1,000 BOMs in one call: 0.3 s of server time; in pages of 500: 0.2 s)
TRANSLATED_PAGE = 500
_EPOCH = dt.datetime(1970, 1, 1)
_STAMP_PRECISION = dt.timedelta(microseconds=20)
#: pages from the reading threads to the caller; an error of a thread; None: a stream is done
_PageQueue = queue.Queue[list[dict[str, Any]] | BaseException | None]


@dataclass
class Mark:
    """What one pull of an entity saw: the newest version and the size of each source model."""

    ts: float = 0.0
    sizes: dict[str, tuple[int, int]] = field(default_factory=dict)

    def see(self, stamp: str | None) -> None:
        if stamp:
            value = float(stamp)
            self.ts = max(self.ts, value)

    def see_rows(self, rows: list[dict[str, Any]]) -> None:
        """Whether ``rows`` hold a newer ``_timestamp`` (one ``max`` over a page, not a call per
        row)."""
        stamps = [s for s in (r.get("_timestamp") for r in rows) if s]
        if stamps:
            self.ts = max(self.ts, max(map(float, stamps)))

    def encode(self) -> str:
        sizes = json.dumps(
            {k: list(v) for k, v in sorted(self.sizes.items())}, separators=(",", ":")
        )
        return f"{self.ts:017.6f}|{sizes}"

    @classmethod
    def decode(cls, text: str | None) -> Mark | None:
        if not text:
            return None
        head, _, tail = text.partition("|")
        try:
            sizes = {k: (int(v[0]), int(v[1])) for k, v in json.loads(tail or "{}").items()}
            return cls(float(head), sizes)
        except (ValueError, TypeError, IndexError):
            return None  # an unreadable mark: pull everything again


def version_of(*stamps: str | None) -> str | None:
    """The newest of several ``_timestamp`` values (a record built from several Tryton rows),
    exactly as Tryton wrote it: write-back sends it back as Tryton's lock value."""
    given = [s for s in stamps if s]
    if len(given) <= 1:
        return given[0] if given else None
    return max(given, key=float)


class Reader:
    """Reads one entity's Tryton models for one pull, remembering versions and sizes."""

    def __init__(
        self,
        rpc: TrytonRPC,
        since: Mark | None,
        *,
        overlap: dt.timedelta,
        server_offset: dt.timedelta,
        context: dict[str, Any],
        parallel: int = 1,
    ) -> None:
        self.rpc = rpc
        #: reads at a time (the server's worker processes; 1 for trytond's own server)
        self.parallel = max(1, parallel)
        self.since = since
        self.mark = Mark()
        self.context = {"active_test": False, **context}
        self.window: dt.datetime | None = None
        self._sizing: Future[dict[str, tuple[int, int]]] | None = None
        self._pool: ThreadPoolExecutor | None = None
        #: in a full pull: model -> domain whose complete reads give the model's size
        self._counting: dict[str, list[Any]] = {}
        if since is not None and since.ts > 0:
            # the server's naive storage time of the watermark, minus the overlap; _timestamp
            # carries 15 significant digits (~10 us), so step back a little more than that
            self.window = (
                _EPOCH + dt.timedelta(seconds=since.ts) + server_offset - overlap - _STAMP_PRECISION
            )

    @property
    def incremental(self) -> bool:
        return self.window is not None

    def changed(self, prefix: str = "") -> list[Any]:
        """Domain clause "changed within the window" (on a related record with ``prefix``)."""
        if self.window is None:
            return []
        return [(f"{prefix}last_modified_at", ">=", self.window)]

    def _page(
        self,
        model: str,
        domain: list[Any],
        names: list[str],
        ctx: dict[str, Any],
        last: int,
        page: int,
    ) -> list[dict[str, Any]]:
        page_domain = [domain, ("id", ">", last)] if domain else [("id", ">", last)]
        return self.rpc.search_read(
            model, page_domain, names, order=[("id", "ASC")], limit=page, context=ctx
        )

    def pages(
        self,
        model: str,
        domain: list[Any],
        fields: Iterable[str],
        *,
        context: dict[str, Any] | None = None,
        page: int = PAGE,
        track: bool = True,
    ) -> Iterator[list[dict[str, Any]]]:
        """Rows of ``model`` matching ``domain`` page by page (keyset on id), ``_timestamp``
        always read, in no particular order of pages. Reading starts at once in the background
        and runs ahead of the caller by a page or two, so Tryton's work overlaps with ours
        (start the stream after the pull's other reads). With ``parallel`` > 1 the ids are cut
        into that many ranges (from the highest id) and each range is read by a stream of its
        own: for a server with that many worker processes (see :meth:`fetch_each`)."""
        names = list(dict.fromkeys([*fields, "_timestamp"]))
        ctx = {**self.context, **(context or {})}
        ranges = self._id_ranges(model, domain, ctx)
        out: _PageQueue = queue.Queue(maxsize=len(ranges))
        stop = threading.Event()

        def put(item: list[dict[str, Any]] | BaseException | None) -> bool:
            while not stop.is_set():
                try:
                    out.put(item, timeout=0.2)
                    return True
                except queue.Full:
                    continue
            return False

        threads = [
            threading.Thread(target=self._read_range, args=(model, domain, names, ctx, page, low, high, put),
                             name="tryton-page", daemon=True)
            for low, high in ranges
        ]
        for t in threads:
            t.start()
        pages = self._walk(model, domain, context, out, stop, threads, track)
        weakref.finalize(pages, stop.set)  # a stream dropped unread stops its readers
        return pages

    def _id_ranges(self, model: str, domain: list[Any], ctx: dict[str, Any]) -> list[tuple[int, int | None]]:
        """The id ranges read by one stream each: everything (one stream), or with ``parallel`` > 1
        that many ranges cut from the highest id (none when the model has no matching row)."""
        if self.parallel <= 1:
            return [(0, None)]
        top = self.rpc.search(model, domain, order=[("id", "DESC")], limit=1, context=ctx)
        # records created after this are left to the next pull (their stamps are newer
        # than any this one sees), as for a single stream that has passed their ids
        highest = top[0] if top else 0
        step = -(-highest // self.parallel)
        cuts = [k * step for k in range(1, self.parallel) if k * step < highest]
        return list(zip([0, *cuts], [*cuts, highest])) if highest else []

    def _read_range(
        self,
        model: str,
        domain: list[Any],
        names: list[str],
        ctx: dict[str, Any],
        page: int,
        low: int,
        high: int | None,
        put: Callable[[list[dict[str, Any]] | BaseException | None], bool],
    ) -> None:
        """One reading thread: the pages of ids in (low, high] handed to ``put``, then an error
        if one happened, then None (this stream is done)."""
        try:
            upto = [("id", "<=", high)]
            bounded = domain if high is None else [domain, *upto] if domain else upto
            # a closed range of up to two pages' ids in one call: no call for a remainder
            size = high - low if high is not None and high - low <= 2 * page else page
            last = low
            while True:
                part = self._page(model, bounded, names, ctx, last, size)
                if not put(part) or len(part) < size:
                    break
                last = part[-1]["id"]
                if high is not None and last >= high:
                    break
        except BaseException as exc:  # noqa: BLE001 - handed to the reading thread
            put(exc)
        put(None)

    def _walk(
        self,
        model: str,
        domain: list[Any],
        context: dict[str, Any] | None,
        out: _PageQueue,
        stop: threading.Event,
        threads: list[threading.Thread],
        track: bool,
    ) -> Iterator[list[dict[str, Any]]]:
        """The caller's side: pages as the threads deliver them (an error of a thread raised here),
        the versions seen tracked; when every stream is done, the model's size is noted; the
        threads are stopped and joined however the caller leaves."""
        count, top, running = 0, 0, len(threads)
        try:
            while running:
                part = out.get()
                if part is None:
                    running -= 1
                    continue
                if isinstance(part, BaseException):
                    raise part
                count += len(part)
                top = max(top, part[-1]["id"]) if part else top
                if track:
                    self.mark.see_rows(part)
                if part:
                    yield part
            self._read_all(model, domain, context, top, count)
        finally:
            stop.set()
            for t in threads:
                t.join()

    def fetch(
        self,
        model: str,
        domain: list[Any],
        fields: Iterable[str],
        *,
        context: dict[str, Any] | None = None,
        page: int = PAGE,
        track: bool = True,
    ) -> list[dict[str, Any]]:
        """All rows of ``model`` matching ``domain`` (see :meth:`pages`)."""
        names = list(dict.fromkeys([*fields, "_timestamp"]))
        ctx = {**self.context, **(context or {})}
        rows: list[dict[str, Any]] = []
        last = 0
        while True:
            part = self._page(model, domain, names, ctx, last, page)
            rows.extend(part)
            if len(part) < page:
                break
            last = part[-1]["id"]
        if track:
            self.mark.see_rows(rows)
        self._read_all(model, domain, context, rows[-1]["id"] if rows else 0, len(rows))
        return rows

    def fetch_each(
        self, *calls: tuple[str, list[Any], list[str]] | tuple[str, list[Any], list[str], int]
    ) -> list[list[dict[str, Any]]]:
        """Several independent reads ((model, domain, fields[, page]) each): one after another,
        or ``parallel`` at a time (list the biggest first).

        trytond's own server runs requests as threads of one process, and two big reads at a
        time fight over its interpreter lock (its JSON encoder hands the lock over for every
        compressed token), which cost up to twice the server time of the same reads in turn
        (measured: 5,000 items' four reads 1.0-6.3 s of server CPU at once, 1.1-1.7 s in
        turn); so reads run in turn unless the connector was told the server has several
        worker processes (a production server under a WSGI server such as gunicorn or uwsgi),
        where two reads at a time take about half the time of the same reads in turn."""

        def one(c: tuple[Any, ...]) -> list[dict[str, Any]]:
            return self.fetch(c[0], c[1], c[2], page=c[3] if len(c) > 3 else PAGE, track=False)

        if self.parallel > 1 and len(calls) > 1:
            with ThreadPoolExecutor(self.parallel, thread_name_prefix="tryton-read") as pool:
                results = list(pool.map(one, calls))
        else:
            results = [one(c) for c in calls]
        for rows in results:
            self.mark.see_rows(rows)
        return results

    def fetch_ids(
        self,
        model: str,
        ids: Iterable[int],
        fields: Iterable[str],
        context: dict[str, Any] | None = None,
        track: bool = True,
    ) -> list[dict[str, Any]]:
        ids = sorted(set(ids))
        out: list[dict[str, Any]] = []
        for i in range(0, len(ids), IDS_PER_CALL):
            chunk = ids[i : i + IDS_PER_CALL]
            out.extend(
                self.fetch(model, [("id", "in", chunk)], fields, context=context, track=track)
            )
        return out

    # -- deletion check --------------------------------------------------------------------
    def _read_all(
        self, model: str, domain: list[Any], context: dict[str, Any] | None, top: int, count: int
    ) -> None:
        """In a full pull, a read of all of a counted model's records (its counting domain, the
        reader's own context) gives its size: ``top`` = highest id read, ``count`` = rows."""
        if context is None and self._counting.get(model) == domain:
            self.mark.sizes[model] = (top, count)

    def read_all(self, model: str, rows: list[dict[str, Any]]) -> None:
        """Size ``model`` from ``rows``, all its records read (keyset order) earlier in the same
        sync with its counting domain, e.g. the BOM links the revisions pull read."""
        if model in self._counting:
            self.mark.sizes[model] = (max((r["id"] for r in rows), default=0), len(rows))

    def something_deleted(self, models: dict[str, list[Any]]) -> bool:
        """Whether any record counted at the last pull has gone (``models``: model -> domain)."""
        if self.since is None:
            return False
        for model, domain in models.items():
            before = self.since.sizes.get(model)
            if before is None:
                return True  # no count from last time: reconcile once
            top, count = before
            now = self.rpc.model(
                model, "search_count", [*domain, ("id", "<=", top)], context=self.context
            )
            if int(now) < count:
                return True
        return False

    def begin(self, models: dict[str, list[Any]]) -> bool:
        """Whether this pull must be full (no watermark yet, or a record has gone), and how
        ``models`` (model -> domain) will be sized for the next deletion check.

        A full pull sizes each model from its complete read (:meth:`_read_all`; a model it did
        not read in full is counted at the end); an incremental one counts them in the
        background now. Either way a record deleted during the pull is counted but then
        missing, which only makes the next pull a full one; ids only grow, so a record created
        meanwhile is either read or above the highest id counted."""
        full = not self.incremental or self.something_deleted(models)
        if full:
            self._counting = dict(models)
            return True
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="tryton-size")
        self._sizing = self._pool.submit(self._sizes, models)
        return False

    def _sizes(self, models: dict[str, list[Any]]) -> dict[str, tuple[int, int]]:
        """Each model's highest id and record count."""
        out = {}
        for model, domain in models.items():
            top = self.rpc.search(
                model, domain, order=[("id", "DESC")], limit=1, context=self.context
            )
            count = self.rpc.model(model, "search_count", domain, context=self.context)
            out[model] = (top[0] if top else 0, int(count))
        return out

    def watermark(self) -> str:
        unsized = {m: d for m, d in self._counting.items() if m not in self.mark.sizes}
        if unsized:
            self.mark.sizes.update(self._sizes(unsized))
        if self._sizing is not None:
            self.mark.sizes.update(self._sizing.result())
            self._sizing = None
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        if self.since is not None and self.mark.ts < self.since.ts:
            self.mark.ts = self.since.ts  # nothing newer seen: the window stays where it was
        return self.mark.encode()


def server_offset(rpc: TrytonRPC) -> dt.timedelta:
    """How far the server's stored (naive) times are from UTC, to the nearest minute."""
    row = rpc.search_read(
        "res.user", [("id", "=", rpc.user_id)], ["_timestamp", "last_modified_at"]
    )
    if not row or not row[0].get("_timestamp") or not row[0].get("last_modified_at"):
        return dt.timedelta(0)
    stored: dt.datetime = row[0]["last_modified_at"]
    utc = _EPOCH + dt.timedelta(seconds=float(row[0]["_timestamp"]))
    minutes = round((stored - utc).total_seconds() / 60)
    return dt.timedelta(minutes=minutes)


def m2o(row: dict[str, Any], name: str, attr: str) -> Any:
    """A joined attribute of a many2one read as ``"name.attr"`` (None when the link is empty)."""
    linked = row.get(f"{name}.")
    return linked.get(attr) if linked else None


def ref_id(value: str | None, model: str) -> int | None:
    """The id in a reference value ``"model,id"`` when it points at ``model``."""
    if not value or not value.startswith(model + ","):
        return None
    try:
        return int(value.split(",", 1)[1])
    except ValueError:
        return None


def days(value: dt.timedelta | None) -> int:
    return max(0, round(value.total_seconds() / 86400)) if value else 0
