"""`airshift deploy up --local` with the CeleryExecutor: the Compose project `deploy compose` writes for a
Celery estate (a worker service per queue) runs as local processes with the real Airflow 3.3.2 runtime
and the celery provider, the local PostgreSQL and the local Redis as broker. Every service becomes
healthy by the Compose file's own checks (each worker answers a Celery ping under its own node name),
and a DAG runs end to end with one task on the default queue and one routed to the `etl` queue, which
only the `etl` worker consumes."""

from __future__ import annotations

import socket
import textwrap
from pathlib import Path

import httpx
import pytest

from airshift.platform.deploy_compose import ComposeRequest, build_project, write_project
from airshift.platform.local_runner import local_environment
from tests.state.airflow_envs import postgres_database
from tests.support.airflow3_runs import run_dag_to_the_end

pytestmark = pytest.mark.integration

# A Redis database number of this test's own: Celery keeps its queues as Redis keys, so a shared number
# would let another user's worker take these tasks.
REDIS_URL = "redis://127.0.0.1:6379/11"

DAG = textwrap.dedent(
    """\
    from datetime import datetime
    from airflow.sdk import DAG
    from airflow.providers.standard.operators.bash import BashOperator

    with DAG("celery_smoke", start_date=datetime(2024, 1, 1), schedule=None, catchup=False):
        first = BashOperator(task_id="on_default", bash_command="echo default queue")
        routed = BashOperator(task_id="on_etl", bash_command="echo etl queue", queue="etl")
        first >> routed
    """
)


def _redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=2):
            return True
    except OSError:
        return False


def test_celery_project_runs_locally_with_a_worker_per_queue(tmp_path: Path) -> None:
    if not _redis_reachable():
        pytest.skip("Redis on 127.0.0.1:6379 is needed for the Celery broker")
    project = tmp_path / "project"
    request = ComposeRequest(executor="CeleryExecutor", auth_manager="simple", extra_queues=["etl"])
    write_project(build_project(request), project, None)
    (project / "dags" / "smoke.py").write_text(DAG)
    with postgres_database("airshift_celery") as name:
        url = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"
        extra = {
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__CORE__PARALLELISM": "2",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "1",  # the machine is small: one task slot per worker
        }
        with local_environment(
            project,
            url,
            REDIS_URL,
            extra_env=extra,
            extra_requirements=("apache-airflow-providers-postgres", "apache-airflow-providers-celery"),
            timeout=900,
        ) as env:
            names = {service.name for service in env.services}
            assert names == {
                "airflow-apiserver",
                "airflow-scheduler",
                "airflow-dag-processor",
                "airflow-triggerer",
                "airflow-worker-default",
                "airflow-worker-etl",
            }
            api = f"{env.base_url}/api/v2"
            run_id = run_dag_to_the_end(api, "celery_smoke")
            instances = httpx.get(
                f"{api}/dags/celery_smoke/dagRuns/{run_id}/taskInstances", timeout=30
            ).json()["task_instances"]
            queues = {ti["task_id"]: ti["queue"] for ti in instances}
            assert queues == {"on_default": "default", "on_etl": "etl"}
            # Each task ran on the worker of its queue, and only there.
            logs = {s.name: s.log.read_text(errors="replace") for s in env.services if s.log is not None}
            assert "on_etl" in logs["airflow-worker-etl"]
            assert "on_etl" not in logs["airflow-worker-default"]
            assert "on_default" in logs["airflow-worker-default"]
            assert "on_default" not in logs["airflow-worker-etl"]
            for service in env.services:
                assert service.process is not None and service.process.poll() is None
