"""A DAG for the plugin tests: a task that writes files, PushArtifactOperator publishing them with a
payload and URI, and a task that fails (its error text must reach the log through the listener)."""

import datetime
import os
from pathlib import Path

from airshift.events.push import PushArtifactOperator

try:  # Airflow 3
    from airflow.providers.standard.operators.python import PythonOperator
    from airflow.sdk import DAG
except ImportError:  # Airflow 2
    from airflow import DAG
    from airflow.operators.python import PythonOperator

OUT = os.environ.get("AIRSHIFT_TEST_ARTIFACT_DIR", "/tmp/airshift-artifacts")


def write_files():
    Path(OUT, "part").mkdir(parents=True, exist_ok=True)
    Path(OUT, "part", "a.csv").write_text("a,b\n1,2\n")
    Path(OUT, "summary.json").write_text('{"rows": 1}')


def explode():
    raise ValueError("the listener must report this error text")


with DAG(
    dag_id="events_push",
    start_date=datetime.datetime(2024, 1, 1),
    schedule=None,
    catchup=False,
) as dag:
    produce = PythonOperator(task_id="produce", python_callable=write_files)
    publish = PushArtifactOperator(
        task_id="publish",
        payload={"rows": 1, "table": "export"},
        payload_uri="file://" + OUT,
        files=[OUT],
        base_dir=OUT,
    )
    fails = PythonOperator(task_id="fails", python_callable=explode, retries=0)
    produce >> publish
