"""A digest of the code a file beside the cache was made with (stored plan, frame snapshot).

A stored plan or a frame snapshot is only used by the very code that made it: a changed module
of the planning engine could plan the same data differently. The keys of both therefore carry
:func:`code_digest` of the packages and modules they depend on:

* every module of each named package, walked (sub-packages included) without importing the
  modules themselves (``pkgutil.iter_modules`` on the package path), in name order;
* of each module its source file's bytes (a checkout, a wheel);
* where no source ships (a PyInstaller build: the modules live compiled in the bundle's
  archive), the module's code object as its loader returns it, fingerprinted by its bytecode,
  names and constants (``marshal`` output is not used: its reference flags depend on reference
  counts and differ between runs), and the build information the bundle carries
  (``resources/build.txt``: date and commit, written by ``packaging/planner_workbench.spec``);
* always the application version.

A module found neither way adds its name and a marker (the version and the build information
then decide). Walking and reading the ~150 files of analysis, domain and the services named
takes a few milliseconds; callers cache the result per process.
"""

from __future__ import annotations

import hashlib
import importlib.util
import pkgutil
import sys
import types
from collections.abc import Iterator
from importlib.machinery import ModuleSpec
from pathlib import Path
from typing import Any

from workbench import __version__


def build_stamp() -> str:
    """The bundle's ``resources/build.txt`` (date, commit) in a frozen build, else ""."""
    base = getattr(sys, "_MEIPASS", None)
    if base is None:
        return ""
    try:
        return (Path(base) / "resources" / "build.txt").read_text(encoding="utf-8").strip()
    except OSError:
        return "frozen bundle"


def module_specs(*names: str) -> Iterator[tuple[str, ModuleSpec | None]]:
    """(name, spec) of every module ``names`` name: a module itself, a package with every
    module and sub-package below it (spec None: not found)."""
    for name in names:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        yield name, spec
        if spec is not None and spec.submodule_search_locations is not None:
            below = sorted(info.name for info in pkgutil.iter_modules(
                list(spec.submodule_search_locations), name + "."))
            yield from module_specs(*below)


def _constant(value: Any) -> bytes:
    """A code object's constant as bytes that do not depend on hash randomisation."""
    if isinstance(value, (tuple, list)):
        return b"(" + b",".join(_constant(v) for v in value) + b")"
    if isinstance(value, frozenset):
        return b"{" + b",".join(sorted(_constant(v) for v in value)) + b"}"
    if isinstance(value, types.CodeType):
        return code_fingerprint(value)
    return f"{type(value).__name__}:{value!r}".encode()


def code_fingerprint(code: types.CodeType) -> bytes:
    """Bytecode, names and constants of ``code`` and of the code objects it holds."""
    digest = hashlib.sha256(code.co_code)
    for names in (code.co_names, code.co_varnames, code.co_freevars, code.co_cellvars):
        digest.update(repr(names).encode())
    for value in code.co_consts:
        digest.update(_constant(value))
    return digest.digest()


def module_bytes(name: str, spec: ModuleSpec | None) -> bytes:
    """What :func:`code_digest` hashes of one module (module doc)."""
    if spec is None:
        return b"-missing"
    if spec.origin and spec.has_location:
        try:
            return Path(spec.origin).read_bytes()
        except OSError:
            pass
    get_code = getattr(spec.loader, "get_code", None)
    if get_code is not None:
        try:
            code = get_code(name)
        except Exception:  # noqa: BLE001 - any loader failure: the build stamp decides
            code = None
        if isinstance(code, types.CodeType):
            return b"code:" + code_fingerprint(code)
    return b"-"


def code_digest(*names: str) -> str:
    """The digest of the modules and packages ``names`` (module doc), as hex."""
    digest = hashlib.sha256(__version__.encode())
    digest.update(build_stamp().encode())
    for name, spec in module_specs(*names):
        digest.update(b"\0" + name.encode() + b"\0")
        digest.update(module_bytes(name, spec))
    return digest.hexdigest()


__all__ = ["build_stamp", "code_digest", "code_fingerprint", "module_bytes", "module_specs"]
