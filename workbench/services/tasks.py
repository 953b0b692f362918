"""The state object long-running work reports through (progress, status, cancellation).

Workers are plain functions taking a :class:`TaskState`, so tests and the CLI call them without
Qt; the UI passes a state whose methods forward to signals (``workbench.ui.operations``). An
operation of ``workbench.app`` that declares a keyword parameter ``state`` gets one from the
runner (``workbench.app.runner``): in a worker process a state whose reports travel up the pipe
and whose Cancel comes down it (``workbench.app.processes``), inline a :class:`SimpleState`
when the caller gave none.
"""

from __future__ import annotations

import threading
from typing import Protocol


class Cancelled(Exception):
    """Raised inside a worker when its state says it was cancelled."""


class TaskState(Protocol):
    def set_progress(self, done: int, total: int | None) -> None: ...

    def set_status(self, text: str) -> None: ...

    def is_cancelled(self) -> bool: ...


class SimpleState:
    """A thread-safe TaskState for the CLI and tests: remembers the last progress and status."""

    def __init__(self, echo: bool = False) -> None:
        self.done = 0
        self.total: int | None = None
        self.status = ""
        self.echo = echo
        self._cancel = threading.Event()

    def set_progress(self, done: int, total: int | None) -> None:
        self.done, self.total = done, total

    def set_status(self, text: str) -> None:
        self.status = text
        if self.echo:
            import sys

            print(text, file=sys.stderr)

    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        self._cancel.set()


def check_cancelled(state: TaskState | None) -> None:
    if state is not None and state.is_cancelled():
        raise Cancelled("cancelled by the user")
