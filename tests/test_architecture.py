"""The architecture is enforced by tools, not by discipline (issue 12, docs/architecture.md).

- import-linter's contracts in pyproject.toml ``[tool.importlinter]``: the layers in order, Qt only in
  workbench.ui, the core never importing an adapter, the adapters never importing the layers above
  the port. ``lint-imports`` checks imports inside functions and indirect chains too.
- ``import workbench.app.<module>`` loads neither pandas nor Qt: the screens' worker processes and
  the CLI import the application layer at start-up, the heavy libraries come with the first call.
- The workshop stays out of the product: no keyring backend, test seeding, dev server or screenshot
  code inside the shipped packages.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
WORKBENCH = REPO / "workbench"
ADAPTERS = REPO / "connectors" / "planner_connectors"
HEAVY_AT_START = ("pandas", "PySide6", "shiboken6", "pyqtgraph")


def _lint_imports() -> str:
    beside = Path(sys.executable).with_name("lint-imports")
    exe = str(beside) if beside.exists() else shutil.which("lint-imports")
    assert exe, "import-linter is not installed: pip install -e '.[test]'"
    return exe


def _contracts() -> dict[str, dict[str, object]]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    return {c["id"]: c for c in config["contracts"]}


def test_import_contracts_are_kept() -> None:
    run = subprocess.run([_lint_imports(), "--no-cache", "--no-logo"], cwd=REPO, capture_output=True,
                         text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-2000:]
    assert "0 broken" in run.stdout


def test_the_contracts_catch_what_they_forbid(tmp_path: Path) -> None:
    """The contracts bite: a copy of the packages with one forbidden import of each kind (upward
    inside a function, between independent siblings, Qt outside the ui, an adapter in the core, the
    application layer in an adapter) breaks every contract, each naming its import."""
    shutil.copytree(WORKBENCH, tmp_path / "workbench", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ADAPTERS, tmp_path / "connectors" / "planner_connectors",
                    ignore=shutil.ignore_patterns("__pycache__"))
    probes = {
        "workbench/cache/_probe.py": "import workbench.analysis.netting\n",
        "workbench/domain/_probe.py": "def f():\n    import workbench.services.settings\n",
        "workbench/app/_probe.py": "import pyqtgraph\nimport planner_connectors.demo\n",
        "connectors/planner_connectors/_probe.py": "import workbench.app.ops\n",
    }
    for name, text in probes.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(tmp_path / "connectors")])}
    run = subprocess.run([_lint_imports(), "--no-cache", "--no-logo", str(REPO / "pyproject.toml")],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 1, run.stdout[-4000:] + run.stderr[-2000:]
    assert "0 kept, 4 broken" in run.stdout, run.stdout[-4000:]
    for line in ("workbench.cache._probe -> workbench.analysis.netting",
                 "workbench.domain._probe -> workbench.services.settings",
                 "workbench.app._probe -> pyqtgraph", "workbench.app._probe -> planner_connectors.demo",
                 "planner_connectors._probe -> workbench.app.ops"):
        assert line in run.stdout, line


def test_the_contracts_name_every_layer_and_keep_qt_out_of_every_package_but_the_ui() -> None:
    """A package added to workbench/ must be placed in a layer and fall under the Qt contract; a
    contract that silently misses it would be kept for the wrong reason."""
    top = {p.name for p in WORKBENCH.iterdir() if (p / "__init__.py").exists()}
    top |= {p.stem for p in WORKBENCH.glob("*.py") if p.name != "__init__.py"}
    contracts = _contracts()
    layered = {name.strip() for layer in contracts["layers"]["layers"]  # type: ignore[attr-defined]
               for name in layer.replace(":", "|").split("|")}
    qt_free = {m.removeprefix("workbench.") for m in contracts["qt-only-in-ui"]["source_modules"]  # type: ignore[attr-defined]
               if m.startswith("workbench.")}
    modules_outside_layers = {"startup"}  # start-up checks used by cli and ui (ahead of any layer)
    assert top - layered == modules_outside_layers
    assert top - qt_free == {"ui"}
    assert "planner_connectors" in contracts["qt-only-in-ui"]["source_modules"]  # type: ignore[operator]


def _app_modules() -> list[str]:
    modules = ["workbench.app"]
    for path in sorted((WORKBENCH / "app").rglob("*.py")):
        rel = path.relative_to(REPO).with_suffix("")
        if path.name != "__init__.py":
            modules.append(".".join(rel.parts))
        elif path.parent != WORKBENCH / "app":
            modules.append(".".join(rel.parts[:-1]))
    return modules


@pytest.mark.parametrize("module", _app_modules())
def test_importing_the_application_layer_loads_neither_pandas_nor_qt(module: str) -> None:
    """Each module in a fresh interpreter (one module importing pandas must not hide behind another
    that does too): heavy imports belong inside the functions, type hints under TYPE_CHECKING."""
    run = subprocess.run([sys.executable, "-c", _IMPORT_PROBE, module, *HEAVY_AT_START], cwd=REPO,
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr[-4000:]
    answer = json.loads(run.stdout.strip().splitlines()[-1])
    assert answer["loaded"] == [], f"import {module} loads {answer['loaded']}, through {answer['via']}"


# imports the module, then names the heavy packages loaded and the chain of workbench modules that
# first imported each (an import hook that never finds anything itself, only looks at the stack)
_IMPORT_PROBE = """
import importlib, json, sys, traceback
heavy, via = set(sys.argv[2:]), {}
class Watch:
    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        if top in heavy and top not in via:
            via[top] = [f.filename.split("/workbench/")[-1] + f":{f.lineno}"
                        for f in traceback.extract_stack() if "/workbench/" in f.filename]
        return None
sys.meta_path.insert(0, Watch())
importlib.import_module(sys.argv[1])
loaded = sorted({m.split(".")[0] for m in sys.modules} & heavy)
print(json.dumps({"loaded": loaded, "via": {k: via.get(k) for k in loaded}}))
"""


def _python_files(*roots: Path) -> list[Path]:
    return [p for root in roots for p in root.rglob("*.py") if "__pycache__" not in p.parts]


def _keyring_backends(paths: list[Path]) -> list[str]:
    found = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any("KeyringBackend" in ast.unparse(b) for b in node.bases):
                found.append(f"{path.relative_to(REPO)}:{node.name}")
    return found


def test_the_shipped_packages_define_no_keyring_backend() -> None:
    """The in-memory keyring is a test double and lives in tests/conftest.py only: keyring adopts
    every imported KeyringBackend subclass, so one in the product would store passwords in memory
    on a machine without a real keyring (also checked at run time in tests/test_secrets.py; this
    one reads the source, workbench.ui included)."""
    assert _keyring_backends(_python_files(WORKBENCH, ADAPTERS)) == []
    doubles = _keyring_backends(_python_files(REPO / "tests", REPO / "tools"))
    assert doubles == ["tests/conftest.py:MemoryKeyring"]


def test_the_workshop_is_not_inside_the_shipped_packages() -> None:
    """Tryton seeding, its dev server and the screenshot script live in tests/support and tools/;
    nothing in the product imports them, trytond (the server) or the test suite."""
    offenders = []
    for path in _python_files(WORKBENCH, ADAPTERS):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            offenders += [f"{path.relative_to(REPO)}:{node.lineno} {n}" for n in names
                          if n.split(".")[0] in ("tests", "tools", "trytond", "pytest")]
    assert offenders == []
    leftovers = [str(p.relative_to(REPO)) for p in _python_files(WORKBENCH, ADAPTERS)
                 if p.stem in ("seed", "seeding", "devserver", "dev_server", "screenshots")]
    assert leftovers == []
    assert (REPO / "tests" / "support" / "tryton").is_dir() and (REPO / "tools" / "screenshots.py").is_file()


def test_ruff_checks_complexity() -> None:
    """ruff's McCabe check (C90) is on at 15, so tests/test_code_style.py fails on a function with more
    independent paths than that: such a function is split into named steps."""
    ruff = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["ruff"]["lint"]
    assert "C90" in ruff["select"] and "C90" not in ruff.get("ignore", [])
    assert ruff["mccabe"]["max-complexity"] == 15
