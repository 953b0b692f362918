"""The Approvals panel on a team cache (issue 17 §2): another buyer decides a requisition while
this buyer's queue shows it; approving it then stores nothing and the panel names the other
buyer's decision (who, login, when, what), reloading the queue without that row. Real processes
and cache: the panel's writer process and a second engine on the same file (the other
workstation)."""

from __future__ import annotations

import datetime as dt
import getpass

import pandas as pd
from PySide6.QtCore import Qt

from tests.ui.test_approvals_panel import _advise, _panel
from workbench.cache.db import open_cache
from workbench.services.decisions import decisions_frame, record_decision


def test_approving_what_another_buyer_decided_meanwhile_names_their_decision(  # type: ignore[no-untyped-def]
        qtbot, ctx) -> None:
    _advise(ctx)
    panel = _panel(qtbot, ctx)
    panel.queue.select_row(0)
    key = panel.queue.current_key()
    row = panel._frame.loc[key]
    code = str(row["requisition"])
    assert int(row["decision_version"]) == 0  # as the queue was read
    other = open_cache(ctx.cache_path)  # the other workstation
    try:
        theirs = record_decision(other, code, "reject", decided_by="Bob", action="keep",
                                 recommendation=int(key), now=dt.datetime(2026, 12, 5, 9, 30),
                                 expected_version=0)
    finally:
        other.dispose()
    panel.queue.view.setFocus()
    qtbot.keyClick(panel.queue.view, Qt.Key.Key_A)  # approve what the screen still shows
    qtbot.waitUntil(lambda: panel.status.text().startswith("Not stored"), timeout=30_000)
    text = panel.status.text()
    assert f"Not stored: {code} was decided meanwhile by Bob (login {getpass.getuser()}" in text
    assert "at 2026-12-05T09:30:00: reject keep" in text
    assert "Yours was tester (login " in text and ": approve " in text
    decided = decisions_frame(ctx.engine)
    assert decided.loc[decided["requisition"] == code, "decided_by"].tolist() == ["Bob"]
    assert int(decided.loc[decided["requisition"] == code, "id"].iloc[0]) == theirs.decision
    # the queue was reloaded: Bob's decision took the row out
    qtbot.waitUntil(lambda: code not in set(panel._frame["requisition"]), timeout=30_000)
    assert isinstance(panel._frame, pd.DataFrame)
