"""Parity: a 2.x DAG whose SQL and shell templates live in subfolders, found through a pathlib
template_searchpath, with an include, and the run object printed whole."""
from datetime import datetime
from pathlib import Path

from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator

HERE = Path(__file__).resolve().parent

with DAG(
    "parity2_subfolder_templates",
    start_date=datetime(2024, 1, 1),
    schedule_interval="@daily",
    catchup=False,
    template_searchpath=[str(HERE / "queries"), str(HERE)],
) as dag:
    daily = SQLExecuteQueryOperator(task_id="daily", conn_id="warehouse", sql="daily.sql")
    run = BashOperator(task_id="run", bash_command="scripts/run.sh")
    run_object = BashOperator(task_id="run_object", bash_command="echo {{ dag_run }} {{ ti }} {{ task }}")

    daily >> run >> run_object
