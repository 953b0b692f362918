"""Project rules that tooling enforces: layering, README/CI consistency, generated docs."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
QT = ("PySide6", "pyqtgraph", "PyQt5", "PyQt6", "shiboken6")
SQL = ("sqlalchemy", "sqlite3")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("workbench/domain", QT + SQL),
        ("workbench/analysis", QT + SQL),
        ("workbench/cache", QT),
        ("workbench/services", QT),
        ("workbench/cli", QT),
        ("connectors", QT),
        ("workbench/connect", QT + SQL),
        ("workbench/app", QT),
    ],
)
def test_layers_import_nothing_they_must_not(package: str, forbidden: tuple[str, ...]) -> None:
    offenders = {
        str(p.relative_to(REPO)): sorted(_imports(p) & set(forbidden))
        for p in (REPO / package).rglob("*.py")
        if _imports(p) & set(forbidden)
    }
    assert offenders == {}


def test_ui_only_displays_and_asks_services_for_data() -> None:
    """No SQL in the UI: panels ask workbench/app's operations, which read the cache through
    services and the cache package (tools/screenshots.py is a developer tool outside the app)."""
    offenders = [
        str(p.relative_to(REPO))
        for p in (REPO / "workbench/ui").rglob("*.py")
        if any(s in p.read_text(encoding="utf-8") for s in ("exec_driver_sql", "SELECT ", "execute("))
    ]
    assert offenders == []


def test_core_never_imports_a_concrete_connector() -> None:
    offenders = []
    for p in (REPO / "workbench").rglob("*.py"):
        text = p.read_text(encoding="utf-8")
        for concrete in ("planner_connectors.demo", "planner_connectors.tryton", "planner_connectors.files"):
            if concrete in text and "ui/" not in str(p):
                offenders.append(f"{p.relative_to(REPO)} -> {concrete}")
    assert offenders == []


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    fence = readme.index("```bash")
    run_cmd, test_cmd = (line.split("   #")[0].strip() for line in readme[fence + 1 : fence + 3])
    assert "main.py --demo" in run_cmd
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert test_cmd in ci.splitlines()


def test_data_package_doc_is_generated_from_the_model() -> None:
    from workbench.domain.package_doc import render

    assert (REPO / "docs" / "data-package.md").read_text(encoding="utf-8") == render()
