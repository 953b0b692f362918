"""The one place passwords live: the system keyring, behind a small credential manager.

Settings hold a source's connector and parameters, never its secret (see
:mod:`workbench.services.settings`). When a connector needs a password, :func:`connector_params`
adds it from the keyring just before the connector is built, so it exists only in memory.

Passwords are stored under the service ``PlannerWorkbench`` and an account naming what they
open: ``tryton:planner@http://erp:8000/prod`` (connector, user, URL, database), so two sources on
the same server and user share one entry and a changed URL asks again.

Frozen applications often lose their keyring backend (keyring issue #324); when there is none the
user gets :class:`CredentialError` saying what to install instead of keyring's own traceback, and
``python -m workbench.connect.credentials set`` exits with code 1 before asking for the
password. The application never defines a keyring backend of its own: keyring picks up every
``KeyringBackend`` subclass that is imported, so an in-memory one here would silently become the
store on a machine without a real one ("stored", then lost at exit). Tests install an in-memory
keyring from ``tests/conftest.py``.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

import keyring
import keyring.backend
import keyring.errors

from workbench import APP_NAME

SERVICE = APP_NAME
#: a connector parameter with this name means the connector logs in with a password
USER_PARAM = "user"

NO_BACKEND_HELP = (
    "no system keyring is available to keep the password (keyring backend: {backend}). "
    "On Windows and macOS the system keyring is built in; on Linux start a Secret Service "
    "(GNOME Keyring or KWallet), or on a headless machine install the 'keyrings.alt' package. "
    "Planner Workbench never stores passwords in its settings, cache or logs."
)


class CredentialError(RuntimeError):
    """The password cannot be read or stored; the message says why and what to do."""


def backend() -> keyring.backend.KeyringBackend:
    """The usable keyring backend, or :class:`CredentialError` saying what to install."""
    backend = keyring.get_keyring()
    name = type(backend).__module__ + "." + type(backend).__name__
    if "keyring.backends.fail" in name or "keyring.backends.null" in name:
        raise CredentialError(NO_BACKEND_HELP.format(backend=name))
    return backend


_backend = backend  # the name the settings panel used first


def account_for(connector: str, params: dict[str, Any]) -> str:
    """The keyring account of a source: connector, user, URL and database it logs into."""
    user = params.get(USER_PARAM, "")
    where = "/".join(str(params[k]) for k in ("url", "database") if params.get(k))
    return f"{connector}:{user}@{where}"


def needs_password(params: dict[str, Any]) -> bool:
    return bool(params.get(USER_PARAM))


def get_password(account: str) -> str | None:
    try:
        return backend().get_password(SERVICE, account)
    except keyring.errors.KeyringError as exc:
        raise CredentialError(
            f"the keyring refused to give the password for {account} ({exc})"
        ) from None


def set_password(account: str, password: str) -> None:
    if not password:
        raise CredentialError("an empty password is not stored")
    try:
        backend().set_password(SERVICE, account, password)
    except keyring.errors.KeyringError as exc:
        raise CredentialError(
            f"the keyring refused to store the password for {account} ({exc})"
        ) from None


def delete_password(account: str) -> bool:
    try:
        backend().delete_password(SERVICE, account)
    except keyring.errors.PasswordDeleteError:
        return False
    except keyring.errors.KeyringError as exc:
        raise CredentialError(
            f"the keyring refused to delete the password for {account} ({exc})"
        ) from None
    return True


def connector_params(connector: str, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` plus the password from the keyring when the connector logs in with one."""
    if not needs_password(params) or params.get("password"):
        return dict(params)
    account = account_for(connector, params)
    password = get_password(account)
    if password is None:
        raise CredentialError(
            f"no password stored for {account}; store it with "
            f"`python -m workbench.connect.credentials set {connector} "
            + " ".join(
                f"{k}={v}" for k, v in params.items() if k in ("url", "database", USER_PARAM)
            )
            + "`"
        )
    return {**params, "password": password}


def main(argv: list[str] | None = None) -> int:
    """``python -m workbench.connect.credentials set|delete|check CONNECTOR url=.. database=..
    user=..``"""
    p = argparse.ArgumentParser(
        prog="python -m workbench.connect.credentials",
        description="store a source's password in the system keyring",
    )
    p.add_argument("action", choices=["set", "delete", "check"])
    p.add_argument("connector", help="e.g. tryton")
    p.add_argument("params", nargs="*", metavar="KEY=VALUE", help="url=... database=... user=...")
    args = p.parse_args(argv)
    params = dict(pair.partition("=")[::2] for pair in args.params)
    account = account_for(args.connector, params)
    try:
        if args.action == "set":
            backend()  # no keyring: say so before asking for a password it could not keep
            set_password(account, getpass.getpass(f"password for {account}: "))
            print(f"stored in the system keyring as {account}")
        elif args.action == "delete":
            print("deleted" if delete_password(account) else "there was none")
        else:
            print("stored" if get_password(account) is not None else "not stored")
    except CredentialError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
