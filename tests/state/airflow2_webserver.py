"""A real Airflow 2.11.2 webserver for transfer tests: metadata on a fresh PostgreSQL database, DAGs
serialized, an admin user (created with `airflow users create`), the stable REST API `/api/v1` with the
basic_auth backend, bound to 127.0.0.1 on a free port, stopped by killing its process group.

Used as a transfer target (`--to` an Airflow 2.x webserver) and, filled through its CLI, as a source read
over `/api/v1`.
"""

from __future__ import annotations

import json
import os
import secrets
import textwrap
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
from tests.state.source_fixtures import dag_file_211, new_key

ADMIN_USER = "admin"


@dataclass
class Webserver:
    env: AirflowEnv
    base_url: str
    user: str
    password_file: Path
    db_name: str

    @property
    def auth(self) -> tuple[str, str]:
        """(user, password) for httpx's basic auth in tests."""
        return self.user, self.password_file.read_text(encoding="utf-8").strip()

    @property
    def db_url(self) -> str:
        """The metadata DB URL as airshift takes it (no password: the local server trusts 127.0.0.1)."""
        return f"postgresql://postgres@127.0.0.1:5432/{self.db_name}"

    def state(self) -> dict[str, object]:
        """Variables, connections (passwords decrypted by Airflow 2.11 with its own key), pools and paused
        flags, read through Airflow 2.11's own models."""
        code = textwrap.dedent(
            """\
            import json
            from airflow.models import Connection, DagModel, Pool, Variable
            from airflow.utils.session import create_session
            with create_session() as s:
                out = {
                    "variables": {v.key: [v.val, v.description] for v in s.query(Variable)},
                    "connections": {c.conn_id: [c.conn_type, c.host, c.login, c.password, c.port, c.schema,
                                                c.extra, c.description] for c in s.query(Connection)},
                    "pools": {p.pool: [p.slots, p.description] for p in s.query(Pool)},
                    "paused": {d.dag_id: d.is_paused for d in s.query(DagModel)},
                }
            print("@@" + json.dumps(out))
            """
        )
        output = self.env.python(code)
        return dict(json.loads(output.split("@@", 1)[1]))

    def history(self, dag_id: str | None = None) -> dict[str, list[list[object]]]:
        """Dag runs and task instances as Airflow 2.11's own models read them back."""
        code = textwrap.dedent(
            f"""\
            import json
            from airflow.models import DagRun, TaskInstance
            from airflow.utils.session import create_session
            dag_id = {dag_id!r}
            def iso(value):
                return value.isoformat() if value is not None else None
            with create_session() as s:
                runs = s.query(DagRun)
                tis = s.query(TaskInstance)
                if dag_id is not None:
                    runs = runs.filter(DagRun.dag_id == dag_id)
                    tis = tis.filter(TaskInstance.dag_id == dag_id)
                out = {{
                    "runs": sorted([r.dag_id, r.run_id, r.run_type, r.state, iso(r.execution_date),
                                    iso(r.data_interval_start), r.external_trigger, r.conf]
                                   for r in runs),
                    "tis": sorted([t.dag_id, t.task_id, t.run_id, t.map_index, t.state, t.try_number,
                                   iso(t.execution_date)]
                                  for t in tis),
                }}
            print("@@" + json.dumps(out))
            """
        )
        output = self.env.python(code)
        return dict(json.loads(output.split("@@", 1)[1]))


@contextmanager
def airflow2_webserver(home: Path, dags: str | None = None) -> Iterator[Webserver]:
    """Start Airflow 2.11.2's webserver on a new database. `dags` is the DAG file text (default: the
    two DAGs of the source fixtures, so paused state has DAGs to land on); the CLI (`env.cli_batch`)
    can fill the instance further while it runs."""
    runtime = ensure_runtime("2.11.2", extra_requirements=["psycopg2-binary"])
    with postgres_database("airshift_af211web") as name:
        env = make_env(runtime, home, f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}", [new_key()])
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        env.extra_env.update(
            {
                "AIRFLOW__API__AUTH_BACKENDS": "airflow.api.auth.backend.basic_auth",
                "AIRFLOW__WEBSERVER__SECRET_KEY": secrets.token_hex(16),
                "AIRFLOW__WEBSERVER__BASE_URL": base_url,
                # No rolling worker restarts while a test talks to it.
                "AIRFLOW__WEBSERVER__WORKER_REFRESH_BATCH_SIZE": "0",
                "AIRFLOW__WEBSERVER__WORKERS": "1",
            }
        )
        (env.dags_folder / "dags.py").write_text(dag_file_211() if dags is None else dags, encoding="utf-8")
        password = secrets.token_urlsafe(18)
        password_file = home / "admin.password"
        password_file.write_text(password, encoding="utf-8")
        os.chmod(password_file, 0o600)
        env.cli_batch(
            [
                ["db", "migrate"],
                ["users", "create", "--username", ADMIN_USER, "--password", password, "--role", "Admin",
                 "--firstname", "Ad", "--lastname", "Min", "--email", "admin@example.invalid"],
                ["dags", "reserialize"],
            ]
        )  # fmt: skip
        command = ["webserver", "-H", "127.0.0.1", "-p", str(port), "-w", "1"]
        with airflow_server(env, command, f"{base_url}/api/v1/health", "webserver", 240):
            yield Webserver(env, base_url, ADMIN_USER, password_file, name)
