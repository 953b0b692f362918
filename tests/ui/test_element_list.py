"""The element list in Shortages on the small demo (like MD04): the same lines, running available
quantities and exception codes as ``workbench elements`` prints, a hand-checked item, period
totals by day / week / month, names and units beside codes, and what a double click opens."""

from __future__ import annotations

import json
import math

import pytest

from workbench.cli import main
from workbench.services.exceptions import refresh_exceptions
from workbench.services.planning import open_session
from workbench.ui.panels.shortages import ShortagesPanel

#: (item, site): a bought part, a sub-assembly with dependent requirements, its component, and
#: the sub-assembly whose work order the bought part's component line belongs to
ROWS = [("PP-00037", "P1"), ("SA-00037", "P3"), ("SA-00115", "P3"), ("SA-00074", "P1")]


def _panel(qtbot, ctx) -> ShortagesPanel:  # type: ignore[no-untyped-def]
    refresh_exceptions(ctx.engine, open_session(ctx.engine))  # codes on the lines
    panel = ShortagesPanel(ctx)
    qtbot.addWidget(panel)
    panel.resize(1300, 800)
    with qtbot.waitSignal(panel.loaded, timeout=30_000):
        panel.show()
    return panel


def _open(qtbot, panel: ShortagesPanel, item: str, site: str, element: str = "") -> None:  # type: ignore[no-untyped-def]
    panel.focus_on((item, site, element))
    view = panel.elements
    qtbot.waitUntil(lambda: view.current is not None and (
        view.current.elements.item, view.current.elements.site) == (item, site)
        and not panel.is_loading, timeout=30_000)


def _q(value: float) -> float:
    """A blank quantity cell (the line is the other kind) counts as 0."""
    return 0.0 if math.isnan(value) else float(value)


def _cli(capsys, cache, item: str, site: str, bucket: str = "week") -> dict:  # type: ignore[no-untyped-def]
    capsys.readouterr()
    assert main(["elements", item, "--site", site, "--bucket", bucket, "--cache", str(cache),
                 "--json"]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


@pytest.mark.parametrize("item,site", ROWS)
def test_lines_and_running_available_are_what_the_cli_prints(qtbot, ctx, cache_path, capsys,  # type: ignore[no-untyped-def]
                                                             item, site) -> None:
    panel = _panel(qtbot, ctx)
    _open(qtbot, panel, item, site)
    expected = _cli(capsys, cache_path, item, site)
    model = panel.elements.lines.model
    assert model.rowCount() == len(expected["lines"]) > 2
    for r, line in enumerate(expected["lines"]):
        assert str(model.value(r, "date")) == line["date"]
        assert model.value(r, "element") == line["element"]
        for name, shown in (("receipt", "receipt_shown"), ("requirement", "requirement_shown"),
                            ("available", "available")):
            assert _q(model.value(r, shown)) == pytest.approx(line[name], abs=1e-6), (r, name)
        assert model.value(r, "exception") == line["exception"]
        assert model.value(r, "unit") == expected["unit"]
    caption = panel.elements.caption.text()
    assert caption.startswith(f"{item} {expected['description']} at {site} ")
    assert f"unit {expected['unit']}" in caption
    totals = panel.elements.totals.model
    assert totals.rowCount() == len(expected["totals"])
    for r, t in enumerate(expected["totals"]):
        assert str(totals.value(r, "period")) == t["period"]
        assert totals.value(r, "available") == pytest.approx(t["available"], abs=1e-6)
    for r in range(model.rowCount()):  # readable cells: no None / nan
        for c in range(model.columnCount()):
            assert model.data(model.index(r, c)) not in ("None", "nan", "NaT")


def test_hand_checked_element_list_totals_by_bucket_and_double_clicks(qtbot, ctx) -> None:  # type: ignore[no-untyped-def]
    panel = _panel(qtbot, ctx)
    _open(qtbot, panel, "PP-00037", "P1", "PO-000082/1")
    view = panel.elements
    model = view.lines.model
    shown = [(model.value(r, "type_label"), model.value(r, "element"),
              model.data(model.index(r, 3)), model.data(model.index(r, 4)),
              model.value(r, "available")) for r in range(model.rowCount())]
    # PP-00037 (Dowel Pin 6x30, bought, EA, safety stock 802, order multiple 500) at P1:
    # on hand 677 (P1-WH) + 677 (P1-A01) = 1,354; components (BOM: 8 a SA-00074, 8 a SA-00123,
    # 4 a FG-00002) of WO-000023 591 x 8 = 4,728 on 11-06, WO-000046 887 x 8 = 7,096 on 12-14,
    # WO-000047 1,131 x 4 = 4,524 on 12-16, none issued; PO-000082/1 17,000 ordered, none
    # received, requested 11-04, promised 11-30. Short on 11-06: 4,728 - (1,354 - 802) = 4,176,
    # rounded up to the multiple 500: planned order 4,500.
    # 1,354; + 4,500 = 5,854; - 802 = 5,052; - 4,728 = 324; + 17,000 = 17,324;
    # - 7,096 = 10,228; - 4,524 = 5,704
    assert shown == [
        ("Stock", "", "1,354", "", 1354.0),
        ("Planned order", "planned:PP-00037@P1", "4,500", "", 5854.0),
        ("Safety stock", "", "", "802", 5052.0),
        ("WO component", "WO-000023", "", "4,728", 324.0),
        ("PO line", "PO-000082/1", "17,000", "", 17324.0),
        ("WO component", "WO-000046", "", "7,096", 10228.0),
        ("WO component", "WO-000047", "", "4,524", 5704.0),
    ]
    assert view.selected_line()["element"] == "PO-000082/1"  # the asked-for line
    po_row = 4
    assert model.value(po_row, "supplier_label").endswith("(S0009)")
    assert "E01" in model.value(po_row, "exception")  # due 11-30, needed 11-06
    # totals: weeks from Monday 11-02 (1,354 + 4,500 in, 802 + 4,728 out), 11-30 and 12-14
    # (7,096 + 4,524 out); months 11-01 (5,854 + 17,000 in) and 12-01
    totals = view.totals.model
    assert [(str(totals.value(r, "period")), totals.value(r, "receipts"),
             totals.value(r, "requirements"), totals.value(r, "available"))
            for r in range(totals.rowCount())] == [
        ("2026-11-02", 5854.0, 5530.0, 324.0), ("2026-11-30", 17000.0, 0.0, 17324.0),
        ("2026-12-14", 0.0, 11620.0, 5704.0)]
    view.bucket.setCurrentIndex(view.bucket.findData("month"))
    qtbot.waitUntil(lambda: view.current is not None and view.current.bucket == "month",
                    timeout=30_000)
    assert [(str(totals.value(r, "period")), totals.value(r, "receipts"),
             totals.value(r, "requirements")) for r in range(totals.rowCount())] == [
        ("2026-11-01", 22854.0, 5530.0), ("2026-12-01", 0.0, 11620.0)]
    view.bucket.setCurrentIndex(view.bucket.findData("day"))
    qtbot.waitUntil(lambda: view.current is not None and view.current.bucket == "day",
                    timeout=30_000)
    assert [str(totals.value(r, "period")) for r in range(totals.rowCount())] == [
        "2026-11-02", "2026-11-06", "2026-11-30", "2026-12-14", "2026-12-16"]

    # double click on the PO line: its promise history in Suppliers
    with qtbot.waitSignal(view.navigate_requested, timeout=5_000) as sig:
        view.lines.activated_key.emit(model.key_at(po_row))
    assert sig.args == ["suppliers", ("S0009", "PO-000082", 1)]
    # on the work-order component: its pegging (WO-000023 names no demand: it pegs to itself)
    view.lines.activated_key.emit(model.key_at(3))
    qtbot.waitUntil(lambda: view.pegs.model.rowCount() == 1, timeout=30_000)
    assert (view.pegs.model.value(0, "peg"), view.pegs.model.value(0, "quantity"),
            view.pegs.model.value(0, "unit")) == ("work_order:WO-000023", 4728.0, "EA")
    assert view.pegs.model.value(0, "item_label").startswith("SA-00074 ")
    # the planned order's 4,500 serves the same work order with 4,176 (the rest of its 4,728
    # comes from stock: 1,354 - 802 = 552); the 324 it holds above that (rounded up to the
    # multiple 500) goes, first in first out, to the next requirement: WO-000046
    view.lines.activated_key.emit(model.key_at(1))
    qtbot.waitUntil(lambda: view.pegs.model.rowCount() == 2
                    and view.pegs.model.value(0, "quantity") == 4176.0, timeout=30_000)
    assert [(view.pegs.model.value(r, "peg"), view.pegs.model.value(r, "quantity"))
            for r in range(2)] == [("work_order:WO-000023", 4176.0),
                                   ("work_order:WO-000046", 324.0)]
    # pegged demand -> its order: the work order's own element list, its receipt selected
    # (WO-000023: 591 SA-00074, none completed)
    view.pegs.activated_key.emit(view.pegs.model.key_at(0))
    qtbot.waitUntil(lambda: view.current is not None
                    and view.current.elements.item == "SA-00074" and not panel.is_loading,
                    timeout=30_000)
    line = view.selected_line()
    assert (line["type"], line["element"], line["receipt"]) == ("work_order", "WO-000023",
                                                                 591.0)


def test_a_dependent_requirement_opens_the_where_used_and_pegs_to_its_demand(qtbot, ctx) -> None:  # type: ignore[no-untyped-def]
    panel = _panel(qtbot, ctx)
    _open(qtbot, panel, "SA-00037", "P3")
    view = panel.elements
    model = view.lines.model
    row = next(r for r in range(model.rowCount())
               if model.value(r, "type_label") == "Dependent req.")
    assert model.value(row, "element") == "planned:SA-00030@P3"
    view.lines.select_row(row)
    view.show_pegging(view.selected_line())
    qtbot.waitUntil(lambda: view.pegs.model.rowCount() == 1, timeout=30_000)
    assert view.pegs.model.value(0, "peg") == "SO-000003"
    assert view.pegs.model.value(0, "quantity") == pytest.approx(
        model.value(row, "requirement_shown"))
    with qtbot.waitSignal(view.navigate_requested, timeout=5_000) as sig:
        view.lines.activated_key.emit(model.key_at(row))
    assert sig.args == ["whereused", "SA-00037"]


def test_a_po_line_opens_its_promise_history_in_suppliers(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    # PO-000082/1: 17,000 EA of PP-00037 at P1 from S0009, promised 11-20 then 11-30
    shortages = window.go_to("shortages", ("PP-00037", "P1", "PO-000082/1"))
    view = shortages.elements
    qtbot.waitUntil(lambda: view.current is not None and view.selected_line() is not None
                    and view.selected_line()["element"] == "PO-000082/1", timeout=30_000)
    view.lines.activated_key.emit(view.lines.current_key())
    suppliers = window.panels["suppliers"]
    assert window.current_panel is suppliers
    qtbot.waitUntil(lambda: suppliers.ranking.current_key() == "S0009"
                    and suppliers.lines.current_key() is not None
                    and tuple(suppliers.lines.current_key()) == ("PO-000082", 1)
                    and not suppliers.is_loading, timeout=30_000)
    assert "PO-000082/1" in suppliers.history_plot.getPlotItem().titleLabel.text
