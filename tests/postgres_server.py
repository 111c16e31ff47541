"""A throwaway PostgreSQL server for the tests (and the benchmark): Debian's `postgresql` package.

`initdb` into a fresh temporary directory, a free port on 127.0.0.1, the
unix socket in that directory, trust authentication for the local user
`funnel`; stopped (fast) and removed at the end. PostgreSQL refuses to run
as root, so when the tests run as root (CI) the directory belongs to the
package's `postgres` system user and initdb/pg_ctl run through `runuser`.

Where the server is missing and cannot be installed, or psycopg is missing,
the tests that need it skip and say why (`system_packages.require`).
"""
from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from system_packages import require

PACKAGES = ["postgresql"]
USER = "funnel"


def find_bin_dir() -> str | None:
    """The newest Debian PostgreSQL's bin folder (`/usr/lib/postgresql/N/bin`), or None."""
    found = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    found.sort(key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    return str(found[-1]) if found else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class PostgresServer:
    """A running server: `url(db)` to connect, `new_database()` for a clean one, `stop()` at the end."""

    bin_dir: str
    home: Path
    port: int
    as_user: list[str]
    _names: itertools.count = field(default_factory=lambda: itertools.count(1))

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def new_database(self, prefix: str = "t") -> str:
        """Create an empty database and return its URL: each test gets state nobody else touched."""
        import psycopg

        name = f"{prefix}_{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def _pg_ctl(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        command = [*self.as_user, f"{self.bin_dir}/pg_ctl", "-D", str(self.home / "data"), *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=self.home)

    def stop(self) -> None:
        self._pg_ctl("-m", "fast", "-w", "stop")
        shutil.rmtree(self.home, ignore_errors=True)


def _as_user() -> tuple[list[str], int | None, str]:
    """The command prefix that runs the server's tools as a non-root user, its uid, and '' or why not."""
    if os.geteuid() != 0:
        return [], None, ""
    try:
        uid = pwd.getpwnam("postgres").pw_uid
    except KeyError:
        return [], None, "tests run as root and there is no `postgres` system user to run the server as"
    runuser = shutil.which("runuser")
    if not runuser:
        return [], None, "tests run as root and `runuser` (util-linux) is missing"
    return [runuser, "-u", "postgres", "--"], uid, ""


def start_server(bin_dir: str, *, durable: bool = False) -> PostgresServer:
    """initdb and start a server in a new temporary directory; `durable` keeps fsync on (the benchmark).

    Raises RuntimeError with the tool's own output when initdb or the start fails.
    """
    as_user, uid, why_not = _as_user()
    if why_not:
        raise RuntimeError(why_not)
    # Not under pytest's tmp_path: its parents are private to root, and the server runs as `postgres`.
    home = Path(tempfile.mkdtemp(prefix="funnel-pg-"))
    if uid is not None:
        os.chown(home, uid, -1)
    initdb = [*as_user, f"{bin_dir}/initdb", "-D", str(home / "data"), "-U", USER, "--auth=trust",
              "--encoding=UTF8", "--no-locale", "--no-sync"]
    done = subprocess.run(initdb, capture_output=True, text=True, timeout=120, cwd=home)
    if done.returncode != 0:
        shutil.rmtree(home, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {(done.stderr or done.stdout).strip()[-500:]}")
    settings = ["-c listen_addresses=127.0.0.1", f"-c unix_socket_directories={home}",
                "-c max_connections=60", "-c shared_buffers=64MB"]
    if not durable:
        # Test data is thrown away: skipping the flushes to disk keeps a shared 2-core machine quick.
        settings += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
    last = ""
    for _ in range(3):  # another process may take the free port between the probe and the start
        server = PostgresServer(bin_dir, home, _free_port(), as_user)
        done = server._pg_ctl("-l", str(home / "server.log"), "-w", "-t", "60",
                              "-o", " ".join([f"-p {server.port}", *settings]), "start", timeout=90)
        if done.returncode == 0:
            return server
        log = home / "server.log"
        last = (log.read_text(errors="replace") if log.exists() else done.stderr).strip()[-500:]
        time.sleep(0.2)
    shutil.rmtree(home, ignore_errors=True)
    raise RuntimeError(f"the server did not start: {last}")


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server for the whole session, or a skip that says why there is none."""
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install -e '.[postgres]')")
    bin_dir = require(find_bin_dir, PACKAGES, "PostgreSQL (initdb, pg_ctl)")
    try:
        server = start_server(bin_dir)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as err:
        pytest.skip(f"could not start a PostgreSQL server: {err}")
    yield server
    server.stop()
