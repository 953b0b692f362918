"""A read replaced by a newer one whose answer comes after its panel was deleted (a window closed
while the replaced read was still answering) does not touch the deleted panel: the handle's
signals are connected to lambdas, not to the panel, so they still arrive (seen once as a teardown
error of test_approvals_panel in a full run; the guard is ``shiboken6.isValid`` in
``Panel._superseded``)."""

from __future__ import annotations

import threading
from typing import Any

import shiboken6

from workbench.ui.panels.base import Panel, PanelContext


class _Probe(Panel):
    name = "probe"
    title = "Probe"


def test_a_replaced_read_answering_after_its_panel_is_deleted_touches_nothing(  # type: ignore[no-untyped-def]
        qtbot, ctx: PanelContext) -> None:
    panel = _Probe(ctx)
    gate = threading.Event()

    def slow(_state: Any) -> int:
        gate.wait(10)
        return 1

    first = panel._start(slow, lambda _r: None, name="read", key="read", progress=None,
                         on_failure=None, pool="read")
    second = panel._start(lambda _state: 2, lambda _r: None, name="read", key="read",
                          progress=None, on_failure=None, pool="read")
    qtbot.waitUntil(lambda: second.done, timeout=10_000)
    assert first.superseded
    shiboken6.delete(panel)
    assert not shiboken6.isValid(panel)
    # pytest-qt fails the test on an exception raised in a slot (the emit on a deleted panel
    # raised RuntimeError: Internal C++ object already deleted)
    gate.set()
    qtbot.waitUntil(lambda: first.done, timeout=10_000)
    qtbot.wait(200)  # the replaced read's signals are delivered
    # and directly, as a late signal calls it: nothing is emitted on the deleted panel
    panel._superseded(first)
