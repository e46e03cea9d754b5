"""A real Airflow 3.3.2 target for transfer tests: metadata on a fresh PostgreSQL database, DAGs
serialized, and an api-server (simple auth manager) on 127.0.0.1, stopped by killing its process group."""

from __future__ import annotations

import json
import os
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy import text as sa_text

from airshift.verify.runtimes import ensure_runtime
from tests.state.airflow_envs import (
    AirflowEnv,
    airflow_server,
    free_port,
    make_env,
    postgres_database,
)
from tests.state.source_fixtures import new_key

DAGS_3 = textwrap.dedent(
    """\
    from datetime import datetime, timedelta
    from airflow.sdk import DAG
    from airflow.providers.standard.operators.bash import BashOperator

    with DAG("etl_daily", start_date=datetime(2024, 1, 1), schedule="@daily", catchup=True) as d1:
        BashOperator(task_id="extract", bash_command="echo extract") >> BashOperator(task_id="load", bash_command="echo load")

    with DAG("reports_hourly", start_date=datetime(2024, 1, 1), schedule=timedelta(hours=6), catchup=False) as d2:
        BashOperator(task_id="report", bash_command="echo report")
    """
)


@dataclass
class Target:
    env: AirflowEnv
    base_url: str
    password_file: Path
    db_name: str

    def state(self) -> dict[str, object]:
        """Variables, connections (passwords decrypted by Airflow 3 with its own key), pools and paused
        flags, read through Airflow 3's own models."""
        code = textwrap.dedent(
            """\
            import json
            from sqlalchemy import select
            from airflow.models import Connection, DagModel, Pool, Variable
            from airflow.utils.session import create_session
            with create_session() as s:
                out = {
                    "variables": {v.key: [v.val, v.description] for v in s.scalars(select(Variable))},
                    "connections": {c.conn_id: [c.conn_type, c.host, c.login, c.password, c.port, c.schema,
                                                c.extra, c.description] for c in s.scalars(select(Connection))},
                    "pools": {p.pool: [p.slots, p.description] for p in s.scalars(select(Pool))},
                    "paused": {d.dag_id: d.is_paused for d in s.scalars(select(DagModel))},
                }
            print("@@" + json.dumps(out))
            """
        )
        output = self.env.python(code)
        return dict(json.loads(output.split("@@", 1)[1]))

    def history(self, dag_id: str | None = None) -> dict[str, list[list[object]]]:
        """Dag runs and task instances as Airflow 3's own models read them back."""
        code = textwrap.dedent(
            f"""\
            import json
            from sqlalchemy import select
            from airflow.models import DagRun, TaskInstance
            from airflow.utils.session import create_session
            dag_id = {dag_id!r}
            with create_session() as s:
                runs = select(DagRun) if dag_id is None else select(DagRun).where(DagRun.dag_id == dag_id)
                tis = select(TaskInstance) if dag_id is None else select(TaskInstance).where(
                    TaskInstance.dag_id == dag_id)
                out = {{
                    "runs": sorted([r.dag_id, r.run_id, r.run_type, r.state,
                                    r.logical_date.isoformat() if r.logical_date else None,
                                    r.data_interval_start.isoformat() if r.data_interval_start else None,
                                    r.triggered_by.value if r.triggered_by else None, r.conf]
                                   for r in s.scalars(runs)),
                    "tis": sorted([t.dag_id, t.task_id, t.run_id, t.map_index, t.state, t.try_number,
                                   t.dag_version_id is not None, t.id.version]
                                  for t in s.scalars(tis)),
                }}
            print("@@" + json.dumps(out))
            """
        )
        output = self.env.python(code)
        return dict(json.loads(output.split("@@", 1)[1]))

    @property
    def db_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:5432/{self.db_name}"

    def add_dag_file(self, name: str, text: str, dag_ids: list[str], timeout: float = 240) -> None:
        """Put a DAG file in the dags folder and wait until a running dag-processor has parsed every
        DAG of it (shared targets: each test brings its own file)."""
        (self.env.dags_folder / f"{name}.py").write_text(text, encoding="utf-8")
        engine = create_engine(self.db_url.replace("postgresql://", "postgresql+psycopg://"))
        deadline = time.monotonic() + timeout
        try:
            while True:
                with engine.connect() as connection:
                    found = set(connection.execute(sa_text("SELECT dag_id FROM serialized_dag")).scalars())
                missing = sorted(set(dag_ids) - found)
                if not missing:
                    return
                if time.monotonic() > deadline:
                    raise AssertionError(f"the dag-processor did not parse {missing} from {name}.py")
                time.sleep(2)
        finally:
            engine.dispose()


@contextmanager
def airflow3_target(home: Path, dags: str | None = None) -> Iterator[Target]:
    """Start Airflow 3.3.2's api-server on a new database; `dags` is the DAG file text (default: two
    DAGs for transfer tests)."""
    runtime = ensure_runtime("3.3.2", extra_requirements=["apache-airflow-providers-postgres"])
    with postgres_database("airshift_tgt33") as name:
        env = make_env(runtime, home, f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}", [new_key()])
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        env.extra_env.update(
            {
                "AIRFLOW__CORE__AUTH_MANAGER": (
                    "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
                ),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
                "AIRFLOW__API__BASE_URL": base_url,
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base_url}/execution/",
                "AIRFLOW__API_AUTH__JWT_SECRET": new_key(),
                "AIRFLOW__CORE__PARALLELISM": "2",
            }
        )
        (env.dags_folder / "dags.py").write_text(DAGS_3 if dags is None else dags, encoding="utf-8")
        env.cli_batch([["db", "migrate"], ["dags", "reserialize"]])
        command = ["api-server", "-H", "127.0.0.1", "-p", str(port), "-w", "1"]
        with airflow_server(env, command, f"{base_url}/api/v2/monitor/health", "api-server", 180, grace=20):
            generated = json.loads((home / "simple_auth_manager_passwords.json.generated").read_text())
            password_file = home / "admin.password"
            password_file.write_text(generated["admin"], encoding="utf-8")
            os.chmod(password_file, 0o600)
            yield Target(env, base_url, password_file, name)
