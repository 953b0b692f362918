"""URLs in source settings: what may not be in one, and how one is shown in messages and logs.

Shared by the settings (which refuse such URLs when a source is saved or loaded) and the
connectors (which refuse them again when built, and show only :func:`redact_url` forms):

- no user name or password in a URL (``https://user:PW@host``): the password goes to the
  system keyring, the user to the connector's ``user`` option;
- no plain ``http://`` to another machine unless the user says ``insecure`` (the password and
  the session token would travel unencrypted); ``localhost`` and loopback addresses are fine.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from urllib.parse import urlsplit

#: text that starts like a URL (``scheme://``)
URL_START = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
#: URLs inside free text (log lines, messages)
_URL_IN_TEXT = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s\"'<>]+")


def is_local_host(host: str | None) -> bool:
    """localhost or a loopback address: plain http never leaves the machine."""
    if not host:
        return False
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def redact_url(url: str) -> str:
    """``url`` fit for a message or a log: a user name / password in it becomes ``***``, and a
    query string (where tokens travel) ``?***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unreadable URL>"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rpartition("@")[2]
    query = "***" if parts.query else ""
    return parts._replace(netloc=netloc, query=query).geturl()


def url_problem(key: str, value: str, insecure: bool) -> str | None:
    """Why a URL parameter may not be stored (credentials in it, plain http to another
    machine), or None."""
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        return f"parameter {key!r} is not a readable URL"
    if parts.username is not None or parts.password is not None:
        return (f"parameter {key}={redact_url(value)} holds a user name or password: give the "
                f"user as user=..., and store the password with keyring (docs/tryton.md)")
    if parts.scheme.lower() == "http" and not insecure and not is_local_host(host):
        return (f"parameter {key}={redact_url(value)} is plain http:// to {host}: the password and the "
                f"session would travel unencrypted; use https://, or say --insecure "
                f"(insecure=true) on a network you trust")
    return None


def redact_urls_in(text: str) -> str:
    """``text`` with every URL in it redacted (:func:`redact_url`)."""
    return _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)


class RedactUrls(logging.Filter):
    """A logging filter that redacts URLs in records (httpx logs every request's full URL at
    INFO)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_urls_in(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True
