"""Errors in plain language for the user, details in a log file in the user's log directory.

Every failure reaching the UI goes through :func:`show_error`: the dialog says what happened and
what to do next; the traceback goes to ``<user log dir>/workbench.log`` whose path the dialog
names, so a planner can send it to support.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

import platformdirs
from PySide6.QtWidgets import QMessageBox, QWidget

from workbench import APP_NAME

log = logging.getLogger("workbench.ui")


def log_path() -> Path:
    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)) / "workbench.log"


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose files are readable by the user only (0600, whatever the umask):
    a log names sources, users and records."""

    def _open(self):  # type: ignore[no-untyped-def]
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.fchmod(fd, 0o600)
        return open(fd, self.mode, encoding=self.encoding, errors=self.errors)


def setup_logging(path: Path | None = None) -> Path:
    """Log to a rotating file (5 x 2 MB) readable by the user only, in a folder made 0700;
    idempotent, so tests and previews may call it again."""
    from workbench.services.settings import make_private_folder

    path = path or log_path()
    make_private_folder(path.parent)
    root = logging.getLogger()
    for handler in root.handlers:
        if isinstance(handler, logging.FileHandler) and Path(handler.baseFilename) == path:
            return path
    handler = PrivateRotatingFileHandler(
        path, maxBytes=2_000_000, backupCount=5, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    return path


def user_message(exc: BaseException) -> tuple[str, str]:
    """(what happened, what to do next) in the planner's words."""
    from workbench.cache.db import CacheBusyError, CacheDamagedError, CacheError
    from workbench.connect.port import ConflictError, ConnectorError, TransientError

    text = str(exc) or type(exc).__name__
    if isinstance(exc, CacheBusyError):
        return text, "Wait until it has finished, then try again."
    if isinstance(exc, CacheDamagedError):
        return text, "Nothing more was written to the damaged file."
    if isinstance(exc, CacheError):
        return text, "Open another cache file, or update the application."
    if isinstance(exc, ConflictError):
        return text, "Review the conflict in Sync & Outbox and decide again."
    if isinstance(exc, TransientError):
        return text, "The source may be down or slow. Keep working from the cache and retry later."
    if isinstance(exc, ConnectorError):
        return text, "Check the source's settings in Settings, then sync again."
    if isinstance(exc, PermissionError):
        return f"No permission: {text}", "Choose a folder you can write to."
    if isinstance(exc, FileNotFoundError):
        return f"Not found: {text}", "Check that the file or folder still exists."
    if isinstance(exc, OSError):
        return text, "Check the disk (free space, the file is not open elsewhere) and try again."
    if isinstance(exc, ValueError):
        return text, "Correct the input and try again."
    return (
        f"Something went wrong: {type(exc).__name__}: {text}",
        "Try again; if it keeps happening, send the log file to support.",
    )


def show_error(parent: QWidget | None, title: str, exc: BaseException) -> QMessageBox:
    """Log ``exc`` with its traceback and show a non-blocking message box; returns the box."""
    detail = getattr(exc, "_wb_traceback", None)
    log.error("%s: %s%s", title, exc, f"\n{detail}" if detail else "", exc_info=detail is None)
    what, next_step = user_message(exc)
    box = QMessageBox(QMessageBox.Icon.Warning, title, what, QMessageBox.StandardButton.Ok, parent)
    box.setInformativeText(f"{next_step}\n\nDetails are in {log_path()}.")
    box.setObjectName("errorBox")
    box.open()  # window-modal, does not block the event loop (tests keep running)
    return box
