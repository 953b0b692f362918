"""The one way a connector is opened: from a source's connector name and settings, the cache it
belongs with, and the credentials in the keyring (GUI, CLI and outbox alike).

A connector may keep a store of its own that belongs with one cache: the demo plant keeps the
writes it took in a ledger file (``cache_store`` on the connector class names the parameter and
the suffix added to the cache path). :func:`open_connector` passes that file, so a cache and its
demo ledger always go together, and such a connector needs no configuration at all: the outbox
builds it from the cache alone (:func:`self_contained_connector`). A connector that logs in with
a password gets it from the keyring just before it is built (:mod:`workbench.connect.credentials`),
so it exists only in memory.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from workbench.connect.credentials import connector_params
from workbench.connect.port import Connector, ConnectorError, get_connector_class


class OptionError(ConnectorError):
    """A source setting that the connector does not take, or a value of the wrong kind."""


def _option_names(cls: type[Connector]) -> tuple[dict[str, Any], set[str]]:
    """The connector's declared options (name -> FieldInfo) and every parameter it takes."""
    model = cls.options
    declared: dict[str, Any] = dict(model.model_fields) if model is not None else {}
    taken = set(declared)
    for p in inspect.signature(cls.__init__).parameters.values():
        if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
            taken.add(p.name)
    return declared, taken


def typed_options(name: str, params: dict[str, Any], *, complete: bool = False) -> dict[str, Any]:
    """``params`` with each option the connector ``name`` declares (its ``options`` model)
    converted to its type and checked (``timeout=abc`` -> OptionError naming the option).

    Parameters a connector takes without declaring them pass unchanged; a name it does not
    take at all is refused (unless its ``__init__`` takes ``**kwargs``). ``complete``: also
    require the options that have no default (when a source is saved).
    """
    cls = get_connector_class(name)
    declared, taken = _option_names(cls)
    model = cls.options
    out = dict(params)
    open_ended = any(p.kind is p.VAR_KEYWORD
                     for p in inspect.signature(cls.__init__).parameters.values())
    for key, value in params.items():
        if key not in taken and not open_ended:
            raise OptionError(
                f"{name} takes no option {key!r} (its options: {', '.join(sorted(declared or taken))})"
            )
        info = declared.get(key)
        if info is None or model is None:
            continue
        try:
            checked = model.model_construct()
            model.__pydantic_validator__.validate_assignment(checked, key, value)
            out[key] = getattr(checked, key)
        except ValidationError as exc:
            reason = exc.errors(include_url=False)[0]["msg"]
            hint = f" ({info.description})" if info.description else ""
            raise OptionError(f"{name} option {key}={value!r}: {reason}{hint}") from None
    if complete:
        missing = [k for k, info in declared.items() if info.is_required() and k not in params]
        if missing:
            raise OptionError(f"{name} needs {', '.join(f'{k}=...' for k in missing)}")
    return out


def make_connector(name: str, **params: Any) -> Connector:
    """An instance of the registered connector ``name`` with exactly these parameters (its
    declared options converted and checked first, see :func:`typed_options`): the lower step of
    :func:`open_connector`, which the application uses (tests may build with this directly)."""
    return get_connector_class(name)(**typed_options(name, params))


def with_cache_store(name: str, params: dict[str, Any], cache: Path | str | None) -> dict[str, Any]:
    """``params`` plus the file beside ``cache`` where connector ``name`` keeps its own store,
    when it keeps one and ``params`` name none."""
    store = get_connector_class(name).cache_store
    if store is None or cache is None or params.get(store[0]):
        return dict(params)
    param, suffix = store
    return {**params, param: f"{cache}{suffix}"}


def with_cache_reads(name: str, params: dict[str, Any], cache: Path | str | None) -> dict[str, Any]:
    """``params`` plus ``cache`` itself in the parameter connector ``name`` names in
    ``cache_reads`` (it looks facts up there, read-only), when ``params`` name none."""
    reads = get_connector_class(name).cache_reads
    if not reads or cache is None or params.get(reads):
        return dict(params)
    return {**params, reads: str(cache)}


def self_contained_connector(name: str, cache: Path | str | None) -> Connector | None:
    """Connector ``name`` built from the cache alone, if it keeps its store beside the cache
    (None otherwise: it needs a configured source)."""
    if cache is None or get_connector_class(name).cache_store is None:
        return None
    return open_connector(name, cache=cache)


def open_connector(connector: str, params: Mapping[str, Any] | None = None, *,
                   cache: Path | str | None = None) -> Connector:
    """Connector ``connector`` (a registered name) opened with a source's ``params``: the store
    beside ``cache`` added when it keeps one, the password added from the keyring when it logs
    in with one, every declared option converted and checked (:func:`typed_options`)."""
    full = with_cache_reads(connector, with_cache_store(connector, dict(params or {}), cache),
                            cache)
    return make_connector(connector, **connector_params(connector, full))
