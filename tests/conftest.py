"""Test isolation shared by every test folder.

- Qt renders offscreen (set before any Qt module loads), so tests need no display.
- Every test gets its own user data / config / state / cache directories (platformdirs and
  QSettings read them), and keyring talks to an in-memory backend: no test touches the
  developer's real cache, settings, logs or passwords.
- A test that leaves a visible top-level window behind fails (napari's leaked-widget check); so
  does one whose background work does not stop when cancelled.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_LOGGING_RULES", "qt.qpa.*=false")


class _MemoryKeyring:
    """An in-memory keyring backend (built lazily so keyring is imported only if present)."""

    @staticmethod
    def make() -> object | None:
        try:
            import keyring
            from keyring.backend import KeyringBackend
        except ImportError:
            return None

        class MemoryKeyring(KeyringBackend):
            priority = 1  # type: ignore[assignment]

            def __init__(self) -> None:
                super().__init__()
                self.store: dict[tuple[str, str], str] = {}

            def get_password(self, service: str, username: str) -> str | None:
                return self.store.get((service, username))

            def set_password(self, service: str, username: str, password: str) -> None:
                self.store[(service, username)] = password

            def delete_password(self, service: str, username: str) -> None:
                from keyring.errors import PasswordDeleteError

                if self.store.pop((service, username), None) is None:
                    raise PasswordDeleteError("no such password")

        backend = MemoryKeyring()
        keyring.set_keyring(backend)
        return backend


@pytest.fixture
def memory_keyring() -> Any:
    """A fresh in-memory keyring backend installed for this test. It lives here, in the tests,
    and nowhere in the application: keyring would pick any backend class the app defines on a
    machine without a real one (and forget the password at exit)."""
    backend = _MemoryKeyring.make()
    if backend is None:
        pytest.skip("keyring is not installed")
    return backend


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory,
                        monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("user")
    for var, sub in (("XDG_DATA_HOME", "data"), ("XDG_CONFIG_HOME", "config"),
                     ("XDG_STATE_HOME", "state"), ("XDG_CACHE_HOME", "cache")):
        (home / sub).mkdir()
        monkeypatch.setenv(var, str(home / sub))
    # subprocesses (CLI, frozen app) get the null backend: never the developer's keyring
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    if "keyring" in sys.modules or _wants_keyring():
        _MemoryKeyring.make()
    qtcore = sys.modules.get("PySide6.QtCore")
    if qtcore is not None:
        for fmt in (qtcore.QSettings.Format.NativeFormat, qtcore.QSettings.Format.IniFormat):
            qtcore.QSettings.setPath(fmt, qtcore.QSettings.Scope.UserScope, str(home / "config"))
    before = _top_level_widgets()
    yield home
    _check_background_work()
    _check_leaked_widgets(before)


def _wants_keyring() -> bool:
    try:
        import importlib.util

        return importlib.util.find_spec("keyring") is not None
    except ValueError:
        return False


def _top_level_widgets() -> set[int]:
    widgets = sys.modules.get("PySide6.QtWidgets")
    if widgets is None or widgets.QApplication.instance() is None:
        return set()
    return {id(w) for w in widgets.QApplication.topLevelWidgets()}


def _check_background_work() -> None:
    ops = sys.modules.get("workbench.ui.operations")
    if ops is None:
        return
    running = [h.name for h in ops.Op.running()]
    # work a test leaves behind is cancelled; it must then stop promptly, or it is stuck
    if not ops.Op.shutdown(timeout_s=30):
        import faulthandler

        faulthandler.dump_traceback(all_threads=True)  # where the stuck work is, for the report
        pytest.fail(f"background work did not stop after the test: {running}")


def _check_leaked_widgets(before: set[int]) -> None:
    widgets = sys.modules.get("PySide6.QtWidgets")
    if widgets is None:
        return
    app = widgets.QApplication.instance()
    if app is None:
        return
    from PySide6.QtCore import QCoreApplication, QEvent

    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    app.processEvents()
    leaked = [w for w in widgets.QApplication.topLevelWidgets()
              if id(w) not in before and w.isVisible()]
    for w in leaked:
        w.close()
        w.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    if leaked:
        names = [f"{type(w).__name__}({w.objectName() or w.windowTitle()!r})" for w in leaked]
        pytest.fail(f"test left top-level widgets open: {names}")


@pytest.fixture(scope="module")
def day0() -> Any:
    """Every record of the small demo plant on day 0 (tests.demo_rows.Rows)."""
    from planner_connectors.demo import DemoConnector

    from tests.demo_rows import pull_all

    return pull_all(DemoConnector("small"))


@pytest.fixture(scope="module")
def day7() -> Any:
    """The same plant a week later."""
    from planner_connectors.demo import DemoConnector

    from tests.demo_rows import pull_all

    return pull_all(DemoConnector("small", day=7))


# --- PostgreSQL (issue 17): one real server per session, a database per test -------------------

@pytest.fixture(scope="session")
def pg_server() -> Iterator[Any]:
    """A PostgreSQL cluster the tests started (tests/support/pgserver.py), stopped at the end.
    Without PostgreSQL binaries the test is skipped with the install line, but on CI (``CI``
    set) it fails: CI must test both engines (`tools/need-postgresql` installs them)."""
    from tests.support.pgserver import NoPostgres, start_server

    try:
        server = start_server()
    except NoPostgres as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the PostgreSQL tests: {exc}")
        pytest.skip(str(exc))
    try:
        yield server
    finally:
        # engines a test left open are collected while the server still answers: their pooled
        # connections then close cleanly instead of failing a reset against a stopped server
        # at interpreter exit (which broke pytest's exit code through a CPython SystemError)
        gc.collect()
        server.stop()


_PG_DATABASES = iter(range(1, 10**9))


@pytest.fixture
def pg_url(pg_server: Any) -> Iterator[str]:
    """The URL of a fresh, empty database on the test server (dropped after the test)."""
    name = f"t{next(_PG_DATABASES)}"
    yield pg_server.create_database(name)
    gc.collect()  # engines the test left open close while their database still exists
    pg_server.drop_database(name)


@pytest.fixture(scope="session")
def pg_template(pg_server: Any) -> str:
    """The name of a database holding the current cache schema (and nothing else): copied by
    :func:`pg_cache_url` (CREATE DATABASE … TEMPLATE, a file copy: fast)."""
    from workbench.cache.db import open_cache

    pg_server.create_database("pwb_template")
    open_cache(pg_server.url("pwb_template")).dispose()  # no connection may stay on a template
    return "pwb_template"


@pytest.fixture
def pg_cache_url(pg_server: Any, pg_template: str) -> Iterator[str]:
    """The URL of a fresh cache database (migrated, empty) on the test server."""
    name = f"c{next(_PG_DATABASES)}"
    yield pg_server.create_database(name, template=pg_template)
    gc.collect()  # engines the test left open close while their database still exists
    pg_server.drop_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_cache(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """An empty, migrated cache engine on SQLite (a file in tmp_path) and on PostgreSQL (a
    database copied from the session's template): a test using it runs on both engines."""
    from workbench.cache.db import open_cache

    if request.param == "sqlite":
        engine = open_cache(tmp_path / "cache.sqlite")
    else:
        engine = open_cache(request.getfixturevalue("pg_cache_url"))
    try:
        yield engine
    finally:
        engine.dispose()
