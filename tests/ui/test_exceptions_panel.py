"""Exceptions panel on the small demo: the messages of the current plan computed when the panel
opens, filters narrowing to counts taken straight from the cache table, keyboard triage that
changes the stored state, decisions and the supplier's bulk approve, and drill-down from a
message to the element list and from an endangered demand to its order; the Overview's
exception cards open the panel filtered."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt

from workbench.app import exceptions as ops
from workbench.services.decisions import query_frame
from workbench.ui.mainwindow import MainWindow
from workbench.ui.panels.exceptions import ExceptionsPanel


def _panel(qtbot, ctx) -> ExceptionsPanel:  # type: ignore[no-untyped-def]
    panel = ExceptionsPanel(ctx)
    qtbot.addWidget(panel)
    panel.resize(1300, 800)
    panel.show()
    qtbot.waitUntil(lambda: panel.queue.model.total_rows > 0 and not panel.is_loading,
                    timeout=60_000)
    panel.activateWindow()  # the refresh's progress dialog had it: keys go to the active one
    qtbot.waitUntil(panel.isActiveWindow, timeout=5_000)
    return panel


def _count(ctx, where: str = "1 = 1", params: tuple = ()) -> int:  # type: ignore[no-untyped-def]
    """Open (unresolved, not snoozed) messages counted in SQL, apart from the panel's code."""
    return int(query_frame(ctx.engine, "SELECT count(*) AS n FROM exception_messages WHERE "
                           "resolved_on IS NULL AND snoozed_until IS NULL AND " + where,
                           params).iloc[0]["n"])


def _pick(panel: ExceptionsPanel, name: str, value: str) -> None:
    combo = panel.queue.pickers[name]
    idx = combo.findData(value)
    assert idx > 0, (name, value, [combo.itemData(i) for i in range(combo.count())])
    combo.setCurrentIndex(idx)


def _stored(ctx, message_id: int) -> dict:  # type: ignore[no-untyped-def]
    return query_frame(ctx.engine, "SELECT * FROM exception_messages WHERE id = ?",
                       (message_id,)).iloc[0].to_dict()


def test_opening_computes_the_messages_and_filters_narrow_to_the_stored_counts(qtbot, ctx) -> None:  # type: ignore[no-untyped-def]
    assert _count(ctx) == 0  # the synced demo has no messages stored yet
    panel = _panel(qtbot, ctx)
    model = panel.queue.model
    total = _count(ctx)
    assert total > 400 and model.rowCount() == total == model.total_rows
    assert panel.last_refresh is not None and panel.last_refresh.new == total
    _pick(panel, "role", "buyer")
    assert model.rowCount() == _count(ctx, "role = 'buyer'")
    _pick(panel, "kind_label", "E01 reschedule in")
    buyer_e01 = _count(ctx, "role = 'buyer' AND code = 'E01'")
    assert 0 < model.rowCount() == buyer_e01 < total
    _pick(panel, "supplier_label", model.value(0, "supplier_label"))
    supplier = str(query_frame(ctx.engine, "SELECT supplier FROM exception_messages WHERE id = ?",
                               (int(model.key_at(0)),)).iloc[0]["supplier"])
    assert model.rowCount() == _count(ctx, "role = 'buyer' AND code = 'E01' AND supplier = ?",
                                      (supplier,))
    # the supplier is named, not only coded
    assert model.value(0, "supplier_label").endswith(f"({supplier})")
    assert len(model.value(0, "supplier_label")) > len(supplier) + 3
    for name in ("role", "kind_label", "supplier_label"):
        panel.queue.pickers[name].setCurrentIndex(0)
    _pick(panel, "severity", "high")
    assert model.rowCount() == _count(ctx, "severity = 'high'")
    _pick(panel, "site_label", model.value(0, "site_label"))
    site = model.value(0, "site_label").split()[0]
    assert model.rowCount() == _count(ctx, "severity = 'high' AND site = ?", (site,))
    _pick(panel, "age_band", "0-2 d")  # every message is new on the first refresh
    assert model.rowCount() == _count(ctx, "severity = 'high' AND site = ?", (site,))
    assert_readable(model)


def assert_readable(model) -> None:  # type: ignore[no-untyped-def]
    """No visible cell reads None, nan or NaT."""
    for r in range(model.rowCount()):
        for c in range(model.columnCount()):
            text = model.data(model.index(r, c))
            assert text not in ("None", "nan", "NaT") and "nan" not in text.split(), (r, c, text)


def test_keyboard_triage_changes_the_stored_state(qtbot, ctx) -> None:  # type: ignore[no-untyped-def]
    panel = _panel(qtbot, ctx)
    view = panel.queue.view
    view.setFocus()
    panel.queue.select_row(0)
    first = int(panel.queue.current_key())
    qtbot.keyClick(view, Qt.Key.Key_C)  # acknowledge: stays listed, as acknowledged
    qtbot.waitUntil(lambda: _stored(ctx, first)["acknowledged_by"] == "tester", timeout=30_000)

    def shown_acknowledged() -> bool:
        # the table is read again after the store: "not loading" alone could be seen before
        # that read started (flaky under load)
        row = panel.queue.model.row_of(first)
        return row is not None and panel.queue.model.value(row, "state") == "acknowledged"

    qtbot.waitUntil(shown_acknowledged, timeout=30_000)
    qtbot.waitUntil(lambda: not panel.is_loading, timeout=30_000)

    total = panel.queue.model.total_rows
    panel.queue.select_row(1)
    qtbot.keyClick(view, Qt.Key.Key_J)  # next
    assert view.currentIndex().row() == 2
    qtbot.keyClick(view, Qt.Key.Key_K)  # previous
    assert view.currentIndex().row() == 1
    second = int(panel.queue.current_key())
    panel.snooze_days.setValue(10)
    qtbot.keyClick(view, Qt.Key.Key_S)  # snooze 10 days: gone from the list
    qtbot.waitUntil(lambda: panel.queue.model.total_rows == total - 1, timeout=30_000)
    stored = _stored(ctx, second)
    day = panel.planning_day
    assert day is not None
    assert (stored["snoozed_until"], stored["snoozed_by"]) == (
        (day + dt.timedelta(days=10)).isoformat(), "tester")
    assert panel.queue.model.row_of(second) is None
    panel.include_closed.setChecked(True)  # snoozed ones on demand
    qtbot.waitUntil(lambda: panel.queue.model.row_of(second) is not None, timeout=30_000)
    assert panel.queue.model.value(panel.queue.model.row_of(second), "state") == "snoozed"


@pytest.mark.skipif(not hasattr(ops, "decide_messages"), reason="decisions on messages")
def test_approve_and_reject_by_key_and_the_supplier_bulk_approve(qtbot, ctx) -> None:  # type: ignore[no-untyped-def]
    panel = _panel(qtbot, ctx)
    model = panel.queue.model
    view = panel.queue.view
    _pick(panel, "kind_label", "E01 reschedule in")
    view.setFocus()
    panel.queue.select_row(0)
    first = int(panel.queue.current_key())
    qtbot.waitUntil(lambda: panel.detail is not None and panel.detail.id == first,
                    timeout=30_000)
    qtbot.keyClick(view, Qt.Key.Key_A)
    qtbot.waitUntil(lambda: "decision(s) stored" in panel.status.text(), timeout=30_000)
    qtbot.waitUntil(lambda: not panel.is_loading and model.row_of(first) is not None
                    and model.value(model.row_of(first), "decision") != "", timeout=30_000)
    assert model.value(model.row_of(first), "decision").startswith("approved")
    key = _stored(ctx, first)["message_key"]
    decided = query_frame(ctx.engine, "SELECT d.verdict, o.id AS outbox FROM decisions d "
                          "LEFT JOIN outbox o ON o.decision = d.id WHERE d.message_key = ?",
                          (key,))
    assert list(decided["verdict"]) == ["approve"] and decided["outbox"].notna().all()

    panel.queue.select_row(model.row_of(first) + 1 if model.row_of(first) == 0 else 0)
    second = int(panel.queue.current_key())
    qtbot.waitUntil(lambda: panel.detail is not None and panel.detail.id == second,
                    timeout=30_000)
    qtbot.keyClick(view, Qt.Key.Key_R)
    qtbot.waitUntil(lambda: len(query_frame(
        ctx.engine, "SELECT id FROM decisions WHERE message_key = ?",
        (_stored(ctx, second)["message_key"],))) == 1, timeout=30_000)

    # bulk: every open reschedule of one supplier
    supplier = str(query_frame(ctx.engine, "SELECT supplier, count(*) AS n FROM "
                               "exception_messages WHERE code IN ('E01', 'E02') AND "
                               "supplier != '' AND resolved_on IS NULL GROUP BY supplier "
                               "ORDER BY n DESC, supplier").iloc[0]["supplier"])
    wanted = set(query_frame(ctx.engine, "SELECT message_key FROM exception_messages WHERE "
                             "code IN ('E01', 'E02') AND supplier = ? AND resolved_on IS NULL",
                             (supplier,))["message_key"])
    panel.queue.pickers["kind_label"].setCurrentIndex(0)
    row = next(r for r in range(model.rowCount())
               if model.value(r, "supplier_label").endswith(f"({supplier})"))
    panel.queue.select_row(row)
    qtbot.waitUntil(lambda: panel.bulk_button.isEnabled() and panel.detail is not None
                    and panel.detail.message.get("supplier") == supplier, timeout=30_000)
    qtbot.mouseClick(panel.bulk_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wanted <= set(query_frame(
        ctx.engine, "SELECT message_key FROM decisions WHERE message_key IS NOT NULL")
        ["message_key"]), timeout=30_000)


def test_drill_down_from_a_message_to_its_element_list_and_from_a_demand_to_its_order(  # type: ignore[no-untyped-def]
        qtbot, window: MainWindow) -> None:
    panel = window.go_to("exceptions")
    assert isinstance(panel, ExceptionsPanel)
    qtbot.waitUntil(lambda: panel.queue.model.total_rows > 0 and not panel.is_loading,
                    timeout=60_000)
    _pick(panel, "kind_label", "E01 reschedule in")
    model = panel.queue.model
    # a reschedule-in whose endangered demand is a sales order (not a work order)
    found = None
    for r in range(model.rowCount()):
        panel.queue.select_row(r)
        key = int(model.key_at(r))
        qtbot.waitUntil(lambda k=key: panel.detail is not None and panel.detail.id == k,
                        timeout=30_000)
        pegs = panel.detail.message.get("endangers") or []
        if pegs and not pegs[0]["peg"].startswith("work_order:"):
            found = panel.detail.message
            break
    assert found is not None
    # the evidence: the element list of the message's item beside it, its line selected
    qtbot.waitUntil(lambda: panel.elements.current is not None
                    and panel.elements.current.elements.item == found["item"], timeout=30_000)
    line = panel.elements.selected_line()
    assert line is not None and line["element"] == found["element"]
    assert "E01" in line["exception"]
    assert panel.endangers.model.rowCount() == len(found["endangers"])

    # message -> element list in Shortages (key O), the message's line selected
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    panel.queue.view.setFocus()
    qtbot.keyClick(panel.queue.view, Qt.Key.Key_O)
    shortages = window.panels["shortages"]
    assert window.current_panel is shortages
    assert shortages.tabs.currentWidget() is shortages.elements
    qtbot.waitUntil(lambda: shortages.elements.current is not None
                    and shortages.elements.current.elements.item == found["item"],
                    timeout=30_000)
    assert shortages.elements.current.elements.site == found["site"]
    assert shortages.elements.selected_line()["element"] == found["element"]

    # endangered demand -> its order: the demand's own element list, the demand selected
    window.go_to("exceptions")
    demand = found["endangers"][0]["peg"]
    panel.open_demand(demand)
    qtbot.waitUntil(lambda: window.current_panel is shortages
                    and shortages.elements.current is not None
                    and shortages.elements.current.elements.item != found["item"],
                    timeout=30_000)
    from workbench.cache.frames import read_entity_frame

    dem = read_entity_frame(window.ctx.engine, "demands").set_index("code").loc[demand]
    shown = shortages.elements.current.elements
    assert (shown.item, shown.site) == (dem["item"], dem["site"])
    qtbot.waitUntil(lambda: shortages.elements.selected_line() is not None
                    and shortages.elements.selected_line()["element"] == demand,
                    timeout=10_000)
    assert shortages.elements.selected_line()["type"] == "demand"


def test_overview_exception_cards_open_the_panel_filtered(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    overview = window.panels["overview"]
    qtbot.waitUntil(lambda: overview.has_loaded and not overview.is_loading
                    and overview.cards["exceptions"].value.text() not in ("…", "0"),
                    timeout=60_000)
    ctx = window.ctx
    total = _count(ctx)
    assert overview.cards["exceptions"].value.text() == f"{total:,}"
    high = _count(ctx, "severity = 'high'")
    assert overview.cards["high"].value.text() == f"{high:,}"
    qtbot.mouseClick(overview.cards["high"], Qt.MouseButton.LeftButton)
    panel = window.current_panel
    assert isinstance(panel, ExceptionsPanel)
    qtbot.waitUntil(lambda: panel.queue.model.total_rows > 0 and not panel.is_loading
                    and panel.queue.pickers["severity"].currentData() == "high",
                    timeout=60_000)
    assert panel.queue.model.rowCount() == high
    # a kind in the Overview's list: the panel filtered to it, every other filter cleared
    window.go_to("overview")
    row = next(r for r in range(overview.kinds.rowCount())
               if overview.kinds.item(r, 0).text() == "E03 cancel")
    assert overview.kinds.item(row, 1).text() == f"{_count(ctx, 'code = ' + repr('E03')):,}"
    overview.kinds.cellClicked.emit(row, 1)
    assert window.current_panel is panel
    assert panel.queue.pickers["severity"].currentData() == ""
    assert panel.queue.model.rowCount() == _count(ctx, "code = 'E03'")


def test_overview_counts_in_sql_agree_with_the_listed_messages(ctx) -> None:  # type: ignore[no-untyped-def]
    from workbench.app.exception_views import AGE_BANDS, age_band, exception_overview, kind_label
    from workbench.services import exceptions
    from workbench.services.planning import open_session

    exceptions.refresh_exceptions(ctx.engine, open_session(ctx.engine))
    day = exceptions.current_day(ctx.engine)
    exceptions.acknowledge(ctx.engine, [1], "ana")
    exceptions.snooze(ctx.engine, [2, 3], day + dt.timedelta(days=3), "ana")
    exceptions.snooze(ctx.engine, [4], day, "ana")  # until today: still hidden today
    listed = exceptions.list_exceptions(ctx.engine)
    overview = exception_overview(ctx.engine)
    assert overview.open_total == len(listed) == _count(ctx)  # 2, 3, 4 snoozed
    assert {2, 3, 4}.isdisjoint(m.id for m in listed) and 1 in {m.id for m in listed}
    kinds: dict[str, int] = {}
    roles: dict[str, dict[str, int]] = {}
    for m in listed:
        kinds[kind_label(m.code, m.kind)] = kinds.get(kind_label(m.code, m.kind), 0) + 1
        bands = roles.setdefault(m.role.replace("_", " "), {b[0]: 0 for b in AGE_BANDS})
        bands[age_band(m.age_days)] += 1
    assert overview.by_kind == kinds and overview.by_role_and_age == roles
    assert sum(overview.by_severity.values()) == len(listed)
    assert (overview.oldest_id, overview.oldest_age_days) == (listed[0].id, listed[0].age_days)
