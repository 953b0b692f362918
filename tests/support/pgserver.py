"""A throw-away PostgreSQL server for the tests (issue 17): a real cluster, started and stopped
by the tests, never a mock.

- The binaries come from ``pg_config --bindir`` or ``/usr/lib/postgresql/*/bin`` (Debian's
  ``postgresql`` package; ``tools/need-postgresql`` installs it). When none is found the tests
  skip with the install line, except on CI (``CI`` set), where they fail loudly: CI must test both
  engines.
- ``initdb`` refuses to run as root (CI runs as root): then the cluster is created and run as the
  ``postgres`` system user (``runuser``), with its data and socket folders owned by that user;
  otherwise as the current user.
- The cluster listens on 127.0.0.1 on a free port with ``trust`` authentication and
  ``fsync=off`` (speed; the data is thrown away). A database per test is a ``CREATE DATABASE …
  TEMPLATE`` of a template database the session prepared (fast: a file copy).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

INSTALL_LINE = "tools/need-postgresql   # or: sudo apt-get install -y postgresql"
#: the superuser role of the test cluster
SUPERUSER = "postgres"
#: the one role that must give a password (scram-sha-256; every other role is trusted): tests of
#: the keyring and pgpass create it with :meth:`PgServer.create_password_role`
PASSWORD_ROLE = "pwb_password_user"


class NoPostgres(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def find_bindir() -> Path | None:
    """The folder of ``initdb``/``pg_ctl``/``postgres``, or None."""
    candidates: list[str] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                                 timeout=10, check=True).stdout.strip()
            candidates.append(out)
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                         key=lambda p: int(p.split("/")[-2]) if p.split("/")[-2].isdigit() else 0,
                         reverse=True)
    for c in candidates:
        if c and (Path(c) / "initdb").is_file() and (Path(c) / "pg_ctl").is_file():
            return Path(c)
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).parent
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgServer:
    """A running test cluster: ``url(db)`` names a database on it."""

    bindir: Path
    root: Path
    port: int = 0
    run_as: str | None = None

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def sockets(self) -> Path:
        return self.root / "run"

    def url(self, db: str = "postgres", user: str = SUPERUSER) -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{db}"

    def _cmd(self, args: list[str]) -> list[str]:
        if self.run_as:
            return ["runuser", "-u", self.run_as, "--", *args]
        return args

    def _run(self, args: list[str], timeout: float = 120) -> None:
        proc = subprocess.run(self._cmd(args), capture_output=True, text=True, timeout=timeout,
                              cwd="/")
        if proc.returncode:
            raise RuntimeError(f"{' '.join(args[:2])} failed ({proc.returncode}):\n"
                               f"{proc.stdout}\n{proc.stderr}")

    def start(self) -> PgServer:
        self.root.mkdir(parents=True, exist_ok=True)
        self.data.mkdir(exist_ok=True)
        self.sockets.mkdir(exist_ok=True)
        if self.run_as:
            import pwd

            pw = pwd.getpwnam(self.run_as)
            for p in (self.root, self.data, self.sockets):
                os.chown(p, pw.pw_uid, pw.pw_gid)
            os.chmod(self.root, 0o755)
        os.chmod(self.data, 0o700)
        self._run([str(self.bindir / "initdb"), "-D", str(self.data), "-U", SUPERUSER,
                   "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"])
        hba = self.data / "pg_hba.conf"
        hba.write_text(f"host all {PASSWORD_ROLE} 127.0.0.1/32 scram-sha-256\n"
                       + hba.read_text(encoding="utf-8"), encoding="utf-8")
        log = self.root / "server.log"
        for attempt in range(3):  # another process may take the free port before the server
            self.port = _free_port()
            opts = (f"-h 127.0.0.1 -p {self.port} -k {self.sockets} -c fsync=off "
                    f"-c synchronous_commit=off -c full_page_writes=off -c max_connections=100 "
                    f"-c shared_buffers=64MB")
            try:
                self._run([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", opts, "-w",
                           "-t", "60", "-l", str(log), "start"])
                return self
            except RuntimeError as exc:
                if attempt == 2:
                    tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                    raise RuntimeError(f"{exc}\n{tail}") from None
        raise AssertionError("unreachable")

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError, OSError, subprocess.SubprocessError):
            self._run([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                       "-w", "stop"], timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)

    # --- databases -----------------------------------------------------------------------------

    def admin(self, sql: str) -> None:
        """Run one statement as the superuser in autocommit (CREATE/DROP DATABASE)."""
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as con:
            con.execute(sql)  # type: ignore[arg-type]

    def create_database(self, name: str, template: str | None = None) -> str:
        """A new database (a copy of ``template`` when given); returns its URL."""
        tmpl = f' TEMPLATE "{template}"' if template else " TEMPLATE template0"
        self.admin(f'CREATE DATABASE "{name}"{tmpl}')
        return self.url(name)

    def create_password_role(self, password: str) -> str:
        """(Re)create :data:`PASSWORD_ROLE` with ``password`` (owner of new databases' public
        schema via CREATEDB); returns the role name."""
        self.admin(f"DROP ROLE IF EXISTS {PASSWORD_ROLE}")
        self.admin(f"CREATE ROLE {PASSWORD_ROLE} LOGIN CREATEDB PASSWORD '{password}'")
        return PASSWORD_ROLE

    def drop_database(self, name: str) -> None:
        self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_server() -> PgServer:
    """Start a fresh cluster; :class:`NoPostgres` when the binaries are missing."""
    bindir = find_bindir()
    if bindir is None:
        raise NoPostgres(f"PostgreSQL server binaries not found (initdb, pg_ctl); install them: "
                         f"{INSTALL_LINE}")
    run_as = None
    base = None
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        run_as = SUPERUSER
        base = "/tmp"  # the postgres user must reach the folder (pytest's tmp dirs are 0700)
    root = Path(tempfile.mkdtemp(prefix="pwb-pg-", dir=base))
    server = PgServer(bindir=bindir, root=root, run_as=run_as)
    try:
        return server.start()
    except BaseException:
        server.stop()
        raise
