"""A small JSON-RPC client for trytond over httpx (no Tryton client library in the app).

Why our own client: proteus (Tryton's library) reads record by record and pulls the whole server
package in; the planner needs a handful of bulk calls (``search_read`` of chosen fields, ``write``
with Tryton's optimistic lock, buttons and wizards), and every failure turned into a
:class:`~workbench.connect.port.ConnectorError` whose message names the cause in the user's words
(server down, wrong password, missing module, timeout) instead of a stack trace.

Wire format (Tryton 8.x): ``POST <url>/<db>/rpc/`` with ``{"id", "method", "params"}``; model
calls are ``model.<model>.<method>`` whose *last* parameter is the context; dates, datetimes,
timedeltas and Decimals travel as tagged objects (``{"__class__": "date", ...}``). Tryton
exceptions come back as ``{"error": [ClassName, args]}``; some failures are plain HTTP statuses
(401 login/session, 403 not exposed, 503 database busy, 429 rate limited).
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
import logging
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import httpx

from workbench.connect.port import ConnectorError, PermanentError, TransientError
from workbench.connect.urls import RedactUrls, redact_url, url_problem

# httpx logs each request's full URL at INFO: never a user name, password or query token
if not any(isinstance(f, RedactUrls) for f in logging.getLogger("httpx").filters):
    logging.getLogger("httpx").addFilter(RedactUrls())

#: the Tryton groups a connector user needs (docs/tryton.md, tested with a non-admin user)
ACCESS_GROUPS = (
    "Stock",
    "Purchase",
    "Purchase Request",
    "Production",
    "Purchase Requisition Approval",
)
_ACCESS_DENIED = re.compile(r'You are not allowed to [^"]*"([^"]+)"')

#: Tryton needs these modules activated for the connector (the rest come as their dependencies).
REQUIRED_MODULES = (
    "product",
    "stock",
    "purchase",
    "purchase_request",
    "purchase_requisition",
    "production",
    "stock_supply",
)


class TrytonUserError(PermanentError):
    """Tryton refused an operation by its business rules (a ``UserError``)."""

    def __init__(self, message: str, description: str = "") -> None:
        super().__init__(
            f"Tryton refused: {message}" + (f" ({description})" if description else "")
        )
        self.tryton_message = message


class TrytonWarning(PermanentError):
    """A ``UserWarning`` the user has to acknowledge before Tryton goes on (see ``acknowledge``)."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"Tryton warning: {message}")
        self.name = name


class TrytonAccessError(PermanentError):
    """The Tryton user lacks the access rights (groups) for a model the connector reads or
    writes; ``model`` is its technical name when known (``purchase.request``)."""

    def __init__(self, message: str, user: str, model: str | None, method: str) -> None:
        where = f"model {model!r}" if model else method
        super().__init__(
            f"Tryton user {user!r} has no access to {where} ({message.strip()}, during "
            f"{method}); give the user the groups listed in docs/tryton.md "
            f"({', '.join(ACCESS_GROUPS)}) or ask the Tryton administrator"
        )
        self.model = model


class TrytonConcurrency(ConnectorError):
    """Tryton's optimistic lock tripped: the record changed since the ``_timestamp`` we sent."""


def _encode(obj: Any) -> Any:
    if isinstance(obj, dt.datetime):
        return {
            "__class__": "datetime",
            "year": obj.year,
            "month": obj.month,
            "day": obj.day,
            "hour": obj.hour,
            "minute": obj.minute,
            "second": obj.second,
            "microsecond": obj.microsecond,
        }
    if isinstance(obj, dt.date):
        return {"__class__": "date", "year": obj.year, "month": obj.month, "day": obj.day}
    if isinstance(obj, dt.timedelta):
        return {"__class__": "timedelta", "seconds": obj.total_seconds()}
    if isinstance(obj, Decimal):
        return {"__class__": "Decimal", "decimal": str(obj)}
    if isinstance(obj, (set, frozenset)):
        return list(obj)
    raise TypeError(f"cannot send {type(obj).__name__} to Tryton")


def _decode(dct: dict[str, Any]) -> Any:
    cls = dct.get("__class__")
    if cls is None:
        return dct
    if cls == "date":
        return dt.date(dct["year"], dct["month"], dct["day"])
    if cls == "datetime":
        return dt.datetime(
            dct["year"],
            dct["month"],
            dct["day"],
            dct["hour"],
            dct["minute"],
            dct["second"],
            dct["microsecond"],
        )
    if cls == "timedelta":
        return dt.timedelta(seconds=dct["seconds"])
    if cls == "Decimal":
        return Decimal(dct["decimal"])
    if cls == "bytes":
        return base64.decodebytes(dct["base64"].encode())
    if cls == "time":
        return dt.time(dct["hour"], dct["minute"], dct["second"], dct["microsecond"])
    return dct


class TrytonRPC:
    """One authenticated session on one Tryton database.

    The session logs in lazily on the first call and once more if the server forgets the session
    (HTTP 401 after a restart). ``calls`` counts round trips, which the benchmark reports.
    """

    def __init__(
        self,
        url: str,
        database: str,
        user: str,
        password: str,
        *,
        timeout: float = 60.0,
        language: str = "en",
        transport: httpx.BaseTransport | None = None,
        insecure: bool = False,
    ) -> None:
        problem = url_problem("url", url.strip(), insecure)
        if problem:  # credentials in the URL, or plain http to another machine
            raise PermanentError(f"Tryton {problem}")
        self.url = url.strip().rstrip("/")
        #: the URL as messages show it (redacted)
        self.shown_url = redact_url(self.url)
        self.database = database
        self.user = user
        self._password = password
        self.language = language
        self.timeout = timeout
        # Keep httpx's default Accept-Encoding (gzip): trytond labels big replies gzip whatever
        # the request said, so "identity" would break decoding.
        self._http = httpx.Client(timeout=timeout, transport=transport)
        self._ids = itertools.count(1)
        self._auth: str | None = None
        self.user_id: int | None = None
        self.context: dict[str, Any] = {}
        self.calls = 0

    # -- transport -------------------------------------------------------------------------
    def _post(self, path: str, method: str, params: list[Any], auth: bool) -> Any:
        body = json.dumps(
            {"id": next(self._ids), "method": method, "params": params},
            default=_encode,
            separators=(",", ":"),
        )
        headers = {"Content-Type": "application/json"}
        if auth and self._auth:
            headers["Authorization"] = self._auth
        where = f"the Tryton server at {self.shown_url}"
        self.calls += 1
        try:
            resp = self._http.post(f"{self.url}{path}", content=body, headers=headers)
        except httpx.ConnectError as exc:
            raise TransientError(f"cannot reach {where} ({exc}); is it running?") from None
        except httpx.TimeoutException:
            raise TransientError(
                f"{where} did not answer {method} within {self.timeout:g} s (timeout)"
            ) from None
        except httpx.TransportError as exc:
            raise TransientError(
                f"the connection to {where} was lost during {method} ({exc})"
            ) from None
        if resp.status_code != 200:
            self._raise_http(resp, method)
        try:
            reply = json.loads(resp.content, object_hook=_decode)
        except ValueError:
            raise TransientError(f"{where} sent an unreadable reply to {method}") from None
        if "error" in reply and reply["error"] is not None:
            self._raise_tryton(reply["error"], method)
        return reply.get("result")

    def _raise_http(self, resp: httpx.Response, method: str) -> None:
        code = resp.status_code
        if code == 401:
            raise _Unauthorized()
        if code == 404:
            raise PermanentError(
                f"Tryton at {self.shown_url} has no database {self.database!r} (HTTP 404); "
                "check the database name"
            )
        if code == 403:
            raise PermanentError(f"Tryton refused {method}: not allowed for user {self.user!r}")
        if code == 429:
            raise TransientError(
                f"Tryton at {self.shown_url} is rate-limiting this client (HTTP 429)")
        if code in (502, 503, 504):
            raise TransientError(
                f"Tryton at {self.shown_url} could not serve {method} (HTTP {code}: database "
                f"busy or unavailable{_html_reason(resp)})"
            )
        raise PermanentError(
            f"Tryton at {self.shown_url} answered {method} with HTTP {code}{_html_reason(resp)}"
        )

    def _raise_tryton(self, error: Any, method: str) -> None:
        kind = error[0] if isinstance(error, list) and error else error
        args = error[1] if isinstance(error, list) and len(error) > 1 else None
        if kind == "ConcurrencyException":
            raise TrytonConcurrency(f"Tryton: {args or 'records were modified in the meanwhile'}")
        if kind == "UserError":
            message, description = (list(args) + ["", ""])[:2] if args else ("", "")
            denied = _ACCESS_DENIED.search(str(message))
            if denied:
                text = f"{message} {description or ''}".strip()
                raise TrytonAccessError(
                    text, self.user, self._technical_model(denied.group(1), method), method
                )
            raise TrytonUserError(str(message), str(description or ""))
        if kind == "UserWarning":
            name, message = (list(args) + ["", ""])[:2] if args else ("", "")
            raise TrytonWarning(str(name), str(message))
        if kind == "LoginException":
            raise PermanentError("Tryton asks for more login information than a password")
        text = str(kind)
        model = _missing_model(text, method)
        if model:
            raise PermanentError(
                f"Tryton database {self.database!r} has no model {model!r}: a module the "
                f"connector needs is not activated (needs: {', '.join(REQUIRED_MODULES)})"
            )
        raise PermanentError(f"Tryton failed in {method}: {text}")

    def _technical_model(self, label: str, method: str) -> str | None:
        """``purchase.request`` for Tryton's label "Purchase Request" (access errors name the
        label only): the called model when the label spells it, else as ``ir.model`` tells
        (when the user may read it); None when it cannot be told."""
        parts = method.split(".")
        called = ".".join(parts[1:-1]) if parts[0] == "model" else ""
        if called and label.lower().replace(" ", ".") == called.replace("_", "."):
            return called
        try:
            rows = self._post(
                f"/{self.database}/rpc/",
                "model.ir.model.search_read",
                [[("name", "=", label)], 0, 2, None, ["model"], self.ctx()],
                auth=True,
            )
        except (ConnectorError, _Unauthorized):
            return None
        return rows[0]["model"] if rows and len(rows) == 1 else None

    # -- session ---------------------------------------------------------------------------
    def login(self) -> None:
        path = f"/{self.database}/rpc/"
        try:
            result = self._post(
                path,
                "common.db.login",
                [self.user, {"password": self._password}, self.language],
                auth=False,
            )
        except _Unauthorized:
            raise PermanentError(
                f"Tryton refused the login of user {self.user!r} on database {self.database!r}: "
                "wrong user name or password"
            ) from None
        user_id, token = result[0], result[1]
        self.user_id = int(user_id)
        raw = f"{self.user}:{user_id}:{token}".encode()
        self._auth = "Session " + base64.b64encode(raw).decode()
        prefs = self._post(path, "model.res.user.get_preferences", [True, {}], auth=True)
        self.context = {k: v for k, v in (prefs or {}).items() if not k.startswith("_")}

    def call(self, method: str, *params: Any) -> Any:
        """One database call; logs in first and re-logs in once if the session expired."""
        if self._auth is None:
            self.login()
        path = f"/{self.database}/rpc/"
        try:
            return self._post(path, method, list(params), auth=True)
        except _Unauthorized:
            self.login()
            try:
                return self._post(path, method, list(params), auth=True)
            except _Unauthorized:
                raise PermanentError(
                    f"Tryton keeps refusing the session of user {self.user!r}"
                ) from None

    def server_version(self) -> str:
        return str(self._post("/rpc/", "common.server.version", [], auth=False))

    def ctx(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        return {**self.context, **(extra or {})}

    # -- model helpers ---------------------------------------------------------------------
    def model(
        self, model: str, method: str, *args: Any, context: dict[str, Any] | None = None
    ) -> Any:
        if self._auth is None:
            self.login()  # the session context (company, language) comes with the login
        return self.call(f"model.{model}.{method}", *args, self.ctx(context))

    def search_read(
        self,
        model: str,
        domain: list[Any],
        fields: Iterable[str],
        *,
        order: list[tuple[str, str]] | None = None,
        offset: int = 0,
        limit: int | None = None,
        context: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        return self.model(
            model,
            "search_read",
            domain,
            offset,
            limit,
            [list(o) for o in order] if order else None,
            list(fields),
            context=context,
        )

    def search(
        self,
        model: str,
        domain: list[Any],
        *,
        order: list[tuple[str, str]] | None = None,
        limit: int | None = None,
        context: dict[str, Any] | None = None,
    ) -> list[int]:
        return self.model(
            model,
            "search",
            domain,
            0,
            limit,
            [list(o) for o in order] if order else None,
            context=context,
        )

    def read(
        self,
        model: str,
        ids: list[int],
        fields: Iterable[str],
        context: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        return self.model(model, "read", ids, list(fields), context=context)

    def create(
        self, model: str, values: list[dict[str, Any]], context: dict[str, Any] | None = None
    ) -> list[int]:
        return self.model(model, "create", values, context=context)

    def write(
        self,
        model: str,
        ids: list[int],
        values: dict[str, Any],
        context: dict[str, Any] | None = None,
    ) -> None:
        self.model(model, "write", ids, values, context=context)

    def delete(self, model: str, ids: list[int], context: dict[str, Any] | None = None) -> None:
        self.model(model, "delete", ids, context=context)

    def button(self, model: str, name: str, ids: list[int], *, acknowledge: bool = True) -> Any:
        """Press a workflow button; with ``acknowledge`` accept Tryton warnings as its client
        does."""
        for _ in range(5):
            try:
                return self.model(model, name, ids)
            except TrytonWarning as warning:
                if not acknowledge:
                    raise
                self.acknowledge(warning)
        raise PermanentError(f"Tryton kept warning on {model}.{name}")

    def acknowledge(self, warning: TrytonWarning) -> None:
        """Accept a warning once, the way the Tryton client's "Yes" does."""
        self.create(
            "res.user.warning", [{"user": self.user_id, "name": warning.name, "always": False}]
        )

    def run_wizard(
        self,
        name: str,
        model: str | None,
        ids: list[int],
        steps: list[tuple[str, dict[str, Any]]],
        *,
        acknowledge: bool = True,
    ) -> dict[str, Any]:
        """Run wizard ``name`` on records through ``steps`` of (state, view values); last reply."""
        if self._auth is None:
            self.login()
        ctx: dict[str, Any] = {}
        if model:
            ctx = {"active_model": model, "active_ids": ids, "active_id": ids[0] if ids else None}
        session, _start, _end = self.call(f"wizard.{name}.create", self.ctx())
        reply: dict[str, Any] = {}
        try:
            for state, data in steps:
                for _ in range(5):
                    try:
                        reply = self.call(
                            f"wizard.{name}.execute", session, data, state, self.ctx(ctx)
                        )
                        break
                    except TrytonWarning as warning:
                        if not acknowledge:
                            raise
                        self.acknowledge(warning)
        finally:
            try:
                self.call(f"wizard.{name}.delete", session, self.ctx())
            except ConnectorError:
                pass
        return reply

    def close(self) -> None:
        if self._auth is not None:
            try:
                self._post(f"/{self.database}/rpc/", "common.db.logout", [], auth=True)
            except (ConnectorError, _Unauthorized):
                pass
            self._auth = None
        self._http.close()


class _Unauthorized(Exception):
    """HTTP 401: a wrong password at login, or a session the server no longer knows."""


def _html_reason(resp: httpx.Response) -> str:
    text = resp.text.strip()
    if not text or text.startswith("<"):
        m = re.search(r"<p>(.*?)</p>", text, re.DOTALL)
        text = m.group(1).strip() if m else ""
    return f": {text[:200]}" if text else ""


def _missing_model(text: str, method: str) -> str | None:
    """The model named in ``method`` when the error says the server does not know it."""
    parts = method.split(".")
    if parts[0] not in ("model", "wizard") or len(parts) < 3:
        return None
    name = ".".join(parts[1:-1])
    lowered = text.lower()
    if name in text and (
        "not found" in lowered or "keyerror" in lowered or lowered.startswith("'")
    ):
        return name
    return None
