"""A real Airflow 1.10.15 webserver for cutover tests: metadata on a fresh PostgreSQL database (1.10's
LocalExecutor needs a server database), the experimental REST API (`/api/experimental`) open with the
`default` auth backend (1.10 ships no basic-auth backend), bound to 127.0.0.1 on a free port, stopped by
killing its process group. 1.10 has no `dags reserialize`: its scheduler registers the DAGs."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from airshift.verify.runtimes import ensure_runtime
from tests.state.airflow_envs import (
    AirflowEnv,
    airflow_server,
    free_port,
    make_env,
    postgres_database,
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
        command = ["webserver", "-hn", "127.0.0.1", "-p", str(port), "-w", "1"]
        with airflow_server(env, command, f"{base_url}/api/experimental/test", "webserver 1.10", 240):
            yield Webserver110(env, base_url, name)
