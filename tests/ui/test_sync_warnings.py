"""A sync's warnings (e.g. columns a data package reset) reach the status line."""

from __future__ import annotations

from workbench.app.sync import describe_result
from workbench.domain.enums import SyncRunStatus
from workbench.services.sync import SyncResult


def test_the_status_line_names_the_first_warning_and_counts_the_rest() -> None:
    result = SyncResult("files", SyncRunStatus.SUCCEEDED,
                        counts={"items": {"received": 3, "changed": 1, "deleted": 0}},
                        warnings=["a.csv: no column x", "b.csv: no column y"], duration_s=0.3)
    assert describe_result(result) == (
        "files: 3 records received, 1 changed in 0.3 s; warning: a.csv: no column x (and 1 more)")
    result.warnings = []
    assert describe_result(result) == "files: 3 records received, 1 changed in 0.3 s"
