"""Bring the stored exception messages up to the current plan from a panel (Exceptions,
Overview): the three steps of :mod:`workbench.app.exceptions` — site names (cache), the messages
of the plan with the settings' tolerances (planning), merged into the stored state (a command,
whose Changes the window broadcasts) — run through the panel's verbs.

One refresh runs at a time per panel context (cache): a panel asking while another's runs is
answered at once with None (the other's broadcast marks it stale anyway). A refresh that never
reported back (its panel closed meanwhile) stops counting after :data:`GIVE_UP_S`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from workbench.app import exceptions as ops

if TYPE_CHECKING:
    from workbench.services.exceptions import ComputedMessages, RefreshResult
    from workbench.ui.panels.base import Panel

#: seconds after which a refresh that never reported back no longer blocks another
GIVE_UP_S = 600.0

#: (panel, start time) of the refreshes running
_running: list[tuple[Panel, float]] = []


def refreshing(panel: Panel) -> bool:
    """Does a refresh run on ``panel``'s context (cache)?"""
    now = time.monotonic()
    _running[:] = [(p, t) for p, t in _running if now - t < GIVE_UP_S]
    return any(p.ctx is panel.ctx for p, _t in _running)


def refresh_messages(panel: Panel, then: Callable[[RefreshResult | None], None],
                     on_failure: Callable[[BaseException], object] | None = None) -> None:
    """Compute and store the current plan's messages, then ``then(result)``; ``then(None)``
    at once when another panel's refresh is running."""
    if refreshing(panel):
        then(None)
        return
    entry = (panel, time.monotonic())
    _running.append(entry)

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
        if entry in _running:
            _running.remove(entry)

    def store(computed: ComputedMessages) -> None:
        panel.change(ops.store_exception_messages, computed, then=stored, on_failure=failed,
                     key="store-messages")

    def compute(names: dict[str, str], counts: frozenset[str]) -> None:
        settings = panel.ctx.settings.planning.exception_settings()
        panel.query(ops.compute_exception_messages, settings, names, counts, then=store,
                    on_failure=failed, progress="Computing exception messages…")

    def units(names: dict[str, str]) -> None:
        panel.query(ops.exception_count_units, then=partial(compute, names), on_failure=failed)

    panel.query(ops.exception_site_names, then=units, on_failure=failed)
