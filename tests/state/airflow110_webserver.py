"""A real Airflow 1.10.15 webserver for cutover tests: metadata on a fresh PostgreSQL database (1.10's
LocalExecutor needs a server database), the experimental REST API (`/api/experimental`) open with the
`default` auth backend (1.10 ships no basic-auth backend), bound to 127.0.0.1 on a free port, stopped by
killing its process group. 1.10 has no `dags reserialize`: its scheduler registers the DAGs."""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from airshift.verify.runtimes import ensure_runtime
from tests.state.airflow_envs import (
    AirflowEnv,
    free_port,
    make_env,
    postgres_database,
    stop_process_group,
    wait_healthy,
)
from tests.state.source_fixtures import new_key


@dataclass
class Webserver110:
    env: AirflowEnv
    base_url: str
    db_name: str

    @property
    def db_url(self) -> str:
        """The metadata DB URL as airshift takes it (no password: the local server trusts 127.0.0.1)."""
        return f"postgresql://postgres@127.0.0.1:5432/{self.db_name}"


@contextmanager
def airflow110_webserver(home: Path, dags: str) -> Iterator[Webserver110]:
    """Start Airflow 1.10.15's webserver on a new database with `dags` as its DAG file."""
    runtime = ensure_runtime("1.10.15", extra_requirements=["psycopg2-binary"])
    with postgres_database("airshift_af110web") as name:
        env = make_env(runtime, home, f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}", [new_key()])
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        env.extra_env.update(
            {
                "AIRFLOW__API__AUTH_BACKEND": "airflow.api.auth.backend.default",
                "AIRFLOW__WEBSERVER__SECRET_KEY": secrets.token_hex(16),
                "AIRFLOW__WEBSERVER__BASE_URL": base_url,
                "AIRFLOW__WEBSERVER__WORKER_REFRESH_BATCH_SIZE": "0",
                "AIRFLOW__WEBSERVER__WORKERS": "1",
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            }
        )
        (env.dags_folder / "dags.py").write_text(dags, encoding="utf-8")
        env.cli_batch([["initdb"]])
        log = home / "webserver.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [str(runtime.bin_dir / "airflow"), "webserver", "-hn", "127.0.0.1", "-p", str(port), "-w", "1"],
                env=env.env(), cwd=home, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        try:
            wait_healthy(f"{base_url}/api/experimental/test", process, log, "webserver 1.10", 240)
            yield Webserver110(env, base_url, name)
        finally:
            stop_process_group(process)
