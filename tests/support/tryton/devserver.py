"""A throwaway local trytond on SQLite: for tests, the benchmark and demos.

Creating a Tryton database takes about a minute (trytond-admin activates 18 modules), so it is
done once into a *template* file; every server then runs on a copy of it, which takes a moment.
The server is trytond's own threaded web server on 127.0.0.1 and a free port, started as a child
process and stopped by its process id (never by name). With ``workers=N`` it is instead Tryton's
WSGI application under gunicorn with N worker processes, the way Tryton is run in production
(trytond's own server is one process whose threads share one interpreter lock); the benchmark
uses it to measure reads in parallel.

Nothing here is used by the application itself: it needs the ``test`` extra (trytond and its
modules), which the app does not depend on.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

DATABASE = "planner"
ADMIN_PASSWORD = "admin"
#: what the connector needs; trytond-admin adds their dependencies (account, country, ...)
MODULES = (
    "product",
    "stock",
    "purchase",
    "purchase_request",
    "purchase_requisition",
    "production",
    "stock_supply",
    "stock_lot",
    "company",
    "currency",
    "party",
)


def _bin(name: str) -> str:
    """The trytond script next to this interpreter (the venv's), else the one on PATH."""
    here = Path(sys.executable).with_name(name)
    if here.exists():
        return str(here)
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} not found: install the test extra (pip install -e '.[test]')")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(folder: Path, data_dir: Path, port: int) -> Path:
    conf = folder / "trytond.conf"
    conf.write_text(
        "[database]\n"
        "uri = sqlite://\n"
        f"path = {data_dir}\n"
        "[web]\n"
        f"listen = 127.0.0.1:{port}\n"
        "[request]\n"
        "timeout = 300\n"
        "[session]\n"
        "timeout = 3600\n",
        encoding="utf-8",
    )
    return conf


def checkpoint(db_file: Path) -> None:
    """Fold SQLite's WAL into the file, so a plain copy of it is complete."""
    con = sqlite3.connect(db_file)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()


def init_database(folder: Path, *, log: Path | None = None) -> Path:
    """Create ``folder/db/planner.sqlite`` with the modules activated (about a minute)."""
    data = folder / "db"
    data.mkdir(parents=True, exist_ok=True)
    db_file = data / f"{DATABASE}.sqlite"
    db_file.touch()  # the SQLite backend refuses a database file that does not exist
    conf = write_config(folder, data, free_port())
    passfile = folder / "admin.pass"
    passfile.write_text(ADMIN_PASSWORD + "\n", encoding="utf-8")
    env = {**os.environ, "TRYTONPASSFILE": str(passfile)}
    cmd = [
        _bin("trytond-admin"),
        "-c",
        str(conf),
        "-d",
        DATABASE,
        "--email",
        "admin@example.com",
        "--activate-dependencies",
        "-u",
        *MODULES,
    ]
    log = log or folder / "trytond-admin.log"
    with log.open("w") as out:
        proc = subprocess.run(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, check=False)
    if proc.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"trytond-admin failed ({proc.returncode}):\n{tail}")
    checkpoint(db_file)
    return db_file


_RUNNING: set[subprocess.Popen[bytes]] = set()


@atexit.register
def _stop_leftovers() -> None:
    """Never leave a child trytond behind, even when a test run is interrupted."""
    for proc in list(_RUNNING):
        if proc.poll() is None:
            proc.terminate()


@dataclass
class TrytonServer:
    """A running trytond on a copy of a database file; ``stop()`` it (tests use finalizers)."""

    folder: Path
    port: int = 0
    #: 0: trytond's own (development) server; N: gunicorn with N worker processes
    workers: int = 0
    process: subprocess.Popen[bytes] | None = None
    log: Path = field(init=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def db_file(self) -> Path:
        return self.folder / "db" / f"{DATABASE}.sqlite"

    def start(self, timeout: float = 60.0) -> None:
        """Start on a free port and wait until the database answers a login."""
        self.port = self.port or free_port()
        conf = write_config(self.folder, self.folder / "db", self.port)
        self.log = self.folder / "trytond.log"
        out = self.log.open("ab")
        command = [_bin("trytond"), "-c", str(conf), "-d", DATABASE]
        env = None
        if self.workers:
            # each worker loads the database's modules once at start; requests run up to the
            # configured request timeout; stopping waits at most 5 s for requests in flight
            command = [
                _bin("gunicorn"),
                *("--workers", str(self.workers), "--bind", f"127.0.0.1:{self.port}"),
                *("--timeout", "300", "--graceful-timeout", "5"),
                "trytond.application:app",
            ]
            env = {**os.environ, "TRYTOND_CONFIG": str(conf), "TRYTOND_DATABASE_NAMES": DATABASE}
        self.process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
        )
        out.close()
        _RUNNING.add(self.process)
        deadline = time.monotonic() + timeout
        body = {
            "id": 1,
            "method": "common.db.login",
            "params": ["admin", {"password": ADMIN_PASSWORD}, "en"],
        }
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"trytond exited ({self.process.returncode}); see {self.log}")
            try:
                r = httpx.post(f"{self.url}/{DATABASE}/rpc/", json=body, timeout=10)
                if r.status_code == 200 and "result" in r.json():
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"trytond did not answer on {self.url} within {timeout:g} s")

    def stop(self) -> None:
        proc, self.process = self.process, None
        if proc is None:
            return
        _RUNNING.discard(proc)
        if proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    def restart(self) -> None:
        """Stop and start again on the same port (same URL), e.g. after an outage."""
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


def server_on_copy(
    template: Path, folder: Path, *, port: int = 0, workers: int = 0
) -> TrytonServer:
    """A started server on a fresh copy of the database file ``template`` (``workers``: see
    :class:`TrytonServer`)."""
    data = folder / "db"
    data.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, data / f"{DATABASE}.sqlite")
    server = TrytonServer(folder, port=port, workers=workers)
    server.start()
    return server
