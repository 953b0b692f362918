"""Operation kinds and what a change reports (no Qt, no pandas: imported at start-up).

An operation is a top-level function of a ``workbench.app`` module (so it pickles by reference
into the worker processes) marked with one of three decorators. The kind decides where the
runner places it; the caller only passes the function and its arguments. A function that
declares a keyword parameter ``state`` gets the :class:`~workbench.services.tasks.TaskState`
(progress, status, cancel).
"""

from __future__ import annotations

import enum
import inspect
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, Generic, TypeVar

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


class Kind(enum.Enum):
    """Where an operation runs."""

    PLANNING = "planner"  # fn(session, ...) on the planning session, in the planner process
    CACHE = "reader"  # fn(engine, ...) reading the cache, in the reader process
    COMMAND = "writer"  # fn(engine, ...) -> Outcome, in the writer process (one writer)


_KIND = "__wb_kind__"
_TAKES_STATE = "__wb_takes_state__"
_QUICK = "__wb_quick__"


def _mark(fn: F, kind: Kind) -> F:
    setattr(fn, _KIND, kind)
    setattr(fn, _TAKES_STATE, "state" in inspect.signature(fn).parameters)
    return fn


def planning_query(fn: F) -> F:
    """``fn(session, ...)``: a question answered on the planning session."""
    return _mark(fn, Kind.PLANNING)


def cache_query(fn: F) -> F:
    """``fn(engine, ...)``: a read of the cache."""
    return _mark(fn, Kind.CACHE)


def command(fn: F) -> F:
    """``fn(engine, ...) -> Outcome``: a change of the cache (or of a source through the outbox)."""
    return _mark(fn, Kind.COMMAND)


def quick(fn: F) -> F:
    """Mark a cache query as a *quick read*: a few indexed aggregates of the cache's own tables
    (milliseconds on the large demo, no pandas), such as the Overview's counts and the status
    bar's freshness, or one keyset range of an index (the Items panel's chunks,
    :mod:`workbench.app.item_list`). :class:`~workbench.app.runner.ProcessRunner` answers it
    in the calling thread on its own engine instead of the reader process: at start-up the
    reader process is not up yet (its fork server imports the planning engine first), and a
    quick read would wait for it longer than it takes. Apply it above ``@cache_query``."""
    if getattr(fn, _KIND, None) is not Kind.CACHE:
        raise TypeError(f"{getattr(fn, '__qualname__', fn)!r}: only a cache query can be quick")
    setattr(fn, _QUICK, True)
    return fn


def is_quick(fn: Callable[..., Any]) -> bool:
    """Whether the operation (or the job wrapping it) is a quick read (:func:`quick`)."""
    return bool(getattr(getattr(fn, "func", fn), _QUICK, False))


def kind_of(fn: Callable[..., Any]) -> Kind:
    """The kind of an operation; a plain function is refused (every operation is declared)."""
    target = getattr(fn, "func", fn)  # functools.partial of an operation
    kind = getattr(target, _KIND, None)
    if kind is None:
        raise TypeError(f"{getattr(target, '__qualname__', target)!r} is not an operation "
                        "(mark it with planning_query, cache_query or command)")
    return kind


def takes_state(fn: Callable[..., Any]) -> bool:
    return bool(getattr(getattr(fn, "func", fn), _TAKES_STATE, False))


@dataclass(frozen=True)
class Changes:
    """What a command changed; each screen decides whether it cares (Anki's OpChanges).

    - ``data``: planning input in the cache (a sync, the demo loaded, planning defaults): the
      plan is stale and every planning answer with it;
    - ``decisions``: decisions or recommendations (approval queue, exception states);
    - ``outbox``: outbox entries and the audit log (sent, retried, resolved);
    - ``sources``: the configured sources or other settings.
    """

    data: bool = False
    decisions: bool = False
    outbox: bool = False
    sources: bool = False

    def __or__(self, other: Changes) -> Changes:
        return Changes(**{f.name: getattr(self, f.name) or getattr(other, f.name)
                          for f in fields(self)})

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    def touches(self, *names: str) -> bool:
        """Whether any of the named kinds of change happened (``changes.touches("data")``)."""
        return any(getattr(self, n) for n in names)


NOTHING = Changes()


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """A command's answer: its value and what it changed."""

    value: T
    changes: Changes = NOTHING
