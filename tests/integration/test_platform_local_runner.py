"""`airshift deploy up --local`: the Compose project `deploy compose` writes, run as local processes with
the real Airflow 3.3.2 runtime and the local PostgreSQL: every service becomes healthy (the Compose
file's own health checks) and a DAG runs end to end through the API server."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from airshift.platform.deploy_compose import ComposeRequest, build_project, write_project
from airshift.platform.local_runner import local_environment
from tests.state.airflow_envs import postgres_database
from tests.support.airflow3_runs import run_dag_to_the_end

pytestmark = pytest.mark.integration

DAG = textwrap.dedent(
    """\
    from datetime import datetime
    from airflow.sdk import DAG
    from airflow.providers.standard.operators.bash import BashOperator

    with DAG("local_smoke", start_date=datetime(2024, 1, 1), schedule=None, catchup=False):
        BashOperator(task_id="hello", bash_command="echo hello from the local runner")
    """
)


def test_project_runs_locally_and_runs_a_dag(tmp_path: Path) -> None:
    project = tmp_path / "project"
    write_project(
        build_project(ComposeRequest(executor="LocalExecutor", auth_manager="simple")), project, None
    )
    (project / "dags" / "smoke.py").write_text(DAG)
    with postgres_database("airshift_local") as name:
        url = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"
        extra = {"AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True", "AIRFLOW__CORE__PARALLELISM": "2"}
        with local_environment(project, url, extra_env=extra, timeout=900) as env:
            names = {service.name for service in env.services}
            assert names == {
                "airflow-apiserver",
                "airflow-scheduler",
                "airflow-dag-processor",
                "airflow-triggerer",
            }
            api = f"{env.base_url}/api/v2"
            run_dag_to_the_end(api, "local_smoke")
            for service in env.services:
                assert service.process is not None and service.process.poll() is None
