"""The offline banner's words: what is unreachable, since when, what still works, what to do.

It speaks to someone at the window, not at a shell: a connector's message that tells a
command-line user to run a Python module (e.g. "store it with `python -m
workbench.connect.credentials set …`") is turned into the place in the window that does the same
(:func:`for_the_window`). Times are local ("since 14:02", "as of 5 Dec 13:40"), never ISO.
Qt-free; the main window shows it (:meth:`workbench.ui.mainwindow.MainWindow._show_reachability`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

#: a command in backticks that names a Python module (the connectors' advice for the CLI)
_MODULE_COMMAND = re.compile(r"[;,]?\s*(?:store it with|run|use)?\s*`[^`]*python -m[^`]*`",
                             re.IGNORECASE)


@dataclass(frozen=True)
class Unreachable:
    """One enabled source that did not answer the last check."""

    source: str
    connector: str
    message: str
    #: when the window first found it unreachable (this session)
    since: dt.datetime


def local_time(when: dt.datetime | str | None, *, today: dt.date | None = None) -> str:
    """"14:02" today, "5 Dec 14:02" another day; an ISO string without zone is UTC (the cache
    stores UTC)."""
    if when is None or when == "":
        return ""
    if isinstance(when, str):
        when = dt.datetime.fromisoformat(when.replace("Z", "+00:00"))
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
    if when.tzinfo is not None:
        when = when.astimezone()
    today = today or dt.date.today()
    if when.date() == today:
        return when.strftime("%H:%M")
    return f"{when.day} {when.strftime('%b %H:%M')}"


def for_the_window(message: str) -> str:
    """A connector's message without command-line advice: where to do it in the window."""
    if "python -m" not in message:
        return message
    cleaned = _MODULE_COMMAND.sub("", message).strip().rstrip(";,")
    return f"{cleaned} — store the password in Settings › Sources (Store password in keyring)"


def offline_message(down: Sequence[Unreachable], *, data_as_of: str | None = None,
                    queued: int | None = None, today: dt.date | None = None) -> str:
    """The banner: one sentence per unreachable source, then what works and what to do."""
    parts = []
    for d in down:
        since = local_time(d.since, today=today)
        name = d.source if d.source == d.connector else f"{d.source} ({d.connector})"
        parts.append(f"Cannot reach {name} since {since}: {for_the_window(d.message)}.")
    as_of = f" (data as of {local_time(data_as_of, today=today)})" if data_as_of else ""
    if queued:
        waiting = (f"{queued} decisions wait in the outbox and are sent when the source is back"
                   if queued != 1 else
                   "1 decision waits in the outbox and is sent when the source is back")
    else:
        waiting = "decisions you make wait in the outbox and are sent when the source is back"
    works = (f"You are working from the cache{as_of}: every panel still shows it, and {waiting}.")
    todo = ("To fix it: check the network connection, or the source's address and password in "
            "Settings › Sources; then Sync now in Sync & Outbox.")
    return " ".join([*parts, works, todo])
