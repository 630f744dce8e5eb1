"""A throw-away PostgreSQL server for the tests and `make bench`: initdb in a temp dir, started on 127.0.0.1.

    with ThrowawayServer.start() as server:
        url = server.create_database()      # postgresql://policy:…@127.0.0.1:PORT/db_1 (a new, empty database)

The binaries are found on PATH or under /usr/lib/postgresql/*/bin (Debian's layout; `make test` installs the
package when it is missing). PostgreSQL refuses to run as root, so when this process is root the cluster is made
and run by the unprivileged user nobody (setpriv), in a folder that user owns. The server listens on a free port
of 127.0.0.1 only (and on a Unix socket inside the temp dir), with password (scram-sha-256) authentication for
TCP, so tests see real logins. fsync is off: the data is thrown away anyway. stop() stops it (fast) and removes
the folder.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg

from .local import free_port

USER = "policy"
NOBODY = 65534


def binaries() -> Path | None:
    """The folder holding initdb and pg_ctl, or None when PostgreSQL is not installed."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
                        if p.split("/")[4].isdigit() else 0)
    return Path(candidates[-1]).parent if candidates else None


class ThrowawayServer:
    def __init__(self, root: Path, port: int, password: str, bin_dir: Path) -> None:
        self.root, self.port, self.password, self.bin_dir = root, port, password, bin_dir
        self.data = root / "data"
        self.databases = 0

    @classmethod
    def start(cls, extra: dict[str, str] | None = None) -> ThrowawayServer:
        """initdb + pg_ctl start; RuntimeError (with PostgreSQL's own words) when either fails."""
        bin_dir = binaries()
        if bin_dir is None:
            raise RuntimeError("PostgreSQL is not installed (no initdb on PATH or under /usr/lib/postgresql/*/bin)")
        root = Path(tempfile.mkdtemp(prefix="policy-pg-"))
        server = cls(root, free_port(), secrets.token_urlsafe(12), bin_dir)
        try:
            server._init(extra or {})
        except BaseException:
            server.stop()
            raise
        return server

    def _as_owner(self) -> list[str]:
        if os.geteuid() != 0:
            return []
        return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]

    def _run(self, *args: str) -> None:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8", "HOME": str(self.root)}
        result = subprocess.run([*self._as_owner(), *args], capture_output=True, text=True, env=env,
                                cwd=self.root)
        if result.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{Path(args[0]).name} failed ({result.returncode}): {result.stderr.strip()}\n{tail}")

    def _init(self, extra: dict[str, str]) -> None:
        if os.geteuid() == 0:
            os.chown(self.root, NOBODY, NOBODY)
        self.root.chmod(0o700)
        password_file = self.root / "password"
        password_file.write_text(self.password + "\n")
        if os.geteuid() == 0:
            os.chown(password_file, NOBODY, NOBODY)
        self._run(str(self.bin_dir / "initdb"), "-D", str(self.data), "-U", USER, "--pwfile", str(password_file),
                  "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8")
        password_file.unlink()
        settings = {"listen_addresses": "'127.0.0.1'", "port": str(self.port),
                    "unix_socket_directories": f"'{self.root}'", "fsync": "off", "full_page_writes": "off",
                    "max_connections": "100", **extra}
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write("".join(f"{k} = {v}\n" for k, v in settings.items()))
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "server.log"),
                  "-w", "-t", "60", "start")

    def url(self, database: str = "postgres", password: str | None = None) -> str:
        return f"postgresql://{USER}:{password or self.password}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new, empty database; its URL (with the password). One statement on a connection of this process rather
        than a `createdb` process; PostgreSQL 15 and later copy the template's files (FILE_COPY: with fsync off, far
        less work than writing the copy to the WAL, their default)."""
        self.databases += 1
        name = f"db_{self.databases}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            strategy = " STRATEGY FILE_COPY" if conn.info.server_version >= 150000 else ""
            conn.execute(f"CREATE DATABASE {name}{strategy}".encode())  # name: db_ and a number
        return self.url(name)

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            try:
                self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
            except RuntimeError:
                self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> ThrowawayServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
