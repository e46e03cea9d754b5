"""Parity: a timedelta schedule (every 6 hours)."""
from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.bash_operator import BashOperator

dag = DAG("parity_every_six_hours", start_date=datetime(2024, 1, 1), schedule_interval=timedelta(hours=6),
          catchup=False)

BashOperator(
    task_id="window",
    bash_command="echo {{ execution_date }} {{ next_execution_date }} {{ prev_execution_date }} {{ prev_ds }} {{ next_ds }}",
    dag=dag,
)
