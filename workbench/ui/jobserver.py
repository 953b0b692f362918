"""TRANSITIONAL: jobs addressed by a string name, kept only until the planning panels pass the
functions themselves to ``Panel.query`` (issue 12). The worker processes are
:mod:`workbench.app.processes`."""

from __future__ import annotations

from typing import Any


class Job:
    """A picklable reference to a job function by name, with its keyword arguments."""

    def __init__(self, target: str, kwargs: dict[str, Any]) -> None:
        self.target = target
        self.kwargs = kwargs

    def __call__(self, *args: Any) -> Any:
        import importlib

        module, name = self.target.split(":")
        return getattr(importlib.import_module(module), name)(*args, **self.kwargs)

    def __repr__(self) -> str:
        return f"Job({self.target}, {self.kwargs})"


def job(name: str, **kwargs: Any) -> Job:
    """A job of :mod:`workbench.ui.jobs` (or ``module:function`` for another module)."""
    return Job(name if ":" in name else f"workbench.ui.jobs:{name}", kwargs)
