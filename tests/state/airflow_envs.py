"""Real Airflow environments for transfer tests: an AIRFLOW_HOME, a metadata DB, a Fernet key list,
and the runtime's own `airflow` CLI to fill them. Also throwaway PostgreSQL / MariaDB databases."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from airshift.verify.runtimes import Runtime

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
MARIADB_ADMIN_URL = "mysql+pymysql://root@127.0.0.1:3306/test"


def unique_name(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(5)}"


@contextmanager
def postgres_database(prefix: str = "airshift_t") -> Iterator[str]:
    """A new, uniquely named PostgreSQL database; yields its name and drops it afterwards."""
    name = unique_name(prefix)
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # the server is part of the test contract; say so plainly
        admin.dispose()
        pytest.fail(f"PostgreSQL on 127.0.0.1:5432 is needed: {error}")
    try:
        yield name
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass
class AirflowEnv:
    """One Airflow installation's state: home folder, DB URL and Fernet key list (first key encrypts)."""

    runtime: Runtime
    home: Path
    db_url: str
    fernet_keys: list[str]
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def dags_folder(self) -> Path:
        return self.home / "dags"

    def env(self) -> dict[str, str]:
        env = self.runtime.env()
        for name in list(env):
            if name.startswith("AIRFLOW__") or name == "AIRFLOW_HOME":
                del env[name]
        db_setting = (
            "AIRFLOW__CORE__SQL_ALCHEMY_CONN"
            if self.runtime.airflow_major == 1
            else "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"
        )
        env.update(
            {
                "AIRFLOW_HOME": str(self.home),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
                "AIRFLOW__CORE__FERNET_KEY": ",".join(self.fernet_keys),
                "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
                db_setting: self.db_url,
            }
        )
        env.update(self.extra_env)
        return env

    def cli(self, *args: str, timeout: float = 300) -> str:
        completed = subprocess.run(
            [str(self.runtime.bin_dir / "airflow"), *args],
            env=self.env(), cwd=self.home, capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip
        if completed.returncode != 0:
            raise AssertionError(
                f"airflow {' '.join(args[:2])} failed ({completed.returncode}):\n"
                f"{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
            )
        return completed.stdout

    def cli_batch(self, steps: list[list[str]], timeout: float = 900) -> str:
        """Run several `airflow` CLI commands in ONE interpreter (Airflow's own parser and command
        functions, as `airflow ...` would): each Airflow start costs seconds, a fill needs a dozen.
        A step `["@fernet", "k1,k2"]` switches the Fernet key list, as a key rotation in the config would."""
        completed = subprocess.run(
            [str(self.runtime.python), "-c", _CLI_BATCH],
            input=json.dumps(steps), env=self.env(), cwd=self.home, capture_output=True, text=True,
            timeout=timeout, check=False,
        )  # fmt: skip
        if completed.returncode != 0:
            raise AssertionError(
                f"airflow CLI batch failed ({completed.returncode}):\n"
                f"{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
            )
        return completed.stdout

    def python(self, code: str, timeout: float = 300) -> str:
        completed = subprocess.run(
            [str(self.runtime.python), "-c", code],
            env=self.env(), cwd=self.home, capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip
        if completed.returncode != 0:
            raise AssertionError(f"python in {self.runtime.key} failed:\n{completed.stderr[-3000:]}")
        return completed.stdout


_CLI_BATCH = """
import json, os, sys
import airflow
if airflow.__version__.startswith("1."):
    from airflow.bin.cli import get_parser
else:
    from airflow.cli.cli_parser import get_parser
steps = json.loads(sys.stdin.read())
parser = get_parser()
for step in steps:
    if step[0] == "@fernet":
        os.environ["AIRFLOW__CORE__FERNET_KEY"] = step[1]
        import airflow.models.crypto as crypto
        crypto._fernet = None
        continue
    args = parser.parse_args(step)
    args.func(args)
"""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now, for a server a test starts."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(
    health_url: str, process: subprocess.Popen[bytes], log: Path, name: str, timeout: float
) -> None:
    """Wait until `health_url` answers 200; fail with the end of the server's log if it exits or is
    still not healthy after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{name} exited early:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(health_url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(
        f"{name} not healthy after {timeout:.0f} s:\n{log.read_text(errors='replace')[-3000:]}"
    )


def stop_process_group(process: subprocess.Popen[bytes], grace: float = 30) -> None:
    """Stop a server started with `start_new_session=True`: SIGTERM to its whole group (Airflow forks
    workers), then SIGKILL if it has not exited within `grace` seconds."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=grace)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@contextmanager
def airflow_process(env: AirflowEnv, args: list[str], grace: float = 30) -> Iterator[subprocess.Popen[bytes]]:
    """Run `airflow ARGS` in its own process group with its output appended to `<home>/<command>.log`;
    stop the whole group (Airflow forks workers) on exit."""
    log = env.home / f"{args[0]}.log"
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [str(env.runtime.bin_dir / "airflow"), *args],
            env=env.env(), cwd=env.home, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        yield process
    finally:
        stop_process_group(process, grace=grace)


@contextmanager
def airflow_server(
    env: AirflowEnv, args: list[str], health_url: str, name: str, timeout: float, grace: float = 30
) -> Iterator[subprocess.Popen[bytes]]:
    """`airflow_process` for a webserver or api-server: waits until `health_url` answers."""
    with airflow_process(env, args, grace=grace) as process:
        wait_healthy(health_url, process, env.home / f"{args[0]}.log", name, timeout)
        yield process


def make_env(runtime: Runtime, home: Path, db_url: str, fernet_keys: list[str]) -> AirflowEnv:
    home.mkdir(parents=True, exist_ok=True)
    (home / "dags").mkdir(exist_ok=True)
    os.chmod(home, 0o700)
    return AirflowEnv(runtime, home, db_url, list(fernet_keys))
