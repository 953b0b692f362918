"""Settings: the configured sources (connector and parameters), their passwords in the system
keyring, and the planning defaults — each value saying where it comes from: the site profile
plant IT deployed, the user's own site override, the user's own settings or the built-in default
(:func:`workbench.services.site.value_origins`; docs/site-profile.md).

Sources and defaults are :mod:`workbench.services.settings` (shared with the CLI, no secrets);
passwords go only through :mod:`workbench.connect.credentials` — never into the settings file,
the cache or the log. A machine without a keyring backend gets a clear message instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from workbench.app.ops import Changes
from workbench.app.sync import Reachability, check_sources
from workbench.app.tables import Col
from workbench.connect import credentials
from workbench.connect.port import available_connectors
from workbench.services.settings import SourceConfig, settings_path
from workbench.services.site import site_profile_path, value_origins
from workbench.ui.panels.base import Panel, PanelContext
from workbench.ui.widgets import TablePane, heading, hint

SOURCE_COLUMNS = [Col("name", "Source"), Col("connector", "Connector"),
                  Col("params_text", "Parameters"), Col("enabled_text", "Enabled"),
                  Col("origin", "Set by", tip="Where the source is configured: the site profile "
                      "plant IT deployed, your own site override, or your own settings")]

#: the planning values whose origin the panel shows, with their field names
PLANNING_FIELDS = ("horizon_weeks", "bucket", "consume_forecast", "consume_backward_days",
                   "consume_forward_days")


def origin_text(origin: str | None) -> str:
    """How the panel names a value's origin (a profile's path, "user", or None: default)."""
    if origin is None:
        return "built-in default"
    if origin == "user":
        return "your settings"
    if Path(origin) == site_profile_path():
        return "site profile"
    return "your site override"


def params_text(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items())


def parse_params(text: str) -> dict[str, Any]:
    """``key = value`` lines to a dict (numbers become numbers); raises ValueError on a bad line."""
    out: dict[str, Any] = {}
    for n, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if "=" not in line:
            raise ValueError(f"line {n}: write parameters as key = value")
        key, value = (p.strip() for p in line.split("=", 1))
        if not key:
            raise ValueError(f"line {n}: the parameter has no name")
        out[key] = int(value) if value.lstrip("-").isdigit() else value
    return out


def keyring_status() -> tuple[bool, str]:
    """(usable, message) about the keyring backend, in the user's words."""
    try:
        backend = credentials._backend()
    except credentials.CredentialError as exc:
        return False, str(exc)
    return True, f"Passwords are kept in the system keyring ({type(backend).__name__})."


class SettingsPanel(Panel):
    name = "settings"
    title = "Settings"
    #: the sources table shows the settings, which change here or when the welcome page adds one
    cares_about: ClassVar[tuple[str, ...]] = ("sources",)

    def __init__(self, ctx: PanelContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.sources = TablePane(SOURCE_COLUMNS, title="Sources", placeholder="Filter sources…")
        self.sources.current_key_changed.connect(self._source_selected)
        self.source_name = QLineEdit()
        self.connector = QComboBox()
        self.connector.addItems(sorted(available_connectors()))
        self.params = QPlainTextEdit()
        self.params.setPlaceholderText("one parameter per line, e.g.\nurl = http://erp:8000\n"
                                       "database = prod\nuser = planner")
        self.params.setMaximumHeight(110)
        self.enabled = QCheckBox("Enabled (synced by Sync now)")
        self.enabled.setChecked(True)
        save = QPushButton("Save source")
        save.setToolTip("Save the source as edited (a source of the same name is replaced); "
                        "your settings then override the site profile's entry")
        save.clicked.connect(self.save_source)
        remove = QPushButton("Remove source")
        remove.setToolTip("Remove the selected source from your settings (its cached data "
                          "stays until the next sync)")
        remove.clicked.connect(self.remove_source)
        test = QPushButton("Test connection")
        test.setToolTip("Ask the source as edited whether it answers, without saving it")
        test.clicked.connect(self.test_source)
        self.source_status = QLabel("")
        self.source_status.setWordWrap(True)
        self.source_status.setObjectName("sourceStatus")

        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("password for the source's user")
        store = QPushButton("Store password in keyring")
        store.setToolTip("Keep the password for the source's user in the system keyring "
                         "(never in the settings file, the cache or the log)")
        store.clicked.connect(self.store_password)
        forget = QPushButton("Forget password")
        forget.setToolTip("Delete the source user's password from the system keyring")
        forget.clicked.connect(self.forget_password)
        self.keyring_note = QLabel("")
        self.keyring_note.setWordWrap(True)
        self.keyring_note.setObjectName("keyringNote")

        self.user = QLineEdit(ctx.settings.user)
        self.horizon = QSpinBox()
        self.horizon.setRange(1, 104)
        self.horizon.setSuffix(" weeks")
        self.horizon.setValue(ctx.settings.planning.horizon_weeks)
        self.bucket = QComboBox()
        self.bucket.addItems(["week", "day"])
        self.bucket.setCurrentText(ctx.settings.planning.bucket)
        planning = ctx.settings.planning
        self.consume = QCheckBox("Sales orders consume forecast")
        self.consume.setToolTip(
            "An open sales order takes the open forecast (and MPS) of its item and site, first "
            "due on or before it within the days back, then after it within the days forward; "
            "off: forecast and orders both count in full")
        self.consume.setChecked(planning.consume_forecast)
        self.consume_back = QSpinBox()
        self.consume_back.setRange(0, 365)
        self.consume_back.setSuffix(" days back")
        self.consume_back.setValue(planning.consume_backward_days)
        self.consume_forward = QSpinBox()
        self.consume_forward.setRange(0, 365)
        self.consume_forward.setSuffix(" days forward")
        self.consume_forward.setValue(planning.consume_forward_days)
        for box in (self.consume_back, self.consume_forward):
            box.setEnabled(planning.consume_forecast)
            self.consume.toggled.connect(box.setEnabled)
        save_defaults = QPushButton("Save planning defaults")
        save_defaults.setToolTip("Save the planning values as your own and recompute the plans "
                                 "(a value equal to the site profile's stays the site's)")
        save_defaults.clicked.connect(self.save_defaults)
        #: where each planning value (and the cache) comes from, beside it
        self.origins: dict[str, QLabel] = {}
        for key in (*(f"planning.{f}" for f in PLANNING_FIELDS), "cache_path"):
            label = QLabel("")
            label.setObjectName(f"origin-{key}")
            label.setStyleSheet("color: #555;")
            self.origins[key] = label
        self.cache_file = QLabel(str(ctx.cache_path or ""))
        self.cache_file.setWordWrap(True)
        self.cache_file.setTextInteractionFlags(self.cache_file.textInteractionFlags()
                                                | Qt.TextInteractionFlag.TextSelectableByMouse)

        form = QFormLayout()
        form.addRow("Name", self.source_name)
        form.addRow("Connector", self.connector)
        form.addRow("Parameters", self.params)
        form.addRow("", self.enabled)
        buttons = QHBoxLayout()
        for b in (save, remove, test):
            buttons.addWidget(b)
        form.addRow("", buttons)
        form.addRow("", self.source_status)
        pw = QHBoxLayout()
        pw.addWidget(self.password, 1)
        pw.addWidget(store)
        pw.addWidget(forget)
        form.addRow("Password", pw)
        form.addRow("", self.keyring_note)
        editor = QGroupBox("Source")
        editor.setLayout(form)
        defaults = QFormLayout()
        defaults.addRow("Your name on decisions", self.user)
        defaults.addRow("Planning horizon", _with(self.horizon, self.origins["planning.horizon_weeks"]))
        defaults.addRow("Bucket", _with(self.bucket, self.origins["planning.bucket"]))
        windows = QHBoxLayout()
        windows.addWidget(self.consume)
        windows.addWidget(self.consume_back)
        windows.addWidget(self.consume_forward)
        windows.addStretch(1)
        defaults.addRow("Forecast", windows)
        consumption = QHBoxLayout()
        for key in ("consume_forecast", "consume_backward_days", "consume_forward_days"):
            consumption.addWidget(self.origins[f"planning.{key}"])
        consumption.addStretch(1)
        defaults.addRow("", consumption)
        defaults.addRow("Cache", _with(self.cache_file, self.origins["cache_path"]))
        defaults.addRow("", save_defaults)
        planning_box = QGroupBox("Planning")
        planning_box.setLayout(defaults)

        right = QVBoxLayout()
        right.addWidget(editor)
        right.addWidget(planning_box)
        right.addStretch(1)
        body = QHBoxLayout()
        body.addWidget(self.sources, 3)
        body.addLayout(right, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(heading(self.title, 14))
        layout.addWidget(hint("Settings are shared with the command line (`workbench sources`). "
                              "Passwords are never written to the settings file, the cache or "
                              "the log."))
        layout.addLayout(body, 1)

    # --- sources ----------------------------------------------------------------------------
    def reload(self) -> None:
        ok, message = keyring_status()
        self.keyring_note.setText(message)
        self.keyring_note.setStyleSheet("" if ok else "color: #b3261e;")
        origins = self.value_origins()
        frame = pd.DataFrame([
            {"name": s.name, "connector": s.connector, "params_text": params_text(s.params),
             "enabled_text": "yes" if s.enabled else "no",
             "origin": origin_text(origins.get(f"sources.{s.name}"))}
            for s in self.ctx.settings.sources], columns=[c.name for c in SOURCE_COLUMNS])
        self.sources.model.set_frame(frame, "name")
        self._show_origins(origins)
        self._finished_loading()

    def value_origins(self) -> dict[str, str]:
        """:func:`workbench.services.site.value_origins` of this panel's settings file (an
        unreadable profile was refused when the settings were loaded: here it shows nothing)."""
        from workbench.services.site import SiteProfileError

        try:
            return value_origins(self.ctx.settings_path)
        except SiteProfileError:
            return {}

    def _show_origins(self, origins: dict[str, str]) -> None:
        """Beside each planning value and the cache: where it comes from (the path on hover)."""
        for key, label in self.origins.items():
            origin = origins.get(key)
            label.setText(f"from {origin_text(origin)}")
            where = (str(self.ctx.settings_path or settings_path()) if origin == "user"
                     else origin or "not set anywhere: the built-in value")
            label.setToolTip(where)
        configured = self.ctx.settings.cache_path
        if self.ctx.cache_path is not None and (
                not configured or Path(configured).expanduser() != Path(self.ctx.cache_path)):
            label = self.origins["cache_path"]
            label.setText("from the command line (--cache) or the built-in default")
            label.setToolTip("")

    def _source_selected(self, name: Any) -> None:
        cfg = self.ctx.settings.source(str(name)) if name is not None else None
        if cfg is None:
            return
        self.source_name.setText(cfg.name)
        self.connector.setCurrentText(cfg.connector)
        self.params.setPlainText("\n".join(f"{k} = {v}" for k, v in cfg.params.items()))
        self.enabled.setChecked(cfg.enabled)
        self.password.clear()
        self._show_password_state(cfg)

    def _show_password_state(self, cfg: SourceConfig) -> None:
        if not credentials.needs_password(cfg.params):
            self.source_status.setText(f"{cfg.name} needs no password.")
            return
        account = credentials.account_for(cfg.connector, cfg.params)
        try:
            stored = credentials.get_password(account) is not None
        except credentials.CredentialError as exc:
            self.source_status.setText(str(exc))
            return
        self.source_status.setText(f"Password for {account}: {'stored' if stored else 'not stored yet'}.")

    def _edited(self) -> SourceConfig:
        return SourceConfig(name=self.source_name.text().strip(),
                            connector=self.connector.currentText(),
                            params=parse_params(self.params.toPlainText()),
                            enabled=self.enabled.isChecked())

    def save_source(self) -> bool:
        try:
            cfg = self._edited()
        except ValueError as exc:  # includes pydantic's ValidationError
            self.source_status.setText(f"Not saved: {_first_error(exc)}")
            return False
        sources = self.ctx.settings.sources
        existing = [i for i, s in enumerate(sources) if s.name == cfg.name]
        if existing:
            sources[existing[0]] = cfg
        else:
            sources.append(cfg)
        self.ctx.save_settings()
        self.source_status.setText(f"Saved {cfg.name}.")
        self.reload()
        self.sources.select_key(cfg.name)
        self.changed.emit(Changes(sources=True))
        return True

    def remove_source(self) -> None:
        name = self.sources.current_key()
        if name is None:
            return
        self.ctx.settings.sources = [s for s in self.ctx.settings.sources if s.name != name]
        self.ctx.save_settings()
        self.source_status.setText(f"Removed {name}; its cached data stays until the next sync.")
        self.reload()
        self.changed.emit(Changes(sources=True))

    def test_source(self) -> None:
        try:
            cfg = self._edited()
        except ValueError as exc:
            self.source_status.setText(_first_error(exc))
            return
        self.source_status.setText(f"Connecting to {cfg.name}…")

        def show(answers: list[Reachability]) -> None:
            r = answers[0]
            self.source_status.setText(
                f"{cfg.name}: {'reachable' if r.ok else 'NOT reachable'} — {r.message}")

        self.query(check_sources, [cfg], then=show, key="test connection",
                   on_failure=lambda exc: self.source_status.setText(str(exc)))

    # --- passwords --------------------------------------------------------------------------
    def store_password(self) -> None:
        try:
            cfg = self._edited()
            if not credentials.needs_password(cfg.params):
                raise credentials.CredentialError(
                    "this source has no 'user' parameter, so it does not log in with a password")
            credentials.set_password(credentials.account_for(cfg.connector, cfg.params),
                                     self.password.text())
        except (ValueError, credentials.CredentialError) as exc:
            self.source_status.setText(f"Password not stored: {_first_error(exc)}")
            return
        finally:
            self.password.clear()
        self._show_password_state(cfg)

    def forget_password(self) -> None:
        try:
            cfg = self._edited()
            credentials.delete_password(credentials.account_for(cfg.connector, cfg.params))
        except (ValueError, credentials.CredentialError) as exc:
            self.source_status.setText(_first_error(exc))
            return
        self._show_password_state(cfg)

    # --- planning defaults ------------------------------------------------------------------
    def save_defaults(self) -> None:
        s = self.ctx.settings
        s.user = self.user.text().strip() or s.user
        s.planning = s.planning.model_copy(update={
            "horizon_weeks": self.horizon.value(),
            "bucket": self.bucket.currentText(),
            "consume_forecast": self.consume.isChecked(),
            "consume_backward_days": self.consume_back.value(),
            "consume_forward_days": self.consume_forward.value(),
        })
        self.ctx.save_settings()
        self.ctx.runner.invalidate()  # the runner reads the new defaults with the next query
        self.source_status.setText("Planning defaults saved; plans are recomputed.")
        self._show_origins(self.value_origins())
        self.changed.emit(Changes(data=True))


def _with(field: QWidget, origin: QLabel) -> QHBoxLayout:
    row = QHBoxLayout()
    row.addWidget(field)
    row.addWidget(origin)
    row.addStretch(1)
    return row


def _first_error(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
    return str(exc)


if __name__ == "__main__":
    from workbench.ui.panels.preview import preview

    preview(SettingsPanel)
