"""Settings: a source is added and saved to the shared settings; its password goes to the keyring
and nowhere else; no keyring backend gives a clear message."""

from __future__ import annotations

import keyring
from keyring.backends.fail import Keyring as FailKeyring

from workbench.app.ops import Changes, planning_query
from workbench.connect import credentials
from workbench.services.settings import load_settings
from workbench.ui.panels.settings import SettingsPanel, parse_params


@planning_query
def n_buckets(session) -> int:  # type: ignore[no-untyped-def]
    return int(session.calendar.n_buckets)


@planning_query
def consumption_of(session):  # type: ignore[no-untyped-def]
    return session.consumption


def _panel(qtbot, ctx) -> SettingsPanel:  # type: ignore[no-untyped-def]
    panel = SettingsPanel(ctx)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.loaded, timeout=5000):
        panel.show()
    return panel


def test_add_a_source_and_store_its_password_in_the_keyring(qtbot, ctx, tmp_path) -> None:  # type: ignore[no-untyped-def]
    panel = _panel(qtbot, ctx)
    assert panel.sources.model.visible_keys() == ["demo"]
    panel.source_name.setText("erp-export")
    panel.connector.setCurrentText("files")
    panel.params.setPlainText(f"folder = {tmp_path}\nuser = planner\n")
    with qtbot.waitSignal(panel.changed, timeout=2000):
        assert panel.save_source()
    saved = load_settings(ctx.settings_path)
    assert saved.source("erp-export").params == {"folder": str(tmp_path), "user": "planner"}
    assert sorted(panel.sources.model.visible_keys()) == ["demo", "erp-export"]

    qtbot.keyClicks(panel.password, "s3cret-pw")
    panel.store_password()
    account = credentials.account_for("files", {"folder": str(tmp_path), "user": "planner"})
    assert credentials.get_password(account) == "s3cret-pw"
    assert panel.password.text() == ""  # not kept in the widget either
    assert "stored" in panel.source_status.text()
    assert "s3cret-pw" not in ctx.settings_path.read_text(encoding="utf-8")


def test_bad_parameters_are_explained_not_saved(qtbot, ctx) -> None:  # type: ignore[no-untyped-def]
    panel = _panel(qtbot, ctx)
    panel.source_name.setText("erp")
    panel.params.setPlainText("url http://erp:8000")
    assert not panel.save_source()
    assert "key = value" in panel.source_status.text()
    panel.params.setPlainText("url = http://erp:8000\npassword = oops")
    assert not panel.save_source()
    assert "keyring" in panel.source_status.text()  # secrets are refused in settings
    assert load_settings(ctx.settings_path).source("erp") is None
    assert parse_params("a = 1\n# note\nb = x=y") == {"a": 1, "b": "x=y"}


def test_no_keyring_backend_gives_a_clear_message(qtbot, ctx) -> None:  # type: ignore[no-untyped-def]
    previous = keyring.get_keyring()
    keyring.set_keyring(FailKeyring())
    try:
        panel = _panel(qtbot, ctx)
        assert "no system keyring is available" in panel.keyring_note.text()
        panel.source_name.setText("erp")
        panel.connector.setCurrentText("files")
        panel.params.setPlainText("folder = /x\nuser = planner")
        qtbot.keyClicks(panel.password, "pw")
        panel.store_password()
        assert "Password not stored" in panel.source_status.text()
        assert "keyrings.alt" in panel.source_status.text()
    finally:
        keyring.set_keyring(previous)


def test_planning_defaults_are_saved_and_replan(qtbot, ctx) -> None:  # type: ignore[no-untyped-def]
    panel = _panel(qtbot, ctx)
    panel.horizon.setValue(13)
    with qtbot.waitSignal(panel.changed, timeout=2000) as blocker:
        panel.save_defaults()
    assert blocker.args == [Changes(data=True)]
    assert load_settings(ctx.settings_path).planning.horizon_weeks == 13
    assert ctx.runner.defaults().horizon_weeks == 13
    assert ctx.runner.run(n_buckets) == 13


def test_forecast_consumption_windows_are_saved_and_replan(qtbot, ctx) -> None:  # type: ignore[no-untyped-def]
    from workbench.analysis.consumption import DEFAULT_CONSUMPTION, ForecastConsumption

    panel = _panel(qtbot, ctx)
    assert panel.consume.isChecked() and panel.consume_back.value() == 30
    assert ctx.runner.run(consumption_of) == DEFAULT_CONSUMPTION
    panel.consume_back.setValue(14)
    panel.consume_forward.setValue(7)
    with qtbot.waitSignal(panel.changed, timeout=2000):
        panel.save_defaults()
    saved = load_settings(ctx.settings_path).planning
    assert (saved.consume_forecast, saved.consume_backward_days, saved.consume_forward_days) == (
        True, 14, 7)
    assert ctx.runner.run(consumption_of) == ForecastConsumption(14, 7)
    panel.consume.setChecked(False)
    assert not panel.consume_back.isEnabled() and not panel.consume_forward.isEnabled()
    with qtbot.waitSignal(panel.changed, timeout=2000):
        panel.save_defaults()
    assert load_settings(ctx.settings_path).planning.consume_forecast is False
    assert ctx.runner.run(consumption_of) is None  # every demand counts in full
