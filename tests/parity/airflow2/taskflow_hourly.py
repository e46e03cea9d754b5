"""Parity: a TaskFlow 2.x DAG on the hourly preset reading context in Python."""
from datetime import datetime

from airflow.decorators import dag, task
from airflow.operators.bash import BashOperator


@dag(start_date=datetime(2024, 1, 1), schedule_interval="@hourly", catchup=False)
def parity_taskflow_hourly():
    @task
    def extract(**context):
        return {"start": str(context["execution_date"]), "end": str(context["next_execution_date"])}

    notice = BashOperator(task_id="notice", bash_command="echo {{ next_ds_nodash }} {{ prev_ds }} {{ execution_date }}")

    extract() >> notice


parity_taskflow_hourly()
