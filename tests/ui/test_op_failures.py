"""A background job that fails — in its work or while its answer is shown — closes its progress
dialog and shows the error (the what-if's TypeError once left "Computing the impact…" open)."""

from __future__ import annotations

import time

from PySide6.QtWidgets import QMessageBox, QProgressDialog, QWidget

from workbench.services.tasks import TaskState
from workbench.ui.operations import DIALOG_DELAY_MS, Op

#: long enough for the progress dialog to appear before the job ends
SLOW_S = DIALOG_DELAY_MS / 1000 + 0.5


def _owner(qtbot) -> QWidget:  # type: ignore[no-untyped-def]
    owner = QWidget()
    qtbot.addWidget(owner)
    owner.show()
    return owner


def _dialogs(owner: QWidget) -> list[QProgressDialog]:
    return [d for d in owner.findChildren(QProgressDialog) if d.isVisible()]


def _error_boxes(owner: QWidget) -> list[QMessageBox]:
    return [b for b in owner.findChildren(QMessageBox) if b.isVisible()]


def _slow_failure(_state: TaskState) -> int:
    time.sleep(SLOW_S)
    raise ValueError("row 3 of items.csv: quantity 'abc' is not a number")


def test_a_job_raising_closes_its_progress_dialog_and_shows_the_error(qtbot) -> None:  # type: ignore[no-untyped-def]
    owner = _owner(qtbot)
    finished: list[bool] = []
    handle = (Op(_slow_failure, name="Crunch", parent=owner).with_progress("Crunching…")
              .on_finished(lambda: finished.append(True)).run())
    qtbot.waitUntil(lambda: bool(_dialogs(owner)), timeout=5_000)  # the dialog did appear
    qtbot.waitUntil(lambda: bool(finished), timeout=10_000)
    assert isinstance(handle.error, ValueError)
    assert _dialogs(owner) == []
    # no failure callback was given: the op shows the error itself, in plain words
    boxes = _error_boxes(owner)
    assert len(boxes) == 1
    assert boxes[0].text() == "row 3 of items.csv: quantity 'abc' is not a number"
    boxes[0].close()


def _slow_answer(_state: TaskState) -> dict[str, None]:
    time.sleep(SLOW_S)
    return {"first_shortage": None}


def test_an_answer_whose_display_raises_is_a_failure_too(qtbot) -> None:  # type: ignore[no-untyped-def]
    owner = _owner(qtbot)
    errors: list[BaseException] = []
    finished: list[bool] = []

    def show(answer: dict[str, None]) -> None:
        answer["first_shortage"] + 1  # type: ignore[operator]  # the bug being simulated

    (Op(_slow_answer, name="Impact", parent=owner).with_progress("Computing the impact…")
     .on_success(show).on_failure(errors.append).on_finished(lambda: finished.append(True))
     .run())
    qtbot.waitUntil(lambda: bool(_dialogs(owner)), timeout=5_000)
    qtbot.waitUntil(lambda: bool(finished), timeout=10_000)
    assert _dialogs(owner) == []
    assert [type(e) for e in errors] == [TypeError]
    assert "_wb_traceback" in errors[0].__dict__  # the log gets where it happened


def test_a_failure_handler_raising_still_closes_the_dialog(qtbot) -> None:  # type: ignore[no-untyped-def]
    owner = _owner(qtbot)
    finished: list[bool] = []

    def broken(_exc: BaseException) -> None:
        raise RuntimeError("handler bug")

    (Op(_slow_failure, name="Crunch", parent=owner).with_progress("Crunching…")
     .on_failure(broken).on_finished(lambda: finished.append(True)).run())
    qtbot.waitUntil(lambda: bool(_dialogs(owner)), timeout=5_000)
    qtbot.waitUntil(lambda: bool(finished), timeout=10_000)
    assert _dialogs(owner) == []
