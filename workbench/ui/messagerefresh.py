"""Bring the stored exception messages up to the current plan from a panel (Exceptions,
Overview): the three steps of :mod:`workbench.app.exceptions` — site names (cache), the messages
of the plan with the settings' tolerances (planning), merged into the stored state (a command,
whose Changes the window broadcasts) — run through the panel's verbs.

One refresh runs at a time in the application: a panel asking while another's runs is answered
when that one has stored its messages (its broadcast marks the asking panel stale anyway).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from workbench.app import exceptions as ops

if TYPE_CHECKING:
    from workbench.services.exceptions import ComputedMessages, RefreshResult
    from workbench.ui.panels.base import Panel

_running: list[Panel] = []


def refreshing() -> bool:
    return bool(_running)


def refresh_messages(panel: Panel, then: Callable[[RefreshResult | None], None],
                     on_failure: Callable[[BaseException], object] | None = None) -> None:
    """Compute and store the current plan's messages, then ``then(result)``; ``then(None)``
    at once when another panel's refresh is running."""
    if _running:
        then(None)
        return
    _running.append(panel)

    def failed(exc: BaseException) -> None:
        _done()
        if on_failure is not None:
            on_failure(exc)
        else:
            panel.failed("refresh messages", exc)

    def stored(result: RefreshResult) -> None:
        _done()
        then(result)

    def _done() -> None:
        if panel in _running:
            _running.remove(panel)

    def store(computed: ComputedMessages) -> None:
        panel.change(ops.store_exception_messages, computed, then=stored, on_failure=failed,
                     key="store-messages")

    def compute(names: dict[str, str]) -> None:
        settings = panel.ctx.settings.planning.exception_settings()
        panel.query(ops.compute_exception_messages, settings, names, then=store,
                    on_failure=failed, progress="Computing exception messages…")

    panel.query(ops.exception_site_names, then=compute, on_failure=failed)
