"""TLS to the team cache as docs/team-cache.md sets it up (``sslmode=verify-full`` with the
plant's CA in ``sslrootcert``), on a real PostgreSQL server with a certificate made here: the
connection is encrypted and the server's certificate checked; a server the CA did not sign is
refused."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from planner_connectors.team import TeamConnector
from sqlalchemy import text

from workbench.cache.db import CacheError, open_cache


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _ca(folder: Path, name: str) -> None:
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key",
             "-out", f"{name}.crt", "-days", "2", "-subj", f"/CN={name}", cwd=folder)


@pytest.fixture(scope="module")
def tls_server() -> Iterator[tuple[Any, Path]]:
    """A PostgreSQL cluster of its own serving TLS with a certificate for 127.0.0.1 signed by a
    CA made here; (the server, the folder holding ``plant-ca.crt`` and ``other-ca.crt``)."""
    if shutil.which("openssl") is None:
        pytest.skip("no openssl to make the test certificates")
    from tests.support.pgserver import NoPostgres, start_server

    try:
        server = start_server()
    except NoPostgres as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the PostgreSQL tests: {exc}")
        pytest.skip(str(exc))
    folder = Path(tempfile.mkdtemp(prefix="pwb-tls-"))
    try:
        _ca(folder, "plant-ca")
        _ca(folder, "other-ca")
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out",
                 "server.csr", "-subj", "/CN=127.0.0.1", cwd=folder)
        (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n", encoding="utf-8")
        _openssl("x509", "-req", "-in", "server.csr", "-CA", "plant-ca.crt", "-CAkey",
                 "plant-ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "2",
                 "-extfile", "san.ext", cwd=folder)
        for name in ("server.crt", "server.key"):
            target = server.data / name
            shutil.copy(folder / name, target)
            os.chmod(target, 0o600)
            if server.run_as:
                shutil.chown(target, server.run_as, server.run_as)
        server.admin("ALTER SYSTEM SET ssl = on")
        server.admin("ALTER SYSTEM SET ssl_cert_file = 'server.crt'")
        server.admin("ALTER SYSTEM SET ssl_key_file = 'server.key'")
        server.admin("SELECT pg_reload_conf()")
        yield server, folder
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def test_verify_full_with_the_plant_ca_encrypts_and_checks_the_server(
        tls_server: tuple[Any, Path]) -> None:
    server, folder = tls_server
    url = server.create_database("team_tls")
    verified = f"{url}?sslmode=verify-full&sslrootcert={folder / 'plant-ca.crt'}"
    engine = open_cache(verified)
    with engine.connect() as conn:
        encrypted = conn.execute(text(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")).scalar_one()
    engine.dispose()
    assert encrypted is True

    # a team source names the same URL without the role, and the role apart
    host = verified.replace("postgres@", "")
    connector = TeamConnector(cache=host, role="postgres")
    answer = connector.check()
    connector.close()
    assert answer.ok, answer.message

    with pytest.raises(CacheError):  # a server the plant's CA did not sign: refused
        open_cache(f"{url}?sslmode=verify-full&sslrootcert={folder / 'other-ca.crt'}")
