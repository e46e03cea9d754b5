"""A PostgreSQL cluster of the tests' own with `wal_level = logical` (the machine's shared server runs with
`replica`): Debian's server binaries, a temporary data directory, a free port on 127.0.0.1, trust auth.
Started once per test session and stopped (data removed) at its end. No tests here."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from tests.state.airflow_envs import free_port


@dataclass(frozen=True)
class LogicalCluster:
    port: int
    folder: Path

    def admin_dsn(self, dbname: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={dbname}"

    def url(self, dbname: str, driver: str = "psycopg") -> str:
        return f"postgresql+{driver}://postgres@127.0.0.1:{self.port}/{dbname}"

    def execute(self, sql: str, dbname: str = "postgres") -> None:
        with psycopg.connect(self.admin_dsn(dbname), autocommit=True) as connection:
            connection.execute(sql)  # type: ignore[arg-type]


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _as_postgres(command: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the postgres user when we are root."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


@contextmanager
def logical_cluster(fsync: bool = False) -> Iterator[LogicalCluster]:
    bin_dir = _bin_dir()
    if bin_dir is None:
        pytest.fail("PostgreSQL server binaries (/usr/lib/postgresql/*/bin) are needed for WAL capture tests")
    folder = Path(tempfile.mkdtemp(prefix="airshift-pg-logical-"))
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    data = folder / "data"
    port = free_port()
    settings = [
        f"port={port}", "listen_addresses=127.0.0.1", f"unix_socket_directories={folder}",
        "wal_level=logical", "max_replication_slots=20", "max_wal_senders=20",
        "max_connections=200", f"fsync={'on' if fsync else 'off'}",
    ]  # fmt: skip
    try:
        subprocess.run(
            _as_postgres([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]),
            check=True, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        options = " ".join(f"-c {setting}" for setting in settings)
        subprocess.run(
            _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"), "-w",
                          "-t", "60", "-o", options, "start"]),
            check=True, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    except subprocess.CalledProcessError as error:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.fail(f"could not start a logical-WAL PostgreSQL cluster: {error.stderr or error.stdout}")
    try:
        yield LogicalCluster(port=port, folder=folder)
    finally:
        subprocess.run(
            _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
            capture_output=True, timeout=120, check=False,
        )  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)
